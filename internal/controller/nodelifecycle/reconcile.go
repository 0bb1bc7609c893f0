package nodelifecycle

import (
	"fmt"
	"math"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// Defaults of Options, as kube-controller-manager's flags.
const (
	DefaultNodeMonitorGracePeriod = 40 * time.Second
	DefaultNodeStartupGracePeriod = 60 * time.Second
)

// Condition reasons and messages the controller writes, as upstream.
const (
	ReasonNodeStatusUnknown      = "NodeStatusUnknown"
	MessageNodeStatusUnknown     = "Kubelet stopped posting node status."
	ReasonNodeStatusNeverUpdated = "NodeStatusNeverUpdated"
	MessageNodeStatusNeverUpdate = "Kubelet never posted node status."
)

// Options configures the controller. The zero value takes upstream's defaults.
type Options struct {
	// NodeMonitorGracePeriod is how long a node may go without renewing its Lease or posting its Ready heartbeat
	// before its conditions become Unknown (--node-monitor-grace-period); default 40 s.
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is how long a node that has never posted a Ready condition gets, from its creation,
	// before it is marked Unknown (--node-startup-grace-period); default 60 s.
	NodeStartupGracePeriod time.Duration
}

// validate fills in defaults and rejects negative periods.
func (o *Options) validate() error {
	if o.NodeMonitorGracePeriod < 0 || o.NodeStartupGracePeriod < 0 {
		return fmt.Errorf("nodelifecycle: negative grace period (monitor %v, startup %v)", o.NodeMonitorGracePeriod, o.NodeStartupGracePeriod)
	}
	if o.NodeMonitorGracePeriod == 0 {
		o.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if o.NodeStartupGracePeriod == 0 {
		o.NodeStartupGracePeriod = DefaultNodeStartupGracePeriod
	}
	return nil
}

// Observation is what the controller remembers about a node between syncs (upstream's nodeHealthData). Times that
// other components wrote are only compared for change, never against the controller's clock, so clock skew
// between a kubelet and the controller does not matter.
type Observation struct {
	// Ready says the node had a Ready condition; Heartbeat is that condition's lastHeartbeatTime.
	Ready     bool
	Heartbeat time.Time
	// LeaseRenew is the newest renewTime of the node's Lease seen (zero: no Lease yet).
	LeaseRenew time.Time
	// Probe is when, on the controller's clock, the node was last seen alive: a new heartbeat or renewal first
	// observed (or, for a node that never posted a Ready condition, its creation).
	Probe time.Time
	// UntimedTaints holds, by "key:effect", when the node's NoExecute taints that carry no timeAdded were first seen.
	UntimedTaints map[string]time.Time
}

// Input is one node as the controller sees it.
type Input struct {
	// Node and Lease (nil: none) are read only.
	Node  *corev1.Node
	Lease *coordinationv1.Lease
	// Pods are the pods bound to Node, read only; pods already being deleted are never evicted again.
	Pods []*corev1.Pod
	// Last is the Observation returned by the previous sync of this node; nil the first time.
	Last *Observation
	// Now is the controller's clock.
	Now time.Time
}

// Result is what one sync of a node should change.
type Result struct {
	// Observation is what to remember once Conditions (if any) are written.
	Observation Observation
	// Conditions are the node's new status.conditions; nil leaves them as they are.
	Conditions []corev1.NodeCondition
	// NodeNotReady says Conditions turn a Ready node Unknown (the NodeNotReady event).
	NodeNotReady bool
	// Taints are the node's new spec.taints when TaintsChanged.
	Taints        []corev1.Taint
	TaintsChanged bool
	// MarkNotReady are pods on an unreachable node whose Ready condition is to become False.
	MarkNotReady []*corev1.Pod
	// Evict are the pods to delete now: they do not tolerate a NoExecute taint of the node, or their
	// tolerationSeconds ran out.
	Evict []*corev1.Pod
	// RequeueAfter is when to look again without an event: the end of the grace period or the next
	// tolerationSeconds to run out; 0 means not needed.
	RequeueAfter time.Duration
}

// Taints the controller owns: NoSchedule taints follow the node's conditions and spec.unschedulable
// (upstream's TaintNodesByCondition); NoExecute taints follow the Ready condition (taint-based eviction).
var (
	conditionTaints = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
		corev1.NodeReady:              {corev1.ConditionFalse: corev1.TaintNodeNotReady, corev1.ConditionUnknown: corev1.TaintNodeUnreachable},
		corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
		corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
		corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
		corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
	}
	noScheduleKeys = map[string]bool{
		corev1.TaintNodeNotReady: true, corev1.TaintNodeUnreachable: true, corev1.TaintNodeMemoryPressure: true,
		corev1.TaintNodeDiskPressure: true, corev1.TaintNodeNetworkUnavailable: true, corev1.TaintNodePIDPressure: true,
		corev1.TaintNodeUnschedulable: true,
	}
	// unknownOnSilence are the conditions set to Unknown when the kubelet goes silent (NetworkUnavailable is the
	// network plugin's, as upstream).
	unknownOnSilence = []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure}
)

