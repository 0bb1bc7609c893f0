package validation

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/skiff-sh/skiff/internal/flowcontrol"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FlowSchema and PriorityLevelConfiguration (flowcontrol.apiserver.k8s.io/v1),
// as k8s.io/kubernetes v1.37 pkg/apis/flowcontrol/validation. The rules that
// 1.37 enforces declaratively (+k8s:beta, DeclarativeValidationBeta on by
// default) report the declarative wording ("spec.limited: Required value")
// after the handwritten errors, as the REST layer does; unlike upstream they
// are not ratcheted on update (an unchanged invalid union is reported again).

// flowSchemaMaxMatchingPrecedence is the largest matchingPrecedence a FlowSchema may have.
const flowSchemaMaxMatchingPrecedence int32 = 10000

// priorityLevelMaxQueues is the largest queues value (10^7).
const priorityLevelMaxQueues int32 = 10 * 1000 * 1000

// shuffleShardingMaxHashBits is MaxHashBits of k8s.io/apiserver's shufflesharding.
const shuffleShardingMaxHashBits = 60

// preserveZeroConcurrencySharesAnnotation is v1beta3's round-trip annotation, forbidden on stored objects.
const preserveZeroConcurrencySharesAnnotation = "flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares"

var (
	flowcontrolVerbs              = []string{"create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"}
	flowcontrolSubjectKinds       = []string{"Group", "ServiceAccount", "User"}
	flowcontrolDistinguishers     = []string{"ByNamespace", "ByUser"}
	flowcontrolEnablements        = []string{"Exempt", "Limited"}
	flowcontrolLimitResponseTypes = []string{"Queue", "Reject"}
)

func validateFlowSchema(fs *flowcontrolv1.FlowSchema) field.ErrorList {
	allErrs := validateObjectMeta(&fs.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateFlowSchemaSpec(fs.Name, &fs.Spec, specPath)...)
	if mand := flowcontrol.MandatoryFlowSchema(fs.Name); mand != nil && !apiequality.Semantic.DeepEqual(fs.Spec, mand.Spec) {
		allErrs = append(allErrs, field.Invalid(specPath, fs.Spec, fmt.Sprintf("spec of '%s' must equal the fixed value", fs.Name)))
	}
	return append(allErrs, validateFlowSchemaStatus(&fs.Status, field.NewPath("status"))...)
}

// validateFlowSchemaUpdate is the create check again: upstream has no immutable FlowSchema fields.
func validateFlowSchemaUpdate(fs, _ *flowcontrolv1.FlowSchema) field.ErrorList {
	return validateFlowSchema(fs)
}

func validateFlowSchemaStatusUpdate(fs, _ *flowcontrolv1.FlowSchema) field.ErrorList {
	return validateFlowSchemaStatus(&fs.Status, field.NewPath("status"))
}

func validateFlowSchemaSpec(name string, spec *flowcontrolv1.FlowSchemaSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	precedence := fldPath.Child("matchingPrecedence")
	if spec.MatchingPrecedence <= 0 {
		allErrs = append(allErrs, field.Invalid(precedence, spec.MatchingPrecedence, "must be a positive value"))
	}
	if spec.MatchingPrecedence > flowSchemaMaxMatchingPrecedence {
		allErrs = append(allErrs, field.Invalid(precedence, spec.MatchingPrecedence, fmt.Sprintf("must not be greater than %v", flowSchemaMaxMatchingPrecedence)))
	}
	if spec.MatchingPrecedence == 1 && name != flowcontrolv1.FlowSchemaNameExempt {
		allErrs = append(allErrs, field.Invalid(precedence, spec.MatchingPrecedence, "only the schema named 'exempt' may have matchingPrecedence 1"))
	}
	if dm := spec.DistinguisherMethod; dm != nil && !slices.Contains(flowcontrolDistinguishers, string(dm.Type)) {
		// As upstream, the bad value shown is the whole distinguisherMethod.
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("distinguisherMethod", "type"), dm, flowcontrolDistinguishers))
	}
	plPath := fldPath.Child("priorityLevelConfiguration", "name")
	if plName := spec.PriorityLevelConfiguration.Name; plName != "" {
		for _, msg := range nameIsDNSSubdomain(plName, false) {
			allErrs = append(allErrs, field.Invalid(plPath, plName, msg))
		}
	} else {
		allErrs = append(allErrs, field.Required(plPath, "must reference a priority level"))
	}
	for i := range spec.Rules {
		allErrs = append(allErrs, validatePolicyRulesWithSubjects(&spec.Rules[i], fldPath.Child("rules").Index(i))...)
	}
	return allErrs
}

