package dns

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// TTL is the time to live of every cluster answer and the SOA's minimum, in seconds (CoreDNS's default).
const TTL = 5

// SchemaVersion is the Kubernetes DNS schema version served as TXT at dns-version.<domain>.
const SchemaVersion = "1.1.0"

// versionTTL is the TTL of the dns-version record, as CoreDNS.
const versionTTL = 28800

// maxChase bounds how many in-zone CNAMEs (ExternalName Services naming cluster Services) Answer follows.
const maxChase = 8

// Source is read-only access to the Namespaces, Services and EndpointSlices of the cluster.
type Source interface {
	// Namespace reports whether the namespace exists.
	Namespace(name string) bool
	// Service returns the Service ns/name, or nil.
	Service(ns, name string) *corev1.Service
	// Slices returns the EndpointSlices of the Service ns/name.
	Slices(ns, name string) []*discoveryv1.EndpointSlice
	// ServicesByIP returns the Services with ip among their ClusterIPs.
	ServicesByIP(ip string) []*corev1.Service
	// SlicesByIP returns the EndpointSlices with an endpoint address ip.
	SlicesByIP(ip string) []*discoveryv1.EndpointSlice
}

// Zone is what Answer serves authoritatively.
type Zone struct {
	// Domain is the cluster domain, e.g. "cluster.local".
	Domain string
	// ServiceCIDRs are the Service IP ranges; their reverse names are answered here (NXDOMAIN when no Service
	// has the IP) instead of being forwarded.
	ServiceCIDRs []netip.Prefix
	// NameserverIPs are the addresses of ns.dns.<domain> (the kube-dns Service), named by the SOA and NS records.
	NameserverIPs []netip.Addr
	// Serial is the SOA serial.
	Serial uint32
}

// Answer answers req for names under z.Domain, for PTR names of Services and headless endpoints, and for every
// reverse name inside z.ServiceCIDRs. It returns nil for other names, so that the caller forwards the query.
func Answer(req *mdns.Msg, z Zone, src Source) *mdns.Msg {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	}
	a := &answerer{req: req, q: req.Question[0], z: z, zone: strings.ToLower(mdns.Fqdn(z.Domain)), src: src}
	name := strings.ToLower(mdns.Fqdn(a.q.Name))
	if strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.") {
		return a.reverse(name)
	}
	if name != a.zone && !strings.HasSuffix(name, "."+a.zone) {
		return nil
	}
	return a.forward(name, a.q.Name, 0)
}

// answerer holds one query while it is answered.
type answerer struct {
	req  *mdns.Msg
	q    mdns.Question
	z    Zone
	zone string // z.Domain, lower case and fully qualified
	src  Source
}

// forward answers name (lower case, inside the zone), with owner as the answers' owner name; depth counts CNAMEs.
func (a *answerer) forward(name, owner string, depth int) *mdns.Msg {
	var labels []string
	if rest := strings.TrimSuffix(name, a.zone); rest != "" {
		labels = mdns.SplitDomainName(rest)
	}
	n := len(labels)
	switch {
	case n == 0:
		return a.apex(owner)
	case n == 1 && labels[0] == "dns-version":
		if !a.wants(mdns.TypeTXT) {
			return a.nodata()
		}
		return a.reply([]mdns.RR{&mdns.TXT{Hdr: hdr(owner, mdns.TypeTXT, versionTTL), Txt: []string{SchemaVersion}}}, nil)
	case n == 2 && labels[0] == "ns" && labels[1] == "dns" && len(a.z.NameserverIPs) > 0:
		return a.reply(a.addrs(owner, a.z.NameserverIPs), nil)
	case n == 1 && labels[0] == "dns" && len(a.z.NameserverIPs) > 0:
		return a.nodata()
	case labels[n-1] == "svc":
		return a.service(labels[:n-1], owner, depth)
	case labels[n-1] == "pod":
		return a.pod(labels[:n-1], owner)
	}
	return a.nxdomain()
}

