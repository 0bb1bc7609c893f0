package plugins

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"
)

var (
	statusSpreadMissingLabel = framework.NewStatus(PodTopologySpreadName, framework.UnschedulableAndUnresolvable, ErrReasonSpreadMissingLabel)
	statusSpread             = framework.NewStatus(PodTopologySpreadName, framework.Unschedulable, ErrReasonSpreadConstraints)
)

// SpreadConstraint is a parsed topologySpreadConstraint.
type SpreadConstraint struct {
	MaxSkew     int32
	TopologyKey string
	Selector    labels.Selector
	MinDomains  int32
	// HonorAffinity: only nodes matching the pod's node affinity count (nodeAffinityPolicy, default Honor).
	HonorAffinity bool
	// HonorTaints: only nodes whose taints the pod tolerates count (nodeTaintsPolicy, default Ignore).
	HonorTaints bool
}

// SpreadConstraints parses the pod's constraints with the given whenUnsatisfiable; matchLabelKeys add In
// requirements on the pod's own label values.
func SpreadConstraints(pod *v1.Pod, action v1.UnsatisfiableConstraintAction) ([]SpreadConstraint, error) {
	var out []SpreadConstraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("topology spread selector: %w", err)
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				if r, err := labels.NewRequirement(k, selection.In, []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
		sc := SpreadConstraint{MaxSkew: c.MaxSkew, TopologyKey: c.TopologyKey, Selector: sel, MinDomains: 1,
			HonorAffinity: true}
		if c.MinDomains != nil {
			sc.MinDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil && *c.NodeAffinityPolicy == v1.NodeInclusionPolicyIgnore {
			sc.HonorAffinity = false
		}
		if c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == v1.NodeInclusionPolicyHonor {
			sc.HonorTaints = true
		}
		out = append(out, sc)
	}
	return out, nil
}

// DefaultSpreadConstraints are the system defaults applied (for scoring only) to a pod without constraints of
// its own: skew 3 over hostnames and 5 over zones among the pods that selector (the pod's Services,
// ReplicaSet, ReplicationController or StatefulSet) selects. None if selector is empty.
func DefaultSpreadConstraints(selector labels.Selector) []SpreadConstraint {
	if selector == nil || selector.Empty() {
		return nil
	}
	return []SpreadConstraint{
		{MaxSkew: defaultSpreadHostSkew, TopologyKey: labelHostname, Selector: selector, MinDomains: 1, HonorAffinity: true},
		{MaxSkew: defaultSpreadZoneSkew, TopologyKey: labelTopologyZone, Selector: selector, MinDomains: 1, HonorAffinity: true},
	}
}

// spreadKey names the predicate of countMatching for a Counter.
func spreadKey(sel labels.Selector, ns string) string {
	return "spread\x00" + ns + "\x00" + sel.String()
}

// matchingPods selects the pods in ns that sel selects and that are not being deleted.
func matchingPods(sel labels.Selector, ns string) func(*v1.Pod) bool {
	return func(p *v1.Pod) bool {
		return p.Namespace == ns && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels))
	}
}

// countMatching counts the node's pods in ns that sel selects and that are not being deleted.
func countMatching(c *Counter, ni *framework.NodeInfo, sel labels.Selector, ns, key string) int {
	return c.Count(ni, key, matchingPods(sel, ns))
}

// computeDomains answers, for one node, what the spread loops ask: whether it has every constraint's key, and per
// constraint whether the constraint's inclusion policies count the node and its domain value ("" without the
// key). With skipMissing, a node lacking a key is answered by hasAll alone.
func computeDomains(pod *v1.Pod, req *RequiredNodeAffinity, cs []SpreadConstraint, node *v1.Node, skipMissing bool) nodeDomains {
	d := nodeDomains{hasAll: hasAllKeys(node, cs), included: make([]bool, len(cs)), values: make([]string, len(cs))}
	if skipMissing && !d.hasAll {
		return d
	}
	for i := range cs {
		d.values[i] = node.Labels[cs[i].TopologyKey]
		d.included[i] = cs[i].includes(pod, req, node)
	}
	return d
}

