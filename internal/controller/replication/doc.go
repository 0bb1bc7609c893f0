// Package replication is the ReplicationController controller: it keeps spec.replicas pods for each core/v1
// ReplicationController and reports them in its status. As upstream's pkg/controller/replication, it IS the
// ReplicaSet controller (package replicaset) run over ReplicationControllers through a conversion adapter, so
// the behaviour is the same and only the names differ.
//
// # Core
//
// ToReplicaSet and ToReplicationController are pure conversions between a ReplicationController and the
// ReplicaSet the shared core sees: metadata as is; the map selector becomes (and comes back from) matchLabels,
// an empty one a nil selector, which selects nothing; replicas, minReadySeconds, the template and the status
// (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration, conditions) carry over
// field by field. The decisions (how many pods to create, which to delete, the status and the ReplicaFailure
// condition with reasons FailedCreate and FailedDelete) are replicaset.Reconcile and replicaset.CalculateStatus.
//
// # Shell
//
// New builds replicaset's shell (replicaset.NewFor) with an Owners adapter over the ReplicationController
// informer and client: pods are claimed by the RC's selector (adoption and release), created with
// generateName "<rc>-" and an owner reference of kind ReplicationController (apiVersion v1, controller and
// blockOwnerDeletion true), in slow-start batches of at most replicaset.BurstReplicas per sync, guarded by
// expectations; the status is written through the replicationcontrollers/status subresource; the events
// SuccessfulCreate, FailedCreate, SuccessfulDelete and FailedDelete (worded as the ReplicaSet controller's)
// are recorded on the ReplicationController by the component "replication-controller". Cached objects are
// never modified: conversions of cached RCs share their maps and are only read.
//
// Defaulting (internal/defaults) gives an RC without a selector its template's labels, as kube-apiserver
// does. The garbage collector deletes or orphans an RC's pods through their owner references, like any owner.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only registers informers and handlers
//     on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call Run(ctx, workers); it blocks until
//     ctx ends.
package replication
