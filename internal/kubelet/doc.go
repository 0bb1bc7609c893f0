// Package kubelet is skiff's node agent: it registers the Node, renews its Lease, and runs the pods bound to the node
// on containerd through the Container Runtime Interface (k8s.io/cri-api over gRPC), keeping them running, probing and
// restarting them, and reporting their status through the API server (client-go only, so that it runs the same on
// a remote node with `skiff agent`).
//
// Structure:
//   - core.go and status.go are the pure core: plan(desired pod, observed runtime state, back-off, probe results, now)
//     returns the actions (create sandbox, start/kill containers, CrashLoopBackOff waits), and buildStatus derives the
//     PodStatus. They do no I/O and are table-tested.
//   - worker.go is the thin shell: one goroutine per pod observes the runtime, calls plan, carries the actions out
//     (sandbox, volumes, env, images, hooks, graceful termination), runs probes and writes pods/status and events.
//   - ephemeral.go: ephemeral containers (kubectl debug) start once in the current sandbox, never restart, join their
//     target's PID namespace, and are reported in status.ephemeralContainerStatuses.
//   - neigh.go: once a sandbox has its IP, the host's neighbour (ARP) entries for that IP are flushed, since a reused
//     pod IP would otherwise be unreachable from the host (probes, Service traffic) for 5-10 s.
//   - node.go registers the Node (capacity, addresses, nodeInfo, conditions) and renews the Lease every 10 s.
//   - server.go serves the kubelet API on HTTPS for the API server (containerLogs, exec, attach, portForward),
//     authenticating clients by certificates signed by the cluster CA; exec/attach/portForward are proxied to the
//     runtime's streaming server (CRI Exec/Attach/PortForward return its URL).
//   - metrics.go serves Prometheus /metrics and /metrics/resource with the kubelet's metric names; crimetrics.go
//     decorates the CRI connection to count and time runtime operations.
//   - runtime/ starts and supervises skiff's own containerd (or --container-runtime-endpoint uses an existing one).
//
// The Node's spec.podCIDR comes from the server's node-IPAM component (internal/nodeipam); the kubelet waits for it
// and writes the CNI configuration (bridge + host-local on the podCIDR, portmap; containerd adds loopback).
//
// Restarting the kubelet adopts running pods: all state (attempts, restart counts, exit codes, log paths) is read back
// from the runtime through labels and metadata; dead sandboxes of pods no longer bound here and leaked pod cgroups are
// removed.
package kubelet
