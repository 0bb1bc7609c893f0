package schema

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// level is where a structural schema node sits, which decides the wording of a missing type.
type level int

const (
	rootLevel level = iota
	itemLevel
	fieldLevel
)

// openAPIV3Types are the types a CRD schema may name.
var openAPIV3Types = sets.NewString("string", "number", "integer", "boolean", "array", "object")

// validateCRDSchema runs upstream's checks of a v1 CRD's openAPIV3Schema in upstream's order: root nullable,
// structural invariants and completeness (sorted), or when those pass the defaults, then the OpenAPI keyword rules.
// CEL rules (x-kubernetes-validations) are checked only statically.
func validateCRDSchema(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	if s.Nullable {
		errs = append(errs, field.Forbidden(fldPath.Child("nullable"), "nullable cannot be true at the root"))
	}
	structural := validateStructuralInvariants(s, rootLevel, fldPath)
	structural = append(structural, validateCompleteness(s, fldPath)...)
	sort.Slice(structural, func(i, j int) bool { return structural[i].Error() < structural[j].Error() })
	if len(structural) > 0 {
		errs = append(errs, structural...)
	} else {
		errs = append(errs, validateDefaults(fldPath, rootSchema(s), rootSchema(s), false)...)
	}
	v := &keywordValidator{allowDefaults: true}
	errs = append(errs, v.validateSchema(s, fldPath, true)...)
	return errs
}

// rootSchema returns s treated as a resource root, i.e. as an embedded resource.
func rootSchema(s *apiextv1.JSONSchemaProps) *apiextv1.JSONSchemaProps {
	if s.XEmbeddedResource {
		return s
	}
	clone := *s
	clone.XEmbeddedResource = true
	return &clone
}

// isIntOrStringAnyOf reports whether schemas is exactly [{type: integer}, {type: string}].
func isIntOrStringAnyOf(schemas []apiextv1.JSONSchemaProps) bool {
	return len(schemas) == 2 &&
		reflect.DeepEqual(schemas[0], apiextv1.JSONSchemaProps{Type: "integer"}) &&
		reflect.DeepEqual(schemas[1], apiextv1.JSONSchemaProps{Type: "string"})
}

// validateStructuralInvariants checks the structural part of s (properties, items, additionalProperties, type and
// extensions) and the value validations hanging off it, as upstream's validateStructuralInvariants.
func validateStructuralInvariants(s *apiextv1.JSONSchemaProps, lvl level, fldPath *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	items := itemsSchema(s)
	if s.Type == "array" && items == nil {
		errs = append(errs, field.Required(fldPath.Child("items"), "must be specified"))
	}
	errs = append(errs, validateStructuralInvariants(items, itemLevel, fldPath.Child("items"))...)
	for _, k := range sortedKeys(s.Properties) {
		prop := s.Properties[k]
		errs = append(errs, validateStructuralInvariants(&prop, fieldLevel, fldPath.Child("properties").Key(k))...)
	}
	if s.AdditionalProperties != nil {
		if lvl == rootLevel {
			errs = append(errs, field.Forbidden(fldPath.Child("additionalProperties"), "must not be used at the root"))
		}
		errs = append(errs, validateStructuralInvariants(s.AdditionalProperties.Schema, fieldLevel, fldPath.Child("additionalProperties"))...)
	}

	preserve := preserves(s)
	if s.XIntOrString && preserve {
		errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"))
	}
	if s.XIntOrString && s.XEmbeddedResource {
		errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"))
	}

	skipAnyOf := isIntOrStringAnyOf(s.AnyOf)
	skipFirstAllOfAnyOf := len(s.AllOf) >= 1 && isIntOrStringAnyOf(s.AllOf[0].AnyOf)
	errs = append(errs, validateJunctors(s, skipAnyOf, skipFirstAllOfAnyOf, fldPath)...)

	checkMetadata := lvl == rootLevel || s.XEmbeddedResource
	switch {
	case s.XEmbeddedResource && s.Type != "object":
		if s.Type == "" {
			errs = append(errs, field.Required(fldPath.Child("type"), "must be object if x-kubernetes-embedded-resource is true"))
		} else {
			errs = append(errs, field.Invalid(fldPath.Child("type"), s.Type, "must be object if x-kubernetes-embedded-resource is true"))
		}
	case s.Type == "" && !s.XIntOrString && !preserve:
		switch lvl {
		case rootLevel:
			errs = append(errs, field.Required(fldPath.Child("type"), "must not be empty at the root"))
		case itemLevel:
			errs = append(errs, field.Required(fldPath.Child("type"), "must not be empty for specified array items"))
		case fieldLevel:
			errs = append(errs, field.Required(fldPath.Child("type"), "must not be empty for specified object fields"))
		}
	}
	if s.XEmbeddedResource && s.AdditionalProperties != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"))
	}
	if lvl == rootLevel && s.Type != "" && s.Type != "object" {
		errs = append(errs, field.Invalid(fldPath.Child("type"), s.Type, "must be object at the root"))
	}
	for _, k := range []string{"kind", "apiVersion"} {
		if prop, found := s.Properties[k]; found && checkMetadata && prop.Type != "string" {
			errs = append(errs, field.Invalid(fldPath.Child("properties").Key(k).Child("type"), prop.Type, "must be string"))
		}
	}
	if metadata, found := s.Properties["metadata"]; found {
		errs = append(errs, validateMetadataInvariants(metadata, checkMetadata, lvl, fldPath.Child("properties").Key("metadata"))...)
	}
	if s.XEmbeddedResource && !preserve && len(s.Properties) == 0 {
		errs = append(errs, field.Required(fldPath.Child("properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"))
	}
	return errs
}

