package replicaset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	f.NameGeneratedPods()
	c, err := newController(f.Context(f.clk))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync(key string) error {
	f.Client.ClearActions()
	_, err := f.c.sync(context.Background(), key)
	return err
}

// actions lists "verb resource[/sub]" of the writes made.
func (f *fixture) actions() []string { return controllertest.Writes(f.Client.Actions()) }

func (f *fixture) events() []string { return controllertest.Events(f.Recorder) }

func owned(p *corev1.Pod, rs *appsv1.ReplicaSet) *corev1.Pod {
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}
	return p
}

func TestSyncCreatesPods(t *testing.T) {
	rs := newRS(3)
	f := newFixture(t, rs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	got := f.actions()
	if fmt.Sprint(got) != "[create pods create pods create pods update replicasets/status]" {
		t.Fatalf("actions %v", got)
	}
	pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 3 {
		t.Fatalf("%d pods", len(pods.Items))
	}
	for _, p := range pods.Items {
		ref := metav1.GetControllerOf(&p)
		if p.GenerateName != "web-" || ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || !*ref.BlockOwnerDeletion || p.Labels["tier"] != "fe" {
			t.Errorf("pod %s: generateName %q ref %+v labels %v", p.Name, p.GenerateName, ref, p.Labels)
		}
	}
	ev := f.events()
	if len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Errorf("events %q", ev)
	}
	st, _ := f.Client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if st.Status.ObservedGeneration != rs.Generation || st.Status.Replicas != 0 {
		t.Errorf("status %+v (pods not in the cache yet)", st.Status)
	}
	// The cache has not seen the pods: expectations stop a second round of creations.
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.actions() {
		if a == "create pods" {
			t.Fatal("created again while the cache lags")
		}
	}
	// The informer reports the pods: expectations are met.
	for i := range pods.Items {
		f.c.pods.AddPod(&pods.Items[i])
		_ = f.Factory.Core().V1().Pods().Informer().GetIndexer().Add(&pods.Items[i])
	}
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("expectations not satisfied after observing the pods")
	}
}

func TestSyncDeletesPods(t *testing.T) {
	rs := newRS(1)
	rs.Status.ObservedGeneration = rs.Generation
	keep := owned(mkPod("keep", "n1", corev1.PodRunning, time.Hour, time.Hour), rs)
	gone := owned(mkPod("gone", "n1", corev1.PodRunning, -1, time.Minute), rs)
	f := newFixture(t, rs, keep, gone)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.Client.Actions() {
		if d, ok := a.(core.DeleteAction); ok {
			deleted = append(deleted, d.GetName())
		}
	}
	if fmt.Sprint(deleted) != "[gone]" {
		t.Errorf("deleted %v", deleted)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != "Normal SuccessfulDelete Deleted pod: gone" {
		t.Errorf("events %q", ev)
	}
	if a, d := f.c.expectations.Pending("ns/web"); a != 0 || d != 1 {
		t.Errorf("expectations %d %d", a, d)
	}
	f.c.pods.DeletePod(gone)
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("deletion observed")
	}
}

func TestSyncAdoptsAndReleases(t *testing.T) {
	rs := newRS(2)
	orphan := mkPod("orphan", "n1", corev1.PodRunning, time.Hour, time.Hour)
	stray := owned(mkPod("stray", "n1", corev1.PodRunning, time.Hour, time.Hour), rs)
	stray.Labels = map[string]string{"app": "other"}
	mine := owned(mkPod("mine", "n1", corev1.PodRunning, time.Hour, time.Hour), rs)
	f := newFixture(t, rs, orphan, stray, mine)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	var patched []string
	for _, a := range f.Client.Actions() {
		if p, ok := a.(core.PatchAction); ok {
			patched = append(patched, p.GetName()+":"+string(p.GetPatchType()))
		}
	}
	if fmt.Sprint(patched) != "[stray:application/strategic-merge-patch+json orphan:application/strategic-merge-patch+json]" {
		t.Errorf("patches %v", patched)
	}
	p, _ := f.Client.CoreV1().Pods("ns").Get(context.Background(), "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != rs.UID {
		t.Errorf("orphan not adopted: %+v", p.OwnerReferences)
	}
	p, _ = f.Client.CoreV1().Pods("ns").Get(context.Background(), "stray", metav1.GetOptions{})
	if len(p.OwnerReferences) != 0 {
		t.Errorf("stray not released: %+v", p.OwnerReferences)
	}
	for _, a := range f.actions() {
		if a == "create pods" || a == "delete pods" {
			t.Errorf("adopted pod should make the count right: %v", f.actions())
		}
	}
	st, _ := f.Client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if st.Status.Replicas != 2 || st.Status.ReadyReplicas != 2 {
		t.Errorf("status %+v", st.Status)
	}
}

