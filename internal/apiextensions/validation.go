package apiextensions

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/skiff-sh/skiff/internal/apiextensions/schema"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxSelectableFields is the most selectable fields a version may declare.
const MaxSelectableFields = 8

var (
	printerColumnTypes   = []string{"boolean", "date", "integer", "number", "string"}
	printerColumnFormats = []string{"byte", "date", "date-time", "double", "float", "int32", "int64", "password"}
	// acceptedReviewVersions are the ConversionReview versions the API server understands, sorted.
	acceptedReviewVersions = []string{"v1", "v1beta1"}
	// rootFieldsWithStatus are the root schema fields allowed when the status subresource is enabled, in upstream's order and spelling.
	rootFieldsWithStatus = []string{"Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum", "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems", "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs", "Example", "XPreserveUnknownFields", "XValidations"}
	// internalSchemaFieldOrder is the field order of the internal JSONSchemaProps, which decides which root field is reported first.
	internalSchemaFieldOrder = []string{"ID", "Schema", "Ref", "Description", "Type", "Nullable", "Format", "Title", "Default", "Maximum", "ExclusiveMaximum", "Minimum", "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems", "UniqueItems", "MultipleOf", "Enum", "MaxProperties", "MinProperties", "Required", "Items", "AllOf", "OneOf", "AnyOf", "Not", "Properties", "AdditionalProperties", "PatternProperties", "Dependencies", "AdditionalItems", "Definitions", "ExternalDocs", "Example", "XPreserveUnknownFields", "XEmbeddedResource", "XIntOrString", "XListMapKeys", "XListType", "XMapType", "XValidations"}
)

// options are the checks that an update relaxes for objects stored before they existed.
type options struct {
	requireOpenAPISchema           bool
	requireRecognizedReviewVersion bool
	requireImmutableNames          bool
	allowInvalidCABundle           bool
	// allowTooManySelectableFields lists the versions ("" for the top level) whose unchanged selectable fields may exceed the maximum.
	allowTooManySelectableFields map[string]bool
}

// ValidateCreate checks a new, defaulted CRD as upstream's ValidateCustomResourceDefinition; nil means valid.
func ValidateCreate(crd *apiextv1.CustomResourceDefinition) field.ErrorList {
	nameFn := func(name string, prefix bool) []string {
		errs := genericvalidation.NameIsDNSSubdomain(name, prefix)
		if name != crd.Spec.Names.Plural+"."+crd.Spec.Group {
			errs = append(errs, `must be spec.names.plural+"."+spec.group`)
		}
		return errs
	}
	opts := options{
		requireOpenAPISchema:           true,
		requireRecognizedReviewVersion: true,
		allowInvalidCABundle:           true,
	}
	errs := genericvalidation.ValidateObjectMeta(&crd.ObjectMeta, false, nameFn, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&crd.Spec, opts)...)
	errs = append(errs, validateStatus(&crd.Status)...)
	errs = append(errs, validateStoredVersions(crd.Status.StoredVersions, crd.Spec.Versions)...)
	errs = append(errs, validateAPIApproval(crd, nil)...)
	errs = append(errs, validatePreserveUnknownFields(crd, nil)...)
	return finish(errs)
}

// ValidateUpdate checks a write through the main resource as upstream's ValidateCustomResourceDefinitionUpdate; nil means valid.
//
// Checks added after old was stored are relaxed as upstream relaxes them:
// versions need a schema only if old's all had one, an invalid caBundle is
// allowed while old is not established or already had an invalid one, and
// scope and names.kind become immutable once old is established.
func ValidateUpdate(crd, old *apiextv1.CustomResourceDefinition) field.ErrorList {
	opts := options{
		requireOpenAPISchema:           allVersionsHaveSchema(&old.Spec),
		requireRecognizedReviewVersion: hasRecognizedReviewVersionOrEmpty(old),
		requireImmutableNames:          IsConditionTrue(old, apiextv1.Established),
		allowInvalidCABundle:           allowInvalidCABundle(old),
		allowTooManySelectableFields:   unchangedTooManySelectableFields(crd, old),
	}
	errs := genericvalidation.ValidateObjectMetaUpdate(&crd.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSpec(&crd.Spec, opts)...)
	specPath := field.NewPath("spec")
	if opts.requireImmutableNames {
		errs = append(errs, genericvalidation.ValidateImmutableField(crd.Spec.Scope, old.Spec.Scope, specPath.Child("scope"))...)
		errs = append(errs, genericvalidation.ValidateImmutableField(crd.Spec.Names.Kind, old.Spec.Names.Kind, specPath.Child("names", "kind"))...)
	}
	errs = append(errs, genericvalidation.ValidateImmutableField(crd.Spec.Group, old.Spec.Group, specPath.Child("group"))...)
	errs = append(errs, genericvalidation.ValidateImmutableField(crd.Spec.Names.Plural, old.Spec.Names.Plural, specPath.Child("names", "plural"))...)
	errs = append(errs, validateStatus(&crd.Status)...)
	errs = append(errs, validateStoredVersions(crd.Status.StoredVersions, crd.Spec.Versions)...)
	errs = append(errs, validateAPIApproval(crd, old)...)
	errs = append(errs, validatePreserveUnknownFields(crd, old)...)
	return finish(errs)
}

