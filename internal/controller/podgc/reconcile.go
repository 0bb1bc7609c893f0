package podgc

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Defaults, as kube-controller-manager.
const (
	DefaultTerminatedPodThreshold = 12500
	DefaultCheckPeriod            = 20 * time.Second
	DefaultQuarantineTime         = 40 * time.Second
)

// Condition reason and message for orphaned pods, as upstream.
const (
	ReasonDeletionByPodGC = "DeletionByPodGC"
	messageNodeGone       = "PodGC: node no longer exists"
)

// Options tune the collector.
type Options struct {
	// TerminatedPodThreshold is how many Succeeded or Failed pods may exist before the oldest are deleted
	// (--terminated-pod-gc-threshold); 0 or less turns terminated-pod collection off.
	TerminatedPodThreshold int
	// CheckPeriod is how often the pods are scanned; 0 means 20 s.
	CheckPeriod time.Duration
	// QuarantineTime is how long a node must be missing from the cache before its pods are collected; 0 means 40 s.
	QuarantineTime time.Duration
}

// DefaultOptions are kube-controller-manager's defaults.
func DefaultOptions() Options {
	return Options{TerminatedPodThreshold: DefaultTerminatedPodThreshold}
}

// validate fills in the default periods and rejects negative ones.
func (o *Options) validate() error {
	if o.CheckPeriod < 0 || o.QuarantineTime < 0 {
		return fmt.Errorf("podgc: negative period (check %v, quarantine %v)", o.CheckPeriod, o.QuarantineTime)
	}
	if o.CheckPeriod == 0 {
		o.CheckPeriod = DefaultCheckPeriod
	}
	if o.QuarantineTime == 0 {
		o.QuarantineTime = DefaultQuarantineTime
	}
	return nil
}

// Reason says why a pod is collected.
type Reason string

// Reasons, named as upstream's deleting_pods_total metric labels.
const (
	ReasonTerminated              Reason = "terminated"
	ReasonTerminatingOutOfService Reason = "out-of-service"
	ReasonOrphaned                Reason = "orphaned"
	ReasonTerminatingUnscheduled  Reason = "unscheduled"
)

// Deletion is one pod to force-delete.
type Deletion struct {
	Pod    *corev1.Pod
	Reason Reason
	// Condition, if set, is added to the pod's status before it is deleted.
	Condition *corev1.PodCondition
}

// Input is what Reconcile decides from. Pods and Nodes are the caches' objects and are not modified.
type Input struct {
	Pods  []*corev1.Pod
	Nodes []*corev1.Node
	// Missing is the previous Plan's Missing: when each missing node was first seen missing.
	Missing map[string]time.Time
	Now     time.Time
}

// Plan is what the shell does.
type Plan struct {
	// Delete are the pods to delete now.
	Delete []Deletion
	// Orphaned are the pods of nodes whose quarantine is over, by node: delete them (as Deletions with Reason
	// ReasonOrphaned) only once an uncached read confirms the node is gone.
	Orphaned map[string][]Deletion
	// Missing is the quarantine to keep for the next call: nodes that pods are bound to and the cache lacks.
	Missing map[string]time.Time
	// RequeueAfter is when to scan again.
	RequeueAfter time.Duration
}

// Reconcile decides which pods to collect; see the package documentation.
func Reconcile(in Input, opts Options) Plan {
	_ = opts.validate()
	nodes := make(map[string]*corev1.Node, len(in.Nodes))
	for _, n := range in.Nodes {
		nodes[n.Name] = n
	}
	plan := Plan{Missing: map[string]time.Time{}, RequeueAfter: opts.CheckPeriod}
	planned := map[types.UID]bool{}
	add := func(p *corev1.Pod, r Reason) {
		if !planned[p.UID] {
			planned[p.UID] = true
			plan.Delete = append(plan.Delete, Deletion{Pod: p, Reason: r})
		}
	}

	if opts.TerminatedPodThreshold > 0 {
		var terminated []*corev1.Pod
		for _, p := range in.Pods {
			if isTerminated(p) {
				terminated = append(terminated, p)
			}
		}
		if excess := len(terminated) - opts.TerminatedPodThreshold; excess > 0 {
			sortByEvictionAndCreation(terminated)
			for _, p := range terminated[:excess] {
				add(p, ReasonTerminated)
			}
		}
	}

	var outOfService []*corev1.Pod
	for _, p := range in.Pods {
		if p.DeletionTimestamp == nil || p.Spec.NodeName == "" {
			continue
		}
		if n := nodes[p.Spec.NodeName]; n != nil && !isNodeReady(n) && hasTaintKey(n, corev1.TaintNodeOutOfService) {
			outOfService = append(outOfService, p)
		}
	}
	sortByEvictionAndCreation(outOfService)
	for _, p := range outOfService {
		add(p, ReasonTerminatingOutOfService)
	}

	for _, p := range in.Pods {
		name := p.Spec.NodeName
		if name == "" || nodes[name] != nil {
			continue
		}
		since, ok := in.Missing[name]
		if !ok || since.After(in.Now) {
			since = in.Now
		}
		plan.Missing[name] = since
		end := since.Add(opts.QuarantineTime)
		if in.Now.Before(end) {
			plan.RequeueAfter = min(plan.RequeueAfter, end.Sub(in.Now))
			continue
		}
		if planned[p.UID] {
			continue
		}
		planned[p.UID] = true
		if plan.Orphaned == nil {
			plan.Orphaned = map[string][]Deletion{}
		}
		plan.Orphaned[name] = append(plan.Orphaned[name], Deletion{Pod: p, Reason: ReasonOrphaned, Condition: &corev1.PodCondition{
			Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: ReasonDeletionByPodGC, Message: messageNodeGone,
		}})
	}

	for _, p := range in.Pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			add(p, ReasonTerminatingUnscheduled)
		}
	}
	return plan
}

// isTerminated reports whether pod is in a terminal phase (neither Pending, Running nor Unknown), as upstream.
func isTerminated(p *corev1.Pod) bool {
	switch p.Status.Phase {
	case corev1.PodPending, corev1.PodRunning, corev1.PodUnknown:
		return false
	}
	return true
}

// isEvicted reports whether the kubelet evicted pod (phase Failed, reason Evicted).
func isEvicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// sortByEvictionAndCreation orders pods evicted first, then by creation time, then by name, as upstream.
func sortByEvictionAndCreation(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if ea, eb := isEvicted(a), isEvicted(b); ea != eb {
			return ea
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}

func isNodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasTaintKey(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}
