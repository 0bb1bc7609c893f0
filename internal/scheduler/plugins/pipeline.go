package plugins

import (
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
)

// CycleState is what the per-node filters read for one pod, built once per scheduling cycle by PreFilter.
// Filter only reads it, so it may be called from several goroutines; Clone, AddPod and RemovePod serve
// preemption's dry run.
type CycleState struct {
	Pod          *framework.PodInfo
	NodeAffinity *RequiredNodeAffinity
	Spread       *SpreadFilterState
	InterPod     *InterPodAffinityState
	// PreFilterStatus, if not nil, rejects every node (e.g. an invalid spread selector).
	PreFilterStatus *framework.Status
}

// Nodes is the cluster as the cross-node rules read it.
type Nodes struct {
	// All is every node.
	All []*framework.NodeInfo
	// WithAffinity and WithRequiredAntiAffinity are the nodes holding pods with inter-pod (anti-)affinity
	// terms and with required anti-affinity terms (nil: look at All).
	WithAffinity, WithRequiredAntiAffinity []*framework.NodeInfo
	// Counter memoizes per-node pod counts across cycles (nil: count every time).
	Counter *Counter
}

// AllNodes treats every node as possibly holding pods with affinity terms.
func AllNodes(all []*framework.NodeInfo) Nodes {
	return Nodes{All: all, WithAffinity: all, WithRequiredAntiAffinity: all}
}

// PreFilter builds the state of pod's filters over all nodes.
func PreFilter(pod *framework.PodInfo, nodes Nodes, nsLabels framework.NamespaceLabels) *CycleState {
	st := &CycleState{Pod: pod, NodeAffinity: NewRequiredNodeAffinity(pod.Pod)}
	spread, err := PreFilterSpread(pod.Pod, st.NodeAffinity, nodes.All, nodes.Counter)
	if err != nil {
		st.PreFilterStatus = framework.NewStatus(PodTopologySpreadName, framework.UnschedulableAndUnresolvable, err.Error())
	}
	st.Spread = spread
	st.InterPod = PreFilterInterPodAffinity(pod, nodes, nsLabels)
	return st
}

// Filter runs the filters in Kubernetes' order and returns the first failure (nil if the pod fits).
func (st *CycleState) Filter(node *framework.NodeInfo) *framework.Status {
	if st.PreFilterStatus != nil {
		return st.PreFilterStatus
	}
	pod := st.Pod.Pod
	if s := NodeUnschedulable(pod, node); s != nil {
		return s
	}
	if s := NodeName(pod, node); s != nil {
		return s
	}
	if s := TaintToleration(pod, node); s != nil {
		return s
	}
	if s := NodeAffinity(st.NodeAffinity, node); s != nil {
		return s
	}
	if s := NodePorts(st.Pod, node); s != nil {
		return s
	}
	if s := NodeResourcesFit(st.Pod, node); s != nil {
		return s
	}
	if s := PodTopologySpread(st.Spread, pod, node); s != nil {
		return s
	}
	return InterPodAffinity(st.InterPod, node)
}

// Clone copies the state so that AddPod and RemovePod can change it.
func (st *CycleState) Clone() *CycleState {
	c := *st
	c.Spread = st.Spread.Clone()
	c.InterPod = st.InterPod.Clone()
	return &c
}

// AddPod accounts an existing pod p placed on node in the cross-node states (not in node itself).
func (st *CycleState) AddPod(p *framework.PodInfo, node *framework.NodeInfo) {
	st.Spread.Update(p, node.Node, 1)
	st.InterPod.Update(p, node.Node, 1)
}

// RemovePod unaccounts an existing pod p on node from the cross-node states.
func (st *CycleState) RemovePod(p *framework.PodInfo, node *framework.NodeInfo) {
	st.Spread.Update(p, node.Node, -1)
	st.InterPod.Update(p, node.Node, -1)
}

// Weights of the scores, as Kubernetes' default profile.
var Weights = map[string]int64{
	TaintTolerationName:    3,
	NodeAffinityName:       2,
	NodeResourcesFitName:   1,
	PodTopologySpreadName:  2,
	InterPodAffinityName:   2,
	BalancedAllocationName: 1,
	ImageLocalityName:      1,
}

// ScoreInput is what scoring reads beyond the feasible nodes.
type ScoreInput struct {
	// Nodes is the cluster (counts for spreading and inter-pod affinity come from all nodes).
	Nodes Nodes
	// DefaultSpread are the system default constraints for the pod (see DefaultSpreadConstraints).
	DefaultSpread []SpreadConstraint
	// ImageNodes tells on how many nodes an image is; nil disables ImageLocality.
	ImageNodes func(image string) int
	NSLabels   framework.NamespaceLabels
}

// Score scores the feasible nodes for st.Pod: each rule scores 0..MaxNodeScore per node, normalized over
// the feasible nodes, and the total is the weighted sum. perRule holds each rule's normalized scores.
func Score(st *CycleState, feasible []*framework.NodeInfo, in ScoreInput) (totals []int64, perRule map[string][]int64) {
	pod := st.Pod
	n := len(feasible)
	totals = make([]int64, n)
	perRule = make(map[string][]int64, len(Weights))
	add := func(name string, s []int64) {
		perRule[name] = s
		w := Weights[name]
		for i := range s {
			totals[i] += s[i] * w
		}
	}
	scores := func(f func(ni *framework.NodeInfo) int64) []int64 {
		s := make([]int64, n)
		for i, ni := range feasible {
			s[i] = f(ni)
		}
		return s
	}

	taint := scores(func(ni *framework.NodeInfo) int64 { return TaintTolerationScore(pod.Pod, ni) })
	NormalizeReverse(taint)
	add(TaintTolerationName, taint)

	if pref := NewPreferredNodeAffinity(pod.Pod); pref != nil {
		s := scores(func(ni *framework.NodeInfo) int64 { return NodeAffinityScore(pref, ni) })
		Normalize(s)
		add(NodeAffinityName, s)
	}

	add(NodeResourcesFitName, scores(func(ni *framework.NodeInfo) int64 { return LeastAllocated(pod, ni) }))
	add(BalancedAllocationName, scores(func(ni *framework.NodeInfo) int64 { return BalancedAllocation(pod, ni) }))

	if ss, err := PreScoreSpread(pod.Pod, in.DefaultSpread, st.NodeAffinity, feasible, in.Nodes.All, in.Nodes.Counter); err == nil && ss != nil {
		s := scores(func(ni *framework.NodeInfo) int64 { return SpreadScore(ss, pod.Pod, ni) })
		NormalizeSpread(ss, feasible, s)
		add(PodTopologySpreadName, s)
	}

	if ip := PreScoreInterPodAffinity(pod, in.Nodes, in.NSLabels); ip != nil {
		s := scores(func(ni *framework.NodeInfo) int64 { return InterPodAffinityScore(ip, ni) })
		NormalizeMinMax(s)
		add(InterPodAffinityName, s)
	}

	if in.ImageNodes != nil {
		total := len(in.Nodes.All)
		add(ImageLocalityName, scores(func(ni *framework.NodeInfo) int64 { return ImageLocality(pod.Pod, ni, in.ImageNodes, total) }))
	}
	return totals, perRule
}