func validatePolicyRulesWithSubjects(rule *flowcontrolv1.PolicyRulesWithSubjects, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Subjects) > 0 {
		for i := range rule.Subjects {
			allErrs = append(allErrs, validateFlowSchemaSubject(&rule.Subjects[i], fldPath.Child("subjects").Index(i))...)
		}
	} else {
		allErrs = append(allErrs, field.Required(fldPath.Child("subjects"), "subjects must contain at least one value"))
	}
	if len(rule.ResourceRules) == 0 && len(rule.NonResourceRules) == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "at least one of resourceRules and nonResourceRules has to be non-empty"))
	}
	for i := range rule.ResourceRules {
		allErrs = append(allErrs, validateResourcePolicyRule(&rule.ResourceRules[i], fldPath.Child("resourceRules").Index(i))...)
	}
	for i := range rule.NonResourceRules {
		allErrs = append(allErrs, validateNonResourcePolicyRule(&rule.NonResourceRules[i], fldPath.Child("nonResourceRules").Index(i))...)
	}
	return allErrs
}

func validateFlowSchemaSubject(s *flowcontrolv1.Subject, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	notUser := field.Forbidden(fldPath.Child("user"), "user is forbidden when subject kind is not 'User'")
	notGroup := field.Forbidden(fldPath.Child("group"), "group is forbidden when subject kind is not 'Group'")
	notSA := field.Forbidden(fldPath.Child("serviceAccount"), "serviceAccount is forbidden when subject kind is not 'ServiceAccount'")
	switch s.Kind {
	case flowcontrolv1.SubjectKindServiceAccount:
		allErrs = append(allErrs, validateServiceAccountSubject(s.ServiceAccount, fldPath.Child("serviceAccount"))...)
		if s.User != nil {
			allErrs = append(allErrs, notUser)
		}
		if s.Group != nil {
			allErrs = append(allErrs, notGroup)
		}
	case flowcontrolv1.SubjectKindUser:
		if s.User == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("user"), "user is required when subject kind is 'User'"))
		} else if s.User.Name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("user", "name"), ""))
		}
		if s.ServiceAccount != nil {
			allErrs = append(allErrs, notSA)
		}
		if s.Group != nil {
			allErrs = append(allErrs, notGroup)
		}
	case flowcontrolv1.SubjectKindGroup:
		if s.Group == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("group"), "group is required when subject kind is 'Group'"))
		} else if s.Group.Name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("group", "name"), ""))
		}
		if s.ServiceAccount != nil {
			allErrs = append(allErrs, notSA)
		}
		if s.User != nil {
			allErrs = append(allErrs, notUser)
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("kind"), s.Kind, flowcontrolSubjectKinds))
	}
	return allErrs
}

func validateServiceAccountSubject(sa *flowcontrolv1.ServiceAccountSubject, fldPath *field.Path) field.ErrorList {
	if sa == nil {
		return field.ErrorList{field.Required(fldPath, "serviceAccount is required when subject kind is 'ServiceAccount'")}
	}
	var allErrs field.ErrorList
	if sa.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else if sa.Name != flowcontrolv1.NameAll {
		for _, msg := range genericvalidation.ValidateServiceAccountName(sa.Name, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), sa.Name, msg))
		}
	}
	if sa.Namespace != "" {
		for _, msg := range genericvalidation.ValidateNamespaceName(sa.Namespace, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("namespace"), sa.Namespace, msg))
		}
	} else {
		allErrs = append(allErrs, field.Required(fldPath.Child("namespace"), "must specify namespace for service account"))
	}
	return allErrs
}

// validateFlowcontrolVerbs checks a rule's verbs: "*" alone, or known verbs.
func validateFlowcontrolVerbs(verbs []string, fldPath *field.Path) field.ErrorList {
	switch {
	case len(verbs) == 0:
		return field.ErrorList{field.Required(fldPath, "verbs must contain at least one value")}
	case slices.Contains(verbs, "*"):
		if len(verbs) > 1 {
			return field.ErrorList{field.Invalid(fldPath, verbs, "if '*' is present, must not specify other verbs")}
		}
	default:
		for _, v := range verbs {
			if !slices.Contains(flowcontrolVerbs, v) {
				return field.ErrorList{field.NotSupported(fldPath, verbs, flowcontrolVerbs)}
			}
		}
	}
	return nil
}

