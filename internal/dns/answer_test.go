package dns

import (
	"net/netip"
	"sort"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// testSource is a Source on in-memory indexers holding objs (Namespaces, Services, EndpointSlices).
func testSource(t testing.TB, objs ...any) Source {
	t.Helper()
	ns := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, serviceIndexers)
	slices := cache.NewIndexer(cache.MetaNamespaceKeyFunc, sliceIndexers)
	for _, o := range objs {
		var err error
		switch o.(type) {
		case *corev1.Namespace:
			err = ns.Add(o)
		case *corev1.Service:
			err = svcs.Add(o)
		case *discoveryv1.EndpointSlice:
			err = slices.Add(o)
		default:
			t.Fatalf("unexpected object %T", o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return newIndexSource(ns, svcs, slices)
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func service(ns, name string, spec corev1.ServiceSpec) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func slice(ns, svc, name string, typ discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: typ, Endpoints: eps, Ports: ports,
	}
}

func ep(ip, hostname string, ready bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	if hostname != "" {
		e.Hostname = ptr.To(hostname)
	}
	return e
}

func port(name string, n int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(n), Protocol: ptr.To(corev1.ProtocolTCP)}
}

// fixture is a cluster with every kind of Service Answer knows.
func fixture(t testing.TB) Source {
	pg := []discoveryv1.EndpointPort{port("pg", 5432)}
	return testSource(t,
		namespace("default"), namespace("empty"),
		service("default", "web", corev1.ServiceSpec{ClusterIP: "10.43.0.20", ClusterIPs: []string{"10.43.0.20"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 81}}}),
		service("default", "web6", corev1.ServiceSpec{ClusterIP: "fd00:43::20", ClusterIPs: []string{"fd00:43::20"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}),
		service("default", "dual", corev1.ServiceSpec{ClusterIP: "10.43.0.30", ClusterIPs: []string{"10.43.0.30", "fd00:43::30"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}),
		service("default", "db", corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}),
		slice("default", "db", "db-v4", discoveryv1.AddressTypeIPv4, pg,
			ep("10.42.0.7", "db-0", true), ep("10.42.0.6", "", true), ep("10.42.0.9", "db-2", false)),
		slice("default", "db", "db-v6", discoveryv1.AddressTypeIPv6, pg, ep("fd00:42::7", "db-0", true)),
		service("default", "empty", corev1.ServiceSpec{ClusterIP: "None"}),
		slice("default", "empty", "empty-1", discoveryv1.AddressTypeIPv4, pg, ep("10.42.0.30", "e-0", false)),
		service("default", "ext", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "www.example.com",
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}),
		service("default", "alias", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "web.default.svc.cluster.local"}),
	)
}

var testZone = Zone{
	Domain:        "cluster.local",
	ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.43.0.0/16"), netip.MustParsePrefix("fd00:43::/108")},
	NameserverIPs: []netip.Addr{netip.MustParseAddr("10.43.0.10")},
	Serial:        1700000000,
}

const (
	soaZone = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 5"
	soaRev  = "43.10.in-addr.arpa. 5 IN SOA ns.dns.43.10.in-addr.arpa. hostmaster.43.10.in-addr.arpa. 1700000000 7200 1800 86400 5"
	svcSfx  = ".default.svc.cluster.local."
)