// ValidateStatusUpdate checks a write to the status subresource: metadata update rules and the accepted names; nil means valid.
func ValidateStatusUpdate(crd, old *apiextv1.CustomResourceDefinition) field.ErrorList {
	errs := genericvalidation.ValidateObjectMetaUpdate(&crd.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return finish(append(errs, validateStatus(&crd.Status)...))
}

// lifted is the internal form's view of the per-version fields: those identical in every version live at the top level.
type lifted struct {
	schema, subresources, columns, selectable bool
}

func liftedFields(versions []apiextv1.CustomResourceDefinitionVersion) lifted {
	if len(versions) == 0 {
		return lifted{}
	}
	l := lifted{true, true, true, true}
	first := versions[0]
	for _, v := range versions[1:] {
		l.schema = l.schema && equality.Semantic.DeepEqual(v.Schema, first.Schema)
		l.subresources = l.subresources && equality.Semantic.DeepEqual(v.Subresources, first.Subresources)
		l.columns = l.columns && equality.Semantic.DeepEqual(v.AdditionalPrinterColumns, first.AdditionalPrinterColumns)
		l.selectable = l.selectable && equality.Semantic.DeepEqual(v.SelectableFields, first.SelectableFields)
	}
	return l
}

func validateSpec(spec *apiextv1.CustomResourceDefinitionSpec, opts options) field.ErrorList {
	var errs field.ErrorList
	fldPath := field.NewPath("spec")
	versionsPath := fldPath.Child("versions")

	switch {
	case spec.Group == "":
		errs = append(errs, field.Required(fldPath.Child("group"), ""))
	case len(utilvalidation.IsDNS1123Subdomain(spec.Group)) > 0:
		errs = append(errs, field.Invalid(fldPath.Child("group"), spec.Group, strings.Join(utilvalidation.IsDNS1123Subdomain(spec.Group), ",")))
	case len(strings.Split(spec.Group, ".")) < 2:
		errs = append(errs, field.Invalid(fldPath.Child("group"), spec.Group, "should be a domain with at least one dot"))
	}
	errs = append(errs, validateEnum(fldPath.Child("scope"), string(spec.Scope), []string{string(apiextv1.ClusterScoped), string(apiextv1.NamespaceScoped)})...)

	for i, v := range spec.Versions {
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			continue
		}
		p := versionsPath.Index(i).Child("schema").Child("openAPIV3Schema")
		if opts.requireOpenAPISchema {
			errs = append(errs, field.Required(p, ""))
		} else if !spec.PreserveUnknownFields && v.Served {
			errs = append(errs, field.Required(p, "because otherwise all fields are pruned"))
		}
	}
	if spec.PreserveUnknownFields && specHasSchemaWith(spec, func(s *apiextv1.JSONSchemaProps) bool { return s.Default != nil }) {
		errs = append(errs, field.Invalid(fldPath.Child("preserveUnknownFields"), true, "must be false in order to use defaults in the schema"))
	}

	l := liftedFields(spec.Versions)
	storageCount, unique, seen := 0, true, map[string]bool{}
	anyStatus := false
	for i := range spec.Versions {
		v := &spec.Versions[i]
		vPath := versionsPath.Index(i)
		if v.Storage {
			storageCount++
		}
		if seen[v.Name] {
			unique = false
		}
		seen[v.Name] = true
		if v.Subresources != nil && v.Subresources.Status != nil {
			anyStatus = true
		}
		if msgs := utilvalidation.IsDNS1035Label(v.Name); len(msgs) > 0 {
			errs = append(errs, field.Invalid(vPath.Child("name"), v.Name, strings.Join(msgs, ",")))
		}
		for _, msg := range deprecationWarningErrors(v.Deprecated, v.DeprecationWarning) {
			errs = append(errs, field.Invalid(vPath.Child("deprecationWarning"), v.DeprecationWarning, msg))
		}
		statusEnabled := v.Subresources != nil && v.Subresources.Status != nil
		if !l.schema {
			errs = append(errs, validateValidation(v.Schema, statusEnabled, vPath.Child("schema"))...)
		}
		if !l.subresources {
			errs = append(errs, validateSubresources(v.Subresources, vPath.Child("subresources"))...)
		}
		if !l.columns {
			for j := range v.AdditionalPrinterColumns {
				errs = append(errs, validateColumn(&v.AdditionalPrinterColumns[j], vPath.Child("additionalPrinterColumns").Index(j))...)
			}
		}
		if !l.selectable && len(v.SelectableFields) > 0 {
			// In the internal form a lifted schema is no longer the version's own.
			if l.schema || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				errs = append(errs, field.Invalid(vPath.Child("selectableFields"), "", "may only be set when `version.schema.openAPIV3Schema` is not included"))
			} else {
				errs = append(errs, validateSelectableFields(v.SelectableFields, v.Schema.OpenAPIV3Schema, vPath.Child("selectableFields"), opts.allowTooManySelectableFields[v.Name])...)
			}
		}
	}
	if !unique {
		errs = append(errs, field.Invalid(versionsPath, internalVersions(spec.Versions), "must contain unique version names"))
	}
	if storageCount != 1 {
		errs = append(errs, field.Invalid(versionsPath, internalVersions(spec.Versions), "must have exactly one version marked as storage version"))
	}
	if len(spec.Versions) > 0 {
		// The internal form's spec.version is versions[0].name.
		if msgs := utilvalidation.IsDNS1035Label(spec.Versions[0].Name); spec.Versions[0].Name != "" && len(msgs) > 0 {
			errs = append(errs, field.Invalid(fldPath.Child("version"), spec.Versions[0].Name, strings.Join(msgs, ",")))
		}
	}

	namesPath := fldPath.Child("names")
	for _, n := range []struct{ name, value string }{
		{"plural", spec.Names.Plural}, {"singular", spec.Names.Singular}, {"kind", spec.Names.Kind}, {"listKind", spec.Names.ListKind},
	} {
		if n.value == "" {
			errs = append(errs, field.Required(namesPath.Child(n.name), ""))
		}
	}
	errs = append(errs, validateNames(&spec.Names, namesPath)...)

	if len(spec.Versions) > 0 {
		first := &spec.Versions[0]
		if l.schema {
			errs = append(errs, validateValidation(first.Schema, anyStatus, fldPath.Child("validation"))...)
		}
		if l.subresources {
			errs = append(errs, validateSubresources(first.Subresources, fldPath.Child("subresources"))...)
		}
		if l.columns {
			for j := range first.AdditionalPrinterColumns {
				errs = append(errs, validateColumn(&first.AdditionalPrinterColumns[j], fldPath.Child("additionalPrinterColumns").Index(j))...)
			}
		}
		if l.selectable && len(first.SelectableFields) > 0 {
			if !l.schema || first.Schema == nil {
				errs = append(errs, field.Invalid(fldPath.Child("selectableFields"), "", "may only be set when validations.schema is included"))
			} else {
				errs = append(errs, validateSelectableFields(first.SelectableFields, first.Schema.OpenAPIV3Schema, fldPath.Child("selectableFields"), opts.allowTooManySelectableFields[""])...)
			}
		}
	}

	if spec.Conversion != nil && spec.Conversion.Strategy != apiextv1.NoneConverter && spec.PreserveUnknownFields {
		errs = append(errs, field.Invalid(fldPath.Child("conversion").Child("strategy"), spec.Conversion.Strategy, "must be None if spec.preserveUnknownFields is true"))
	}
	return append(errs, validateConversion(spec.Conversion, opts, fldPath.Child("conversion"))...)
}

