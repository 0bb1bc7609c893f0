package e2e

// The CronJob controller through the real kubectl, on a `skiff server --disable-agent` (no kubelet, proxy or
// DNS, so no machine lock). A minute is long, so no subtest waits for a schedule time: each makes a run due at
// once by setting status.lastScheduleTime in the past through the status subresource, as a CronJob that
// missed its last start would have. Jobs never run (no nodes); the tests finish them through the Job status
// subresource, as the Job controller would, so they do not depend on it.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// cronEnv is what every CronJob subtest shares.
type cronEnv struct {
	c      *cluster
	client kubernetes.Interface
}

// TestCronJobKubectl drives CronJobs through kubectl: a due run creates its Job (name, owner, template,
// scheduled-timestamp annotation in the time zone, status and printed columns), `kubectl create job
// --from=cronjob`, history clean-up, and the Forbid, Replace and suspend policies.
func TestCronJobKubectl(t *testing.T) {
	c := startServer(t)
	env := &cronEnv{c: c, client: clientFor(t, c, nil)}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cronEnv, string)
	}{
		{"DueRunCreatesJob", testCronDueRun},
		{"HistoryCleanup", testCronHistory},
		{"ForbidThenRun", testCronForbid},
		{"ReplaceActive", testCronReplace},
		{"SuspendResume", testCronSuspend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := "cron-" + strings.ToLower(tc.name)
			c.mustKubectl(t, "create", "namespace", ns)
			tc.run(t, env, ns)
		})
	}
}

