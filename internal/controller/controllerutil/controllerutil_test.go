package controllerutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func unassigned(p *corev1.Pod)        { p.Spec.NodeName = "" }
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func created(ago time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now.Add(-ago)) }
}
func restarts(n int32) podOpt {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: n}} }
}
func cost(v string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{PodDeletionCostAnnotation: v} }
}
func ready(since time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-since))}}
	}
}

func TestSortPodsForDeletion(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first, last  *corev1.Pod
		rFirst, rLst int
	}{
		{"unassigned before assigned", pod("a", unassigned, ready(time.Hour)), pod("b", phase(corev1.PodPending)), 0, 0},
		{"pending before unknown", pod("a", phase(corev1.PodPending)), pod("b", phase(corev1.PodUnknown)), 0, 0},
		{"unknown before running", pod("a", phase(corev1.PodUnknown)), pod("b"), 0, 0},
		{"not ready before ready", pod("a", created(time.Second)), pod("b", ready(time.Minute), created(time.Second)), 0, 0},
		{"lower deletion cost first", pod("a", ready(time.Minute), cost("-5")), pod("b", ready(time.Second), cost("10")), 0, 0},
		{"invalid cost counts as 0", pod("a", cost("x")), pod("b", cost("1")), 0, 0},
		{"doubled up first", pod("a", ready(time.Hour)), pod("b", ready(time.Second)), 3, 1},
		{"ready more recently first", pod("a", ready(time.Second)), pod("b", ready(time.Hour)), 0, 0},
		{"more restarts first", pod("a", ready(time.Hour), restarts(5)), pod("b", ready(time.Hour), restarts(1)), 0, 0},
		{"newer first", pod("a", created(time.Minute)), pod("b", created(24*time.Hour)), 0, 0},
		{"zero creation time first", pod("a", created(0), func(p *corev1.Pod) { p.CreationTimestamp = metav1.Time{} }), pod("b", created(time.Second)), 0, 0},
		{"same log2 bucket: by UID", pod("a", created(100*time.Second)), pod("b", created(70*time.Second)), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]*corev1.Pod{{tc.first, tc.last}, {tc.last, tc.first}} {
				ranks := []int{tc.rFirst, tc.rLst}
				if order[0] != tc.first {
					ranks = []int{tc.rLst, tc.rFirst}
				}
				pods := append([]*corev1.Pod(nil), order...)
				SortPodsForDeletion(pods, ranks, now)
				if pods[0] != tc.first {
					t.Errorf("got %s first, want %s", pods[0].Name, tc.first.Name)
				}
			}
		})
	}
}

func TestPodPredicates(t *testing.T) {
	p := pod("a", ready(10*time.Second))
	if !IsPodActive(p) || !IsPodReady(p) {
		t.Fatal("running ready pod")
	}
	if !IsPodAvailable(p, 0, now) || !IsPodAvailable(p, 5, now) || IsPodAvailable(p, 10, now) || IsPodAvailable(p, 30, now) {
		t.Error("availability vs minReadySeconds")
	}
	ts := metav1.NewTime(now)
	for _, q := range []*corev1.Pod{pod("b", phase(corev1.PodSucceeded)), pod("c", phase(corev1.PodFailed)), pod("d", func(p *corev1.Pod) { p.DeletionTimestamp = &ts })} {
		if IsPodActive(q) {
			t.Errorf("%s active", q.Name)
		}
	}
	if got := FilterActivePods([]*corev1.Pod{p, pod("b", phase(corev1.PodFailed))}); len(got) != 1 {
		t.Errorf("FilterActivePods: %d", len(got))
	}
	if IsPodReady(pod("x")) {
		t.Error("no condition: not ready")
	}
}

func TestPodFromTemplate(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}, Annotations: map[string]string{"a": "b"}, Finalizers: []string{"f"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
	owner := &metav1.ObjectMeta{Name: "rs", UID: "u"}
	p := PodFromTemplate(tmpl, "rs", NewControllerRef(owner, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}))
	if p.GenerateName != "rs-" || p.Name != "" || p.Labels["app"] != "x" || p.Annotations["a"] != "b" || p.Finalizers[0] != "f" || p.Spec.Containers[0].Image != "i" {
		t.Errorf("pod %+v", p)
	}
	ref := p.OwnerReferences[0]
	if ref.APIVersion != "apps/v1" || ref.Kind != "ReplicaSet" || ref.UID != "u" || !*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("ref %+v", ref)
	}
	p.Labels["app"] = "changed"
	p.Spec.Containers[0].Image = "changed"
	if tmpl.Labels["app"] != "x" || tmpl.Spec.Containers[0].Image != "i" {
		t.Error("template shares memory with the pod")
	}
}

