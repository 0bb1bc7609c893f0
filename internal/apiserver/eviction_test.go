package apiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// evictionEnv is a test server, a JSON clientset and the namespace "ev".
type evictionEnv struct {
	t  *testing.T
	ts *testServer
	cs kubernetes.Interface
}

func newEvictionEnv(t *testing.T) *evictionEnv {
	ts := newTestServer(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: ts.http.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := &evictionEnv{t: t, ts: ts, cs: cs}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ev"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// pod creates a pod labelled app=web bound to a node, in phase (Running: with Ready ready).
func (e *evictionEnv) pod(name string, phase corev1.PodPhase, ready bool) {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.cs.CoreV1().Pods("ev").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	p.Status.Phase = phase
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	if _, err := e.cs.CoreV1().Pods("ev").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// pdb creates a budget on app=web with the given status (observedGeneration set to its generation unless
// stale) and waits until the server's cache has it.
func (e *evictionEnv) pdb(name string, spec policyv1.PodDisruptionBudgetSpec, st policyv1.PodDisruptionBudgetStatus, stale bool) {
	e.t.Helper()
	ctx := context.Background()
	if spec.Selector == nil {
		spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	}
	p, err := e.cs.PolicyV1().PodDisruptionBudgets("ev").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if !stale {
		st.ObservedGeneration = p.Generation
	}
	p.Status = st
	if p, err = e.cs.PolicyV1().PodDisruptionBudgets("ev").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.waitCached(p)
}

// waitCached polls until the PDB watch cache holds obj's resourceVersion (evictions read budgets from it).
func (e *evictionEnv) waitCached(obj *policyv1.PodDisruptionBudget) {
	e.t.Helper()
	res := e.ts.api.byGVR[policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")]
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c := res.cacher.Get(res.keys.Key(obj.Namespace, obj.Name)); c != nil && accessor(c).GetResourceVersion() == obj.ResourceVersion {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("PDB %s rv %s not cached within 10s", obj.Name, obj.ResourceVersion)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *evictionEnv) evict(name string, dryRun bool) error {
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ev"}}
	if dryRun {
		ev.DeleteOptions = &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}
	}
	// No client-side retries: a 429 with Retry-After would be retried 10 times.
	return e.cs.CoreV1().RESTClient().Post().Namespace("ev").Resource("pods").Name(name).SubResource("eviction").
		Body(ev).MaxRetries(0).Do(context.Background()).Error()
}

func (e *evictionEnv) getPDB(name string) *policyv1.PodDisruptionBudget {
	e.t.Helper()
	p, err := e.cs.PolicyV1().PodDisruptionBudgets("ev").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// evicted requires that the pod is being deleted and carries DisruptionTarget=True reason EvictionByEvictionAPI.
func (e *evictionEnv) evicted(name string) {
	e.t.Helper()
	p, err := e.cs.CoreV1().Pods("ev").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if p.DeletionTimestamp == nil {
		e.t.Errorf("pod %s not being deleted", name)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			if c.Status != corev1.ConditionTrue || c.Reason != "EvictionByEvictionAPI" || c.Message != "Eviction API: evicting" {
				e.t.Errorf("pod %s condition %+v", name, c)
			}
			return
		}
	}
	e.t.Errorf("pod %s has no DisruptionTarget condition: %+v", name, p.Status.Conditions)
}

// refused requires a 429 whose DisruptionBudget cause contains want.
func refused(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("err %v, want 429", err)
	}
	if !apierrors.HasStatusCause(err, policyv1.DisruptionBudgetCause) {
		t.Fatalf("err %v has no DisruptionBudget cause", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Message != "Cannot evict pod as it would violate the pod's disruption budget." || !strings.Contains(st.Details.Causes[0].Message, want) {
		t.Fatalf("status %q cause %q, want cause containing %q", st.Message, st.Details.Causes[0].Message, want)
	}
}

func TestEvictionTakesFromTheBudget(t *testing.T) {
	e := newEvictionEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		e.pod(n, corev1.PodRunning, true)
	}
	e.pdb("budget", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2))},
		policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3, DisruptionsAllowed: 1}, false)

	// A dry run checks and changes nothing.
	if err := e.evict("a", true); err != nil {
		t.Fatal(err)
	}
	if p := e.getPDB("budget"); p.Status.DisruptionsAllowed != 1 || len(p.Status.DisruptedPods) != 0 {
		t.Fatalf("dry run changed the budget: %+v", p.Status)
	}
	if p, _ := e.cs.CoreV1().Pods("ev").Get(context.Background(), "a", metav1.GetOptions{}); p.DeletionTimestamp != nil || len(p.Status.Conditions) != 1 {
		t.Fatalf("dry run changed the pod: %+v", p)
	}

	if err := e.evict("a", false); err != nil {
		t.Fatal(err)
	}
	e.evicted("a")
	p := e.getPDB("budget")
	cond := apimeta.FindStatusCondition(p.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if p.Status.DisruptionsAllowed != 0 || p.Status.DisruptedPods["a"].Time.IsZero() || cond == nil || cond.Reason != policyv1.InsufficientPodsReason {
		t.Fatalf("budget after eviction %+v", p.Status)
	}
	e.waitCached(p)
	refused(t, e.evict("b", false), "The disruption budget budget does not allow evicting pods currently")
}

func TestEvictionUnprocessedBudget(t *testing.T) {
	e := newEvictionEnv(t)
	e.pod("a", corev1.PodRunning, true)
	e.pdb("budget", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(0))},
		policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 5}, true)
	refused(t, e.evict("a", false), "The disruption budget budget is still being processed by the server.")
}

