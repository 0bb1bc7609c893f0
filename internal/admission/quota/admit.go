package quota

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
)

// ScopeSelectors returns the quota's spec.scopes (as Exists requirements) and spec.scopeSelector requirements.
func ScopeSelectors(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if q.Spec.ScopeSelector != nil {
		out = append(out, q.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

// Matches reports whether a quota with hard limits hard and q's scopes constrains obj, an object of gr.
func Matches(q *corev1.ResourceQuota, hard corev1.ResourceList, gr schema.GroupResource, obj runtime.Object) (bool, error) {
	if len(MatchingResources(gr, Names(hard))) == 0 {
		return false, nil
	}
	for _, sel := range ScopeSelectors(q) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return false, nil
		}
		m, err := podMatchesScope(sel, pod)
		if err != nil || !m {
			return false, err
		}
	}
	return true, nil
}

func podMatchesScope(sel corev1.ScopedResourceSelectorRequirement, pod *corev1.Pod) (bool, error) {
	switch sel.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return isTerminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !isTerminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		if sel.Operator == corev1.ScopeSelectorOpExists {
			return pod.Spec.PriorityClassName != "", nil
		}
		return priorityClassMatches(sel, pod.Spec.PriorityClassName)
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod), nil
	}
	return false, nil
}

func isTerminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// isBestEffort reports whether no container requests or limits cpu or memory (QoS class BestEffort).
func isBestEffort(pod *corev1.Pod) bool {
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := l[n]; ok && !q.IsZero() {
					return false
				}
			}
		}
	}
	if r := pod.Spec.Resources; r != nil {
		for _, l := range []corev1.ResourceList{r.Requests, r.Limits} {
			for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := l[n]; ok && !q.IsZero() {
					return false
				}
			}
		}
	}
	return true
}

func priorityClassMatches(sel corev1.ScopedResourceSelectorRequirement, class string) (bool, error) {
	var op selection.Operator
	switch sel.Operator {
	case corev1.ScopeSelectorOpIn:
		op = selection.In
	case corev1.ScopeSelectorOpNotIn:
		op = selection.NotIn
	case corev1.ScopeSelectorOpExists:
		op = selection.Exists
	case corev1.ScopeSelectorOpDoesNotExist:
		op = selection.DoesNotExist
	default:
		return false, fmt.Errorf("%q is not a valid scope selector operator", sel.Operator)
	}
	req, err := labels.NewRequirement(string(sel.ScopeName), op, sel.Values)
	if err != nil {
		return false, fmt.Errorf("scope selector: %w", err)
	}
	set := labels.Set{}
	if class != "" {
		set[string(corev1.ResourceQuotaScopePriorityClass)] = class
	}
	return labels.NewSelector().Add(*req).Matches(set), nil
}

func crossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if a.PodAffinity != nil {
		terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if a.PodAntiAffinity != nil {
		terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}

// constrainedNames are the names for which a quota requires every container to state a request or limit
// (upstream's backward-compatible pod constraint).
var constrainedNames = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
}