// cronJobYAML is a CronJob manifest; extra holds more spec fields, indented two spaces.
func cronJobYAML(name, schedule, extra string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
spec:
  schedule: %q
  startingDeadlineSeconds: 7200
%s  jobTemplate:
    metadata:
      labels:
        app: %s
      annotations:
        team: storage
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: work
            image: skiff.local/testapp:dev
            command: ["sh", "-c", "echo hello"]
`, name, schedule, extra, name)
}

// cronMakeDue sets status.lastScheduleTime two hours back, so that the CronJob's latest schedule time is unmet.
func cronMakeDue(t *testing.T, env *cronEnv, ns, name string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cj, err := env.client.BatchV1().CronJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cj.Status.LastScheduleTime = &metav1.Time{Time: time.Now().Add(-2 * time.Hour).Truncate(time.Hour)}
		_, err = env.client.BatchV1().CronJobs(ns).UpdateStatus(context.Background(), cj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set lastScheduleTime: %v", err)
	}
}

// cronAddActive puts job into the CronJob's status.active, as if the controller had started it.
func cronAddActive(t *testing.T, env *cronEnv, ns, name string, job *batchv1.Job) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cj, err := env.client.BatchV1().CronJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cj.Status.Active = append(cj.Status.Active, corev1.ObjectReference{
			Kind: "Job", APIVersion: "batch/v1", Namespace: ns, Name: job.Name, UID: job.UID,
		})
		cj.Status.LastScheduleTime = &metav1.Time{Time: time.Now().Add(-2 * time.Hour).Truncate(time.Hour)}
		_, err = env.client.BatchV1().CronJobs(ns).UpdateStatus(context.Background(), cj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set status.active: %v", err)
	}
}

// cronFinishJob marks a Job Complete (or Failed) through the status subresource, started at start.
func cronFinishJob(t *testing.T, env *cronEnv, ns, name string, cond batchv1.JobConditionType, start time.Time) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		j, err := env.client.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		j.Status.StartTime = &metav1.Time{Time: start}
		j.Status.Active = 0
		if cond == batchv1.JobComplete {
			j.Status.Succeeded = 1
			j.Status.CompletionTime = &now
			j.Status.Conditions = append(j.Status.Conditions,
				batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
				batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now})
		} else {
			j.Status.Failed = 1
			j.Status.Conditions = append(j.Status.Conditions,
				batchv1.JobCondition{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now, LastProbeTime: now},
				batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now, LastProbeTime: now})
		}
		_, err = env.client.BatchV1().Jobs(ns).UpdateStatus(context.Background(), j, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("finish job %s: %v", name, err)
	}
}

// cronJobNames lists the Jobs in ns, by `kubectl get jobs -o name`.
func cronJobNames(t *testing.T, env *cronEnv, ns string) []string {
	t.Helper()
	out := strings.Fields(env.c.mustKubectl(t, "get", "jobs", "-n", ns, "-o", "name"))
	for i, n := range out {
		out[i] = strings.TrimPrefix(n, "job.batch/")
	}
	return out
}

// cronWaitJobs waits until the Jobs in ns are exactly want (in name order).
func cronWaitJobs(t *testing.T, env *cronEnv, ns string, want ...string) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("jobs %v in %s", want, ns), func() (bool, string) {
		got := cronJobNames(t, env, ns)
		return strings.Join(got, ",") == strings.Join(want, ","), fmt.Sprint(got)
	})
}

// cronWaitEvent waits for an event on the CronJob whose `kubectl get events` line contains every part of want.
func cronWaitEvent(t *testing.T, env *cronEnv, ns, name string, want ...string) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("event %q on cronjob/%s", want, name), func() (bool, string) {
		out := env.c.mustKubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.kind=CronJob,involvedObject.name="+name)
		for _, l := range strings.Split(out, "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return true, ""
			}
		}
		return false, out
	})
}

// cronWaitJob waits until ns has exactly one Job and returns it.
func cronWaitJob(t *testing.T, env *cronEnv, ns string) *batchv1.Job {
	t.Helper()
	var job batchv1.Job
	eventually(t, 20*time.Second, "one job in "+ns, func() (bool, string) {
		names := cronJobNames(t, env, ns)
		if len(names) != 1 {
			return false, fmt.Sprint(names)
		}
		if err := json.Unmarshal([]byte(env.c.mustKubectl(t, "get", "job", names[0], "-n", ns, "-o", "json")), &job); err != nil {
			t.Fatal(err)
		}
		return true, ""
	})
	return &job
}

func cronGet(t *testing.T, env *cronEnv, ns, name string) *batchv1.CronJob {
	t.Helper()
	var cj batchv1.CronJob
	if err := json.Unmarshal([]byte(env.c.mustKubectl(t, "get", "cronjob", name, "-n", ns, "-o", "json")), &cj); err != nil {
		t.Fatal(err)
	}
	return &cj
}

func testCronDueRun(t *testing.T, env *cronEnv, ns string) {
	c := env.c
	c.mustStdin(t, cronJobYAML("report", "@hourly", "  timeZone: Asia/Kolkata\n"), "apply", "-n", ns, "-f", "-")
	cronMakeDue(t, env, ns, "report")
	job := cronWaitJob(t, env, ns)
	cj := cronGet(t, env, ns, "report")

	// Upstream's name: the schedule time in minutes since the epoch; @hourly in Kolkata (+05:30) is hh:30 UTC.
	stamp := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]
	scheduled, err := time.Parse(time.RFC3339, stamp)
	if err != nil || !strings.HasSuffix(stamp, ":00:00+05:30") {
		t.Fatalf("scheduled-timestamp annotation %q: want an hour in +05:30 (%v)", stamp, err)
	}
	if age := time.Since(scheduled); age < 0 || age > time.Hour {
		t.Errorf("scheduled time %v is not the latest hour", scheduled)
	}
	if want := fmt.Sprintf("report-%d", scheduled.Unix()/60); job.Name != want {
		t.Errorf("job name %s, want %s", job.Name, want)
	}
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.Kind != "CronJob" || ref.APIVersion != "batch/v1" || ref.Name != "report" || ref.UID != cj.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("job controller reference %+v, want CronJob report %s", ref, cj.UID)
	}
	if job.Labels["app"] != "report" || job.Annotations["team"] != "storage" || *job.Spec.BackoffLimit != 2 ||
		job.Spec.Template.Spec.Containers[0].Image != "skiff.local/testapp:dev" {
		t.Errorf("job does not carry the template: labels %v annotations %v spec %+v", job.Labels, job.Annotations, job.Spec)
	}

	// Status: the Job is active and lastScheduleTime is its schedule time.
	eventually(t, 10*time.Second, "status.active", func() (bool, string) {
		cj = cronGet(t, env, ns, "report")
		ok := len(cj.Status.Active) == 1 && cj.Status.Active[0].Name == job.Name && cj.Status.Active[0].UID == job.UID &&
			cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(scheduled)
		return ok, fmt.Sprintf("%+v", cj.Status)
	})
	out := c.mustKubectl(t, "get", "cronjob", "report", "-n", ns)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if hdr := strings.Fields(lines[0]); strings.Join(hdr, " ") != "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE" {
		t.Errorf("kubectl get cronjob header: %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) < 6 || f[0] != "report" || f[1] != "@hourly" || f[2] != "Asia/Kolkata" || f[3] != "False" || f[4] != "1" {
		t.Errorf("kubectl get cronjob row: %q", lines[1])
	}
	cronWaitEvent(t, env, ns, "report", "Normal", "SuccessfulCreate", "Created job "+job.Name)

	// The Job finishes: it leaves status.active and sets lastSuccessfulTime.
	cronFinishJob(t, env, ns, job.Name, batchv1.JobComplete, time.Now().Add(-time.Minute))
	cronWaitEvent(t, env, ns, "report", "SawCompletedJob", "Saw completed job: "+job.Name+", condition: Complete")
	eventually(t, 10*time.Second, "active emptied and lastSuccessfulTime", func() (bool, string) {
		cj = cronGet(t, env, ns, "report")
		return len(cj.Status.Active) == 0 && cj.Status.LastSuccessfulTime != nil, fmt.Sprintf("%+v", cj.Status)
	})
}

func testCronHistory(t *testing.T, env *cronEnv, ns string) {
	c := env.c
	// Suspended: only the jobs made here exist. Limits: 2 succeeded, 1 failed.
	c.mustStdin(t, cronJobYAML("nightly", "0 3 * * *", "  suspend: true\n  successfulJobsHistoryLimit: 2\n"), "apply", "-n", ns, "-f", "-")
	names := []string{"m-1", "m-2", "m-3", "m-4", "f-1", "f-2"}
	for _, n := range names {
		out := c.mustKubectl(t, "create", "job", n, "--from=cronjob/nightly", "-n", ns)
		if strings.TrimSpace(out) != "job.batch/"+n+" created" {
			t.Fatalf("kubectl create job --from: %q", out)
		}
	}
	// kubectl marks a manual run and makes the CronJob its controller; the controller notices it did not start it.
	job := cronWaitJobByName(t, env, ns, "m-1")
	if job.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" || metav1.GetControllerOf(job) == nil || metav1.GetControllerOf(job).Name != "nightly" {
		t.Errorf("manual job: annotations %v owner %+v", job.Annotations, job.OwnerReferences)
	}
	cronWaitEvent(t, env, ns, "nightly", "Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot")

	base := time.Now().Add(-time.Hour)
	for i, n := range names {
		cond := batchv1.JobComplete
		if strings.HasPrefix(n, "f-") {
			cond = batchv1.JobFailed
		}
		cronFinishJob(t, env, ns, n, cond, base.Add(time.Duration(i)*time.Minute))
	}
	// The oldest starts go: two of four succeeded and one of two failed remain.
	cronWaitJobs(t, env, ns, "f-2", "m-3", "m-4")
	for _, n := range []string{"m-1", "m-2", "f-1"} {
		cronWaitEvent(t, env, ns, "nightly", "Normal", "SuccessfulDelete", "Deleted job "+n)
	}
	eventually(t, 10*time.Second, "lastSuccessfulTime", func() (bool, string) {
		cj := cronGet(t, env, ns, "nightly")
		return cj.Status.LastSuccessfulTime != nil, fmt.Sprintf("%+v", cj.Status)
	})
}

func cronWaitJobByName(t *testing.T, env *cronEnv, ns, name string) *batchv1.Job {
	t.Helper()
	var job batchv1.Job
	if err := json.Unmarshal([]byte(env.c.mustKubectl(t, "get", "job", name, "-n", ns, "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	return &job
}

func testCronForbid(t *testing.T, env *cronEnv, ns string) {
	c := env.c
	c.mustStdin(t, cronJobYAML("sync", "*/10 * * * *", "  concurrencyPolicy: Forbid\n"), "apply", "-n", ns, "-f", "-")
	c.mustKubectl(t, "create", "job", "earlier", "--from=cronjob/sync", "-n", ns)
	cronAddActive(t, env, ns, "sync", cronWaitJobByName(t, env, ns, "earlier"))
	cronWaitEvent(t, env, ns, "sync", "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
	if got := cronJobNames(t, env, ns); strings.Join(got, ",") != "earlier" {
		t.Fatalf("Forbid started a job while one was active: %v", got)
	}
	// Once the active run finishes, the due run starts.
	cronFinishJob(t, env, ns, "earlier", batchv1.JobComplete, time.Now().Add(-time.Minute))
	eventually(t, 20*time.Second, "the due run after the active one finished", func() (bool, string) {
		got := cronJobNames(t, env, ns)
		return len(got) == 2 && strings.HasPrefix(got[0]+got[1], "earliersync-"), fmt.Sprint(got)
	})
}

func testCronReplace(t *testing.T, env *cronEnv, ns string) {
	c := env.c
	c.mustStdin(t, cronJobYAML("refresh", "*/10 * * * *", "  concurrencyPolicy: Replace\n"), "apply", "-n", ns, "-f", "-")
	c.mustKubectl(t, "create", "job", "stale", "--from=cronjob/refresh", "-n", ns)
	cronAddActive(t, env, ns, "refresh", cronWaitJobByName(t, env, ns, "stale"))
	job := cronWaitJob(t, env, ns) // "stale" is deleted and the due run created
	if !strings.HasPrefix(job.Name, "refresh-") {
		t.Fatalf("remaining job %s, want the due run", job.Name)
	}
	cronWaitEvent(t, env, ns, "refresh", "Normal", "SuccessfulDelete", "Deleted job stale")
	eventually(t, 10*time.Second, "status.active holds only the new run", func() (bool, string) {
		cj := cronGet(t, env, ns, "refresh")
		return len(cj.Status.Active) == 1 && cj.Status.Active[0].Name == job.Name, fmt.Sprintf("%+v", cj.Status.Active)
	})
}

func testCronSuspend(t *testing.T, env *cronEnv, ns string) {
	c := env.c
	c.mustStdin(t, cronJobYAML("paused", "*/10 * * * *", "  suspend: true\n"), "apply", "-n", ns, "-f", "-")
	cronMakeDue(t, env, ns, "paused")
	// A run is due but the CronJob is suspended; a second, unsuspended CronJob made due after it shows that
	// the controller has caught up with this namespace.
	c.mustStdin(t, cronJobYAML("witness", "*/10 * * * *", ""), "apply", "-n", ns, "-f", "-")
	cronMakeDue(t, env, ns, "witness")
	eventually(t, 20*time.Second, "the witness run", func() (bool, string) {
		got := cronJobNames(t, env, ns)
		return len(got) == 1 && strings.HasPrefix(got[0], "witness-"), fmt.Sprint(got)
	})
	// The row ends SUSPEND ACTIVE LAST-SCHEDULE AGE (the schedule itself holds spaces).
	out := c.mustKubectl(t, "get", "cronjob", "paused", "-n", ns, "--no-headers")
	if f := strings.Fields(out); f[len(f)-4] != "True" || f[len(f)-3] != "0" {
		t.Errorf("SUSPEND/ACTIVE columns: %q", out)
	}
	c.mustKubectl(t, "patch", "cronjob", "paused", "-n", ns, "-p", `{"spec":{"suspend":false}}`)
	eventually(t, 20*time.Second, "the run after resume", func() (bool, string) {
		got := cronJobNames(t, env, ns)
		return len(got) == 2 && strings.HasPrefix(got[0], "paused-"), fmt.Sprint(got)
	})
}
