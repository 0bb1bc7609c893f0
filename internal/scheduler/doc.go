// Package scheduler decides where each pod runs: it watches pods whose spec.nodeName is empty and whose
// spec.schedulerName is its own ("default-scheduler" by default), picks a node, and binds the pod through
// the pods/binding subresource, as the Kubernetes scheduler does and with its wording.
//
// The pipeline for one pod (one "scheduling cycle", ScheduleOne):
//
//  1. Pop the pod from the queue (package queue): highest priority first, then oldest.
//  2. Refresh the snapshot of nodes and their pods from the cache (package cache), which counts bound
//     pods and pods assumed by earlier cycles whose binding is still in flight.
//  3. Filter (package plugins, in Kubernetes' order), round-robin over the nodes, until enough feasible
//     nodes are found (all nodes below 100; Kubernetes' adaptive percentage above).
//  4. Score the feasible nodes with Kubernetes' default weights, pick the best (ties at random).
//  5. Assume the pod on that node in the cache and hand the binding to an API worker; the next cycle starts
//     at once. A failed binding forgets the assumption and requeues the pod with back-off; the informer's
//     report of the bound pod confirms it.
//
// When no node fits, the scheduler tries preemption (evicting lower-priority pods from one node; the pod
// is nominated there, status.nominatedNodeName), records a FailedScheduling event and sets the pod's
// PodScheduled=False condition (reason Unschedulable) with the same message, e.g.
// "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes
// are available: 3 Preemption is not helpful for scheduling.", and hands the pod back to the queue, which
// retries it when a cluster event that could help arrives (see events.go), not by polling.
//
// Contract for the caller:
//
//  1. Build a Config (Client is required) and call New; it registers informer handlers and starts nothing.
//  2. Call Start(ctx): it blocks until ctx ends and returns after every goroutine it started has stopped.
//     Nothing survives a Start: a scheduler that stops leaves pending pods Pending, and a new one picks
//     them up from the API (pods already bound stay bound; a pod is never bound twice, as the API server
//     refuses a second binding with 409).
//  3. With several servers, call RunWithLeaderElection instead: it runs a fresh Scheduler in each term
//     during which it holds the Lease kube-system/kube-scheduler.
//
// The core (Algorithm: Schedule and Preempt) does no I/O, reads no clock and is driven directly by tests;
// the shell (Scheduler) owns informers, the queue's timers (through Config.Clock) and the API workers.
package scheduler
