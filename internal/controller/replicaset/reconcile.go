package replicaset

import (
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// BurstReplicas caps how many pods one sync creates or deletes (upstream --concurrent-... default 500).
const BurstReplicas = 500

// Plan is what one sync of a ReplicaSet should do to its pods.
type Plan struct {
	// Create is how many pods to create from the template (at most BurstReplicas).
	Create int
	// Delete are the pods to delete, most deletable first (at most BurstReplicas).
	Delete []*corev1.Pod
}

// Reconcile decides how rs reaches its desired replica count.
//
//	rs      the ReplicaSet (read only)
//	pods    the active pods rs controls (after adoption/release), read only
//	related the active pods of all ReplicaSets with the same controller as rs (for "doubled up" ranking); may be nil
//	now     the current time, for ranking pods by how long they have been ready or alive
func Reconcile(rs *appsv1.ReplicaSet, pods, related []*corev1.Pod, now time.Time) Plan {
	desired := int(ptr.Deref(rs.Spec.Replicas, 1))
	diff := len(pods) - desired
	switch {
	case diff < 0:
		return Plan{Create: min(-diff, BurstReplicas)}
	case diff > 0:
		return Plan{Delete: podsToDelete(pods, related, min(diff, BurstReplicas), now)}
	}
	return Plan{}
}

// podsToDelete picks n of pods to delete, ranking each by how many related pods share its node.
func podsToDelete(pods, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	sorted := append([]*corev1.Pod(nil), pods...)
	if n < len(sorted) {
		onNode := map[string]int{}
		for _, p := range related {
			if controllerutil.IsPodActive(p) {
				onNode[p.Spec.NodeName]++
			}
		}
		ranks := make([]int, len(sorted))
		for i, p := range sorted {
			ranks[i] = onNode[p.Spec.NodeName]
		}
		controllerutil.SortPodsForDeletion(sorted, ranks, now)
	}
	return sorted[:n]
}

// Condition reasons on a ReplicaSet's ReplicaFailure condition.
const (
	ReasonFailedCreate = "FailedCreate"
	ReasonFailedDelete = "FailedDelete"
)

// CalculateStatus is rs's status given the pods it controls and the error (or nil) of the last attempt to create or
// delete pods. ObservedGeneration is left as in rs; UpdateNeeded decides whether to write.
func CalculateStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	template := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var fully, ready, available int32
	for _, p := range pods {
		if template.Matches(labels.Set(p.Labels)) {
			fully++
		}
		if controllerutil.IsPodReady(p) {
			ready++
			if controllerutil.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := condition(rs.Status, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := len(pods) - int(ptr.Deref(rs.Spec.Replicas, 1)); diff < 0 {
			reason = ReasonFailedCreate
		} else if diff > 0 {
			reason = ReasonFailedDelete
		}
		setCondition(&st, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		removeCondition(&st, appsv1.ReplicaSetReplicaFailure)
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = fully
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	return st
}

// UpdateNeeded reports whether rs's stored status differs from st or has not observed rs's generation.
func UpdateNeeded(rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) bool {
	return rs.Status.Replicas != st.Replicas ||
		rs.Status.FullyLabeledReplicas != st.FullyLabeledReplicas ||
		rs.Status.ReadyReplicas != st.ReadyReplicas ||
		rs.Status.AvailableReplicas != st.AvailableReplicas ||
		rs.Generation != rs.Status.ObservedGeneration ||
		!equality.Semantic.DeepEqual(rs.Status.Conditions, st.Conditions)
}

// MinReadyRequeue is how long to wait before syncing rs again so that pods that are ready but not yet available
// (minReadySeconds) get counted; 0 means no need.
func MinReadyRequeue(rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) time.Duration {
	want := ptr.Deref(rs.Spec.Replicas, 1)
	if rs.Spec.MinReadySeconds > 0 && st.ReadyReplicas == want && st.AvailableReplicas != want {
		return time.Duration(rs.Spec.MinReadySeconds) * time.Second
	}
	return 0
}

func condition(st appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func setCondition(st *appsv1.ReplicaSetStatus, c appsv1.ReplicaSetCondition) {
	if cur := condition(*st, c.Type); cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) {
	var out []appsv1.ReplicaSetCondition
	for _, c := range st.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	st.Conditions = out
}
