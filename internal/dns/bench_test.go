package dns

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

const benchServices = 1000

// benchSource has 1,000 ClusterIP Services with a named port in 10 namespaces, and 100 headless Services with
// 10 ready endpoints each.
func benchSource(b *testing.B) Source {
	var objs []any
	for n := range 10 {
		objs = append(objs, namespace(fmt.Sprintf("ns%d", n)))
	}
	for i := range benchServices {
		objs = append(objs, service(fmt.Sprintf("ns%d", i%10), fmt.Sprintf("svc%d", i), corev1.ServiceSpec{
			ClusterIP: fmt.Sprintf("10.43.%d.%d", i/250, i%250+1), Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}))
	}
	for i := range 100 {
		ns, name := fmt.Sprintf("ns%d", i%10), fmt.Sprintf("hl%d", i)
		var eps []discoveryv1.Endpoint
		for j := range 10 {
			eps = append(eps, ep(fmt.Sprintf("10.42.%d.%d", i, j+1), fmt.Sprintf("%s-%d", name, j), true))
		}
		objs = append(objs, service(ns, name, corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}),
			slice(ns, name, name+"-1", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("http", 80)}, eps...))
	}
	return testSource(b, objs...)
}

// benchQueries are n queries of type qtype, one per Service, named by name(i).
func benchQueries(n int, qtype uint16, name func(i int) string) []*mdns.Msg {
	out := make([]*mdns.Msg, n)
	for i := range out {
		out[i] = new(mdns.Msg).SetQuestion(name(i), qtype)
	}
	return out
}

func svcName(i int) string { return fmt.Sprintf("svc%d.ns%d.svc.cluster.local.", i, i%10) }

func BenchmarkAnswer(b *testing.B) {
	src := benchSource(b)
	for _, bc := range []struct {
		name string
		qs   []*mdns.Msg
	}{
		{"A", benchQueries(benchServices, mdns.TypeA, svcName)},
		{"AAAA-NODATA", benchQueries(benchServices, mdns.TypeAAAA, svcName)},
		{"SRV", benchQueries(benchServices, mdns.TypeSRV, func(i int) string { return "_http._tcp." + svcName(i) })},
		{"PTR", benchQueries(benchServices, mdns.TypePTR, func(i int) string {
			r, _ := mdns.ReverseAddr(fmt.Sprintf("10.43.%d.%d", i/250, i%250+1))
			return r
		})},
		{"NXDOMAIN", benchQueries(benchServices, mdns.TypeA, func(i int) string { return fmt.Sprintf("nope%d.ns%d.svc.cluster.local.", i, i%10) })},
		{"headless-A", benchQueries(100, mdns.TypeA, func(i int) string { return fmt.Sprintf("hl%d.ns%d.svc.cluster.local.", i, i%10) })},
		{"headless-SRV", benchQueries(100, mdns.TypeSRV, func(i int) string { return fmt.Sprintf("_http._tcp.hl%d.ns%d.svc.cluster.local.", i, i%10) })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if m := Answer(bc.qs[i%len(bc.qs)], testZone, src); m == nil {
					b.Fatal("forwarded")
				}
				i++
			}
		})
	}
}

// BenchmarkServerUDP measures the real server's queries per second over loopback UDP (A records of 1,000
// Services), with parallel clients.
func BenchmarkServerUDP(b *testing.B) {
	addr := start(b, Handler(testZone, benchSource(b), nil, slog.Default()))
	qs := benchQueries(benchServices, mdns.TypeA, svcName)
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &mdns.Client{Net: "udp"}
		conn, err := c.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		for pb.Next() {
			q := qs[next.Add(1)%int64(len(qs))].Copy()
			resp, _, err := c.ExchangeWithConn(q, conn)
			if err != nil || len(resp.Answer) != 1 {
				b.Errorf("%v: %v", resp, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
