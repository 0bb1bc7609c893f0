package plugins

import (
	"math"
	"sort"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// InsufficientResource is one resource a node lacks for a pod.
type InsufficientResource struct {
	Name      v1.ResourceName
	Reason    string
	Requested int64
	Used      int64
	Capacity  int64
	// Unresolvable: the pod asks for more than the node's whole allocatable, so no preemption can help.
	Unresolvable bool
}

// FitsRequest lists the resources the node cannot give the pod: the pod count (one more pod than
// allocatable pods), then cpu, memory, ephemeral-storage and the other resources it requests (sorted by
// name), each compared with allocatable minus what the node's pods already request.
func FitsRequest(pod *framework.PodInfo, node *framework.NodeInfo) []InsufficientResource {
	var out []InsufficientResource
	alloc, used, req := &node.Allocatable, &node.Requested, &pod.Requests
	if int64(len(node.Pods))+1 > alloc.AllowedPodNumber {
		out = append(out, InsufficientResource{Name: v1.ResourcePods, Reason: ErrReasonTooManyPods,
			Requested: 1, Used: int64(len(node.Pods)), Capacity: alloc.AllowedPodNumber, Unresolvable: alloc.AllowedPodNumber < 1})
	}
	check := func(name v1.ResourceName, reason string, r, u, a int64) {
		if r > 0 && r > a-u {
			out = append(out, InsufficientResource{Name: name, Reason: reason, Requested: r, Used: u, Capacity: a, Unresolvable: r > a})
		}
	}
	check(v1.ResourceCPU, "Insufficient cpu", req.MilliCPU, used.MilliCPU, alloc.MilliCPU)
	check(v1.ResourceMemory, "Insufficient memory", req.Memory, used.Memory, alloc.Memory)
	check(v1.ResourceEphemeralStorage, "Insufficient ephemeral-storage", req.EphemeralStorage, used.EphemeralStorage, alloc.EphemeralStorage)
	if len(req.Scalar) > 0 {
		names := make([]string, 0, len(req.Scalar))
		for n := range req.Scalar {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			rn := v1.ResourceName(n)
			check(rn, "Insufficient "+n, req.Scalar[rn], used.Scalar[rn], alloc.Scalar[rn])
		}
	}
	return out
}

// NodeResourcesFit rejects a node that lacks any requested resource, with one reason per resource
// ("Insufficient cpu", "Too many pods"). It is Unschedulable (preemption may help) unless the pod asks for
// more than the node's whole allocatable of some resource.
func NodeResourcesFit(pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	ins := FitsRequest(pod, node)
	if len(ins) == 0 {
		return nil
	}
	st := &framework.Status{Code: framework.Unschedulable, Plugin: NodeResourcesFitName, Reasons: make([]string, len(ins))}
	for i := range ins {
		st.Reasons[i] = ins[i].Reason
		if ins[i].Unresolvable {
			st.Code = framework.UnschedulableAndUnresolvable
		}
	}
	return st
}

// LeastAllocated scores a node by the share of cpu and memory left free once the pod is placed (weights
// 1:1), counting requests with the non-zero defaults: ((allocatable-requested)*100/allocatable), 0 when
// over-committed or allocatable is 0.
func LeastAllocated(pod *framework.PodInfo, node *framework.NodeInfo) int64 {
	cpu := leastRequested(node.NonZeroRequested.MilliCPU+pod.NonZero.MilliCPU, node.Allocatable.MilliCPU)
	mem := leastRequested(node.NonZeroRequested.Memory+pod.NonZero.Memory, node.Allocatable.Memory)
	return (cpu + mem) / 2
}

func leastRequested(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxNodeScore / capacity
}

// BalancedAllocation favours nodes whose cpu and memory would be used in equal shares once the pod is
// placed: (1 - |cpuFraction - memoryFraction| / 2) * 100, fractions capped at 1, counting actual requests.
// A pod that requests neither cpu nor memory gets 0 everywhere (the rule is skipped).
func BalancedAllocation(pod *framework.PodInfo, node *framework.NodeInfo) int64 {
	if pod.Requests.MilliCPU == 0 && pod.Requests.Memory == 0 {
		return 0
	}
	if node.Allocatable.MilliCPU == 0 || node.Allocatable.Memory == 0 {
		// A resource the node does not have is left out; one fraction has no spread.
		return MaxNodeScore
	}
	cf := fraction(node.Requested.MilliCPU+pod.Requests.MilliCPU, node.Allocatable.MilliCPU)
	mf := fraction(node.Requested.Memory+pod.Requests.Memory, node.Allocatable.Memory)
	std := math.Abs(cf-mf) / 2
	return int64((1 - std) * float64(MaxNodeScore))
}

func fraction(requested, capacity int64) float64 {
	f := float64(requested) / float64(capacity)
	if f > 1 {
		return 1
	}
	return f
}