// validateMetadataInvariants restricts a metadata schema: an object, and at the root nothing but name and generateName.
func validateMetadataInvariants(s apiextv1.JSONSchemaProps, checkMetadata bool, lvl level, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if checkMetadata && s.Type != "object" {
		errs = append(errs, field.Invalid(fldPath.Child("type"), s.Type, "must be object"))
	}
	if lvl == rootLevel {
		_, foundName := s.Properties["name"]
		_, foundGenerateName := s.Properties["generateName"]
		if (foundName && foundGenerateName && len(s.Properties) == 2) || ((foundName || foundGenerateName) && len(s.Properties) == 1) {
			s.Properties = nil
		}
		// Fields that are not part of a structural schema (rejected elsewhere) and the type and default (checked
		// elsewhere) do not count.
		s.Type, s.Default, s.Example, s.ExternalDocs = "", nil, nil, nil
		s.ID, s.Schema, s.Ref, s.Definitions, s.Dependencies, s.PatternProperties, s.AdditionalItems = "", "", nil, nil, nil, nil, nil
		if s.Items != nil && s.Items.Schema == nil && len(s.Items.JSONSchemas) == 0 {
			s.Items = nil
		}
		if !reflect.DeepEqual(s, apiextv1.JSONSchemaProps{}) {
			errs = append(errs, field.Forbidden(fldPath, "must not specify anything other than name and generateName, but metadata is implicitly specified"))
		}
	}
	return errs
}

// validateJunctors checks the allOf, anyOf, oneOf and not of s and its pattern.
func validateJunctors(s *apiextv1.JSONSchemaProps, skipAnyOf, skipFirstAllOfAnyOf bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !skipAnyOf {
		for i := range s.AnyOf {
			errs = append(errs, validateNested(&s.AnyOf[i], false, fldPath.Child("anyOf").Index(i))...)
		}
	}
	for i := range s.AllOf {
		errs = append(errs, validateNested(&s.AllOf[i], skipFirstAllOfAnyOf && i == 0, fldPath.Child("allOf").Index(i))...)
	}
	for i := range s.OneOf {
		errs = append(errs, validateNested(&s.OneOf[i], false, fldPath.Child("oneOf").Index(i))...)
	}
	if s.Not != nil {
		errs = append(errs, validateNested(s.Not, false, fldPath.Child("not"))...)
	}
	if s.Pattern != "" {
		if _, err := regexp.Compile(s.Pattern); err != nil {
			errs = append(errs, field.Invalid(fldPath.Child("pattern"), s.Pattern, fmt.Sprintf("must be a valid regular expression, but isn't: %v", err)))
		}
	}
	return errs
}

