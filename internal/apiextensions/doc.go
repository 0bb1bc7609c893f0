// Package apiextensions is the strategy of apiextensions.k8s.io/v1
// CustomResourceDefinitions: their defaults, the normalisations of a create or
// update, their validation, and the status that kube-apiextensions-server's
// naming and establishing controllers compute, reimplemented from
// k8s.io/apiextensions-apiserver v0.37 (pkg/apis/apiextensions/v1/defaults.go,
// validation/validation.go, registry/customresourcedefinition/strategy.go,
// controller/status, controller/establish, apihelpers) for the v1 types only.
//
// Everything here is pure: no I/O, no clock (callers pass now), no goroutines,
// and inputs are changed only where a function says so.
//
// # Contract
//
// The API server calls, for a write through the main resource:
//
//  1. PrepareForCreate(crd) (status reset, generation 1, storage version
//     recorded in status.storedVersions) or PrepareForUpdate(crd, old)
//     (status kept from old, storage version added to storedVersions);
//     bumping metadata.generation on a spec change is the API server's job;
//  2. SetDefaults(crd);
//  3. ValidateCreate(crd) or ValidateUpdate(crd, old); a non-empty list is a
//     422 Invalid response.
//
// For a write to the status subresource it calls PrepareForStatusUpdate(crd,
// old) and ValidateStatusUpdate(crd, old). A controller then writes
// NamingStatus(crd, otherCRDs, now) through the status subresource; skiff
// serves a CRD as soon as its names are accepted, so Established turns True in
// the same write (upstream's establishing controller does it a moment later).
// A DELETE of a CRD, as upstream's registry does it, adds CleanupFinalizer and
// sets deletionTimestamp; the API server then removes the instances and the
// finalizer, recording progress with the Terminating* conditions.
//
// # Field paths
//
// Upstream validates the internal form of a CRD, into which the v1 form is
// converted first: per-version schema, subresources, additionalPrinterColumns
// and selectableFields that are identical in every version are moved to the
// top level, versions[0].name is copied to spec.version, and
// conversion.webhook.{clientConfig,conversionReviewVersions} become
// conversion.{webhookClientConfig,conversionReviewVersions}. Its messages
// therefore name those internal paths (e.g.
// spec.validation.openAPIV3Schema.type or spec.subresources.scale.specReplicasPath
// for a single-version CRD), and bad values such as the versions list are
// printed as the internal types marshal; this package reports the same.
// upstream_diff_test.go (build tag upstreamdiff; it links upstream's
// validation, which skiff itself must not) checks every table case against
// upstream: go test -tags upstreamdiff -run Upstream ./internal/apiextensions/
//
// # Known differences from upstream
//
//   - Schemas are checked by internal/apiextensions/schema
//     (ValidateCRDSchema); CEL rules (x-kubernetes-validations) are not
//     compiled, so there are no CEL cost limits.
//   - A selectable field's jsonPath is resolved through properties and
//     additionalProperties as upstream's ValidFieldPath does, without its
//     bracket notation (rejected anyway for selectable fields).
//   - Unrecognized-format and list-type-set warnings are not produced.
package apiextensions
