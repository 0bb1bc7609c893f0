package deployment

import (
	"fmt"
	"strconv"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var controllerKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Plan is what one sync of a Deployment should do. The shell carries it out in this order — Create, Update, Delete,
// Status, Revision — and stops at the first failure (the next sync recomputes everything).
type Plan struct {
	// Create is the new ReplicaSet to create, complete (name, labels, selector, replicas, annotations); nil if none.
	Create *appsv1.ReplicaSet
	// Update are existing ReplicaSets to write back whole (spec.replicas, annotations, minReadySeconds), in order.
	// They are copies; the ones handed to Reconcile are untouched.
	Update []*appsv1.ReplicaSet
	// Delete are old ReplicaSets to delete (revision history beyond revisionHistoryLimit).
	Delete []*appsv1.ReplicaSet
	// Events go on the Deployment, each once the write of the ReplicaSet it names has succeeded ("" = no write).
	Events []Event
	// Status is the Deployment's new status, to write through the status subresource; nil when unchanged.
	Status *appsv1.DeploymentStatus
	// Revision is the new value of the Deployment's revision annotation; "" when unchanged.
	Revision string
	// RequeueAfter, when positive, asks for another sync then, to check the progress deadline.
	RequeueAfter time.Duration
}

// Event is one Kubernetes Event to record on the Deployment.
type Event struct {
	// RS is the ReplicaSet whose write the event reports; "" for none.
	RS                    string
	Type, Reason, Message string
}

// Reconcile works out one sync of a Deployment, as Kubernetes' deployment controller does.
//
//	d    the Deployment (read only)
//	rss  the ReplicaSets d controls, after adoption and release (read only)
//	pods d's pods by the UID of the ReplicaSet controlling them (only Recreate looks at them); may be nil
//	now  the current time, for condition timestamps and the progress deadline
func Reconcile(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod, now time.Time) Plan {
	p := newPlanner(d, rss, pods, now)
	p.sync()
	return p.finish()
}

// planner simulates the upstream sync on private copies, recording writes instead of making them.
type planner struct {
	orig *appsv1.Deployment
	d    *appsv1.Deployment // working copy; its status and annotations change as upstream's would
	now  time.Time
	rss  []*appsv1.ReplicaSet // working copies
	pods map[types.UID][]*corev1.Pod

	created *appsv1.ReplicaSet
	dirty   map[*appsv1.ReplicaSet]bool
	order   []*appsv1.ReplicaSet
	plan    Plan
}

func newPlanner(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod, now time.Time) *planner {
	w := d.DeepCopy()
	if w.Spec.Replicas == nil {
		w.Spec.Replicas = ptr.To[int32](1)
	}
	if w.Spec.Strategy.Type == "" {
		w.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if isRollingUpdate(w) && w.Spec.Strategy.RollingUpdate == nil {
		q := intstr.FromString("25%")
		w.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &q, MaxUnavailable: &q}
	}
	p := &planner{orig: d, d: w, now: now, pods: pods, dirty: map[*appsv1.ReplicaSet]bool{}}
	for _, rs := range rss {
		c := rs.DeepCopy()
		if c.Spec.Replicas == nil {
			c.Spec.Replicas = ptr.To[int32](1)
		}
		p.rss = append(p.rss, c)
	}
	return p
}

func (p *planner) finish() Plan {
	p.plan.Update = p.order
	if !equality.Semantic.DeepEqual(p.d.Status, p.orig.Status) {
		st := p.d.Status
		p.plan.Status = &st
	}
	if rev := p.d.Annotations[RevisionAnnotation]; rev != "" && rev != p.orig.Annotations[RevisionAnnotation] {
		p.plan.Revision = rev
	}
	return p.plan
}

func (p *planner) event(rs, typ, reason, format string, args ...any) {
	p.plan.Events = append(p.plan.Events, Event{RS: rs, Type: typ, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// markDirty schedules rs to be written; the ReplicaSet being created just carries its final state.
func (p *planner) markDirty(rs *appsv1.ReplicaSet) {
	if rs == p.created || p.dirty[rs] {
		return
	}
	p.dirty[rs] = true
	p.order = append(p.order, rs)
}

func (p *planner) sync() {
	d := p.d
	if d.Spec.Selector == nil || equality.Semantic.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		p.event("", corev1.EventTypeWarning, EventSelectingAll, "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
		}
		return
	}
	if d.DeletionTimestamp != nil {
		newRS, oldRSs := p.allReplicaSets(false)
		p.syncStatus(append(oldRSs, newRS), newRS)
		return
	}
	p.checkPausedConditions()
	if d.Spec.Paused {
		p.scaleSync()
		return
	}
	if p.isScalingEvent() {
		p.scaleSync()
		return
	}
	if isRollingUpdate(d) {
		p.rolloutRolling()
	} else {
		p.rolloutRecreate()
	}
}

// allReplicaSets finds (or, if create, plans) the new ReplicaSet and syncs revisions; it returns it (nil if none)
// and all the old ones.
func (p *planner) allReplicaSets(create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	existing := findNewRS(p.d, p.rss)
	_, allOld := findOldRSs(existing, p.rss)
	newRS := p.newReplicaSet(existing, allOld, create)
	return newRS, allOld
}

func (p *planner) newReplicaSet(existing *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, create bool) *appsv1.ReplicaSet {
	d := p.d
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)
	if existing != nil {
		changed := setNewRSAnnotations(d, existing, newRevision, true)
		if changed || existing.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			existing.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			p.markDirty(existing)
		}
		setRevision(d, existing.Annotations[RevisionAnnotation])
		if hasProgressDeadline(d) && GetCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", existing.Name), p.now))
		}
		return existing
	}
	if !create {
		return nil
	}
	template := d.Spec.Template.DeepCopy()
	hash := ComputeHash(template, d.Status.CollisionCount)
	template.Labels = cloneAndAddLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*controllerutil.NewControllerRef(d, controllerKind)},
			Labels:          cloneAndAddLabel(template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash),
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        cloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        *template,
		},
	}
	n := newRSNewReplicas(d, append(append([]*appsv1.ReplicaSet(nil), oldRSs...), rs), rs)
	rs.Spec.Replicas = ptr.To(n)
	setNewRSAnnotations(d, rs, newRevision, false)
	p.created = rs
	p.plan.Create = rs
	p.rss = append(p.rss, rs)
	if n > 0 {
		p.event(rs.Name, corev1.EventTypeNormal, EventScalingReplicaSet, "Scaled up replica set %s from 0 to %d", rs.Name, n)
	}
	setRevision(d, newRevision)
	if hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSet,
			fmt.Sprintf("Created new replica set %q", rs.Name), p.now))
	}
	return rs
}

