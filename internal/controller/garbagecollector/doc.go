// Package garbagecollector is the owner-reference garbage collector of kube-controller-manager: it deletes
// objects whose owners are gone and carries out the Foreground and Orphan deletion propagation policies.
//
// Graph. Run discovers every resource the server serves with list, watch and delete (core/v1 and
// events.k8s.io/v1 Events excepted, as upstream) and watches each through a metadata informer
// (PartialObjectMetadata; k8s.io/client-go/metadata). Each informer carries an index from owner UID to
// dependents, so the caches together are the owner→dependent graph. The set of resources is read once per
// leadership term; resources that appear later are not watched until the next term.
//
// Queue. Keys are objectKey{resource, namespace, name}. An object is queued when it is added or changes in a way
// that matters (owner references, deletion timestamp, finalizers) and has owner references or a
// garbage-collector finalizer; when an object disappears its dependents are queued; when a dependent changes or
// disappears, its owners that are being deleted are queued.
//
// Sync of one key, reading the object from the cache (absent: done):
//
//   - deletionTimestamp set and finalizer "orphan": remove the ownerReference to this object from every
//     dependent (JSON merge patch of the live object with uid and resourceVersion preconditions), then remove
//     the finalizer.
//   - deletionTimestamp set and finalizer "foregroundDeletion" (upstream's processDeletingDependentsItem): queue
//     every dependent that is not yet being deleted (each one's own sync deletes it or unlinks it, see below);
//     once no dependent whose reference has blockOwnerDeletion=true remains in the cache, remove the finalizer,
//     and the API server deletes the owner.
//   - otherwise, with owner references: if the cache shows every owner present (same UID) and not deleting its
//     dependents, nothing happens. Else the object is read live and each owner is classified by a live GET
//     (never the cache alone) as solid, dangling (NotFound or another UID; a namespaced owner of a
//     cluster-scoped object also counts, with an OwnerRefInvalidNamespace event) or waiting (it has the
//     foregroundDeletion finalizer). Then, as upstream's attemptToDeleteItem:
//     with a solid owner, references to dangling and waiting owners are removed from the object;
//     with no solid owner but a waiting one, and dependents of its own in the cache, the object is deleted with
//     propagationPolicy Foreground, so the waiting owner also waits for them. If one of those dependents is itself
//     waiting for its dependents, the object may close a cycle of blocking references (a → c → b → a, each
//     deleted in the foreground, would wait forever): first every one of its owner references is patched to
//     blockOwnerDeletion=false, so its owners stop waiting for it, then it is deleted in the foreground. Like
//     upstream, this detection reads the cache and has false positives (which only make a reference
//     non-blocking);
//     otherwise (only dangling owners, or a waiting owner and no dependents) it is deleted with Background (or
//     Orphan/Foreground when the object itself carries that finalizer). Every patch and delete carries uid and
//     resourceVersion preconditions (the delete after the unblocking patch uses the patched resourceVersion).
//
// The decision is the pure function decide, table-tested; sync_test.go drives sync against a fake metadata client
// and integration_test.go runs upstream's dependency-cycle conformance scenario against the real server.
//
// Errors (API failures, conflicts, owner kinds the RESTMapper does not know) are retried with back-off.
// Owner UIDs found absent by a live GET are remembered (UIDs are never reused), which saves a GET per
// dependent of a deleted owner.
package garbagecollector
