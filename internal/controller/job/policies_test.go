package job

import (
	"reflect"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func successPolicy(rules ...batchv1.SuccessPolicyRule) jobOpt {
	return func(j *batchv1.Job) { j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: rules} }
}

// perIndexLimit makes j an Indexed Job with backoffLimitPerIndex (and backoffLimit left to its default).
func perIndexLimit(limit int32) jobOpt {
	return func(j *batchv1.Job) {
		indexedMode(j)
		j.Spec.BackoffLimit = nil
		j.Spec.BackoffLimitPerIndex = ptr.To(limit)
	}
}

func maxFailedIndexes(n int32) jobOpt {
	return func(j *batchv1.Job) { j.Spec.MaxFailedIndexes = ptr.To(n) }
}

func failurePolicy(rules ...batchv1.PodFailurePolicyRule) jobOpt {
	return func(j *batchv1.Job) { j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: rules} }
}

func onExit(action batchv1.PodFailurePolicyAction, codes ...int32) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
		Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: codes}}
}

// failures sets the pod's index failure-count annotations (and its completion index annotation).
func failures(ix string, counted, ignored string) podOpt {
	return func(p *corev1.Pod) {
		p.Annotations = map[string]string{CompletionIndexKey: ix, IndexFailureCountKey: counted}
		if ignored != "" {
			p.Annotations[IndexIgnoredFailureCountKey] = ignored
		}
	}
}

