package cronjob

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Event reasons, as upstream.
const (
	EventSuccessfulCreate    = "SuccessfulCreate"
	EventFailedCreate        = "FailedCreate"
	EventSuccessfulDelete    = "SuccessfulDelete"
	EventFailedDelete        = "FailedDelete"
	EventSawCompletedJob     = "SawCompletedJob"
	EventUnexpectedJob       = "UnexpectedJob"
	EventMissingJob          = "MissingJob"
	EventMissSchedule        = "MissSchedule"
	EventTooManyMissedTimes  = "TooManyMissedTimes"
	EventJobAlreadyActive    = "JobAlreadyActive"
	EventUnparseableSchedule = "UnparseableSchedule"
	EventInvalidSchedule     = "InvalidSchedule"
	EventUnknownTimeZone     = "UnknownTimeZone"
	EventUnsupportedSchedule = "UnsupportedSchedule"
)

// Event is one event the plan records on the CronJob.
type Event struct {
	Type, Reason, Message string
}

// Plan is what one sync does for a CronJob, computed by Reconcile; the shell carries it out in field order.
type Plan struct {
	// Status is the status before anything is deleted or created: finished and vanished Jobs dropped from
	// active, lastSuccessfulTime advanced. The shell removes replaced Jobs and adds the created one.
	Status batchv1.CronJobStatus
	// Events are recorded as they are, before any write.
	Events []Event
	// Delete are the finished Jobs beyond the history limits, oldest first.
	Delete []*batchv1.Job
	// Replace are the active Jobs to delete before Create (concurrencyPolicy Replace).
	Replace []corev1.ObjectReference
	// Create is the Job due now, or nil; ScheduledTime is its schedule time and becomes status.lastScheduleTime.
	Create        *batchv1.Job
	ScheduledTime time.Time
	// RequeueAfter > 0 is when to look again (just after the next schedule time); 0 means only on a change.
	RequeueAfter time.Duration
}

// MissingActive returns the references in status.active whose Job is not among jobs; the shell asks the
// server about each before telling Reconcile which are gone.
func MissingActive(cj *batchv1.CronJob, jobs []*batchv1.Job) []corev1.ObjectReference {
	have := make(map[types.UID]bool, len(jobs))
	for _, j := range jobs {
		have[j.UID] = true
	}
	var out []corev1.ObjectReference
	for _, ref := range cj.Status.Active {
		if !have[ref.UID] {
			out = append(out, ref)
		}
	}
	return out
}

// Unexpected reports whether an unfinished Job among jobs is missing from status.active, a sign that the cached
// CronJob may lag behind its own status update; the shell then re-reads it before calling Reconcile.
func Unexpected(cj *batchv1.CronJob, jobs []*batchv1.Job) bool {
	for _, j := range jobs {
		if !inActive(cj.Status.Active, j.UID) && !IsJobFinished(j) {
			return true
		}
	}
	return false
}

