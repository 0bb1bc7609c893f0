package webhook

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// acceptedReviewVersions are the AdmissionReview versions a webhook must list at least one of.
var acceptedReviewVersions = []string{"v1", "v1beta1"}

var (
	supportedFailurePolicies      = []string{string(admissionregistrationv1.Fail), string(admissionregistrationv1.Ignore)}
	supportedMatchPolicies        = []string{string(admissionregistrationv1.Equivalent), string(admissionregistrationv1.Exact)}
	supportedSideEffectClasses    = []string{"None", "NoneOnDryRun", "Some", "Unknown"}
	noSideEffectClasses           = []string{"None", "NoneOnDryRun"}
	supportedOperations           = []string{"*", "CONNECT", "CREATE", "DELETE", "UPDATE"}
	supportedReinvocationPolicies = []string{string(admissionregistrationv1.IfNeededReinvocationPolicy), string(admissionregistrationv1.NeverReinvocationPolicy)}
	validScopes                   = []string{"*", "Cluster", "Namespaced"}
)

// options are the switches upstream relaxes on update when the stored object already broke a rule.
type options struct {
	requireNoSideEffects             bool
	requireRecognizedReviewVersion   bool
	requireUniqueWebhookNames        bool
	allowInvalidLabelValueInSelector bool
	ignoreMatchConditions            bool
}

var createOptions = options{requireNoSideEffects: true, requireRecognizedReviewVersion: true, requireUniqueWebhookNames: true}

// common is the part of a validating or mutating webhook that validation and dispatch look at.
type common struct {
	name              string
	clientConfig      admissionregistrationv1.WebhookClientConfig
	rules             []admissionregistrationv1.RuleWithOperations
	failurePolicy     *admissionregistrationv1.FailurePolicyType
	matchPolicy       *admissionregistrationv1.MatchPolicyType
	namespaceSelector *metav1.LabelSelector
	objectSelector    *metav1.LabelSelector
	sideEffects       *admissionregistrationv1.SideEffectClass
	timeoutSeconds    *int32
	reviewVersions    []string
	matchConditions   []admissionregistrationv1.MatchCondition
	reinvocation      *admissionregistrationv1.ReinvocationPolicyType // nil for validating webhooks
}

func fromValidating(h *admissionregistrationv1.ValidatingWebhook) common {
	return common{name: h.Name, clientConfig: h.ClientConfig, rules: h.Rules, failurePolicy: h.FailurePolicy,
		matchPolicy: h.MatchPolicy, namespaceSelector: h.NamespaceSelector, objectSelector: h.ObjectSelector,
		sideEffects: h.SideEffects, timeoutSeconds: h.TimeoutSeconds, reviewVersions: h.AdmissionReviewVersions,
		matchConditions: h.MatchConditions}
}

func fromMutating(h *admissionregistrationv1.MutatingWebhook) common {
	return common{name: h.Name, clientConfig: h.ClientConfig, rules: h.Rules, failurePolicy: h.FailurePolicy,
		matchPolicy: h.MatchPolicy, namespaceSelector: h.NamespaceSelector, objectSelector: h.ObjectSelector,
		sideEffects: h.SideEffects, timeoutSeconds: h.TimeoutSeconds, reviewVersions: h.AdmissionReviewVersions,
		matchConditions: h.MatchConditions, reinvocation: h.ReinvocationPolicy}
}

func validatingCommons(hs []admissionregistrationv1.ValidatingWebhook) []common {
	out := make([]common, len(hs))
	for i := range hs {
		out[i] = fromValidating(&hs[i])
	}
	return out
}

func mutatingCommons(hs []admissionregistrationv1.MutatingWebhook) []common {
	out := make([]common, len(hs))
	for i := range hs {
		out[i] = fromMutating(&hs[i])
	}
	return out
}

// ValidateValidating validates a ValidatingWebhookConfiguration on create, with kube-apiserver's field paths and messages.
func ValidateValidating(c *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
	return validateConfig(&c.ObjectMeta, validatingCommons(c.Webhooks), false, createOptions)
}

// ValidateMutating validates a MutatingWebhookConfiguration on create, with kube-apiserver's field paths and messages.
func ValidateMutating(c *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
	return validateConfig(&c.ObjectMeta, mutatingCommons(c.Webhooks), true, createOptions)
}

// ValidateValidatingUpdate validates an update, tolerating rules the stored object already broke, as upstream does.
func ValidateValidatingUpdate(newC, oldC *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
	n, o := validatingCommons(newC.Webhooks), validatingCommons(oldC.Webhooks)
	return validateConfig(&newC.ObjectMeta, n, false, updateOptions(n, o))
}

