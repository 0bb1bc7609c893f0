package disruption

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t   *testing.T
	c   *Controller
	clk *clock.Fake
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 1000, objs...), t: t, clk: clock.NewFake(now)}
	c, err := newController(f.Context(f.clk))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) syncPDB() time.Duration {
	f.t.Helper()
	f.Client.ClearActions()
	res, err := f.c.sync(context.Background(), key{ObjectName: cache.ObjectName{Namespace: "ns", Name: "budget"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.RequeueAfter
}

// status returns the PDB's status as stored, and caches the stored PDB as the informer would.
func (f *fixture) status() policyv1.PodDisruptionBudgetStatus {
	f.t.Helper()
	pdb, err := f.Client.PolicyV1().PodDisruptionBudgets("ns").Get(context.Background(), "budget", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.Cache(pdb)
	return pdb.Status
}

func uidOwned(p *corev1.Pod, apiVersion, kind, name string, uid types.UID) *corev1.Pod {
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
	return p
}

// TestControllerScales finds each workload kind's scale through the caches, as upstream's finders do.
func TestControllerScales(t *testing.T) {
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "d-uid"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](4)}}
	deployRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "ns", UID: "drs-uid",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-uid", Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2)}}
	bareRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns", UID: "rs-uid"}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)}}
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "ss-uid"}, Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](5)}}
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "ns", UID: "rc-uid"}, Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](6)}}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		want    int32
		wantErr string
	}{
		{"deployment through its replicaset", uidOwned(mkPod("p"), "apps/v1", "ReplicaSet", "web-abc", "drs-uid"), 4, ""},
		{"replicaset without deployment", uidOwned(mkPod("p"), "apps/v1", "ReplicaSet", "bare", "rs-uid"), 3, ""},
		{"statefulset", uidOwned(mkPod("p"), "apps/v1", "StatefulSet", "db", "ss-uid"), 5, ""},
		{"replicationcontroller", uidOwned(mkPod("p"), "v1", "ReplicationController", "old", "rc-uid"), 6, ""},
		{"replaced controller (other UID)", uidOwned(mkPod("p"), "apps/v1", "ReplicaSet", "bare", "old-uid"), 0, `found no controllers for pod "p"`},
		{"unknown kind without a scale finder", uidOwned(mkPod("p"), "example.com/v1", "Widget", "w", "w-uid"), 0, `found no controllers for pod "p"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdb := newPDB(nil, ptr.To(intstr.FromInt32(1)))
			f := newFixture(t, pdb, tc.pod, deploy, deployRS, bareRS, ss, rc)
			f.syncPDB()
			st := f.status()
			cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
			if tc.wantErr != "" {
				if cond == nil || cond.Reason != policyv1.SyncFailedReason || cond.Message != tc.wantErr || st.ObservedGeneration != 0 {
					t.Fatalf("status %+v, want SyncFailed %q", st, tc.wantErr)
				}
				return
			}
			if st.ExpectedPods != tc.want || st.DesiredHealthy != tc.want-1 || st.ObservedGeneration != pdb.Generation {
				t.Fatalf("status %+v, want expectedPods %d", st, tc.want)
			}
		})
	}
}

// TestScaleSubresourceFinder reads other kinds' scale through the extra finder and keeps upstream's UID check.
func TestScaleSubresourceFinder(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromString("50%")), nil)
	pod := uidOwned(mkPod("p"), "example.com/v1", "Widget", "w", "w-uid")
	f := newFixture(t, pdb, pod)
	f.c.scaleOf = func(_ context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
		if ref.Kind != "Widget" || ns != "ns" {
			return nil, nil
		}
		return &ControllerScale{UID: "w-uid", Scale: 8}, nil
	}
	f.syncPDB()
	if st := f.status(); st.ExpectedPods != 8 || st.DesiredHealthy != 4 {
		t.Fatalf("status %+v", st)
	}
}

// TestDisruptedPodsExpire follows one eviction through the fake clock: the pod is not counted while its
// disruptedPods entry is pending, the PDB is requeued for the expiry, and after it the entry is dropped.
func TestDisruptedPodsExpire(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(2)), nil)
	pdb.Status.DisruptedPods = map[string]metav1.Time{"a": metav1.NewTime(now.Add(-30 * time.Second))}
	f := newFixture(t, pdb, mkPod("a"), mkPod("b"), mkPod("c"))
	if after := f.syncPDB(); after != 90*time.Second {
		t.Fatalf("requeue after %v, want 90s", after)
	}
	if st := f.status(); st.CurrentHealthy != 2 || st.DisruptionsAllowed != 0 || len(st.DisruptedPods) != 1 {
		t.Fatalf("pending: %+v", st)
	}
	f.clk.Step(89 * time.Second)
	if after := f.syncPDB(); after != time.Second {
		t.Fatalf("requeue after %v, want 1s", after)
	}
	f.clk.Step(2 * time.Second)
	if after := f.syncPDB(); after != 0 {
		t.Fatalf("requeue after %v once nothing is pending", after)
	}
	st := f.status()
	if st.CurrentHealthy != 3 || st.DisruptionsAllowed != 1 || len(st.DisruptedPods) != 0 {
		t.Fatalf("expired: %+v", st)
	}
	ev := controllertest.Events(f.Recorder)
	if fmt.Sprint(ev) != "[Warning NotDeleted Pod was expected by PDB ns/ns to be deleted but it wasn't]" {
		t.Errorf("events %q", ev)
	}
	// Nothing changed: no write.
	f.syncPDB()
	if w := controllertest.Writes(f.Client.Actions()); len(w) != 0 {
		t.Errorf("writes %v for an unchanged status", w)
	}
}

// TestDisruptedPodDeleted drops the entry of a pod that the cache shows being deleted, and does not count it.
func TestDisruptedPodDeleted(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	pdb.Status.DisruptedPods = map[string]metav1.Time{"a": metav1.NewTime(now)}
	f := newFixture(t, pdb, mkPod("a", deleting), mkPod("b"), mkPod("c"))
	f.syncPDB()
	if st := f.status(); st.CurrentHealthy != 2 || st.DisruptionsAllowed != 1 || len(st.DisruptedPods) != 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestWriteFailureFailsSafe writes the fail-safe status when the status write fails with something other
// than a conflict, as upstream.
func TestWriteFailureFailsSafe(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1, ObservedGeneration: 1}
	f := newFixture(t, pdb, mkPod("a"), mkPod("b"), mkPod("c"))
	calls := 0
	f.Client.PrependReactor("update", "poddisruptionbudgets", func(a core.Action) (bool, runtime.Object, error) {
		calls++
		if calls == 1 {
			return true, nil, apierrors.NewInternalError(errors.New("disk full"))
		}
		return false, nil, nil
	})
	f.syncPDB()
	st := f.status()
	cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if calls != 2 || st.DisruptionsAllowed != 0 || st.ObservedGeneration != 1 || cond == nil || cond.Reason != policyv1.SyncFailedReason {
		t.Fatalf("calls %d status %+v", calls, st)
	}

	// A conflict is retried, not failed safe.
	f.Client.PrependReactor("update", "poddisruptionbudgets", func(a core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "policy", Resource: "poddisruptionbudgets"}, "budget", errors.New("stale"))
	})
	if _, err := f.c.sync(context.Background(), key{ObjectName: cache.ObjectName{Namespace: "ns", Name: "budget"}}); !apierrors.IsConflict(err) {
		t.Fatalf("err %v, want the conflict", err)
	}
}

// TestPodEventsQueueBudgets queues every budget selecting a changed pod, and a stale-condition check for a pod
// carrying DisruptionTarget=True.
func TestPodEventsQueueBudgets(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	other := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	other.Name = "other"
	unrelated := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	unrelated.Name, unrelated.Spec.Selector = "unrelated", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
	f := newFixture(t, pdb, other, unrelated)
	pod := mkPod("a")
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", LastTransitionTime: metav1.NewTime(now.Add(-3 * time.Minute))})
	f.c.podChanged(pod, true)
	got := map[key]bool{}
	for f.c.queue.Len() > 0 {
		k, _ := f.c.queue.Get()
		got[k] = true
		f.c.queue.Done(k)
	}
	want := []key{{ObjectName: cache.ObjectName{Namespace: "ns", Name: "budget"}}, {ObjectName: cache.ObjectName{Namespace: "ns", Name: "other"}},
		{Pod: true, ObjectName: cache.ObjectName{Namespace: "ns", Name: "a"}}}
	if len(got) != len(want) {
		t.Fatalf("queued %v, want %v", got, want)
	}
	for _, k := range want {
		if !got[k] {
			t.Errorf("%v not queued (queued %v)", k, got)
		}
	}
	if ev := controllertest.Events(f.Recorder); len(ev) != 1 || ev[0] != `Warning MultiplePodDisruptionBudgets Pod "ns"/"a" matches multiple PodDisruptionBudgets.  Chose "budget" arbitrarily.` &&
		ev[0] != `Warning MultiplePodDisruptionBudgets Pod "ns"/"a" matches multiple PodDisruptionBudgets.  Chose "other" arbitrarily.` {
		t.Errorf("events %q", ev)
	}
}

// TestStalePodDisruptionCleanup sets a stale DisruptionTarget condition to False once it is 2 minutes old.
func TestStalePodDisruptionCleanup(t *testing.T) {
	pod := mkPod("a")
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))})
	f := newFixture(t, pod)
	k := key{Pod: true, ObjectName: cache.ObjectName{Namespace: "ns", Name: "a"}}
	res, err := f.c.sync(context.Background(), k)
	if err != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("fresh condition: requeue %v err %v", res.RequeueAfter, err)
	}
	if w := controllertest.Writes(f.Client.Actions()); len(w) != 0 {
		t.Fatalf("writes %v before the condition is stale", w)
	}
	f.clk.Step(time.Minute)
	if _, err := f.c.sync(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	got, err := f.Client.CoreV1().Pods("ns").Get(context.Background(), "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Status.Conditions[1]
	if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionFalse || c.Reason != "" || !c.LastTransitionTime.Time.Equal(f.clk.Now()) {
		t.Fatalf("condition %+v", c)
	}
	if w := controllertest.Writes(f.Client.Actions()); fmt.Sprint(w) != "[update pods/status]" {
		t.Errorf("writes %v", w)
	}
}

// TestDeletedPDB is done.
func TestDeletedPDB(t *testing.T) {
	f := newFixture(t)
	f.Client.ClearActions()
	if _, err := f.c.sync(context.Background(), key{ObjectName: cache.ObjectName{Namespace: "ns", Name: "budget"}}); err != nil {
		t.Fatal(err)
	}
	if w := controllertest.Writes(f.Client.Actions()); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
}

// TestScaleFinderReadsScaleSubresource reads an arbitrary kind's /scale as upstream's getScaleController: the
// scale's replicas when its UID matches, nothing for another UID, and an error when the resource serves no
// /scale at all.
func TestScaleFinderReadsScaleSubresource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/example.com/v1/namespaces/ns/widgets/w/scale":
			fmt.Fprint(w, `{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"w","namespace":"ns","uid":"w-uid"},"spec":{"replicas":7}}`)
		case "/apis/example.com/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"example.com/v1","resources":[`+
				`{"name":"widgets","namespaced":true,"kind":"Widget","verbs":["get"]},`+
				`{"name":"widgets/scale","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get"]},`+
				`{"name":"gadgets","namespaced":true,"kind":"Gadget","verbs":["get"]}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	gv := schema.GroupVersion{Group: "example.com", Version: "v1"}
	mapper := apimeta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
	mapper.Add(gv.WithKind("Widget"), apimeta.RESTScopeNamespace)
	mapper.Add(gv.WithKind("Gadget"), apimeta.RESTScopeNamespace)
	find := scaleFinder(cs, mapper, cs.Discovery())
	ref := func(kind, name string, uid types.UID) *metav1.OwnerReference {
		return &metav1.OwnerReference{APIVersion: "example.com/v1", Kind: kind, Name: name, UID: uid}
	}
	ctx := context.Background()
	if got, err := find(ctx, ref("Widget", "w", "w-uid"), "ns"); err != nil || got == nil || got.Scale != 7 || got.UID != "w-uid" {
		t.Errorf("widget: %+v %v", got, err)
	}
	if got, err := find(ctx, ref("Widget", "w", "other"), "ns"); err != nil || got != nil {
		t.Errorf("widget with another UID: %+v %v", got, err)
	}
	if got, err := find(ctx, ref("Widget", "gone", "g"), "ns"); err != nil || got != nil {
		t.Errorf("missing widget: %+v %v", got, err)
	}
	if _, err := find(ctx, ref("Gadget", "g", "g"), "ns"); err == nil || err.Error() != "gadgets.example.com does not implement the scale subresource" {
		t.Errorf("gadget: %v", err)
	}
}
