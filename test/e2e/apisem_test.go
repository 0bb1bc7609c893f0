package e2e

// API semantics the upstream conformance suite checks, replayed with client-go and kubectl against
// `skiff server` (no kubelet runs, so this test needs no machine lock): writes through /status keep the metadata the
// upstream status strategies keep, and endpoints without a table answer as=Table with 406.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

func TestAPISemanticsConformance(t *testing.T) {
	c := startServer(t)
	rc, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// test/e2e/apimachinery/namespace.go "should apply changes to a namespace status".
	t.Run("namespace status", func(t *testing.T) {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nsstatus"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]any{
			"metadata": map[string]any{"annotations": map[string]string{"e2e-patched-ns-status": "nsstatus"}},
			"status":   map[string]any{"conditions": []corev1.NamespaceCondition{{Type: "StatusPatch", Status: corev1.ConditionTrue, Reason: "E2E", Message: "Patched by an e2e test"}}},
		})
		ns, err := cs.CoreV1().Namespaces().Patch(ctx, "nsstatus", types.MergePatchType, payload, metav1.PatchOptions{}, "status")
		if err != nil {
			t.Fatal(err)
		}
		if ns.Annotations["e2e-patched-ns-status"] != "nsstatus" || len(ns.Status.Conditions) != 1 {
			t.Fatalf("patched namespace: annotations %v conditions %v", ns.Annotations, ns.Status.Conditions)
		}
		ns.Annotations["e2e-updated-ns-status"] = "yes"
		ns.Status.Conditions = append(ns.Status.Conditions, corev1.NamespaceCondition{Type: "StatusUpdate", Status: corev1.ConditionTrue, Reason: "E2E", Message: "Updated by an e2e test"})
		if ns, err = cs.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if ns.Annotations["e2e-updated-ns-status"] != "yes" || len(ns.Status.Conditions) != 2 {
			t.Fatalf("updated namespace: annotations %v conditions %v", ns.Annotations, ns.Status.Conditions)
		}
	})

	// test/e2e/apps/job.go "should apply changes to a job status".
	t.Run("job status", func(t *testing.T) {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "jobstatus"},
			Spec: batchv1.JobSpec{Suspend: ref(true), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}},
		}
		if _, err := cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		custom := batchv1.JobConditionType("CustomConditionType")
		now := metav1.Now().Rfc3339Copy()
		st, _ := json.Marshal(batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: custom, Status: corev1.ConditionTrue, LastTransitionTime: now}}})
		j, err := cs.BatchV1().Jobs("default").Patch(ctx, "jobstatus", types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"patchedstatus":"true"}},"status":`+string(st)+`}`), metav1.PatchOptions{}, "status")
		if err != nil {
			t.Fatal(err)
		}
		cond := func(j *batchv1.Job) *batchv1.JobCondition {
			for i := range j.Status.Conditions {
				if j.Status.Conditions[i].Type == custom {
					return &j.Status.Conditions[i]
				}
			}
			return nil
		}
		if c := cond(j); j.Annotations["patchedstatus"] != "true" || c == nil || !c.LastTransitionTime.Equal(&now) {
			t.Fatalf("patched job: annotations %v conditions %v", j.Annotations, j.Status.Conditions)
		}
		later := metav1.NewTime(now.Add(time.Second))
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := cs.BatchV1().Jobs("default").Get(ctx, "jobstatus", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if c := cond(cur); c != nil {
				c.LastTransitionTime = later
			}
			j, err = cs.BatchV1().Jobs("default").UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if c := cond(j); err != nil || c == nil || !c.LastTransitionTime.Equal(&later) {
			t.Fatalf("updated job: err %v conditions %v", err, j.Status.Conditions)
		}
	})

	// test/e2e/apimachinery/table_conversion.go "should return a 406 for a backend which does not implement metadata".
	t.Run("review as Table", func(t *testing.T) {
		sar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/", Verb: "get"}}}
		table := &metav1.Table{}
		err := cs.AuthorizationV1().RESTClient().Post().Resource("selfsubjectaccessreviews").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Body(sar).Do(ctx).Into(table)
		var st apierrors.APIStatus
		if err == nil || !asAPIStatus(err, &st) || st.Status().Code != http.StatusNotAcceptable {
			t.Fatalf("SSAR as Table: err %v, table %+v", err, table)
		}
		// kubectl still gets its reviews.
		if out := c.mustKubectl(t, "auth", "can-i", "get", "pods"); strings.TrimSpace(out) != "yes" {
			t.Errorf("kubectl auth can-i: %q", out)
		}
	})

	t.Run("scale table", func(t *testing.T) {
		c.mustKubectl(t, "create", "deployment", "web", "--image=pause", "--replicas=2")
		out := c.mustKubectl(t, "get", "deployment", "web", "--subresource=scale")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME DESIRED AVAILABLE AGE" ||
			strings.Join(strings.Fields(lines[1])[:2], " ") != "web 2" {
			t.Fatalf("kubectl get --subresource=scale:\n%s", out)
		}
	})
}

func ref[T any](v T) *T { return &v }

func asAPIStatus(err error, st *apierrors.APIStatus) bool {
	s, ok := err.(apierrors.APIStatus)
	if ok {
		*st = s
	}
	return ok
}
