package cronjob

import (
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

type jobOpt func(*batchv1.Job)

// job returns a Job cj controls, started at start.
func job(name string, start time.Time, opts ...jobOpt) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid")},
		Status:     batchv1.JobStatus{StartTime: &metav1.Time{Time: start}},
	}
	j.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(cronJob("* * * * *"), controllerKind)}
	for _, o := range opts {
		o(j)
	}
	return j
}

func finished(cond batchv1.JobConditionType, at time.Time) jobOpt {
	return func(j *batchv1.Job) {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: cond, Status: corev1.ConditionTrue})
		if cond == batchv1.JobComplete {
			j.Status.CompletionTime = &metav1.Time{Time: at}
		}
	}
}

func active(jobs ...*batchv1.Job) cjOpt {
	return func(cj *batchv1.CronJob) {
		for _, j := range jobs {
			cj.Status.Active = append(cj.Status.Active, jobRef(j))
		}
	}
}
func policy(p batchv1.ConcurrencyPolicy) cjOpt {
	return func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = p }
}
func suspended(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) }
func deleting(cj *batchv1.CronJob)  { cj.DeletionTimestamp = &metav1.Time{Time: t0} }

func names(jobs []*batchv1.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

func refNames(refs []corev1.ObjectReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func reasons(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

func TestReconcile(t *testing.T) {
	running := job("backup-29925180", t0.Add(-time.Hour))
	done := job("backup-29925120", t0.Add(-2*time.Hour), finished(batchv1.JobComplete, t0.Add(-90*time.Minute)))
	failedJob := job("backup-29925060", t0.Add(-3*time.Hour), finished(batchv1.JobFailed, t0))
	hourly := func(opts ...cjOpt) *batchv1.CronJob {
		return cronJob("0 * * * *", append([]cjOpt{lastScheduled(t0.Add(-time.Hour))}, opts...)...)
	}
	tests := []struct {
		name        string
		cj          *batchv1.CronJob
		jobs        []*batchv1.Job
		gone        map[types.UID]bool
		now         time.Time
		wantCreate  string
		wantActive  []string // status.active before the creation
		wantReplace []string
		wantDelete  []string
		wantEvents  []string
		wantRequeue time.Duration
	}{
		{name: "due: creates the job", cj: hourly(), now: t0.Add(time.Second),
			wantCreate: "backup-29925240", wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "not due yet: requeue at the next time", cj: cronJob("0 * * * *", lastScheduled(t0)), now: t0.Add(20 * time.Minute),
			wantRequeue: 40*time.Minute + nextScheduleDelta},
		{name: "already scheduled this time", cj: hourly(lastScheduled(t0)), now: t0.Add(time.Second),
			wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "suspended: nothing, no requeue", cj: hourly(suspended), now: t0.Add(time.Second)},
		{name: "being deleted: status only", cj: hourly(deleting, active(done)), jobs: []*batchv1.Job{done}, now: t0.Add(time.Second),
			wantEvents: []string{EventSawCompletedJob}},
		// As upstream, a time older than the deadline is never considered, so it is skipped without MissSchedule.
		{name: "past the starting deadline", cj: hourly(deadline(10)), now: t0.Add(time.Minute),
			wantRequeue: 59*time.Minute + nextScheduleDelta},
		{name: "within the starting deadline", cj: hourly(deadline(120)), now: t0.Add(time.Minute),
			wantCreate: "backup-29925240", wantRequeue: 59*time.Minute + nextScheduleDelta},
		{name: "too many missed: warns and still runs the latest", cj: cronJob("*/1 * * * *", lastScheduled(t0.Add(-3*time.Hour))), now: t0.Add(time.Second),
			wantCreate: "backup-29925240", wantEvents: []string{EventTooManyMissedTimes}, wantRequeue: time.Minute - time.Second + nextScheduleDelta},
		{name: "forbid with an active job", cj: hourly(policy(batchv1.ForbidConcurrent), active(running)), jobs: []*batchv1.Job{running}, now: t0.Add(time.Second),
			wantActive: []string{running.Name}, wantEvents: []string{EventJobAlreadyActive}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "forbid once the active job finished", cj: hourly(policy(batchv1.ForbidConcurrent), active(done)), jobs: []*batchv1.Job{done}, now: t0.Add(time.Second),
			wantCreate: "backup-29925240", wantEvents: []string{EventSawCompletedJob}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "failed job leaves active, kept as history", cj: hourly(lastScheduled(t0), active(failedJob, running)), jobs: []*batchv1.Job{failedJob, running}, now: t0.Add(time.Second),
			wantActive: []string{running.Name}, wantEvents: []string{EventSawCompletedJob}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "allow with an active job", cj: hourly(active(running)), jobs: []*batchv1.Job{running}, now: t0.Add(time.Second),
			wantCreate: "backup-29925240", wantActive: []string{running.Name}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "replace deletes the active job first", cj: hourly(policy(batchv1.ReplaceConcurrent), active(running)), jobs: []*batchv1.Job{running}, now: t0.Add(time.Second),
			wantCreate: "backup-29925240", wantActive: []string{running.Name}, wantReplace: []string{running.Name}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "unexpected job is reported, not adopted", cj: hourly(lastScheduled(t0)), jobs: []*batchv1.Job{running}, now: t0.Add(time.Second),
			wantEvents: []string{EventUnexpectedJob}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "active job confirmed gone", cj: hourly(lastScheduled(t0), active(running)), gone: map[types.UID]bool{running.UID: true}, now: t0.Add(time.Second),
			wantEvents: []string{EventMissingJob}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "active job only missing from the cache stays", cj: hourly(lastScheduled(t0), active(running)), now: t0.Add(time.Second),
			wantActive: []string{running.Name}, wantRequeue: time.Hour - time.Second + nextScheduleDelta},
		{name: "unparseable schedule", cj: cronJob("61 * * * *"), now: t0, wantEvents: []string{EventUnparseableSchedule}},
		{name: "unknown time zone", cj: hourly(tz("Mars/Olympus")), now: t0, wantEvents: []string{EventUnknownTimeZone}},
		{name: "TZ in the schedule warns", cj: cronJob("TZ=UTC 0 * * * *", lastScheduled(t0)), now: t0.Add(time.Minute),
			wantEvents: []string{EventUnsupportedSchedule}, wantRequeue: 59*time.Minute + nextScheduleDelta},
		{name: "impossible date", cj: cronJob("0 0 31 2 *"), now: t0, wantEvents: []string{EventInvalidSchedule}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Reconcile(tc.cj, tc.jobs, tc.gone, tc.now)
			gotCreate := ""
			if p.Create != nil {
				gotCreate = p.Create.Name
			}
			if gotCreate != tc.wantCreate {
				t.Errorf("create = %q, want %q", gotCreate, tc.wantCreate)
			}
			if got := refNames(p.Status.Active); !reflect.DeepEqual(got, tc.wantActive) {
				t.Errorf("active = %v, want %v", got, tc.wantActive)
			}
			if got := refNames(p.Replace); !reflect.DeepEqual(got, tc.wantReplace) {
				t.Errorf("replace = %v, want %v", got, tc.wantReplace)
			}
			if got := names(p.Delete); !reflect.DeepEqual(got, tc.wantDelete) {
				t.Errorf("delete = %v, want %v", got, tc.wantDelete)
			}
			if got := reasons(p.Events); !reflect.DeepEqual(got, tc.wantEvents) {
				t.Errorf("events = %v, want %v (%v)", got, tc.wantEvents, p.Events)
			}
			if p.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeueAfter = %v, want %v", p.RequeueAfter, tc.wantRequeue)
			}
		})
	}
}

func TestReconcileHistoryAndLastSuccessfulTime(t *testing.T) {
	var jobs []*batchv1.Job
	for i := range 5 {
		start := t0.Add(time.Duration(i-10) * time.Hour)
		jobs = append(jobs, job("ok-"+string(rune('a'+i)), start, finished(batchv1.JobComplete, start.Add(time.Minute))))
	}
	jobs = append(jobs,
		job("bad-a", t0.Add(-20*time.Hour), finished(batchv1.JobFailed, t0)),
		job("bad-b", t0.Add(-19*time.Hour), finished(batchv1.JobFailed, t0)),
		job("unstarted", t0, finished(batchv1.JobComplete, t0.Add(-7*time.Hour)), func(j *batchv1.Job) { j.Status.StartTime = nil }),
	)
	cj := cronJob("0 * * * *", lastScheduled(t0), active(jobs[4]))
	p := Reconcile(cj, jobs, nil, t0.Add(time.Minute))
	// Six succeeded, limit 3: the three oldest starts go, the never-started one counts as newest.
	if got, want := names(p.Delete), []string{"ok-a", "ok-b", "ok-c", "bad-a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("delete = %v, want %v", got, want)
	}
	if len(p.Status.Active) != 0 {
		t.Errorf("active = %v, want none", refNames(p.Status.Active))
	}
	if want := jobs[4].Status.CompletionTime.Time; p.Status.LastSuccessfulTime == nil || !p.Status.LastSuccessfulTime.Time.Equal(want) {
		t.Errorf("lastSuccessfulTime = %v, want %v", p.Status.LastSuccessfulTime, want)
	}
	if len(p.Events) != 1 || p.Events[0].Message != "Saw completed job: ok-e, condition: Complete" {
		t.Errorf("events = %v, want one SawCompletedJob for ok-e", p.Events)
	}
	if cj.Status.LastSuccessfulTime != nil || len(cj.Status.Active) != 1 {
		t.Error("Reconcile modified its input")
	}
}

func TestJobFromTemplate(t *testing.T) {
	cj := cronJob("0 9 * * *", tz("Asia/Kolkata"), func(cj *batchv1.CronJob) {
		cj.Spec.JobTemplate = batchv1.JobTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "backup"}, Annotations: map[string]string{"team": "db"}},
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To(int32(2)), Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			}},
		}
	})
	scheduled := at("2026-11-24T03:30:00Z") // 09:00 in Kolkata
	j, err := JobFromTemplate(cj, scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if j.Name != "backup-29924850" || j.Namespace != "ns" {
		t.Errorf("name = %s/%s", j.Namespace, j.Name)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-11-24T09:00:00+05:30" {
		t.Errorf("scheduled-timestamp annotation = %q", got)
	}
	if j.Annotations["team"] != "db" || j.Labels["app"] != "backup" {
		t.Errorf("labels/annotations not copied: %v %v", j.Labels, j.Annotations)
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != "CronJob" || ref.APIVersion != "batch/v1" || ref.UID != cj.UID || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("controller ref = %+v", ref)
	}
	if !reflect.DeepEqual(j.Spec, cj.Spec.JobTemplate.Spec) {
		t.Errorf("spec differs from the template")
	}
	j.Spec.Template.Spec.Containers[0].Image = "changed"
	j.Labels["app"] = "changed"
	if strings.Contains(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image+cj.Spec.JobTemplate.Labels["app"], "changed") {
		t.Error("the Job shares memory with the template")
	}
}
