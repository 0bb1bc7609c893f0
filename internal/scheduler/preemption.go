package scheduler

import (
	"math"
	"sort"
	"time"

	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	v1 "k8s.io/api/core/v1"
)

// Preemption messages, as Kubernetes words them.
const (
	msgPreemptionPolicyNever = "not eligible due to preemptionPolicy=Never."
	msgTerminatingOnNominee  = "not eligible due to a terminating pod on the nominated node."
	// minCandidateNodesPercentage and minCandidateNodesAbsolute bound the dry runs, as Kubernetes.
	minCandidateNodesPercentage = 10
	minCandidateNodesAbsolute   = 100
)

// Preemption is what preemption decided: evict Victims from Node so the pod fits there.
type Preemption struct {
	Node    string
	Victims []*framework.PodInfo
}

// Preempt looks, for a pod that fit nowhere (fitErr), for the node where evicting lower-priority pods
// makes it fit, evicting as few and as unimportant pods as possible. It returns ok=false and Kubernetes'
// "preemption: ..." message when no node qualifies.
func (a *Algorithm) Preempt(snap *cache.Snapshot, st *plugins.CycleState, fitErr *framework.FitError, ex Extras) (p Preemption, msg string, ok bool) {
	pod := st.Pod
	if pol := pod.Pod.Spec.PreemptionPolicy; pol != nil && *pol == v1.PreemptNever {
		return p, "preemption: " + msgPreemptionPolicyNever, false
	}
	statuses := fitErr.Diagnosis.NodeToStatus
	if nn := pod.Pod.Status.NominatedNodeName; nn != "" {
		if s := statuses[nn]; s == nil || s.Code != framework.UnschedulableAndUnresolvable {
			if ni := snap.Get(nn); ni != nil {
				for _, q := range ni.Pods {
					if q.Pod.DeletionTimestamp != nil && q.Priority < pod.Priority {
						return p, "preemption: " + msgTerminatingOnNominee, false
					}
				}
			}
		}
	}

	var potential []*framework.NodeInfo
	result := map[string]*framework.Status{}
	notHelpful := framework.NewStatus(plugins.DefaultPreemptionName, framework.UnschedulableAndUnresolvable, framework.PreemptionNotHelpful)
	for _, ni := range snap.Nodes {
		if s := statuses[ni.Name()]; s != nil && s.Code == framework.Unschedulable {
			potential = append(potential, ni)
		} else {
			result[ni.Name()] = notHelpful
		}
	}
	type candidate struct {
		node    string
		victims []*framework.PodInfo
	}
	var cands []candidate
	if len(potential) > 0 {
		limit := max(len(potential)*minCandidateNodesPercentage/100, minCandidateNodesAbsolute)
		offset := 0
		if a.Rand != nil {
			offset = a.Rand.Intn(len(potential))
		}
		for i := 0; i < len(potential) && len(cands) < limit; i++ {
			ni := potential[(offset+i)%len(potential)]
			victims, s := a.selectVictims(st, ni, ex)
			if s.IsSuccess() {
				cands = append(cands, candidate{ni.Name(), victims})
			} else {
				result[ni.Name()] = s
			}
		}
	}
	if len(cands) == 0 {
		fe := framework.FitError{NumAllNodes: len(snap.Nodes), Diagnosis: framework.Diagnosis{NodeToStatus: result}}
		return p, "preemption: " + fe.Error(), false
	}
	best := 0
	for i := 1; i < len(cands); i++ {
		if betterCandidate(cands[i].victims, cands[best].victims) {
			best = i
		}
	}
	return Preemption{Node: cands[best].node, Victims: cands[best].victims}, "", true
}

// selectVictims finds the fewest lower-priority pods on node whose removal lets the pod fit: remove them
// all, check the pod fits, then put back as many as still allow it, most important first.
func (a *Algorithm) selectVictims(st *plugins.CycleState, node *framework.NodeInfo, ex Extras) ([]*framework.PodInfo, *framework.Status) {
	ni := node.Clone()
	st = st.Clone()
	var lower []*framework.PodInfo
	for _, q := range node.Pods {
		if q.Priority < st.Pod.Priority {
			lower = append(lower, q)
			ni.RemovePod(q.Pod)
			st.RemovePod(q, ni)
		}
	}
	if len(lower) == 0 {
		return nil, framework.NewStatus(plugins.DefaultPreemptionName, framework.UnschedulableAndUnresolvable, framework.NoPreemptionVictims)
	}
	if s := a.filter(st, ni, ex); !s.IsSuccess() {
		return nil, s
	}
	sort.SliceStable(lower, func(i, j int) bool { return moreImportant(lower[i], lower[j]) })
	var victims []*framework.PodInfo
	for _, q := range lower {
		ni.AddPod(q)
		st.AddPod(q, ni)
		if !a.filter(st, ni, ex).IsSuccess() {
			ni.RemovePod(q.Pod)
			st.RemovePod(q, ni)
			victims = append(victims, q)
		}
	}
	return victims, nil
}

// moreImportant orders pods by priority (higher first), then by start time (earlier first).
func moreImportant(a, b *framework.PodInfo) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return startTime(a.Pod).Before(startTime(b.Pod))
}

func startTime(pod *v1.Pod) time.Time {
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}

// betterCandidate reports whether victims x are a better choice than y, by Kubernetes' rules: lower
// highest victim priority, then lower sum of priorities, then fewer victims, then the later start time of
// the most important victims.
func betterCandidate(x, y []*framework.PodInfo) bool {
	hx, hy := highest(x), highest(y)
	if hx != hy {
		return hx < hy
	}
	sx, sy := prioritySum(x), prioritySum(y)
	if sx != sy {
		return sx < sy
	}
	if len(x) != len(y) {
		return len(x) < len(y)
	}
	return earliestOfHighest(x).After(earliestOfHighest(y))
}

func highest(v []*framework.PodInfo) int32 {
	h := int32(math.MinInt32)
	for _, p := range v {
		h = max(h, p.Priority)
	}
	return h
}

func prioritySum(v []*framework.PodInfo) int64 {
	var s int64
	for _, p := range v {
		s += int64(p.Priority) + math.MaxInt32 + 1
	}
	return s
}

func earliestOfHighest(v []*framework.PodInfo) time.Time {
	h := highest(v)
	var t time.Time
	for _, p := range v {
		if p.Priority == h && (t.IsZero() || startTime(p.Pod).Before(t)) {
			t = startTime(p.Pod)
		}
	}
	return t
}