// podConstraints returns upstream's "must specify ..." error when a container lacks a request or limit that
// required (the quota's matching names) covers.
func podConstraints(required []corev1.ResourceName, pod *corev1.Pod) error {
	req := map[corev1.ResourceName]bool{}
	for _, n := range required {
		for _, c := range constrainedNames {
			if n == c {
				req[n] = true
			}
		}
	}
	if len(req) == 0 {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	all := append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...)
	for _, c := range all {
		have := computeUsage(c.Resources.Requests, c.Resources.Limits)
		for n := range req {
			if _, ok := have[n]; !ok && !contains(missing[n], c.Name) {
				missing[n] = append(missing[n], c.Name)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var parts []string
	for _, n := range constrainedNames {
		if names, ok := missing[n]; ok {
			sort.Strings(names)
			parts = append(parts, fmt.Sprintf("%s for: %s", n, strings.Join(names, ",")))
		}
	}
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// ErrForbidden marks an Admit error as a refusal (kube-apiserver answers 403 Forbidden with its message).
var ErrForbidden = errors.New("forbidden")

type forbidden struct{ msg string }

func (f forbidden) Error() string        { return f.msg }
func (f forbidden) Is(target error) bool { return target == ErrForbidden }

func forbiddenf(format string, args ...any) error { return forbidden{fmt.Sprintf(format, args...)} }

// Charge is the usage Admit would add to one quota.
type Charge struct {
	// Name is the quota's name.
	Name string
	// Delta is the usage to add to status.used (limited to the quota's status.hard names).
	Delta corev1.ResourceList
}

// Admit is the ResourceQuota admission decision for creating obj, an object of gr, in a namespace whose quotas
// are quotas: the charges to make, or an ErrForbidden error with upstream's message.
func Admit(gr schema.GroupResource, obj runtime.Object, quotas []*corev1.ResourceQuota, now time.Time) ([]Charge, error) {
	return admit(gr, obj, nil, quotas, now)
}

// AdmitUpdate is Admit for an update of old to obj. As upstream, only services, persistentvolumeclaims and pods
// whose Terminating scope changed (activeDeadlineSeconds set or cleared) are charged on update, by what obj
// consumes beyond old in the quotas old already matched and in full in the others.
func AdmitUpdate(gr schema.GroupResource, obj, old runtime.Object, quotas []*corev1.ResourceQuota, now time.Time) ([]Charge, error) {
	switch gr {
	case Services, PersistentVolumeClaims:
	case Pods:
		p, ok1 := obj.(*corev1.Pod)
		op, ok2 := old.(*corev1.Pod)
		if !ok1 || !ok2 || isTerminating(p) == isTerminating(op) {
			return nil, nil
		}
	default:
		return nil, nil
	}
	return admit(gr, obj, old, quotas, now)
}

func admit(gr schema.GroupResource, obj, old runtime.Object, quotas []*corev1.ResourceQuota, now time.Time) ([]Charge, error) {
	var usage, oldUsage corev1.ResourceList
	var charges []Charge
	sorted := append([]*corev1.ResourceQuota{}, quotas...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, q := range sorted {
		match, err := Matches(q, q.Status.Hard, gr, obj)
		if err != nil {
			return nil, fmt.Errorf("error matching scopes of quota %s, err: %v", q.Name, err)
		}
		if !match {
			continue
		}
		restricted := MatchingResources(gr, Names(q.Status.Hard))
		if pod, ok := obj.(*corev1.Pod); ok {
			if err := podConstraints(restricted, pod); err != nil {
				return nil, forbiddenf("failed quota: %s: %v", q.Name, err)
			}
		}
		var unknown []corev1.ResourceName
		for _, n := range restricted {
			if _, ok := q.Status.Used[n]; !ok {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			return nil, forbiddenf("status unknown for quota: %s, resources: %s", q.Name, joinNames(restricted))
		}
		if usage == nil {
			usage = Usage(gr, obj, now)
			var negative []corev1.ResourceName
			for n, v := range usage {
				if v.Sign() < 0 {
					negative = append(negative, n)
				}
			}
			if len(negative) > 0 {
				return nil, forbiddenf("quota usage is negative for resource(s): %s", joinNames(negative))
			}
		}
		charge := usage
		if old != nil {
			if prevMatch, err := Matches(q, q.Status.Hard, gr, old); err == nil && prevMatch {
				if oldUsage == nil {
					oldUsage = Usage(gr, old, now)
				}
				charge = subtractNonNegative(usage, oldUsage)
			}
		}
		delta := removeZeros(Mask(charge, restricted))
		if len(delta) == 0 {
			continue
		}
		if err := Fits(q, delta); err != nil {
			return nil, err
		}
		charges = append(charges, Charge{Name: q.Name, Delta: delta})
	}
	return charges, nil
}

// Fits returns upstream's "exceeded quota" refusal when q's status.used plus delta passes its status.hard.
func Fits(q *corev1.ResourceQuota, delta corev1.ResourceList) error {
	var exceeded []corev1.ResourceName
	for _, n := range Names(delta) {
		hard, ok := q.Status.Hard[n]
		if !ok {
			continue
		}
		used := q.Status.Used[n]
		sum := used.DeepCopy()
		sum.Add(delta[n])
		if sum.Cmp(hard) > 0 {
			exceeded = append(exceeded, n)
		}
	}
	if len(exceeded) == 0 {
		return nil
	}
	return forbiddenf("exceeded quota: %s, requested: %s, used: %s, limited: %s", q.Name,
		prettyPrint(Mask(delta, exceeded)), prettyPrint(Mask(q.Status.Used, exceeded)), prettyPrint(Mask(q.Status.Hard, exceeded)))
}

// subtractNonNegative returns a - b per name of a, never below zero.
func subtractNonNegative(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for n, q := range a {
		v := q.DeepCopy()
		if o, ok := b[n]; ok {
			v.Sub(o)
		}
		if v.Sign() < 0 {
			v = resource.Quantity{Format: q.Format}
		}
		out[n] = v
	}
	return out
}

func removeZeros(l corev1.ResourceList) corev1.ResourceList {
	for n, q := range l {
		if q.IsZero() {
			delete(l, n)
		}
	}
	return l
}

// prettyPrint renders a list as upstream's quota messages do: sorted name=value pairs joined by commas.
func prettyPrint(l corev1.ResourceList) string {
	parts := make([]string, 0, len(l))
	for _, n := range Names(l) {
		q := l[n]
		parts = append(parts, string(n)+"="+q.String())
	}
	return strings.Join(parts, ",")
}

func joinNames(names []corev1.ResourceName) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// Objects is one resource's objects in a namespace, for Calculate.
type Objects struct {
	GR    schema.GroupResource
	Items []runtime.Object
}

// Calculate is the usage a quota controller records for q: status.used for each name of q's spec.hard, summed
// over the objects that q's scopes match (0 where nothing counts).
func Calculate(q *corev1.ResourceQuota, objects []Objects, now time.Time) corev1.ResourceList {
	hard := q.Spec.Hard
	used := corev1.ResourceList{}
	for _, n := range Names(hard) {
		used[n] = resource.Quantity{Format: resource.DecimalSI}
	}
	for _, set := range objects {
		names := MatchingResources(set.GR, Names(hard))
		if len(names) == 0 {
			continue
		}
		for _, obj := range set.Items {
			if m, err := Matches(q, hard, set.GR, obj); err != nil || !m {
				continue
			}
			add(used, Mask(Usage(set.GR, obj, now), names))
		}
	}
	return used
}
