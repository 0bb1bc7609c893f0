package disruption

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newPDB(minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "budget", Namespace: "ns", UID: "pdb-uid", Generation: 3},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: minAvailable, MaxUnavailable: maxUnavailable,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		},
	}
}

// podOpt changes a test pod.
type podOpt func(*corev1.Pod)

// mkPod is a Running, Ready pod labelled app=web.
func mkPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func unready(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func deleting(p *corev1.Pod) {
	t := metav1.NewTime(now.Add(-time.Second))
	p.DeletionTimestamp = &t
}

// ownedBy sets the pod's controller reference to kind/name with UID name.
func ownedBy(apiVersion, kind, name string) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(name), Controller: ptr.To(true)}}
	}
}

var rsOwned = ownedBy("apps/v1", "ReplicaSet", "rs")

// scales is a Finder over a fixed map from controller name to scale.
func scales(m map[string]int32) Finder {
	return func(_ context.Context, ref *metav1.OwnerReference, _ string) (*ControllerScale, error) {
		n, ok := m[ref.Name]
		if !ok {
			return nil, nil
		}
		return &ControllerScale{UID: ref.UID, Scale: n}, nil
	}
}

func disruptedAt(ago time.Duration, names ...string) map[string]metav1.Time {
	m := map[string]metav1.Time{}
	for _, n := range names {
		m[n] = metav1.NewTime(now.Add(-ago))
	}
	return m
}