// apex answers the zone's own name: SOA, NS, nothing else.
func (a *answerer) apex(owner string) *mdns.Msg {
	var rrs, extra []mdns.RR
	if a.wants(mdns.TypeSOA) {
		soa := a.soa(a.zone)
		soa.Header().Name = owner
		rrs = append(rrs, soa)
	}
	if a.wants(mdns.TypeNS) {
		ns := "ns.dns." + a.zone
		rrs = append(rrs, &mdns.NS{Hdr: hdr(owner, mdns.TypeNS, TTL), Ns: ns})
		extra = addrRRs(ns, a.z.NameserverIPs, true, true)
	}
	return a.reply(rrs, extra)
}

// service answers <svc>.<ns>.svc and the names below it; l are the labels before "svc".
func (a *answerer) service(l []string, owner string, depth int) *mdns.Msg {
	switch len(l) {
	case 0:
		return a.nodata()
	case 1:
		if a.src.Namespace(l[0]) {
			return a.nodata()
		}
		return a.nxdomain()
	}
	ns, name := l[len(l)-1], l[len(l)-2]
	svc := a.src.Service(ns, name)
	if svc == nil {
		return a.nxdomain()
	}
	svcName := name + "." + ns + ".svc." + a.zone
	external := svc.Spec.Type == corev1.ServiceTypeExternalName
	switch {
	case len(l) == 2 && external:
		return a.externalName(svc, owner, depth)
	case len(l) == 2:
		return a.serviceRecords(svc, svcName, owner)
	case len(l) == 3 && !external:
		return a.endpointRecords(svc, svcName, owner, l[0])
	case len(l) == 4 && strings.HasPrefix(l[0], "_") && strings.HasPrefix(l[1], "_"):
		return a.portRecords(svc, svcName, owner, l[0][1:], l[1][1:])
	}
	return a.nxdomain()
}

// externalName answers an ExternalName Service with a CNAME, followed when the target is a cluster name.
func (a *answerer) externalName(svc *corev1.Service, owner string, depth int) *mdns.Msg {
	if !a.wants(mdns.TypeCNAME) && !a.wants(mdns.TypeA) && !a.wants(mdns.TypeAAAA) {
		return a.nodata()
	}
	target := strings.ToLower(mdns.Fqdn(svc.Spec.ExternalName))
	cname := &mdns.CNAME{Hdr: hdr(owner, mdns.TypeCNAME, TTL), Target: target}
	if a.q.Qtype == mdns.TypeCNAME || depth >= maxChase || (target != a.zone && !strings.HasSuffix(target, "."+a.zone)) {
		return a.reply([]mdns.RR{cname}, nil)
	}
	m := a.forward(target, target, depth+1)
	m.Answer = append([]mdns.RR{cname}, m.Answer...)
	if len(m.Answer) > 1 {
		m.Ns = nil
	}
	return m
}

// serviceRecords answers <svc>.<ns>.svc: A/AAAA of the ClusterIPs (or ready endpoints) and SRV of every port.
func (a *answerer) serviceRecords(svc *corev1.Service, svcName, owner string) *mdns.Msg {
	if headless(svc) {
		eps := readyEndpoints(svc, a.src.Slices(svc.Namespace, svc.Name))
		if len(eps) == 0 {
			return a.nxdomain() // the spec: a headless Service without ready endpoints has no name
		}
		var rrs []mdns.RR
		if a.wants(mdns.TypeA) || a.wants(mdns.TypeAAAA) {
			ips := make([]netip.Addr, 0, len(eps))
			for _, e := range eps {
				ips = append(ips, e.ip)
			}
			rrs = a.addrs(owner, ips)
		}
		if a.wants(mdns.TypeSRV) {
			srv, extra := endpointSRV(eps, owner, svcName, "", "")
			return a.reply(append(rrs, srv...), extra)
		}
		return a.reply(rrs, nil)
	}
	ips := clusterIPs(svc)
	var rrs, extra []mdns.RR
	if a.wants(mdns.TypeA) || a.wants(mdns.TypeAAAA) {
		rrs = a.addrs(owner, ips)
	}
	if a.wants(mdns.TypeSRV) {
		var srv []mdns.RR
		for _, p := range svc.Spec.Ports {
			srv = append(srv, &mdns.SRV{Hdr: hdr(owner, mdns.TypeSRV, TTL), Port: uint16(p.Port), Target: svcName})
		}
		rrs = append(rrs, weigh(srv)...)
		if len(srv) > 0 {
			extra = addrRRs(svcName, ips, true, true)
		}
	}
	return a.reply(rrs, extra)
}