// ValidateMutatingUpdate validates an update, tolerating rules the stored object already broke, as upstream does.
func ValidateMutatingUpdate(newC, oldC *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
	n, o := mutatingCommons(newC.Webhooks), mutatingCommons(oldC.Webhooks)
	return validateConfig(&newC.ObjectMeta, n, true, updateOptions(n, o))
}

func updateOptions(newHooks, oldHooks []common) options {
	opts := options{requireNoSideEffects: true, requireRecognizedReviewVersion: true, requireUniqueWebhookNames: true}
	names := sets.New[string]()
	for _, h := range oldHooks {
		if h.sideEffects == nil || !slices.Contains(noSideEffectClasses, string(*h.sideEffects)) {
			opts.requireNoSideEffects = false
		}
		if len(h.reviewVersions) > 0 && !slices.ContainsFunc(h.reviewVersions, isAcceptedReviewVersion) {
			opts.requireRecognizedReviewVersion = false
		}
		if names.Has(h.name) {
			opts.requireUniqueWebhookNames = false
		}
		names.Insert(h.name)
		strict := metav1validation.LabelSelectorValidationOptions{}
		if (h.namespaceSelector != nil && len(metav1validation.ValidateLabelSelector(h.namespaceSelector, strict, nil)) > 0) ||
			(h.objectSelector != nil && len(metav1validation.ValidateLabelSelector(h.objectSelector, strict, nil)) > 0) {
			opts.allowInvalidLabelValueInSelector = true
		}
	}
	// As upstream, match conditions are not validated again on an update that leaves them all unchanged.
	opts.ignoreMatchConditions = len(newHooks) == len(oldHooks)
	for i := range oldHooks {
		if opts.ignoreMatchConditions && !slices.Equal(newHooks[i].matchConditions, oldHooks[i].matchConditions) {
			opts.ignoreMatchConditions = false
		}
	}
	return opts
}

func isAcceptedReviewVersion(v string) bool { return slices.Contains(acceptedReviewVersions, v) }

func validateConfig(meta *metav1.ObjectMeta, hooks []common, mutating bool, opts options) field.ErrorList {
	errs := genericvalidation.ValidateObjectMeta(meta, false, genericvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	names := sets.New[string]()
	for i := range hooks {
		p := field.NewPath("webhooks").Index(i)
		errs = append(errs, validateHook(&hooks[i], mutating, opts, p)...)
		errs = append(errs, validateReviewVersions(hooks[i].reviewVersions, opts.requireRecognizedReviewVersion, p.Child("admissionReviewVersions"))...)
		if name := hooks[i].name; opts.requireUniqueWebhookNames && name != "" {
			if names.Has(name) {
				errs = append(errs, field.Duplicate(p.Child("name"), name))
			} else {
				names.Insert(name)
			}
		}
	}
	return errs
}

func validateReviewVersions(versions []string, requireRecognized bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(versions) == 0 {
		return append(errs, field.Required(p, fmt.Sprintf("must specify one of %v", strings.Join(acceptedReviewVersions, ", "))))
	}
	seen := map[string]bool{}
	accepted := false
	for i, v := range versions {
		if seen[v] {
			errs = append(errs, field.Invalid(p.Index(i), v, "duplicate version"))
			continue
		}
		seen[v] = true
		for _, msg := range utilvalidation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(p.Index(i), v, msg))
		}
		accepted = accepted || isAcceptedReviewVersion(v)
	}
	if requireRecognized && !accepted {
		errs = append(errs, field.Invalid(p, versions, fmt.Sprintf("must include at least one of %v", strings.Join(acceptedReviewVersions, ", "))))
	}
	return errs
}