func TestReconcilePolicies(t *testing.T) {
	tests := []struct {
		name string
		job  *batchv1.Job
		pods []*corev1.Pod

		create       []int
		annotations  map[int]map[string]string
		del, rmFinal []string
		conditions   []string
		message      string // of the last condition
		events       []string
		active, term int32
		succeeded    int32
		failed       int32
		uncountedF   int
		completedIdx string
		failedIdx    *string
		requeue      time.Duration
	}{
		{
			name: "successPolicy succeededIndexes met ends the job early and deletes the pending indexes' pods",
			job: newJob(indexedMode, completionsParallelism(5, 2), started(time.Minute),
				successPolicy(batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("3")}, batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("0")})),
			pods:         []*corev1.Pod{newPod("p0", corev1.PodSucceeded, index("0")), newPod("p1", corev1.PodRunning, index("1"))},
			del:          []string{"p1"},
			rmFinal:      []string{"p0"},
			term:         1,
			succeeded:    1,
			completedIdx: "0",
			conditions:   []string{"SuccessCriteriaMet=True/SuccessPolicy"},
			message:      "Matched rules at index 1",
		},
		{
			name: "successPolicy succeededIndexes with succeededCount needs that many of them",
			job: newJob(indexedMode, completionsParallelism(5, 1), started(time.Minute), func(j *batchv1.Job) { j.Status.CompletedIndexes = "0" },
				successPolicy(batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("0-2"), SucceededCount: ptr.To[int32](2)})),
			pods:         []*corev1.Pod{newPod("p3", corev1.PodSucceeded, noFinalizer, index("3"))},
			create:       []int{1},
			succeeded:    2,
			completedIdx: "0,3",
		},
		{
			name: "successPolicy succeededCount met; Complete waits for the deleted pods",
			job: newJob(indexedMode, completionsParallelism(5, 2), started(time.Minute), func(j *batchv1.Job) { j.Status.CompletedIndexes = "1" },
				successPolicy(batchv1.SuccessPolicyRule{SucceededCount: ptr.To[int32](1)})),
			pods:         []*corev1.Pod{newPod("p0", corev1.PodRunning, index("0"), deleting)},
			rmFinal:      []string{"p0"},
			term:         1,
			uncountedF:   1, // deleted by someone else before the Job finished: a failure
			succeeded:    1,
			completedIdx: "1",
			conditions:   []string{"SuccessCriteriaMet=True/SuccessPolicy"},
			message:      "Matched rules at index 0",
		},
		{
			name: "Complete takes SuccessCriteriaMet's reason and message once no pod is left",
			job: newJob(indexedMode, completionsParallelism(5, 2), started(time.Minute), func(j *batchv1.Job) {
				j.Status.CompletedIndexes = "0"
				j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: ReasonSuccessPolicy, Message: "Matched rules at index 0"}}
			}, successPolicy(batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("0")})),
			pods:         []*corev1.Pod{newPod("p0", corev1.PodSucceeded, noFinalizer, index("0")), newPod("p1", corev1.PodFailed, noFinalizer, index("1"))},
			succeeded:    1,
			completedIdx: "0",
			conditions:   []string{"SuccessCriteriaMet=True/SuccessPolicy", "Complete=True/SuccessPolicy"},
			message:      "Matched rules at index 0",
			events:       []string{EventCompleted},
		},
		{
			name:         "backoffLimitPerIndex holds a failed pod of a pending index during its back-off",
			job:          newJob(perIndexLimit(1), completionsParallelism(4, 2), started(time.Minute)),
			pods:         []*corev1.Pod{newPod("p0", corev1.PodRunning, failures("0", "0", "")), newPod("p1", corev1.PodFailed, failures("1", "0", ""), exited(1, 4*time.Second))},
			create:       nil,
			requeue:      6 * time.Second,
			active:       1,
			failedIdx:    ptr.To(""),
			completedIdx: "",
		},
		{
			name:         "after the back-off the replacement inherits the failure count; the failed pod is still held",
			job:          newJob(perIndexLimit(1), completionsParallelism(4, 2), started(time.Minute)),
			pods:         []*corev1.Pod{newPod("p0", corev1.PodRunning, failures("0", "0", "")), newPod("p1", corev1.PodFailed, failures("1", "0", ""), exited(1, 11*time.Second))},
			create:       []int{1},
			annotations:  map[int]map[string]string{1: {IndexFailureCountKey: "1"}},
			active:       1,
			failedIdx:    ptr.To(""),
			completedIdx: "",
		},
		{
			name:       "once the replacement runs, the failed pod is counted and released",
			job:        newJob(perIndexLimit(1), completionsParallelism(2, 2), started(time.Minute)),
			pods:       []*corev1.Pod{newPod("p1", corev1.PodFailed, failures("1", "0", "")), newPod("p1b", corev1.PodRunning, failures("1", "1", "")), newPod("p0", corev1.PodRunning, failures("0", "0", ""))},
			rmFinal:    []string{"p1"},
			active:     2,
			uncountedF: 1,
			failedIdx:  ptr.To(""),
		},
		{
			name: "an index that used up backoffLimitPerIndex fails and is not run again; the others go on",
			job:  newJob(perIndexLimit(1), completionsParallelism(4, 2), started(time.Minute), func(j *batchv1.Job) { j.Status.Failed = 1; j.Status.CompletedIndexes = "0" }),
			pods: []*corev1.Pod{
				newPod("p0", corev1.PodSucceeded, noFinalizer, failures("0", "0", "")),
				newPod("p1", corev1.PodFailed, failures("1", "1", ""), exited(1, time.Second)),
				newPod("p2", corev1.PodRunning, failures("2", "0", "")),
			},
			create:      []int{3},
			annotations: map[int]map[string]string{3: {IndexFailureCountKey: "0"}},
			rmFinal:     []string{"p1"},
			active:      1,
			succeeded:   1,
			uncountedF:  1, failed: 1,
			completedIdx: "0",
			failedIdx:    ptr.To("1"),
		},
		{
			name: "every index succeeded or failed: FailureTarget FailedIndexes",
			job: newJob(perIndexLimit(1), completionsParallelism(4, 2), started(time.Minute), func(j *batchv1.Job) {
				j.Status.Failed, j.Status.CompletedIndexes, j.Status.FailedIndexes = 3, "0,2", ptr.To("1")
			}),
			pods:       []*corev1.Pod{newPod("p3", corev1.PodFailed, failures("3", "1", ""), exited(1, time.Second))},
			rmFinal:    []string{"p3"},
			succeeded:  2,
			uncountedF: 1, failed: 3,
			completedIdx: "0,2",
			failedIdx:    ptr.To("1,3"),
			conditions:   []string{"FailureTarget=True/FailedIndexes"},
			message:      MessageFailedIndexes,
		},
		{
			name: "more failed indexes than maxFailedIndexes: FailureTarget, active pods deleted",
			job:  newJob(perIndexLimit(0), maxFailedIndexes(0), completionsParallelism(4, 2), started(time.Minute)),
			pods: []*corev1.Pod{
				newPod("p0", corev1.PodFailed, failures("0", "0", ""), exited(1, time.Second)),
				newPod("p1", corev1.PodRunning, failures("1", "0", "")),
			},
			del:        []string{"p1"},
			rmFinal:    []string{"p0"},
			term:       1,
			uncountedF: 1,
			failedIdx:  ptr.To("0"),
			conditions: []string{"FailureTarget=True/MaxFailedIndexesExceeded"},
			message:    MessageMaxFailedIndexesExceeded,
		},
		{
			name:        "podFailurePolicy FailIndex fails the index at once",
			job:         newJob(perIndexLimit(3), completionsParallelism(2, 1), started(time.Minute), failurePolicy(onExit(batchv1.PodFailurePolicyActionFailIndex, 1))),
			pods:        []*corev1.Pod{newPod("p0", corev1.PodFailed, failures("0", "0", ""), exited(1, time.Second))},
			create:      []int{1},
			annotations: map[int]map[string]string{1: {IndexFailureCountKey: "0"}},
			rmFinal:     []string{"p0"},
			uncountedF:  1,
			failedIdx:   ptr.To("0"),
		},
		{
			name: "an ignored failure is held too and its replacement counts it as ignored",
			job:  newJob(perIndexLimit(0), completionsParallelism(1, 1), started(time.Minute), failurePolicy(onExit(batchv1.PodFailurePolicyActionIgnore, 137))),
			pods: []*corev1.Pod{newPod("p0", corev1.PodFailed, failures("0", "0", "1"), exited(137, 30*time.Second))},
			// The third attempt of the index: 20 s back-off, over.
			create:      []int{0},
			annotations: map[int]map[string]string{0: {IndexFailureCountKey: "0", IndexIgnoredFailureCountKey: "2"}},
			failedIdx:   ptr.To(""),
		},
		{
			name:      "the per-index back-off doubles with the index's failures",
			job:       newJob(perIndexLimit(5), completionsParallelism(1, 1), started(time.Hour)),
			pods:      []*corev1.Pod{newPod("p0", corev1.PodFailed, failures("0", "2", ""), exited(1, 30*time.Second))},
			requeue:   10 * time.Second, // third failure: 40 s
			failedIdx: ptr.To(""),
		},
		{
			name:      "backoffLimit does not apply by default with backoffLimitPerIndex",
			job:       newJob(perIndexLimit(100), completionsParallelism(1, 1), started(time.Hour), func(j *batchv1.Job) { j.Status.Failed = 50 }),
			pods:      []*corev1.Pod{newPod("p0", corev1.PodRunning, failures("0", "50", ""))},
			active:    1,
			failed:    50,
			failedIdx: ptr.To(""),
		},
		{
			name: "a finishing job counts and releases the held pods before Failed",
			job: newJob(perIndexLimit(1), completionsParallelism(2, 1), started(time.Minute),
				withCondition(batchv1.JobFailureTarget, corev1.ConditionTrue, ReasonDeadlineExceeded)),
			pods:       []*corev1.Pod{newPod("p0", corev1.PodFailed, failures("0", "0", ""), exited(1, time.Second))},
			rmFinal:    []string{"p0"},
			uncountedF: 1,
			failedIdx:  ptr.To(""),
			conditions: []string{"FailureTarget=True/DeadlineExceeded"},
		},
		{
			name: "the failed pod held for a new FailureTarget is counted before Failed",
			job: newJob(perIndexLimit(1), completionsParallelism(2, 1), started(time.Minute),
				func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }),
			pods:       []*corev1.Pod{newPod("p0", corev1.PodFailed, failures("0", "0", ""), exited(1, time.Second))},
			failedIdx:  ptr.To(""),
			conditions: []string{"FailureTarget=True/DeadlineExceeded"},
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
			if tc.annotations != nil && !reflect.DeepEqual(p.PodAnnotations, tc.annotations) {
				t.Errorf("PodAnnotations = %v, want %v", p.PodAnnotations, tc.annotations)
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
			if n := len(p.Status.Conditions); tc.message != "" && (n == 0 || p.Status.Conditions[n-1].Message != tc.message) {
				t.Errorf("conditions %+v, want the last with message %q", p.Status.Conditions, tc.message)
			}
			if got := reasons(p.Events); !reflect.DeepEqual(got, tc.events) {
				t.Errorf("events = %v, want %v", got, tc.events)
			}
			if p.RequeueAfter != tc.requeue {
				t.Errorf("RequeueAfter = %v, want %v", p.RequeueAfter, tc.requeue)
			}
			st := p.Status
			if st.Active != tc.active || ptr.Deref(st.Terminating, -1) != tc.term {
				t.Errorf("active/terminating = %d/%d, want %d/%d", st.Active, ptr.Deref(st.Terminating, -1), tc.active, tc.term)
			}
			if st.Succeeded != tc.succeeded || st.Failed != tc.failed {
				t.Errorf("succeeded/failed = %d/%d, want %d/%d", st.Succeeded, st.Failed, tc.succeeded, tc.failed)
			}
			if u := st.UncountedTerminatedPods; u == nil || len(u.Succeeded) != 0 || len(u.Failed) != tc.uncountedF {
				t.Errorf("uncountedTerminatedPods = %+v, want %d failed", u, tc.uncountedF)
			}
			if st.CompletedIndexes != tc.completedIdx {
				t.Errorf("completedIndexes = %q, want %q", st.CompletedIndexes, tc.completedIdx)
			}
			if !reflect.DeepEqual(st.FailedIndexes, tc.failedIdx) {
				t.Errorf("failedIndexes = %v, want %v", ptr.Deref(st.FailedIndexes, "<nil>"), ptr.Deref(tc.failedIdx, "<nil>"))
			}
		})
	}
}

