// Package proxy is skiff's kube-proxy: it watches Services and EndpointSlices and programs one nftables table of
// its own (`ip skiff`) so that Service virtual IPs and NodePorts reach ready pods.
//
// The core is pure: Build turns (services, endpoint slices, node addresses) into a Ruleset, a plain description of
// the table's contents, and is table-tested without a kernel. The shell (Run) keeps informers, rebuilds the
// Ruleset after every change (coalesced) and writes it with knftables in one transaction that deletes and
// recreates the table, so the kernel never sees a half-written table. This first version rewrites the whole
// table on each sync; it is not incremental.
//
// What the table does:
//   - ClusterIP:port and NodeIP:nodePort are looked up in the verdict map "service-ips"
//     (ip daddr . l4proto . dport) from the nat prerouting and output hooks, and go to a per-service-port chain
//     that picks an endpoint with `numgen random mod N vmap`; each endpoint chain DNATs to the pod.
//   - Endpoints: the ready ones; only when none is ready, the terminating endpoints that are still serving.
//   - A service port without usable endpoints is in the map "no-endpoints", looked up from the filter input,
//     forward and output hooks: TCP gets a reset and other protocols an ICMP port-unreachable, at once.
//   - Hairpin: a connection that was DNATed back to its own source (a pod reaching itself through its Service) is
//     masqueraded in postrouting.
//
// Caller's duties: run as root with nft >= 1.0.1 on the PATH; net.ipv4.ip_forward=1 and br_netfilter
// (bridge-nf-call-iptables=1) for pod → VIP → pod on the same bridge; call Cleanup to remove the table on
// uninstall (`skiff proxy --cleanup`). Rules stay in place when Run returns, so traffic keeps flowing while skiff
// restarts; the next Run rewrites them.
package proxy