func TestSyncNoAdoptionWhenReplicaSetReplaced(t *testing.T) {
	rs := newRS(1)
	f := newFixture(t, mkPod("orphan", "n1", corev1.PodRunning, time.Hour, time.Hour))
	// The cache still has the old ReplicaSet; the server has a new one with another UID.
	fresh := rs.DeepCopy()
	fresh.UID = "other"
	_, _ = f.Client.AppsV1().ReplicaSets("ns").Create(context.Background(), fresh, metav1.CreateOptions{})
	_ = f.Factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(rs)
	if err := f.sync("ns/web"); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("err %v", err)
	}
}

func TestSyncCreateFailure(t *testing.T) {
	rs := newRS(5)
	f := newFixture(t, rs)
	var calls atomic.Int32
	f.Client.PrependReactor("create", "pods", func(a core.Action) (bool, runtime.Object, error) {
		if calls.Add(1) >= 2 {
			return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("exceeded quota"))
		}
		return false, nil, nil
	})
	err := f.sync("ns/web")
	if err == nil {
		t.Fatal("want error")
	}
	// Slow start: batch 1 succeeds, batch 2 (two calls) fails, the rest is never tried.
	if c := calls.Load(); c != 3 {
		t.Errorf("%d create calls, want 3", c)
	}
	ev := f.events()
	var failed int
	for _, e := range ev {
		if strings.HasPrefix(e, "Warning FailedCreate Error creating: ") {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("events %q", ev)
	}
	if a, _ := f.c.expectations.Pending("ns/web"); a != 1 {
		t.Errorf("pending creations %d, want 1 (only the successful one)", a)
	}
	st, _ := f.Client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if len(st.Status.Conditions) != 1 || st.Status.Conditions[0].Reason != ReasonFailedCreate {
		t.Errorf("conditions %+v", st.Status.Conditions)
	}
}

func TestSyncNotFound(t *testing.T) {
	f := newFixture(t)
	f.c.expectations.ExpectCreations("ns/web", 1)
	if err := f.sync("ns/web"); err != nil || len(f.actions()) != 0 {
		t.Fatalf("err %v actions %v", err, f.actions())
	}
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("expectations of a deleted ReplicaSet must be dropped")
	}
}

func TestSyncBeingDeletedOnlyStatus(t *testing.T) {
	rs := newRS(3)
	ts := metav1.NewTime(now)
	rs.DeletionTimestamp = &ts
	f := newFixture(t, rs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.actions()) != "[update replicasets/status]" {
		t.Errorf("actions %v", f.actions())
	}
}

func TestEventHandlersEnqueue(t *testing.T) {
	rs := newRS(1)
	f := newFixture(t, rs)
	drain := func() []string {
		var keys []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			keys = append(keys, k)
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
		}
		return keys
	}
	orphan := mkPod("o", "n1", corev1.PodPending, -1, time.Minute)
	f.c.pods.AddPod(orphan)
	if k := drain(); fmt.Sprint(k) != "[ns/web]" {
		t.Errorf("orphan add: %v", k)
	}
	p := owned(mkPod("p", "n1", corev1.PodPending, -1, time.Minute), rs)
	p.ResourceVersion = "1"
	cur := p.DeepCopy()
	cur.ResourceVersion = "2"
	cur.Status.Phase = corev1.PodRunning
	f.c.pods.UpdatePod(p, cur)
	if k := drain(); fmt.Sprint(k) != "[ns/web]" {
		t.Errorf("owned update: %v", k)
	}
	f.c.pods.UpdatePod(p, p)
	if k := drain(); len(k) != 0 {
		t.Errorf("resync without change: %v", k)
	}
	other := mkPod("x", "n1", corev1.PodPending, -1, time.Minute)
	other.Labels = map[string]string{"app": "db"}
	f.c.pods.AddPod(other)
	if k := drain(); len(k) != 0 {
		t.Errorf("non-matching orphan: %v", k)
	}
	if f.c.Name() != "replicaset" {
		t.Error("name")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	rs := newRS(1)
	f := newFixture(t, rs)
	ctx, cancel := context.WithCancel(context.Background())
	f.Factory.Start(ctx.Done())
	done := make(chan error)
	go func() { done <- f.c.Run(ctx, 2) }()
	deadline := time.After(10 * time.Second)
	for {
		pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
		if len(pods.Items) == 1 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("no pod created by the running controller")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.Factory.Shutdown()
}

func TestSyncScaleDownUsesSiblingRanks(t *testing.T) {
	ctrl := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "d", UID: "d-uid", Controller: ptr.To(true)}
	rs := newRS(1)
	rs.OwnerReferences = []metav1.OwnerReference{ctrl}
	sibling := newRS(1)
	sibling.Name, sibling.UID = "web-other", "other-uid"
	sibling.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	sibling.OwnerReferences = []metav1.OwnerReference{ctrl}
	// Both of rs's pods are equal but for their node; n2 also runs the sibling's pod, so "crowded" goes.
	alone := owned(mkPod("alone", "n1", corev1.PodRunning, time.Hour, time.Hour), rs)
	crowded := owned(mkPod("crowded", "n2", corev1.PodRunning, time.Hour, 48*time.Hour), rs) // older: without ranks "alone" would go
	sib := owned(mkPod("sib", "n2", corev1.PodRunning, time.Hour, time.Hour), sibling)
	sib.Labels = map[string]string{"app": "web", "v": "2"}
	f := newFixture(t, rs, sibling, alone, crowded, sib)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.Client.Actions() {
		if d, ok := a.(core.DeleteAction); ok {
			deleted = append(deleted, d.GetName())
		}
	}
	if fmt.Sprint(deleted) != "[crowded]" {
		t.Errorf("deleted %v", deleted)
	}
}