func setRevision(d *appsv1.Deployment, rev string) {
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = rev
}

// checkPausedConditions marks pausing and resuming in the Progressing condition, so a resumed deployment does not
// time out for the time it spent paused.
func (p *planner) checkPausedConditions() {
	d := p.d
	if !hasProgressDeadline(d) {
		return
	}
	cond := GetCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return
	}
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	switch {
	case d.Spec.Paused && !pausedCond:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", p.now))
	case !d.Spec.Paused && pausedCond:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", p.now))
	}
}

// isScalingEvent: some active ReplicaSet was sized for a different spec.replicas than d has now.
func (p *planner) isScalingEvent() bool {
	newRS, oldRSs := p.allReplicaSets(false)
	for _, rs := range activeRSs(append(oldRSs, newRS)) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicasOf(p.d) {
			return true
		}
	}
	return false
}

// scaleSync handles scaling events and paused deployments: resize without rolling out.
func (p *planner) scaleSync() {
	newRS, oldRSs := p.allReplicaSets(false)
	p.scale(newRS, oldRSs)
	if p.d.Spec.Paused {
		p.cleanup(oldRSs)
	}
	p.syncStatus(append(oldRSs, newRS), newRS)
}

// scale spreads spec.replicas (+ surge) over the active ReplicaSets in proportion to their sizes.
func (p *planner) scale(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) {
	d := p.d
	if rs := activeOrLatest(newRS, oldRSs); rs != nil {
		if rsReplicas(rs) != replicasOf(d) {
			p.scaleAndRecord(rs, replicasOf(d))
		}
		return
	}
	if isSaturated(d, newRS) {
		for _, old := range activeRSs(oldRSs) {
			p.scaleAndRecord(old, 0)
		}
		return
	}
	if !isRollingUpdate(d) {
		return
	}
	all := activeRSs(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS))
	allowed := int32(0)
	if replicasOf(d) > 0 {
		allowed = replicasOf(d) + MaxSurge(d)
	}
	toAdd := allowed - sumReplicas(all)
	op := ""
	switch {
	case toAdd > 0:
		bySizeNewer(all)
		op = "up"
	case toAdd < 0:
		bySizeOlder(all)
		op = "down"
	}
	added := int32(0)
	size := make([]int32, len(all))
	for i, rs := range all {
		size[i] = rsReplicas(rs)
		if toAdd != 0 {
			pr := proportion(rs, d, toAdd, added)
			size[i] += pr
			added += pr
		}
	}
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			size[i] = max(size[i]+toAdd-added, 0)
		}
		p.scaleRS(rs, size[i], op)
	}
}

