package cronjob

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"

	// Time zones must not depend on the host's zoneinfo files.
	_ "time/tzdata"
)

// nextScheduleDelta pads every requeue so that a slightly early wake-up still finds the schedule time passed.
const nextScheduleDelta = 100 * time.Millisecond

// maxMissedSchedules is how many unmet schedule times are tolerated before the TooManyMissedTimes warning.
const maxMissedSchedules = 100

// missed says how many schedule times passed unmet since the last one the CronJob ran.
type missed int

const (
	noneMissed missed = iota
	fewMissed
	manyMissed
)

// errZeroInterval reports a schedule that parses but can never fire twice (e.g. 31 February).
var errZeroInterval = errors.New("time difference between two schedules is less than 1 second")

// formatSchedule returns the schedule the parser reads: spec.schedule, prefixed with TZ=<spec.timeZone> when a
// valid time zone is set and the schedule names none itself. warnTZ reports a TZ or CRON_TZ in spec.schedule.
func formatSchedule(cj *batchv1.CronJob) (schedule string, warnTZ bool) {
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		return cj.Spec.Schedule, true
	}
	if cj.Spec.TimeZone != nil {
		if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
			return cj.Spec.Schedule, false
		}
		return fmt.Sprintf("TZ=%s %s", *cj.Spec.TimeZone, cj.Spec.Schedule), false
	}
	return cj.Spec.Schedule, false
}

// parseSchedule parses cj's schedule in standard cron syntax (five fields or a @descriptor) in its time zone.
func parseSchedule(cj *batchv1.CronJob) (cron.Schedule, error) {
	s, _ := formatSchedule(cj)
	return cron.ParseStandard(s)
}

// mostRecentScheduleTime returns the time counting starts from (status.lastScheduleTime, else the creation
// time, raised to now-startingDeadlineSeconds when withDeadline), the latest schedule time after it that is not
// after now (nil if none), and how many schedule times passed unmet. It errs for a schedule that can never
// fire twice. It estimates the count from the interval between the next two times instead of walking every
// missed time, as Kubernetes does, so it stays cheap for a CronJob that missed years of starts.
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (time.Time, *time.Time, missed, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if withDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		deadline := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second)
		if deadline.After(earliest) {
			earliest = deadline
		}
	}
	t1 := sched.Next(earliest)
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return earliest, nil, noneMissed, nil
	}
	if now.Before(t2) {
		return earliest, &t1, noneMissed, nil
	}
	interval := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if interval < 1 {
		return earliest, nil, noneMissed, errZeroInterval
	}
	count := int64(now.Sub(t1).Seconds())/interval + 1
	// Start one interval before the estimate and let the schedule find the exact times: schedules such as
	// "30 6-16/4 * * 1-5" are not evenly spaced.
	var recent time.Time
	from := t1.Add(time.Duration((count-2)*interval) * time.Second)
	for t := sched.Next(from); !t.After(now); t = sched.Next(t) {
		recent = t
	}
	m := fewMissed
	if count > maxMissedSchedules {
		m = manyMissed
	}
	if recent.IsZero() {
		return earliest, nil, m, nil
	}
	return earliest, &recent, m, nil
}

// nextScheduleTime returns the schedule time a Job is due for now (nil if none), honouring
// startingDeadlineSeconds, and whether more than 100 times were missed.
func nextScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (*time.Time, bool, error) {
	_, recent, m, err := mostRecentScheduleTime(cj, now, sched, true)
	if recent == nil || recent.After(now) {
		return nil, false, err
	}
	return recent, m == manyMissed, err
}

// nextScheduleTimeDuration returns how long after now the CronJob must be looked at again: just after its next
// schedule time, padded by 100 ms against clock skew.
func nextScheduleTimeDuration(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) time.Duration {
	earliest, recent, m, err := mostRecentScheduleTime(cj, now, sched, false)
	switch {
	case err != nil:
		recent = &now
	case recent == nil && m == noneMissed:
		recent = &earliest
	case recent == nil:
		recent = &now
	}
	return sched.Next(*recent).Add(nextScheduleDelta).Sub(now)
}

// jobName is the name of the Job for scheduledTime: the CronJob's name and the time in minutes since the epoch,
// so that one schedule time can never create two Jobs.
func jobName(cj *batchv1.CronJob, scheduledTime time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduledTime.Unix()/60)
}

// timeZone returns cj's time zone (UTC when unset).
func timeZone(cj *batchv1.CronJob) (*time.Location, error) {
	return time.LoadLocation(ptr.Deref(cj.Spec.TimeZone, ""))
}
