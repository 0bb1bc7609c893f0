// Package plugins holds the scheduler's placement rules as pure functions, one file per rule, named and
// worded as Kubernetes' default plugins:
//
//   - filters (a node is feasible or not, with Kubernetes' failure reason): NodeUnschedulable, NodeName,
//     TaintToleration, NodeAffinity (nodeSelector and required node affinity), NodePorts,
//     NodeResourcesFit, PodTopologySpread (DoNotSchedule), InterPodAffinity (required terms);
//   - scores (0..MaxNodeScore per node, then normalized over the feasible nodes and weighted):
//     NodeResourcesFit (LeastAllocated), NodeResourcesBalancedAllocation, NodeAffinity (preferred),
//     TaintToleration (PreferNoSchedule), PodTopologySpread (ScheduleAnyway and the system default
//     constraints that spread the pods of one Service/ReplicaSet/ReplicationController/StatefulSet),
//     InterPodAffinity (preferred), ImageLocality.
//
// Rules that look beyond one node (topology spread, inter-pod affinity) first build a state over all nodes
// (PreFilter*/PreScore* functions), which their per-node functions then read. Their only state across
// calls is the Counter the caller passes in, which memoizes per-node answers across scheduling cycles: pod
// counts per predicate (by the node's position in the node list and its generation), what spread constraints
// ask of a Node object (keys, inclusion, domain), and which existing pods' required anti-affinity terms select
// pods alike. A nil Counter computes everything every time, and the results are the same (the property test
// in counter_test.go). Nothing here reads a clock or does I/O; NodeInfos are only read, except by the
// AddPod/RemovePod helpers the preemption dry run uses on its own clones.
//
// Node readiness is not a filter, as upstream: a node that is not Ready carries the taint
// node.kubernetes.io/not-ready (or unreachable) put there by the node lifecycle controller, and
// TaintToleration rejects it unless the pod tolerates it.
package plugins

import "github.com/skiff-sh/skiff/internal/scheduler/framework"

// Names of the rules (as Kubernetes names its plugins).
const (
	NodeUnschedulableName  = "NodeUnschedulable"
	NodeNameName           = "NodeName"
	TaintTolerationName    = "TaintToleration"
	NodeAffinityName       = "NodeAffinity"
	NodePortsName          = "NodePorts"
	NodeResourcesFitName   = "NodeResourcesFit"
	BalancedAllocationName = "NodeResourcesBalancedAllocation"
	PodTopologySpreadName  = "PodTopologySpread"
	InterPodAffinityName   = "InterPodAffinity"
	ImageLocalityName      = "ImageLocality"
	DefaultPreemptionName  = "DefaultPreemption"
)

const (
	// MaxNodeScore is the highest score of one rule.
	MaxNodeScore = framework.MaxNodeScore

	hardPodAffinityWeight = 1
	labelHostname         = "kubernetes.io/hostname"
	labelTopologyZone     = "topology.kubernetes.io/zone"
	defaultSpreadHostSkew = 3
	defaultSpreadZoneSkew = 5
	minImageThreshold     = 23 * 1024 * 1024
	maxContainerThreshold = 1000 * 1024 * 1024
)