func validateNonResourcePolicyRule(rule *flowcontrolv1.NonResourcePolicyRule, fldPath *field.Path) field.ErrorList {
	allErrs := validateFlowcontrolVerbs(rule.Verbs, fldPath.Child("verbs"))
	urls := fldPath.Child("nonResourceURLs")
	switch {
	case len(rule.NonResourceURLs) == 0:
		allErrs = append(allErrs, field.Required(urls, "nonResourceURLs must contain at least one value"))
	case slices.Contains(rule.NonResourceURLs, "*"):
		if len(rule.NonResourceURLs) > 1 {
			allErrs = append(allErrs, field.Invalid(urls, rule.NonResourceURLs, "if '*' is present, must not specify other non-resource URLs"))
		}
	default:
		for i, u := range rule.NonResourceURLs {
			if err := validateNonResourceURLPath(u, urls.Index(i)); err != nil {
				allErrs = append(allErrs, err)
			}
		}
	}
	return allErrs
}

// validateNonResourceURLPath requires a leading slash, no spaces or double slashes, and "*" only as a final "/*".
func validateNonResourceURLPath(path string, fldPath *field.Path) *field.Error {
	switch {
	case path == "":
		return field.Invalid(fldPath, path, "must not be empty")
	case path == "/":
		return nil
	case !strings.HasPrefix(path, "/"):
		return field.Invalid(fldPath, path, "must start with slash")
	case strings.Contains(path, " "):
		return field.Invalid(fldPath, path, "must not contain white-space")
	case strings.Contains(path, "//"):
		return field.Invalid(fldPath, path, "must not contain double slash")
	}
	if n := strings.Count(path, "*"); n > 1 || (n == 1 && !strings.HasSuffix(path, "/*")) {
		return field.Invalid(fldPath, path, "wildcard can only do suffix matching")
	}
	return nil
}

func validateResourcePolicyRule(rule *flowcontrolv1.ResourcePolicyRule, fldPath *field.Path) field.ErrorList {
	allErrs := validateFlowcontrolVerbs(rule.Verbs, fldPath.Child("verbs"))
	if len(rule.APIGroups) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiGroups"), "resource rules must supply at least one api group"))
	} else if len(rule.APIGroups) > 1 && slices.Contains(rule.APIGroups, "*") {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("apiGroups"), rule.APIGroups, "if '*' is present, must not specify other api groups"))
	}
	if len(rule.Resources) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resources"), "resource rules must supply at least one resource"))
	} else if len(rule.Resources) > 1 && slices.Contains(rule.Resources, "*") {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("resources"), rule.Resources, "if '*' is present, must not specify other resources"))
	}
	nsPath := fldPath.Child("namespaces")
	switch {
	case len(rule.Namespaces) == 0 && !rule.ClusterScope:
		allErrs = append(allErrs, field.Required(nsPath, "resource rules that are not cluster scoped must supply at least one namespace"))
	case slices.Contains(rule.Namespaces, "*"):
		if len(rule.Namespaces) > 1 {
			allErrs = append(allErrs, field.Invalid(nsPath, rule.Namespaces, "if '*' is present, must not specify other namespaces"))
		}
	default:
		for i, ns := range rule.Namespaces {
			for _, msg := range genericvalidation.ValidateNamespaceName(ns, false) {
				allErrs = append(allErrs, field.Invalid(nsPath.Index(i), ns, "each member of this list must be '*' or a DNS-1123 label; "+msg))
			}
		}
	}
	return allErrs
}

func validateFlowSchemaStatus(status *flowcontrolv1.FlowSchemaStatus, fldPath *field.Path) field.ErrorList {
	types := make([]string, len(status.Conditions))
	for i, c := range status.Conditions {
		types[i] = string(c.Type)
	}
	return validateConditionTypes(types, fldPath.Child("conditions"))
}

// validateConditionTypes requires each condition to have a type and no two to share one.
func validateConditionTypes(types []string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := map[string]bool{}
	for i, t := range types {
		if seen[t] {
			allErrs = append(allErrs, field.Duplicate(fldPath.Index(i).Child("type"), t))
		}
		seen[t] = true
		if t == "" {
			allErrs = append(allErrs, field.Required(fldPath.Index(i).Child("type"), ""))
		}
	}
	return allErrs
}

