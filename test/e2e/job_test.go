package e2e

// The Job controller (and its TTL-after-finished loop) against a real kubelet: pods really run and exit, driven
// by the real kubectl as a user would (`kubectl create job`, `kubectl apply`, `kubectl wait`, `kubectl get`,
// `kubectl patch`). It starts a kubelet, so run it under the machine lock:
//
//	flock /tmp/skiff-e2e.lock go test ./test/e2e -run TestJob

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const jobImage = "skiff.local/testapp:dev"

func (kc *kubeletCluster) job(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	j, err := kc.cs.BatchV1().Jobs("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get job %s: %v", name, err)
	}
	return j
}

func (kc *kubeletCluster) jobPods(t *testing.T, name string) []corev1.Pod {
	t.Helper()
	l, err := kc.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + name})
	if err != nil {
		t.Fatalf("list pods of %s: %v", name, err)
	}
	return l.Items
}

func jobCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct && j.Status.Conditions[i].Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// wantFinished checks the terminal condition, its FailureTarget/SuccessCriteriaMet precursor with the same
// reason, and that every pod's tracking finalizer is gone and nothing is left uncounted.
func (kc *kubeletCluster) wantFinished(t *testing.T, name string, ct batchv1.JobConditionType, reason string) *batchv1.Job {
	t.Helper()
	j := kc.job(t, name)
	pre := batchv1.JobSuccessCriteriaMet
	if ct == batchv1.JobFailed {
		pre = batchv1.JobFailureTarget
	}
	for _, want := range []batchv1.JobConditionType{pre, ct} {
		c := jobCondition(j, want)
		if c == nil || c.Reason != reason {
			t.Errorf("job %s: condition %s = %+v, want reason %s; all: %+v", name, want, c, reason, j.Status.Conditions)
		}
	}
	eventually(t, 30*time.Second, "pods of "+name+" released and counted", func() (bool, string) {
		j = kc.job(t, name)
		var held []string
		for _, p := range kc.jobPods(t, name) {
			if len(p.Finalizers) > 0 {
				held = append(held, p.Name)
			}
		}
		u := j.Status.UncountedTerminatedPods
		return len(held) == 0 && (u == nil || len(u.Succeeded)+len(u.Failed) == 0), fmt.Sprintf("held %v uncounted %+v", held, u)
	})
	if j.Status.Active != 0 {
		t.Errorf("job %s: active = %d after it finished", name, j.Status.Active)
	}
	return j
}

// getJobRow is `kubectl get job name` as a row of cells, keyed by column.
func (kc *kubeletCluster) getJobRow(t *testing.T, name string) map[string]string {
	t.Helper()
	tb := parseTable(t, kc.mustKubectl(t, "get", "job", name))
	row := tb.row(t, "NAME", name)
	out := map[string]string{}
	for i, h := range tb.header {
		out[h] = row[i]
	}
	return out
}

