package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	"github.com/skiff-sh/skiff/internal/controller/replicaset"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	core "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newRC(replicas int32) *corev1.ReplicationController {
	return &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rc-uid", Generation: 3},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr.To(replicas),
			Selector: map[string]string{"app": "web"},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			},
		},
	}
}

func pod(name string, lbls map[string]string, owner *corev1.ReplicationController) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), Labels: lbls,
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec:   corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ReplicationController", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}}
	}
	return p
}

func TestConversion(t *testing.T) {
	full := newRC(2)
	full.Spec.MinReadySeconds = 7
	full.Status = corev1.ReplicationControllerStatus{
		Replicas: 2, FullyLabeledReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 3,
		Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: "FailedCreate", Message: "quota"}},
	}
	noSelector := newRC(1)
	noSelector.Spec.Selector = map[string]string{}
	for _, tc := range []struct {
		name         string
		rc           *corev1.ReplicationController
		wantSelector string // the ReplicaSet's selector as a string; "<nil>" for none
		roundTrip    bool
	}{
		{"every field", full, "app=web", true},
		{"empty selector selects nothing", noSelector, "<nil>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := ToReplicaSet(tc.rc)
			sel := "<nil>"
			if rs.Spec.Selector != nil {
				s, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
				if err != nil {
					t.Fatal(err)
				}
				sel = s.String()
			}
			if sel != tc.wantSelector {
				t.Errorf("selector %s, want %s", sel, tc.wantSelector)
			}
			if *rs.Spec.Replicas != *tc.rc.Spec.Replicas || rs.Spec.MinReadySeconds != tc.rc.Spec.MinReadySeconds ||
				rs.UID != tc.rc.UID || !equality.Semantic.DeepEqual(rs.Spec.Template, *tc.rc.Spec.Template) {
				t.Errorf("spec %+v", rs.Spec)
			}
			if len(rs.Status.Conditions) != len(tc.rc.Status.Conditions) || rs.Status.ReadyReplicas != tc.rc.Status.ReadyReplicas {
				t.Errorf("status %+v", rs.Status)
			}
			back := ToReplicationController(rs)
			if back.Kind != "ReplicationController" || back.APIVersion != "v1" {
				t.Errorf("type meta %+v", back.TypeMeta)
			}
			back.TypeMeta = tc.rc.TypeMeta
			if tc.roundTrip && !equality.Semantic.DeepEqual(back, tc.rc) {
				t.Errorf("round trip:\n got %+v\nwant %+v", back, tc.rc)
			}
		})
	}
}

// fixture is the controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	c *replicaset.Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 1000, objs...)}
	f.NameGeneratedPods()
	f.Recorder.IncludeObject = true
	c, err := newController(f.Context(clock.NewFake(now)))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync(t *testing.T) error {
	t.Helper()
	f.Client.ClearActions()
	_, err := f.c.Sync(context.Background(), "ns/web")
	return err
}