// endpointRecords answers <hostname>.<svc>.<ns>.svc: the addresses of the ready endpoints with that hostname (or
// dashed IP).
func (a *answerer) endpointRecords(svc *corev1.Service, svcName, owner, host string) *mdns.Msg {
	var ips []netip.Addr
	for _, e := range readyEndpoints(svc, a.src.Slices(svc.Namespace, svc.Name)) {
		if e.host == host {
			ips = append(ips, e.ip)
		}
	}
	if len(ips) == 0 {
		return a.nxdomain()
	}
	return a.reply(a.addrs(owner, ips), nil)
}

// portRecords answers _<port>._<proto>.<svc>.<ns>.svc: SRV of the named port.
func (a *answerer) portRecords(svc *corev1.Service, svcName, owner, port, proto string) *mdns.Msg {
	var srv, extra []mdns.RR
	switch {
	case headless(svc):
		srv, extra = endpointSRV(readyEndpoints(svc, a.src.Slices(svc.Namespace, svc.Name)), owner, svcName, port, proto)
	default:
		target := svcName
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			target = strings.ToLower(mdns.Fqdn(svc.Spec.ExternalName))
		}
		for _, p := range svc.Spec.Ports {
			if p.Name != "" && strings.EqualFold(p.Name, port) && strings.EqualFold(protocol(&p.Protocol), proto) {
				srv = append(srv, &mdns.SRV{Hdr: hdr(owner, mdns.TypeSRV, TTL), Port: uint16(p.Port), Target: target})
			}
		}
		if len(srv) > 0 && target == svcName {
			extra = addrRRs(svcName, clusterIPs(svc), true, true)
		}
	}
	if len(srv) == 0 {
		return a.nxdomain()
	}
	if !a.wants(mdns.TypeSRV) {
		return a.nodata()
	}
	return a.reply(weigh(srv), extra)
}

// endpointSRV makes one SRV per ready endpoint and port of its slice (only the named port port/proto when port is
// set), targets <hostname>.<svc>, and the targets' addresses for the additional section.
func endpointSRV(eps []endpoint, owner, svcName, port, proto string) (srv, extra []mdns.RR) {
	type key struct {
		port   int32
		target string
	}
	seen := map[key]bool{}
	seenIP := map[netip.Addr]bool{}
	for _, e := range eps {
		target := e.host + "." + svcName
		for _, p := range e.ports {
			if p.Port == nil || (port != "" && (p.Name == nil || *p.Name == "" || !strings.EqualFold(*p.Name, port) ||
				!strings.EqualFold(protocol(p.Protocol), proto))) {
				continue
			}
			k := key{*p.Port, target}
			if !seen[k] {
				seen[k] = true
				srv = append(srv, &mdns.SRV{Hdr: hdr(owner, mdns.TypeSRV, TTL), Port: uint16(*p.Port), Target: target})
			}
			if !seenIP[e.ip] {
				seenIP[e.ip] = true
				extra = append(extra, addrRRs(target, []netip.Addr{e.ip}, true, true)...)
			}
		}
	}
	return weigh(srv), extra
}

// weigh sorts SRV records by target and port and spreads the weight 100 evenly across them (priority 0).
func weigh(srv []mdns.RR) []mdns.RR {
	sort.Slice(srv, func(i, j int) bool {
		x, y := srv[i].(*mdns.SRV), srv[j].(*mdns.SRV)
		if x.Target != y.Target {
			return x.Target < y.Target
		}
		return x.Port < y.Port
	})
	for _, rr := range srv {
		rr.(*mdns.SRV).Weight = uint16(100 / len(srv))
	}
	return srv
}

// pod answers <dashed-ip>.<ns>.pod with the IP, as CoreDNS's "pods insecure": the namespace must exist.
func (a *answerer) pod(l []string, owner string) *mdns.Msg {
	switch len(l) {
	case 0:
		return a.nodata()
	case 1:
		if a.src.Namespace(l[0]) {
			return a.nodata()
		}
		return a.nxdomain()
	case 2:
		ip, ok := undash(l[0])
		if !ok || !a.src.Namespace(l[1]) {
			return a.nxdomain()
		}
		return a.reply(a.addrs(owner, []netip.Addr{ip}), nil)
	}
	return a.nxdomain()
}