func validatePriorityLevelConfiguration(pl *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	metaPath := field.NewPath("metadata")
	allErrs := validateObjectMeta(&pl.ObjectMeta, false, nameIsDNSSubdomain, metaPath)
	if _, ok := pl.Annotations[preserveZeroConcurrencySharesAnnotation]; ok {
		allErrs = append(allErrs, field.Forbidden(metaPath.Child("annotations"), fmt.Sprintf("annotation '%s' is forbidden", preserveZeroConcurrencySharesAnnotation)))
	}
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validatePriorityLevelSpec(&pl.Spec, pl.Name, specPath)...)
	allErrs = append(allErrs, validateMandatoryPriorityLevel(pl, specPath)...)
	allErrs = append(allErrs, validatePriorityLevelStatus(&pl.Status, field.NewPath("status"))...)
	return append(allErrs, declarativePriorityLevelSpec(&pl.Spec, specPath)...)
}

// validatePriorityLevelConfigurationUpdate is the create check again: upstream has no immutable fields here.
func validatePriorityLevelConfigurationUpdate(pl, _ *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	return validatePriorityLevelConfiguration(pl)
}

func validatePriorityLevelConfigurationStatusUpdate(pl, _ *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	return validatePriorityLevelStatus(&pl.Status, field.NewPath("status"))
}

// validateMandatoryPriorityLevel fixes the spec of the mandatory levels; only the exempt level's spec.exempt may differ.
func validateMandatoryPriorityLevel(pl *flowcontrolv1.PriorityLevelConfiguration, fldPath *field.Path) field.ErrorList {
	mand := flowcontrol.MandatoryPriorityLevel(pl.Name)
	if mand == nil {
		return nil
	}
	if pl.Name == flowcontrolv1.PriorityLevelConfigurationNameExempt {
		have := pl.Spec.DeepCopy()
		have.Exempt = mand.Spec.Exempt
		if !apiequality.Semantic.DeepEqual(&mand.Spec, have) {
			return field.ErrorList{field.Invalid(fldPath, pl.Spec, fmt.Sprintf("spec of '%s' except the 'spec.exempt' field must equal the fixed value", pl.Name))}
		}
		return nil
	}
	if !apiequality.Semantic.DeepEqual(pl.Spec, mand.Spec) {
		return field.ErrorList{field.Invalid(fldPath, pl.Spec, fmt.Sprintf("spec of '%s' must equal the fixed value", pl.Name))}
	}
	return nil
}

// validatePriorityLevelSpec is upstream's handwritten check without the union rules that declarativePriorityLevelSpec reports.
func validatePriorityLevelSpec(spec *flowcontrolv1.PriorityLevelConfigurationSpec, name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if (name == flowcontrolv1.PriorityLevelConfigurationNameExempt) != (spec.Type == flowcontrolv1.PriorityLevelEnablementExempt) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("type"), spec.Type, "must be 'Exempt' if and only if `name` is 'exempt'"))
	}
	switch spec.Type {
	case flowcontrolv1.PriorityLevelEnablementExempt:
		if e := spec.Exempt; e != nil {
			exPath := fldPath.Child("exempt")
			if e.NominalConcurrencyShares != nil && *e.NominalConcurrencyShares < 0 {
				allErrs = append(allErrs, field.Invalid(exPath.Child("nominalConcurrencyShares"), *e.NominalConcurrencyShares, "must be a non-negative integer"))
			}
			allErrs = append(allErrs, validateLendablePercent(e.LendablePercent, exPath.Child("lendablePercent"))...)
		}
	case flowcontrolv1.PriorityLevelEnablementLimited:
		if spec.Limited != nil {
			allErrs = append(allErrs, validateLimitedPriorityLevel(spec.Limited, fldPath.Child("limited"))...)
		}
	case "":
		// Required: reported by declarativePriorityLevelSpec.
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), spec.Type, flowcontrolEnablements))
	}
	return allErrs
}

