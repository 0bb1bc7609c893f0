// Package statefulset is the StatefulSet controller: it gives each StatefulSet
// pods with stable names and storage, created, scaled and updated in ordinal
// order, and reports what it sees in the StatefulSet's status. It follows
// Kubernetes' pkg/controller/statefulset (v1.32 feature defaults: pod-index
// label, spec.ordinals, PVC retention policy on; maxUnavailable is alpha there
// and ignored here).
//
// # Core
//
// ResolveRevisions(set, revisions) decides the update revision (an existing
// ControllerRevision whose data equals the template's, renumbered to the newest
// if needed, or a new one named <set>-<hash> with the controller-revision-hash
// label, the hash covering status.collisionCount) and the current revision
// (status.currentRevision, else the update revision). Revision data is the
// strategic-merge patch {"spec":{"template":{...,"$patch":"replace"}}} that
// `kubectl rollout undo` applies. HistoryToDelete picks revisions beyond
// revisionHistoryLimit that no pod uses.
//
// Reconcile(Input) is pure and returns a Plan: claims to create or re-own,
// pods to create and delete, and the status. Pods are <set>-<ordinal> for
// ordinals [spec.ordinals.start, start+replicas), with hostname = name,
// subdomain = spec.serviceName, the labels statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index and controller-revision-hash, and a volume per
// volumeClaimTemplate bound to the claim <template>-<set>-<ordinal>. In ordinal
// order it creates missing pods (from the current revision below the rolling
// update partition, else from the update revision) and deletes failed or
// succeeded ones (recreated on the next sync); then deletes pods beyond the
// replica count, highest ordinal first; then, for RollingUpdate, deletes the
// highest-ordinal pod not at the update revision at or above the partition,
// once every pod above it is healthy (Running, available for minReadySeconds,
// not terminating). With podManagementPolicy OrderedReady every step waits for
// the previous pods to be healthy and does one thing per sync; Parallel does
// all creations and scale-down deletions at once (updates stay one by one).
// OnDelete never deletes for an update. Once every pod runs the update revision
// and is ready, it becomes the current revision. persistentVolumeClaimRetentionPolicy
// is applied with owner references, as upstream: whenDeleted Delete makes the
// StatefulSet an owner of its claims, whenScaled Delete makes a scaled-down pod
// the owner, so the garbage collector removes the claim with it.
//
// # Shell
//
// Controller watches StatefulSets, Pods, ControllerRevisions and
// PersistentVolumeClaims through the shared informer factory and queues
// StatefulSet keys (namespace/name) only. sync(key) reads the set from the
// cache (NotFound is done), claims pods (selector match and name <set>-<n>)
// and revisions as the ReplicaSet controller does, settles revisions through
// the API (bumping status.collisionCount on a name collision), runs Reconcile
// and carries out the Plan: claims, then pod creations in parallel (AlreadyExists
// ignored: names are stable), then deletions with a UID precondition so that a
// stale cache never deletes a newer pod of the same name. It records
// SuccessfulCreate "create Pod P in StatefulSet S successful", SuccessfulDelete
// "delete Pod P in StatefulSet S successful", FailedCreate/FailedDelete "...
// failed error: E" and SuccessfulCreate "create Claim C Pod P in StatefulSet S
// success". It writes the status through the status subresource when it
// changed, trims revision history, and requeues when a ready pod becomes
// available. Nothing binds claims: with volumeClaimTemplates a real kubelet
// cannot start the pods (simulated nodes can).
//
// # Caller's duties
//
//  1. Build it with New(cc); New only registers informers and handlers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package statefulset
