// Package proxy is skiff's kube-proxy: it watches Services and EndpointSlices and programs one nftables table of
// its own (`ip skiff`) so that Service virtual IPs, NodePorts, external IPs and load-balancer ingress IPs reach
// ready pods. It is modelled on upstream's nftables mode (kubernetes/pkg/proxy/nftables).
//
// The core is pure and table-tested without a kernel:
//   - BuildService turns one Service and its EndpointSlices into ServiceRules, the part of the table that is
//     that Service's: its chains, affinity sets and verdict-map elements. Build does it for every Service into a
//     Table, which also records which Service owns each destination (the first by namespace/name keeps one that
//     two Services claim).
//   - Diff writes the knftables operations that turn one Service's old rules into its new ones (add, flush and
//     delete of its chains and sets; element adds and deletes in the two maps), touching nothing else;
//     Table.Set records a Service's new rules and calls Diff; a Service refused a destination (held by another)
//     is built again in the transaction that releases it, so the destination is never in neither map between
//     syncs. Table.WriteAll writes the whole table in one transaction that deletes and recreates it.
//
// The shell (Run) keeps informers, notes which Services changed (a Service or one of its EndpointSlices), and
// syncs: the first sync writes the whole table (repairing whatever an earlier skiff left), later ones only the
// changed Services, coalesced. The whole table is rewritten after a failed transaction, when the periodic check
// (Intact, every Config.CheckInterval) finds it removed or flushed, and every Config.FullSyncInterval (1 h). A
// full rewrite empties the affinity sets.
//
// What the table does:
//   - The nat prerouting and output hooks look up ip daddr . l4proto . dport in the verdict map "service-ips":
//     the ClusterIP:port, NodeIP:nodePort (NodePort and LoadBalancer), externalIP:port, and, for type
//     LoadBalancer, status.loadBalancer.ingress[].ip:port (unless ipMode Proxy). Each goes to a chain of the
//     service port: svc-… picks any usable endpoint with `numgen random mod N vmap`; each endpoint chain ep-…
//     DNATs to the pod.
//   - Usable endpoints: the ready ones; only when none is ready, the terminating endpoints that are still serving.
//     The same rule picks the local ones (endpoint nodeName = Config.NodeName) for the traffic policies Local.
//   - sessionAffinity ClientIP: each endpoint has a set affinity-… (timeout sessionAffinityConfig.clientIP.
//     timeoutSeconds, default 10800 s) that its chain fills with `update @set { ip saddr }`; the service chain
//     first sends a client found in an endpoint's set back to that endpoint, then picks at random.
//   - internalTrafficPolicy Local: the ClusterIP goes to the chain svl-… over the local endpoints only, and is
//     dropped if there is none. externalTrafficPolicy Local: the external destinations go to ext-…, which sends
//     the node's own traffic (fib saddr type local) and pods' traffic (Config.ClusterCIDR) to svc-… and the rest to
//     svl-…; outside traffic is dropped if there is no local endpoint. ClusterIP traffic is unaffected by it.
//   - A destination without any usable endpoint is in the map "no-endpoints", looked up for new connections from
//     the filter input, forward and output hooks: TCP gets a reset and other protocols an ICMP port-unreachable,
//     at once. A traffic policy Local without local endpoints maps there to drop.
//   - Hairpin: an endpoint chain marks a connection from the endpoint itself (a pod reaching itself through its
//     Service), and nat postrouting masquerades marked connections (mark bit 0x4000, as kube-proxy).
//
// Only IPv4 is handled. Caller's duties: run as root with nft >= 1.0.1 on the PATH; call EnsureSysctls
// (net.ipv4.ip_forward=1, and bridge-nf-call-iptables=1 for pod → VIP → pod on the same bridge, which needs the
// br_netfilter module); call Cleanup to remove the table on uninstall (`skiff server --cleanup` or `skiff proxy
// --cleanup`). Rules stay in place when Run returns, so traffic keeps flowing while skiff restarts; the next Run
// rewrites them.
package proxy
