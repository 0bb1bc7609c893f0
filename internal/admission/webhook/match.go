package webhook

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// hook is one webhook of one configuration, in dispatch order.
type hook struct {
	common
	config string
	index  int // position in the configuration
}

// uid identifies the hook for reinvocation as upstream's accessor UID: configuration/webhook/index.
func (h *hook) uid() string { return h.config + "/" + h.name + "/" + strconv.Itoa(h.index) }

// invocation says that a hook is to be called and with which resource and kind.
type invocation struct {
	resource    schema.GroupVersionResource
	subResource string
	kind        schema.GroupVersionKind
}

// validatingHooks flattens the configurations, sorted by name, into their webhooks in order.
func validatingHooks(cs []*admissionregistrationv1.ValidatingWebhookConfiguration) []hook {
	cs = slices.Clone(cs)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	n := 0
	for _, c := range cs {
		n += len(c.Webhooks)
	}
	out := make([]hook, 0, n)
	for _, c := range cs {
		for i := range c.Webhooks {
			out = append(out, hook{common: fromValidating(&c.Webhooks[i]), config: c.Name, index: i})
		}
	}
	return out
}

// mutatingHooks flattens the configurations, sorted by name, into their webhooks in order.
func mutatingHooks(cs []*admissionregistrationv1.MutatingWebhookConfiguration) []hook {
	cs = slices.Clone(cs)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	n := 0
	for _, c := range cs {
		n += len(c.Webhooks)
	}
	out := make([]hook, 0, n)
	for _, c := range cs {
		for i := range c.Webhooks {
			out = append(out, hook{common: fromMutating(&c.Webhooks[i]), config: c.Name, index: i})
		}
	}
	return out
}

// exempt reports whether a request is for an admission configuration kind that upstream never sends to webhooks.
func exempt(a *Attributes) bool {
	if a.Kind.Group != admissionregistrationv1.GroupName {
		return false
	}
	switch a.Kind.Kind {
	case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
		"ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
		return true
	}
	return false
}

var namespaceResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// ruleMatches reports whether one rule matches the request for resource gvr, as upstream's rules.Matcher.
func ruleMatches(r *admissionregistrationv1.RuleWithOperations, a *Attributes, gvr schema.GroupVersionResource) bool {
	if r.Scope != nil && *r.Scope != admissionregistrationv1.AllScopes {
		switch *r.Scope {
		case admissionregistrationv1.NamespacedScope:
			if gvr == namespaceResource || a.Namespace == "" {
				return false
			}
		case admissionregistrationv1.ClusterScope:
			if gvr != namespaceResource && a.Namespace != "" {
				return false
			}
		default:
			return false
		}
	}
	opMatch := false
	for _, op := range r.Operations {
		if op == admissionregistrationv1.OperationAll || string(op) == string(a.Operation) {
			opMatch = true
			break
		}
	}
	if !opMatch || !exactOrWildcard(r.APIGroups, gvr.Group) || !exactOrWildcard(r.APIVersions, gvr.Version) {
		return false
	}
	for _, rs := range r.Resources {
		res, sub, _ := strings.Cut(rs, "/")
		if (res == "*" || res == gvr.Resource) && (sub == "*" || sub == a.SubResource) {
			return true
		}
	}
	return false
}

func exactOrWildcard(items []string, want string) bool {
	for _, it := range items {
		if it == "*" || it == want {
			return true
		}
	}
	return false
}

// matchRules finds the invocation for a hook's rules: an exact match, else under matchPolicy Equivalent a rule that
// names the same group and resource in another version (skiff has no version converter, so the webhook is sent the
// object in the request's own version, with kind and resource equal to requestKind and requestResource).
func matchRules(h *hook, a *Attributes) *invocation {
	inv := &invocation{resource: a.Resource, subResource: a.SubResource, kind: a.Kind}
	for i := range h.rules {
		if ruleMatches(&h.rules[i], a, a.Resource) {
			return inv
		}
	}
	if h.matchPolicy == nil || *h.matchPolicy != admissionregistrationv1.Equivalent {
		return nil
	}
	for i := range h.rules {
		r := &h.rules[i]
		for _, v := range r.APIVersions {
			if v == "*" || v == a.Resource.Version {
				continue // already tried above
			}
			if ruleMatches(r, a, a.Resource.GroupResource().WithVersion(v)) {
				return inv
			}
		}
	}
	return nil
}

// parseSelector turns a webhook's selector into a labels.Selector; nil and {} match everything.
func parseSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// matchNamespace applies the namespaceSelector, as upstream's namespace.Matcher: cluster-scoped objects other than
// namespaces always match, a Namespace being created or updated is matched on its own labels.
func matchNamespace(h *hook, a *Attributes, nsLabels func(string) (map[string]string, bool)) (bool, *apierrors.StatusError) {
	isNamespace := a.Resource.Resource == "namespaces"
	if a.Namespace == "" && !isNamespace {
		return true, nil
	}
	sel, err := parseSelector(h.namespaceSelector)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	if sel.Empty() {
		return true, nil
	}
	var lbls map[string]string
	if isNamespace && a.SubResource == "" && (a.Operation == admissionv1.Create || a.Operation == admissionv1.Update) {
		acc, err := meta.Accessor(a.Object)
		if err != nil {
			return false, apierrors.NewInternalError(err)
		}
		lbls = acc.GetLabels()
	} else {
		name := a.Namespace
		if name == "" {
			name = a.Name
		}
		l, ok := nsLabels(name)
		if !ok {
			return false, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
		}
		lbls = l
	}
	return sel.Matches(labels.Set(lbls)), nil
}

// matchObject applies the objectSelector to the new or the old object, as upstream's object.Matcher.
func matchObject(h *hook, a *Attributes) (bool, *apierrors.StatusError) {
	sel, err := parseSelector(h.objectSelector)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	if sel.Empty() {
		return true, nil
	}
	return objectLabelsMatch(a.Object, sel) || objectLabelsMatch(a.OldObject, sel), nil
}

func objectLabelsMatch(obj runtime.Object, sel labels.Selector) bool {
	if obj == nil {
		return false
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(acc.GetLabels()))
}

// shouldCall decides whether h is called for a. Upstream evaluates the selectors first and reports their errors
// only when the rules match; checking the (cheap) rules first gives the same answers without parsing selectors or
// looking up namespaces for webhooks that do not apply. The matchConditions are evaluated last, as upstream's.
func shouldCall(ctx context.Context, h *hook, a *Attributes, nsLabels func(string) (map[string]string, bool), conds *conditionCache) (*invocation, *apierrors.StatusError) {
	inv := matchRules(h, a)
	if inv == nil {
		return nil, nil
	}
	nsOK, nsErr := matchNamespace(h, a, nsLabels)
	if !nsOK && nsErr == nil {
		return nil, nil
	}
	objOK, objErr := matchObject(h, a)
	if !objOK && objErr == nil {
		return nil, nil
	}
	if nsErr != nil {
		return nil, nsErr
	}
	if objErr != nil {
		return nil, objErr
	}
	if ok, err := matchConditions(ctx, h, inv, a, conds); !ok || err != nil {
		return nil, err
	}
	return inv, nil
}