// validateEnum requires value to be one of accepted.
func validateEnum(fldPath *field.Path, value string, accepted []string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if slices.Contains(accepted, value) {
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, value, accepted)}
}

func deprecationWarningErrors(deprecated bool, warning *string) []string {
	if !deprecated && warning != nil {
		return []string{"can only be set for deprecated versions"}
	}
	if warning == nil {
		return nil
	}
	var msgs []string
	if len(*warning) > 256 {
		msgs = append(msgs, "must be <= 256 characters long")
	}
	if len(*warning) == 0 {
		msgs = append(msgs, "must not be an empty string")
	}
	for i, r := range *warning {
		if !unicode.IsPrint(r) {
			msgs = append(msgs, fmt.Sprintf("must only contain printable UTF-8 characters; non-printable character found at index %d", i))
			break
		}
		if unicode.IsControl(r) {
			msgs = append(msgs, fmt.Sprintf("must only contain printable UTF-8 characters; control character found at index %d", i))
			break
		}
	}
	if !utf8.ValidString(*warning) {
		msgs = append(msgs, "must only contain printable UTF-8 characters")
	}
	return msgs
}

// validateValidation checks a CRD's schema: the root rules that depend on the status subresource here, the rest in package schema.
func validateValidation(v *apiextv1.CustomResourceValidation, statusEnabled bool, fldPath *field.Path) field.ErrorList {
	if v == nil || v.OpenAPIV3Schema == nil {
		return nil
	}
	s := v.OpenAPIV3Schema
	var errs field.ErrorList
	if statusEnabled {
		rv := reflect.ValueOf(s).Elem()
		for _, name := range internalSchemaFieldOrder {
			f := rv.FieldByName(name)
			if f.IsZero() {
				continue
			}
			if name == "Type" {
				if s.Type != "object" {
					errs = append(errs, field.Invalid(fldPath.Child("openAPIV3Schema.type"), s.Type, `only "object" is allowed as the type at the root of the schema if the status subresource is enabled`))
					break
				}
				continue
			}
			if !slices.Contains(rootFieldsWithStatus, name) {
				errs = append(errs, field.Invalid(fldPath.Child("openAPIV3Schema"), internalForm{*s}, fmt.Sprintf("only %v fields are allowed at the root of the schema if the status subresource is enabled", rootFieldsWithStatus)))
				break
			}
		}
	}
	if s.Nullable {
		errs = append(errs, field.Forbidden(fldPath.Child("openAPIV3Schema.nullable"), "nullable cannot be true at the root"))
	}
	return append(errs, schema.ValidateCRDSchema(s, fldPath.Child("openAPIV3Schema"))...)
}

