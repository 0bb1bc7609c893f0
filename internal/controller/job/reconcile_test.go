package job

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

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type jobOpt func(*batchv1.Job)

func newJob(opts ...jobOpt) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "ns", UID: "job-uid"},
		Spec: batchv1.JobSpec{
			Completions: ptr.To[int32](1), Parallelism: ptr.To[int32](1), BackoffLimit: ptr.To[int32](6),
			CompletionMode: ptr.To(batchv1.NonIndexedCompletion), Suspend: ptr.To(false),
			PodReplacementPolicy: ptr.To(batchv1.TerminatingOrFailed),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
			}},
		},
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func completionsParallelism(c, p int32) jobOpt {
	return func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = ptr.To(c), ptr.To(p) }
}
func indexedMode(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion) }
func started(ago time.Duration) jobOpt {
	return func(j *batchv1.Job) { j.Status.StartTime = ptr.To(metav1.NewTime(now.Add(-ago))) }
}
func withCondition(t batchv1.JobConditionType, s corev1.ConditionStatus, reason string) jobOpt {
	return func(j *batchv1.Job) {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: t, Status: s, Reason: reason})
	}
}
func uncounted(succeeded, failed []types.UID) jobOpt {
	return func(j *batchv1.Job) {
		j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: succeeded, Failed: failed}
	}
}

type podOpt func(*corev1.Pod)

func newPod(name string, phase corev1.PodPhase, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name),
			Finalizers: []string{TrackingFinalizer}, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Status: corev1.PodStatus{Phase: phase},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func noFinalizer(p *corev1.Pod) { p.Finalizers = nil }
