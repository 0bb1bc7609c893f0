// Package schedtest builds nodes and pods for the scheduler's tests: terse constructors with options, so a
// table row reads as the situation it describes.
package schedtest

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeOpt changes a node being built.
type NodeOpt func(*v1.Node)

// Node returns a Ready node with the hostname label and the given allocatable cpu (e.g. "4"), memory
// ("8Gi") and 110 pods.
func Node(name, cpu, mem string, opts ...NodeOpt) *v1.Node {
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("node-" + name), Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: v1.NodeStatus{
			Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem), v1.ResourcePods: resource.MustParse("110")},
			Conditions:  []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
	n.Status.Capacity = n.Status.Allocatable.DeepCopy()
	for _, o := range opts {
		o(n)
	}
	return n
}

// Labels adds node labels (key, value, key, value...).
func Labels(kv ...string) NodeOpt {
	return func(n *v1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Taint adds a taint.
func Taint(key, value string, effect v1.TaintEffect) NodeOpt {
	return func(n *v1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: key, Value: value, Effect: effect})
	}
}

// Cordoned sets spec.unschedulable.
func Cordoned() NodeOpt { return func(n *v1.Node) { n.Spec.Unschedulable = true } }

// Allocatable sets one allocatable resource.
func Allocatable(name v1.ResourceName, q string) NodeOpt {
	return func(n *v1.Node) { n.Status.Allocatable[name] = resource.MustParse(q) }
}

// Images adds an image of the given size.
func Images(name string, size int64) NodeOpt {
	return func(n *v1.Node) {
		n.Status.Images = append(n.Status.Images, v1.ContainerImage{Names: []string{name}, SizeBytes: size})
	}
}

// PodOpt changes a pod being built.
type PodOpt func(*v1.Pod)

// Pod returns a pending pod in namespace "default" with one container requesting cpu and memory (either
// may be "" for none).
func Pod(name, cpu, mem string, opts ...PodOpt) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{}},
		Spec: v1.PodSpec{
			SchedulerName: "default-scheduler",
			Containers:    []v1.Container{{Name: "c", Image: "busybox", Resources: v1.ResourceRequirements{Requests: rl(cpu, mem)}}},
		},
	}
	zero := int32(0)
	p.Spec.Priority = &zero
	for _, o := range opts {
		o(p)
	}
	return p
}