// validateNested checks a schema inside allOf/anyOf/oneOf/not, which may only hold value validations.
func validateNested(v *apiextv1.JSONSchemaProps, skipAnyOf bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateJunctors(v, skipAnyOf, false, fldPath)...)
	if items := itemsSchema(v); items != nil {
		errs = append(errs, validateNested(items, false, fldPath.Child("items"))...)
	}
	for _, k := range sortedKeys(v.Properties) {
		prop := v.Properties[k]
		errs = append(errs, validateNested(&prop, false, fldPath.Child("properties").Key(k))...)
	}
	if v.Type != "" {
		errs = append(errs, field.Forbidden(fldPath.Child("type"), "must be empty to be structural"))
	}
	if v.AdditionalProperties != nil && (v.AdditionalProperties.Schema != nil || v.AdditionalProperties.Allows) {
		errs = append(errs, field.Forbidden(fldPath.Child("additionalProperties"), "must be undefined to be structural"))
	}
	if d, ok := jsonValue(v.Default); ok && d != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("default"), "must be undefined to be structural"))
	}
	if v.Title != "" {
		errs = append(errs, field.Forbidden(fldPath.Child("title"), "must be empty to be structural"))
	}
	if v.Description != "" {
		errs = append(errs, field.Forbidden(fldPath.Child("description"), "must be empty to be structural"))
	}
	if v.Nullable {
		errs = append(errs, field.Forbidden(fldPath.Child("nullable"), "must be false to be structural"))
	}
	if preserves(v) {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-preserve-unknown-fields"), "must be false to be structural"))
	}
	if v.XEmbeddedResource {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-embedded-resource"), "must be false to be structural"))
	}
	if v.XIntOrString {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-int-or-string"), "must be false to be structural"))
	}
	if len(v.XListMapKeys) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-list-map-keys"), "must be empty to be structural"))
	}
	if v.XListType != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-list-type"), "must be undefined to be structural"))
	}
	if v.XMapType != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-map-type"), "must be undefined to be structural"))
	}
	if len(v.XValidations) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-validations"), "must be empty to be structural"))
	}
	if _, found := v.Properties["metadata"]; found {
		errs = append(errs, field.Forbidden(fldPath.Child("properties").Key("metadata"), "must not be specified in a nested context"))
	}
	return errs
}

// validateCompleteness checks that every property and items named in the root's value validations is also specified
// structurally (upstream checks the root's junctors only).
func validateCompleteness(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	return junctorCompleteness(s, s, fldPath, fldPath)
}

// junctorCompleteness checks the junctors of v against the structural schema s.
func junctorCompleteness(v, s *apiextv1.JSONSchemaProps, sPath, vPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v.Not != nil {
		errs = append(errs, nestedCompleteness(v.Not, s, sPath, vPath.Child("not"))...)
	}
	for i := range v.AllOf {
		errs = append(errs, nestedCompleteness(&v.AllOf[i], s, sPath, vPath.Child("allOf").Index(i))...)
	}
	for i := range v.AnyOf {
		errs = append(errs, nestedCompleteness(&v.AnyOf[i], s, sPath, vPath.Child("anyOf").Index(i))...)
	}
	for i := range v.OneOf {
		errs = append(errs, nestedCompleteness(&v.OneOf[i], s, sPath, vPath.Child("oneOf").Index(i))...)
	}
	return errs
}

// nestedCompleteness checks one nested value validation v against the structural schema s.
func nestedCompleteness(v, s *apiextv1.JSONSchemaProps, sPath, vPath *field.Path) field.ErrorList {
	if s == nil {
		return field.ErrorList{field.Required(sPath, fmt.Sprintf("because it is defined in %s", vPath.String()))}
	}
	errs := junctorCompleteness(v, s, sPath, vPath)
	if items := itemsSchema(v); items != nil {
		errs = append(errs, nestedCompleteness(items, itemsSchema(s), sPath.Child("items"), vPath.Child("items"))...)
	}
	for _, k := range sortedKeys(v.Properties) {
		vFld := v.Properties[k]
		if sFld, ok := s.Properties[k]; ok {
			errs = append(errs, nestedCompleteness(&vFld, &sFld, sPath.Child("properties").Key(k), vPath.Child("properties").Key(k))...)
		} else {
			errs = append(errs, field.Required(sPath.Child("properties").Key(k), fmt.Sprintf("because it is defined in %s", vPath.Child("properties").Key(k))))
		}
	}
	return errs
}

