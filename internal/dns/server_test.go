package dns

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// listen binds UDP and TCP on the same loopback port.
func listen(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			return pc, ln
		}
		ln.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

// start runs Serve with h on a loopback port until the test ends and returns the address.
func start(t testing.TB, h mdns.Handler) string {
	t.Helper()
	pc, ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, pc, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// exchange asks addr over net ("udp" or "tcp"), retrying while the server is still starting.
func exchange(t testing.TB, network, addr, name string, qtype uint16, edns uint16) *mdns.Msg {
	t.Helper()
	req := new(mdns.Msg)
	req.SetQuestion(name, qtype)
	if edns > 0 {
		req.SetEdns0(edns, false)
	}
	c := &mdns.Client{Net: network}
	var err error
	for range 50 {
		var resp *mdns.Msg
		if resp, _, err = c.Exchange(req, addr); err == nil {
			return resp
		}
	}
	t.Fatalf("%s %s: %v", network, name, err)
	return nil
}

// bigSource has a headless Service whose answer does not fit in 512 bytes.
func bigSource(t testing.TB, n int) Source {
	var eps []discoveryv1.Endpoint
	for i := range n {
		eps = append(eps, ep(fmt.Sprintf("10.42.%d.%d", i/250, i%250+1), "", true))
	}
	return testSource(t, namespace("default"),
		service("default", "big", corev1.ServiceSpec{ClusterIP: "None"}),
		slice("default", "big", "big-1", discoveryv1.AddressTypeIPv4, nil, eps...),
		service("default", "web", corev1.ServiceSpec{ClusterIP: "10.43.0.20"}),
		service("default", "ext", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "www.example.com"}))
}

// TestServe answers over UDP and TCP, truncating UDP answers to what the client can take.
func TestServe(t *testing.T) {
	addr := start(t, Handler(testZone, bigSource(t, 100), nil, slog.Default()))
	for _, network := range []string{"udp", "tcp"} {
		resp := exchange(t, network, addr, "web.default.svc.cluster.local.", mdns.TypeA, 0)
		if len(resp.Answer) != 1 || resp.Answer[0].(*mdns.A).A.String() != "10.43.0.20" || !resp.Authoritative {
			t.Fatalf("%s: %v, want 10.43.0.20", network, resp)
		}
	}
	udp := exchange(t, "udp", addr, "big.default.svc.cluster.local.", mdns.TypeA, 0)
	udp.Compress = true // as it came over the wire
	if !udp.Truncated || len(udp.Answer) >= 100 || udp.Len() > mdns.MinMsgSize {
		t.Fatalf("UDP: truncated %v, %d answers, %d bytes; want TC and at most 512 bytes", udp.Truncated, len(udp.Answer), udp.Len())
	}
	edns := exchange(t, "udp", addr, "big.default.svc.cluster.local.", mdns.TypeA, 4096)
	if edns.Truncated || len(edns.Answer) != 100 || edns.IsEdns0() == nil {
		t.Fatalf("UDP with EDNS0 4096: truncated %v, %d answers, OPT %v; want all 100 and an OPT", edns.Truncated, len(edns.Answer), edns.IsEdns0())
	}
	tcp := exchange(t, "tcp", addr, "big.default.svc.cluster.local.", mdns.TypeA, 0)
	if tcp.Truncated || len(tcp.Answer) != 100 {
		t.Fatalf("TCP: truncated %v, %d answers, want all 100", tcp.Truncated, len(tcp.Answer))
	}
}

// fakeUpstream answers every name with 192.0.2.99, except that over UDP big.example.com. is truncated.
func fakeUpstream(t testing.TB) string {
	return start(t, mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp && q.Name == "big.example.com." {
			m.Truncated = true
		} else if q.Qtype == mdns.TypeA {
			m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(q.Name, mdns.TypeA, 60), A: net.ParseIP("192.0.2.99")})
		}
		_ = w.WriteMsg(m)
	}))
}

func TestHandlerForwards(t *testing.T) {
	addr := start(t, Handler(testZone, bigSource(t, 1), []string{fakeUpstream(t)}, slog.Default()))
	for _, q := range []struct{ network, name string }{
		{"udp", "example.com."},
		{"tcp", "example.com."},
		{"udp", "big.example.com."}, // truncated upstream: retried over TCP
	} {
		resp := exchange(t, q.network, addr, q.name, mdns.TypeA, 0)
		if resp.Rcode != mdns.RcodeSuccess || resp.Truncated || len(resp.Answer) != 1 || resp.Answer[0].(*mdns.A).A.String() != "192.0.2.99" {
			t.Fatalf("%s %s: %v, want 192.0.2.99", q.network, q.name, resp)
		}
	}
	// An ExternalName Service: the CNAME, then the upstream's answer for its target.
	resp := exchange(t, "udp", addr, "ext.default.svc.cluster.local.", mdns.TypeA, 0)
	got := strings.Join(rrStrings(resp.Answer, false), "|")
	want := "ext.default.svc.cluster.local. 5 IN CNAME www.example.com.|www.example.com. 60 IN A 192.0.2.99"
	if resp.Rcode != mdns.RcodeSuccess || got != want {
		t.Fatalf("ExternalName: %s %q, want %q", mdns.RcodeToString[resp.Rcode], got, want)
	}
	// Reverse names in the service CIDR are never forwarded.
	name, _ := mdns.ReverseAddr("10.43.7.7")
	if resp := exchange(t, "udp", addr, name, mdns.TypePTR, 0); resp.Rcode != mdns.RcodeNameError {
		t.Fatalf("PTR in the service CIDR: %s, want NXDOMAIN", mdns.RcodeToString[resp.Rcode])
	}
}

func TestHandlerUpstreamUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: the exchange is refused
	addr := start(t, Handler(testZone, bigSource(t, 1), []string{dead}, slog.Default()))
	for _, network := range []string{"udp", "tcp"} {
		if resp := exchange(t, network, addr, "example.com.", mdns.TypeA, 0); resp.Rcode != mdns.RcodeServerFailure {
			t.Fatalf("%s: %s, want SERVFAIL", network, mdns.RcodeToString[resp.Rcode])
		}
	}
	// Cluster names do not need the upstream.
	if resp := exchange(t, "udp", addr, "web.default.svc.cluster.local.", mdns.TypeA, 0); len(resp.Answer) != 1 {
		t.Fatalf("cluster name: %v", resp)
	}
}

func TestConfigZone(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:53", ServiceIP: "10.43.0.10", ServiceCIDRs: []string{"10.43.0.0/16"}, Upstreams: []string{}}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	z, err := cfg.zone()
	if err != nil {
		t.Fatal(err)
	}
	if z.Domain != "cluster.local" || len(z.ServiceCIDRs) != 1 || z.ServiceCIDRs[0] != netip.MustParsePrefix("10.43.0.0/16") ||
		len(z.NameserverIPs) != 1 || z.Serial == 0 {
		t.Fatalf("zone %+v", z)
	}
	if err := (&Config{}).validate(); err != ErrNoAddr {
		t.Fatalf("no address: %v, want ErrNoAddr", err)
	}
	bad := Config{Addr: "127.0.0.1:53", ServiceCIDRs: []string{"nope"}, Upstreams: []string{}}
	if err := bad.validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.zone(); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
