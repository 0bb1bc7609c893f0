// Package dns is skiff's cluster DNS server (github.com/miekg/dns), following the Kubernetes DNS specification
// (https://github.com/kubernetes/dns/blob/master/docs/specification.md) as CoreDNS's kubernetes plugin does.
//
// Answer is the pure core: given a query, a Zone and a Source of Namespaces, Services and EndpointSlices it answers,
// authoritatively, with TTL 5 and the zone's SOA in the authority section of every NXDOMAIN and NODATA:
//   - A/AAAA <svc>.<ns>.svc.<domain>: the ClusterIPs of the asked family (NODATA for the other family); for a
//     headless Service the ready endpoint addresses of that family (NXDOMAIN when it has no ready endpoint).
//   - A/AAAA <hostname>.<svc>.<ns>.svc.<domain>: the ready endpoints with that hostname; endpoints without one are
//     named by their dashed IP (10-42-0-7, fd00--7).
//   - SRV _<port>._<proto>.<svc>.<ns>.svc.<domain>: the named port, target <svc>.<ns>.svc.<domain>; for a headless
//     Service one record per ready endpoint, target <hostname or dashed IP>.<svc>.<ns>.svc.<domain>, with the
//     targets' A/AAAA in the additional section. SRV <svc>.<ns>.svc.<domain>: the same for every port.
//   - PTR of ClusterIPs and of ready headless endpoints with a hostname (in-addr.arpa and ip6.arpa); other
//     reverse names inside Zone.ServiceCIDRs are NXDOMAIN, never forwarded.
//   - A/AAAA <a-b-c-d>.<ns>.pod.<domain>: the dashed IP, when the namespace exists (CoreDNS "pods insecure").
//   - ExternalName Services: CNAME to spec.externalName, followed inside the cluster domain.
//   - svc.<domain>, pod.<domain> and <ns>.svc|pod.<domain> of an existing namespace are empty names (NODATA);
//     a missing namespace, Service, port or endpoint is NXDOMAIN. The apex has SOA and NS (ns.dns.<domain>, the
//     kube-dns Service), dns-version.<domain> the TXT schema version.
//
// Answer returns nil for other names. Handler forwards those to the upstream servers (the host's resolv.conf) in
// turn, over UDP with a TCP retry when the answer is truncated (over TCP when the client came over TCP); SERVFAIL
// when none answers. It also resolves the out-of-cluster target of an ExternalName CNAME, and truncates answers to
// the client's UDP size (512 bytes, or its EDNS0 size) so that it retries over TCP.
//
// Run serves UDP and TCP on Config.Addr (Serve) and keeps a `kube-dns` Service in kube-system, with the cluster DNS
// IP as its ClusterIP and an EndpointSlice (managed by skiff-dns) pointing at Config.Addr, so the service proxy maps
// 10.43.0.10:53 to this server. Caller's duties: the address must be this node's (reachable from pods) and the
// proxy must run on the node. Not served: wildcard queries and zone transfers (both optional in the specification);
// the kubelet writes the pods' resolv.conf (search list and ndots:5).
package dns
