package apiextensions

import (
	"fmt"
	"github.com/skiff-sh/skiff/internal/admission/webhook"
	"net/url"
	"slices"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateConversion checks spec.conversion under the internal form's paths (conversion.webhookClientConfig, conversion.conversionReviewVersions).
func validateConversion(c *apiextv1.CustomResourceConversion, opts options, fldPath *field.Path) field.ErrorList {
	if c == nil {
		return nil
	}
	var cc *apiextv1.WebhookClientConfig
	var reviewVersions []string
	if c.Webhook != nil {
		cc, reviewVersions = c.Webhook.ClientConfig, c.Webhook.ConversionReviewVersions
	}
	errs := validateEnum(fldPath.Child("strategy"), string(c.Strategy), []string{string(apiextv1.NoneConverter), string(apiextv1.WebhookConverter)})
	ccPath := fldPath.Child("webhookClientConfig")
	if c.Strategy != apiextv1.WebhookConverter {
		if cc != nil {
			errs = append(errs, field.Forbidden(ccPath, "should not be set when strategy is not set to Webhook"))
		}
		if len(reviewVersions) > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child("conversionReviewVersions"), "should not be set when strategy is not set to Webhook"))
		}
		return errs
	}
	switch {
	case cc == nil:
		errs = append(errs, field.Required(ccPath, "required when strategy is set to Webhook"))
	case (cc.URL == nil) == (cc.Service == nil):
		errs = append(errs, field.Required(ccPath, "exactly one of url or service is required"))
	case cc.URL != nil:
		errs = append(errs, webhook.ValidateURL(ccPath.Child("url"), *cc.URL)...)
	default:
		var port int32
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		errs = append(errs, webhook.ValidateService(ccPath.Child("service"), cc.Service.Namespace, cc.Service.Name, cc.Service.Path, port)...)
	}
	if cc != nil && len(cc.CABundle) > 0 && !opts.allowInvalidCABundle {
		if err := caBundleError(cc.CABundle); err != nil {
			errs = append(errs, field.Invalid(ccPath.Child("caBundle"), cc.CABundle, err.Error()))
		}
	}
	return append(errs, validateReviewVersions(reviewVersions, opts.requireRecognizedReviewVersion, fldPath.Child("conversionReviewVersions"))...)
}

func validateReviewVersions(versions []string, requireRecognized bool, fldPath *field.Path) field.ErrorList {
	if len(versions) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	seen, recognized := map[string]bool{}, false
	for i, v := range versions {
		if seen[v] {
			errs = append(errs, field.Invalid(fldPath.Index(i), v, "duplicate version"))
			continue
		}
		seen[v] = true
		for _, msg := range utilvalidation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(fldPath.Index(i), v, msg))
		}
		recognized = recognized || slices.Contains(acceptedReviewVersions, v)
	}
	if requireRecognized && !recognized {
		errs = append(errs, field.Invalid(fldPath, versions, "must include at least one of "+strings.Join(acceptedReviewVersions, ", ")))
	}
	return errs
}

// hasRecognizedReviewVersionOrEmpty reports whether old's conversion names no review versions or a recognized one.
func hasRecognizedReviewVersionOrEmpty(old *apiextv1.CustomResourceDefinition) bool {
	c := old.Spec.Conversion
	if c == nil || c.Webhook == nil || len(c.Webhook.ConversionReviewVersions) == 0 {
		return true
	}
	for _, v := range c.Webhook.ConversionReviewVersions {
		if slices.Contains(acceptedReviewVersions, v) {
			return true
		}
	}
	return false
}

// allowInvalidCABundle reports whether an update may carry an unusable caBundle: old is not established or its own caBundle is unusable.
func allowInvalidCABundle(old *apiextv1.CustomResourceDefinition) bool {
	if !IsConditionTrue(old, apiextv1.Established) {
		return true
	}
	c := old.Spec.Conversion
	if c == nil || c.Webhook == nil || c.Webhook.ClientConfig == nil || len(c.Webhook.ClientConfig.CABundle) == 0 {
		return false
	}
	return caBundleError(c.Webhook.ClientConfig.CABundle) != nil
}

// approvalState is the state of a protected group's api-approved.kubernetes.io annotation.
type approvalState int

const (
	approvalInvalid approvalState = iota
	approved
	approvalBypassed
	approvalMissing
)

// isProtectedGroup reports whether a group belongs to the Kubernetes community and needs API approval.
func isProtectedGroup(group string) bool {
	return group == "k8s.io" || strings.HasSuffix(group, ".k8s.io") || group == "kubernetes.io" || strings.HasSuffix(group, ".kubernetes.io")
}

func apiApprovalState(annotations map[string]string) (approvalState, string) {
	a := annotations[apiextv1.KubeAPIApprovedAnnotation]
	u, err := url.ParseRequestURI(a)
	switch {
	case a == "":
		return approvalMissing, fmt.Sprintf("protected groups must have approval annotation %q, see https://github.com/kubernetes/enhancements/pull/1111", apiextv1.KubeAPIApprovedAnnotation)
	case strings.HasPrefix(a, "unapproved"):
		return approvalBypassed, fmt.Sprintf("not approved: %q", a)
	case err == nil && u != nil && u.Host != "" && u.Scheme != "":
		return approved, fmt.Sprintf("approved in %v", a)
	default:
		return approvalInvalid, fmt.Sprintf("protected groups must have approval annotation %q with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111", apiextv1.KubeAPIApprovedAnnotation)
	}
}

