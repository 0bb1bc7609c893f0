package validation

import (
	rbacv1 "k8s.io/api/rbac/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validate/content"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Roles and bindings (rbac.authorization.k8s.io/v1), as
// k8s.io/kubernetes/pkg/apis/rbac/validation and the rbac registry
// strategies of Kubernetes 1.32 check them. Authorization itself is not
// enforced here: these only decide what the API server stores.

// rbacName is ValidateRBACName: names of roles and bindings (and roleRef
// names) only need to be path-segment safe, generateName included.
func rbacName(name string, _ bool) []string {
	return apimachineryvalidation.IsPathSegmentName(name)
}

func validateRole(r *rbacv1.Role) field.ErrorList {
	allErrs := validateObjectMeta(&r.ObjectMeta, true, rbacName, field.NewPath("metadata"))
	for i := range r.Rules {
		allErrs = append(allErrs, validatePolicyRule(&r.Rules[i], true, field.NewPath("rules").Index(i))...)
	}
	return allErrs
}

func validateRoleUpdate(r, old *rbacv1.Role) field.ErrorList {
	allErrs := validateRole(r)
	return append(allErrs, validateObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
}

func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	return validateClusterRoleWith(r, false)
}

// validateClusterRoleWith is ValidateClusterRole; allowInvalidLabelValue
// relaxes the aggregation selectors' values, as upstream does on update when
// the stored object already has such a value.
func validateClusterRoleWith(r *rbacv1.ClusterRole, allowInvalidLabelValue bool) field.ErrorList {
	allErrs := validateObjectMeta(&r.ObjectMeta, false, rbacName, field.NewPath("metadata"))
	for i := range r.Rules {
		allErrs = append(allErrs, validatePolicyRule(&r.Rules[i], false, field.NewPath("rules").Index(i))...)
	}
	if r.AggregationRule == nil {
		return allErrs
	}
	selectorsPath := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		allErrs = append(allErrs, field.Required(selectorsPath, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(sel, opts, selectorsPath.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			allErrs = append(allErrs, field.Invalid(selectorsPath.Index(i), sel, "invalid label selector."))
		}
	}
	return allErrs
}

func validateClusterRoleUpdate(r, old *rbacv1.ClusterRole) field.ErrorList {
	allErrs := validateClusterRoleWith(r, hasInvalidAggregationSelector(old))
	return append(allErrs, validateObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
}

// hasInvalidAggregationSelector reports whether a stored ClusterRole has a
// selector with a label value that strict validation rejects.
func hasInvalidAggregationSelector(r *rbacv1.ClusterRole) bool {
	if r.AggregationRule == nil {
		return false
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		if len(metav1validation.ValidateLabelSelector(&r.AggregationRule.ClusterRoleSelectors[i], strictSelectorOpts, nil)) > 0 {
			return true
		}
	}
	return false
}

// validatePolicyRule is ValidatePolicyRule: verbs always, then either
// non-resource URLs (cluster roles only) or apiGroups and resources.
func validatePolicyRule(rule *rbacv1.PolicyRule, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Verbs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		if namespaced {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nonResourceURLs"), rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return allErrs
	}
	if len(rule.APIGroups) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resources"), "resource rules must supply at least one resource"))
	}
	return allErrs
}

func validateRoleBinding(b *rbacv1.RoleBinding) field.ErrorList {
	allErrs := validateObjectMeta(&b.ObjectMeta, true, rbacName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateRoleRef(&b.RoleRef, []string{"Role", "ClusterRole"})...)
	for i := range b.Subjects {
		allErrs = append(allErrs, validateSubject(&b.Subjects[i], true, field.NewPath("subjects").Index(i))...)
	}
	return allErrs
}

func validateRoleBindingUpdate(b, old *rbacv1.RoleBinding) field.ErrorList {
	allErrs := validateRoleBinding(b)
	allErrs = append(allErrs, validateObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	return append(allErrs, validateRoleRefUpdate(b.RoleRef, old.RoleRef)...)
}

func validateClusterRoleBinding(b *rbacv1.ClusterRoleBinding) field.ErrorList {
	allErrs := validateObjectMeta(&b.ObjectMeta, false, rbacName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateRoleRef(&b.RoleRef, []string{"ClusterRole"})...)
	for i := range b.Subjects {
		allErrs = append(allErrs, validateSubject(&b.Subjects[i], false, field.NewPath("subjects").Index(i))...)
	}
	return allErrs
}

func validateClusterRoleBindingUpdate(b, old *rbacv1.ClusterRoleBinding) field.ErrorList {
	allErrs := validateClusterRoleBinding(b)
	allErrs = append(allErrs, validateObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	return append(allErrs, validateRoleRefUpdate(b.RoleRef, old.RoleRef)...)
}

// validateRoleRef checks a binding's roleRef against the kinds it may name.
func validateRoleRef(ref *rbacv1.RoleRef, kinds []string) field.ErrorList {
	var allErrs field.ErrorList
	refPath := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		allErrs = append(allErrs, field.NotSupported(refPath.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	known := false
	for _, k := range kinds {
		known = known || ref.Kind == k
	}
	if !known {
		allErrs = append(allErrs, field.NotSupported(refPath.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		allErrs = append(allErrs, field.Required(refPath.Child("name"), ""))
	} else {
		for _, msg := range rbacName(ref.Name, false) {
			allErrs = append(allErrs, field.Invalid(refPath.Child("name"), ref.Name, msg))
		}
	}
	return allErrs
}

// validateRoleRefUpdate refuses any change of roleRef: a binding must be deleted and recreated to point elsewhere.
func validateRoleRefUpdate(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef")}
	}
	return nil
}

// validateSubject is ValidateRoleBindingSubject; a ClusterRoleBinding's
// service accounts must name their namespace.
func validateSubject(s *rbacv1.Subject, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if s.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range genericvalidation.NameIsDNSSubdomain(s.Name, false) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return allErrs
}