// domainsKey names what computeDomains reads besides the node: the constraints' keys and policies, and the
// pod's required node affinity and tolerations when a policy honours them.
func domainsKey(pod *v1.Pod, cs []SpreadConstraint) string {
	var b strings.Builder
	affinity, taints := false, false
	for i := range cs {
		fmt.Fprintf(&b, "%s\x00%t\x00%t\x00", cs[i].TopologyKey, cs[i].HonorAffinity, cs[i].HonorTaints)
		affinity = affinity || cs[i].HonorAffinity
		taints = taints || cs[i].HonorTaints
	}
	if affinity {
		keys := make([]string, 0, len(pod.Spec.NodeSelector))
		for k := range pod.Spec.NodeSelector {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s,", k, pod.Spec.NodeSelector[k])
		}
		if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			j, _ := json.Marshal(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
			b.Write(j)
		}
	}
	b.WriteString("\x00")
	if taints {
		j, _ := json.Marshal(pod.Spec.Tolerations)
		b.Write(j)
	}
	return b.String()
}

func hasAllKeys(node *v1.Node, cs []SpreadConstraint) bool {
	for i := range cs {
		if _, ok := node.Labels[cs[i].TopologyKey]; !ok {
			return false
		}
	}
	return true
}

func (c *SpreadConstraint) includes(pod *v1.Pod, req *RequiredNodeAffinity, node *v1.Node) bool {
	if c.HonorAffinity && req != nil && !req.Match(node) {
		return false
	}
	if c.HonorTaints {
		for i := range node.Spec.Taints {
			t := &node.Spec.Taints[i]
			if (t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute) && !TolerationsTolerateTaint(pod.Spec.Tolerations, t) {
				return false
			}
		}
	}
	return true
}

// SpreadFilterState counts, for each DoNotSchedule constraint, the matching pods in each topology domain of
// the eligible nodes (those with every constraint's key that the constraint's node inclusion policies admit).
type SpreadFilterState struct {
	pod         *v1.Pod
	req         *RequiredNodeAffinity
	Constraints []SpreadConstraint
	// Counts[i][value] is the number of matching pods in domain value of constraint i.
	Counts []map[string]int
	// mins[i] is the smallest count of constraint i (see min); kept up to date by Update.
	mins []int
}

// PreFilterSpread builds the filter state over all nodes; nil when the pod has no DoNotSchedule constraint.
func PreFilterSpread(pod *v1.Pod, req *RequiredNodeAffinity, nodes []*framework.NodeInfo, counter *Counter) (*SpreadFilterState, error) {
	cs, err := SpreadConstraints(pod, v1.DoNotSchedule)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	s := &SpreadFilterState{pod: pod, req: req, Constraints: cs, Counts: make([]map[string]int, len(cs)), mins: make([]int, len(cs))}
	tallies := make([]*Tally, len(cs))
	matches := make([]func(*v1.Pod) bool, len(cs))
	for i := range s.Counts {
		if cs[i].TopologyKey == labelHostname {
			s.Counts[i] = make(map[string]int, len(nodes))
		} else {
			s.Counts[i] = map[string]int{}
		}
		tallies[i] = counter.For(spreadKey(cs[i].Selector, pod.Namespace))
		matches[i] = matchingPods(cs[i].Selector, pod.Namespace)
	}
	domains := counter.DomainsFor(domainsKey(pod, cs))
	compute := func(node *v1.Node) nodeDomains { return computeDomains(pod, req, cs, node, true) }
	for pos, ni := range nodes {
		d := domains.At(pos, ni.Node, compute)
		if !d.hasAll {
			continue
		}
		for i := range cs {
			if d.included[i] {
				s.Counts[i][d.values[i]] += tallies[i].CountAt(pos, ni, matches[i])
			}
		}
	}
	for i := range cs {
		s.mins[i] = s.min(i)
	}
	return s, nil
}

