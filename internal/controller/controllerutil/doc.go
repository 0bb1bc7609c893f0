// Package controllerutil holds the pieces that the workload controllers
// (ReplicaSet, Deployment, and later Job, DaemonSet, StatefulSet) share, with
// the semantics of Kubernetes' pkg/controller helpers.
//
// # Contract
//
//   - Pod predicates (IsPodActive, IsPodReady, IsPodAvailable) and
//     SortPodsForDeletion are pure: they read their arguments, never modify
//     them, and take the current time as a parameter.
//   - ClassifyOwned is the pure half of ControllerRefManager: given a
//     controller, its selector and candidate objects it says which objects the
//     controller owns, which orphans it should adopt and which owned objects it
//     should release. The caller does the I/O: before adopting anything it
//     must re-read the controller uncached and check it still has the same UID
//     and no deletionTimestamp (CanAdopt), then send AdoptPatch / ReleasePatch
//     as strategic-merge patches. Both patches carry the object's UID, so the
//     server rejects them if the object was replaced meanwhile.
//   - Expectations remembers, per controller key, how many creations and which
//     deletions a controller has asked for and not yet seen in its informer.
//     A controller must not act on a key whose expectations are unsatisfied,
//     except after the TTL (5 minutes) passes, which covers lost events. It is
//     safe for concurrent use.
//   - SlowStartBatch calls fn count times in growing batches (1, 2, 4, ...)
//     and stops after the first batch with an error, as upstream does so that
//     a quota error does not turn into thousands of failing requests.
//   - The event-handler helpers only queue keys and record observations:
//     ObjectOf unwraps delete tombstones, EnqueueHandler queues a controller's
//     own objects, ResolveControllerRef finds an owner in the cache (same kind
//     and UID), and PodOwnerHandler is the pod handler of a controller that
//     owns pods through their controllerRef, with expectations.
package controllerutil