// validateAPIApproval requires the approval annotation on CRDs of protected groups, unless an update leaves its state unchanged.
func validateAPIApproval(crd, old *apiextv1.CustomResourceDefinition) field.ErrorList {
	if !isProtectedGroup(crd.Spec.Group) {
		return nil
	}
	state, reason := apiApprovalState(crd.Annotations)
	if old != nil {
		if oldState, _ := apiApprovalState(old.Annotations); oldState == state {
			return nil
		}
	}
	p := field.NewPath("metadata", "annotations").Key(apiextv1.KubeAPIApprovedAnnotation)
	switch state {
	case approved, approvalBypassed:
		return nil
	case approvalMissing:
		return field.ErrorList{field.Required(p, reason)}
	default:
		return field.ErrorList{field.Invalid(p, crd.Annotations[apiextv1.KubeAPIApprovedAnnotation], reason)}
	}
}

// validateSelectableFields checks that each jsonPath names a string, boolean or integer field of the schema outside metadata, once, and that there are at most MaxSelectableFields.
func validateSelectableFields(fields []apiextv1.SelectableField, s *apiextv1.JSONSchemaProps, fldPath *field.Path, allowTooMany bool) field.ErrorList {
	var errs field.ErrorList
	unique := map[string]bool{}
	for i, f := range fields {
		p := fldPath.Index(i).Child("jsonPath")
		if f.JSONPath == "" {
			errs = append(errs, field.Required(p, ""))
			continue
		}
		segs, found, err := resolveFieldPath(f.JSONPath, s)
		if err != nil {
			errs = append(errs, field.Invalid(p, f.JSONPath, fmt.Sprintf("is an invalid path: %v", err)))
			continue
		}
		if len(segs) > 0 && segs[0] == "metadata" {
			errs = append(errs, field.Invalid(p, f.JSONPath, "must not point to fields in metadata"))
		}
		if found == nil || (found.Type != "string" && found.Type != "boolean" && found.Type != "integer") {
			errs = append(errs, field.Invalid(p, f.JSONPath, "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."))
		}
		key := strings.Join(segs, "\x00")
		if unique[key] {
			errs = append(errs, field.Duplicate(p, f.JSONPath))
		}
		unique[key] = true
	}
	if len(unique) > MaxSelectableFields && !allowTooMany {
		errs = append(errs, field.TooMany(fldPath, len(unique), MaxSelectableFields))
	}
	return errs
}

// resolveFieldPath follows a dotted JSON path (".spec.a.b") through properties and additionalProperties, as upstream's ValidFieldPath without array notation.
func resolveFieldPath(path string, s *apiextv1.JSONSchemaProps) ([]string, *apiextv1.JSONSchemaProps, error) {
	if strings.ContainsAny(path, "[]") {
		return nil, nil, fmt.Errorf("array notation is not allowed")
	}
	if !strings.HasPrefix(path, ".") {
		tok, _, _ := strings.Cut(path, ".")
		return nil, nil, fmt.Errorf("expected [ or . but got: %s", tok)
	}
	var segs []string
	for _, tok := range strings.Split(path[1:], ".") {
		if tok == "" {
			return nil, nil, fmt.Errorf("unexpected end of JSON path")
		}
		switch {
		case s != nil && s.Properties != nil:
			p, ok := s.Properties[tok]
			if !ok {
				return nil, nil, fmt.Errorf("does not refer to a valid field")
			}
			s = &p
		case s != nil && s.AdditionalProperties != nil:
			s = s.AdditionalProperties.Schema
		default:
			return nil, nil, fmt.Errorf("does not refer to a valid field")
		}
		segs = append(segs, tok)
	}
	return segs, s, nil
}

// unchangedTooManySelectableFields lists the versions ("" for all of them) whose selectable fields already exceeded the maximum in old and did not change.
func unchangedTooManySelectableFields(crd, old *apiextv1.CustomResourceDefinition) map[string]bool {
	out := map[string]bool{}
	oldLifted, newLifted := liftedFields(old.Spec.Versions), liftedFields(crd.Spec.Versions)
	if oldLifted.selectable && newLifted.selectable && len(old.Spec.Versions) > 0 && len(crd.Spec.Versions) > 0 &&
		len(old.Spec.Versions[0].SelectableFields) > MaxSelectableFields &&
		equality.Semantic.DeepEqual(old.Spec.Versions[0].SelectableFields, crd.Spec.Versions[0].SelectableFields) {
		out[""] = true
	}
	for _, v := range crd.Spec.Versions {
		ov := FindVersion(old, v.Name)
		if ov != nil && len(ov.SelectableFields) > MaxSelectableFields && equality.Semantic.DeepEqual(v.SelectableFields, ov.SelectableFields) {
			out[v.Name] = true
		}
	}
	return out
}