// activeOrLatest returns the only active ReplicaSet, or the newest if none is active; nil if several are active.
func activeOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	olds := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	byCreation(olds)
	// newest first
	for i, j := 0, len(olds)-1; i < j; i, j = i+1, j-1 {
		olds[i], olds[j] = olds[j], olds[i]
	}
	active := activeRSs(append(olds, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return olds[0]
	case 1:
		return active[0]
	}
	return nil
}

// scaleAndRecord resizes rs to n ("up" or "down" by comparison); a no-op when it already has n.
func (p *planner) scaleAndRecord(rs *appsv1.ReplicaSet, n int32) bool {
	if rsReplicas(rs) == n {
		return false
	}
	op := "up"
	if rsReplicas(rs) > n {
		op = "down"
	}
	return p.scaleRS(rs, n, op)
}

// scaleRS sets rs's size and replicas annotations; it reports whether the size changed.
func (p *planner) scaleRS(rs *appsv1.ReplicaSet, n int32, op string) bool {
	d := p.d
	sizeChanged := rsReplicas(rs) != n
	annotations := replicasAnnotationsNeedUpdate(rs, replicasOf(d), replicasOf(d)+MaxSurge(d))
	if !sizeChanged && !annotations {
		return false
	}
	old := rsReplicas(rs)
	rs.Spec.Replicas = ptr.To(n)
	setReplicasAnnotations(rs, replicasOf(d), replicasOf(d)+MaxSurge(d))
	p.markDirty(rs)
	if sizeChanged {
		p.event(rs.Name, corev1.EventTypeNormal, EventScalingReplicaSet, "Scaled %s replica set %s from %d to %d", op, rs.Name, old, n)
	}
	return sizeChanged
}

// cleanup deletes the oldest old ReplicaSets beyond revisionHistoryLimit that are fully scaled down and settled.
func (p *planner) cleanup(oldRSs []*appsv1.ReplicaSet) {
	d := p.d
	if !hasRevisionHistoryLimit(d) {
		return
	}
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := int32(len(cleanable)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return
	}
	byRevision(cleanable)
	for _, rs := range cleanable[:diff] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration || p.dirty[rs] {
			continue
		}
		p.plan.Delete = append(p.plan.Delete, rs)
	}
}