func validateSubresources(sub *apiextv1.CustomResourceSubresources, fldPath *field.Path) field.ErrorList {
	if sub == nil || sub.Scale == nil {
		return nil
	}
	var errs field.ErrorList
	scale := sub.Scale
	checkPath := func(name, value string, badValue any, prefixes []string, under string) {
		p := fldPath.Child("scale." + name)
		if pathErrs := validateSimpleJSONPath(value, p); len(pathErrs) > 0 {
			errs = append(errs, pathErrs...)
			return
		}
		for _, pre := range prefixes {
			if strings.HasPrefix(value, pre) {
				return
			}
		}
		errs = append(errs, field.Invalid(p, badValue, "should be a json path under "+under))
	}
	if scale.SpecReplicasPath == "" {
		errs = append(errs, field.Required(fldPath.Child("scale.specReplicasPath"), ""))
	} else {
		checkPath("specReplicasPath", scale.SpecReplicasPath, scale.SpecReplicasPath, []string{".spec."}, ".spec")
	}
	if scale.StatusReplicasPath == "" {
		errs = append(errs, field.Required(fldPath.Child("scale.statusReplicasPath"), ""))
	} else {
		checkPath("statusReplicasPath", scale.StatusReplicasPath, scale.StatusReplicasPath, []string{".status."}, ".status")
	}
	if scale.LabelSelectorPath != nil && *scale.LabelSelectorPath != "" {
		checkPath("labelSelectorPath", *scale.LabelSelectorPath, scale.LabelSelectorPath, []string{".spec.", ".status."}, "either .spec or .status")
	}
	return errs
}

func validateSimpleJSONPath(s string, fldPath *field.Path) field.ErrorList {
	switch {
	case s == "":
		return field.ErrorList{field.Invalid(fldPath, s, "must not be empty")}
	case s[0] != '.':
		return field.ErrorList{field.Invalid(fldPath, s, "must be a simple json path starting with .")}
	}
	return nil
}

func validateColumn(col *apiextv1.CustomResourceColumnDefinition, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if col.Name == "" {
		errs = append(errs, field.Required(fldPath.Child("name"), ""))
	}
	typeMsg := "must be one of " + strings.Join(printerColumnTypes, ",")
	if col.Type == "" {
		errs = append(errs, field.Required(fldPath.Child("type"), typeMsg))
	} else if !slices.Contains(printerColumnTypes, col.Type) {
		errs = append(errs, field.Invalid(fldPath.Child("type"), col.Type, typeMsg))
	}
	if col.Format != "" && !slices.Contains(printerColumnFormats, col.Format) {
		errs = append(errs, field.Invalid(fldPath.Child("format"), col.Format, "must be one of "+strings.Join(printerColumnFormats, ",")))
	}
	if col.JSONPath == "" {
		errs = append(errs, field.Required(fldPath.Child("JSONPath"), ""))
	} else {
		errs = append(errs, validateSimpleJSONPath(col.JSONPath, fldPath.Child("JSONPath"))...)
	}
	return errs
}

