package schema

import (
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateCRDSchema returns the problems with a version's openAPIV3Schema as a CRD's schema (structural-schema rules,
// allowed keywords and formats of apiextensions.k8s.io/v1), with field paths under fldPath
// (e.g. spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields).
func ValidateCRDSchema(s *apiextv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	return validateCRDSchema(s, fldPath)
}

// Validate returns the problems with a custom resource (its whole JSON object, apiVersion/kind/metadata included)
// against the schema, with upstream's paths and messages (spec.replicas: Invalid value: "x": spec.replicas in body must be of type integer: "string").
func Validate(s *apiextv1.JSONSchemaProps, obj map[string]any) field.ErrorList {
	if s == nil {
		return nil
	}
	return Compile(s).Validate(obj)
}

// HasPreserveUnknownFields reports whether s sets x-kubernetes-preserve-unknown-fields: true at its root.
func HasPreserveUnknownFields(s *apiextv1.JSONSchemaProps) bool {
	return preserves(s)
}

// SubSchema returns the schema of the field at a simple JSON path such as ".status" or ".spec.replicas" (the form of
// a scale subresource's specReplicasPath), following properties and then additionalProperties; it returns nil when
// the schema does not specify the field.
func SubSchema(s *apiextv1.JSONSchemaProps, path string) *apiextv1.JSONSchemaProps {
	path = strings.TrimPrefix(path, ".")
	if path == "" {
		return s
	}
	for _, name := range strings.Split(path, ".") {
		if s == nil {
			return nil
		}
		if prop, ok := s.Properties[name]; ok {
			s = &prop
		} else if add, ok := additionalSchema(s); ok {
			s = add
		} else {
			return nil
		}
	}
	return s
}