// validateDefaults checks every default (under properties and items) is pruned, coerces and validates against its
// schema, as upstream's structural defaulting validation with requirePrunedDefaults; root is the schema of the
// enclosing resource and insideMeta tells whether s lies under a resource's apiVersion, kind or metadata.
func validateDefaults(pth *field.Path, s, root *apiextv1.JSONSchemaProps, insideMeta bool) field.ErrorList {
	if s == nil {
		return nil
	}
	if s.XEmbeddedResource {
		insideMeta = false
		root = s
	}
	var errs field.ErrorList
	if def, ok := jsonValue(s.Default); ok && def != nil {
		dPath := pth.Child("default")
		if insideMeta {
			// Upstream validates the default inside a whole surrounding object; the value's own schema is the part
			// that can fail here, as the metadata fields' types are fixed by ObjectMeta.
			errs = append(errs, Compile(s).validateValue(dPath, def)...)
		} else {
			pruned := deepCopy(def)
			(&pruner{}).prune(pruned, compile(s))
			if !reflect.DeepEqual(pruned, def) {
				errs = append(errs, field.Invalid(dPath, def, "must not have unknown fields"))
			}
			if err := coerceCheck(dPath, def, s); err != nil {
				errs = append(errs, err)
			} else if metaErrs := validateEmbedded(dPath, def, compile(s)); len(metaErrs) > 0 {
				errs = append(errs, metaErrs...)
			} else {
				errs = append(errs, Compile(s).validateValue(dPath, def)...)
			}
		}
	}
	errs = append(errs, validateDefaults(pth.Child("items"), itemsSchema(s), root, insideMeta)...)
	for _, k := range sortedKeys(s.Properties) {
		prop := s.Properties[k]
		sub := insideMeta || (s.XEmbeddedResource && metaFields[k])
		errs = append(errs, validateDefaults(pth.Child("properties").Key(k), &prop, root, sub)...)
	}
	return errs
}

// coerceCheck returns the first embedded resource in x whose apiVersion or kind is not a string or whose metadata is
// not an ObjectMeta, as upstream's objectmeta.Coerce without dropping.
func coerceCheck(pth *field.Path, x any, s *apiextv1.JSONSchemaProps) *field.Error {
	if s == nil {
		return nil
	}
	switch x := x.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			v := x[k]
			if s.XEmbeddedResource {
				switch k {
				case "apiVersion", "kind":
					if _, ok := v.(string); !ok {
						return field.Invalid(pth.Child(k), v, "must be a string")
					}
				case "metadata":
					if _, err := objectMeta(v); err != nil {
						return field.Invalid(pth.Child("metadata"), v, err.Error())
					}
				}
			}
			if prop, ok := s.Properties[k]; ok {
				if err := coerceCheck(pth.Child(k), v, &prop); err != nil {
					return err
				}
			} else if add, ok := additionalSchema(s); ok {
				if err := coerceCheck(pth.Key(k), v, add); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, v := range x {
			if err := coerceCheck(pth.Index(i), v, itemsSchema(s)); err != nil {
				return err
			}
		}
	}
	return nil
}

// keywordValidator checks the OpenAPI keywords a v1 CRD schema may use, as upstream's
// ValidateCustomResourceDefinitionOpenAPISchema with specStandardValidatorV3 (options of a v1 create).
type keywordValidator struct {
	allowDefaults          bool
	disallowDefaultsReason string
	insideResourceMeta     bool
}

// withForbiddenDefaults returns a copy that rejects defaults for the given reason.
func (v keywordValidator) withForbiddenDefaults(reason string) *keywordValidator {
	v.allowDefaults = false
	v.disallowDefaultsReason = reason
	return &v
}

// withInsideResourceMeta returns a copy for schemas under a resource's apiVersion, kind or metadata.
func (v keywordValidator) withInsideResourceMeta() *keywordValidator {
	v.insideResourceMeta = true
	return &v
}

