// Package cache keeps the scheduler's view of the cluster: every node with the pods bound to it, plus the
// pods the scheduler has assumed onto a node while their binding is in flight, so that the next pod can be
// placed before the previous binding returns.
//
// A pod's life in the cache: AssumePod (the scheduling cycle chose a node) → FinishBinding (the bind call
// returned) → AddPod from the informer confirms it (it stops being assumed). ForgetPod undoes an
// assumption whose binding failed. Pods that the informer reports as bound without having been assumed
// (bound by someone else, or before a restart) are added directly.
//
// The scheduling cycle never reads the cache's NodeInfos: UpdateSnapshot refreshes a Snapshot by cloning
// only the nodes that changed since the previous call, and the cycle reads the Snapshot without locks.
// All methods are safe for concurrent use; there must be one Snapshot consumer at a time.
package cache

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Errors returned by the assume protocol.
var (
	ErrAlreadyInCache = errors.New("cache: pod already in cache")
	ErrNotAssumed     = errors.New("cache: pod not assumed")
)

type podState struct {
	info     *framework.PodInfo
	assumed  bool
	finished bool // bind call returned successfully
}

// Cache is the scheduler's cluster state. Its zero value is not usable; call New.
type Cache struct {
	mu sync.Mutex // guards the fields below
	// nodes includes placeholders (Node nil) for pods whose node has not been seen or is gone.
	nodes map[string]*framework.NodeInfo
	// order lists the names of nodes with a Node object, in the order they were added.
	order []string
	pods  map[types.UID]*podState
	// dirty names the nodes changed since the last UpdateSnapshot; orderChanged says order changed.
	dirty        map[string]struct{}
	orderChanged bool
	imageNodes   map[string]int
	imagesGen    int64
	// last is the snapshot the dirty set is relative to; another snapshot gets a full refresh.
	last *Snapshot
}

// generation numbers the node versions handed to snapshots, unique across nodes, caches and time (so a
// plugins.Counter that outlives a cache cannot mistake one node version for another).
var generation atomic.Int64

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*framework.NodeInfo{}, pods: map[types.UID]*podState{},
		dirty: map[string]struct{}{}, imageNodes: map[string]int{}}
}

func (c *Cache) nodeLocked(name string) *framework.NodeInfo {
	ni := c.nodes[name]
	if ni == nil {
		ni = &framework.NodeInfo{}
		c.nodes[name] = ni
	}
	c.dirty[name] = struct{}{}
	return ni
}

func (c *Cache) addPodLocked(pi *framework.PodInfo, assumed bool) {
	c.nodeLocked(pi.Pod.Spec.NodeName).AddPod(pi)
	c.pods[pi.Pod.UID] = &podState{info: pi, assumed: assumed}
}

func (c *Cache) removePodLocked(pod *v1.Pod) {
	ni := c.nodes[pod.Spec.NodeName]
	if ni != nil {
		ni.RemovePod(pod)
		c.dirty[pod.Spec.NodeName] = struct{}{}
		if ni.Node == nil && len(ni.Pods) == 0 {
			delete(c.nodes, pod.Spec.NodeName)
		}
	}
	delete(c.pods, pod.UID)
}

// AssumePod accounts a pod (whose spec.nodeName names the chosen node) before its binding is confirmed.
func (c *Cache) AssumePod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pi.Pod.UID]; ok {
		return fmt.Errorf("%w: %s/%s", ErrAlreadyInCache, pi.Pod.Namespace, pi.Pod.Name)
	}
	c.addPodLocked(pi, true)
	return nil
}

// FinishBinding records that the bind call for an assumed pod returned.
func (c *Cache) FinishBinding(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		ps.finished = true
	}
}

// ForgetPod removes an assumed pod (its binding failed).
func (c *Cache) ForgetPod(pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok || !ps.assumed {
		return fmt.Errorf("%w: %s/%s", ErrNotAssumed, pod.Namespace, pod.Name)
	}
	c.removePodLocked(ps.info.Pod)
	return nil
}

// IsAssumed reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(pod *v1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// AddPod accounts a pod the informer reports as bound; it confirms an assumed pod.
func (c *Cache) AddPod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		// Confirmation of an assumption (or a duplicate add): replace with the informer's version.
		c.removePodLocked(ps.info.Pod)
	}
	c.addPodLocked(framework.NewPodInfo(pod), false)
}

// UpdatePod replaces a bound pod's version.
func (c *Cache) UpdatePod(_, pod *v1.Pod) {
	c.AddPod(pod)
}