// min computes the smallest count over constraint i's domains, or 0 when there are fewer than minDomains.
func (s *SpreadFilterState) min(i int) int {
	if len(s.Counts[i]) < int(s.Constraints[i].MinDomains) {
		return 0
	}
	m := math.MaxInt
	for _, n := range s.Counts[i] {
		if n < m {
			m = n
		}
	}
	if m == math.MaxInt {
		return 0
	}
	return m
}

// PodTopologySpread rejects a node lacking a constraint's topology key (unresolvable), or where placing the
// pod would make its domain exceed the constraint's maxSkew above the least-populated eligible domain.
func PodTopologySpread(s *SpreadFilterState, pod *v1.Pod, node *framework.NodeInfo) *framework.Status {
	if s == nil {
		return nil
	}
	for i := range s.Constraints {
		c := &s.Constraints[i]
		v, ok := node.Node.Labels[c.TopologyKey]
		if !ok {
			return statusSpreadMissingLabel
		}
		self := 0
		if c.Selector.Matches(labels.Set(pod.Labels)) {
			self = 1
		}
		if s.Counts[i][v]+self-s.mins[i] > int(c.MaxSkew) {
			return statusSpread
		}
	}
	return nil
}

// Clone copies the state for a dry run.
func (s *SpreadFilterState) Clone() *SpreadFilterState {
	if s == nil {
		return nil
	}
	c := *s
	c.mins = append([]int(nil), s.mins...)
	c.Counts = make([]map[string]int, len(s.Counts))
	for i, m := range s.Counts {
		c.Counts[i] = make(map[string]int, len(m))
		for k, v := range m {
			c.Counts[i][k] = v
		}
	}
	return &c
}

// Update accounts (delta +1) or unaccounts (-1) an existing pod p on node, as preemption's dry run moves it.
func (s *SpreadFilterState) Update(p *framework.PodInfo, node *v1.Node, delta int) {
	if s == nil || p.Pod.Namespace != s.pod.Namespace || !hasAllKeys(node, s.Constraints) {
		return
	}
	for i := range s.Constraints {
		c := &s.Constraints[i]
		if c.includes(s.pod, s.req, node) && p.Pod.DeletionTimestamp == nil && c.Selector.Matches(labels.Set(p.Pod.Labels)) {
			s.Counts[i][node.Labels[c.TopologyKey]] += delta
			s.mins[i] = s.min(i)
		}
	}
}

// SpreadScoreState holds what scoring needs for ScheduleAnyway (or system default) constraints.
type SpreadScoreState struct {
	Constraints []SpreadConstraint
	// IgnoredNodes lack a topology key (only when the constraints are the pod's own) and score 0.
	IgnoredNodes sets.Set[string]
	// Counts[i][value]: matching pods per domain for non-hostname constraints.
	Counts  []map[string]int64
	Weights []float64
	counter *Counter
	keys    []string
}

