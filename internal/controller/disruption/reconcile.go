package disruption

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DeletionTimeout is how long a pod stays in status.disruptedPods without being seen deleted, as upstream.
const DeletionTimeout = 2 * time.Minute

// StalePodDisruptionTimeout is how long a pod may carry DisruptionTarget=True without a deletionTimestamp.
const StalePodDisruptionTimeout = 2 * time.Minute

// Event reasons, as upstream.
const (
	EventNoPods                          = "NoPods"
	EventCalculateExpectedPodCountFailed = "CalculateExpectedPodCountFailed"
	EventUnmanagedPods                   = "UnmanagedPods"
	EventNotDeleted                      = "NotDeleted"
	EventMultiplePodDisruptionBudgets    = "MultiplePodDisruptionBudgets"
)

// ControllerScale is a pod controller's UID and desired number of replicas.
type ControllerScale struct {
	UID   types.UID
	Scale int32
}

// Finder returns the scale of the controller ref points to in namespace: nil when it does not handle ref's kind
// or the controller is not found (or has another UID), an error when it cannot tell.
type Finder func(ctx context.Context, ref *metav1.OwnerReference, namespace string) (*ControllerScale, error)

// Event is one event for the shell to record: on Pod if it is set, else on the PodDisruptionBudget.
type Event struct {
	Pod                   *corev1.Pod
	Type, Reason, Message string
}

// Plan is what Reconcile decided for one PodDisruptionBudget.
type Plan struct {
	// Status is the status to write when Update is set.
	Status policyv1.PodDisruptionBudgetStatus
	Update bool
	// Err is set when the budget cannot be computed; Status is then the fail-safe status (no disruptions
	// allowed, DisruptionAllowed=False reason SyncFailed).
	Err error
	// RecheckAfter > 0 is when the earliest entry of status.disruptedPods expires.
	RecheckAfter time.Duration
	Events       []Event
}

// Reconcile computes the status of pdb from the pods its selector matches (pods) at now; finders are asked, in
// order, for the scale of each pod's controller when the budget is a percentage or a maxUnavailable.
func Reconcile(ctx context.Context, pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, finders []Finder, now time.Time) Plan {
	var p Plan
	if len(pods) == 0 {
		p.Events = append(p.Events, Event{Type: corev1.EventTypeNormal, Reason: EventNoPods, Message: "No matching pods found"})
	}
	expected, desired, unmanaged, err := ExpectedPodCount(ctx, pdb, pods, finders)
	if err != nil {
		p.Events = append(p.Events, Event{Type: corev1.EventTypeWarning, Reason: EventCalculateExpectedPodCountFailed,
			Message: fmt.Sprintf("Failed to calculate the number of expected pods: %v", err)})
		return failSafe(p, pdb, err)
	}
	if len(unmanaged) > 0 {
		p.Events = append(p.Events, Event{Type: corev1.EventTypeWarning, Reason: EventUnmanagedPods,
			Message: fmt.Sprintf("Pods selected by this PodDisruptionBudget (selector: %v) were found "+
				"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
				"To account for these pods please set \".spec.minAvailable\" "+
				"field of the PDB to an integer value.", pdb.Spec.Selector)})
	}
	disrupted, recheck, notDeleted := DisruptedPods(pdb, pods, now)
	for _, pod := range notDeleted {
		// Upstream names the namespace twice; kept for identical wording.
		p.Events = append(p.Events, Event{Pod: pod, Type: corev1.EventTypeWarning, Reason: EventNotDeleted,
			Message: fmt.Sprintf("Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Namespace)})
	}
	if !recheck.IsZero() {
		p.RecheckAfter = recheck.Sub(now)
	}
	p.Status, p.Update = NewStatus(pdb, CountHealthy(pods, disrupted, now), desired, expected, disrupted)
	return p
}

func failSafe(p Plan, pdb *policyv1.PodDisruptionBudget, err error) Plan {
	p.Err = err
	p.Status = FailSafeStatus(pdb, err)
	p.Update = !apiequality.Semantic.DeepEqual(pdb.Status, p.Status)
	return p
}

// FailSafeStatus is pdb's status with no disruptions allowed and DisruptionAllowed=False reason SyncFailed
// carrying err, written when the budget cannot be computed so that evictions stop.
func FailSafeStatus(pdb *policyv1.PodDisruptionBudget, err error) policyv1.PodDisruptionBudgetStatus {
	st := *pdb.Status.DeepCopy()
	st.DisruptionsAllowed = 0
	if st.Conditions == nil {
		st.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type:               policyv1.DisruptionAllowedCondition,
		Status:             metav1.ConditionFalse,
		Reason:             policyv1.SyncFailedReason,
		Message:            err.Error(),
		ObservedGeneration: st.ObservedGeneration,
	})
	return st
}

// ExpectedPodCount returns how many pods pdb expects and how many must be healthy. An integer minAvailable
// counts the matching pods; a percentage minAvailable or any maxUnavailable sums the scale of the pods'
// controllers (pods without a controller are returned as unmanaged and not counted).
func ExpectedPodCount(ctx context.Context, pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, finders []Finder) (expected, desiredHealthy int32, unmanaged []string, err error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		expected, unmanaged, err = ExpectedScale(ctx, pods, finders)
		if err != nil {
			return 0, 0, nil, err
		}
		maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		return expected, max(0, expected-int32(maxUnavailable)), unmanaged, nil
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		return int32(len(pods)), pdb.Spec.MinAvailable.IntVal, nil, nil
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String:
		expected, unmanaged, err = ExpectedScale(ctx, pods, finders)
		if err != nil {
			return 0, 0, nil, err
		}
		minAvailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, 0, nil, err
		}
		return expected, int32(minAvailable), unmanaged, nil
	}
	return 0, 0, nil, nil
}