func TestJob(t *testing.T) {
	kc := startKubeletCluster(t)
	t.Cleanup(func() {
		// Runs after the parallel subtests: show what the Job controller had to retry.
		for _, l := range strings.Split(kc.Logs(), "\n") {
			if strings.Contains(l, "controller=job") || strings.Contains(l, "controller=ttl-after-finished") {
				t.Logf("server: %s", l)
			}
		}
	})

	t.Run("create job and wait for complete", func(t *testing.T) {
		t.Parallel()
		kc.mustKubectl(t, "create", "job", "hello", "--image="+jobImage, "--", "sh", "-c", "echo hello from the job; exit 0")
		kc.mustKubectl(t, "wait", "--for=condition=complete", "job/hello", "--timeout=60s")
		j := kc.wantFinished(t, "hello", batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
		if j.Status.Succeeded != 1 || j.Status.Failed != 0 || j.Status.StartTime == nil || j.Status.CompletionTime == nil {
			t.Errorf("status %+v", j.Status)
		}
		row := kc.getJobRow(t, "hello")
		if row["STATUS"] != "Complete" || row["COMPLETIONS"] != "1/1" {
			t.Errorf("kubectl get job: %v", row)
		}
		pods := kc.jobPods(t, "hello")
		if len(pods) != 1 || pods[0].Status.Phase != corev1.PodSucceeded || !strings.HasPrefix(pods[0].Name, "hello-") {
			t.Fatalf("pods %v", podPhases(pods))
		}
		if ref := metav1.GetControllerOf(&pods[0]); ref == nil || ref.Kind != "Job" || ref.UID != j.UID {
			t.Errorf("pod owner %+v", ref)
		}
		wantContains(t, "logs", kc.mustKubectl(t, "logs", "job/hello"), "hello from the job")
		ev := kc.events(t, "hello")
		wantContains(t, "events", ev, "Normal|SuccessfulCreate|Created pod: "+pods[0].Name+"|job-controller")
		wantContains(t, "events", ev, "Normal|Completed|Job completed|job-controller")
	})

	t.Run("indexed job gets its completion index", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: `+jobImage+`
        command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX host=$(hostname)"]
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=complete", "job/indexed", "--timeout=60s")
		j := kc.wantFinished(t, "indexed", batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
		if j.Status.CompletedIndexes != "0-2" || j.Status.Succeeded != 3 {
			t.Errorf("completedIndexes %q succeeded %d", j.Status.CompletedIndexes, j.Status.Succeeded)
		}
		var got []string
		for _, p := range kc.jobPods(t, "indexed") {
			idx := p.Annotations["batch.kubernetes.io/job-completion-index"]
			if p.Labels["batch.kubernetes.io/job-completion-index"] != idx || !strings.HasPrefix(p.Name, "indexed-"+idx+"-") {
				t.Errorf("pod %s: labels %v annotations %v", p.Name, p.Labels, p.Annotations)
			}
			logs := strings.TrimSpace(kc.mustKubectl(t, "logs", p.Name))
			if want := fmt.Sprintf("index=%s host=indexed-%s", idx, idx); logs != want {
				t.Errorf("pod %s logs %q, want %q", p.Name, logs, want)
			}
			got = append(got, idx)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "0,1,2" {
			t.Errorf("indexes %v", got)
		}
		if row := kc.getJobRow(t, "indexed"); row["COMPLETIONS"] != "3/3" {
			t.Errorf("kubectl get job: %v", row)
		}
	})

	t.Run("backoffLimit exceeded", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: `+jobImage+`, command: ["sh", "-c", "exit 3"]}
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/fails", "--timeout=60s")
		j := kc.wantFinished(t, "fails", batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded)
		if c := jobCondition(j, batchv1.JobFailed); c.Message != "Job has reached the specified backoff limit" {
			t.Errorf("message %q", c.Message)
		}
		if j.Status.Failed != 1 || j.Status.Succeeded != 0 || j.Status.CompletionTime != nil {
			t.Errorf("status %+v", j.Status)
		}
		if row := kc.getJobRow(t, "fails"); row["STATUS"] != "Failed" || row["COMPLETIONS"] != "0/1" {
			t.Errorf("kubectl get job: %v", row)
		}
		wantContains(t, "events", kc.events(t, "fails"), "Warning|BackoffLimitExceeded|Job has reached the specified backoff limit|job-controller")
	})

	t.Run("failed pods are replaced after the back-off", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: retries}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: `+jobImage+`, command: ["sh", "-c", "exit 1"]}
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/retries", "--timeout=60s")
		j := kc.wantFinished(t, "retries", batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded)
		if j.Status.Failed != 2 {
			t.Errorf("failed = %d, want 2 (backoffLimit 1)", j.Status.Failed)
		}
		pods := kc.jobPods(t, "retries")
		if len(pods) != 2 {
			t.Fatalf("pods %v, want 2", podPhases(pods))
		}
		sort.Slice(pods, func(a, b int) bool { return pods[a].CreationTimestamp.Before(&pods[b].CreationTimestamp) })
		first := pods[0].Status.ContainerStatuses
		if len(first) != 1 || first[0].State.Terminated == nil {
			t.Fatalf("first pod's container: %+v", first)
		}
		// The replacement waits 10 s after the failure (timestamps have second precision).
		if gap := pods[1].CreationTimestamp.Sub(first[0].State.Terminated.FinishedAt.Time); gap < 9*time.Second {
			t.Errorf("replacement created %v after the failure, want the 10s back-off", gap)
		}
	})

	t.Run("deleting a running job deletes its pods", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: `+jobImage+`, command: ["sleep", "300"]}