// Reconcile decides one sync of a node: its health (conditions Unknown once no heartbeat came for the grace
// period), its taints, which of its pods to mark not ready and which to evict. It is pure.
func Reconcile(in Input, opts Options) Result {
	node, now := in.Node, in.Now
	var res Result
	obs := observe(node, in.Lease, in.Last, now)

	// 1. Health.
	conds := node.Status.Conditions
	grace := opts.NodeMonitorGracePeriod
	if condition(conds, corev1.NodeReady) == nil {
		grace = opts.NodeStartupGracePeriod
	}
	if deadline := obs.Probe.Add(grace); now.Before(deadline) {
		res.RequeueAfter = deadline.Sub(now)
	} else if silenced, changed := silence(node, now); changed {
		if c := condition(conds, corev1.NodeReady); c != nil && c.Status == corev1.ConditionTrue {
			res.NodeNotReady = true
		}
		conds, res.Conditions = silenced, silenced
		ready := condition(conds, corev1.NodeReady)
		obs.Ready, obs.Heartbeat = true, ready.LastHeartbeatTime.Time
	}
	ready := condition(conds, corev1.NodeReady)

	// 2. Taints.
	res.Taints, res.TaintsChanged = desiredTaints(node, conds, now)

	// 3. Pods of a node the kubelet no longer reports on are not ready.
	if ready != nil && ready.Status == corev1.ConditionUnknown {
		for _, p := range in.Pods {
			if c := podReady(p); c != nil && c.Status != corev1.ConditionFalse {
				res.MarkNotReady = append(res.MarkNotReady, p)
			}
		}
	}

	// 4. NoExecute taints evict the pods that do not tolerate them, at once or after tolerationSeconds.
	var noExecute []corev1.Taint
	for _, t := range res.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			noExecute = append(noExecute, t)
		}
	}
	var since time.Time // when the node was first seen with a NoExecute taint (the earliest of them)
	for _, t := range noExecute {
		at := now
		if t.TimeAdded != nil {
			at = t.TimeAdded.Time
		} else {
			k := t.Key + ":" + string(t.Effect)
			if prev, ok := in.Last.untimed(k); ok {
				at = prev
			}
			if obs.UntimedTaints == nil {
				obs.UntimedTaints = map[string]time.Time{}
			}
			obs.UntimedTaints[k] = at
		}
		if since.IsZero() || at.Before(since) {
			since = at
		}
	}
	if len(noExecute) > 0 {
		for _, p := range in.Pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			tolerated, used := matchingTolerations(noExecute, p.Spec.Tolerations)
			if !tolerated {
				res.Evict = append(res.Evict, p)
				continue
			}
			d := minTolerationTime(used)
			if d < 0 {
				continue // tolerates forever
			}
			start := since
			if c := p.CreationTimestamp.Time; c.After(start) {
				start = c // a pod that arrived later gets its full tolerationSeconds
			}
			if deadline := start.Add(d); now.Before(deadline) {
				res.RequeueAfter = earliest(res.RequeueAfter, deadline.Sub(now))
			} else {
				res.Evict = append(res.Evict, p)
			}
		}
	}
	res.Observation = obs
	return res
}

// observe updates what is known of the node's liveness (upstream's tryUpdateNodeHealth bookkeeping).
func observe(node *corev1.Node, lease *coordinationv1.Lease, last *Observation, now time.Time) Observation {
	var o Observation
	if c := condition(node.Status.Conditions, corev1.NodeReady); c != nil {
		o.Ready, o.Heartbeat = true, c.LastHeartbeatTime.Time
	}
	switch {
	case last == nil && !o.Ready:
		o.Probe = node.CreationTimestamp.Time
	case last == nil, last.Ready != o.Ready, !last.Heartbeat.Equal(o.Heartbeat):
		o.Probe = now
	default:
		o.Probe = last.Probe
	}
	if last != nil {
		o.LeaseRenew = last.LeaseRenew
	}
	if lease != nil && lease.Spec.RenewTime != nil && (last == nil || lease.Spec.RenewTime.After(o.LeaseRenew)) {
		o.LeaseRenew = lease.Spec.RenewTime.Time
		o.Probe = now
	}
	return o
}

