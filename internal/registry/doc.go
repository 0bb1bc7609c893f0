// Package registry lists the API resources skiff serves and what is special
// about each: its names and scope for discovery, which subresources it has,
// which fields its field selectors understand, and how a create or update
// through the main resource or a subresource changes the stored object
// (the "strategy" of kube-apiserver's registry). A resource may be another's
// storage in another form (StoredAs): events.k8s.io/v1 events are stored as
// core/v1 events and converted with Kubernetes' field mapping.
//
// Everything here is pure: no I/O, no clock (callers pass now). The API server
// owns storage, defaulting and validation and calls these hooks in order:
// PrepareForCreate, defaults, validation on create; PrepareForUpdate,
// defaults, validation on update.
package registry