// ExpectedScale sums the scale of the distinct controllers of pods; pods without a controller are returned by
// name, and a pod whose controller no finder knows is an error.
func ExpectedScale(ctx context.Context, pods []*corev1.Pod, finders []Finder) (int32, []string, error) {
	scales := map[types.UID]int32{}
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if _, ok := scales[ref.UID]; ok {
			continue
		}
		found := false
		for _, find := range finders {
			cs, err := find(ctx, ref, pod.Namespace)
			if err != nil {
				return 0, nil, err
			}
			if cs != nil {
				scales[cs.UID] = cs.Scale
				found = true
				break
			}
		}
		if !found {
			return 0, nil, fmt.Errorf("found no controllers for pod %q", pod.Name)
		}
	}
	var sum int32
	for _, n := range scales {
		sum += n
	}
	return sum, unmanaged, nil
}

// DisruptedPods returns the entries of pdb's status.disruptedPods still pending at now: those of matching pods
// not yet being deleted whose DeletionTimeout has not passed. recheck is the earliest expiry of the kept
// entries (zero if none); expired lists the pods whose entry expired without them being deleted.
func DisruptedPods(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, now time.Time) (kept map[string]metav1.Time, recheck time.Time, expired []*corev1.Pod) {
	kept = map[string]metav1.Time{}
	if pdb.Status.DisruptedPods == nil {
		return kept, recheck, nil
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		at, ok := pdb.Status.DisruptedPods[pod.Name]
		if !ok {
			continue
		}
		deadline := at.Add(DeletionTimeout)
		if deadline.Before(now) {
			expired = append(expired, pod)
			continue
		}
		if recheck.IsZero() || deadline.Before(recheck) {
			recheck = deadline
		}
		kept[pod.Name] = at
	}
	return kept, recheck, expired
}

// CountHealthy counts the Ready pods that are not being deleted and not pending disruption at now.
func CountHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if at, ok := disrupted[pod.Name]; ok && at.Add(DeletionTimeout).After(now) {
			continue
		}
		if controllerutil.IsPodReady(pod) {
			n++
		}
	}
	return n
}

