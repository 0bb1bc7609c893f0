package schema

import (
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// supportedFormats are the string formats apiextensions.k8s.io/v1 validates (upstream's list at compatibility
// version 1.34+), normalised as go-openapi does by removing dashes; other formats are ignored.
var supportedFormats = sets.New(
	"bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac",
	"uuid", "uuid3", "uuid4", "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn",
	"hexcolor", "rgbcolor", "byte", "password", "date", "duration", "datetime",
	"k8sshortname", "k8slongname",
)

// SupportedFormat reports whether a format on a schema of the given type is validated (others are ignored, as upstream).
func SupportedFormat(typ, format string) bool {
	switch typ {
	case "", "string":
		return supportedFormats.Has(strings.ReplaceAll(format, "-", ""))
	case "integer":
		return format == "int32" || format == "int64"
	case "number":
		return format == "float" || format == "double"
	}
	return false
}

// jsonValue decodes a raw JSON value as the API server decodes objects (integers as int64, other numbers as float64).
func jsonValue(j *apiextv1.JSON) (any, bool) {
	if j == nil || len(j.Raw) == 0 {
		return nil, false
	}
	var v any
	if err := utiljson.Unmarshal(j.Raw, &v); err != nil {
		return nil, false
	}
	return v, true
}

// toOpenAPI converts a CRD schema to the kube-openapi schema the validator runs, as upstream's
// ConvertJSONSchemaPropsWithPostProcess with unsupported formats stripped.
func toOpenAPI(in *apiextv1.JSONSchemaProps) *spec.Schema {
	if in == nil {
		return nil
	}
	out := &spec.Schema{}
	out.ID = in.ID
	out.Schema = spec.SchemaURL(in.Schema)
	out.Description = in.Description
	if in.Type != "" {
		out.Type = spec.StringOrArray{in.Type}
	}
	if in.XIntOrString {
		out.AddExtension("x-kubernetes-int-or-string", true)
		out.Type = spec.StringOrArray{"integer", "string"}
	}
	out.Nullable = in.Nullable
	if in.Format != "" && SupportedFormat(singleType(out.Type), in.Format) {
		out.Format = in.Format
	}
	out.Title = in.Title
	out.Maximum = in.Maximum
	out.ExclusiveMaximum = in.ExclusiveMaximum
	out.Minimum = in.Minimum
	out.ExclusiveMinimum = in.ExclusiveMinimum
	out.MaxLength = in.MaxLength
	out.MinLength = in.MinLength
	out.Pattern = in.Pattern
	out.MaxItems = in.MaxItems
	out.MinItems = in.MinItems
	out.UniqueItems = in.UniqueItems
	out.MultipleOf = in.MultipleOf
	out.MaxProperties = in.MaxProperties
	out.MinProperties = in.MinProperties
	out.Required = in.Required
	if v, ok := jsonValue(in.Default); ok {
		out.Default = v
	}
	if len(in.Enum) > 0 {
		out.Enum = make([]any, 0, len(in.Enum))
		for i := range in.Enum {
			v, _ := jsonValue(&in.Enum[i])
			out.Enum = append(out.Enum, v)
		}
	}
	out.AllOf = toOpenAPISlice(in.AllOf)
	out.OneOf = toOpenAPISlice(in.OneOf)
	out.AnyOf = toOpenAPISlice(in.AnyOf)
	out.Not = toOpenAPI(in.Not)
	out.Properties = toOpenAPIMap(in.Properties)
	out.PatternProperties = toOpenAPIMap(in.PatternProperties)
	out.Definitions = toOpenAPIMap(in.Definitions)
	if in.Ref != nil {
		if ref, err := spec.NewRef(*in.Ref); err == nil {
			out.Ref = ref
		}
	}
	if in.AdditionalProperties != nil {
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: in.AdditionalProperties.Allows, Schema: toOpenAPI(in.AdditionalProperties.Schema)}
	}
	if in.AdditionalItems != nil {
		out.AdditionalItems = &spec.SchemaOrBool{Allows: in.AdditionalItems.Allows, Schema: toOpenAPI(in.AdditionalItems.Schema)}
	}
	if in.Items != nil {
		out.Items = &spec.SchemaOrArray{Schema: toOpenAPI(in.Items.Schema)}
		if in.Items.JSONSchemas != nil {
			out.Items.Schemas = toOpenAPISlice(in.Items.JSONSchemas)
		}
	}
	if in.XPreserveUnknownFields != nil {
		out.AddExtension("x-kubernetes-preserve-unknown-fields", *in.XPreserveUnknownFields)
	}
	if in.XEmbeddedResource {
		out.AddExtension("x-kubernetes-embedded-resource", true)
	}
	return out
}

// singleType returns the only type of a schema, or "" when there is none or several.
func singleType(t spec.StringOrArray) string {
	if len(t) == 1 {
		return t[0]
	}
	return ""
}

// toOpenAPISlice converts a list of CRD schemas.
func toOpenAPISlice(in []apiextv1.JSONSchemaProps) []spec.Schema {
	if in == nil {
		return nil
	}
	out := make([]spec.Schema, len(in))
	for i := range in {
		out[i] = *toOpenAPI(&in[i])
	}
	return out
}

// toOpenAPIMap converts a map of CRD schemas.
func toOpenAPIMap(in map[string]apiextv1.JSONSchemaProps) map[string]spec.Schema {
	if in == nil {
		return nil
	}
	out := make(map[string]spec.Schema, len(in))
	for k := range in {
		v := in[k]
		out[k] = *toOpenAPI(&v)
	}
	return out
}