// TestPerIndexSequence drives one Indexed Job with backoffLimitPerIndex 1 through its syncs, the test playing the
// kubelet and the shell: index 1 fails twice and index 0 succeeds, so the Job fails with FailedIndexes after
// counting every pod, and the replacement pod carries the failure count.
func TestPerIndexSequence(t *testing.T) {
	j := newJob(perIndexLimit(1), completionsParallelism(2, 2))
	var pods []*corev1.Pod
	clock := now
	sync := func() Plan {
		t.Helper()
		p := Reconcile(j, pods, clock)
		j.Status = p.Status
		for _, i := range p.Create {
			pod := newPod("p"+string(rune('0'+i))+"-"+clock.Format("150405"), corev1.PodPending, failures(string(rune('0'+i)), "0", ""))
			for k, v := range p.PodAnnotations[i] {
				pod.Annotations[k] = v
			}
			pods = append(pods, pod)
		}
		for _, rm := range p.RemoveFinalizers {
			rm.Finalizers = nil
		}
		return p
	}
	finish := func(name string, phase corev1.PodPhase, code int32) {
		for _, pod := range pods {
			if pod.Name == name {
				pod.Status.Phase = phase
				exited(code, 0)(pod)
				pod.Status.ContainerStatuses[0].State.Terminated.FinishedAt.Time = clock
			}
		}
	}
	if p := sync(); !reflect.DeepEqual(p.Create, []int{0, 1}) {
		t.Fatalf("first sync creates %v", p.Create)
	}
	finish("p0-030405", corev1.PodSucceeded, 0)
	finish("p1-030405", corev1.PodFailed, 1)
	clock = clock.Add(time.Second)
	if p := sync(); len(p.Create) != 0 || p.RequeueAfter != 9*time.Second || names(p.RemoveFinalizers)[0] != "p0-030405" || len(p.RemoveFinalizers) != 1 {
		t.Fatalf("after the failure: create %v requeue %v release %v", p.Create, p.RequeueAfter, names(p.RemoveFinalizers))
	}
	clock = clock.Add(10 * time.Second)
	p := sync()
	if !reflect.DeepEqual(p.Create, []int{1}) || p.PodAnnotations[1][IndexFailureCountKey] != "1" {
		t.Fatalf("after the back-off: create %v annotations %v", p.Create, p.PodAnnotations)
	}
	clock = clock.Add(time.Second)
	if p := sync(); !reflect.DeepEqual(names(p.RemoveFinalizers), []string{"p1-030405"}) {
		t.Fatalf("the first failure should be released once replaced: %v", names(p.RemoveFinalizers))
	}
	finish("p1-030416", corev1.PodFailed, 1)
	clock = clock.Add(time.Second)
	sync()
	for range 3 {
		sync()
	}
	st := j.Status
	if got := conds(st); !reflect.DeepEqual(got, []string{"FailureTarget=True/FailedIndexes", "Failed=True/FailedIndexes"}) {
		t.Fatalf("conditions %v", got)
	}
	if ptr.Deref(st.FailedIndexes, "") != "1" || st.CompletedIndexes != "0" || st.Failed != 2 || st.Succeeded != 1 {
		t.Fatalf("status failedIndexes %v completed %q failed %d succeeded %d", ptr.Deref(st.FailedIndexes, "<nil>"), st.CompletedIndexes, st.Failed, st.Succeeded)
	}
	for _, pod := range pods {
		if hasFinalizer(pod) {
			t.Errorf("pod %s still holds the finalizer", pod.Name)
		}
	}
}

