package openapi

import (
	"encoding/json"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// This file converts a CRD version's openAPIV3Schema into the schema
// published for its kind, as apiextensions-apiserver does
// (pkg/apiserver/schema: NewStructural, Unfold, ToKubeOpenAPI; and for v2
// pkg/controller/openapi/v2.ToStructuralOpenAPIV2 and kube-openapi's
// PruneDefaults). The structural form keeps types, descriptions, value
// validations and the x-kubernetes-* extensions; it drops the keywords
// apiextensions.k8s.io/v1 forbids or ignores (id, $schema, $ref,
// definitions, dependencies, patternProperties, additionalItems).

// Vendor extensions of CRD schemas.
const (
	extPreserveUnknown = "x-kubernetes-preserve-unknown-fields"
	extEmbedded        = "x-kubernetes-embedded-resource"
	extIntOrString     = "x-kubernetes-int-or-string"
	extListMapKeys     = "x-kubernetes-list-map-keys"
	extListType        = "x-kubernetes-list-type"
	extMapType         = "x-kubernetes-map-type"
	extValidations     = "x-kubernetes-validations"
)

// structural reports whether s has the shape apiextensions-apiserver
// publishes: every node under properties, items and additionalProperties
// has a type unless it preserves unknown fields or is an int-or-string.
// Non-structural schemas are published as a bare object, as upstream does.
func structural(s *apiextv1.JSONSchemaProps) bool {
	if s == nil {
		return true
	}
	if s.Type == "" && !s.XIntOrString && (s.XPreserveUnknownFields == nil || !*s.XPreserveUnknownFields) {
		return false
	}
	for _, p := range s.Properties {
		if !structural(&p) {
			return false
		}
	}
	if s.Items != nil && s.Items.Schema != nil && !structural(s.Items.Schema) {
		return false
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil && !structural(s.AdditionalProperties.Schema) {
		return false
	}
	return true
}

// convertSchema returns the published form of a CRD schema: for OpenAPI v3
// the structural schema with int-or-string unfolded into anyOf; for v2
// (v2=true) the same with logical junctors, nullable nodes and the children
// of preserve-unknown-fields nodes removed, and defaults pruned.
func convertSchema(in *apiextv1.JSONSchemaProps, v2 bool) *spec.Schema {
	if in == nil {
		return nil
	}
	out := toSpec(in, true)
	unfoldIntOrString(out)
	if v2 {
		toV2(out)
	}
	return out
}

// toSpec converts one node; structural nodes keep the generic fields and
// extensions, nested value validations (under allOf/anyOf/oneOf/not) keep
// only validations, items and properties, as upstream's
// NestedValueValidation.toKubeOpenAPI.
func toSpec(in *apiextv1.JSONSchemaProps, isStructural bool) *spec.Schema {
	out := &spec.Schema{}
	p := &out.SchemaProps
	if in.Type != "" {
		p.Type = spec.StringOrArray{in.Type}
	}
	p.Description = in.Description
	p.Title = in.Title
	p.Nullable = in.Nullable
	if isStructural {
		p.Default = jsonValue(in.Default)
		if in.ExternalDocs != nil {
			out.ExternalDocs = &spec.ExternalDocumentation{Description: in.ExternalDocs.Description, URL: in.ExternalDocs.URL}
		}
		out.Example = jsonValue(in.Example)
	}

	p.Format = in.Format
	p.Maximum = in.Maximum
	p.ExclusiveMaximum = in.ExclusiveMaximum
	p.Minimum = in.Minimum
	p.ExclusiveMinimum = in.ExclusiveMinimum
	p.MaxLength = in.MaxLength
	p.MinLength = in.MinLength
	p.Pattern = in.Pattern
	p.MaxItems = in.MaxItems
	p.MinItems = in.MinItems
	p.UniqueItems = in.UniqueItems
	p.MultipleOf = in.MultipleOf
	for i := range in.Enum {
		p.Enum = append(p.Enum, jsonValue(&in.Enum[i]))
	}
	p.MaxProperties = in.MaxProperties
	p.MinProperties = in.MinProperties
	p.Required = in.Required
	for i := range in.AllOf {
		p.AllOf = append(p.AllOf, *toSpec(&in.AllOf[i], false))
	}
	for i := range in.AnyOf {
		p.AnyOf = append(p.AnyOf, *toSpec(&in.AnyOf[i], false))
	}
	for i := range in.OneOf {
		p.OneOf = append(p.OneOf, *toSpec(&in.OneOf[i], false))
	}
	if in.Not != nil {
		p.Not = toSpec(in.Not, false)
	}

	if in.Items != nil && in.Items.Schema != nil {
		p.Items = &spec.SchemaOrArray{Schema: toSpec(in.Items.Schema, isStructural)}
	}
	if in.Properties != nil {
		p.Properties = make(map[string]spec.Schema, len(in.Properties))
		for k, v := range in.Properties {
			p.Properties[k] = *toSpec(&v, isStructural)
		}
	}
	if isStructural && in.AdditionalProperties != nil {
		ap := &spec.SchemaOrBool{Allows: in.AdditionalProperties.Allows}
		if in.AdditionalProperties.Schema != nil {
			ap.Schema = toSpec(in.AdditionalProperties.Schema, true)
		}
		p.AdditionalProperties = ap
	}

	if in.XPreserveUnknownFields != nil && *in.XPreserveUnknownFields {
		out.AddExtension(extPreserveUnknown, true)
	}
	if in.XEmbeddedResource {
		out.AddExtension(extEmbedded, true)
	}
	if in.XIntOrString {
		out.AddExtension(extIntOrString, true)
	}
	if len(in.XListMapKeys) > 0 {
		out.AddExtension(extListMapKeys, in.XListMapKeys)
	}
	if in.XListType != nil {
		out.AddExtension(extListType, *in.XListType)
	}
	if in.XMapType != nil {
		out.AddExtension(extMapType, *in.XMapType)
	}
	if len(in.XValidations) > 0 {
		out.AddExtension(extValidations, in.XValidations)
	}
	return out
}

// jsonValue decodes a schema's JSON value (default, example, enum item); nil if unset or invalid.
func jsonValue(j *apiextv1.JSON) any {
	if j == nil || len(j.Raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		return nil
	}
	return v
}

func hasExt(s *spec.Schema, name string) bool {
	b, ok := s.Extensions.GetBool(name)
	return ok && b
}

// visit calls f on s and then on its items, properties and
// additionalProperties (as they are after f), like upstream's
// structural-schema Visitor.
func visit(s *spec.Schema, f func(*spec.Schema)) {
	f(s)
	if s.Items != nil && s.Items.Schema != nil {
		visit(s.Items.Schema, f)
	}
	for k, v := range s.Properties {
		visit(&v, f)
		s.Properties[k] = v
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		visit(s.AdditionalProperties.Schema, f)
	}
}

// intOrStringAnyOf is the anyOf upstream's Unfold adds to
// x-kubernetes-int-or-string nodes.
func intOrStringAnyOf() []spec.Schema {
	return []spec.Schema{
		{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"integer"}}},
		{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"string"}}},
	}
}