func owned(p *corev1.Pod, uid types.UID) *corev1.Pod {
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "o", UID: uid, Controller: ptr.To(true)}}
	return p
}

func labelled(p *corev1.Pod, v string) *corev1.Pod {
	p.Labels = map[string]string{"app": v}
	return p
}

func TestClassifyOwned(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "me"}
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	ts := metav1.NewTime(now)
	deleting := labelled(pod("deleting"), "web")
	deleting.DeletionTimestamp = &ts
	otherNS := labelled(pod("otherns"), "web")
	otherNS.Namespace = "elsewhere"
	pods := []*corev1.Pod{
		owned(labelled(pod("mine"), "web"), "me"),
		owned(labelled(pod("stray"), "db"), "me"),
		owned(labelled(pod("theirs"), "web"), "them"),
		labelled(pod("orphan"), "web"),
		labelled(pod("orphan-nomatch"), "db"),
		deleting,
		otherNS,
	}
	names := func(ps []*corev1.Pod) (out []string) {
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	c := ClassifyOwned(owner, sel, pods, nil)
	if got := names(c.Owned); len(got) != 1 || got[0] != "mine" {
		t.Errorf("owned %v", got)
	}
	if got := names(c.Release); len(got) != 1 || got[0] != "stray" {
		t.Errorf("release %v", got)
	}
	if got := names(c.Adopt); len(got) != 1 || got[0] != "orphan" {
		t.Errorf("adopt %v", got)
	}
	owner.DeletionTimestamp = &ts
	c = ClassifyOwned(owner, sel, pods, nil)
	if len(c.Release) != 0 || len(c.Adopt) != 0 || len(c.Owned) != 1 {
		t.Errorf("deleting owner: %+v", c)
	}
	owner.DeletionTimestamp = nil
	c = ClassifyOwned(owner, sel, pods, func(p *corev1.Pod) bool { return p.Name != "orphan" && p.Name != "mine" })
	if len(c.Adopt) != 0 || names(c.Release)[0] != "mine" {
		t.Errorf("extra match: %+v", c)
	}
}