func validateNames(names *apiextv1.CustomResourceDefinitionNames, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	label := func(name, value string, mixedCase bool) {
		check := value
		if mixedCase {
			check = strings.ToLower(value)
		}
		msgs := utilvalidation.IsDNS1035Label(check)
		if value == "" || len(msgs) == 0 {
			return
		}
		msg := strings.Join(msgs, ",")
		if mixedCase {
			msg = "may have mixed case, but should otherwise match: " + msg
		}
		errs = append(errs, field.Invalid(fldPath.Child(name), value, msg))
	}
	label("plural", names.Plural, false)
	label("singular", names.Singular, false)
	label("kind", names.Kind, true)
	label("listKind", names.ListKind, true)
	for i, s := range names.ShortNames {
		if msgs := utilvalidation.IsDNS1035Label(s); len(msgs) > 0 {
			errs = append(errs, field.Invalid(fldPath.Child("shortNames").Index(i), s, strings.Join(msgs, ",")))
		}
	}
	if names.Kind != "" && names.Kind == names.ListKind {
		errs = append(errs, field.Invalid(fldPath.Child("listKind"), names.ListKind, "kind and listKind may not be the same"))
	}
	for i, c := range names.Categories {
		if msgs := utilvalidation.IsDNS1035Label(c); len(msgs) > 0 {
			errs = append(errs, field.Invalid(fldPath.Child("categories").Index(i), c, strings.Join(msgs, ",")))
		}
	}
	return errs
}

func validateStatus(status *apiextv1.CustomResourceDefinitionStatus) field.ErrorList {
	return validateNames(&status.AcceptedNames, field.NewPath("status").Child("acceptedNames"))
}

func validateStoredVersions(stored []string, versions []apiextv1.CustomResourceDefinitionVersion) field.ErrorList {
	fldPath := field.NewPath("status").Child("storedVersions")
	if len(stored) == 0 {
		return field.ErrorList{field.Invalid(fldPath, stored, "must have at least one stored version")}
	}
	var errs field.ErrorList
	listed := map[string]bool{}
	for _, v := range versions {
		listed[v.Name] = true
		if v.Storage && !slices.Contains(stored, v.Name) {
			errs = append(errs, field.Invalid(fldPath, stored, "must have the storage version "+v.Name))
		}
	}
	reported := map[string]bool{}
	for i, v := range stored {
		if listed[v] || reported[v] {
			continue
		}
		reported[v] = true
		errs = append(errs, field.Invalid(fldPath.Index(i), v, fmt.Sprintf("missing from spec.versions; %[1]s was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in %[1]s and removes %[1]s from status.storedVersions", v)))
	}
	return errs
}

func validatePreserveUnknownFields(crd, old *apiextv1.CustomResourceDefinition) field.ErrorList {
	if old != nil && old.Spec.PreserveUnknownFields {
		return nil
	}
	if crd.Spec.PreserveUnknownFields {
		return field.ErrorList{field.Invalid(field.NewPath("spec").Child("preserveUnknownFields"), true, "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead")}
	}
	return nil
}

// specHasSchemaWith reports whether pred holds for a schema anywhere in any version.
func specHasSchemaWith(spec *apiextv1.CustomResourceDefinitionSpec, pred func(*apiextv1.JSONSchemaProps) bool) bool {
	for _, v := range spec.Versions {
		if v.Schema != nil && walkSchema(v.Schema.OpenAPIV3Schema, false, pred) {
			return true
		}
	}
	return false
}

func allVersionsHaveSchema(spec *apiextv1.CustomResourceDefinitionSpec) bool {
	for _, v := range spec.Versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return false
		}
	}
	return true
}

// finish drops errors whose text repeats an earlier one, as the API server's aggregated message does, and returns nil for none.
func finish(errs field.ErrorList) field.ErrorList {
	var out field.ErrorList
	seen := map[string]bool{}
	for _, e := range errs {
		if e == nil || seen[e.Error()] {
			continue
		}
		seen[e.Error()] = true
		out = append(out, e)
	}
	return out
}
