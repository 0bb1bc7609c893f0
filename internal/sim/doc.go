// Package sim runs hollow nodes: Node objects that a real control plane schedules
// pods onto, driven only through the Kubernetes API (client-go), so that skiff or
// any Kubernetes-compatible cluster can be measured at a scale that has no
// machines behind it.
//
// Every simulated node is clearly marked: its name is PREFIX+"node-NNNNN", it
// carries the label skiff.dev/simulated=true and reports kubeletVersion
// v1.32.4-skiff-sim. A Sim does for its nodes what a kubelet would do, and no more:
//
//  1. registers the Node (capacity cpu 32, memory 256Gi, pods 110) with a Ready
//     condition, and a Lease in kube-node-lease;
//  2. renews each Lease every LeaseInterval (10s) and posts the Ready heartbeat
//     every StatusInterval (5m, the kubelet's nodeStatusReportFrequency: with
//     leases, node status is posted only on change or after 5 minutes); nodes
//     are spread evenly over the interval in slots, so the write rate is flat
//     (N/10 + N/300 per second) instead of bursty;
//  3. moves pods bound to its nodes through Pending → Running → Ready by writing
//     pods/status, as decided by the pure function NextPod;
//  4. finishes pod deletion: a pod with a deletionTimestamp is deleted with grace 0.
//
// One shared pod informer (no field selector) feeds one work queue; pods bound
// to other nodes are ignored. Heartbeats use their own client and rate limiter,
// so a backlog of pod work cannot starve leases and the other way round; leases
// and status heartbeats have separate queues and workers for the same reason.
// The queues deduplicate, so a server that cannot keep up sees at most one
// pending heartbeat of each kind per node, never a growing pile.
//
// The caller's duties: build a Config (Client is required), call New, then Start,
// which blocks until ctx ends. Ready is closed once every node is registered and
// the pod informer has synced. With Config.Cleanup the nodes and leases are
// deleted when Start returns.
//
// Time comes from Config.Clock (internal/clock), so tests drive it by hand.
package sim
