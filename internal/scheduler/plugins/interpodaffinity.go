package plugins

import (
	"math"
	"strings"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

var (
	statusAffinityRules     = framework.NewStatus(InterPodAffinityName, framework.UnschedulableAndUnresolvable, ErrReasonAffinityRules)
	statusAntiAffinityRules = framework.NewStatus(InterPodAffinityName, framework.Unschedulable, ErrReasonAntiAffinityRules)
	statusExistingAnti      = framework.NewStatus(InterPodAffinityName, framework.Unschedulable, ErrReasonExistingAntiAffinity)
)

type topologyPair struct{ key, value string }

type pairCounts map[topologyPair]int64

func (m pairCounts) add(key string, node *v1.Node, delta int64) {
	v, ok := node.Labels[key]
	if !ok {
		return
	}
	tp := topologyPair{key, v}
	m[tp] += delta
	if m[tp] == 0 {
		delete(m, tp)
	}
}

// InterPodAffinityState counts, per topology domain, the existing pods that make the pod's required
// (anti-)affinity terms true, and the existing pods whose required anti-affinity the pod would violate.
type InterPodAffinityState struct {
	pod      *framework.PodInfo
	nsLabels framework.NamespaceLabels
	// ExistingAntiAffinity: domains holding a pod whose required anti-affinity term selects the pod.
	ExistingAntiAffinity pairCounts
	// Affinity: domains holding pods that match all the pod's required affinity terms (per term key).
	Affinity pairCounts
	// AntiAffinity: domains holding pods that a required anti-affinity term of the pod selects.
	AntiAffinity pairCounts
}

// PreFilterInterPodAffinity builds the filter state over all nodes; it only visits the nodes holding pods
// with required anti-affinity when the pod has no required terms of its own.
func PreFilterInterPodAffinity(pod *framework.PodInfo, nodes Nodes, nsLabels framework.NamespaceLabels) *InterPodAffinityState {
	s := &InterPodAffinityState{pod: pod, nsLabels: nsLabels,
		ExistingAntiAffinity: pairCounts{}, Affinity: pairCounts{}, AntiAffinity: pairCounts{}}
	// The existing pods' terms that select this pod, per node, memoized across cycles for pods alike.
	var existing *Terms
	if len(nodes.WithRequiredAntiAffinity) > 0 {
		existing = nodes.Counter.TermsFor(incomingKey(pod.Pod, nsLabels))
	}
	compute := func(ni *framework.NodeInfo) []string {
		var keys []string
		for _, ep := range ni.PodsWithRequiredAntiAffinity {
			keys = selectingAntiTerms(keys, ep, pod.Pod, nsLabels)
		}
		return keys
	}
	for pos, ni := range nodes.WithRequiredAntiAffinity {
		for _, k := range existing.At(pos, ni, compute) {
			s.ExistingAntiAffinity.add(k, ni.Node, 1)
		}
	}
	if len(pod.RequiredAffinityTerms)+len(pod.RequiredAntiAffinityTerms) == 0 {
		return s
	}
	// Count per node (memoized across cycles by the Counter) rather than per pod.
	antiKeys := make([]string, len(pod.RequiredAntiAffinityTerms))
	for i := range pod.RequiredAntiAffinityTerms {
		antiKeys[i] = termKey(&pod.RequiredAntiAffinityTerms[i])
	}
	affKey := ""
	for i := range pod.RequiredAffinityTerms {
		k := termKey(&pod.RequiredAffinityTerms[i])
		if k == "" {
			affKey = ""
			break
		}
		affKey += "\x01" + k
	}
	// Each term's memo and predicate, looked up once for the loop (a term whose key is "" is counted every time).
	antiTallies := make([]*Tally, len(antiKeys))
	antiMatches := make([]func(*v1.Pod) bool, len(antiKeys))
	for i := range antiKeys {
		t := &pod.RequiredAntiAffinityTerms[i]
		if antiKeys[i] != "" {
			antiTallies[i] = nodes.Counter.For(antiKeys[i])
		}
		antiMatches[i] = func(p *v1.Pod) bool { return t.Matches(p, nsLabels) }
	}
	terms := pod.RequiredAffinityTerms
	var affTally *Tally
	if affKey != "" && len(terms) > 0 {
		affTally = nodes.Counter.For(affKey)
	}
	affMatch := func(p *v1.Pod) bool { return matchesAll(terms, p, nsLabels) }
	for pos, ni := range nodes.All {
		for i := range pod.RequiredAntiAffinityTerms {
			if n := antiTallies[i].CountAt(pos, ni, antiMatches[i]); n > 0 {
				s.AntiAffinity.add(pod.RequiredAntiAffinityTerms[i].TopologyKey, ni.Node, int64(n))
			}
		}
		if len(terms) > 0 {
			if n := affTally.CountAt(pos, ni, affMatch); n > 0 {
				for i := range terms {
					s.Affinity.add(terms[i].TopologyKey, ni.Node, int64(n))
				}
			}
		}
	}
	return s
}

// termKey names the pods a term selects, for a Counter; "" when that depends on namespace labels (which
// change without the node changing), so the count must not be memoized.
func termKey(t *framework.AffinityTerm) string {
	if t.NamespaceSelector != nil {
		return ""
	}
	return "term\x00" + strings.Join(sets.List(t.Namespaces), ",") + "\x00" + t.Selector.String()
}

// incomingKey names what existing pods' affinity terms read of an incoming pod: its namespace, its labels and,
// when namespace selectors can be evaluated, its namespace's labels.
func incomingKey(pod *v1.Pod, nsLabels framework.NamespaceLabels) string {
	key := pod.Namespace + "\x00" + labels.Set(pod.Labels).String()
	if nsLabels != nil {
		key += "\x00" + nsLabels(pod.Namespace).String()
	}
	return key
}

// selectingAntiTerms appends to keys the topology key of each of ep's required anti-affinity terms that selects
// pod.
func selectingAntiTerms(keys []string, ep *framework.PodInfo, pod *v1.Pod, nsLabels framework.NamespaceLabels) []string {
	for i := range ep.RequiredAntiAffinityTerms {
		if t := &ep.RequiredAntiAffinityTerms[i]; t.Matches(pod, nsLabels) {
			keys = append(keys, t.TopologyKey)
		}
	}
	return keys
}

func (s *InterPodAffinityState) existingAnti(ep *framework.PodInfo, node *v1.Node, delta int64) {
	for _, k := range selectingAntiTerms(nil, ep, s.pod.Pod, s.nsLabels) {
		s.ExistingAntiAffinity.add(k, node, delta)
	}
}

func (s *InterPodAffinityState) own(ep *framework.PodInfo, node *v1.Node, delta int64) {
	if terms := s.pod.RequiredAffinityTerms; len(terms) > 0 && matchesAll(terms, ep.Pod, s.nsLabels) {
		for i := range terms {
			s.Affinity.add(terms[i].TopologyKey, node, delta)
		}
	}
	for i := range s.pod.RequiredAntiAffinityTerms {
		t := &s.pod.RequiredAntiAffinityTerms[i]
		if t.Matches(ep.Pod, s.nsLabels) {
			s.AntiAffinity.add(t.TopologyKey, node, delta)
		}
	}
}

func matchesAll(terms []framework.AffinityTerm, pod *v1.Pod, nsLabels framework.NamespaceLabels) bool {
	for i := range terms {
		if !terms[i].Matches(pod, nsLabels) {
			return false
		}
	}
	return true
}

// Clone copies the state for a dry run.
func (s *InterPodAffinityState) Clone() *InterPodAffinityState {
	c := *s
	c.ExistingAntiAffinity = clonePairs(s.ExistingAntiAffinity)
	c.Affinity = clonePairs(s.Affinity)
	c.AntiAffinity = clonePairs(s.AntiAffinity)
	return &c
}

func clonePairs(m pairCounts) pairCounts {
	c := make(pairCounts, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Update accounts (delta +1) or unaccounts (-1) an existing pod on node, as preemption's dry run moves it.
func (s *InterPodAffinityState) Update(ep *framework.PodInfo, node *v1.Node, delta int64) {
	s.existingAnti(ep, node, delta)
	s.own(ep, node, delta)
}

// InterPodAffinity rejects a node whose domain lacks pods the pod's required affinity needs (unresolvable;
// except that the first pod of a group that matches its own terms may go anywhere with the keys), holds
// pods its required anti-affinity excludes, or holds a pod whose required anti-affinity excludes it.
func InterPodAffinity(s *InterPodAffinityState, node *framework.NodeInfo) *framework.Status {
	if s.pod.ParseError != nil {
		return framework.NewStatus(InterPodAffinityName, framework.UnschedulableAndUnresolvable, s.pod.ParseError.Error())
	}
	labels := node.Node.Labels
	if terms := s.pod.RequiredAffinityTerms; len(terms) > 0 {
		exist := true
		for i := range terms {
			v, ok := labels[terms[i].TopologyKey]
			if !ok {
				return statusAffinityRules
			}
			if s.Affinity[topologyPair{terms[i].TopologyKey, v}] <= 0 {
				exist = false
			}
		}
		if !exist && !(len(s.Affinity) == 0 && matchesAll(terms, s.pod.Pod, s.nsLabels)) {
			return statusAffinityRules
		}
	}
	if len(s.AntiAffinity) > 0 {
		for i := range s.pod.RequiredAntiAffinityTerms {
			t := &s.pod.RequiredAntiAffinityTerms[i]
			if v, ok := labels[t.TopologyKey]; ok && s.AntiAffinity[topologyPair{t.TopologyKey, v}] > 0 {
				return statusAntiAffinityRules
			}
		}
	}
	if len(s.ExistingAntiAffinity) > 0 {
		for k, v := range labels {
			if s.ExistingAntiAffinity[topologyPair{k, v}] > 0 {
				return statusExistingAnti
			}
		}
	}
	return nil
}

// InterPodAffinityScoreState maps topology domains to the summed weights of preferred terms (and existing
// pods' required affinity, weight 1) that placing the pod there satisfies (anti-affinity subtracts).
type InterPodAffinityScoreState struct {
	scores map[string]map[string]int64 // topology key -> value -> score
}

// PreScoreInterPodAffinity builds the scoring state; nil when nothing would score.
func PreScoreInterPodAffinity(pod *framework.PodInfo, cluster Nodes, nsLabels framework.NamespaceLabels) *InterPodAffinityScoreState {
	own := len(pod.PreferredAffinityTerms)+len(pod.PreferredAntiAffinityTerms) > 0
	// Unless the pod has preferences of its own, only pods with terms matter.
	nodes := cluster.WithAffinity
	if own {
		nodes = cluster.All
	}
	s := &InterPodAffinityScoreState{scores: map[string]map[string]int64{}}
	add := func(key string, node *v1.Node, w int64) {
		v, ok := node.Labels[key]
		if !ok || w == 0 {
			return
		}
		m := s.scores[key]
		if m == nil {
			m = map[string]int64{}
			s.scores[key] = m
		}
		m[v] += w
	}
	for _, ni := range nodes {
		node := ni.Node
		if len(node.Labels) == 0 {
			continue
		}
		pods := ni.PodsWithAffinity
		if own {
			pods = ni.Pods
		}
		for _, ep := range pods {
			for i := range pod.PreferredAffinityTerms {
				t := &pod.PreferredAffinityTerms[i]
				if t.Matches(ep.Pod, nsLabels) {
					add(t.TopologyKey, node, int64(t.Weight))
				}
			}
			for i := range pod.PreferredAntiAffinityTerms {
				t := &pod.PreferredAntiAffinityTerms[i]
				if t.Matches(ep.Pod, nsLabels) {
					add(t.TopologyKey, node, -int64(t.Weight))
				}
			}
			for i := range ep.RequiredAffinityTerms {
				t := &ep.RequiredAffinityTerms[i]
				if t.Matches(pod.Pod, nsLabels) {
					add(t.TopologyKey, node, hardPodAffinityWeight)
				}
			}
			for i := range ep.PreferredAffinityTerms {
				t := &ep.PreferredAffinityTerms[i]
				if t.Matches(pod.Pod, nsLabels) {
					add(t.TopologyKey, node, int64(t.Weight))
				}
			}
			for i := range ep.PreferredAntiAffinityTerms {
				t := &ep.PreferredAntiAffinityTerms[i]
				if t.Matches(pod.Pod, nsLabels) {
					add(t.TopologyKey, node, -int64(t.Weight))
				}
			}
		}
	}
	if len(s.scores) == 0 {
		return nil
	}
	return s
}

// InterPodAffinityScore sums the domain scores of the node's topology values.
func InterPodAffinityScore(s *InterPodAffinityScoreState, node *framework.NodeInfo) int64 {
	if s == nil {
		return 0
	}
	var sum int64
	for key, m := range s.scores {
		if v, ok := node.Node.Labels[key]; ok {
			sum += m[v]
		}
	}
	return sum
}

// NormalizeMinMax maps scores linearly so the lowest is 0 and the highest MaxNodeScore (all 0 if equal).
func NormalizeMinMax(scores []int64) {
	if len(scores) == 0 {
		return
	}
	minS, maxS := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		minS = min(minS, s)
		maxS = max(maxS, s)
	}
	diff := maxS - minS
	for i := range scores {
		f := 0.0
		if diff > 0 {
			f = float64(MaxNodeScore) * (float64(scores[i]-minS) / float64(diff))
		}
		scores[i] = int64(f)
	}
}