// calculateStatus is the status the ReplicaSets add up to, keeping d's conditions and updating Available.
func (p *planner) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	d := p.d
	available := sumStatus(all, statusAvailable)
	unavailable := max(sumReplicas(all)-available, 0)
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(all, statusReplicas),
		UpdatedReplicas:     sumStatus([]*appsv1.ReplicaSet{newRS}, statusReplicas),
		ReadyReplicas:       sumStatus(all, statusReady),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
	}
	st.Conditions = append(st.Conditions, d.Status.Conditions...)
	if available >= replicasOf(d)-MaxUnavailable(d) {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumReplicasAvail, "Deployment has minimum availability.", p.now))
	} else {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumReplicasUnavail, "Deployment does not have minimum availability.", p.now))
	}
	return st
}

// syncStatus is the plain status update used when scaling or paused.
func (p *planner) syncStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	p.d.Status = p.calculateStatus(all, newRS)
}

// syncRolloutStatus is the status update of a rollout: it also maintains the Progressing condition and the
// ReplicaFailure condition, and asks for a requeue to check the progress deadline.
func (p *planner) syncRolloutStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	d := p.d
	st := p.calculateStatus(all, newRS)
	if !hasProgressDeadline(d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	}
	cur := GetCondition(d.Status, appsv1.DeploymentProgressing)
	complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(d) && !complete {
		switch {
		case deploymentComplete(d, &st):
			msg := fmt.Sprintf("Deployment %q has successfully progressed.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
			}
			setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable, msg, p.now))
		case deploymentProgressing(d, &st):
			msg := fmt.Sprintf("Deployment %q is progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
			}
			c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, msg, p.now)
			// Progress refreshes lastUpdateTime even when the reason stays the same.
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(&st, appsv1.DeploymentProgressing)
			}
			setCondition(&st, c)
		case deploymentTimedOut(d, &st, p.now):
			msg := fmt.Sprintf("Deployment %q has timed out progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
			}
			setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut, msg, p.now))
		}
	}
	if failure := replicaFailure(all, newRS); failure != nil {
		setCondition(&st, *failure)
	} else {
		removeCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	if equality.Semantic.DeepEqual(d.Status, st) {
		p.plan.RequeueAfter = p.stuckRequeue(st)
		return
	}
	d.Status = st
}

// replicaFailure promotes a ReplicaFailure condition of the new ReplicaSet (or else of an old one).
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, all...) {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: c.Status,
					LastTransitionTime: c.LastTransitionTime, LastUpdateTime: c.LastTransitionTime,
					Reason: c.Reason, Message: c.Message,
				}
			}
		}
	}
	return nil
}

