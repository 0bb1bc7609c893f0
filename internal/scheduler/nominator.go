package scheduler

import (
	"sync"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// nominator remembers which pods preemption nominated to which node, so that the room freed there is kept
// for them: other pods of lower or equal priority are filtered as if the nominated pods were already there.
type nominator struct {
	mu     sync.Mutex // guards the fields below
	byUID  map[types.UID]*framework.PodInfo
	nodeOf map[types.UID]string
	onNode map[string][]*framework.PodInfo
}

func newNominator() *nominator {
	return &nominator{byUID: map[types.UID]*framework.PodInfo{}, nodeOf: map[types.UID]string{}, onNode: map[string][]*framework.PodInfo{}}
}

func (n *nominator) add(pi *framework.PodInfo, node string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(pi.Pod.UID)
	n.byUID[pi.Pod.UID] = pi
	n.nodeOf[pi.Pod.UID] = node
	n.onNode[node] = append(n.onNode[node], pi)
}

// addFromStatus records the nomination a pending pod carries in status.nominatedNodeName (e.g. from before
// a restart), unless one is already known.
func (n *nominator) addFromStatus(pod *v1.Pod) {
	nn := pod.Status.NominatedNodeName
	if nn == "" {
		return
	}
	n.mu.Lock()
	_, known := n.nodeOf[pod.UID]
	n.mu.Unlock()
	if !known {
		n.add(framework.NewPodInfo(pod), nn)
	}
}

func (n *nominator) remove(pod *v1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(pod.UID)
}

func (n *nominator) removeLocked(uid types.UID) {
	node, ok := n.nodeOf[uid]
	if !ok {
		return
	}
	delete(n.nodeOf, uid)
	delete(n.byUID, uid)
	list := n.onNode[node]
	for i, p := range list {
		if p.Pod.UID == uid {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(n.onNode, node)
	} else {
		n.onNode[node] = list
	}
}

// pods returns the pods nominated to node.
func (n *nominator) pods(node string) []*framework.PodInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.onNode[node]
}

// node returns the node a pod is nominated to, or "".
func (n *nominator) node(pod *v1.Pod) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodeOf[pod.UID]
}

// lowerOn returns the pods nominated to node with a priority below p.
func (n *nominator) lowerOn(node string, p int32) []*framework.PodInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*framework.PodInfo
	for _, pi := range n.onNode[node] {
		if pi.Priority < p {
			out = append(out, pi)
		}
	}
	return out
}