func TestAdoptAndReleasePatches(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "me"}
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	p := labelled(pod("p"), "web")
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "cm-uid"}}
	orig, _ := json.Marshal(p)
	adopted, err := strategicpatch.StrategicMergePatch(orig, AdoptPatch(owner, gvk, p.UID), &corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	_ = json.Unmarshal(adopted, &got)
	if len(got.OwnerReferences) != 2 || metav1.GetControllerOf(&got) == nil || metav1.GetControllerOf(&got).UID != "me" {
		t.Fatalf("adopted refs %+v", got.OwnerReferences)
	}
	released, err := strategicpatch.StrategicMergePatch(adopted, ReleasePatch("me", p.UID), &corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	got = corev1.Pod{}
	_ = json.Unmarshal(released, &got)
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "cm-uid" {
		t.Fatalf("released refs %+v", got.OwnerReferences)
	}
	var body struct {
		Metadata struct {
			UID types.UID `json:"uid"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(ReleasePatch("me", "pod-uid"), &body)
	if body.Metadata.UID != "pod-uid" {
		t.Error("patch must carry the object's UID as a precondition")
	}
}

func TestExpectations(t *testing.T) {
	clk := clock.NewFake(now)
	e := NewExpectations(clk)
	if !e.Satisfied("k") {
		t.Fatal("no record: satisfied")
	}
	e.ExpectCreations("k", 2)
	if e.Satisfied("k") {
		t.Fatal("2 pending creations")
	}
	e.CreationObserved("k")
	e.CreationObserved("k")
	if !e.Satisfied("k") {
		t.Fatal("creations observed")
	}
	e.ExpectDeletions("k", []string{"ns/a", "ns/b"})
	e.DeletionObserved("k", "ns/a")
	e.DeletionObserved("k", "ns/a") // observed twice (update with deletionTimestamp, then delete): counted once
	e.DeletionObserved("k", "ns/zzz")
	if a, d := e.Pending("k"); e.Satisfied("k") || a != 0 || d != 1 {
		t.Fatalf("pending %d %d", a, d)
	}
	clk.Step(ExpectationsTTL + time.Second)
	if !e.Satisfied("k") {
		t.Fatal("expired expectations must not block forever")
	}
	e.Delete("k")
	if a, d := e.Pending("k"); a != 0 || d != 0 {
		t.Error("deleted")
	}
}

func TestSlowStartBatch(t *testing.T) {
	var calls atomic.Int32
	n, err := SlowStartBatch(10, 1, func() error { calls.Add(1); return nil })
	if n != 10 || err != nil || calls.Load() != 10 {
		t.Fatalf("all succeed: %d %v %d", n, err, calls.Load())
	}
	// Batches are 1, 2, 4, ...: a failure in the third batch stops everything after it.
	calls.Store(0)
	boom := errors.New("quota")
	n, err = SlowStartBatch(20, 1, func() error {
		if calls.Add(1) == 5 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 6 || calls.Load() != 7 {
		t.Fatalf("failure: successes %d err %v calls %d", n, err, calls.Load())
	}
	if n, err := SlowStartBatch(0, 1, func() error { return boom }); n != 0 || err != nil {
		t.Error("zero count")
	}
}

func TestClaimObjects(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "me"}
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	pods := []*corev1.Pod{
		owned(labelled(pod("mine"), "web"), "me"),
		owned(labelled(pod("stray"), "db"), "me"),
		labelled(pod("orphan"), "web"),
		labelled(pod("vanished"), "web"),
		labelled(pod("contested"), "web"),
	}
	var patched []string
	canAdoptCalls := 0
	io := ClaimIO[*corev1.Pod]{
		CanAdopt: func(context.Context) error { canAdoptCalls++; return nil },
		Patch: func(_ context.Context, p *corev1.Pod, _ []byte) error {
			patched = append(patched, p.Name)
			switch p.Name {
			case "vanished", "stray":
				return apierrors.NewNotFound(corev1.Resource("pods"), p.Name)
			case "contested":
				return apierrors.NewConflict(corev1.Resource("pods"), p.Name, errors.New("taken"))
			}
			return nil
		},
	}
	claimed, err := ClaimObjects(context.Background(), owner, gvk, sel, pods, nil, io)
	var names []string
	for _, p := range claimed {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[mine orphan]" {
		t.Errorf("claimed %v", names)
	}
	if err == nil || !strings.Contains(err.Error(), "adopt contested") || strings.Contains(err.Error(), "vanished") || strings.Contains(err.Error(), "stray") {
		t.Errorf("err %v", err)
	}
	if canAdoptCalls != 1 || fmt.Sprint(patched) != "[stray orphan vanished contested]" {
		t.Errorf("canAdopt %d patched %v", canAdoptCalls, patched)
	}

	// The owner cannot adopt (replaced or being deleted): nothing is adopted.
	recheck := RecheckOwner("me", func(context.Context) (metav1.Object, error) {
		ts := metav1.NewTime(now)
		return &metav1.ObjectMeta{Name: "rs", UID: "me", DeletionTimestamp: &ts}, nil
	})
	patched = nil
	claimed, err = ClaimObjects(context.Background(), owner, gvk, sel, pods[2:3], nil, ClaimIO[*corev1.Pod]{CanAdopt: recheck, Patch: io.Patch})
	if len(claimed) != 0 || err == nil || len(patched) != 0 {
		t.Errorf("deleting owner adopted: %v %v %v", claimed, err, patched)
	}
	if err := RecheckOwner("me", func(context.Context) (metav1.Object, error) { return &metav1.ObjectMeta{Name: "rs", UID: "new"}, nil })(context.Background()); err == nil {
		t.Error("replaced owner must not adopt")
	}
	if err := RecheckOwner("me", func(context.Context) (metav1.Object, error) { return &metav1.ObjectMeta{Name: "rs", UID: "me"}, nil })(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestSelectingOwners(t *testing.T) {
	type owner struct {
		name string
		sel  *metav1.LabelSelector
	}
	owners := []owner{
		{"match", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		{"other", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
		{"empty", &metav1.LabelSelector{}},
		{"invalid", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}},
	}
	sel := func(o owner) *metav1.LabelSelector { return o.sel }
	got := SelectingOwners(owners, sel, map[string]string{"app": "web", "x": "y"})
	if len(got) != 1 || got[0].name != "match" {
		t.Fatalf("SelectingOwners = %v, want only match", got)
	}
	if got := SelectingOwners(owners, sel, nil); got != nil {
		t.Fatalf("unlabelled object matched %v", got)
	}
}
