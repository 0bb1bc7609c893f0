// Package schema applies a CustomResourceDefinition's structural schema (apiextensions.k8s.io/v1 openAPIV3Schema)
// as kube-apiserver does: it checks the schema itself, and validates, prunes and defaults custom resources against it.
//
// It reimplements, in our style, the behaviour of k8s.io/apiextensions-apiserver's pkg/apiserver/schema
// (structural rules, pruning, defaulting, objectmeta, listtype) and pkg/apiserver/validation, and the schema rules
// of pkg/apis/apiextensions/validation, as of v0.37.2 with default feature gates. Only the v1 types package of
// apiextensions-apiserver is imported (its other packages link k8s.io/apiserver); value validation runs on
// k8s.io/kube-openapi/pkg/validation/validate, which upstream uses, so messages match kube-apiserver's 422s.
//
// # Contract
//
//   - Everything is pure and synchronous: no I/O, no clock, no global state. Functions may be called concurrently
//     on different objects; a compiled Schema may be shared between goroutines. Schemas are never modified.
//   - Objects are JSON trees as the API server decodes them: map[string]any, []any, string, bool, int64 for
//     integers, float64 for other numbers, and nil. Other Go values do not panic but are reported as wrong types.
//   - Callers validate a CRD version's schema with ValidateCRDSchema before using it (upstream's create-time rules
//     with the v1 options; CEL rules are only checked statically, and the status-subresource root restrictions and
//     x-kubernetes-validations fieldPath resolution are the caller's). SchemaWarnings gives the create warnings.
//   - For a write the API server calls, in order: Prune (returns the unknown-field paths for fieldValidation
//     Warn/Strict, and reduces the root metadata to ObjectMeta), Default, then Validate (a Schema compiled once per
//     CRD version with Compile has the same methods and saves recompiling the schema on every request). Validate does not check the root ObjectMeta, nor
//     TypeMeta at the root: the API server does; it does check embedded resources' apiVersion, kind and metadata.
//     The status subresource validates obj["status"] with Compile(SubSchema(s, ".status")).ValidateValue under
//     the path "status".
//   - A nil schema means "no schema": Validate returns nil, Prune keeps everything (metadata included), Default
//     does nothing.
package schema