func validateHook(h *common, mutating bool, opts options, p *field.Path) field.ErrorList {
	errs := utilvalidation.IsFullyQualifiedName(p.Child("name"), h.name)
	for i := range h.rules {
		errs = append(errs, validateRuleWithOperations(&h.rules[i], p.Child("rules").Index(i))...)
	}
	if h.failurePolicy != nil && !slices.Contains(supportedFailurePolicies, string(*h.failurePolicy)) {
		errs = append(errs, field.NotSupported(p.Child("failurePolicy"), *h.failurePolicy, supportedFailurePolicies))
	}
	if h.matchPolicy != nil && !slices.Contains(supportedMatchPolicies, string(*h.matchPolicy)) {
		errs = append(errs, field.NotSupported(p.Child("matchPolicy"), *h.matchPolicy, supportedMatchPolicies))
	}
	allowed := supportedSideEffectClasses
	if opts.requireNoSideEffects {
		allowed = noSideEffectClasses
	}
	if h.sideEffects == nil {
		errs = append(errs, field.Required(p.Child("sideEffects"), fmt.Sprintf("must specify one of %v", strings.Join(allowed, ", "))))
	} else if !slices.Contains(allowed, string(*h.sideEffects)) {
		errs = append(errs, field.NotSupported(p.Child("sideEffects"), *h.sideEffects, allowed))
	}
	if t := h.timeoutSeconds; t != nil && (*t > 30 || *t < 1) {
		errs = append(errs, field.Invalid(p.Child("timeoutSeconds"), *t, "the timeout value must be between 1 and 30 seconds"))
	}
	selOpts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: opts.allowInvalidLabelValueInSelector}
	if h.namespaceSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(h.namespaceSelector, selOpts, p.Child("namespaceSelector"))...)
	}
	if h.objectSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(h.objectSelector, selOpts, p.Child("objectSelector"))...)
	}
	if mutating && h.reinvocation != nil && !slices.Contains(supportedReinvocationPolicies, string(*h.reinvocation)) {
		errs = append(errs, field.NotSupported(p.Child("reinvocationPolicy"), *h.reinvocation, supportedReinvocationPolicies))
	}
	cc := h.clientConfig
	switch {
	case (cc.URL == nil) == (cc.Service == nil):
		errs = append(errs, field.Required(p.Child("clientConfig"), "exactly one of url or service is required"))
	case cc.URL != nil:
		errs = append(errs, ValidateURL(p.Child("clientConfig").Child("url"), *cc.URL)...)
	default:
		port := int32(443)
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		errs = append(errs, ValidateService(p.Child("clientConfig").Child("service"), cc.Service.Namespace, cc.Service.Name, cc.Service.Path, port)...)
	}
	if !opts.ignoreMatchConditions {
		errs = append(errs, validateMatchConditions(h.matchConditions, p.Child("matchConditions"))...)
	}
	return errs
}

func validateRuleWithOperations(r *admissionregistrationv1.RuleWithOperations, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(p.Child("operations"), ""))
	}
	if len(r.Operations) > 1 && slices.Contains(r.Operations, admissionregistrationv1.OperationAll) {
		errs = append(errs, field.Invalid(p.Child("operations"), r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, op := range r.Operations {
		if !slices.Contains(supportedOperations, string(op)) {
			errs = append(errs, field.NotSupported(p.Child("operations").Index(i), op, supportedOperations))
		}
	}
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(p.Child("apiGroups"), ""))
	}
	if len(r.APIGroups) > 1 && slices.Contains(r.APIGroups, "*") {
		errs = append(errs, field.Invalid(p.Child("apiGroups"), r.APIGroups, "if '*' is present, must not specify other API groups"))
	}
	if len(r.APIVersions) == 0 {
		errs = append(errs, field.Required(p.Child("apiVersions"), ""))
	}
	if len(r.APIVersions) > 1 && slices.Contains(r.APIVersions, "*") {
		errs = append(errs, field.Invalid(p.Child("apiVersions"), r.APIVersions, "if '*' is present, must not specify other API versions"))
	}
	for i, v := range r.APIVersions {
		if v == "" {
			errs = append(errs, field.Required(p.Child("apiVersions").Index(i), ""))
		}
	}
	errs = append(errs, validateResources(r.Resources, p.Child("resources"))...)
	if r.Scope != nil && !slices.Contains(validScopes, string(*r.Scope)) {
		errs = append(errs, field.NotSupported(p.Child("scope"), *r.Scope, validScopes))
	}
	return errs
}