func TestReconcile(t *testing.T) {
	i := func(v int32) *intstr.IntOrString { return ptr.To(intstr.FromInt32(v)) }
	s := func(v string) *intstr.IntOrString { return ptr.To(intstr.FromString(v)) }
	three := []*corev1.Pod{mkPod("a", rsOwned), mkPod("b", rsOwned), mkPod("c", rsOwned)}
	for _, tc := range []struct {
		name           string
		min, max       *intstr.IntOrString
		pods           []*corev1.Pod
		finders        []Finder
		disrupted      map[string]metav1.Time
		wantExpected   int32
		wantDesired    int32
		wantHealthy    int32
		wantAllowed    int32
		wantDisrupted  string
		wantRecheck    time.Duration
		wantEvents     []string
		wantErr        string
		wantCondReason string
	}{
		{name: "minAvailable int counts the matching pods", min: i(2), pods: three,
			wantExpected: 3, wantDesired: 2, wantHealthy: 3, wantAllowed: 1, wantCondReason: policyv1.SufficientPodsReason},
		{name: "minAvailable int needs no controller", min: i(1), pods: []*corev1.Pod{mkPod("a"), mkPod("b")},
			wantExpected: 2, wantDesired: 1, wantHealthy: 2, wantAllowed: 1, wantCondReason: policyv1.SufficientPodsReason},
		{name: "unready and deleting pods are not healthy", min: i(2),
			pods:         []*corev1.Pod{mkPod("a"), mkPod("b", unready), mkPod("c", deleting)},
			wantExpected: 3, wantDesired: 2, wantHealthy: 1, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason},
		{name: "minAvailable percent of the controller's scale, rounded up", min: s("50%"), pods: three,
			finders:      []Finder{scales(map[string]int32{"rs": 5})},
			wantExpected: 5, wantDesired: 3, wantHealthy: 3, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason},
		{name: "minAvailable 90% of 10", min: s("90%"),
			pods:         []*corev1.Pod{mkPod("a", rsOwned), mkPod("b", rsOwned), mkPod("c", rsOwned), mkPod("d", rsOwned), mkPod("e", rsOwned), mkPod("f", rsOwned), mkPod("g", rsOwned), mkPod("h", rsOwned), mkPod("i", rsOwned), mkPod("j", rsOwned)},
			finders:      []Finder{scales(map[string]int32{"rs": 10})},
			wantExpected: 10, wantDesired: 9, wantHealthy: 10, wantAllowed: 1, wantCondReason: policyv1.SufficientPodsReason},
		{name: "maxUnavailable int sums distinct controllers", max: i(1),
			pods:         []*corev1.Pod{mkPod("a", rsOwned), mkPod("b", rsOwned), mkPod("c", ownedBy("apps/v1", "StatefulSet", "ss")), mkPod("d", ownedBy("apps/v1", "StatefulSet", "ss"))},
			finders:      []Finder{scales(map[string]int32{"rs": 3}), scales(map[string]int32{"ss": 2})},
			wantExpected: 5, wantDesired: 4, wantHealthy: 4, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason},
		{name: "maxUnavailable percent rounds up", max: s("34%"), pods: three,
			finders:      []Finder{scales(map[string]int32{"rs": 3})},
			wantExpected: 3, wantDesired: 1, wantHealthy: 3, wantAllowed: 2, wantCondReason: policyv1.SufficientPodsReason},
		{name: "maxUnavailable larger than the scale needs nobody", max: i(5), pods: three,
			finders:      []Finder{scales(map[string]int32{"rs": 3})},
			wantExpected: 3, wantDesired: 0, wantHealthy: 3, wantAllowed: 3, wantCondReason: policyv1.SufficientPodsReason},
		{name: "unmanaged pods are reported and not counted", max: i(1),
			pods:         []*corev1.Pod{mkPod("a", rsOwned), mkPod("b", rsOwned), mkPod("loose")},
			finders:      []Finder{scales(map[string]int32{"rs": 2})},
			wantExpected: 2, wantDesired: 1, wantHealthy: 3, wantAllowed: 2, wantCondReason: policyv1.SufficientPodsReason,
			wantEvents: []string{"Warning UnmanagedPods Pods selected by this PodDisruptionBudget (selector: &LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{},}) were found to be unmanaged."}},
		{name: "no pods", min: i(1),
			wantExpected: 0, wantDesired: 1, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason,
			wantEvents: []string{"Normal NoPods No matching pods found"}},
		{name: "no pods, maxUnavailable: nothing expected, nothing allowed", max: i(1),
			wantExpected: 0, wantDesired: 0, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason,
			wantEvents: []string{"Normal NoPods No matching pods found"}},
		{name: "unknown controller fails safe", min: s("50%"), pods: three,
			finders:    []Finder{scales(nil)},
			wantErr:    `found no controllers for pod "a"`,
			wantEvents: []string{`Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: found no controllers for pod "a"`}},
		{name: "finder error fails safe", max: i(1), pods: three,
			finders: []Finder{func(context.Context, *metav1.OwnerReference, string) (*ControllerScale, error) {
				return nil, errors.New("boom")
			}},
			wantErr:    "boom",
			wantEvents: []string{"Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: boom"}},
		{name: "pending disruption is not healthy and is rechecked at its expiry", min: i(2), pods: three,
			disrupted:    disruptedAt(time.Minute, "a"),
			wantExpected: 3, wantDesired: 2, wantHealthy: 2, wantAllowed: 0, wantDisrupted: "a", wantRecheck: time.Minute,
			wantCondReason: policyv1.InsufficientPodsReason},
		{name: "expired disruption is dropped with an event", min: i(2), pods: three,
			disrupted:    disruptedAt(3*time.Minute, "b"),
			wantExpected: 3, wantDesired: 2, wantHealthy: 3, wantAllowed: 1, wantCondReason: policyv1.SufficientPodsReason,
			wantEvents: []string{"Warning NotDeleted Pod was expected by PDB ns/ns to be deleted but it wasn't (pod b)"}},
		{name: "disrupted pods being deleted or gone are dropped", min: i(1),
			pods:         []*corev1.Pod{mkPod("a"), mkPod("b", deleting)},
			disrupted:    disruptedAt(time.Second, "b", "gone"),
			wantExpected: 2, wantDesired: 1, wantHealthy: 1, wantAllowed: 0, wantCondReason: policyv1.InsufficientPodsReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdb := newPDB(tc.min, tc.max)
			pdb.Status.DisruptedPods = tc.disrupted
			p := Reconcile(context.Background(), pdb, tc.pods, tc.finders, now)
			var events []string
			for _, e := range p.Events {
				s := e.Type + " " + e.Reason + " " + e.Message
				if e.Reason == EventUnmanagedPods {
					s = s[:strings.Index(s, ".")+1]
				}
				if e.Pod != nil {
					s += " (pod " + e.Pod.Name + ")"
				}
				events = append(events, s)
			}
			if fmt.Sprint(events) != fmt.Sprint(tc.wantEvents) {
				t.Errorf("events\n got %q\nwant %q", events, tc.wantEvents)
			}
			cond := apimeta.FindStatusCondition(p.Status.Conditions, policyv1.DisruptionAllowedCondition)
			if tc.wantErr != "" {
				if p.Err == nil || p.Err.Error() != tc.wantErr {
					t.Fatalf("err %v, want %q", p.Err, tc.wantErr)
				}
				if !p.Update || p.Status.DisruptionsAllowed != 0 || p.Status.ObservedGeneration != 0 || cond == nil ||
					cond.Status != metav1.ConditionFalse || cond.Reason != policyv1.SyncFailedReason || cond.Message != tc.wantErr {
					t.Errorf("fail-safe status %+v (update %v)", p.Status, p.Update)
				}
				return
			}
			if p.Err != nil {
				t.Fatal(p.Err)
			}
			st := p.Status
			if !p.Update || st.ExpectedPods != tc.wantExpected || st.DesiredHealthy != tc.wantDesired ||
				st.CurrentHealthy != tc.wantHealthy || st.DisruptionsAllowed != tc.wantAllowed || st.ObservedGeneration != pdb.Generation {
				t.Errorf("status expected/desired/healthy/allowed/gen = %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d (update %v)",
					st.ExpectedPods, st.DesiredHealthy, st.CurrentHealthy, st.DisruptionsAllowed, st.ObservedGeneration,
					tc.wantExpected, tc.wantDesired, tc.wantHealthy, tc.wantAllowed, pdb.Generation, p.Update)
			}
			var disrupted []string
			for n := range st.DisruptedPods {
				disrupted = append(disrupted, n)
			}
			if strings.Join(disrupted, ",") != tc.wantDisrupted {
				t.Errorf("disruptedPods %v, want %q", st.DisruptedPods, tc.wantDisrupted)
			}
			if p.RecheckAfter != tc.wantRecheck {
				t.Errorf("recheck after %v, want %v", p.RecheckAfter, tc.wantRecheck)
			}
			wantStatus := metav1.ConditionFalse
			if tc.wantAllowed > 0 {
				wantStatus = metav1.ConditionTrue
			}
			if cond == nil || cond.Reason != tc.wantCondReason || cond.Status != wantStatus || cond.ObservedGeneration != pdb.Generation {
				t.Errorf("condition %+v, want %s %s", cond, wantStatus, tc.wantCondReason)
			}
			// The status it computed is a fixed point: syncing again writes nothing.
			pdb.Status = st
			if again := Reconcile(context.Background(), pdb, tc.pods, tc.finders, now); again.Update {
				t.Errorf("second reconcile wants another write: %+v", again.Status)
			}
		})
	}
}