func deleting(p *corev1.Pod) {
	p.DeletionTimestamp = ptr.To(metav1.NewTime(now))
}
func readyPod(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}
func index(i string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{CompletionIndexKey: i} }
}
func exited(code int32, ago time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "main",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(now.Add(-ago))}}})
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func conds(st batchv1.JobStatus) []string {
	var out []string
	for _, c := range st.Conditions {
		out = append(out, string(c.Type)+"="+string(c.Status)+"/"+c.Reason)
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
	tests := []struct {
		name string
		job  *batchv1.Job
		pods []*corev1.Pod

		create          []int
		del, rmFinal    []string
		conditions      []string
		events          []string
		active          int32
		ready, term     int32
		succeeded       int32
		failed          int32
		uncountedS      int
		uncountedF      int
		completedIdx    string
		requeue         time.Duration
		startTimeAt     *time.Time
		completionTimed bool
	}{
		{
			name:   "new job starts parallelism pods and its clock",
			job:    newJob(completionsParallelism(5, 2)),
			create: []int{-1, -1}, startTimeAt: &now,
		},
		{
			name:   "active pods up to the completions left",
			job:    newJob(completionsParallelism(3, 3), started(time.Minute), func(j *batchv1.Job) { j.Status.Succeeded = 2 }),
			pods:   []*corev1.Pod{newPod("a", corev1.PodRunning, readyPod)},
			active: 1, ready: 1, succeeded: 2,
		},
		{
			name:   "lower parallelism deletes the excess",
			job:    newJob(completionsParallelism(5, 1), started(time.Minute)),
			pods:   []*corev1.Pod{newPod("a", corev1.PodRunning, readyPod), newPod("b", corev1.PodPending)},
			del:    []string{"b"},
			active: 1, ready: 1, term: 1,
		},
		{
			name:       "a finished pod is held as uncounted until its finalizer is gone",
			job:        newJob(completionsParallelism(2, 1), started(time.Minute)),
			pods:       []*corev1.Pod{newPod("a", corev1.PodSucceeded)},
			rmFinal:    []string{"a"},
			uncountedS: 1,
			create:     []int{-1},
		},
		{
			name:      "a released pod is counted and reaching completions completes the job",
			job:       newJob(started(time.Minute), uncounted([]types.UID{"a"}, nil)),
			pods:      []*corev1.Pod{newPod("a", corev1.PodSucceeded, noFinalizer)},
			succeeded: 1, conditions: []string{"SuccessCriteriaMet=True/CompletionsReached", "Complete=True/CompletionsReached"},
			events: []string{EventCompleted}, completionTimed: true,
		},
		{
			name: "success criteria met deletes the remaining active pods before Complete",
			job:  newJob(completionsParallelism(1, 2), started(time.Minute), func(j *batchv1.Job) { j.Status.Succeeded = 1 }),
			pods: []*corev1.Pod{newPod("b", corev1.PodRunning)},
			del:  []string{"b"}, term: 1, succeeded: 1,
			conditions: []string{"SuccessCriteriaMet=True/CompletionsReached"},
		},
		{
			name:   "without completions the job completes after a success once nothing runs",
			job:    newJob(func(j *batchv1.Job) { j.Spec.Completions = nil; j.Spec.Parallelism = ptr.To[int32](2) }, started(time.Minute), func(j *batchv1.Job) { j.Status.Succeeded = 1 }),
			pods:   []*corev1.Pod{newPod("a", corev1.PodRunning)},
			active: 1, succeeded: 1,
		},
		{
			name:    "failures beyond backoffLimit fail the job",
			job:     newJob(started(time.Minute), func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1); j.Status.Failed = 1 }),
			pods:    []*corev1.Pod{newPod("b", corev1.PodFailed, exited(1, time.Second))},
			rmFinal: []string{"b"}, uncountedF: 1, failed: 1,
			conditions: []string{"FailureTarget=True/BackoffLimitExceeded"},
		},
		{
			name:       "Failed waits until the last failure is counted",
			job:        newJob(started(time.Minute), withCondition(batchv1.JobFailureTarget, corev1.ConditionTrue, ReasonBackoffLimitExceeded), uncounted(nil, []types.UID{"b"})),
			pods:       []*corev1.Pod{newPod("b", corev1.PodFailed, noFinalizer)},
			failed:     1,
			conditions: []string{"FailureTarget=True/BackoffLimitExceeded", "Failed=True/BackoffLimitExceeded"},
			events:     []string{ReasonBackoffLimitExceeded},
		},
		{
			name: "a failing job deletes its active pods before Failed",
			job:  newJob(completionsParallelism(2, 2), started(time.Minute), func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](0) }),
			pods: []*corev1.Pod{newPod("a", corev1.PodRunning), newPod("b", corev1.PodFailed, exited(1, time.Second))},
			del:  []string{"a"}, rmFinal: []string{"b"}, term: 1, uncountedF: 1,
			conditions: []string{"FailureTarget=True/BackoffLimitExceeded"},
		},
		{
			name: "restarts of OnFailure pods count against backoffLimit",
			job: newJob(started(time.Minute), func(j *batchv1.Job) {
				j.Spec.BackoffLimit = ptr.To[int32](2)
				j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			}),
			pods: []*corev1.Pod{newPod("a", corev1.PodRunning, func(p *corev1.Pod) {
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", RestartCount: 2}}
			})},
			del: []string{"a"}, term: 1,
			conditions: []string{"FailureTarget=True/BackoffLimitExceeded"},
		},
		{
			name:    "a failure delays the replacement by the back-off",
			job:     newJob(started(time.Minute), func(j *batchv1.Job) { j.Status.Failed = 1 }),
			pods:    []*corev1.Pod{newPod("a", corev1.PodFailed, noFinalizer, exited(1, 4*time.Second))},
			requeue: 6 * time.Second, failed: 1,
		},
		{
			name: "the back-off doubles per failure since the last success",
			job:  newJob(started(time.Hour), func(j *batchv1.Job) { j.Status.Failed = 4 }),
			pods: []*corev1.Pod{
				newPod("a", corev1.PodFailed, noFinalizer, exited(1, 50*time.Minute)),
				newPod("s", corev1.PodSucceeded, noFinalizer, exited(0, 40*time.Minute)),
				newPod("b", corev1.PodFailed, noFinalizer, exited(1, 30*time.Minute)),
				newPod("c", corev1.PodFailed, noFinalizer, exited(1, 20*time.Minute)),
				newPod("d", corev1.PodFailed, noFinalizer, exited(2, 10*time.Second)),
			},
			requeue: 30 * time.Second, failed: 4, // 3 failures after the success: 40 s from the last one
		},
		{
			name:   "the back-off is over",
			job:    newJob(started(time.Minute), func(j *batchv1.Job) { j.Status.Failed = 1 }),
			pods:   []*corev1.Pod{newPod("a", corev1.PodFailed, noFinalizer, exited(1, 11*time.Second))},
			create: []int{-1}, failed: 1,
		},
		{
			name: "activeDeadlineSeconds passed",
			job:  newJob(started(time.Minute), func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }),
			pods: []*corev1.Pod{newPod("a", corev1.PodRunning)},
			del:  []string{"a"}, term: 1,
			conditions: []string{"FailureTarget=True/DeadlineExceeded"},
		},
		{
			name:    "activeDeadlineSeconds ahead asks for a sync then",
			job:     newJob(started(10*time.Second), func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }),
			pods:    []*corev1.Pod{newPod("a", corev1.PodRunning)},
			active:  1,
			requeue: 20 * time.Second,
		},
		{
			name:       "the failure target becomes Failed once its pods are gone",
			job:        newJob(started(time.Minute), withCondition(batchv1.JobFailureTarget, corev1.ConditionTrue, ReasonDeadlineExceeded)),
			pods:       []*corev1.Pod{newPod("a", corev1.PodFailed, noFinalizer)},
			conditions: []string{"FailureTarget=True/DeadlineExceeded", "Failed=True/DeadlineExceeded"},
			events:     []string{ReasonDeadlineExceeded},
		},
		{
			name:    "a pod deleted by someone else counts as failed",
			job:     newJob(completionsParallelism(2, 1), started(time.Minute)),
			pods:    []*corev1.Pod{newPod("a", corev1.PodRunning, deleting)},
			rmFinal: []string{"a"}, uncountedF: 1, term: 1, create: []int{-1},
		},
		{
			name:    "podReplacementPolicy Failed waits for terminating pods",
			job:     newJob(completionsParallelism(2, 1), started(time.Minute), func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed) }),
			pods:    []*corev1.Pod{newPod("a", corev1.PodRunning, deleting)},
			rmFinal: []string{"a"}, term: 1,
		},
		{
			name: "suspend deletes active pods",
			job:  newJob(started(time.Minute), func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) }),
			pods: []*corev1.Pod{newPod("a", corev1.PodRunning)},
			del:  []string{"a"}, term: 1,
			conditions: []string{"Suspended=True/JobSuspended"},
			events:     []string{EventSuspended},
		},
		{
			name:        "resume restarts the clock",
			job:         newJob(started(time.Hour), withCondition(batchv1.JobSuspended, corev1.ConditionTrue, ReasonSuspended)),
			create:      []int{-1},
			conditions:  []string{"Suspended=False/JobResumed"},
			events:      []string{EventResumed},
			startTimeAt: &now,
		},
		{
			name:   "indexed runs the lowest pending indexes",
			job:    newJob(indexedMode, completionsParallelism(4, 2), started(time.Minute)),
			pods:   []*corev1.Pod{newPod("p0", corev1.PodSucceeded, noFinalizer, index("0")), newPod("p2", corev1.PodRunning, index("2"))},
			create: []int{1},
			active: 1, succeeded: 1,
			completedIdx: "0",
		},
		{
			name: "indexed deletes duplicates and completed indexes before creating more",
			job:  newJob(indexedMode, completionsParallelism(3, 3), started(time.Minute), func(j *batchv1.Job) { j.Status.CompletedIndexes = "0" }),
			pods: []*corev1.Pod{
				newPod("old", corev1.PodRunning, index("1")),
				newPod("dup", corev1.PodRunning, index("1"), func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now) }),
				newPod("done", corev1.PodRunning, index("0")),
			},
			del:    []string{"done", "dup"},
			active: 1, term: 2, succeeded: 1,
			completedIdx: "0",
		},
		{
			name:         "indexed completes when every index succeeded",
			job:          newJob(indexedMode, completionsParallelism(3, 3), started(time.Minute), func(j *batchv1.Job) { j.Status.CompletedIndexes = "0,1"; j.Status.Succeeded = 2 }),
			pods:         []*corev1.Pod{newPod("p2", corev1.PodSucceeded, noFinalizer, index("2"))},
			completedIdx: "0-2", succeeded: 3,
			conditions: []string{"SuccessCriteriaMet=True/CompletionsReached", "Complete=True/CompletionsReached"},
			events:     []string{EventCompleted}, completionTimed: true,
		},
		{
			name: "podFailurePolicy FailJob on an exit code",
			job: newJob(started(time.Minute), func(j *batchv1.Job) {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
					{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
					{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
				}}
			}),
			pods:    []*corev1.Pod{newPod("a", corev1.PodFailed, exited(42, time.Second))},
			rmFinal: []string{"a"}, uncountedF: 1,
			conditions: []string{"FailureTarget=True/PodFailurePolicy"},
		},
		{
			name: "podFailurePolicy Ignore on DisruptionTarget does not count",
			job: newJob(started(time.Minute), func(j *batchv1.Job) {
				j.Spec.BackoffLimit = ptr.To[int32](0)
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
					{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
				}}
			}),
			pods: []*corev1.Pod{newPod("a", corev1.PodFailed, func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
			})},
			rmFinal: []string{"a"},
			create:  []int{-1},
		},
		{
			name:       "a finished job only releases finalizers",
			job:        newJob(started(time.Minute), withCondition(batchv1.JobComplete, corev1.ConditionTrue, ReasonCompletionsReached)),
			pods:       []*corev1.Pod{newPod("a", corev1.PodSucceeded), newPod("b", corev1.PodSucceeded, noFinalizer)},
			rmFinal:    []string{"a"},
			conditions: []string{"Complete=True/CompletionsReached"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.job.DeepCopy()
			p := Reconcile(tc.job, tc.pods, now)
			if !reflect.DeepEqual(before, tc.job) {
				t.Fatal("Reconcile modified the job")
			}
			if !reflect.DeepEqual(p.Create, tc.create) && (len(p.Create) > 0 || len(tc.create) > 0) {
				t.Errorf("Create = %v, want %v", p.Create, tc.create)
			}
			if got := names(p.Delete); !reflect.DeepEqual(got, tc.del) {
				t.Errorf("Delete = %v, want %v", got, tc.del)
			}
			if got := names(p.RemoveFinalizers); !reflect.DeepEqual(got, tc.rmFinal) {
				t.Errorf("RemoveFinalizers = %v, want %v", got, tc.rmFinal)
			}
			if got := conds(p.Status); !reflect.DeepEqual(got, tc.conditions) {
				t.Errorf("conditions = %v, want %v", got, tc.conditions)
			}
			if got := reasons(p.Events); !reflect.DeepEqual(got, tc.events) {
				t.Errorf("events = %v, want %v", got, tc.events)
			}
			if p.RequeueAfter != tc.requeue {
				t.Errorf("RequeueAfter = %v, want %v", p.RequeueAfter, tc.requeue)
			}
			st := p.Status
			if _, done := Finished(tc.job); done {
				return
			}
			if st.Active != tc.active || ptr.Deref(st.Ready, -1) != tc.ready || ptr.Deref(st.Terminating, -1) != tc.term {
				t.Errorf("active/ready/terminating = %d/%d/%d, want %d/%d/%d", st.Active, ptr.Deref(st.Ready, -1), ptr.Deref(st.Terminating, -1), tc.active, tc.ready, tc.term)
			}
			if st.Succeeded != tc.succeeded || st.Failed != tc.failed {
				t.Errorf("succeeded/failed = %d/%d, want %d/%d", st.Succeeded, st.Failed, tc.succeeded, tc.failed)
			}
			if u := st.UncountedTerminatedPods; u == nil || len(u.Succeeded) != tc.uncountedS || len(u.Failed) != tc.uncountedF {
				t.Errorf("uncountedTerminatedPods = %+v, want %d succeeded, %d failed", u, tc.uncountedS, tc.uncountedF)
			}
			if st.CompletedIndexes != tc.completedIdx {
				t.Errorf("completedIndexes = %q, want %q", st.CompletedIndexes, tc.completedIdx)
			}
			if tc.startTimeAt != nil && (st.StartTime == nil || !st.StartTime.Time.Equal(*tc.startTimeAt)) {
				t.Errorf("startTime = %v, want %v", st.StartTime, *tc.startTimeAt)
			}
			if got := st.CompletionTime != nil; got != tc.completionTimed {
				t.Errorf("completionTime set = %v, want %v", got, tc.completionTimed)
			}
			if !p.StatusChanged {
				t.Error("StatusChanged = false for a job whose status was just computed")
			}
		})
	}
}

