package dns

import (
	"net/netip"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// TTL is the time to live of every answer, in seconds.
const TTL = 5

// Source is read-only access to the Services and EndpointSlices of the cluster.
type Source interface {
	// Service returns the Service ns/name, or nil.
	Service(ns, name string) *corev1.Service
	// Slices returns the EndpointSlices of the Service ns/name.
	Slices(ns, name string) []*discoveryv1.EndpointSlice
}

// Answer answers req for names under domain (e.g. "cluster.local"). It returns nil when the name is outside the
// domain, so that the caller forwards the query.
func Answer(req *mdns.Msg, domain string, src Source) *mdns.Msg {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(mdns.Fqdn(q.Name))
	suffix := "." + strings.ToLower(mdns.Fqdn(domain))
	if !strings.HasSuffix(name, suffix) && name != suffix[1:] {
		return nil
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	labels := mdns.SplitDomainName(strings.TrimSuffix(name, suffix))
	// <svc>.<ns>.svc or _<port>._<proto>.<svc>.<ns>.svc
	var port, proto string
	if len(labels) == 5 && strings.HasPrefix(labels[0], "_") && strings.HasPrefix(labels[1], "_") {
		port, proto = labels[0][1:], labels[1][1:]
		labels = labels[2:]
	}
	if len(labels) != 3 || labels[2] != "svc" {
		m.SetRcode(req, mdns.RcodeNameError)
		m.Authoritative = true
		return m
	}
	svc := src.Service(labels[1], labels[0])
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		m.SetRcode(req, mdns.RcodeNameError)
		m.Authoritative = true
		return m
	}
	svcName := labels[0] + "." + labels[1] + ".svc" + suffix
	hdr := func(t uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: q.Name, Rrtype: t, Class: mdns.ClassINET, Ttl: TTL}
	}
	switch {
	case port != "":
		found := false
		for _, p := range svc.Spec.Ports {
			pp := string(p.Protocol)
			if pp == "" {
				pp = "TCP"
			}
			if p.Name == "" || !strings.EqualFold(p.Name, port) || !strings.EqualFold(pp, proto) {
				continue
			}
			found = true
			if q.Qtype == mdns.TypeSRV || q.Qtype == mdns.TypeANY {
				m.Answer = append(m.Answer, &mdns.SRV{Hdr: hdr(mdns.TypeSRV), Priority: 0, Weight: 100,
					Port: uint16(p.Port), Target: svcName})
			}
		}
		if !found {
			m.SetRcode(req, mdns.RcodeNameError)
			m.Authoritative = true
		}
	case q.Qtype == mdns.TypeA || q.Qtype == mdns.TypeANY:
		for _, ip := range addresses(svc, src.Slices(labels[1], labels[0])) {
			m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(mdns.TypeA), A: ip.AsSlice()})
		}
	}
	return m
}

// addresses are the ClusterIP, or for a headless Service the ready IPv4 endpoint addresses, sorted.
func addresses(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) []netip.Addr {
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil && ip.Is4() {
			return []netip.Addr{ip}
		}
		return nil
	}
	seen := map[netip.Addr]bool{}
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready && !svc.Spec.PublishNotReadyAddresses {
				continue
			}
			for _, a := range e.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
					seen[ip] = true
				}
			}
		}
	}
	out := make([]netip.Addr, 0, len(seen))
	for ip := range seen {
		out = append(out, ip)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}
