package kubelet

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestNodeStatusChanged(t *testing.T) {
	t1, t2 := metav1.NewTime(t0), metav1.NewTime(t0.Add(10*time.Second))
	status := func(mutate func(*corev1.NodeStatus)) *corev1.NodeStatus {
		st := &corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: t1, LastTransitionTime: t1},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: t1, LastTransitionTime: t1},
			},
		}
		if mutate != nil {
			mutate(st)
		}
		return st
	}
	for _, tc := range []struct {
		name string
		st   *corev1.NodeStatus
		want bool
	}{
		{"same", status(nil), false},
		{"only heartbeats moved", status(func(st *corev1.NodeStatus) {
			for i := range st.Conditions {
				st.Conditions[i].LastHeartbeatTime = t2
			}
		}), false},
		{"conditions in another order", status(func(st *corev1.NodeStatus) {
			st.Conditions[0], st.Conditions[1] = st.Conditions[1], st.Conditions[0]
		}), false},
		{"a condition flipped", status(func(st *corev1.NodeStatus) {
			st.Conditions[1].Status, st.Conditions[1].Reason, st.Conditions[1].LastTransitionTime = corev1.ConditionTrue, "KubeletHasDiskPressure", t2
		}), true},
		{"a message changed", status(func(st *corev1.NodeStatus) { st.Conditions[0].Message = "container runtime is down" }), true},
		{"a condition appeared", status(func(st *corev1.NodeStatus) {
			st.Conditions = append(st.Conditions, corev1.NodeCondition{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse})
		}), true},
		{"capacity changed", status(func(st *corev1.NodeStatus) { st.Capacity[corev1.ResourceCPU] = resource.MustParse("4") }), true},
		{"capacity written differently, same value", status(func(st *corev1.NodeStatus) { st.Capacity[corev1.ResourceCPU] = resource.MustParse("2000m") }), false},
	} {
		if got := nodeStatusChanged(status(nil), tc.st); got != tc.want {
			t.Errorf("%s: changed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRenewLeaseFromLastWrite: the first renewal reads (and creates) the Lease; later ones update the Lease last
// written without reading it; after a failed update the next renewal reads it again.
func TestRenewLeaseFromLastWrite(t *testing.T) {
	cs := fake.NewSimpleClientset()
	clk := clock.NewFake(t0)
	k := &Kubelet{cfg: Config{NodeName: "n1"}, cs: cs, clock: clk, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	verbs := func() []string {
		var out []string
		for _, a := range cs.Actions() {
			if a.GetResource().Resource == "leases" {
				out = append(out, a.GetVerb())
			}
		}
		cs.ClearActions()
		return out
	}
	ctx := context.Background()
	k.renewLease(ctx)
	if got := verbs(); len(got) != 2 || got[0] != "get" || got[1] != "create" {
		t.Fatalf("first renewal: %v, want get, create", got)
	}
	for i := 1; i <= 3; i++ {
		clk.Step(10 * time.Second)
		k.renewLease(ctx)
		if got := verbs(); len(got) != 1 || got[0] != "update" {
			t.Fatalf("renewal %d: %v, want update alone", i, got)
		}
	}
	l, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || !l.Spec.RenewTime.Time.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("lease renewTime %v (err %v), want %v", l.Spec.RenewTime, err, t0.Add(30*time.Second))
	}
	cs.ClearActions()

	// Someone else wrote the Lease: the update conflicts once, and the next renewal reads first.
	conflicted := false
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicted {
			return false, nil, nil
		}
		conflicted = true
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "n1", nil)
	})
	clk.Step(10 * time.Second)
	k.renewLease(ctx)
	if got := verbs(); len(got) != 3 || got[0] != "update" || got[1] != "get" || got[2] != "update" {
		t.Fatalf("renewal after a conflict: %v, want update, get, update", got)
	}
}