// RemovePod forgets a pod that was deleted (or finished).
func (c *Cache) RemovePod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		c.removePodLocked(ps.info.Pod)
	}
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodeLocked(node.Name)
	if ni.Node == nil {
		c.order = append(c.order, node.Name)
		c.orderChanged = true
	} else {
		c.images(ni, -1)
	}
	ni.SetNode(node)
	c.images(ni, 1)
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(_, node *v1.Node) { c.AddNode(node) }

// RemoveNode removes a node; pods still bound to it stay accounted until they are removed.
func (c *Cache) RemoveNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodes[node.Name]
	if ni == nil || ni.Node == nil {
		return
	}
	c.images(ni, -1)
	ni.SetNode(nil)
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
	c.dirty[node.Name] = struct{}{}
	for i, n := range c.order {
		if n == node.Name {
			c.order = append(c.order[:i:i], c.order[i+1:]...)
			break
		}
	}
	c.orderChanged = true
}

func (c *Cache) images(ni *framework.NodeInfo, delta int) {
	if len(ni.Images) == 0 {
		return
	}
	for name := range ni.Images {
		c.imageNodes[name] += delta
		if c.imageNodes[name] <= 0 {
			delete(c.imageNodes, name)
		}
	}
	c.imagesGen++
}

// Counts returns the number of nodes and of pods (and of those assumed) in the cache.
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ps := range c.pods {
		if ps.assumed {
			assumed++
		}
	}
	return len(c.order), len(c.pods), assumed
}

// Snapshot is an immutable view of the cache taken by UpdateSnapshot. Nodes lists the nodes in a stable
// order; the NodeInfos are the snapshot's own clones and must not be changed.
type Snapshot struct {
	Nodes []*framework.NodeInfo
	// WithAffinity and WithRequiredAntiAffinity are the nodes holding pods with any inter-pod (anti-)affinity
	// term and with a required anti-affinity term, so that pods without terms of their own need not look
	// at every node.
	WithAffinity, WithRequiredAntiAffinity []*framework.NodeInfo
	byName                                 map[string]*framework.NodeInfo
	index                                  map[string]int
	imageNodes                             map[string]int
	imagesGen                              int64
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{byName: map[string]*framework.NodeInfo{}, index: map[string]int{}, imagesGen: -1}
}

// Get returns the node named name, or nil.
func (s *Snapshot) Get(name string) *framework.NodeInfo { return s.byName[name] }

// ImageNodes tells on how many nodes an image is.
func (s *Snapshot) ImageNodes(image string) int { return s.imageNodes[image] }

// HasImages reports whether any node reports images.
func (s *Snapshot) HasImages() bool { return len(s.imageNodes) > 0 }

// UpdateSnapshot brings s up to date, cloning only the nodes changed since the previous call.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != s {
		c.last = s
		for name := range c.nodes {
			c.dirty[name] = struct{}{}
		}
		clear(s.byName)
		c.orderChanged = true
	}
	affinityChanged := c.orderChanged
	for name := range c.dirty {
		ni := c.nodes[name]
		if old := s.byName[name]; old != nil && len(old.PodsWithAffinity) > 0 {
			affinityChanged = true
		}
		if ni == nil || ni.Node == nil {
			delete(s.byName, name)
			continue
		}
		ni.Generation = generation.Add(1)
		cl := ni.Clone()
		s.byName[name] = cl
		if len(cl.PodsWithAffinity) > 0 {
			affinityChanged = true
		}
		if i, ok := s.index[name]; ok && !c.orderChanged {
			s.Nodes[i] = cl
		}
	}
	clear(c.dirty)
	if c.orderChanged {
		s.Nodes = make([]*framework.NodeInfo, 0, len(c.order))
		clear(s.index)
		for i, name := range c.order {
			s.Nodes = append(s.Nodes, s.byName[name])
			s.index[name] = i
		}
		c.orderChanged = false
	}
	if affinityChanged {
		s.WithAffinity, s.WithRequiredAntiAffinity = s.WithAffinity[:0], s.WithRequiredAntiAffinity[:0]
		for _, ni := range s.Nodes {
			if len(ni.PodsWithAffinity) > 0 {
				s.WithAffinity = append(s.WithAffinity, ni)
			}
			if len(ni.PodsWithRequiredAntiAffinity) > 0 {
				s.WithRequiredAntiAffinity = append(s.WithRequiredAntiAffinity, ni)
			}
		}
	}
	if s.imagesGen != c.imagesGen {
		s.imageNodes = make(map[string]int, len(c.imageNodes))
		for k, v := range c.imageNodes {
			s.imageNodes[k] = v
		}
		s.imagesGen = c.imagesGen
	}
}