`, "apply", "-f", "-")
		eventually(t, 30*time.Second, "a running pod", func() (bool, string) {
			j := kc.job(t, "doomed")
			return j.Status.Active == 1 && j.Status.Ready != nil && *j.Status.Ready == 1, fmt.Sprintf("%+v", j.Status)
		})
		kc.mustKubectl(t, "delete", "job", "doomed", "--wait=false")
		eventually(t, 30*time.Second, "the job's pods gone", func() (bool, string) {
			pods := kc.jobPods(t, "doomed")
			var fin []string
			for _, p := range pods {
				fin = append(fin, fmt.Sprint(p.Finalizers))
			}
			return len(pods) == 0, fmt.Sprintf("pods %v finalizers %v", podPhases(pods), fin)
		})
	})

	t.Run("podFailurePolicy FailJob", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: policy}
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {operator: In, values: [42]}
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: `+jobImage+`, command: ["sh", "-c", "exit 42"]}
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/policy", "--timeout=60s")
		j := kc.wantFinished(t, "policy", batchv1.JobFailed, batchv1.JobReasonPodFailurePolicy)
		pods := kc.jobPods(t, "policy")
		if len(pods) != 1 {
			t.Fatalf("pods %v (FailJob should not retry)", podPhases(pods))
		}
		want := fmt.Sprintf("Container main for pod default/%s failed with exit code 42 matching FailJob rule at index 0", pods[0].Name)
		if c := jobCondition(j, batchv1.JobFailed); c.Message != want {
			t.Errorf("message %q, want %q", c.Message, want)
		}
	})

	t.Run("activeDeadlineSeconds", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: deadline}
spec:
  activeDeadlineSeconds: 3
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: `+jobImage+`, command: ["sleep", "300"]}
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=failed", "job/deadline", "--timeout=60s")
		j := kc.wantFinished(t, "deadline", batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded)
		if c := jobCondition(j, batchv1.JobFailed); c.Message != "Job was active longer than specified deadline" {
			t.Errorf("message %q", c.Message)
		}
		if f := jobCondition(j, batchv1.JobFailed); f.LastTransitionTime.Sub(j.Status.StartTime.Time) < 3*time.Second {
			t.Errorf("failed at %v, started %v: before the deadline", f.LastTransitionTime, j.Status.StartTime)
		}
		eventually(t, 30*time.Second, "the running pod deleted", func() (bool, string) {
			pods := kc.jobPods(t, "deadline")
			return len(pods) == 0, fmt.Sprint(podPhases(pods))
		})
	})

	t.Run("suspend and resume", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: suspended}
spec:
  suspend: true
  parallelism: 2
  completions: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: `+jobImage+`, command: ["sleep", "300"]}
`, "apply", "-f", "-")
		eventually(t, 20*time.Second, "Suspended condition", func() (bool, string) {
			j := kc.job(t, "suspended")
			c := jobCondition(j, batchv1.JobSuspended)
			return c != nil && c.Reason == "JobSuspended" && c.Message == "Job suspended", fmt.Sprintf("%+v", j.Status)
		})
		if row := kc.getJobRow(t, "suspended"); row["STATUS"] != "Suspended" {
			t.Errorf("kubectl get job: %v", row)
		}
		if pods := kc.jobPods(t, "suspended"); len(pods) != 0 {
			t.Errorf("suspended job has pods %v", podPhases(pods))
		}
		kc.mustKubectl(t, "patch", "job", "suspended", "--type=merge", "-p", `{"spec":{"suspend":false}}`)
		eventually(t, 30*time.Second, "2 ready pods after resume", func() (bool, string) {
			j := kc.job(t, "suspended")
			return j.Status.Active == 2 && j.Status.Ready != nil && *j.Status.Ready == 2, fmt.Sprintf("%+v", j.Status)
		})
		j := kc.job(t, "suspended")
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobSuspended && (c.Status != corev1.ConditionFalse || c.Reason != "JobResumed") {
				t.Errorf("after resume: %+v", c)
			}
		}
		if row := kc.getJobRow(t, "suspended"); row["STATUS"] != "Running" || row["COMPLETIONS"] != "0/2" {
			t.Errorf("kubectl get job: %v", row)
		}
		kc.mustKubectl(t, "patch", "job", "suspended", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
		eventually(t, 30*time.Second, "pods deleted on suspend, not counted as failures", func() (bool, string) {
			j := kc.job(t, "suspended")
			pods := kc.jobPods(t, "suspended")
			return len(pods) == 0 && j.Status.Active == 0 && jobCondition(j, batchv1.JobSuspended) != nil,
				fmt.Sprintf("pods %v status %+v", podPhases(pods), j.Status)
		})
		if j := kc.job(t, "suspended"); j.Status.Failed != 0 {
			t.Errorf("suspension counted %d failures", j.Status.Failed)
		}
	})

	t.Run("ttlSecondsAfterFinished deletes the job and its pods", func(t *testing.T) {
		t.Parallel()
		kc.mustStdin(t, `apiVersion: batch/v1
kind: Job
metadata: {name: ttl}
spec:
  ttlSecondsAfterFinished: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: `+jobImage+`, command: ["true"]}
`, "apply", "-f", "-")
		kc.mustKubectl(t, "wait", "--for=condition=complete", "job/ttl", "--timeout=60s")
		eventually(t, 30*time.Second, "the job and its pods deleted", func() (bool, string) {
			_, err := kc.cs.BatchV1().Jobs("default").Get(context.Background(), "ttl", metav1.GetOptions{})
			pods := kc.jobPods(t, "ttl")
			return apierrors.IsNotFound(err) && len(pods) == 0, fmt.Sprintf("get: %v pods %v", err, podPhases(pods))
		})
	})
}

// events lists the events of the Job name, one "type|reason|message|source" line each.
func (kc *kubeletCluster) events(t *testing.T, name string) string {
	t.Helper()
	return kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.kind=Job,involvedObject.name="+name,
		"-o", `jsonpath={range .items[*]}{.type}|{.reason}|{.message}|{.source.component}{"\n"}{end}`)
}

func podPhases(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name+"="+string(p.Status.Phase))
	}
	return out
}
