package plugins

import (
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// Failure reasons, worded as Kubernetes words them.
const (
	ErrReasonUnschedulable        = "node(s) were unschedulable"
	ErrReasonNodeName             = "node(s) didn't match the requested node name"
	ErrReasonUntoleratedTaint     = "node(s) had untolerated taint(s)"
	ErrReasonNodeAffinity         = "node(s) didn't match Pod's node affinity/selector"
	ErrReasonNodePorts            = "node(s) didn't have free ports for the requested pod ports"
	ErrReasonTooManyPods          = "Too many pods"
	ErrReasonSpreadMissingLabel   = "node(s) didn't match pod topology spread constraints (missing required label)"
	ErrReasonSpreadConstraints    = "node(s) didn't match pod topology spread constraints"
	ErrReasonAffinityRules        = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRules    = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonNodeNotFound         = "node(s) not found"
)

var (
	statusUnschedulable = framework.NewStatus(NodeUnschedulableName, framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
	statusNodeName      = framework.NewStatus(NodeNameName, framework.UnschedulableAndUnresolvable, ErrReasonNodeName)
	statusTaint         = framework.NewStatus(TaintTolerationName, framework.UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint)
	statusNodePorts     = framework.NewStatus(NodePortsName, framework.Unschedulable, ErrReasonNodePorts)
)

// NodeUnschedulable rejects a cordoned node (spec.unschedulable) unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint.
func NodeUnschedulable(pod *v1.Pod, node *framework.NodeInfo) *framework.Status {
	if !node.Node.Spec.Unschedulable {
		return nil
	}
	t := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
	if TolerationsTolerateTaint(pod.Spec.Tolerations, &t) {
		return nil
	}
	return statusUnschedulable
}

// NodeName rejects every node but the one named by a preset spec.nodeName.
func NodeName(pod *v1.Pod, node *framework.NodeInfo) *framework.Status {
	if pod.Spec.NodeName == "" || pod.Spec.NodeName == node.Node.Name {
		return nil
	}
	return statusNodeName
}

// TaintToleration rejects a node with a NoSchedule or NoExecute taint the pod does not tolerate.
func TaintToleration(pod *v1.Pod, node *framework.NodeInfo) *framework.Status {
	for i := range node.Node.Spec.Taints {
		t := &node.Node.Spec.Taints[i]
		if t.Effect != v1.TaintEffectNoSchedule && t.Effect != v1.TaintEffectNoExecute {
			continue
		}
		if !TolerationsTolerateTaint(pod.Spec.Tolerations, t) {
			return statusTaint
		}
	}
	return nil
}

// TolerationsTolerateTaint reports whether any toleration tolerates taint.
func TolerationsTolerateTaint(tols []v1.Toleration, taint *v1.Taint) bool {
	for i := range tols {
		if ToleratesTaint(&tols[i], taint) {
			return true
		}
	}
	return false
}

// ToleratesTaint reports whether one toleration tolerates taint: the effect matches (or is empty), the key
// matches (or is empty, with operator Exists), and the value is equal (operator Equal or empty) or not
// compared (Exists).
func ToleratesTaint(t *v1.Toleration, taint *v1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", v1.TolerationOpEqual:
		return t.Value == taint.Value
	case v1.TolerationOpExists:
		return true
	}
	return false
}

// TaintTolerationScore counts the node's PreferNoSchedule taints the pod does not tolerate (with a
// toleration of effect PreferNoSchedule or any effect); NormalizeReverse turns fewer into a higher score.
func TaintTolerationScore(pod *v1.Pod, node *framework.NodeInfo) int64 {
	var n int64
	for i := range node.Node.Spec.Taints {
		t := &node.Node.Spec.Taints[i]
		if t.Effect != v1.TaintEffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for j := range pod.Spec.Tolerations {
			tol := &pod.Spec.Tolerations[j]
			if (tol.Effect == "" || tol.Effect == v1.TaintEffectPreferNoSchedule) && ToleratesTaint(tol, t) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			n++
		}
	}
	return n
}

// NodePorts rejects a node where a host port the pod wants is taken: same protocol and port, and the same
// host IP or either of them 0.0.0.0.
func NodePorts(pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for _, want := range pod.HostPorts {
		for _, used := range node.UsedPorts {
			if want.Port == used.Port && want.Protocol == used.Protocol &&
				(want.IP == used.IP || want.IP == "0.0.0.0" || used.IP == "0.0.0.0") {
				return statusNodePorts
			}
		}
	}
	return nil
}

// NormalizeReverse scales scores to 0..MaxNodeScore relative to the largest, highest for the smallest
// (all MaxNodeScore when all are 0).
func NormalizeReverse(scores []int64) {
	normalize(scores, true)
}

// Normalize scales scores to 0..MaxNodeScore relative to the largest (all 0 when all are 0).
func Normalize(scores []int64) {
	normalize(scores, false)
}

func normalize(scores []int64, reverse bool) {
	var max int64
	for _, s := range scores {
		if s > max {
			max = s
		}
	}
	for i := range scores {
		s := int64(0)
		if max > 0 {
			s = MaxNodeScore * scores[i] / max
		}
		if reverse {
			s = MaxNodeScore - s
		}
		scores[i] = s
	}
}