// PreScoreSpread builds the scoring state from the pod's ScheduleAnyway constraints or, if the pod has no
// constraints at all, from defaults (DefaultSpreadConstraints). Domains are those of the feasible nodes;
// counts come from all nodes. nil when there is nothing to score.
func PreScoreSpread(pod *v1.Pod, defaults []SpreadConstraint, req *RequiredNodeAffinity, feasible, all []*framework.NodeInfo, counter *Counter) (*SpreadScoreState, error) {
	cs, err := SpreadConstraints(pod, v1.ScheduleAnyway)
	if err != nil {
		return nil, err
	}
	requireAll := true
	if len(pod.Spec.TopologySpreadConstraints) == 0 {
		cs, requireAll = defaults, false
	}
	if len(cs) == 0 {
		return nil, nil
	}
	s := &SpreadScoreState{Constraints: cs, IgnoredNodes: sets.New[string](), Counts: make([]map[string]int64, len(cs)),
		Weights: make([]float64, len(cs)), counter: counter, keys: make([]string, len(cs))}
	size := make([]int, len(cs))
	for i := range cs {
		s.Counts[i] = map[string]int64{}
		s.keys[i] = spreadKey(cs[i].Selector, pod.Namespace)
	}
	for _, ni := range feasible {
		node := ni.Node
		if requireAll && !hasAllKeys(node, cs) {
			s.IgnoredNodes.Insert(node.Name)
			continue
		}
		for i := range cs {
			if cs[i].TopologyKey == labelHostname {
				continue
			}
			v := node.Labels[cs[i].TopologyKey]
			if _, ok := s.Counts[i][v]; !ok {
				s.Counts[i][v] = 0
				size[i]++
			}
		}
	}
	for i := range cs {
		sz := size[i]
		if cs[i].TopologyKey == labelHostname {
			sz = len(feasible) - len(s.IgnoredNodes)
		}
		s.Weights[i] = math.Log(float64(sz + 2))
	}
	needCount := false
	for i := range cs {
		if cs[i].TopologyKey != labelHostname && len(s.Counts[i]) > 0 {
			needCount = true
		}
	}
	if !needCount {
		return s, nil
	}
	tallies := make([]*Tally, len(cs))
	matches := make([]func(*v1.Pod) bool, len(cs))
	for i := range cs {
		tallies[i], matches[i] = counter.For(s.keys[i]), matchingPods(cs[i].Selector, pod.Namespace)
	}
	domains := counter.DomainsFor(domainsKey(pod, cs))
	compute := func(node *v1.Node) nodeDomains { return computeDomains(pod, req, cs, node, false) }
	for pos, ni := range all {
		d := domains.At(pos, ni.Node, compute)
		if requireAll && !d.hasAll {
			continue
		}
		for i := range cs {
			if cs[i].TopologyKey == labelHostname || !d.included[i] {
				continue
			}
			if _, ok := s.Counts[i][d.values[i]]; !ok {
				continue
			}
			s.Counts[i][d.values[i]] += int64(tallies[i].CountAt(pos, ni, matches[i]))
		}
	}
	return s, nil
}

// SpreadScore is, summed over the constraints whose key the node has, count*weight + (maxSkew-1), where
// count is the matching pods on the node (hostname) or in its domain and weight is log(domains+2); lower is
// better, NormalizeSpread inverts it.
func SpreadScore(s *SpreadScoreState, pod *v1.Pod, node *framework.NodeInfo) int64 {
	if s == nil || s.IgnoredNodes.Has(node.Node.Name) {
		return 0
	}
	var score float64
	for i := range s.Constraints {
		c := &s.Constraints[i]
		v, ok := node.Node.Labels[c.TopologyKey]
		if !ok {
			continue
		}
		var cnt int64
		if c.TopologyKey == labelHostname {
			cnt = int64(countMatching(s.counter, node, c.Selector, pod.Namespace, s.keys[i]))
		} else {
			cnt = s.Counts[i][v]
		}
		score += float64(cnt)*s.Weights[i] + float64(c.MaxSkew-1)
	}
	return int64(math.Round(score))
}

// NormalizeSpread maps raw scores to 0..100, the lowest raw score highest: 100*(max+min-s)/max over the
// nodes not ignored; ignored nodes get 0, and all get 100 when max is 0.
func NormalizeSpread(s *SpreadScoreState, nodes []*framework.NodeInfo, scores []int64) {
	if s == nil {
		return
	}
	var minS int64 = math.MaxInt64
	var maxS int64
	for i, n := range nodes {
		if s.IgnoredNodes.Has(n.Node.Name) {
			continue
		}
		if scores[i] < minS {
			minS = scores[i]
		}
		if scores[i] > maxS {
			maxS = scores[i]
		}
	}
	for i, n := range nodes {
		switch {
		case s.IgnoredNodes.Has(n.Node.Name):
			scores[i] = 0
		case maxS == 0:
			scores[i] = MaxNodeScore
		default:
			scores[i] = MaxNodeScore * (maxS + minS - scores[i]) / maxS
		}
	}
}
