// Package dns is skiff's cluster DNS server (github.com/miekg/dns).
//
// Answer is the pure core: given a query and a Source of Services and EndpointSlices it answers names under the
// cluster domain:
//   - A <svc>.<ns>.svc.<domain>: the ClusterIP; for a headless Service the ready endpoint IPs.
//   - SRV _<port>._<proto>.<svc>.<ns>.svc.<domain>: one record per named port (target the Service's name).
//   - anything else under the domain: NXDOMAIN (NODATA for other types on a known Service).
//
// Names outside the domain are forwarded to the upstream servers (the host's resolv.conf) by the shell (Run).
//
// Run serves UDP and TCP on Config.Addr and keeps a `kube-dns` Service in kube-system, with the cluster DNS IP as
// its ClusterIP and an EndpointSlice (managed by skiff-dns) pointing at Config.Addr, so the service proxy maps
// 10.43.0.10:53 to this server. Caller's duties: the address must be this node's (reachable from pods) and the
// proxy must run on the node. Not done yet: AAAA, PTR, pod hostname/subdomain records, ndots/search handling
// (the kubelet writes resolv.conf).
package dns
