package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// t0 is a Tuesday, on the hour.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type cjOpt func(*batchv1.CronJob)

func cronJob(schedule string, opts ...cjOpt) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "ns", UID: "cj-uid", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			ConcurrencyPolicy:          batchv1.AllowConcurrent,
			Suspend:                    ptr.To(false),
			SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
			FailedJobsHistoryLimit:     ptr.To(int32(1)),
		},
	}
	for _, o := range opts {
		o(cj)
	}
	return cj
}

func lastScheduled(t time.Time) cjOpt {
	return func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime = &metav1.Time{Time: t} }
}
func created(t time.Time) cjOpt {
	return func(cj *batchv1.CronJob) { cj.CreationTimestamp = metav1.NewTime(t) }
}
func deadline(s int64) cjOpt {
	return func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To(s) }
}
func tz(z string) cjOpt { return func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To(z) } }

func TestMostRecentScheduleTime(t *testing.T) {
	tests := []struct {
		name         string
		cj           *batchv1.CronJob
		now          time.Time
		withDeadline bool
		wantRecent   string // RFC 3339, "" for nil
		wantMissed   missed
		wantErr      bool
	}{
		{name: "not yet due", cj: cronJob("0 * * * *", created(t0.Add(-time.Minute))), now: t0.Add(-time.Second)},
		{name: "due exactly now", cj: cronJob("0 * * * *", created(t0.Add(-time.Minute))), now: t0, wantRecent: "2026-11-24T10:00:00Z"},
		{name: "one missed, in the interval", cj: cronJob("0 * * * *", lastScheduled(t0.Add(-time.Hour))), now: t0.Add(30 * time.Minute), wantRecent: "2026-11-24T10:00:00Z"},
		{name: "several missed", cj: cronJob("0 * * * *", lastScheduled(t0.Add(-5*time.Hour))), now: t0.Add(30 * time.Minute),
			wantRecent: "2026-11-24T10:00:00Z", wantMissed: fewMissed},
		{name: "more than 100 missed", cj: cronJob("*/1 * * * *", lastScheduled(t0.Add(-3*time.Hour))), now: t0.Add(30 * time.Second),
			wantRecent: "2026-11-24T10:00:00Z", wantMissed: manyMissed},
		{name: "deadline cuts the missed times", cj: cronJob("*/1 * * * *", lastScheduled(t0.Add(-3*time.Hour)), deadline(200)), now: t0.Add(30 * time.Second),
			withDeadline: true, wantRecent: "2026-11-24T10:00:00Z", wantMissed: fewMissed},
		{name: "deadline ignored without withDeadline", cj: cronJob("*/1 * * * *", lastScheduled(t0.Add(-3*time.Hour)), deadline(200)), now: t0.Add(30 * time.Second),
			wantRecent: "2026-11-24T10:00:00Z", wantMissed: manyMissed},
		{name: "uneven schedule", cj: cronJob("30 6-16/4 * * 1-5", lastScheduled(at("2026-11-20T14:30:00Z"))), now: t0,
			wantRecent: "2026-11-24T06:30:00Z", wantMissed: fewMissed},
		{name: "@hourly", cj: cronJob("@hourly", lastScheduled(t0.Add(-time.Hour))), now: t0.Add(time.Second), wantRecent: "2026-11-24T10:00:00Z"},
		{name: "@daily in a time zone", cj: cronJob("@daily", tz("Asia/Tokyo"), lastScheduled(at("2026-11-22T15:00:00Z"))), now: t0,
			wantRecent: "2026-11-23T15:00:00Z"},
		{name: "time zone shifts the hour", cj: cronJob("0 9 * * *", tz("America/New_York"), created(at("2026-11-23T00:00:00Z"))), now: at("2026-11-23T15:00:00Z"),
			wantRecent: "2026-11-23T14:00:00Z"},
		{name: "never fires", cj: cronJob("0 0 31 2 *"), now: t0, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sched, err := parseSchedule(tc.cj)
			if err != nil {
				t.Fatal(err)
			}
			_, recent, m, err := mostRecentScheduleTime(tc.cj, tc.now, sched, tc.withDeadline)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			got := ""
			if recent != nil {
				got = recent.UTC().Format(time.RFC3339)
			}
			if got != tc.wantRecent || m != tc.wantMissed {
				t.Errorf("recent, missed = %q, %v; want %q, %v", got, m, tc.wantRecent, tc.wantMissed)
			}
		})
	}
}

func TestNextScheduleTimeDuration(t *testing.T) {
	tests := []struct {
		name string
		cj   *batchv1.CronJob
		now  time.Time
		want time.Duration
	}{
		{name: "before the first time", cj: cronJob("0 * * * *", created(t0.Add(-10*time.Minute))), now: t0.Add(-5 * time.Minute), want: 5*time.Minute + nextScheduleDelta},
		{name: "just ran", cj: cronJob("*/5 * * * *", lastScheduled(t0)), now: t0.Add(2 * time.Second), want: 5*time.Minute - 2*time.Second + nextScheduleDelta},
		{name: "missed some: from now", cj: cronJob("*/5 * * * *", lastScheduled(t0.Add(-time.Hour))), now: t0.Add(time.Minute), want: 4*time.Minute + nextScheduleDelta},
		{name: "deadline does not apply", cj: cronJob("0 * * * *", lastScheduled(t0), deadline(10)), now: t0.Add(30 * time.Minute), want: 30*time.Minute + nextScheduleDelta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sched, err := parseSchedule(tc.cj)
			if err != nil {
				t.Fatal(err)
			}
			if got := nextScheduleTimeDuration(tc.cj, tc.now, sched); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFormatSchedule(t *testing.T) {
	tests := []struct {
		cj     *batchv1.CronJob
		want   string
		warnTZ bool
	}{
		{cronJob("*/5 * * * *"), "*/5 * * * *", false},
		{cronJob("0 9 * * *", tz("Europe/Paris")), "TZ=Europe/Paris 0 9 * * *", false},
		{cronJob("0 9 * * *", tz("Mars/Olympus")), "0 9 * * *", false},
		{cronJob("CRON_TZ=UTC 0 9 * * *"), "CRON_TZ=UTC 0 9 * * *", true},
	}
	for _, tc := range tests {
		got, warn := formatSchedule(tc.cj)
		if got != tc.want || warn != tc.warnTZ {
			t.Errorf("formatSchedule(%q, %v) = %q, %v; want %q, %v", tc.cj.Spec.Schedule, tc.cj.Spec.TimeZone, got, warn, tc.want, tc.warnTZ)
		}
	}
}

func TestJobName(t *testing.T) {
	if got, want := jobName(cronJob("@hourly"), t0), "backup-29925240"; got != want {
		t.Errorf("jobName = %q, want %q", got, want)
	}
}
