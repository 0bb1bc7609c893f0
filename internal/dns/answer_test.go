package dns

import (
	"log/slog"
	"net"
	"sort"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeSource implements Source on maps keyed "ns/name".
type fakeSource struct {
	svcs   map[string]*corev1.Service
	slices map[string][]*discoveryv1.EndpointSlice
}

var _ Source = fakeSource{}

func (f fakeSource) Service(ns, name string) *corev1.Service { return f.svcs[ns+"/"+name] }
func (f fakeSource) Slices(ns, name string) []*discoveryv1.EndpointSlice {
	return f.slices[ns+"/"+name]
}

func testSource() fakeSource {
	yes, no := true, false
	return fakeSource{
		svcs: map[string]*corev1.Service{
			"default/web": {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{
				ClusterIP: "10.43.0.20", Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 81}}}},
			"default/db": {ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"}, Spec: corev1.ServiceSpec{
				ClusterIP: "None", Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}}},
		},
		slices: map[string][]*discoveryv1.EndpointSlice{
			"default/db": {{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.42.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
				{Addresses: []string{"10.42.0.6"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
				{Addresses: []string{"10.42.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: &no}},
			}}},
		},
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // the answers' data fields, sorted
		fwd   bool     // nil answer: forward
	}{
		{name: "web.default.svc.cluster.local.", qtype: mdns.TypeA, want: []string{"10.43.0.20"}},
		{name: "WEB.Default.svc.cluster.local.", qtype: mdns.TypeA, want: []string{"10.43.0.20"}},
		{name: "db.default.svc.cluster.local.", qtype: mdns.TypeA, want: []string{"10.42.0.6", "10.42.0.7"}},
		{name: "web.default.svc.cluster.local.", qtype: mdns.TypeAAAA}, // NODATA
		{name: "_http._tcp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV, want: []string{"0 100 80 web.default.svc.cluster.local."}},
		{name: "_pg._tcp.db.default.svc.cluster.local.", qtype: mdns.TypeSRV, want: []string{"0 100 5432 db.default.svc.cluster.local."}},
		{name: "_http._udp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV, rcode: mdns.RcodeNameError},
		{name: "nope.default.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "web.other.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "default.svc.cluster.local.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError},
		{name: "example.com.", qtype: mdns.TypeA, fwd: true},
		{name: "notcluster.local.", qtype: mdns.TypeA, fwd: true},
	}
	src := testSource()
	for _, tt := range tests {
		t.Run(tt.name+"/"+mdns.TypeToString[tt.qtype], func(t *testing.T) {
			req := new(mdns.Msg)
			req.SetQuestion(tt.name, tt.qtype)
			m := Answer(req, "cluster.local", src)
			if tt.fwd {
				if m != nil {
					t.Fatalf("answered %v, want forwarding", m)
				}
				return
			}
			if m == nil {
				t.Fatal("forwarded, want an answer")
			}
			if m.Rcode != tt.rcode || !m.Authoritative {
				t.Fatalf("rcode %s authoritative %v, want %s", mdns.RcodeToString[m.Rcode], m.Authoritative, mdns.RcodeToString[tt.rcode])
			}
			var got []string
			for _, rr := range m.Answer {
				got = append(got, strings.TrimPrefix(rr.String(), rr.Header().String()))
				if rr.Header().Name != tt.name {
					t.Errorf("answer owner %q, want %q", rr.Header().Name, tt.name)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("answers %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHandlerForwards runs the handler on loopback with a fake upstream, also on loopback.
func TestHandlerForwards(t *testing.T) {
	upstream := serve(t, mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(req)
		m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
			A: net.ParseIP("192.0.2.99")})
		_ = w.WriteMsg(m)
	}))
	addr := serve(t, Handler("cluster.local", testSource(), []string{upstream}, slog.Default()))
	for _, q := range []struct{ name, want string }{
		{"example.com.", "192.0.2.99"},
		{"web.default.svc.cluster.local.", "10.43.0.20"},
	} {
		req := new(mdns.Msg)
		req.SetQuestion(q.name, mdns.TypeA)
		resp, _, err := new(mdns.Client).Exchange(req, addr)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Answer) != 1 || resp.Answer[0].(*mdns.A).A.String() != q.want {
			t.Fatalf("%s: %v, want %s", q.name, resp.Answer, q.want)
		}
	}
}

// serve runs h on a UDP port of 127.0.0.1 until the test ends and returns its address.
func serve(t *testing.T, h mdns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s := &mdns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = s.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = s.Shutdown() })
	return pc.LocalAddr().String()
}