func rl(cpu, mem string) v1.ResourceList {
	r := v1.ResourceList{}
	if cpu != "" {
		r[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		r[v1.ResourceMemory] = resource.MustParse(mem)
	}
	return r
}

// On binds the pod to a node.
func On(node string) PodOpt { return func(p *v1.Pod) { p.Spec.NodeName = node } }

// PodLabels adds pod labels.
func PodLabels(kv ...string) PodOpt {
	return func(p *v1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Namespace sets the namespace.
func Namespace(ns string) PodOpt { return func(p *v1.Pod) { p.Namespace = ns } }

// Priority sets spec.priority.
func Priority(v int32) PodOpt { return func(p *v1.Pod) { p.Spec.Priority = &v } }

// Request adds a request to the first container.
func Request(name v1.ResourceName, q string) PodOpt {
	return func(p *v1.Pod) { p.Spec.Containers[0].Resources.Requests[name] = resource.MustParse(q) }
}

// InitContainer adds an init container with cpu/memory requests; sidecar makes it restartable.
func InitContainer(cpu, mem string, sidecar bool) PodOpt {
	return func(p *v1.Pod) {
		c := v1.Container{Name: fmt.Sprintf("init%d", len(p.Spec.InitContainers)), Image: "busybox", Resources: v1.ResourceRequirements{Requests: rl(cpu, mem)}}
		if sidecar {
			always := v1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
}

// Container adds a container with cpu/memory requests.
func Container(cpu, mem string) PodOpt {
	return func(p *v1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%d", len(p.Spec.Containers)), Image: "busybox", Resources: v1.ResourceRequirements{Requests: rl(cpu, mem)}})
	}
}

// Overhead sets the pod overhead.
func Overhead(cpu, mem string) PodOpt { return func(p *v1.Pod) { p.Spec.Overhead = rl(cpu, mem) } }

// NodeSelector sets spec.nodeSelector (key, value...).
func NodeSelector(kv ...string) PodOpt {
	return func(p *v1.Pod) {
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func nodeAffinity(p *v1.Pod) *v1.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &v1.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

// RequiredNodeTerm adds a required node affinity term (ORed with the others) of the given expressions.
func RequiredNodeTerm(exprs ...v1.NodeSelectorRequirement) PodOpt {
	return func(p *v1.Pod) {
		na := nodeAffinity(p)
		if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			na.RequiredDuringSchedulingIgnoredDuringExecution = &v1.NodeSelector{}
		}
		na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms,
			v1.NodeSelectorTerm{MatchExpressions: exprs})
	}
}

// PreferredNodeTerm adds a preferred node affinity term.
func PreferredNodeTerm(weight int32, exprs ...v1.NodeSelectorRequirement) PodOpt {
	return func(p *v1.Pod) {
		na := nodeAffinity(p)
		na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
			v1.PreferredSchedulingTerm{Weight: weight, Preference: v1.NodeSelectorTerm{MatchExpressions: exprs}})
	}
}

// Expr is a node selector requirement.
func Expr(key string, op v1.NodeSelectorOperator, values ...string) v1.NodeSelectorRequirement {
	return v1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

// Toleration adds a toleration.
func Toleration(key string, op v1.TolerationOperator, value string, effect v1.TaintEffect) PodOpt {
	return func(p *v1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, v1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

// HostPort adds a host port to the first container.
func HostPort(port int32, proto v1.Protocol, ip string) PodOpt {
	return func(p *v1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, v1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIP: ip})
	}
}

// Term is a pod affinity term selecting pods with label key=value over topologyKey.
func Term(key, value, topologyKey string) v1.PodAffinityTerm {
	return v1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}, TopologyKey: topologyKey}
}

func podAffinity(p *v1.Pod) *v1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if p.Spec.Affinity.PodAffinity == nil {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{}
	}
	if p.Spec.Affinity.PodAntiAffinity == nil {
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{}
	}
	return p.Spec.Affinity
}

// RequiredAffinity adds a required pod affinity term.
func RequiredAffinity(t v1.PodAffinityTerm) PodOpt {
	return func(p *v1.Pod) {
		a := podAffinity(p)
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	}
}

// RequiredAntiAffinity adds a required pod anti-affinity term.
func RequiredAntiAffinity(t v1.PodAffinityTerm) PodOpt {
	return func(p *v1.Pod) {
		a := podAffinity(p)
		a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	}
}

// PreferredAffinity adds a preferred pod affinity term.
func PreferredAffinity(w int32, t v1.PodAffinityTerm) PodOpt {
	return func(p *v1.Pod) {
		a := podAffinity(p)
		a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution, v1.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t})
	}
}

// PreferredAntiAffinity adds a preferred pod anti-affinity term.
func PreferredAntiAffinity(w int32, t v1.PodAffinityTerm) PodOpt {
	return func(p *v1.Pod) {
		a := podAffinity(p)
		a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, v1.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t})
	}
}

// Spread adds a topology spread constraint selecting pods with label key=value.
func Spread(maxSkew int32, topologyKey string, when v1.UnsatisfiableConstraintAction, key, value string) PodOpt {
	return func(p *v1.Pod) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, v1.TopologySpreadConstraint{
			MaxSkew: maxSkew, TopologyKey: topologyKey, WhenUnsatisfiable: when,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}},
		})
	}
}

// OwnedBy sets a controller owner reference.
func OwnedBy(apiVersion, kind, name string) PodOpt {
	return func(p *v1.Pod) {
		t := true
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("owner-" + name), Controller: &t})
	}
}

// Nominated sets status.nominatedNodeName.
func Nominated(node string) PodOpt { return func(p *v1.Pod) { p.Status.NominatedNodeName = node } }

// PreemptNever sets preemptionPolicy Never.
func PreemptNever() PodOpt {
	return func(p *v1.Pod) { n := v1.PreemptNever; p.Spec.PreemptionPolicy = &n }
}