// reverse answers PTR for Service ClusterIPs and headless endpoints with a hostname; other addresses in a Service
// CIDR are NXDOMAIN, the rest nil (forwarded).
func (a *answerer) reverse(name string) *mdns.Msg {
	ip, ok := parseReverse(name)
	if !ok {
		return nil
	}
	var targets []string
	for _, svc := range a.src.ServicesByIP(ip.String()) {
		for _, cip := range clusterIPs(svc) {
			if cip == ip {
				targets = append(targets, svc.Name+"."+svc.Namespace+".svc."+a.zone)
			}
		}
	}
	for _, s := range a.src.SlicesByIP(ip.String()) {
		svc := a.src.Service(s.Namespace, s.Labels[discoveryv1.LabelServiceName])
		if svc == nil || !headless(svc) {
			continue
		}
		for _, e := range readyEndpoints(svc, []*discoveryv1.EndpointSlice{s}) {
			if e.ip == ip && e.named {
				targets = append(targets, e.host+"."+svc.Name+"."+svc.Namespace+".svc."+a.zone)
			}
		}
	}
	zone := "in-addr.arpa."
	if ip.Is6() {
		zone = "ip6.arpa."
	}
	inCIDR := false
	for _, p := range a.z.ServiceCIDRs {
		if p.Contains(ip) {
			zone, inCIDR = reverseZone(p), true
			break
		}
	}
	if len(targets) == 0 {
		if !inCIDR {
			return nil
		}
		return a.nxdomainIn(zone)
	}
	if !a.wants(mdns.TypePTR) {
		return a.nodataIn(zone)
	}
	sort.Strings(targets)
	var rrs []mdns.RR
	for i, t := range targets {
		if i == 0 || t != targets[i-1] {
			rrs = append(rrs, &mdns.PTR{Hdr: hdr(a.q.Name, mdns.TypePTR, TTL), Ptr: t})
		}
	}
	return a.reply(rrs, nil)
}

// wants reports whether the question asks for records of type t.
func (a *answerer) wants(t uint16) bool { return a.q.Qtype == t || a.q.Qtype == mdns.TypeANY }

// addrs are the A (or AAAA) records of the ips of the family the question asks for.
func (a *answerer) addrs(owner string, ips []netip.Addr) []mdns.RR {
	return addrRRs(owner, ips, a.wants(mdns.TypeA), a.wants(mdns.TypeAAAA))
}

// addrRRs are the A records of the IPv4 ips (when v4) and the AAAA records of the IPv6 ones (when v6), deduplicated.
func addrRRs(owner string, ips []netip.Addr, v4, v6 bool) []mdns.RR {
	var rrs []mdns.RR
	seen := make(map[netip.Addr]bool, len(ips))
	for _, ip := range ips {
		if seen[ip] {
			continue
		}
		seen[ip] = true
		switch {
		case ip.Is4() && v4:
			rrs = append(rrs, &mdns.A{Hdr: hdr(owner, mdns.TypeA, TTL), A: ip.AsSlice()})
		case ip.Is6() && v6:
			rrs = append(rrs, &mdns.AAAA{Hdr: hdr(owner, mdns.TypeAAAA, TTL), AAAA: ip.AsSlice()})
		}
	}
	return rrs
}

// msg is an empty authoritative reply.
func (a *answerer) msg() *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(a.req)
	m.Authoritative = true
	m.RecursionAvailable = true
	return m
}

// reply answers rrs (with extra in the additional section), or NODATA when rrs is empty.
func (a *answerer) reply(rrs, extra []mdns.RR) *mdns.Msg {
	if len(rrs) == 0 {
		return a.nodata()
	}
	m := a.msg()
	m.Answer, m.Extra = rrs, extra
	return m
}

func (a *answerer) nodata() *mdns.Msg   { return a.nodataIn(a.zone) }
func (a *answerer) nxdomain() *mdns.Msg { return a.nxdomainIn(a.zone) }

// nodataIn is NOERROR without answers, with zone's SOA in the authority section.
func (a *answerer) nodataIn(zone string) *mdns.Msg {
	m := a.msg()
	m.Ns = []mdns.RR{a.soa(zone)}
	return m
}

