package framework

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Well-known priorities of the built-in PriorityClasses, used when the API server does not resolve them.
const (
	SystemClusterCritical int32 = 2000000000
	SystemNodeCritical    int32 = 2000001000
)

// AffinityTerm is a parsed PodAffinityTerm: the pods it selects are those in Namespaces (or in a namespace
// whose labels match NamespaceSelector) whose labels match Selector.
type AffinityTerm struct {
	Namespaces        sets.Set[string]
	Selector          labels.Selector
	TopologyKey       string
	NamespaceSelector labels.Selector // nil: only Namespaces
}

// WeightedAffinityTerm is a preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// NamespaceLabels returns the labels of a namespace (nil if unknown); terms with a namespaceSelector need it.
type NamespaceLabels func(ns string) labels.Set

// Matches reports whether pod is selected by the term.
func (t *AffinityTerm) Matches(pod *v1.Pod, nsLabels NamespaceLabels) bool {
	if !t.Namespaces.Has(pod.Namespace) {
		if t.NamespaceSelector == nil || nsLabels == nil || !t.NamespaceSelector.Matches(nsLabels(pod.Namespace)) {
			return false
		}
	}
	return t.Selector.Matches(labels.Set(pod.Labels))
}

// PodInfo is a pod with what scheduling needs precomputed. It is immutable.
type PodInfo struct {
	Pod *v1.Pod
	// Requests is what filtering counts; NonZero is what scoring counts (see PodRequests).
	Requests Resource
	NonZero  Resource
	Priority int32

	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// HostPorts are the host ports its containers use.
	HostPorts []HostPort
	// ParseError is set when an affinity term's selector is invalid; such a pod fits nowhere.
	ParseError error
}

// HasAffinity reports whether the pod has any inter-pod affinity or anti-affinity term.
func (p *PodInfo) HasAffinity() bool {
	return len(p.RequiredAffinityTerms)+len(p.RequiredAntiAffinityTerms)+len(p.PreferredAffinityTerms)+len(p.PreferredAntiAffinityTerms) > 0
}

// NewPodInfo precomputes a pod's scheduling facts. priority is the pod's resolved priority.
func NewPodInfo(pod *v1.Pod) *PodInfo {
	pi := &PodInfo{
		Pod:       pod,
		Requests:  PodRequests(pod, false),
		NonZero:   PodRequests(pod, true),
		Priority:  PodPriority(pod),
		HostPorts: PodHostPorts(pod),
	}
	if a := pod.Spec.Affinity; a != nil {
		if pa := a.PodAffinity; pa != nil {
			pi.RequiredAffinityTerms = pi.parseTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.PreferredAffinityTerms = pi.parseWeighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)
		}
		if pa := a.PodAntiAffinity; pa != nil {
			pi.RequiredAntiAffinityTerms = pi.parseTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.PreferredAntiAffinityTerms = pi.parseWeighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)
		}
	}
	return pi
}

// PodPriority is spec.priority, or the value of a built-in PriorityClass named by priorityClassName when
// spec.priority was left unset or 0 (an API server without the Priority admission step does not fill it).
func PodPriority(pod *v1.Pod) int32 {
	var p int32
	if pod.Spec.Priority != nil {
		p = *pod.Spec.Priority
	}
	if p == 0 {
		switch pod.Spec.PriorityClassName {
		case "system-cluster-critical":
			return SystemClusterCritical
		case "system-node-critical":
			return SystemNodeCritical
		}
	}
	return p
}

func (pi *PodInfo) parseTerms(terms []v1.PodAffinityTerm) []AffinityTerm {
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := NewAffinityTerm(pi.Pod, &terms[i])
		if err != nil {
			pi.ParseError = err
			continue
		}
		out = append(out, t)
	}
	return out
}

func (pi *PodInfo) parseWeighted(terms []v1.WeightedPodAffinityTerm) []WeightedAffinityTerm {
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := NewAffinityTerm(pi.Pod, &terms[i].PodAffinityTerm)
		if err != nil {
			pi.ParseError = err
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out
}

// NewAffinityTerm parses one term of pod: an empty namespace list with no namespaceSelector means the pod's
// own namespace; matchLabelKeys and mismatchLabelKeys add In and NotIn requirements on the pod's own values.
func NewAffinityTerm(pod *v1.Pod, term *v1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("pod affinity selector: %w", err)
	}
	if term.LabelSelector == nil {
		sel = labels.Nothing()
	}
	for _, k := range term.MatchLabelKeys {
		if v, ok := pod.Labels[k]; ok {
			r, err := labels.NewRequirement(k, selection.In, []string{v})
			if err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	for _, k := range term.MismatchLabelKeys {
		if v, ok := pod.Labels[k]; ok {
			r, err := labels.NewRequirement(k, selection.NotIn, []string{v})
			if err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	t := AffinityTerm{Selector: sel, TopologyKey: term.TopologyKey, Namespaces: sets.New(term.Namespaces...)}
	if term.NamespaceSelector != nil {
		ns, err := metav1.LabelSelectorAsSelector(term.NamespaceSelector)
		if err != nil {
			return AffinityTerm{}, fmt.Errorf("pod affinity namespaceSelector: %w", err)
		}
		t.NamespaceSelector = ns
	} else if len(term.Namespaces) == 0 {
		t.Namespaces.Insert(pod.Namespace)
	}
	return t, nil
}

// HostPort is one host port a pod (or node) uses.
type HostPort struct {
	IP       string // "0.0.0.0" for any
	Protocol v1.Protocol
	Port     int32
}

// PodHostPorts lists the host ports of a pod's containers (and restartable init containers).
func PodHostPorts(pod *v1.Pod) []HostPort {
	var out []HostPort
	add := func(cs []v1.Container) {
		for i := range cs {
			for _, p := range cs[i].Ports {
				if p.HostPort <= 0 {
					continue
				}
				hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort}
				if hp.IP == "" {
					hp.IP = "0.0.0.0"
				}
				if hp.Protocol == "" {
					hp.Protocol = v1.ProtocolTCP
				}
				out = append(out, hp)
			}
		}
	}
	add(pod.Spec.Containers)
	for i := range pod.Spec.InitContainers {
		if rp := pod.Spec.InitContainers[i].RestartPolicy; rp != nil && *rp == v1.ContainerRestartPolicyAlways {
			add(pod.Spec.InitContainers[i : i+1])
		}
	}
	return out
}