func validateLimitedPriorityLevel(l *flowcontrolv1.LimitedPriorityLevelConfiguration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	// Defaulting sets nominalConcurrencyShares; nil converts to 0 upstream.
	if l.NominalConcurrencyShares != nil && *l.NominalConcurrencyShares < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("nominalConcurrencyShares"), *l.NominalConcurrencyShares, "must be a non-negative integer"))
	}
	lrPath := fldPath.Child("limitResponse")
	switch l.LimitResponse.Type {
	case flowcontrolv1.LimitResponseTypeQueue:
		if q := l.LimitResponse.Queuing; q != nil {
			allErrs = append(allErrs, validateQueuingConfiguration(q, lrPath.Child("queuing"))...)
		}
	case flowcontrolv1.LimitResponseTypeReject, "":
		// The queuing and type rules are declarative.
	default:
		allErrs = append(allErrs, field.NotSupported(lrPath.Child("type"), l.LimitResponse.Type, flowcontrolLimitResponseTypes))
	}
	allErrs = append(allErrs, validateLendablePercent(l.LendablePercent, fldPath.Child("lendablePercent"))...)
	if b := l.BorrowingLimitPercent; b != nil && *b < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("borrowingLimitPercent"), *b, "if specified, must be a non-negative integer"))
	}
	return allErrs
}

func validateLendablePercent(p *int32, fldPath *field.Path) field.ErrorList {
	if p != nil && (*p < 0 || *p > 100) {
		return field.ErrorList{field.Invalid(fldPath, *p, "must be between 0 and 100, inclusive")}
	}
	return nil
}

func validateQueuingConfiguration(q *flowcontrolv1.QueuingConfiguration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if q.QueueLengthLimit <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("queueLengthLimit"), q.QueueLengthLimit, "must be positive"))
	}
	if q.Queues <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("queues"), q.Queues, "must be positive"))
	} else if q.Queues > priorityLevelMaxQueues {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("queues"), q.Queues, fmt.Sprintf("must not be greater than %d", priorityLevelMaxQueues)))
	}
	hand := fldPath.Child("handSize")
	switch {
	case q.HandSize <= 0:
		allErrs = append(allErrs, field.Invalid(hand, q.HandSize, "must be positive"))
	case q.HandSize > q.Queues:
		allErrs = append(allErrs, field.Invalid(hand, q.HandSize, fmt.Sprintf("should not be greater than queues (%d)", q.Queues)))
	case requiredEntropyBits(q.Queues, q.HandSize) > shuffleShardingMaxHashBits:
		allErrs = append(allErrs, field.Invalid(hand, q.HandSize,
			fmt.Sprintf("required entropy bits of deckSize %d and handSize %d should not be greater than %d", q.Queues, q.HandSize, shuffleShardingMaxHashBits)))
	}
	return allErrs
}

// requiredEntropyBits is shufflesharding.RequiredEntropyBits: the hash bits dealing a hand of handSize from deckSize cards consumes.
func requiredEntropyBits(deckSize, handSize int32) int {
	return int(math.Ceil(math.Log2(float64(deckSize)) * float64(handSize)))
}

// declarativePriorityLevelSpec reports the union rules of 1.37's declarative validation (spec.type with exempt/limited, limitResponse.type with queuing).
func declarativePriorityLevelSpec(spec *flowcontrolv1.PriorityLevelConfigurationSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Type != flowcontrolv1.PriorityLevelEnablementExempt && spec.Exempt != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("exempt"), ""))
	}
	if spec.Type == flowcontrolv1.PriorityLevelEnablementLimited {
		if spec.Limited == nil {
			errs = append(errs, field.Required(fldPath.Child("limited"), ""))
		}
	} else if spec.Limited != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("limited"), ""))
	}
	if spec.Type == "" {
		errs = append(errs, field.Required(fldPath.Child("type"), ""))
	}
	if spec.Limited != nil {
		lr := &spec.Limited.LimitResponse
		lrPath := fldPath.Child("limited", "limitResponse")
		if lr.Type == flowcontrolv1.LimitResponseTypeQueue {
			if lr.Queuing == nil {
				errs = append(errs, field.Required(lrPath.Child("queuing"), ""))
			}
		} else if lr.Queuing != nil {
			errs = append(errs, field.Forbidden(lrPath.Child("queuing"), ""))
		}
		if lr.Type == "" {
			errs = append(errs, field.Required(lrPath.Child("type"), ""))
		}
	}
	return errs
}

func validatePriorityLevelStatus(status *flowcontrolv1.PriorityLevelConfigurationStatus, fldPath *field.Path) field.ErrorList {
	types := make([]string, len(status.Conditions))
	for i, c := range status.Conditions {
		types[i] = string(c.Type)
	}
	return validateConditionTypes(types, fldPath.Child("conditions"))
}