func (o *Observation) untimed(key string) (time.Time, bool) {
	if o == nil {
		return time.Time{}, false
	}
	t, ok := o.UntimedTaints[key]
	return t, ok
}

// silence returns node's conditions with Ready and the pressure conditions Unknown, as upstream marks a node whose
// kubelet stopped reporting, and whether anything changed. Heartbeat times are kept.
func silence(node *corev1.Node, now time.Time) ([]corev1.NodeCondition, bool) {
	conds := append([]corev1.NodeCondition(nil), node.Status.Conditions...)
	changed := false
	for _, t := range unknownOnSilence {
		c := condition(conds, t)
		switch {
		case c == nil:
			conds = append(conds, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: ReasonNodeStatusNeverUpdated, Message: MessageNodeStatusNeverUpdate,
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: metav1.NewTime(now),
			})
			changed = true
		case c.Status != corev1.ConditionUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, ReasonNodeStatusUnknown, MessageNodeStatusUnknown, metav1.NewTime(now)
			changed = true
		}
	}
	return conds, changed
}

// desiredTaints returns node's taints with the controller's taints made to match conds and spec.unschedulable,
// and whether that changes them. Taints it does not own, and owned ones that stay, are kept as they are; added
// ones get timeAdded now. The not-ready and unreachable NoExecute taints are left alone while the node has no
// Ready condition at all.
func desiredTaints(node *corev1.Node, conds []corev1.NodeCondition, now time.Time) ([]corev1.Taint, bool) {
	want := map[corev1.Taint]bool{} // key and effect only
	for _, c := range conds {
		if key, ok := conditionTaints[c.Type][c.Status]; ok {
			want[corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule}] = true
		}
	}
	if node.Spec.Unschedulable {
		want[corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}] = true
	}
	ownNoExecute := false
	if ready := condition(conds, corev1.NodeReady); ready != nil {
		ownNoExecute = true
		switch ready.Status {
		case corev1.ConditionFalse:
			want[corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}] = true
		case corev1.ConditionUnknown:
			want[corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}] = true
		}
	}
	owned := func(t corev1.Taint) bool {
		switch t.Effect {
		case corev1.TaintEffectNoSchedule:
			return noScheduleKeys[t.Key]
		case corev1.TaintEffectNoExecute:
			return ownNoExecute && (t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable)
		}
		return false
	}
	var out []corev1.Taint
	changed := false
	have := map[corev1.Taint]bool{}
	for _, t := range node.Spec.Taints {
		k := corev1.Taint{Key: t.Key, Effect: t.Effect}
		if owned(t) && !want[k] {
			changed = true
			continue
		}
		have[k] = true
		out = append(out, t)
	}
	for _, k := range orderedTaints {
		if want[k] && !have[k] {
			added := metav1.NewTime(now)
			k.TimeAdded = &added
			out = append(out, k)
			changed = true
		}
	}
	if !changed {
		return node.Spec.Taints, false
	}
	return out, true
}

// orderedTaints lists the taints the controller may add, in the order it appends them.
var orderedTaints = []corev1.Taint{
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeDiskPressure, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule},
}

// matchingTolerations reports whether tolerations tolerate every taint, and which toleration (the first that
// matches) tolerates each, as upstream's GetMatchingTolerations.
func matchingTolerations(taints []corev1.Taint, tolerations []corev1.Toleration) (bool, []corev1.Toleration) {
	var used []corev1.Toleration
	for i := range taints {
		found := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(klog.Background(), &taints[i], false) {
				used = append(used, tolerations[j])
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, used
}

// minTolerationTime is the shortest tolerationSeconds of tolerations: 0 if one is 0 or negative, -1 if none sets
// it (tolerated forever).
func minTolerationTime(tolerations []corev1.Toleration) time.Duration {
	if len(tolerations) == 0 {
		return 0
	}
	least := int64(math.MaxInt64)
	for _, t := range tolerations {
		if t.TolerationSeconds == nil {
			continue
		}
		if *t.TolerationSeconds <= 0 {
			return 0
		}
		least = min(least, *t.TolerationSeconds)
	}
	if least == math.MaxInt64 {
		return -1
	}
	return time.Duration(least) * time.Second
}

func earliest(cur, d time.Duration) time.Duration {
	if cur == 0 || d < cur {
		return d
	}
	return cur
}

func condition(conds []corev1.NodeCondition, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func podReady(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
