// Package replicaset is the ReplicaSet controller: it creates and deletes pods
// so that each ReplicaSet has spec.replicas active pods, and reports what it
// sees in the ReplicaSet's status. It follows Kubernetes'
// pkg/controller/replicaset.
//
// # Core
//
// Reconcile(rs, pods, related, now) is pure and returns a Plan: how many pods
// to create, or which pods to delete in Kubernetes' deletion order
// (unassigned < assigned; Pending < Unknown < Running; not ready < ready;
// lower pod-deletion-cost; doubled-up on a node; ready for less time; more
// restarts; newer), each capped at BurstReplicas. CalculateStatus(rs, pods,
// manageErr, now) is the status: replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas (ready for minReadySeconds) and a
// ReplicaFailure condition (FailedCreate/FailedDelete) while creating or
// deleting fails. UpdateNeeded says whether it must be written.
//
// # Shell
//
// Controller watches ReplicaSets and Pods through a shared informer factory
// and queues ReplicaSet keys (namespace/name) only. It reads and writes its
// owners through the Owners interface only, so that NewFor(cc, Config) runs
// the same shell over another kind converted to ReplicaSets at that boundary
// (upstream's conversion adapter; package replication does so for
// ReplicationControllers, with its own name, event source and owner-reference
// kind); Sync(ctx, key) exposes one sync to those controllers' tests. sync(key):
//
//  1. reads the ReplicaSet from the cache; NotFound means done;
//  2. claims pods: owned pods that still match stay, owned pods that stop
//     matching are released, matching orphans are adopted (ownerReferences
//     patched, after an uncached re-read of the ReplicaSet);
//  3. if its expectations are satisfied and it is not being deleted, carries
//     out the Plan: expectations first, then creations in slow-start batches
//     (1, 2, 4, ...; pods named generateName "<rs>-", owner reference with
//     controller and blockOwnerDeletion) or deletions in parallel, with the
//     events SuccessfulCreate "Created pod: P", FailedCreate "Error creating:
//     E", SuccessfulDelete "Deleted pod: P", FailedDelete "Error deleting: E";
//  4. writes the status through the status subresource when it changed,
//     setting observedGeneration, and requeues after minReadySeconds when
//     pods are ready but not yet available.
//
// Errors follow the controller package's retry contract (an error is a
// rate-limited retry; the minReadySeconds resync is a RequeueAfter). Cached
// objects are never modified.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only
//     registers informers and handlers on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package replicaset
