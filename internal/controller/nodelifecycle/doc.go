// Package nodelifecycle is the node lifecycle controller: it notices nodes whose
// kubelet stopped reporting, taints nodes by their conditions, and evicts the
// pods that do not tolerate a node's NoExecute taints. It follows Kubernetes'
// pkg/controller/nodelifecycle (monitorNodeHealth, TaintNodesByCondition,
// taint-based eviction) and pkg/controller/tainteviction.
//
// # Core
//
// Reconcile(Input{Node, Lease, Pods, Last, Now}, Options) is pure and returns a
// Result:
//
//   - Health. A node is alive while its Lease (kube-node-lease/<node>) renewTime
//     or its Ready condition's lastHeartbeatTime keeps changing; Observation
//     records when (on the controller's clock) a change was last seen, so the
//     kubelet's clock never matters. NodeMonitorGracePeriod (default 40 s;
//     NodeStartupGracePeriod, 60 s from creation, for a node that never posted
//     a Ready condition) after the last change, Ready, MemoryPressure,
//     DiskPressure and PIDPressure become Unknown: reason NodeStatusUnknown,
//     "Kubelet stopped posting node status." (NodeStatusNeverUpdated, "Kubelet
//     never posted node status." for conditions that never existed). The
//     controller never sets Ready back to True: the kubelet does.
//   - Taints. NoSchedule: not-ready (Ready=False), unreachable (Ready=Unknown),
//     memory-pressure, disk-pressure, pid-pressure, network-unavailable (their
//     conditions True) and unschedulable (spec.unschedulable). NoExecute:
//     not-ready for Ready=False, unreachable for Ready=Unknown, none for
//     Ready=True (left alone while the node has no Ready condition). Added
//     taints get timeAdded; taints of other owners are never touched.
//   - Pods of a node whose Ready is Unknown get their Ready condition False
//     (upstream's MarkPodsNotReady), so Services stop sending them traffic.
//   - Eviction. A pod (not already being deleted) that does not tolerate every
//     NoExecute taint of its node is evicted at once; one that tolerates them
//     with tolerationSeconds is evicted when the shortest of those runs out,
//     counted from the earliest timeAdded of the node's NoExecute taints (or the
//     pod's creation, if later). The API server gives every pod 300 s
//     tolerations of not-ready and unreachable.
//   - RequeueAfter is the end of the grace period or the next toleration to run
//     out, whichever is first.
//
// # Shell
//
// Controller watches Nodes, Leases in kube-node-lease and Pods (indexed by
// spec.nodeName) and queues node names only. Pod events queue a node only while
// it is not Ready or has a NoExecute taint. sync(node):
//
//  1. reads the node, its Lease and its pods from the caches; NotFound forgets
//     the node;
//  2. writes the new conditions through nodes/status (event NodeNotReady "Node N
//     status is now: NodeNotReady" when a Ready node goes Unknown), then the new
//     taints through the node, each with the cached resourceVersion;
//  3. sets pods' Ready condition False through pods/status (event NodeNotReady
//     "Node is not ready" on each pod);
//  4. evicts: event TaintManagerEviction "Marking for deletion Pod ns/name",
//     condition DisruptionTarget (reason DeletionByTaintManager) patched in,
//     then a delete with the pod's UID as precondition. Deleted pods are
//     skipped until the informer shows them being deleted.
//
// Observations live in memory: after a restart every node gets a full grace
// period again, as upstream.
//
// # Not done (upstream has it)
//
// Zone-aware eviction rate limiting (--node-eviction-rate, the disruption
// modes that stop evictions when a whole zone or cluster is down) and the
// "Cancelling deletion" event. Pods of nodes that no longer exist are not this
// controller's: the pod GC (internal/controller/podgc) deletes them, as
// upstream.
//
// # Caller's duties
//
//  1. Build it with New(cc), or NewWith(Options)(cc) to change the grace periods;
//     it only registers informers, handlers and a pod index on cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package nodelifecycle