// validateSchema checks s and, recursively, every schema it contains.
func (v *keywordValidator) validateSchema(s *apiextv1.JSONSchemaProps, fldPath *field.Path, isRoot bool) field.ErrorList {
	if s == nil {
		return nil
	}
	errs := v.validateNode(s, fldPath)
	if s.UniqueItems {
		errs = append(errs, field.Forbidden(fldPath.Child("uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
	}
	if s.AdditionalProperties != nil {
		if len(s.Properties) != 0 && (!s.AdditionalProperties.Allows || s.AdditionalProperties.Schema != nil) {
			errs = append(errs, field.Forbidden(fldPath.Child("additionalProperties"), "additionalProperties and properties are mutual exclusive"))
		}
		sub := v
		if v.insideResourceMeta {
			sub = v.withForbiddenDefaults("inside additionalProperties applying to object metadata")
		}
		errs = append(errs, sub.validateSchema(s.AdditionalProperties.Schema, fldPath.Child("additionalProperties"), false)...)
	}
	for _, k := range sortedKeys(s.Properties) {
		prop := s.Properties[k]
		sub := v
		if (isRoot || s.XEmbeddedResource) && metaFields[k] {
			sub = sub.withInsideResourceMeta()
			if isRoot {
				sub = sub.withForbiddenDefaults(fmt.Sprintf("in top-level %s", k))
			}
		}
		errs = append(errs, sub.validateSchema(&prop, fldPath.Child("properties").Key(k), false)...)
	}
	errs = append(errs, v.validateSchema(s.Not, fldPath.Child("not"), false)...)
	for i := range s.AllOf {
		errs = append(errs, v.validateSchema(&s.AllOf[i], fldPath.Child("allOf").Index(i), false)...)
	}
	for i := range s.OneOf {
		errs = append(errs, v.validateSchema(&s.OneOf[i], fldPath.Child("oneOf").Index(i), false)...)
	}
	for i := range s.AnyOf {
		errs = append(errs, v.validateSchema(&s.AnyOf[i], fldPath.Child("anyOf").Index(i), false)...)
	}
	for _, k := range sortedKeys(s.Definitions) {
		def := s.Definitions[k]
		errs = append(errs, v.validateSchema(&def, fldPath.Child("definitions").Key(k), false)...)
	}
	if s.Items != nil {
		errs = append(errs, v.validateSchema(s.Items.Schema, fldPath.Child("items"), false)...)
		for i := range s.Items.JSONSchemas {
			errs = append(errs, v.validateSchema(&s.Items.JSONSchemas[i], fldPath.Child("items").Index(i), false)...)
		}
	}
	for _, k := range sortedKeys(s.Dependencies) {
		errs = append(errs, v.validateSchema(s.Dependencies[k].Schema, fldPath.Child("dependencies").Key(k), false)...)
	}
	errs = append(errs, validateExtensions(s, fldPath)...)
	return errs
}

// validateNode checks the keywords of one schema that upstream's specStandardValidatorV3 rejects.
func (v *keywordValidator) validateNode(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Type != "" && !openAPIV3Types.Has(s.Type) {
		errs = append(errs, field.NotSupported(fldPath.Child("type"), s.Type, openAPIV3Types.List()))
	}
	if s.Default != nil && !v.allowDefaults {
		detail := "must not be set"
		if v.disallowDefaultsReason != "" {
			detail += " " + v.disallowDefaultsReason
		}
		errs = append(errs, field.Forbidden(fldPath.Child("default"), detail))
	}
	if s.ID != "" {
		errs = append(errs, field.Forbidden(fldPath.Child("id"), "id is not supported"))
	}
	if s.AdditionalItems != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("additionalItems"), "additionalItems is not supported"))
	}
	if len(s.PatternProperties) != 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("patternProperties"), "patternProperties is not supported"))
	}
	if len(s.Definitions) != 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("definitions"), "definitions is not supported"))
	}
	if s.Dependencies != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("dependencies"), "dependencies is not supported"))
	}
	if s.Ref != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("$ref"), "$ref is not supported"))
	}
	if s.Type == "null" {
		errs = append(errs, field.Forbidden(fldPath.Child("type"), "type cannot be set to null, use nullable as an alternative"))
	}
	if s.Items != nil && len(s.Items.JSONSchemas) != 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("items"), "items must be a schema object and not an array"))
	}
	if v.insideResourceMeta && s.XEmbeddedResource {
		errs = append(errs, field.Forbidden(fldPath.Child("x-kubernetes-embedded-resource"), "must not be used inside of resource meta"))
	}
	return errs
}

// supportedValidationReasons are the reasons an x-kubernetes-validations rule may give.
var supportedValidationReasons = []string{"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"}

