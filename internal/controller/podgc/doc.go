// Package podgc is the pod garbage collector ("pod-garbage-collector"): it
// force-deletes pods that nothing else will ever finish. It follows
// Kubernetes' pkg/controller/podgc.
//
// # Core
//
// Reconcile(Input{Pods, Nodes, Missing, Now}, Options) is pure and returns a
// Plan:
//
//   - Terminated: when more than TerminatedPodThreshold pods (default 12500,
//     --terminated-pod-gc-threshold; 0 or less turns this off) are in phase
//     Succeeded or Failed, the excess is deleted, evicted pods (Failed,
//     reason Evicted) first, then oldest first, names breaking ties.
//   - Terminating on an out-of-service node: a pod being deleted whose node
//     is not Ready and has the node.kubernetes.io/out-of-service taint.
//   - Orphaned: a pod bound to a node the cache does not have. The node
//     enters quarantine (Missing records when it was first seen missing);
//     after QuarantineTime (40 s) its pods are handed to the shell, which
//     deletes them only if an uncached GET of the node says NotFound. These
//     pods get the condition DisruptionTarget=True, reason DeletionByPodGC,
//     "PodGC: node no longer exists".
//   - Unscheduled terminating: a pod being deleted that is bound to no node.
//
// A pod is planned at most once (in the order above). RequeueAfter is
// CheckPeriod (20 s) or the end of the earliest quarantine, if sooner.
//
// # Shell
//
// Controller lists pods and nodes from the shared informers on one key every
// RequeueAfter (upstream polls; events queue nothing, so a busy cluster costs
// one scan per period). For each planned pod it does what upstream's
// markFailedAndDeletePod does: a pod not yet Succeeded or Failed first gets
// phase Failed (and the planned condition) through a strategic-merge patch of
// pods/status, then is deleted with grace period 0 and its UID as
// precondition. NotFound and Conflict (gone, or replaced by a pod of the same
// name) count as done. Deletions run up to 16 at a time.
//
// # Caller's duties
//
//  1. Build it with New(cc) (DefaultOptions) or NewWith(opts)(cc); it only
//     requests the Pod and Node informers of cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends (workers is ignored: one
//     scan runs at a time).
package podgc