func validateResources(resources []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(resources) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	wildcardSub := sets.New[string]() // x/*
	wildcardRes := sets.New[string]() // */x
	doubleWildcard, singleWildcard, plainResource := false, false, false
	for i, rs := range resources {
		if rs == "" {
			errs = append(errs, field.Required(p.Index(i), ""))
			continue
		}
		doubleWildcard = doubleWildcard || rs == "*/*"
		singleWildcard = singleWildcard || rs == "*"
		res, sub, ok := strings.Cut(rs, "/")
		if !ok {
			plainResource = rs != "*"
			continue
		}
		if wildcardSub.Has(res) {
			errs = append(errs, field.Invalid(p.Index(i), rs, fmt.Sprintf("if '%s/*' is present, must not specify %s", res, rs)))
		}
		if wildcardRes.Has(sub) {
			errs = append(errs, field.Invalid(p.Index(i), rs, fmt.Sprintf("if '*/%s' is present, must not specify %s", sub, rs)))
		}
		if sub == "*" {
			wildcardSub.Insert(res)
		}
		if res == "*" {
			wildcardRes.Insert(sub)
		}
	}
	if len(resources) > 1 && doubleWildcard {
		errs = append(errs, field.Invalid(p, resources, "if '*/*' is present, must not specify other resources"))
	}
	if singleWildcard && plainResource {
		errs = append(errs, field.Invalid(p, resources, "if '*' is present, must not specify other resources without subresources"))
	}
	return errs
}

// ValidateURL checks a webhook's clientConfig.url as upstream (https, a host, no user, fragment or query); the
// CRD conversion webhook's clientConfig is checked by the same rules.
func ValidateURL(p *field.Path, raw string) field.ErrorList {
	const form = "; desired format: https://host[/path]"
	u, err := url.Parse(raw)
	if err != nil {
		return field.ErrorList{field.Required(p, "url must be a valid URL: "+err.Error()+form)}
	}
	var errs field.ErrorList
	if u.Scheme != "https" {
		errs = append(errs, field.Invalid(p, u.Scheme, "'https' is the only allowed URL scheme"+form))
	}
	if u.Host == "" {
		errs = append(errs, field.Invalid(p, u.Host, "host must be specified"+form))
	}
	if u.User != nil {
		errs = append(errs, field.Invalid(p, u.User.String(), "user information is not permitted in the URL"))
	}
	if u.Fragment != "" {
		errs = append(errs, field.Invalid(p, u.Fragment, "fragments are not permitted in the URL"))
	}
	if u.RawQuery != "" {
		errs = append(errs, field.Invalid(p, u.RawQuery, "query parameters are not permitted in the URL"))
	}
	return errs
}

// ValidateService checks a webhook's clientConfig.service (name, namespace, port, path segments) as upstream.
func ValidateService(p *field.Path, namespace, name string, path *string, port int32) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if namespace == "" {
		errs = append(errs, field.Required(p.Child("namespace"), ""))
	}
	if msgs := utilvalidation.IsValidPortNum(int(port)); msgs != nil {
		errs = append(errs, field.Invalid(p.Child("port"), port, "port is not valid: "+strings.Join(msgs, ", ")))
	}
	if path == nil || *path == "/" || *path == "" {
		return errs
	}
	urlPath := *path
	if urlPath == "//" {
		return append(errs, field.Invalid(p.Child("path"), urlPath, "segment[0] may not be empty"))
	}
	if !strings.HasPrefix(urlPath, "/") {
		errs = append(errs, field.Invalid(p.Child("path"), urlPath, "must start with a '/'"))
	}
	check := strings.TrimSuffix(urlPath[1:], "/")
	for i, step := range strings.Split(check, "/") {
		if step == "" {
			errs = append(errs, field.Invalid(p.Child("path"), urlPath, fmt.Sprintf("segment[%d] may not be empty", i)))
			continue
		}
		for _, msg := range utilvalidation.IsDNS1123Subdomain(step) {
			errs = append(errs, field.Invalid(p.Child("path"), urlPath, fmt.Sprintf("segment[%d]: %v", i, msg)))
		}
	}
	return errs
}

// validateMatchConditions checks count, names, and that each expression compiles in the webhook CEL environment to a bool.
func validateMatchConditions(mcs []admissionregistrationv1.MatchCondition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(mcs) > 64 {
		errs = append(errs, field.TooMany(p, len(mcs), 64))
	}
	names := sets.New[string]()
	for i, mc := range mcs {
		ip := p.Index(i)
		if expr := strings.TrimSpace(mc.Expression); expr == "" {
			errs = append(errs, field.Required(ip.Child("expression"), ""))
		} else if _, err := checkCondition(expr); err != nil {
			errs = append(errs, field.Invalid(ip.Child("expression"), expr, err.Error()))
		}
		if mc.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		} else {
			for _, msg := range utilvalidation.IsQualifiedName(mc.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), mc.Name, msg))
			}
			if names.Has(mc.Name) {
				errs = append(errs, field.Duplicate(ip.Child("name"), mc.Name))
			} else {
				names.Insert(mc.Name)
			}
		}
	}
	return errs
}
