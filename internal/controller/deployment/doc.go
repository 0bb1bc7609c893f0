// Package deployment is the Deployment controller: it rolls a Deployment's
// pod template out through ReplicaSets, as Kubernetes'
// pkg/controller/deployment does, so that kubectl rollout
// status/history/undo/pause/resume/restart and kubectl set image behave as on
// Kubernetes.
//
// # Core
//
// Reconcile(d, replicaSets, podsByReplicaSet, now) is pure. It replays one
// upstream sync on private copies and returns a Plan with named buckets:
// Create (the new ReplicaSet, named "<deployment>-<pod-template-hash>"),
// Update (ReplicaSets to write back: spec.replicas, annotations,
// minReadySeconds), Delete (history beyond revisionHistoryLimit), Events
// (ScalingReplicaSet "Scaled up replica set web-5d4f8 from 0 to 3", ...),
// Status (nil when unchanged), Revision (the Deployment's revision
// annotation) and RequeueAfter (progress-deadline check). One sync does, in
// upstream's order:
//
//   - a selector that selects everything: a SelectingAll warning, nothing else;
//   - paused, or a scaling event (an active ReplicaSet's desired-replicas
//     annotation differs from spec.replicas): resize only, spreading the
//     change over the active ReplicaSets in proportion to their
//     max-replicas annotation, leftovers to the largest;
//   - RollingUpdate: find or create the new ReplicaSet (oldest one whose
//     template equals the Deployment's, ignoring the hash label; if it is an
//     old one — a rollback — its revision becomes max+1 and the old number
//     goes to revision-history), scale it up within spec.replicas + maxSurge,
//     else scale old ones down (unavailable pods first) while availability
//     stays at spec.replicas - maxUnavailable; surge rounds up, unavailable
//     down, and both zero means unavailable 1;
//   - Recreate: scale old ReplicaSets to zero, wait until their pods are
//     gone, then create the new one at full size;
//   - when complete, delete the oldest scaled-down ReplicaSets beyond
//     revisionHistoryLimit;
//   - status: replicas, updatedReplicas, readyReplicas, availableReplicas,
//     unavailableReplicas, observedGeneration; Available
//     (MinimumReplicasAvailable/MinimumReplicasUnavailable); Progressing
//     (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
//     NewReplicaSetAvailable, DeploymentPaused/Resumed, and False
//     ProgressDeadlineExceeded once lastUpdateTime + progressDeadlineSeconds
//     has passed); ReplicaFailure copied from the ReplicaSets.
//
// # Shell
//
// Controller watches Deployments, ReplicaSets and Pods (pod deletions wake
// Recreate deployments) and queues Deployment keys only. sync(key) reads the
// Deployment from the cache (NotFound: done), claims ReplicaSets (adopts
// matching orphans after an uncached re-read, releases ones that stopped
// matching), calls Reconcile and carries the Plan out in order, stopping at
// the first failure: create, updates, deletes (with a UID precondition),
// status through the status subresource, then the revision annotation as a
// merge patch of the main resource. AlreadyExists on create is either a
// lagging cache (sync again) or a hash collision (status.collisionCount++,
// retry). Any other create error sets Progressing=False
// ReplicaSetCreateError. Errors follow the controller package's retry
// contract (an error is a rate-limited retry; the progress-deadline check is a
// RequeueAfter).
// Cached objects are never modified.
//
// Rollback needs nothing special: kubectl rollout undo patches spec.template
// back to an old ReplicaSet's, and the next sync finds that ReplicaSet as the
// new one and bumps its revision.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only
//     registers informers and handlers on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
//  3. Run the ReplicaSet controller too: this one only sizes ReplicaSets.
package deployment
