package plugins

import (
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"
)

var statusNodeAffinity = framework.NewStatus(NodeAffinityName, framework.UnschedulableAndUnresolvable, ErrReasonNodeAffinity)

// NodeSelectorTerm is a parsed NodeSelectorTerm: a node matches when its labels match Labels and its name
// matches Fields. A term that failed to parse (or is empty) matches no node.
type NodeSelectorTerm struct {
	Labels labels.Selector
	// Fields restricts metadata.name: the node name must be In (or NotIn) Names.
	Fields []nameRequirement
	valid  bool
}

type nameRequirement struct {
	in    bool
	names sets.Set[string]
}

// Matches reports whether node matches the term.
func (t *NodeSelectorTerm) Matches(node *v1.Node) bool {
	if !t.valid {
		return false
	}
	for _, f := range t.Fields {
		if f.names.Has(node.Name) != f.in {
			return false
		}
	}
	return t.Labels.Matches(labels.Set(node.Labels))
}

// ParseNodeSelectorTerm parses one term with operators In, NotIn, Exists, DoesNotExist, Gt and Lt on labels
// and In/NotIn on the metadata.name field.
func ParseNodeSelectorTerm(term *v1.NodeSelectorTerm) NodeSelectorTerm {
	out := NodeSelectorTerm{Labels: labels.NewSelector()}
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return out
	}
	for _, e := range term.MatchExpressions {
		var op selection.Operator
		switch e.Operator {
		case v1.NodeSelectorOpIn:
			op = selection.In
		case v1.NodeSelectorOpNotIn:
			op = selection.NotIn
		case v1.NodeSelectorOpExists:
			op = selection.Exists
		case v1.NodeSelectorOpDoesNotExist:
			op = selection.DoesNotExist
		case v1.NodeSelectorOpGt:
			op = selection.GreaterThan
		case v1.NodeSelectorOpLt:
			op = selection.LessThan
		default:
			return out
		}
		r, err := labels.NewRequirement(e.Key, op, e.Values)
		if err != nil {
			return out
		}
		out.Labels = out.Labels.Add(*r)
	}
	for _, f := range term.MatchFields {
		if f.Key != "metadata.name" {
			return out
		}
		switch f.Operator {
		case v1.NodeSelectorOpIn:
			out.Fields = append(out.Fields, nameRequirement{in: true, names: sets.New(f.Values...)})
		case v1.NodeSelectorOpNotIn:
			out.Fields = append(out.Fields, nameRequirement{in: false, names: sets.New(f.Values...)})
		default:
			return out
		}
	}
	out.valid = true
	return out
}

// RequiredNodeAffinity is a pod's nodeSelector and required node affinity, parsed once per pod.
type RequiredNodeAffinity struct {
	selector labels.Selector    // nodeSelector; nil if none
	terms    []NodeSelectorTerm // ORed; nil if no required affinity
	hasTerms bool
}

// NewRequiredNodeAffinity parses pod's nodeSelector and requiredDuringSchedulingIgnoredDuringExecution.
func NewRequiredNodeAffinity(pod *v1.Pod) *RequiredNodeAffinity {
	r := &RequiredNodeAffinity{}
	if len(pod.Spec.NodeSelector) > 0 {
		r.selector = labels.SelectorFromSet(pod.Spec.NodeSelector)
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.hasTerms = true
		for i := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			r.terms = append(r.terms, ParseNodeSelectorTerm(&a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i]))
		}
	}
	return r
}

// Match reports whether node satisfies the nodeSelector and at least one required term.
func (r *RequiredNodeAffinity) Match(node *v1.Node) bool {
	if r.selector != nil && !r.selector.Matches(labels.Set(node.Labels)) {
		return false
	}
	if !r.hasTerms {
		return true
	}
	for i := range r.terms {
		if r.terms[i].Matches(node) {
			return true
		}
	}
	return false
}

// NodeAffinity rejects a node that does not match the pod's nodeSelector and required node affinity.
func NodeAffinity(req *RequiredNodeAffinity, node *framework.NodeInfo) *framework.Status {
	if req.Match(node.Node) {
		return nil
	}
	return statusNodeAffinity
}

// PreferredNodeAffinity is a pod's preferred node affinity terms, parsed.
type PreferredNodeAffinity struct {
	terms   []NodeSelectorTerm
	weights []int32
}

// NewPreferredNodeAffinity parses pod's preferredDuringSchedulingIgnoredDuringExecution; nil if none.
func NewPreferredNodeAffinity(pod *v1.Pod) *PreferredNodeAffinity {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return nil
	}
	p := &PreferredNodeAffinity{}
	for _, t := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if t.Weight == 0 {
			continue
		}
		p.terms = append(p.terms, ParseNodeSelectorTerm(&t.Preference))
		p.weights = append(p.weights, t.Weight)
	}
	return p
}

// NodeAffinityScore sums the weights of the preferred terms the node matches; Normalize scales it.
func NodeAffinityScore(pref *PreferredNodeAffinity, node *framework.NodeInfo) int64 {
	if pref == nil {
		return 0
	}
	var s int64
	for i := range pref.terms {
		if pref.terms[i].Matches(node.Node) {
			s += int64(pref.weights[i])
		}
	}
	return s
}
