package plugins

import (
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// Counter remembers, per node version, how many of a node's pods a predicate selects, so that topology
// spreading and anti-affinity count the pods of all nodes in O(nodes) instead of O(pods) per cycle: only
// the nodes that changed since the last cycle are counted again. Its key must identify the predicate
// exactly. A nil *Counter counts every time. It is not safe for concurrent use.
type Counter struct {
	cycle   int64
	memo    map[string]*counts
	domains map[string]*domainMemo
	terms   map[string]*termMemo
}

type counts struct {
	lastUsed int64
	byNode   map[string]nodeCount
	// byPos memoizes by position in the node list of the loops over every node, which is stable across cycles
	// (a position whose node changed has another generation, as generations are never reused).
	byPos []nodeCount
}

type nodeCount struct {
	gen int64
	n   int
}

// counterIdle is how many cycles an unused key is kept.
const counterIdle = 256

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	return &Counter{memo: map[string]*counts{}, domains: map[string]*domainMemo{}, terms: map[string]*termMemo{}}
}

// NextCycle marks the start of a scheduling cycle and forgets keys not used for a while.
func (c *Counter) NextCycle() {
	if c == nil {
		return
	}
	c.cycle++
	if c.cycle%counterIdle == 0 {
		for k, v := range c.memo {
			if c.cycle-v.lastUsed > counterIdle {
				delete(c.memo, k)
			}
		}
		for k, v := range c.domains {
			if c.cycle-v.lastUsed > counterIdle {
				delete(c.domains, k)
			}
		}
		for k, v := range c.terms {
			if c.cycle-v.lastUsed > counterIdle {
				delete(c.terms, k)
			}
		}
	}
}

// Count returns how many of the node's pods match, for the predicate named key.
func (c *Counter) Count(ni *framework.NodeInfo, key string, match func(*v1.Pod) bool) int {
	return c.For(key).Count(ni, match)
}

// Tally is a Counter's memo for one predicate, looked up once for a loop over nodes. A nil *Tally counts every
// time.
type Tally struct{ m *counts }

// For returns the memo of the predicate named key, nil for a nil Counter.
func (c *Counter) For(key string) *Tally {
	if c == nil {
		return nil
	}
	m := c.memo[key]
	if m == nil {
		m = &counts{byNode: map[string]nodeCount{}}
		c.memo[key] = m
	}
	m.lastUsed = c.cycle
	return &Tally{m: m}
}

// Count returns how many of the node's pods match.
func (t *Tally) Count(ni *framework.NodeInfo, match func(*v1.Pod) bool) int {
	if t == nil || ni.Generation == 0 {
		return countPods(ni, match)
	}
	name := ni.Name()
	if e, ok := t.m.byNode[name]; ok && e.gen == ni.Generation {
		return e.n
	}
	n := countPods(ni, match)
	t.m.byNode[name] = nodeCount{gen: ni.Generation, n: n}
	return n
}

// CountAt is Count for the node at position pos of a list of every node (the snapshot's), memoized by position
// instead of by name.
func (t *Tally) CountAt(pos int, ni *framework.NodeInfo, match func(*v1.Pod) bool) int {
	if t == nil || ni.Generation == 0 {
		return countPods(ni, match)
	}
	if pos < len(t.m.byPos) && t.m.byPos[pos].gen == ni.Generation {
		return t.m.byPos[pos].n
	}
	n := countPods(ni, match)
	if pos >= len(t.m.byPos) {
		t.m.byPos = append(t.m.byPos, make([]nodeCount, pos+1-len(t.m.byPos))...)
	}
	t.m.byPos[pos] = nodeCount{gen: ni.Generation, n: n}
	return n
}

func countPods(ni *framework.NodeInfo, match func(*v1.Pod) bool) int {
	n := 0
	for _, p := range ni.Pods {
		if match(p.Pod) {
			n++
		}
	}
	return n
}

// nodeDomains is what a set of topology spread constraints asks of one Node object: whether it has every
// constraint's topology key, and per constraint whether the constraint counts the node and its domain.
type nodeDomains struct {
	node     *v1.Node
	hasAll   bool
	included []bool
	values   []string
}

// domainMemo holds nodeDomains by position in the list of every node. A position's entry is valid while the
// *v1.Node there is the same object: the scheduler's cache replaces the object when the node changes, and keeps
// it when only the node's pods do.
type domainMemo struct {
	lastUsed int64
	byPos    []nodeDomains
}

// Domains is a Counter's memo of nodeDomains for one set of constraints, looked up once per loop. A nil *Domains
// computes every time.
type Domains struct{ m *domainMemo }

// DomainsFor returns the memo for the constraints named key, nil for a nil Counter. key must identify everything
// compute reads besides the node: the constraints' topology keys and inclusion policies, and the pod's required
// node affinity and tolerations when a policy honours them.
func (c *Counter) DomainsFor(key string) *Domains {
	if c == nil {
		return nil
	}
	m := c.domains[key]
	if m == nil {
		m = &domainMemo{}
		c.domains[key] = m
	}
	m.lastUsed = c.cycle
	return &Domains{m: m}
}

// At returns the node's domains at position pos, from the memo or from compute.
func (d *Domains) At(pos int, node *v1.Node, compute func(*v1.Node) nodeDomains) *nodeDomains {
	if d == nil {
		nd := compute(node)
		return &nd
	}
	if pos < len(d.m.byPos) && d.m.byPos[pos].node == node {
		return &d.m.byPos[pos]
	}
	if pos >= len(d.m.byPos) {
		d.m.byPos = append(d.m.byPos, make([]nodeDomains, pos+1-len(d.m.byPos))...)
	}
	d.m.byPos[pos] = compute(node)
	d.m.byPos[pos].node = node
	return &d.m.byPos[pos]
}

// termEntry is, for one node's pods at one generation, the topology keys of their required anti-affinity terms
// that select the incoming pod (a key repeats once per such term).
type termEntry struct {
	gen  int64
	keys []string
}

// termMemo holds termEntry by position in a node list, checked by generation as counts.byPos.
type termMemo struct {
	lastUsed int64
	byPos    []termEntry
}

// Terms is a Counter's memo of the existing pods' anti-affinity terms that select one incoming pod, looked up once
// per loop. A nil *Terms computes every time.
type Terms struct{ m *termMemo }

// TermsFor returns the memo for incoming pods named key, nil for a nil Counter. key must identify everything the
// terms read of the incoming pod: its namespace, its labels and its namespace's labels.
func (c *Counter) TermsFor(key string) *Terms {
	if c == nil {
		return nil
	}
	m := c.terms[key]
	if m == nil {
		m = &termMemo{}
		c.terms[key] = m
	}
	m.lastUsed = c.cycle
	return &Terms{m: m}
}

// At returns the topology keys for the node at position pos, from the memo or from compute.
func (t *Terms) At(pos int, ni *framework.NodeInfo, compute func(*framework.NodeInfo) []string) []string {
	if t == nil || ni.Generation == 0 {
		return compute(ni)
	}
	if pos < len(t.m.byPos) && t.m.byPos[pos].gen == ni.Generation {
		return t.m.byPos[pos].keys
	}
	keys := compute(ni)
	if pos >= len(t.m.byPos) {
		t.m.byPos = append(t.m.byPos, make([]termEntry, pos+1-len(t.m.byPos))...)
	}
	t.m.byPos[pos] = termEntry{gen: ni.Generation, keys: keys}
	return keys
}