func TestAnswer(t *testing.T) {
	rev := func(ip string) string { r, _ := mdns.ReverseAddr(ip); return r }
	tests := []struct {
		rule   string
		name   string
		qtype  uint16
		rcode  int
		answer []string // full records, "owner ttl IN type data"
		extra  []string
		ns     []string // authority section; NXDOMAIN and NODATA carry the zone's SOA
		fwd    bool     // nil answer: forwarded
	}{
		// 1. A/AAAA by the Service's IP family.
		{rule: "A ClusterIP", name: "web" + svcSfx, qtype: mdns.TypeA, answer: []string{"web" + svcSfx + " 5 IN A 10.43.0.20"}},
		{rule: "case-insensitive", name: "WEB.Default.svc.Cluster.Local.", qtype: mdns.TypeA, answer: []string{"WEB.Default.svc.Cluster.Local. 5 IN A 10.43.0.20"}},
		{rule: "AAAA on IPv4 Service is NODATA", name: "web" + svcSfx, qtype: mdns.TypeAAAA, ns: []string{soaZone}},
		{rule: "AAAA IPv6 Service", name: "web6" + svcSfx, qtype: mdns.TypeAAAA, answer: []string{"web6" + svcSfx + " 5 IN AAAA fd00:43::20"}},
		{rule: "A on IPv6 Service is NODATA", name: "web6" + svcSfx, qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "dual-stack A", name: "dual" + svcSfx, qtype: mdns.TypeA, answer: []string{"dual" + svcSfx + " 5 IN A 10.43.0.30"}},
		{rule: "dual-stack AAAA", name: "dual" + svcSfx, qtype: mdns.TypeAAAA, answer: []string{"dual" + svcSfx + " 5 IN AAAA fd00:43::30"}},
		{rule: "TXT on a Service is NODATA", name: "web" + svcSfx, qtype: mdns.TypeTXT, ns: []string{soaZone}},
		{rule: "headless A: ready IPv4 endpoints", name: "db" + svcSfx, qtype: mdns.TypeA,
			answer: []string{"db" + svcSfx + " 5 IN A 10.42.0.6", "db" + svcSfx + " 5 IN A 10.42.0.7"}},
		{rule: "headless AAAA: ready IPv6 endpoints", name: "db" + svcSfx, qtype: mdns.TypeAAAA, answer: []string{"db" + svcSfx + " 5 IN AAAA fd00:42::7"}},
		{rule: "headless without ready endpoints is NXDOMAIN", name: "empty" + svcSfx, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		// 2. Endpoint hostnames.
		{rule: "hostname A", name: "db-0.db" + svcSfx, qtype: mdns.TypeA, answer: []string{"db-0.db" + svcSfx + " 5 IN A 10.42.0.7"}},
		{rule: "hostname AAAA", name: "db-0.db" + svcSfx, qtype: mdns.TypeAAAA, answer: []string{"db-0.db" + svcSfx + " 5 IN AAAA fd00:42::7"}},
		{rule: "dashed IP of an endpoint without hostname", name: "10-42-0-6.db" + svcSfx, qtype: mdns.TypeA, answer: []string{"10-42-0-6.db" + svcSfx + " 5 IN A 10.42.0.6"}},
		{rule: "not-ready hostname is NXDOMAIN", name: "db-2.db" + svcSfx, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "unknown hostname is NXDOMAIN", name: "nope.db" + svcSfx, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		// 3. SRV.
		{rule: "SRV named port of a ClusterIP Service", name: "_http._tcp.web" + svcSfx, qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.web" + svcSfx + " 5 IN SRV 0 100 80 web" + svcSfx},
			extra:  []string{"web" + svcSfx + " 5 IN A 10.43.0.20"}},
		{rule: "SRV named port of a headless Service", name: "_pg._tcp.db" + svcSfx, qtype: mdns.TypeSRV,
			answer: []string{"_pg._tcp.db" + svcSfx + " 5 IN SRV 0 50 5432 10-42-0-6.db" + svcSfx, "_pg._tcp.db" + svcSfx + " 5 IN SRV 0 50 5432 db-0.db" + svcSfx},
			extra: []string{"10-42-0-6.db" + svcSfx + " 5 IN A 10.42.0.6", "db-0.db" + svcSfx + " 5 IN A 10.42.0.7",
				"db-0.db" + svcSfx + " 5 IN AAAA fd00:42::7"}},
		{rule: "SRV without port and proto: every port", name: "web" + svcSfx, qtype: mdns.TypeSRV,
			answer: []string{"web" + svcSfx + " 5 IN SRV 0 50 80 web" + svcSfx, "web" + svcSfx + " 5 IN SRV 0 50 81 web" + svcSfx},
			extra:  []string{"web" + svcSfx + " 5 IN A 10.43.0.20"}},
		{rule: "SRV dual-stack extra", name: "_http._tcp.dual" + svcSfx, qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.dual" + svcSfx + " 5 IN SRV 0 100 80 dual" + svcSfx},
			extra:  []string{"dual" + svcSfx + " 5 IN A 10.43.0.30", "dual" + svcSfx + " 5 IN AAAA fd00:43::30"}},
		{rule: "SRV wrong protocol is NXDOMAIN", name: "_http._udp.web" + svcSfx, qtype: mdns.TypeSRV, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "SRV unknown port is NXDOMAIN", name: "_https._tcp.web" + svcSfx, qtype: mdns.TypeSRV, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "A on an SRV name is NODATA", name: "_http._tcp.web" + svcSfx, qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "SRV ExternalName", name: "_http._tcp.ext" + svcSfx, qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.ext" + svcSfx + " 5 IN SRV 0 100 80 www.example.com."}},
		// 4. PTR.
		{rule: "PTR ClusterIP", name: rev("10.43.0.20"), qtype: mdns.TypePTR, answer: []string{"20.0.43.10.in-addr.arpa. 5 IN PTR web" + svcSfx}},
		{rule: "PTR IPv6 ClusterIP", name: rev("fd00:43::20"), qtype: mdns.TypePTR, answer: []string{rev("fd00:43::20") + " 5 IN PTR web6" + svcSfx}},
		{rule: "PTR headless endpoint with hostname", name: rev("10.42.0.7"), qtype: mdns.TypePTR, answer: []string{"7.0.42.10.in-addr.arpa. 5 IN PTR db-0.db" + svcSfx}},
		{rule: "PTR endpoint without hostname is forwarded", name: rev("10.42.0.6"), qtype: mdns.TypePTR, fwd: true},
		{rule: "PTR unknown IP in the service CIDR is NXDOMAIN", name: rev("10.43.9.9"), qtype: mdns.TypePTR, rcode: mdns.RcodeNameError, ns: []string{soaRev}},
		{rule: "PTR outside the service CIDR is forwarded", name: rev("192.168.1.1"), qtype: mdns.TypePTR, fwd: true},
		{rule: "A on a Service's reverse name is NODATA", name: rev("10.43.0.20"), qtype: mdns.TypeA, ns: []string{soaRev}},
		{rule: "partial reverse name is forwarded", name: "43.10.in-addr.arpa.", qtype: mdns.TypePTR, fwd: true},
		// 5. Pods.
		{rule: "pod A", name: "10-42-0-5.default.pod.cluster.local.", qtype: mdns.TypeA, answer: []string{"10-42-0-5.default.pod.cluster.local. 5 IN A 10.42.0.5"}},
		{rule: "pod AAAA", name: "fd00--5.default.pod.cluster.local.", qtype: mdns.TypeAAAA, answer: []string{"fd00--5.default.pod.cluster.local. 5 IN AAAA fd00::5"}},
		{rule: "pod AAAA of an IPv4 name is NODATA", name: "10-42-0-5.default.pod.cluster.local.", qtype: mdns.TypeAAAA, ns: []string{soaZone}},
		{rule: "pod in a missing namespace", name: "10-42-0-5.nons.pod.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "pod name not an IP", name: "10-42-0.default.pod.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "pod.<zone> exists", name: "pod.cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "<ns>.pod.<zone> exists", name: "default.pod.cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		// 6. ExternalName.
		{rule: "ExternalName CNAME", name: "ext" + svcSfx, qtype: mdns.TypeCNAME, answer: []string{"ext" + svcSfx + " 5 IN CNAME www.example.com."}},
		{rule: "ExternalName A: CNAME (the shell resolves the target)", name: "ext" + svcSfx, qtype: mdns.TypeA, answer: []string{"ext" + svcSfx + " 5 IN CNAME www.example.com."}},
		{rule: "ExternalName to a cluster Service is followed", name: "alias" + svcSfx, qtype: mdns.TypeA,
			answer: []string{"alias" + svcSfx + " 5 IN CNAME web" + svcSfx, "web" + svcSfx + " 5 IN A 10.43.0.20"}},
		{rule: "ExternalName has no subdomains", name: "x.ext" + svcSfx, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		// 7. Zone structure.
		{rule: "svc.<zone> exists", name: "svc.cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "<ns>.svc.<zone> exists", name: "default.svc.cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "namespace without Services exists", name: "empty.svc.cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "missing namespace", name: "nons.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "Service in a missing namespace", name: "web.nons.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "missing Service", name: "nope" + svcSfx, qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "other name in the zone", name: "foo.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, ns: []string{soaZone}},
		{rule: "apex SOA", name: "cluster.local.", qtype: mdns.TypeSOA, answer: []string{soaZone}},
		{rule: "apex NS", name: "cluster.local.", qtype: mdns.TypeNS, answer: []string{"cluster.local. 5 IN NS ns.dns.cluster.local."},
			extra: []string{"ns.dns.cluster.local. 5 IN A 10.43.0.10"}},
		{rule: "apex A is NODATA", name: "cluster.local.", qtype: mdns.TypeA, ns: []string{soaZone}},
		{rule: "nameserver A", name: "ns.dns.cluster.local.", qtype: mdns.TypeA, answer: []string{"ns.dns.cluster.local. 5 IN A 10.43.0.10"}},
		{rule: "schema version", name: "dns-version.cluster.local.", qtype: mdns.TypeTXT, answer: []string{`dns-version.cluster.local. 28800 IN TXT "1.1.0"`}},
		// 8. Outside the zone.
		{rule: "other domain", name: "example.com.", qtype: mdns.TypeA, fwd: true},
		{rule: "suffix is not the zone", name: "notcluster.local.", qtype: mdns.TypeA, fwd: true},
	}
	src := fixture(t)
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			req := new(mdns.Msg)
			req.SetQuestion(tt.name, tt.qtype)
			m := Answer(req, testZone, src)
			if tt.fwd {
				if m != nil {
					t.Fatalf("answered %v, want forwarding", m)
				}
				return
			}
			if m == nil {
				t.Fatal("forwarded, want an answer")
			}
			if m.Rcode != tt.rcode || !m.Authoritative || m.Id != req.Id || !m.Response {
				t.Fatalf("rcode %s authoritative %v, want %s authoritative", mdns.RcodeToString[m.Rcode], m.Authoritative, mdns.RcodeToString[tt.rcode])
			}
			for _, s := range []struct {
				section   string
				got       []mdns.RR
				want      []string
				keepOrder bool
			}{{"answer", m.Answer, tt.answer, strings.Contains(tt.rule, "CNAME") || strings.Contains(tt.rule, "followed")}, {"extra", m.Extra, tt.extra, false}, {"authority", m.Ns, tt.ns, false}} {
				if got := rrStrings(s.got, !s.keepOrder); strings.Join(got, "\n") != strings.Join(sorted(s.want, !s.keepOrder), "\n") {
					t.Errorf("%s:\n%s\nwant:\n%s", s.section, strings.Join(got, "\n"), strings.Join(sorted(s.want, !s.keepOrder), "\n"))
				}
			}
		})
	}
}

func TestAnswerFormatError(t *testing.T) {
	req := new(mdns.Msg)
	req.Question = []mdns.Question{{Name: "a.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}, {Name: "b.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
	if m := Answer(req, testZone, fixture(t)); m == nil || m.Rcode != mdns.RcodeFormatError {
		t.Fatalf("two questions: %v, want FORMERR", m)
	}
}

func TestReverse(t *testing.T) {
	for _, ip := range []string{"10.43.0.1", "0.0.0.0", "255.255.255.255", "fd00:43::20", "2001:db8::1"} {
		name, _ := mdns.ReverseAddr(ip)
		got, ok := parseReverse(name)
		if !ok || got != netip.MustParseAddr(ip) {
			t.Errorf("parseReverse(%q) = %v %v, want %s", name, got, ok, ip)
		}
	}
	for _, name := range []string{"1.0.43.in-addr.arpa.", "256.0.43.10.in-addr.arpa.", "01.0.43.10.in-addr.arpa.", "x.ip6.arpa."} {
		if ip, ok := parseReverse(name); ok {
			t.Errorf("parseReverse(%q) = %v, want no address", name, ip)
		}
	}
	for p, want := range map[string]string{"10.43.0.0/16": "43.10.in-addr.arpa.", "10.40.0.0/13": "10.in-addr.arpa.",
		"fd00:43::/108": strings.Repeat("0.", 19) + "3.4.0.0.0.0.d.f.ip6.arpa.", "0.0.0.0/0": "in-addr.arpa."} {
		if got := reverseZone(netip.MustParsePrefix(p)); got != want {
			t.Errorf("reverseZone(%s) = %q, want %q", p, got, want)
		}
	}
}

// rrStrings are the records as "owner ttl class type data", sorted when sortThem.
func rrStrings(rrs []mdns.RR, sortThem bool) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return sorted(out, sortThem)
}

func sorted(s []string, sortThem bool) []string {
	s = append([]string(nil), s...)
	if sortThem {
		sort.Strings(s)
	}
	return s
}
