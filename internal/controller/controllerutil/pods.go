package controllerutil

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodDeletionCostAnnotation lets users say which pods of a ReplicaSet to delete first (lower cost first).
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsPodActive reports whether pod counts towards its controller's replicas: not terminal and not being deleted.
func IsPodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

// FilterActivePods returns the active pods of pods, in order.
func FilterActivePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// PodReadyCondition returns pod's Ready condition, or nil.
func PodReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := PodReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether pod has been ready for at least minReadySeconds at now.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(pod) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := PodReadyCondition(pod)
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(d).Before(now)
}

var podPhaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// SortPodsForDeletion orders pods (in place) so that the ones a ReplicaSet should delete first come first, as
// Kubernetes' ActivePodsWithRanks does with LogarithmicScaleDown and PodDeletionCost on:
//
//  1. unassigned before assigned;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower controller.kubernetes.io/pod-deletion-cost first;
//  5. higher rank first (rank[i] is the number of related active pods on pod i's node: doubled-up pods go first);
//  6. both ready: ready more recently first (compared on a log2 scale of age at now, ties broken by UID);
//  7. more container restarts first (regular containers, then restartable init containers);
//  8. created more recently first (log2 scale of age, ties broken by UID); a zero timestamp counts as newest.
//
// ranks may be nil (all zero); otherwise len(ranks) must equal len(pods) and it is permuted along with pods.
func SortPodsForDeletion(pods []*corev1.Pod, ranks []int, now time.Time) {
	if ranks == nil {
		ranks = make([]int, len(pods))
	}
	sort.Sort(podsWithRanks{pods: pods, ranks: ranks, now: now})
}

type podsWithRanks struct {
	pods  []*corev1.Pod
	ranks []int
	now   time.Time
}

func (s podsWithRanks) Len() int { return len(s.pods) }
func (s podsWithRanks) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.ranks[i], s.ranks[j] = s.ranks[j], s.ranks[i]
}

func (s podsWithRanks) Less(i, j int) bool {
	pi, pj := s.pods[i], s.pods[j]
	if pi.Spec.NodeName != pj.Spec.NodeName && (pi.Spec.NodeName == "" || pj.Spec.NodeName == "") {
		return pi.Spec.NodeName == ""
	}
	if oi, oj := podPhaseOrdinal[pi.Status.Phase], podPhaseOrdinal[pj.Status.Phase]; oi != oj {
		return oi < oj
	}
	if ri, rj := IsPodReady(pi), IsPodReady(pj); ri != rj {
		return !ri
	}
	if ci, cj := deletionCost(pi), deletionCost(pj); ci != cj {
		return ci < cj
	}
	if s.ranks[i] != s.ranks[j] {
		return s.ranks[i] > s.ranks[j]
	}
	if IsPodReady(pi) && IsPodReady(pj) {
		ti, tj := readyTime(pi), readyTime(pj)
		if !ti.Equal(tj) {
			return s.newerFirst(pi, pj, ti, tj)
		}
	}
	ri, si := maxRestarts(pi)
	rj, sj := maxRestarts(pj)
	if ri != rj {
		return ri > rj
	}
	if si != sj {
		return si > sj
	}
	if ti, tj := pi.CreationTimestamp.Time, pj.CreationTimestamp.Time; !ti.Equal(tj) {
		return s.newerFirst(pi, pj, ti, tj)
	}
	return false
}

// newerFirst compares two timestamps of pods i and j: zero first, then the more recent on a logarithmic scale.
func (s podsWithRanks) newerFirst(pi, pj *corev1.Pod, ti, tj time.Time) bool {
	if s.now.IsZero() || ti.IsZero() || tj.IsZero() {
		if ti.IsZero() || tj.IsZero() {
			return ti.IsZero()
		}
		return ti.After(tj)
	}
	d := logRank(s.now.Sub(ti)) - logRank(s.now.Sub(tj))
	if d == 0 {
		return pi.UID < pj.UID
	}
	return d < 0
}

func logRank(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

func readyTime(pod *corev1.Pod) time.Time {
	if c := PodReadyCondition(pod); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func maxRestarts(pod *corev1.Pod) (regular, sidecar int32) {
	for _, c := range pod.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for _, c := range pod.Status.InitContainerStatuses {
		if sidecars[c.Name] {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return regular, sidecar
}

func deletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// PodFromTemplate builds the pod a controller creates from template: generateName "<owner>-", the template's labels,
// annotations and finalizers, ref as its only owner reference, and a copy of the template's spec.
func PodFromTemplate(template *corev1.PodTemplateSpec, ownerName string, ref *metav1.OwnerReference) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: ownerName + "-",
			Labels:       copyMap(template.Labels),
			Annotations:  copyMap(template.Annotations),
			Finalizers:   append([]string(nil), template.Finalizers...),
		},
		Spec: *template.Spec.DeepCopy(),
	}
	if ref != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return pod
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