// validateExtensions checks the x-kubernetes-* extensions of one schema (list/map types, list-map keys, preserve
// unknown fields and the static parts of x-kubernetes-validations).
func validateExtensions(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.XPreserveUnknownFields != nil && !*s.XPreserveUnknownFields {
		errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"))
	}
	if s.XMapType != nil && s.Type != "object" {
		if s.Type == "" {
			errs = append(errs, field.Required(fldPath.Child("type"), "must be object if x-kubernetes-map-type is specified"))
		} else {
			errs = append(errs, field.Invalid(fldPath.Child("type"), s.Type, "must be object if x-kubernetes-map-type is specified"))
		}
	}
	if s.XMapType != nil && *s.XMapType != "atomic" && *s.XMapType != "granular" {
		errs = append(errs, field.NotSupported(fldPath.Child("x-kubernetes-map-type"), *s.XMapType, []string{"atomic", "granular"}))
	}
	items := itemsSchema(s)
	if s.XListType != nil && s.Type != "array" {
		if s.Type == "" {
			errs = append(errs, field.Required(fldPath.Child("type"), "must be array if x-kubernetes-list-type is specified"))
		} else {
			errs = append(errs, field.Invalid(fldPath.Child("type"), s.Type, "must be array if x-kubernetes-list-type is specified"))
		}
	} else if s.XListType != nil && *s.XListType == "set" && items != nil {
		switch items.Type {
		case "array":
			if items.XListType != nil && *items.XListType != "atomic" {
				errs = append(errs, field.Invalid(fldPath.Child("items").Child("x-kubernetes-list-type"), items.XListType, "must be atomic as item of a list with x-kubernetes-list-type=set"))
			}
		case "object":
			if items.XMapType == nil || *items.XMapType != "atomic" {
				errs = append(errs, field.Invalid(fldPath.Child("items").Child("x-kubernetes-map-type"), items.XListType, "must be atomic as item of a list with x-kubernetes-list-type=set"))
			}
		}
	}
	if s.XListType != nil && *s.XListType != "atomic" && *s.XListType != "set" && *s.XListType != "map" {
		errs = append(errs, field.NotSupported(fldPath.Child("x-kubernetes-list-type"), *s.XListType, []string{"atomic", "set", "map"}))
	}
	if len(s.XListMapKeys) > 0 {
		if s.XListType == nil {
			errs = append(errs, field.Required(fldPath.Child("x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"))
		} else if *s.XListType != "map" {
			errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-list-type"), *s.XListType, "must be map if x-kubernetes-list-map-keys is non-empty"))
		}
	}
	if s.XListType != nil && *s.XListType == "map" {
		if len(s.XListMapKeys) == 0 {
			errs = append(errs, field.Required(fldPath.Child("x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"))
		}
		if s.Items == nil {
			errs = append(errs, field.Required(fldPath.Child("items"), "must have a schema if x-kubernetes-list-type is map"))
		}
		if s.Items != nil && s.Items.Schema == nil {
			errs = append(errs, field.Invalid(fldPath.Child("items"), s.Items, "must only have a single schema if x-kubernetes-list-type is map"))
		}
		if items != nil && items.Type != "object" {
			errs = append(errs, field.Invalid(fldPath.Child("items").Child("type"), items.Type, "must be object if parent array's x-kubernetes-list-type is map"))
		}
		if items != nil && items.Type == "object" {
			keys := map[string]bool{}
			for _, k := range s.XListMapKeys {
				if prop, ok := items.Properties[k]; ok {
					if prop.Type == "array" || prop.Type == "object" {
						errs = append(errs, field.Invalid(fldPath.Child("items").Child("properties").Key(k).Child("type"), items.Type, "must be a scalar type if parent array's x-kubernetes-list-type is map"))
					}
				} else {
					errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-list-map-keys"), s.XListMapKeys, "entries must all be names of item properties"))
				}
				if keys[k] {
					errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-list-map-keys"), s.XListMapKeys, "must not contain duplicate entries"))
				}
				keys[k] = true
			}
		}
	}
	errs = append(errs, validateMapListKeysMapSet(s, fldPath)...)
	for i, rule := range s.XValidations {
		rPath := fldPath.Child("x-kubernetes-validations").Index(i)
		rule := rule
		errs = append(errs, validateRuleStatically(&rule, rPath)...)
	}
	return errs
}

// validateMapListKeysMapSet requires set and map list items to be non-nullable and map keys to be required or
// defaulted.
func validateMapListKeysMapSet(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	items := itemsSchema(s)
	if items == nil || s.XListType == nil || (*s.XListType != "set" && *s.XListType != "map") {
		return nil
	}
	var errs field.ErrorList
	if items.Nullable {
		errs = append(errs, field.Forbidden(fldPath.Child("items").Child("nullable"), "cannot be nullable when x-kubernetes-list-type is "+*s.XListType))
	}
	if *s.XListType == "map" {
		required := sets.New(items.Required...)
		for _, k := range s.XListMapKeys {
			prop, ok := items.Properties[k]
			if !ok {
				continue
			}
			if !required.Has(k) && prop.Default == nil {
				errs = append(errs, field.Required(fldPath.Child("items").Child("properties").Key(k).Child("default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"))
			}
			if prop.Nullable {
				errs = append(errs, field.Forbidden(fldPath.Child("items").Child("properties").Key(k).Child("nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
			}
		}
	}
	return errs
}

// sortedKeys returns a map's keys in order, so that errors come out deterministically.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