// nxdomainIn is NXDOMAIN with zone's SOA in the authority section.
func (a *answerer) nxdomainIn(zone string) *mdns.Msg {
	m := a.nodataIn(zone)
	m.Rcode = mdns.RcodeNameError
	return m
}

// soa is zone's SOA record, as CoreDNS writes it.
func (a *answerer) soa(zone string) mdns.RR {
	return &mdns.SOA{Hdr: hdr(zone, mdns.TypeSOA, TTL), Ns: "ns.dns." + zone, Mbox: "hostmaster." + zone,
		Serial: a.z.Serial, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: TTL}
}

func hdr(owner string, t uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: owner, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
}

// headless reports whether svc has no ClusterIP (and is not an ExternalName Service).
func headless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// clusterIPs are the Service's ClusterIPs (spec.clusterIPs, else spec.clusterIP).
func clusterIPs(svc *corev1.Service) []netip.Addr {
	src := svc.Spec.ClusterIPs
	if len(src) == 0 && svc.Spec.ClusterIP != "" {
		src = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range src {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// protocol is p's name, TCP when unset.
func protocol(p *corev1.Protocol) string {
	if p == nil || *p == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(*p)
}

// endpoint is one ready address of a Service.
type endpoint struct {
	host  string // the endpoint's hostname, else its dashed IP
	named bool   // host is the endpoint's hostname
	ip    netip.Addr
	ports []discoveryv1.EndpointPort // the ports of the endpoint's slice
}

// readyEndpoints are the ready addresses of slices (all of them when the Service publishes not-ready addresses),
// sorted by host and IP.
func readyEndpoints(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) []endpoint {
	var out []endpoint
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready && !svc.Spec.PublishNotReadyAddresses {
				continue
			}
			for _, addr := range e.Addresses {
				ip, err := netip.ParseAddr(addr)
				if err != nil {
					continue
				}
				ep := endpoint{host: dashed(ip), ip: ip.Unmap(), ports: s.Ports}
				if e.Hostname != nil && *e.Hostname != "" {
					ep.host, ep.named = strings.ToLower(*e.Hostname), true
				}
				out = append(out, ep)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].host != out[j].host {
			return out[i].host < out[j].host
		}
		return out[i].ip.Less(out[j].ip)
	})
	return out
}

// dashed is ip as a DNS label: 10-42-0-7, fd00--7.
func dashed(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.String(), ":", "-")
}

// undash parses a dashed IP label.
func undash(label string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
		return ip, true
	}
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && ip.Is6() && ip.Zone() == "" {
		return ip, true
	}
	return netip.Addr{}, false
}

// parseReverse parses a full d.c.b.a.in-addr.arpa. or nibble ip6.arpa. name.
func parseReverse(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa."); ok {
		l := strings.Split(rest, ".")
		if len(l) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, s := range l {
			v, err := strconv.ParseUint(s, 10, 8)
			if err != nil || (len(s) > 1 && s[0] == '0') {
				return netip.Addr{}, false
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), true
	}
	rest, ok := strings.CutSuffix(name, ".ip6.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	l := strings.Split(rest, ".")
	if len(l) != 32 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i, s := range l {
		v, err := strconv.ParseUint(s, 16, 4)
		if err != nil || len(s) != 1 {
			return netip.Addr{}, false
		}
		n := 31 - i // nibble index, most significant first
		if n%2 == 0 {
			b[n/2] |= byte(v) << 4
		} else {
			b[n/2] |= byte(v)
		}
	}
	return netip.AddrFrom16(b), true
}

// reverseZone is the reverse zone holding p, rounded out to an octet (IPv4) or nibble (IPv6) boundary.
func reverseZone(p netip.Prefix) string {
	p = p.Masked()
	b := p.Addr().AsSlice()
	var l []string
	if p.Addr().Is4() {
		for i := 0; i < p.Bits()/8; i++ {
			l = append([]string{strconv.Itoa(int(b[i]))}, l...)
		}
		return strings.Join(append(l, "in-addr.arpa."), ".")
	}
	for i := 0; i < p.Bits()/4; i++ {
		nib := b[i/2] >> 4
		if i%2 == 1 {
			nib = b[i/2] & 0xf
		}
		l = append([]string{strconv.FormatUint(uint64(nib), 16)}, l...)
	}
	return strings.Join(append(l, "ip6.arpa."), ".")
}