func TestReconcileGenerationChangeRewrites(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	pods := []*corev1.Pod{mkPod("a"), mkPod("b")}
	pdb.Status = Reconcile(context.Background(), pdb, pods, nil, now).Status
	pdb.Generation++
	p := Reconcile(context.Background(), pdb, pods, nil, now)
	if !p.Update || p.Status.ObservedGeneration != pdb.Generation {
		t.Fatalf("update %v observedGeneration %d, want %d", p.Update, p.Status.ObservedGeneration, pdb.Generation)
	}
}

func TestFailSafeKeepsObservedGeneration(t *testing.T) {
	pdb := newPDB(ptr.To(intstr.FromInt32(1)), nil)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 2, DisruptionsAllowed: 4, CurrentHealthy: 5, DesiredHealthy: 1}
	st := FailSafeStatus(pdb, errors.New("nope"))
	cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if st.DisruptionsAllowed != 0 || st.ObservedGeneration != 2 || st.CurrentHealthy != 5 || cond == nil ||
		cond.Reason != policyv1.SyncFailedReason || cond.Message != "nope" || cond.ObservedGeneration != 2 {
		t.Fatalf("fail-safe status %+v", st)
	}
	if pdb.Status.DisruptionsAllowed != 4 {
		t.Fatal("FailSafeStatus modified its argument")
	}
}

func TestStaleDisruptionTarget(t *testing.T) {
	withCond := func(status corev1.ConditionStatus, reason string, ago time.Duration, opts ...podOpt) *corev1.Pod {
		p := mkPod("p", opts...)
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: status,
			Reason: reason, Message: "m", LastTransitionTime: metav1.NewTime(now.Add(-ago))})
		return p
	}
	for _, tc := range []struct {
		name      string
		pod       *corev1.Pod
		wantStale bool
		wantAfter time.Duration
	}{
		{"no condition", mkPod("p"), false, 0},
		{"fresh", withCond(corev1.ConditionTrue, "EvictionByEvictionAPI", 30*time.Second), true, 90 * time.Second},
		{"stale", withCond(corev1.ConditionTrue, "EvictionByEvictionAPI", 3*time.Minute), true, 0},
		{"already False", withCond(corev1.ConditionFalse, "", 3*time.Minute), false, 0},
		{"set by the kubelet", withCond(corev1.ConditionTrue, corev1.PodReasonTerminationByKubelet, 3*time.Minute), false, 0},
		{"being deleted", withCond(corev1.ConditionTrue, "EvictionByEvictionAPI", 3*time.Minute, deleting), false, 0},
		{"terminal", withCond(corev1.ConditionTrue, "EvictionByEvictionAPI", 3*time.Minute, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stale, after := StaleDisruptionTarget(tc.pod, now)
			if stale != tc.wantStale || after != tc.wantAfter {
				t.Fatalf("stale %v after %v, want %v %v", stale, after, tc.wantStale, tc.wantAfter)
			}
			out, ok := ClearDisruptionTarget(tc.pod, now)
			if ok != (tc.name != "no condition" && tc.name != "already False") {
				t.Fatalf("ClearDisruptionTarget ok=%v", ok)
			}
			if ok {
				c := out.Status.Conditions[1]
				if c.Status != corev1.ConditionFalse || c.Reason != "" || c.Message != "" || !c.LastTransitionTime.Time.Equal(now) {
					t.Errorf("cleared condition %+v", c)
				}
				if tc.pod.Status.Conditions[1].Status != corev1.ConditionTrue {
					t.Error("ClearDisruptionTarget modified its argument")
				}
			}
		})
	}
}