func TestMatchSuccessPolicy(t *testing.T) {
	set := func(ix ...int) map[int]bool {
		m := map[int]bool{}
		for _, i := range ix {
			m[i] = true
		}
		return m
	}
	for _, tc := range []struct {
		rules     []batchv1.SuccessPolicyRule
		succeeded map[int]bool
		msg       string
	}{
		{[]batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0,2-4")}}, set(0, 2, 3), ""},
		{[]batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0,2-4")}}, set(0, 2, 3, 4), "Matched rules at index 0"},
		{[]batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0,2-4"), SucceededCount: ptr.To[int32](3)}}, set(1, 2, 3, 4), "Matched rules at index 0"},
		{[]batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("7-9")}, {SucceededCount: ptr.To[int32](2)}}, set(1, 5), "Matched rules at index 1"},
		{[]batchv1.SuccessPolicyRule{{SucceededCount: ptr.To[int32](3)}}, set(1, 5), ""},
		{[]batchv1.SuccessPolicyRule{{SucceededCount: ptr.To[int32](0)}}, set(), ""},
	} {
		j := newJob(indexedMode, completionsParallelism(6, 1), successPolicy(tc.rules...))
		msg, ok := matchSuccessPolicy(j, tc.succeeded)
		if msg != tc.msg || ok != (tc.msg != "") {
			t.Errorf("rules %+v on %v: %q %v, want %q", tc.rules, tc.succeeded, msg, ok, tc.msg)
		}
	}
}
