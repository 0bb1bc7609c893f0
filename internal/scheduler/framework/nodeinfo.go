package framework

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// NodeInfo is a node with the pods assigned (or assumed) to it and their totals.
type NodeInfo struct {
	Node *v1.Node
	Pods []*PodInfo
	// PodsWithAffinity have any inter-pod (anti-)affinity term; PodsWithRequiredAntiAffinity a required
	// anti-affinity term. Both are subsets of Pods.
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts are the host ports of Pods.
	UsedPorts []HostPort
	// Requested sums the pods' Requests; NonZeroRequested their NonZero cpu and memory.
	Requested        Resource
	NonZeroRequested Resource
	// Allocatable is node.status.allocatable.
	Allocatable Resource
	// Images maps each image name the node reports (every tag and digest) to its size in bytes.
	Images map[string]int64
	// Generation identifies this version of the node's content: the cache numbers the versions it hands
	// to snapshots uniquely across nodes and time (see plugins.Counter); every change resets it to 0,
	// which means "no number".
	Generation int64
}

// NewNodeInfo returns a NodeInfo for node with the given pods.
func NewNodeInfo(node *v1.Node, pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{}
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// SetNode replaces the node object (and with it allocatable and images).
func (n *NodeInfo) SetNode(node *v1.Node) {
	n.Node = node
	if node == nil {
		n.Allocatable = Resource{}
		n.Images = nil
		return
	}
	n.Allocatable = NewResource(node.Status.Allocatable)
	n.Images = nil
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if n.Images == nil {
				n.Images = map[string]int64{}
			}
			n.Images[NormalizeImageName(name)] = img.SizeBytes
		}
	}
}

// Name is the node's name ("" before SetNode).
func (n *NodeInfo) Name() string {
	if n.Node == nil {
		return ""
	}
	return n.Node.Name
}

// AddPod accounts pod on the node.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	if p.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, p)
	}
	if len(p.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, p)
	}
	n.Requested.Add(&p.Requests)
	n.NonZeroRequested.MilliCPU += p.NonZero.MilliCPU
	n.NonZeroRequested.Memory += p.NonZero.Memory
	n.UsedPorts = append(n.UsedPorts, p.HostPorts...)
	n.Generation = 0
}

// RemovePod removes the pod with the UID of pod; it reports whether it was there.
func (n *NodeInfo) RemovePod(pod *v1.Pod) bool {
	idx := -1
	for i, p := range n.Pods {
		if p.Pod.UID == pod.UID {
			idx = i
			break
		}
	}
	if idx < 0 {
		return false
	}
	p := n.Pods[idx]
	n.Pods = removeAt(n.Pods, idx)
	n.PodsWithAffinity = removeUID(n.PodsWithAffinity, pod)
	n.PodsWithRequiredAntiAffinity = removeUID(n.PodsWithRequiredAntiAffinity, pod)
	n.Requested.Sub(&p.Requests)
	n.NonZeroRequested.MilliCPU -= p.NonZero.MilliCPU
	n.NonZeroRequested.Memory -= p.NonZero.Memory
	if len(p.HostPorts) > 0 {
		n.UsedPorts = n.UsedPorts[:0:0]
		for _, q := range n.Pods {
			n.UsedPorts = append(n.UsedPorts, q.HostPorts...)
		}
	}
	n.Generation = 0
	return true
}

// removeAt deletes s[i] without reordering the rest, into a new backing array (a clone may share the old).
func removeAt(s []*PodInfo, i int) []*PodInfo {
	out := make([]*PodInfo, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}

func removeUID(s []*PodInfo, pod *v1.Pod) []*PodInfo {
	for i, p := range s {
		if p.Pod.UID == pod.UID {
			return removeAt(s, i)
		}
	}
	return s
}

// Clone returns a copy that can be changed (AddPod, RemovePod) without affecting n. The node object and
// the PodInfos are shared: they are immutable.
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	// Slices are copied with capacity == length, so an append on either side reallocates.
	c.Pods = n.Pods[:len(n.Pods):len(n.Pods)]
	c.PodsWithAffinity = n.PodsWithAffinity[:len(n.PodsWithAffinity):len(n.PodsWithAffinity)]
	c.PodsWithRequiredAntiAffinity = n.PodsWithRequiredAntiAffinity[:len(n.PodsWithRequiredAntiAffinity):len(n.PodsWithRequiredAntiAffinity)]
	c.UsedPorts = n.UsedPorts[:len(n.UsedPorts):len(n.UsedPorts)]
	c.Requested = n.Requested.Clone()
	c.NonZeroRequested = n.NonZeroRequested.Clone()
	return &c
}

// NormalizeImageName adds the ":latest" tag to an image name without a tag or digest, as the kubelet
// reports it.
func NormalizeImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") && !strings.Contains(name, "@") {
		name += ":latest"
	}
	return name
}