// NewStatus returns pdb's status for these counts, with observedGeneration and the DisruptionAllowed
// condition, and whether it differs from pdb's current status. No disruption is allowed while expected is 0,
// so that a budget whose first pods appear is safe before it is synced.
func NewStatus(pdb *policyv1.PodDisruptionBudget, currentHealthy, desiredHealthy, expected int32, disrupted map[string]metav1.Time) (policyv1.PodDisruptionBudgetStatus, bool) {
	allowed := currentHealthy - desiredHealthy
	if expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	cur := pdb.Status
	if cur.CurrentHealthy == currentHealthy && cur.DesiredHealthy == desiredHealthy && cur.ExpectedPods == expected &&
		cur.DisruptionsAllowed == allowed && apiequality.Semantic.DeepEqual(cur.DisruptedPods, disrupted) &&
		cur.ObservedGeneration == pdb.Generation && ConditionsAreUpToDate(pdb) {
		return cur, false
	}
	st := policyv1.PodDisruptionBudgetStatus{
		CurrentHealthy:     currentHealthy,
		DesiredHealthy:     desiredHealthy,
		ExpectedPods:       expected,
		DisruptionsAllowed: allowed,
		DisruptedPods:      disrupted,
		ObservedGeneration: pdb.Generation,
		Conditions:         append([]metav1.Condition(nil), cur.Conditions...),
	}
	SetDisruptionAllowedCondition(&st)
	return st, true
}

// SetDisruptionAllowedCondition sets the DisruptionAllowed condition of st from st.DisruptionsAllowed: True
// reason SufficientPods, or False reason InsufficientPods (upstream's pdbhelper.UpdateDisruptionAllowedCondition).
func SetDisruptionAllowedCondition(st *policyv1.PodDisruptionBudgetStatus) {
	if st.Conditions == nil {
		st.Conditions = []metav1.Condition{}
	}
	c := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.InsufficientPodsReason, ObservedGeneration: st.ObservedGeneration}
	if st.DisruptionsAllowed > 0 {
		c.Status, c.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	apimeta.SetStatusCondition(&st.Conditions, c)
}

// ConditionsAreUpToDate reports whether pdb's DisruptionAllowed condition agrees with its status and generation.
func ConditionsAreUpToDate(pdb *policyv1.PodDisruptionBudget) bool {
	c := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || pdb.Status.ObservedGeneration != pdb.Generation {
		return false
	}
	if pdb.Status.DisruptionsAllowed > 0 {
		return c.Status == metav1.ConditionTrue && c.Reason == policyv1.SufficientPodsReason
	}
	return c.Status == metav1.ConditionFalse && c.Reason == policyv1.InsufficientPodsReason
}

// StaleDisruptionTarget reports whether pod carries a DisruptionTarget=True condition that nothing acted on (it
// has no deletionTimestamp, is not terminal, and the kubelet did not set it), and how long after now it turns
// stale (0: it is stale now).
func StaleDisruptionTarget(pod *corev1.Pod, now time.Time) (bool, time.Duration) {
	if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false, 0
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.DisruptionTarget {
			continue
		}
		if c.Status != corev1.ConditionTrue || c.Reason == corev1.PodReasonTerminationByKubelet {
			return false, 0
		}
		return true, max(0, StalePodDisruptionTimeout-now.Sub(c.LastTransitionTime.Time))
	}
	return false, 0
}

// ClearDisruptionTarget returns a copy of pod's status with its DisruptionTarget condition set to False at now
// (reason and message cleared, as upstream), or false if it has none that is True.
func ClearDisruptionTarget(pod *corev1.Pod, now time.Time) (*corev1.Pod, bool) {
	for i, c := range pod.Status.Conditions {
		if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue {
			continue
		}
		out := pod.DeepCopy()
		out.Status.Conditions[i] = corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse,
			ObservedGeneration: pod.Generation, LastTransitionTime: metav1.NewTime(now)}
		return out, true
	}
	return nil, false
}
