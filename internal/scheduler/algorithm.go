package scheduler

import (
	"math/rand"
	"sync"
	"sync/atomic"

	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
)

// Placement constants, as Kubernetes' defaults.
const (
	// minFeasibleNodesToFind: below this many nodes every node is checked.
	minFeasibleNodesToFind = 100
	// minFeasibleNodesPercentageToFind is the floor of the adaptive percentage.
	minFeasibleNodesPercentageToFind = 5
)

// Algorithm places one pod on a snapshot: filter, score, select. It is the scheduler's synchronous core:
// it does no I/O and keeps only the round-robin start index and the tie-breaking random source between
// calls, so one Algorithm serves one scheduling goroutine.
type Algorithm struct {
	// PercentageOfNodesToScore bounds how many feasible nodes are looked for before scoring: 0 means
	// Kubernetes' adaptive default (50% minus 1% per 125 nodes, at least 5% and at least 100 nodes);
	// 100 checks every node.
	PercentageOfNodesToScore int
	// Parallelism is how many goroutines filter nodes (<= 1: the calling goroutine alone).
	Parallelism int
	// Rand breaks ties between equally scored nodes.
	Rand *rand.Rand

	nextStart int
	counter   *plugins.Counter
}

// Extras is what placement reads besides the snapshot and the pod.
type Extras struct {
	// Nominated returns the pods nominated (by preemption) to a node, which reserve room there for pods of
	// lower priority.
	Nominated func(node string) []*framework.PodInfo
	// DefaultSpread are the system default spreading constraints for the pod.
	DefaultSpread []plugins.SpreadConstraint
	// NSLabels resolves namespaceSelectors of affinity terms.
	NSLabels framework.NamespaceLabels
}

// Result is a placement.
type Result struct {
	Node string
	// Evaluated nodes were filtered; Feasible of them passed.
	Evaluated, Feasible int
}

// numFeasibleNodesToFind returns how many feasible nodes to look for among n.
func (a *Algorithm) numFeasibleNodesToFind(n int) int {
	if n < minFeasibleNodesToFind || a.PercentageOfNodesToScore >= 100 {
		return n
	}
	pct := a.PercentageOfNodesToScore
	if pct <= 0 {
		pct = 50 - n/125
		if pct < minFeasibleNodesPercentageToFind {
			pct = minFeasibleNodesPercentageToFind
		}
	}
	num := n * pct / 100
	if num < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return num
}

// Schedule picks a node for pod. It returns the filter state (for preemption) and, when no node fits, a
// *framework.FitError (or framework.ErrNoNodesAvailable when there are no nodes).
func (a *Algorithm) Schedule(snap *cache.Snapshot, pod *framework.PodInfo, ex Extras) (Result, *plugins.CycleState, error) {
	nodes := snap.Nodes
	if len(nodes) == 0 {
		return Result{}, nil, framework.ErrNoNodesAvailable
	}
	a.counter.NextCycle()
	cluster := a.cluster(snap)
	st := plugins.PreFilter(pod, cluster, ex.NSLabels)
	diag := framework.Diagnosis{NodeToStatus: map[string]*framework.Status{}, UnschedulablePlugins: map[string]struct{}{}}

	// A pod that preemption nominated to a node tries that node first.
	if nn := pod.Pod.Status.NominatedNodeName; nn != "" {
		if ni := snap.Get(nn); ni != nil && a.filter(st, ni, ex).IsSuccess() {
			return Result{Node: nn, Evaluated: 1, Feasible: 1}, st, nil
		}
	}

	feasible, statuses, evaluated := a.findFeasible(st, nodes, ex)
	if len(feasible) == 0 {
		for name, s := range statuses {
			diag.NodeToStatus[name] = s
			diag.UnschedulablePlugins[s.Plugin] = struct{}{}
		}
		if st.PreFilterStatus != nil {
			diag.PreFilterMsg = st.PreFilterStatus.Message()
		}
		return Result{Evaluated: evaluated}, st, &framework.FitError{NumAllNodes: len(nodes), Diagnosis: diag}
	}
	if len(feasible) == 1 {
		return Result{Node: feasible[0].Name(), Evaluated: evaluated, Feasible: 1}, st, nil
	}
	totals, _ := plugins.Score(st, feasible, a.scoreInput(snap, cluster, ex))
	return Result{Node: a.selectHost(feasible, totals), Evaluated: evaluated, Feasible: len(feasible)}, st, nil
}

