package replicaset

import (
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newRS(replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs-uid", Generation: 2},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			},
		},
	}
}

// mkPod is a pod of the ReplicaSet; readyFor < 0 means not ready.
func mkPod(name, node string, phase corev1.PodPhase, readyFor time.Duration, age time.Duration) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), Labels: map[string]string{"app": "web", "tier": "fe"},
			CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec:   corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: phase},
	}
	if readyFor >= 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-readyFor))}}
	}
	return p
}

func names(ps []*corev1.Pod) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return fmt.Sprint(out)
}

func TestReconcile(t *testing.T) {
	running := func(name string, readyFor, age time.Duration) *corev1.Pod {
		return mkPod(name, "n1", corev1.PodRunning, readyFor, age)
	}
	for _, tc := range []struct {
		name       string
		replicas   int32
		pods       []*corev1.Pod
		related    []*corev1.Pod
		wantCreate int
		wantDelete string
	}{
		{name: "empty: create all", replicas: 3, wantCreate: 3, wantDelete: "[]"},
		{name: "one short", replicas: 3, pods: []*corev1.Pod{running("a", time.Hour, time.Hour), running("b", time.Hour, time.Hour)}, wantCreate: 1, wantDelete: "[]"},
		{name: "at size", replicas: 1, pods: []*corev1.Pod{running("a", time.Hour, time.Hour)}, wantDelete: "[]"},
		{name: "burst cap", replicas: 1000, wantCreate: BurstReplicas, wantDelete: "[]"},
		{
			name: "scale down prefers unassigned, pending, not ready",
			pods: []*corev1.Pod{
				running("ready-old", time.Hour, 2*time.Hour),
				mkPod("unassigned", "", corev1.PodPending, -1, time.Minute),
				mkPod("pending", "n1", corev1.PodPending, -1, time.Minute),
				running("notready", -1, time.Minute),
				running("ready-new", time.Minute, time.Minute),
			},
			replicas:   1,
			wantDelete: "[unassigned pending notready ready-new]",
		},
		{
			name:       "doubled-up node first",
			replicas:   1,
			pods:       []*corev1.Pod{mkPod("alone", "n1", corev1.PodRunning, time.Hour, time.Hour), mkPod("crowded", "n2", corev1.PodRunning, time.Hour, time.Hour)},
			related:    []*corev1.Pod{mkPod("x", "n2", corev1.PodRunning, time.Hour, time.Hour), mkPod("crowded", "n2", corev1.PodRunning, time.Hour, time.Hour)},
			wantDelete: "[crowded]",
		},
		{
			name:       "delete all: no sorting needed",
			replicas:   0,
			pods:       []*corev1.Pod{running("a", time.Hour, time.Hour), running("b", time.Hour, time.Hour)},
			wantDelete: "[a b]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newRS(tc.replicas)
			in := append([]*corev1.Pod(nil), tc.pods...)
			p := Reconcile(rs, tc.pods, tc.related, now)
			if p.Create != tc.wantCreate || names(p.Delete) != tc.wantDelete {
				t.Errorf("create %d delete %s; want %d %s", p.Create, names(p.Delete), tc.wantCreate, tc.wantDelete)
			}
			if names(in) != names(tc.pods) {
				t.Error("input order changed")
			}
		})
	}
}

func TestReconcileNilReplicasMeansOne(t *testing.T) {
	rs := newRS(0)
	rs.Spec.Replicas = nil
	if p := Reconcile(rs, nil, nil, now); p.Create != 1 {
		t.Errorf("create %d", p.Create)
	}
}

func TestCalculateStatus(t *testing.T) {
	rs := newRS(4)
	rs.Spec.MinReadySeconds = 30
	unlabelled := mkPod("d", "n1", corev1.PodRunning, time.Hour, time.Hour)
	unlabelled.Labels = map[string]string{"app": "web"}
	pods := []*corev1.Pod{
		mkPod("a", "n1", corev1.PodRunning, time.Hour, time.Hour),        // available
		mkPod("b", "n1", corev1.PodRunning, 10*time.Second, time.Minute), // ready, not yet available
		mkPod("c", "", corev1.PodPending, -1, time.Minute),               // neither
		unlabelled, // available, not fully labelled
	}
	st := CalculateStatus(rs, pods, nil, now)
	if st.Replicas != 4 || st.FullyLabeledReplicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 2 {
		t.Errorf("status %+v", st)
	}
	if st.ObservedGeneration != 0 {
		t.Error("observedGeneration is set on write, not here")
	}
	if !UpdateNeeded(rs, st) {
		t.Error("changed status needs an update")
	}
	if d := MinReadyRequeue(rs, st); d != 0 {
		t.Errorf("not all ready: requeue %v", d)
	}
	rs.Spec.Replicas = ptr.To[int32](3)
	st.ReadyReplicas = 3
	if d := MinReadyRequeue(rs, st); d != 30*time.Second {
		t.Errorf("requeue %v, want 30s", d)
	}

	// Steady state: nothing to write.
	rs.Status = st
	rs.Status.ObservedGeneration = rs.Generation
	if UpdateNeeded(rs, CalculateStatus(rs, pods, nil, now)) {
		t.Error("unchanged status written")
	}
	// A new generation must be observed even if counts are the same.
	rs.Generation++
	if !UpdateNeeded(rs, CalculateStatus(rs, pods, nil, now)) {
		t.Error("generation not observed")
	}
}

func TestReplicaFailureCondition(t *testing.T) {
	rs := newRS(3)
	st := CalculateStatus(rs, nil, errors.New(`pods "web-" is forbidden: exceeded quota`), now)
	if len(st.Conditions) != 1 || st.Conditions[0].Type != appsv1.ReplicaSetReplicaFailure || st.Conditions[0].Reason != ReasonFailedCreate ||
		st.Conditions[0].Status != corev1.ConditionTrue || st.Conditions[0].Message != `pods "web-" is forbidden: exceeded quota` {
		t.Fatalf("conditions %+v", st.Conditions)
	}
	rs.Status = st
	// Still failing: the condition is kept as it is (same transition time).
	st2 := CalculateStatus(rs, nil, errors.New("other"), now.Add(time.Minute))
	if !st2.Conditions[0].LastTransitionTime.Equal(&st.Conditions[0].LastTransitionTime) || st2.Conditions[0].Message != st.Conditions[0].Message {
		t.Errorf("condition replaced: %+v", st2.Conditions)
	}
	// Success clears it.
	if st3 := CalculateStatus(rs, nil, nil, now); len(st3.Conditions) != 0 {
		t.Errorf("not cleared: %+v", st3.Conditions)
	}
	// Too many pods and deleting fails: FailedDelete.
	rs = newRS(0)
	st = CalculateStatus(rs, []*corev1.Pod{mkPod("a", "n1", corev1.PodRunning, -1, time.Minute)}, errors.New("x"), now)
	if st.Conditions[0].Reason != ReasonFailedDelete {
		t.Errorf("reason %q", st.Conditions[0].Reason)
	}
}