// stuckRequeue: when nothing changed, how long until the progress deadline should be checked again (0: never).
func (p *planner) stuckRequeue(st appsv1.DeploymentStatus) time.Duration {
	d := p.d
	cur := GetCondition(d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil {
		return 0
	}
	if deploymentComplete(d, &st) || cur.Reason == ReasonTimedOut {
		return 0
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(p.now)
	if after < time.Second {
		return time.Second
	}
	// One more second against sub-second skew between the condition timestamp and the clock.
	return after + time.Second
}

// rolloutRolling: scale the new ReplicaSet up as far as maxSurge allows, else the old ones down as far as
// maxUnavailable allows; once complete, clean up history.
func (p *planner) rolloutRolling() {
	newRS, oldRSs := p.allReplicaSets(true)
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	if p.reconcileNewReplicaSet(all, newRS) {
		p.syncRolloutStatus(all, newRS)
		return
	}
	if p.reconcileOldReplicaSets(all, activeRSs(oldRSs), newRS) {
		p.syncRolloutStatus(all, newRS)
		return
	}
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	p.syncRolloutStatus(all, newRS)
}

func (p *planner) reconcileNewReplicaSet(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	want := replicasOf(p.d)
	switch {
	case rsReplicas(newRS) == want:
		return false
	case rsReplicas(newRS) > want:
		return p.scaleAndRecord(newRS, want)
	}
	return p.scaleAndRecord(newRS, newRSNewReplicas(p.d, all, newRS))
}

func (p *planner) reconcileOldReplicaSets(all, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	if sumReplicas(oldRSs) == 0 {
		return false
	}
	d := p.d
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	newUnavailable := rsReplicas(newRS) - newRS.Status.AvailableReplicas
	// Pods of the new ReplicaSet that are not available yet count against the budget too, so that a crash-looping
	// new ReplicaSet cannot drain the old ones.
	maxScaledDown := sumReplicas(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false
	}
	cleaned, ok := p.cleanupUnhealthyReplicas(oldRSs, maxScaledDown)
	if !ok {
		return false
	}
	scaled := p.scaleDownOldForRollingUpdate(append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS), oldRSs)
	return cleaned+scaled > 0
}

// cleanupUnhealthyReplicas scales old ReplicaSets down by their unavailable pods (oldest first), up to maxCleanup in
// all; that costs no availability. It gives up (false) on a ReplicaSet reporting more available pods than replicas,
// a stale status, as upstream does.
func (p *planner) cleanupUnhealthyReplicas(oldRSs []*appsv1.ReplicaSet, maxCleanup int32) (int32, bool) {
	sorted := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	byCreation(sorted)
	total := int32(0)
	for _, rs := range sorted {
		if total >= maxCleanup {
			break
		}
		if rsReplicas(rs) == 0 || rsReplicas(rs) == rs.Status.AvailableReplicas {
			continue
		}
		down := min(maxCleanup-total, rsReplicas(rs)-rs.Status.AvailableReplicas)
		if down < 0 {
			return total, false
		}
		p.scaleAndRecord(rs, rsReplicas(rs)-down)
		total += down
	}
	return total, true
}

// scaleDownOldForRollingUpdate scales old ReplicaSets down (oldest first) while availability stays above
// spec.replicas - maxUnavailable.
func (p *planner) scaleDownOldForRollingUpdate(all, oldRSs []*appsv1.ReplicaSet) int32 {
	d := p.d
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	available := sumStatus(all, statusAvailable)
	if available <= minAvailable {
		return 0
	}
	sorted := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	byCreation(sorted)
	total, want := int32(0), available-minAvailable
	for _, rs := range sorted {
		if total >= want {
			break
		}
		if rsReplicas(rs) == 0 {
			continue
		}
		down := min(rsReplicas(rs), want-total)
		p.scaleAndRecord(rs, rsReplicas(rs)-down)
		total += down
	}
	return total
}

// rolloutRecreate: scale every old ReplicaSet to zero, wait until their pods are gone, then create and scale up the
// new one.
func (p *planner) rolloutRecreate() {
	newRS, oldRSs := p.allReplicaSets(false)
	all := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	scaledDown := false
	for _, rs := range activeRSs(oldRSs) {
		if p.scaleAndRecord(rs, 0) {
			scaledDown = true
		}
	}
	if scaledDown {
		p.syncRolloutStatus(all, newRS)
		return
	}
	if oldPodsRunning(newRS, oldRSs, p.pods) {
		p.syncRolloutStatus(all, newRS)
		return
	}
	if newRS == nil {
		newRS, oldRSs = p.allReplicaSets(true)
		all = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	}
	p.scaleAndRecord(newRS, replicasOf(p.d))
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	p.syncRolloutStatus(all, newRS)
}

// oldPodsRunning: an old ReplicaSet still reports pods, or a pod of one is not terminal yet.
func oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod) bool {
	if sumStatus(oldRSs, statusReplicas) > 0 {
		return true
	}
	for uid, list := range pods {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, pod := range list {
			if pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded {
				return true
			}
		}
	}
	return false
}

// CreateFailed is the status to write when creating the new ReplicaSet failed with err: Progressing=False
// ReplicaSetCreateError, if d has a progress deadline (otherwise nil). The message is also the warning event's.
func CreateFailed(d *appsv1.Deployment, rsName string, err error, now time.Time) (*appsv1.DeploymentStatus, string) {
	msg := fmt.Sprintf("Failed to create new replica set %q: %v", rsName, err)
	if !hasProgressDeadline(d) {
		return nil, msg
	}
	st := d.Status.DeepCopy()
	setCondition(st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonFailedRSCreate, msg, now))
	return st, msg
}