// cluster describes the snapshot to the cross-node rules.
func (a *Algorithm) cluster(snap *cache.Snapshot) plugins.Nodes {
	if a.counter == nil {
		a.counter = plugins.NewCounter()
	}
	return plugins.Nodes{All: snap.Nodes, WithAffinity: snap.WithAffinity, WithRequiredAntiAffinity: snap.WithRequiredAntiAffinity, Counter: a.counter}
}

func (a *Algorithm) scoreInput(snap *cache.Snapshot, cluster plugins.Nodes, ex Extras) plugins.ScoreInput {
	in := plugins.ScoreInput{Nodes: cluster, DefaultSpread: ex.DefaultSpread, NSLabels: ex.NSLabels}
	if snap.HasImages() {
		in.ImageNodes = snap.ImageNodes
	}
	return in
}

// filter runs the filters on one node, counting the pods nominated to it with at least the pod's priority
// as if they were already there.
func (a *Algorithm) filter(st *plugins.CycleState, ni *framework.NodeInfo, ex Extras) *framework.Status {
	if ex.Nominated != nil {
		var add []*framework.PodInfo
		for _, np := range ex.Nominated(ni.Name()) {
			if np.Pod.UID != st.Pod.Pod.UID && np.Priority >= st.Pod.Priority {
				add = append(add, np)
			}
		}
		if len(add) > 0 {
			ni = ni.Clone()
			st = st.Clone()
			for _, np := range add {
				ni.AddPod(np)
				st.AddPod(np, ni)
			}
		}
	}
	return st.Filter(ni)
}

// findFeasible filters nodes round-robin from where the previous call stopped until enough feasible nodes
// are found. It returns them, the statuses of the rejected nodes and how many nodes it filtered.
func (a *Algorithm) findFeasible(st *plugins.CycleState, nodes []*framework.NodeInfo, ex Extras) ([]*framework.NodeInfo, map[string]*framework.Status, int) {
	n := len(nodes)
	want := a.numFeasibleNodesToFind(n)
	start := a.nextStart % n
	statuses := map[string]*framework.Status{}
	var feasible []*framework.NodeInfo
	evaluated := 0
	if a.Parallelism <= 1 || n < 2*minFeasibleNodesToFind {
		for i := 0; i < n && len(feasible) < want; i++ {
			ni := nodes[(start+i)%n]
			evaluated++
			if s := a.filter(st, ni, ex); s.IsSuccess() {
				feasible = append(feasible, ni)
			} else {
				statuses[ni.Name()] = s
			}
		}
	} else {
		feasible, statuses, evaluated = a.findFeasibleParallel(st, nodes, start, want, ex)
	}
	a.nextStart = (start + evaluated) % n
	return feasible, statuses, evaluated
}

const filterChunk = 32

func (a *Algorithm) findFeasibleParallel(st *plugins.CycleState, nodes []*framework.NodeInfo, start, want int, ex Extras) ([]*framework.NodeInfo, map[string]*framework.Status, int) {
	n := len(nodes)
	results := make([]*framework.Status, n) // by offset from start
	ok := make([]bool, n)
	done := make([]bool, (n+filterChunk-1)/filterChunk)
	var next, found atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < a.Parallelism; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for found.Load() < int64(want) {
				c := int(next.Add(1) - 1)
				if c*filterChunk >= n {
					return
				}
				for off := c * filterChunk; off < min(n, (c+1)*filterChunk); off++ {
					if s := a.filter(st, nodes[(start+off)%n], ex); s.IsSuccess() {
						ok[off] = true
						found.Add(1)
					} else {
						results[off] = s
					}
				}
				done[c] = true
			}
		}()
	}
	wg.Wait()
	// Keep the nodes of the completed chunks in order, up to want feasible ones, so that the result is the
	// same as a sequential scan would give for those chunks.
	var feasible []*framework.NodeInfo
	statuses := map[string]*framework.Status{}
	evaluated := 0
	for c := 0; c < len(done) && done[c] && len(feasible) < want; c++ {
		for off := c * filterChunk; off < min(n, (c+1)*filterChunk) && len(feasible) < want; off++ {
			evaluated++
			ni := nodes[(start+off)%n]
			if ok[off] {
				feasible = append(feasible, ni)
			} else {
				statuses[ni.Name()] = results[off]
			}
		}
	}
	return feasible, statuses, evaluated
}

// selectHost returns the node with the highest total, choosing uniformly among ties.
func (a *Algorithm) selectHost(nodes []*framework.NodeInfo, totals []int64) string {
	best, ties := 0, 1
	for i := 1; i < len(nodes); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if a.Rand != nil && a.Rand.Intn(ties) == 0 {
				best = i
			}
		}
	}
	return nodes[best].Name()
}