// Reconcile is the CronJob controller's pure core, following Kubernetes' syncCronJob and cleanupFinishedJobs.
// jobs are the Jobs cj controls; gone holds the UIDs of active Jobs the server confirmed deleted; now is the
// time the decision is taken at.
func Reconcile(cj *batchv1.CronJob, jobs []*batchv1.Job, gone map[types.UID]bool, now time.Time) Plan {
	p := Plan{Status: *cj.Status.DeepCopy()}
	st := &p.Status
	warn := func(reason, format string, args ...any) {
		p.Events = append(p.Events, Event{corev1.EventTypeWarning, reason, fmt.Sprintf(format, args...)})
	}
	normal := func(reason, format string, args ...any) {
		p.Events = append(p.Events, Event{corev1.EventTypeNormal, reason, fmt.Sprintf(format, args...)})
	}

	for _, j := range jobs {
		found := inActive(st.Active, j.UID)
		finished, cond := finishedStatus(j)
		switch {
		case !found && !finished:
			warn(EventUnexpectedJob, "Saw a job that the controller did not create or forgot: %s", j.Name)
		case found && finished:
			st.Active = removeActive(st.Active, j.UID)
			normal(EventSawCompletedJob, "Saw completed job: %s, condition: %v", j.Name, cond)
		}
		if finished && cond == batchv1.JobComplete && j.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			st.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
		}
	}
	for _, ref := range MissingActive(cj, jobs) {
		if gone[ref.UID] {
			normal(EventMissingJob, "Active job went missing: %v", ref.Name)
			st.Active = removeActive(st.Active, ref.UID)
		}
	}

	// Finished Jobs have left status.active above, so deleting them does not change it.
	p.Delete = historyToDelete(cj, jobs)

	if cj.DeletionTimestamp != nil {
		return p
	}
	if cj.Spec.TimeZone != nil {
		if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
			warn(EventUnknownTimeZone, "invalid timeZone: %q: %s", *cj.Spec.TimeZone, err)
			return p
		}
	}
	if ptr.Deref(cj.Spec.Suspend, false) {
		return p
	}
	if _, tz := formatSchedule(cj); tz {
		warn(EventUnsupportedSchedule, "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := parseSchedule(cj)
	if err != nil {
		warn(EventUnparseableSchedule, "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return p
	}
	requeue := func(c *batchv1.CronJob) time.Duration {
		return max(nextScheduleTimeDuration(c, now, sched), 0)
	}
	scheduled, tooMany, err := nextScheduleTime(cj, now, sched)
	if tooMany {
		warn(EventTooManyMissedTimes, "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if err != nil {
		warn(EventInvalidSchedule, "invalid schedule: %s : %s", cj.Spec.Schedule, err)
		return p
	}
	if scheduled == nil {
		p.RequeueAfter = requeue(cj)
		return p
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		warn(EventMissSchedule, "Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		p.RequeueAfter = requeue(cj)
		return p
	}
	name := jobName(cj, *scheduled)
	if inActiveByName(st.Active, name) || (cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(*scheduled)) {
		p.RequeueAfter = requeue(cj)
		return p
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(st.Active) > 0 {
		normal(EventJobAlreadyActive, "Not starting job because prior execution is running and concurrency policy is Forbid")
		p.RequeueAfter = requeue(cj)
		return p
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		p.Replace = append([]corev1.ObjectReference(nil), st.Active...)
	}
	job, err := JobFromTemplate(cj, *scheduled)
	if err != nil {
		warn(EventUnknownTimeZone, "invalid timeZone: %q: %s", ptr.Deref(cj.Spec.TimeZone, ""), err)
		return p
	}
	p.Create, p.ScheduledTime = job, *scheduled
	after := cj.DeepCopy()
	after.Status.LastScheduleTime = &metav1.Time{Time: *scheduled}
	p.RequeueAfter = requeue(after)
	return p
}

// JobFromTemplate returns the Job cj creates for scheduledTime: the jobTemplate's labels, annotations and spec,
// the batch.kubernetes.io/cronjob-scheduled-timestamp annotation (RFC 3339 in the CronJob's time zone), the name
// from jobName and cj as its controller.
func JobFromTemplate(cj *batchv1.CronJob, scheduledTime time.Time) (*batchv1.Job, error) {
	loc, err := timeZone(cj)
	if err != nil {
		return nil, fmt.Errorf("time zone: %w", err)
	}
	labels := make(map[string]string, len(cj.Spec.JobTemplate.Labels))
	for k, v := range cj.Spec.JobTemplate.Labels {
		labels[k] = v
	}
	annotations := make(map[string]string, len(cj.Spec.JobTemplate.Annotations)+1)
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduledTime.In(loc).Format(time.RFC3339)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            jobName(cj, scheduledTime),
			Namespace:       cj.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, controllerKind)},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	return job, nil
}

// historyToDelete returns the finished Jobs beyond successfulJobsHistoryLimit and failedJobsHistoryLimit, oldest
// start first (Jobs never started last, names breaking ties).
func historyToDelete(cj *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch _, cond := finishedStatus(j); cond {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	var out []*batchv1.Job
	for _, h := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{succeeded, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		if h.limit == nil || len(h.jobs) <= int(*h.limit) {
			continue
		}
		sort.Slice(h.jobs, func(a, b int) bool { return startedBefore(h.jobs[a], h.jobs[b]) })
		out = append(out, h.jobs[:len(h.jobs)-int(*h.limit)]...)
	}
	return out
}

func startedBefore(a, b *batchv1.Job) bool {
	sa, sb := a.Status.StartTime, b.Status.StartTime
	switch {
	case sa == nil && sb != nil:
		return false
	case sa != nil && sb == nil:
		return true
	case sa == nil || sa.Equal(sb):
		return a.Name < b.Name
	}
	return sa.Before(sb)
}

// finishedStatus returns whether j has a true Complete or Failed condition, and which.
func finishedStatus(j *batchv1.Job) (bool, batchv1.JobConditionType) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true, c.Type
		}
	}
	return false, ""
}

// IsJobFinished reports whether j has completed or failed.
func IsJobFinished(j *batchv1.Job) bool {
	finished, _ := finishedStatus(j)
	return finished
}

func inActive(active []corev1.ObjectReference, uid types.UID) bool {
	for _, r := range active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func inActiveByName(active []corev1.ObjectReference, name string) bool {
	for _, r := range active {
		if r.Name == name {
			return true
		}
	}
	return false
}

func removeActive(active []corev1.ObjectReference, uid types.UID) []corev1.ObjectReference {
	out := active[:0:0]
	for _, r := range active {
		if r.UID != uid {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// jobRef returns the reference status.active holds for job.
func jobRef(job *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind:            "Job",
		APIVersion:      batchv1.SchemeGroupVersion.String(),
		Namespace:       job.Namespace,
		Name:            job.Name,
		UID:             job.UID,
		ResourceVersion: job.ResourceVersion,
	}
}