// isIntOrStringPattern reports whether l is exactly [{type: integer}, {type: string}].
func isIntOrStringPattern(l []spec.Schema) bool {
	if len(l) != 2 {
		return false
	}
	for i, t := range []string{"integer", "string"} {
		s := l[i]
		if len(s.Type) != 1 || s.Type[0] != t {
			return false
		}
		s.Type = nil
		b, _ := json.Marshal(s)
		if string(b) != "{}" {
			return false
		}
	}
	return true
}

// unfoldIntOrString mirrors Structural.Unfold: an int-or-string node gets
// anyOf [{type: integer}, {type: string}] (or, if it has its own anyOf, an
// allOf entry holding it) unless it already has that pattern.
func unfoldIntOrString(s *spec.Schema) {
	visit(s, func(s *spec.Schema) {
		if !hasExt(s, extIntOrString) {
			return
		}
		if isIntOrStringPattern(s.AnyOf) || (len(s.AllOf) > 0 && isIntOrStringPattern(s.AllOf[0].AnyOf)) {
			return
		}
		if s.AnyOf == nil {
			s.AnyOf = intOrStringAnyOf()
			return
		}
		s.AllOf = append([]spec.Schema{{SchemaProps: spec.SchemaProps{AnyOf: intOrStringAnyOf()}}}, s.AllOf...)
	})
}

// toV2 mirrors ToStructuralOpenAPIV2 followed by PruneDefaults: OpenAPI v2
// has no nullable or logical junctors, and kubectl's v2 validation would
// reject the unknown fields of preserve-unknown-fields nodes if they
// listed properties.
func toV2(s *spec.Schema) {
	visit(s, func(s *spec.Schema) {
		s.AllOf, s.OneOf, s.AnyOf, s.Not = nil, nil, nil, nil
		s.Default = nil
		if s.Nullable {
			s.Type, s.Nullable, s.Items, s.Properties = nil, false, nil, nil
		}
		preserve := hasExt(s, extPreserveUnknown)
		if preserve {
			s.Items, s.Properties = nil, nil
		}
		if s.Items == nil && s.Type.Contains("array") {
			s.Type = nil
		}
		if preserve && s.Type.Contains("object") {
			s.Type = nil
		}
		for name, p := range s.Properties {
			if p.Nullable {
				s.Required = without(s.Required, name)
			}
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil && s.AdditionalProperties.Schema.Nullable {
			s.Required = nil
		}
	})
}

// without returns l without x, or nil if nothing is left.
func without(l []string, x string) []string {
	var out []string
	for _, s := range l {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}
