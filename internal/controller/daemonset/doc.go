// Package daemonset is the DaemonSet controller: it keeps one pod of every
// DaemonSet on each node the DaemonSet's template fits, rolls those pods to a
// new template, records templates as ControllerRevisions and reports what it
// sees in the DaemonSet's status. It follows Kubernetes' pkg/controller/daemon.
//
// # Core
//
// ShouldRun(node, ds) is upstream's NodeShouldRunDaemonPod: the template's
// nodeName, nodeSelector and required node affinity must match the node, and
// its tolerations, plus the ones every daemon pod gets (not-ready and
// unreachable NoExecute; disk-, memory-, pid-pressure and unschedulable
// NoSchedule; network-unavailable NoSchedule with hostNetwork), must tolerate
// the node's NoSchedule and NoExecute taints to run there and its NoExecute
// taints to keep running there.
//
// Reconcile(ds, nodes, pods, hash, now) is pure and returns a Plan: the nodes
// that need a pod and the pods to delete (failed or succeeded pods, extra
// pods on a node, pods on nodes that no longer fit, unscheduled pods pinned to
// vanished nodes). When that is empty and the strategy is RollingUpdate it is
// the rolling update instead: without maxSurge, old pods are deleted while at
// most maxUnavailable nodes (rounded up from desiredNumberScheduled; 1 when
// both are 0) lack an available pod; with maxSurge, new pods are created next
// to at most maxSurge available old ones and an old pod is deleted once the
// new one on its node is available. OnDelete never replaces a running pod.
// CalculateStatus gives desiredNumberScheduled, currentNumberScheduled,
// numberMisscheduled, numberReady, numberAvailable (ready for
// minReadySeconds), numberUnavailable and updatedNumberScheduled (pods whose
// controller-revision-hash, or pod-template-generation from the
// deprecated.daemonset.template.generation annotation, is current).
//
// Patch, Match, NewRevision, SplitHistory and HistoryToDelete are the
// ControllerRevision half: a revision "<ds>-<hash>" holds the strategic-merge
// patch that replaces spec.template (what `kubectl rollout undo` applies),
// the template's labels plus controller-revision-hash, and the DaemonSet's
// annotations; revision numbers grow, and a template that comes back (a
// rollback) has its old revision renumbered to the newest.
//
// # Shell
//
// Controller watches DaemonSets, Pods, Nodes and ControllerRevisions through a
// shared informer factory and queues DaemonSet keys (namespace/name). A node
// added or deleted queues every DaemonSet; a node whose labels, taints or
// unschedulable flag change queues those for which ShouldRun changed.
// sync(key):
//
//  1. reads the DaemonSet from the cache; NotFound means done; an empty
//     selector is a SelectingAll warning and nothing else; a DaemonSet being
//     deleted is left to the garbage collector;
//  2. claims pods and ControllerRevisions (adopting matching orphans,
//     releasing owned ones that stopped matching);
//  3. finds or creates the current ControllerRevision (on a name clash with a
//     different template it bumps status.collisionCount and retries);
//  4. if its expectations are satisfied, carries out the Plan: pods are
//     created from the template with generateName "<ds>-", the
//     controller-revision-hash and pod-template-generation labels, the daemon
//     tolerations and a required node affinity `matchFields metadata.name In
//     [node]` replacing any required node affinity (the default scheduler
//     binds them); events SuccessfulCreate "Created pod: P", FailedCreate
//     "Error creating: E", SuccessfulDelete "Deleted pod: P", FailedDelete
//     "Error deleting: E", FailedDaemonPod for failed pods; then deletes old
//     revisions beyond revisionHistoryLimit that no pod runs;
//  5. writes the status through the status subresource when it changed,
//     setting observedGeneration, and requeues after minReadySeconds while
//     ready pods are not yet available.
//
// Errors follow the controller package's retry contract. Cached objects are
// never modified.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only
//     registers informers and handlers on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package daemonset