func TestReconcileIsStableOnceWritten(t *testing.T) {
	j := newJob(completionsParallelism(3, 1))
	pods := []*corev1.Pod{newPod("a", corev1.PodRunning, readyPod)}
	p := Reconcile(j, pods, now)
	j.Status = p.Status
	if again := Reconcile(j, pods, now.Add(time.Second)); again.StatusChanged || len(again.Create) > 0 || len(again.Events) > 0 {
		t.Fatalf("second sync changed something: %+v", again)
	}
}

func TestFailurePolicyMessages(t *testing.T) {
	j := newJob(func(j *batchv1.Job) {
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
			{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1}}},
			{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
		}}
	})
	for _, tc := range []struct {
		code   int32
		action batchv1.PodFailurePolicyAction
		msg    string
	}{
		{1, batchv1.PodFailurePolicyActionCount, ""},
		{2, "", ""},
		{3, batchv1.PodFailurePolicyActionFailJob, "Container main for pod ns/a failed with exit code 3 matching FailJob rule at index 1"},
	} {
		action, cond := matchFailurePolicy(j, newPod("a", corev1.PodFailed, exited(tc.code, 0)))
		msg := ""
		if cond != nil {
			msg = cond.Message
		}
		if action != tc.action || msg != tc.msg {
			t.Errorf("exit %d: %q %q, want %q %q", tc.code, action, msg, tc.action, tc.msg)
		}
	}
}

