// Package disruption is the disruption controller ("disruption"): it keeps the
// status of every PodDisruptionBudget, which the pods/eviction subresource
// reads to allow or refuse an eviction. It follows Kubernetes'
// pkg/controller/disruption.
//
// # Core
//
// Reconcile(ctx, pdb, pods, finders, now) is pure apart from the finders it
// is given and returns a Plan:
//
//   - expectedPods and desiredHealthy: an integer minAvailable counts the
//     matching pods and needs minAvailable of them; a percentage minAvailable
//     or any maxUnavailable (int or %, percentages rounded up) takes the sum of
//     the scales of the pods' controllers, found by the finders in upstream's
//     order (ReplicationController, Deployment through its ReplicaSet,
//     ReplicaSet without a Deployment, StatefulSet, then any /scale
//     subresource). Pods without a controller are reported (event
//     UnmanagedPods) and not counted; a controller no finder knows fails the
//     sync ("found no controllers for pod ...").
//   - disruptedPods: entries of status.disruptedPods (written by the eviction
//     subresource) are kept for DeletionTimeout (2 min) while their pod exists
//     and is not yet being deleted; an expired one is dropped with the event
//     NotDeleted on the pod; RecheckAfter is the earliest expiry.
//   - currentHealthy: Ready pods not being deleted and not pending
//     disruption; disruptionsAllowed = max(0, currentHealthy - desiredHealthy),
//     and 0 while expectedPods is 0.
//   - status.observedGeneration is the PDB's generation and the condition
//     DisruptionAllowed is True reason SufficientPods or False reason
//     InsufficientPods; Update says whether the status changed.
//   - when the budget cannot be computed (Err), Status is the fail-safe one:
//     disruptionsAllowed 0 and DisruptionAllowed False reason SyncFailed with
//     the error as message (observedGeneration unchanged), plus the event
//     CalculateExpectedPodCountFailed. A PDB with no matching pods gets the
//     event NoPods "No matching pods found".
//
// StaleDisruptionTarget and ClearDisruptionTarget are the pure half of the
// stale-condition cleanup: a pod with DisruptionTarget=True (not set by the
// kubelet), no deletionTimestamp and not terminal for
// StalePodDisruptionTimeout (2 min) gets the condition set to False.
//
// # Shell
//
// Controller watches PodDisruptionBudgets and Pods (and lists
// ReplicationControllers, ReplicaSets, Deployments and StatefulSets from the
// shared informers) and queues keys only: a PDB key on PDB events and for
// every PDB selecting a changed pod, and a pod key when a pod carries a
// DisruptionTarget=True condition, delayed until it turns stale. sync(key)
// re-reads the PDB from the cache, runs Reconcile and writes the status
// through the status subresource when it changed; when that write fails with
// anything but a conflict it writes the fail-safe status instead, as upstream.
// It requeues the PDB at the earliest disruptedPods expiry (RecheckAfter,
// computed with the injected clock). Other controller kinds' scale is read
// uncached through /scale (client-go's scale client over the RESTMapper);
// that covers every served resource with a scale subresource. Events name
// the source "controllermanager", as upstream.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only
//     registers informers and handlers on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package disruption
