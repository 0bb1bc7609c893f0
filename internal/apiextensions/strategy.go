package apiextensions

import (
	"bytes"
	"encoding/json"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// SetDefaults applies apiextensions.k8s.io/v1's defaults and the normalisations of upstream's storage round trip.
//
// It sets names.singular (lower-case kind), names.listKind (kind+"List"),
// conversion (strategy None), a webhook service's port (443) and, when empty,
// status.storedVersions (the storage version); and, as the conversion to the
// internal form and back does, it drops `default: null` and `example: null`
// from every schema and re-encodes defaults, examples and enum values
// compactly with sorted keys. It is idempotent.
func SetDefaults(crd *apiextv1.CustomResourceDefinition) {
	spec := &crd.Spec
	if spec.Names.Singular == "" {
		spec.Names.Singular = strings.ToLower(spec.Names.Kind)
	}
	if spec.Names.ListKind == "" && spec.Names.Kind != "" {
		spec.Names.ListKind = spec.Names.Kind + "List"
	}
	if spec.Conversion == nil {
		spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.NoneConverter}
	}
	if w := spec.Conversion.Webhook; w != nil && w.ClientConfig != nil && w.ClientConfig.Service != nil && w.ClientConfig.Service.Port == nil {
		port := int32(443)
		w.ClientConfig.Service.Port = &port
	}
	if len(crd.Status.StoredVersions) == 0 {
		if v, err := StorageVersion(crd); err == nil {
			crd.Status.StoredVersions = append(crd.Status.StoredVersions, v)
		}
	}
	for i := range spec.Versions {
		// Look before writing: a stored CRD is already normalised, and the API server may hand SetDefaults an object
		// whose spec is shared with its watch cache (a status write keeps the stored spec), which must not be written.
		if s := spec.Versions[i].Schema; s != nil && walkSchema(s.OpenAPIV3Schema, false, needsNormalising) {
			walkSchema(s.OpenAPIV3Schema, true, normaliseJSON)
		}
	}
}

// needsNormalising reports whether normaliseJSON would change s itself (not its children).
func needsNormalising(s *apiextv1.JSONSchemaProps) bool {
	if s.Default != nil && rawNeedsNormalising(s.Default) || s.Example != nil && rawNeedsNormalising(s.Example) {
		return true
	}
	for i := range s.Enum {
		if rawNeedsNormalising(&s.Enum[i]) {
			return true
		}
	}
	return false
}

// rawNeedsNormalising reports whether normaliseRaw would change j (null, or not in compact sorted form).
func rawNeedsNormalising(j *apiextv1.JSON) bool {
	var v any
	if len(j.Raw) == 0 {
		return true
	}
	if err := utiljson.Unmarshal(j.Raw, &v); err != nil {
		return false
	}
	if v == nil {
		return true
	}
	raw, err := json.Marshal(v)
	return err == nil && !bytes.Equal(raw, j.Raw)
}

// normaliseJSON re-encodes defaults, examples and enum values as the internal form's round trip does (compact, keys
// sorted) and drops a null default or example, which the internal form cannot hold.
func normaliseJSON(s *apiextv1.JSONSchemaProps) bool {
	if s.Default != nil && !normaliseRaw(s.Default) {
		s.Default = nil
	}
	if s.Example != nil && !normaliseRaw(s.Example) {
		s.Example = nil
	}
	for i := range s.Enum {
		normaliseRaw(&s.Enum[i])
	}
	return false
}

// normaliseRaw re-encodes j in place and reports whether it holds a value other than null.
func normaliseRaw(j *apiextv1.JSON) bool {
	var v any
	if len(j.Raw) == 0 {
		return false
	}
	if err := utiljson.Unmarshal(j.Raw, &v); err != nil {
		return true
	}
	if v == nil {
		j.Raw = nil
		return false
	}
	if raw, err := json.Marshal(v); err == nil && !bytes.Equal(raw, j.Raw) {
		j.Raw = raw
	}
	return true
}

// PrepareForCreate resets a new CRD's status and generation and records its storage version, as upstream's strategy.
func PrepareForCreate(crd *apiextv1.CustomResourceDefinition) {
	crd.Status = apiextv1.CustomResourceDefinitionStatus{}
	crd.Generation = 1
	addStoredVersion(crd)
}

// PrepareForUpdate keeps the stored status on a main-resource update and adds the storage version to storedVersions.
func PrepareForUpdate(crd, old *apiextv1.CustomResourceDefinition) {
	crd.Status = *old.Status.DeepCopy()
	addStoredVersion(crd)
}

// PrepareForStatusUpdate keeps the stored spec on a status-subresource update, as upstream's status strategy.
func PrepareForStatusUpdate(crd, old *apiextv1.CustomResourceDefinition) {
	crd.Spec = *old.Spec.DeepCopy()
}

// addStoredVersion appends the storage version to status.storedVersions unless it is there.
func addStoredVersion(crd *apiextv1.CustomResourceDefinition) {
	v, err := StorageVersion(crd)
	if err != nil {
		return
	}
	for _, s := range crd.Status.StoredVersions {
		if s == v {
			return
		}
	}
	crd.Status.StoredVersions = append(crd.Status.StoredVersions, v)
}

// walkSchema calls fn on s and every schema nested in it, depth first, until fn returns true; it reports whether fn did.
// Schemas held by value in maps are written back only when write is set, so read-only walks never write.
func walkSchema(s *apiextv1.JSONSchemaProps, write bool, fn func(*apiextv1.JSONSchemaProps) bool) bool {
	if s == nil {
		return false
	}
	if fn(s) {
		return true
	}
	if s.Items != nil {
		if walkSchema(s.Items.Schema, write, fn) {
			return true
		}
		for i := range s.Items.JSONSchemas {
			if walkSchema(&s.Items.JSONSchemas[i], write, fn) {
				return true
			}
		}
	}
	for _, list := range [][]apiextv1.JSONSchemaProps{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range list {
			if walkSchema(&list[i], write, fn) {
				return true
			}
		}
	}
	if walkSchema(s.Not, write, fn) {
		return true
	}
	for _, m := range []map[string]apiextv1.JSONSchemaProps{s.Properties, s.PatternProperties, s.Definitions} {
		for k, p := range m {
			found := walkSchema(&p, write, fn)
			if write {
				m[k] = p
			}
			if found {
				return true
			}
		}
	}
	if s.AdditionalProperties != nil && walkSchema(s.AdditionalProperties.Schema, write, fn) {
		return true
	}
	if s.AdditionalItems != nil && walkSchema(s.AdditionalItems.Schema, write, fn) {
		return true
	}
	for _, d := range s.Dependencies {
		if walkSchema(d.Schema, write, fn) {
			return true
		}
	}
	return false
}