func (f *fixture) rc(t *testing.T) *corev1.ReplicationController {
	t.Helper()
	rc, err := f.Client.CoreV1().ReplicationControllers("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func TestSyncCreatesPodsOwnedByTheRC(t *testing.T) {
	rc := newRC(2)
	f := newFixture(t, rc)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(controllertest.Writes(f.Client.Actions())); got != "[create pods create pods update replicationcontrollers/status]" {
		t.Fatalf("actions %s", got)
	}
	pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 2 {
		t.Fatalf("%d pods", len(pods.Items))
	}
	for _, p := range pods.Items {
		ref := metav1.GetControllerOf(&p)
		if p.GenerateName != "web-" || ref == nil || ref.APIVersion != "v1" || ref.Kind != "ReplicationController" ||
			ref.Name != "web" || ref.UID != rc.UID || !ptr.Deref(ref.BlockOwnerDeletion, false) || p.Labels["tier"] != "fe" {
			t.Errorf("pod %s: generateName %q ref %+v labels %v", p.Name, p.GenerateName, ref, p.Labels)
		}
	}
	for _, e := range controllertest.Events(f.Recorder) {
		if !strings.HasPrefix(e, "Normal SuccessfulCreate Created pod: web-") || !strings.Contains(e, "kind=ReplicationController,apiVersion=v1") {
			t.Errorf("event %q", e)
		}
	}
	if st := f.rc(t).Status; st.ObservedGeneration != 3 || st.Replicas != 0 {
		t.Errorf("status %+v (pods not in the cache yet)", st)
	}
	// The cache lags: expectations stop a second round of creations.
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if got := controllertest.Writes(f.Client.Actions()); slices.Contains(got, "create pods") {
		t.Errorf("second sync created pods again: %v", got)
	}
}

func TestSyncClaimsAndReports(t *testing.T) {
	rc := newRC(2)
	rc.Spec.MinReadySeconds = 7200 // ready for an hour only: not available
	orphan := pod("orphan", map[string]string{"app": "web"}, nil)
	stray := pod("stray", map[string]string{"app": "other"}, rc)
	mine := pod("mine", map[string]string{"app": "web", "tier": "fe"}, rc)
	extra := pod("extra", map[string]string{"app": "web", "tier": "fe"}, rc)
	f := newFixture(t, rc, orphan, stray, mine, extra)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	p, _ := f.Client.CoreV1().Pods("ns").Get(context.Background(), "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "ReplicationController" || ref.UID != rc.UID {
		t.Errorf("orphan not adopted: %+v", p.OwnerReferences)
	}
	p, _ = f.Client.CoreV1().Pods("ns").Get(context.Background(), "stray", metav1.GetOptions{})
	if len(p.OwnerReferences) != 0 {
		t.Errorf("stray not released: %+v", p.OwnerReferences)
	}
	// Adopting the orphan and releasing the stray leaves three pods for two replicas: one is deleted.
	var deleted []string
	for _, a := range f.Client.Actions() {
		if d, ok := a.(core.DeleteAction); ok {
			deleted = append(deleted, d.GetName())
		}
	}
	if len(deleted) != 1 {
		t.Errorf("deleted %v, want one pod", deleted)
	}
	for _, e := range controllertest.Events(f.Recorder) {
		if !strings.HasPrefix(e, "Normal SuccessfulDelete Deleted pod: ") || !strings.Contains(e, "kind=ReplicationController") {
			t.Errorf("event %q", e)
		}
	}
	st := f.rc(t).Status
	if st.Replicas != 3 || st.FullyLabeledReplicas != 2 || st.ReadyReplicas != 3 || st.AvailableReplicas != 0 || st.ObservedGeneration != 3 {
		t.Errorf("status %+v", st)
	}
}

func TestSyncCreateRefusedSetsReplicaFailure(t *testing.T) {
	rc := newRC(3)
	f := newFixture(t, rc)
	f.Client.PrependReactor("create", "pods", func(core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("exceeded quota: q"))
	})
	if err := f.sync(t); err == nil {
		t.Fatal("want an error (retry)")
	}
	st := f.rc(t).Status
	if len(st.Conditions) != 1 || st.Conditions[0].Type != corev1.ReplicationControllerReplicaFailure ||
		st.Conditions[0].Status != corev1.ConditionTrue || st.Conditions[0].Reason != "FailedCreate" ||
		!strings.Contains(st.Conditions[0].Message, "exceeded quota") {
		t.Errorf("conditions %+v", st.Conditions)
	}
	ev := controllertest.Events(f.Recorder)
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning FailedCreate Error creating: ") || !strings.Contains(ev[0], "kind=ReplicationController") {
		t.Errorf("events %q (slow start: only the first batch of one is tried)", ev)
	}
}

func TestSyncEmptySelectorClaimsNothing(t *testing.T) {
	rc := newRC(1)
	rc.Spec.Selector = nil
	orphan := pod("orphan", map[string]string{"app": "web"}, nil)
	f := newFixture(t, rc, orphan)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Client.Actions() {
		if a.GetVerb() == "patch" {
			t.Errorf("adopted with an empty selector: %v", a)
		}
	}
}

func TestRunReplacesDeletedPods(t *testing.T) {
	rc := newRC(2)
	f := newFixture(t, rc)
	ctx, cancel := context.WithCancel(context.Background())
	f.Factory.Start(ctx.Done())
	done := make(chan error)
	go func() { done <- f.c.Run(ctx, 2) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		f.Factory.Shutdown()
	}()
	list := func() []corev1.Pod {
		pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
		return pods.Items
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; pods %d", what, len(list()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("2 pods", func() bool { return len(list()) == 2 })
	victim := list()[0].Name
	if err := f.Client.CoreV1().Pods("ns").Delete(context.Background(), victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("a replacement", func() bool {
		ps := list()
		return len(ps) == 2 && ps[0].Name != victim && ps[1].Name != victim
	})
	waitFor("status.replicas 2", func() bool { return f.rc(t).Status.Replicas == 2 })
}