func TestIndexes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int32
		want string
	}{
		{"", 5, ""},
		{"0", 5, "0"},
		{"0,1", 5, "0,1"},
		{"0,1,2,4", 5, "0-2,4"},
		{"1-3,5-7", 6, "1-3,5"},
		{"3,1,2", 5, "1-3"},
	} {
		if got := formatIndexes(parseIndexes(tc.in, tc.n)); got != tc.want {
			t.Errorf("%q (n=%d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestNewPodIndexed(t *testing.T) {
	j := newJob(indexedMode)
	j.Spec.Template.Labels = map[string]string{"batch.kubernetes.io/job-name": "pi"}
	ref := &metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "pi", UID: j.UID, Controller: ptr.To(true)}
	p := NewPod(j, ref, 3)
	if p.GenerateName != "pi-3-" || p.Spec.Hostname != "pi-3" {
		t.Errorf("generateName %q hostname %q", p.GenerateName, p.Spec.Hostname)
	}
	if p.Annotations[CompletionIndexKey] != "3" || p.Labels[CompletionIndexKey] != "3" || p.Labels["batch.kubernetes.io/job-name"] != "pi" {
		t.Errorf("metadata %v %v", p.Annotations, p.Labels)
	}
	if !reflect.DeepEqual(p.Finalizers, []string{TrackingFinalizer}) {
		t.Errorf("finalizers %v", p.Finalizers)
	}
	env := p.Spec.Containers[0].Env
	if len(env) != 1 || env[0].Name != CompletionIndexEnv || env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("env %+v", env)
	}
	if len(j.Spec.Template.Spec.Containers[0].Env) != 0 || len(j.Spec.Template.Annotations) != 0 {
		t.Error("NewPod modified the template")
	}
	if np := NewPod(newJob(), ref, -1); np.GenerateName != "pi-" || np.Spec.Hostname != "" || len(np.Spec.Containers[0].Env) != 0 {
		t.Errorf("non-indexed pod %+v", np)
	}
}

func TestTTLExpiry(t *testing.T) {
	finished := func(ago time.Duration, ttl *int32) *batchv1.Job {
		j := newJob(func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ttl })
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-ago))}}
		return j
	}
	for _, tc := range []struct {
		name    string
		job     *batchv1.Job
		due, ok bool
		left    time.Duration
	}{
		{"no ttl", finished(time.Hour, nil), false, false, 0},
		{"not finished", newJob(func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](0) }), false, false, 0},
		{"zero ttl", finished(0, ptr.To[int32](0)), true, true, 0},
		{"pending", finished(10*time.Second, ptr.To[int32](30)), false, true, 20 * time.Second},
		{"expired", finished(time.Minute, ptr.To[int32](30)), true, true, 0},
	} {
		due, left, ok := TTLExpiry(tc.job, now)
		if due != tc.due || ok != tc.ok || left != tc.left {
			t.Errorf("%s: due=%v left=%v ok=%v, want %v %v %v", tc.name, due, left, ok, tc.due, tc.left, tc.ok)
		}
	}
	if !strings.Contains(TTLName, "ttl") {
		t.Fatal("TTLName")
	}
}
