package schema

import (
	"fmt"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateRuleStatically checks an x-kubernetes-validations rule without compiling its CEL, as upstream's static
// checks (rule present, message and fieldPath well-formed, reason supported).
func validateRuleStatically(rule *apiextv1.ValidationRule, rPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	trimmedRule := strings.TrimSpace(rule.Rule)
	trimmedMsg := strings.TrimSpace(rule.Message)
	switch {
	case trimmedRule == "":
		errs = append(errs, field.Required(rPath.Child("rule"), "rule is not specified"))
	case rule.Message != "" && trimmedMsg == "":
		errs = append(errs, field.Invalid(rPath.Child("message"), rule.Message, "must be non-empty if specified"))
	case hasNewlines(trimmedMsg):
		errs = append(errs, field.Invalid(rPath.Child("message"), rule.Message, "must not contain line breaks"))
	case hasNewlines(trimmedRule) && trimmedMsg == "":
		errs = append(errs, field.Required(rPath.Child("message"), "message must be specified if rule contains line breaks"))
	}
	if rule.MessageExpression != "" && strings.TrimSpace(rule.MessageExpression) == "" {
		errs = append(errs, field.Required(rPath.Child("messageExpression"), "messageExpression must be non-empty if specified"))
	}
	if rule.Reason != nil && !sets.New(supportedValidationReasons...).Has(string(*rule.Reason)) {
		errs = append(errs, field.NotSupported(rPath.Child("reason"), *rule.Reason, supportedValidationReasons))
	}
	if rule.FieldPath != "" && strings.TrimSpace(rule.FieldPath) == "" {
		errs = append(errs, field.Invalid(rPath.Child("fieldPath"), rule.FieldPath, "must be non-empty if specified"))
	}
	if hasNewlines(rule.FieldPath) {
		errs = append(errs, field.Invalid(rPath.Child("fieldPath"), rule.FieldPath, "must not contain line breaks"))
	}
	return errs
}

// hasNewlines reports whether s contains a line break.
func hasNewlines(s string) bool {
	return strings.ContainsAny(s, "\n\r")
}

// SchemaWarnings returns the warnings kube-apiserver gives when a CRD with this schema is written: unrecognized
// formats (which are then ignored) and list-type sets of non-scalar items.
func SchemaWarnings(s *apiextv1.JSONSchemaProps) []string {
	var warnings []string
	nonScalarSets := sets.New[string]()
	visit(s, func(s *apiextv1.JSONSchemaProps) {
		if s.Format != "" && !SupportedFormat(s.Type, s.Format) {
			warnings = append(warnings, fmt.Sprintf("unrecognized format %q", s.Format))
		}
		if items := itemsSchema(s); s.XListType != nil && *s.XListType == "set" && items != nil && (items.Type == "object" || items.Type == "array") {
			nonScalarSets.Insert(fmt.Sprintf("x-kubernetes-list-type: set for items of type %q is not supported by server-side apply or CEL validation rules", items.Type))
		}
	})
	return append(warnings, sets.List(nonScalarSets)...)
}

// visit calls f on s and every schema inside it, in a deterministic order.
func visit(s *apiextv1.JSONSchemaProps, f func(*apiextv1.JSONSchemaProps)) {
	if s == nil {
		return
	}
	f(s)
	if s.Items != nil {
		visit(s.Items.Schema, f)
		for i := range s.Items.JSONSchemas {
			visit(&s.Items.JSONSchemas[i], f)
		}
	}
	for _, list := range [][]apiextv1.JSONSchemaProps{s.AllOf, s.OneOf, s.AnyOf} {
		for i := range list {
			visit(&list[i], f)
		}
	}
	visit(s.Not, f)
	for _, m := range []map[string]apiextv1.JSONSchemaProps{s.Properties, s.PatternProperties, s.Definitions} {
		for _, k := range sortedKeys(m) {
			v := m[k]
			visit(&v, f)
		}
	}
	if s.AdditionalProperties != nil {
		visit(s.AdditionalProperties.Schema, f)
	}
	if s.AdditionalItems != nil {
		visit(s.AdditionalItems.Schema, f)
	}
	for _, k := range sortedKeys(s.Dependencies) {
		visit(s.Dependencies[k].Schema, f)
	}
}