func TestEvictionFailedSyncMessage(t *testing.T) {
	e := newEvictionEnv(t)
	e.pod("a", corev1.PodRunning, true)
	e.pdb("budget", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromString("10%"))},
		policyv1.PodDisruptionBudgetStatus{Conditions: []metav1.Condition{{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
			Reason: policyv1.SyncFailedReason, Message: `found no controllers for pod "a"`, LastTransitionTime: metav1.Now()}}}, false)
	refused(t, e.evict("a", false), `because it failed sync: found no controllers for pod "a"`)
}

// TestEvictionUnhealthyPods follows unhealthyPodEvictionPolicy: an unready pod is evicted without taking from
// the budget under AlwaysAllow, and under IfHealthyBudget (the default) only while the budget is healthy.
func TestEvictionUnhealthyPods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  *policyv1.UnhealthyPodEvictionPolicyType
		healthy int32
		allowed bool
	}{
		{"default, healthy budget", nil, 2, true},
		{"default, unhealthy budget", nil, 1, false},
		{"IfHealthyBudget, unhealthy budget", ptr.To(policyv1.IfHealthyBudget), 1, false},
		{"AlwaysAllow, unhealthy budget", ptr.To(policyv1.AlwaysAllow), 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvictionEnv(t)
			e.pod("sick", corev1.PodRunning, false)
			e.pdb("budget", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)), UnhealthyPodEvictionPolicy: tc.policy},
				policyv1.PodDisruptionBudgetStatus{CurrentHealthy: tc.healthy, DesiredHealthy: 2, ExpectedPods: 3}, false)
			err := e.evict("sick", false)
			if !tc.allowed {
				refused(t, err, "needs 2 healthy pods and has 1 currently")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e.evicted("sick")
			if p := e.getPDB("budget"); len(p.Status.DisruptedPods) != 0 {
				t.Errorf("an unready pod's eviction took from the budget: %+v", p.Status)
			}
		})
	}
}

// TestEvictionWithoutBudgetCheck deletes pending and finished pods whatever the budget, and refuses pods
// covered by two budgets.
func TestEvictionWithoutBudgetCheck(t *testing.T) {
	e := newEvictionEnv(t)
	e.pod("pending", corev1.PodPending, false)
	e.pod("done", corev1.PodSucceeded, false)
	e.pod("running", corev1.PodRunning, true)
	e.pdb("budget", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(5))},
		policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 5}, false)
	for _, n := range []string{"pending", "done"} {
		if err := e.evict(n, false); err != nil {
			t.Fatalf("evict %s: %v", n, err)
		}
		e.evicted(n)
	}
	// An empty selector selects every pod of the namespace in policy/v1.
	e.pdb("all", policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{}, MaxUnavailable: ptr.To(intstr.FromInt32(1))},
		policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}, false)
	err := e.evict("running", false)
	var st *metav1.Status
	if se, ok := err.(apierrors.APIStatus); ok {
		s := se.Status()
		st = &s
	}
	if st == nil || st.Code != 500 || st.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Fatalf("err %v (%+v), want 500 for two budgets", err, st)
	}
}
