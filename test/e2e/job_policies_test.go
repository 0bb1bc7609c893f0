package e2e

// Indexed Job policies against a real kubelet: successPolicy, backoffLimitPerIndex with maxFailedIndexes, and the
// FailIndex pod-failure action, in the shape of the upstream conformance specs (test/e2e/apps/job.go), driven by
// the real kubectl. Pods exit by their JOB_COMPLETION_INDEX. It starts a kubelet, so run it under the machine lock:
//
//	flock /tmp/skiff-e2e.lock go test ./test/e2e -run TestJobPolicies

import (
	"fmt"
	"sort"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// indexedJob is the manifest of an Indexed Job named name whose pods run script (sh -c) and whose spec has the
// extra lines (two-space indented under spec).
func indexedJob(name string, completions, parallelism int, spec, script string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
  completionMode: Indexed
  completions: %d
  parallelism: %d
%s  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: %s, command: ["sh", "-c", %q]}
`, name, completions, parallelism, spec, jobImage, script)
}

// failOddSucceedEven is upstream's e2e behaviour of that name: odd indexes exit 1, even ones 0.
const failOddSucceedEven = `exit $((JOB_COMPLETION_INDEX % 2))`

// podsByIndex groups the Job's pods by completion index, oldest first.
func podsByIndex(pods []corev1.Pod) map[string][]corev1.Pod {
	sort.Slice(pods, func(a, b int) bool { return pods[a].CreationTimestamp.Before(&pods[b].CreationTimestamp) })
	out := map[string][]corev1.Pod{}
	for _, p := range pods {
		ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		out[ix] = append(out[ix], p)
	}
	return out
}

func TestJobPolicies(t *testing.T) {
	kc := startKubeletCluster(t)

	t.Run("successPolicy succeededIndexes ends the job with indexes pending", func(t *testing.T) {
		t.Parallel()
		// Index 0 succeeds; the others would run for minutes and must be terminated.
		kc.mustStdin(t, indexedJob("sp-indexes", 5, 2, "  successPolicy:\n    rules:\n    - succeededIndexes: \"0\"\n",
			`[ "$JOB_COMPLETION_INDEX" = 0 ] && exit 0; sleep 300`), "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=complete", "job/sp-indexes", "--timeout=90s")
		j := kc.wantFinished(t, "sp-indexes", batchv1.JobComplete, batchv1.JobReasonSuccessPolicy)
		for _, ct := range []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete} {
			if c := jobCondition(j, ct); c == nil || c.Message != "Matched rules at index 0" {
				t.Errorf("%s = %+v, want message %q", ct, c, "Matched rules at index 0")
			}
		}
		st := j.Status
		if st.CompletedIndexes != "0" || st.Succeeded != 1 || st.Active != 0 || ptr.Deref(st.Ready, -1) != 0 || ptr.Deref(st.Terminating, -1) != 0 || st.CompletionTime == nil {
			t.Errorf("status %+v", st)
		}
		// Complete comes only once the terminated pods are gone.
		for _, p := range kc.jobPods(t, "sp-indexes") {
			if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
				t.Errorf("pod %s still %s after Complete", p.Name, p.Status.Phase)
			}
		}
		if row := kc.getJobRow(t, "sp-indexes"); row["STATUS"] != "Complete" {
			t.Errorf("kubectl get job: %v", row)
		}
	})

	t.Run("successPolicy succeededCount", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, indexedJob("sp-count", 5, 2, "  backoffLimit: 2147483647\n  successPolicy:\n    rules:\n    - succeededCount: 1\n",
			failOddSucceedEven), "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=complete", "job/sp-count", "--timeout=90s")
		j := kc.wantFinished(t, "sp-count", batchv1.JobComplete, batchv1.JobReasonSuccessPolicy)
		if st := j.Status; st.CompletedIndexes != "0" || st.Succeeded != 1 || st.Active != 0 || ptr.Deref(st.Terminating, -1) != 0 {
			t.Errorf("status %+v", st)
		}
	})

	t.Run("backoffLimitPerIndex runs every index despite failures", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, indexedJob("per-index", 4, 2, "  backoffLimitPerIndex: 1\n", failOddSucceedEven), "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/per-index", "--timeout=120s")
		j := kc.wantFinished(t, "per-index", batchv1.JobFailed, batchv1.JobReasonFailedIndexes)
		if c := jobCondition(j, batchv1.JobFailed); c.Message != "Job has failed indexes" {
			t.Errorf("message %q", c.Message)
		}
		st := j.Status
		if ptr.Deref(st.FailedIndexes, "<nil>") != "1,3" || st.CompletedIndexes != "0,2" || st.Failed != 4 || st.Succeeded != 2 {
			t.Errorf("failedIndexes %s completedIndexes %q failed %d succeeded %d", ptr.Deref(st.FailedIndexes, "<nil>"), st.CompletedIndexes, st.Failed, st.Succeeded)
		}
		if ptr.Deref(j.Spec.BackoffLimit, 0) != 2147483647 {
			t.Errorf("backoffLimit defaulted to %v", ptr.Deref(j.Spec.BackoffLimit, 0))
		}
		// Each failing index ran twice, its replacement carrying the failure count.
		byIx := podsByIndex(kc.jobPods(t, "per-index"))
		for _, ix := range []string{"1", "3"} {
			var counts []string
			for _, p := range byIx[ix] {
				counts = append(counts, p.Annotations[batchv1.JobIndexFailureCountAnnotation])
			}
			if fmt.Sprint(counts) != "[0 1]" {
				t.Errorf("index %s failure counts %v, want [0 1]", ix, counts)
			}
		}
		for _, ix := range []string{"0", "2"} {
			if len(byIx[ix]) != 1 {
				t.Errorf("index %s ran %d pods, want 1", ix, len(byIx[ix]))
			}
		}
	})

	t.Run("maxFailedIndexes exceeded", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, indexedJob("max-failed", 4, 1, "  backoffLimitPerIndex: 0\n  maxFailedIndexes: 0\n", "exit 1"), "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/max-failed", "--timeout=60s")
		j := kc.wantFinished(t, "max-failed", batchv1.JobFailed, batchv1.JobReasonMaxFailedIndexesExceeded)
		if c := jobCondition(j, batchv1.JobFailed); c.Message != "Job has exceeded the specified maximal number of failed indexes" {
			t.Errorf("message %q", c.Message)
		}
		if st := j.Status; ptr.Deref(st.FailedIndexes, "<nil>") != "0" || st.Failed != 1 {
			t.Errorf("failedIndexes %s failed %d", ptr.Deref(st.FailedIndexes, "<nil>"), st.Failed)
		}
		if pods := kc.jobPods(t, "max-failed"); len(pods) != 1 {
			t.Errorf("pods %v, want the one that failed", podPhases(pods))
		}
		wantContains(t, "events", kc.events(t, "max-failed"), "Warning|MaxFailedIndexesExceeded|Job has exceeded the specified maximal number of failed indexes|job-controller")
	})

	t.Run("podFailurePolicy FailIndex fails the index without retries", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, indexedJob("fail-index", 2, 2, `  backoffLimitPerIndex: 1
  podFailurePolicy:
    rules:
    - action: FailIndex
      onExitCodes: {operator: In, values: [1]}
`, failOddSucceedEven), "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/fail-index", "--timeout=60s")
		j := kc.wantFinished(t, "fail-index", batchv1.JobFailed, batchv1.JobReasonFailedIndexes)
		if st := j.Status; ptr.Deref(st.FailedIndexes, "<nil>") != "1" || st.CompletedIndexes != "0" || st.Failed != 1 || st.Succeeded != 1 {
			t.Errorf("failedIndexes %s completedIndexes %q failed %d succeeded %d", ptr.Deref(st.FailedIndexes, "<nil>"), st.CompletedIndexes, st.Failed, st.Succeeded)
		}
		if byIx := podsByIndex(kc.jobPods(t, "fail-index")); len(byIx["1"]) != 1 {
			t.Errorf("index 1 ran %d pods, want 1 (FailIndex does not retry)", len(byIx["1"]))
		}
	})
}