func TestSyncDeleteNotFoundIsNotAnError(t *testing.T) {
	rs := newRS(0)
	p := owned(mkPod("p", "n1", corev1.PodRunning, -1, time.Minute), rs)
	f := newFixture(t, rs)
	_ = f.Factory.Core().V1().Pods().Informer().GetIndexer().Add(p) // in the cache, already gone from the server
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("a deletion that found nothing must not be expected")
	}
	if ev := f.events(); len(ev) != 0 {
		t.Errorf("events %q", ev)
	}
}

func TestSyncMinReadySecondsRequeue(t *testing.T) {
	rs := newRS(1)
	rs.Spec.MinReadySeconds = 20
	p := owned(mkPod("p", "n1", corev1.PodRunning, 5*time.Second, time.Minute), rs)
	f := newFixture(t, rs, p)
	res, err := f.c.sync(context.Background(), "ns/web")
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 20*time.Second {
		t.Errorf("requeue %v, want 20s", res.RequeueAfter)
	}
	st, _ := f.Client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if st.Status.ReadyReplicas != 1 || st.Status.AvailableReplicas != 0 {
		t.Errorf("status %+v", st.Status)
	}
	// 20 s later the pod counts as available.
	f.clk.Step(20 * time.Second)
	if _, err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	st, _ = f.Client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if st.Status.AvailableReplicas != 1 {
		t.Errorf("status after minReadySeconds %+v", st.Status)
	}
}

func TestSyncStatusConflictRetriesOnce(t *testing.T) {
	rs := newRS(0)
	f := newFixture(t, rs)
	var n atomic.Int32
	f.Client.PrependReactor("update", "replicasets", func(a core.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && n.Add(1) == 1 {
			return true, nil, apierrors.NewConflict(appsv1.Resource("replicasets"), "web", errors.New("stale"))
		}
		return false, nil, nil
	})
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("%d status writes, want 2", n.Load())
	}
}

func TestPodHandlers(t *testing.T) {
	rs := newRS(1)
	other := newRS(1)
	other.Name, other.UID = "other", "other-uid"
	other.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
	f := newFixture(t, rs, other)
	drain := func() []string {
		var keys []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			keys = append(keys, k)
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
		}
		return keys
	}
	p := owned(mkPod("p", "n1", corev1.PodRunning, -1, time.Minute), rs)
	p.ResourceVersion = "1"

	// Graceful deletion starts: counted as a deletion now.
	f.c.expectations.ExpectDeletions("ns/web", []string{"ns/p"})
	cur := p.DeepCopy()
	cur.ResourceVersion = "2"
	ts := metav1.NewTime(now)
	cur.DeletionTimestamp = &ts
	f.c.pods.UpdatePod(p, cur)
	if !f.c.expectations.Satisfied("ns/web") || fmt.Sprint(drain()) != "[ns/web]" {
		t.Error("graceful deletion not observed")
	}

	// Released by rs and adopted by other: both are synced.
	cur = p.DeepCopy()
	cur.ResourceVersion = "3"
	cur.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "other", UID: "other-uid", Controller: ptr.To(true)}}
	f.c.pods.UpdatePod(p, cur)
	if got := fmt.Sprint(drain()); got != "[ns/web ns/other]" {
		t.Errorf("owner change: %s", got)
	}

	// An orphan whose labels change is offered to the ReplicaSets that now match.
	orphan := mkPod("o", "n1", corev1.PodRunning, -1, time.Minute)
	orphan.ResourceVersion = "1"
	relabelled := orphan.DeepCopy()
	relabelled.ResourceVersion = "2"
	relabelled.Labels = map[string]string{"app": "other"}
	f.c.pods.UpdatePod(orphan, relabelled)
	if got := fmt.Sprint(drain()); got != "[ns/other]" {
		t.Errorf("relabelled orphan: %s", got)
	}

	// Owner references to something else, or to a ReplicaSet not in the cache, are ignored.
	ghost := owned(mkPod("g", "n1", corev1.PodRunning, -1, time.Minute), rs)
	ghost.OwnerReferences[0].UID = "gone"
	f.c.pods.AddPod(ghost)
	f.c.pods.DeletePod(cache.DeletedFinalStateUnknown{Key: "ns/g", Obj: ghost})
	if got := drain(); len(got) != 0 {
		t.Errorf("stale owner: %v", got)
	}

	// Deleted ReplicaSet: its expectations go.
	f.c.expectations.ExpectCreations("ns/web", 3)
	f.c.rsEvents.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/web", Obj: rs})
	if !f.c.expectations.Satisfied("ns/web") || fmt.Sprint(drain()) != "[ns/web]" {
		t.Error("deleted replica set")
	}
}
