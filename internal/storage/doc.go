// Package storage keeps API objects in etcd and serves watches from an
// in-memory cache fed by one etcd watch per resource.
//
// Contract:
//
//  1. Keys are "/registry/<group>/<resource>/<namespace>/<name>" (no namespace
//     segment for cluster-scoped resources); the core group is "core".
//  2. Objects are stored as Kubernetes protobuf with metadata.resourceVersion
//     cleared; on every read resourceVersion is set to the key's etcd
//     mod_revision, so resourceVersion is the etcd revision.
//  3. Writes are optimistic: Create fails with ErrAlreadyExists if the key
//     exists, GuaranteedUpdate retries its tryUpdate function until it commits
//     against the revision it read, or returns the function's error unchanged.
//     GuaranteedUpdateCached may start from a Cacher's copy; errors and no-ops
//     count only once confirmed against the object read from etcd.
//  4. A Cacher serves List-at-revision-0 and Watch for one resource prefix. It
//     never mutates the objects it hands out and callers must not either.
//  5. A watch from a revision older than the etcd compaction or than the
//     cacher's history fails with ErrExpired (HTTP 410 Gone at the API).
//
// The caller owns the etcd client; Store and Cacher do no other I/O.
package storage
