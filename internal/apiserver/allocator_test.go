package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-sh/skiff/internal/storage/embedded"
	corev1 "k8s.io/api/core/v1"
)

func bits(offs ...int) bitmap {
	b := bitmapOf(nil)
	for _, o := range offs {
		b.set(o)
	}
	return b
}

func setBits(b bitmap, size int) []int {
	var out []int
	for i := 0; i < size; i++ {
		if b.has(i) {
			out = append(out, i)
		}
	}
	return out
}

func TestRepairBitmap(t *testing.T) {
	tests := []struct {
		name       string
		stored     bitmap
		inUse      []int
		leaks      map[int]int
		wantBits   []int
		wantMarked []int
		wantFreed  []int
		wantLeaks  map[int]int
	}{
		{name: "in sync", stored: bits(0, 3), inUse: []int{0, 3}, wantBits: []int{0, 3}, wantLeaks: map[int]int{}},
		{name: "missing are marked", stored: bits(0), inUse: []int{0, 2, 5}, wantBits: []int{0, 2, 5}, wantMarked: []int{2, 5}, wantLeaks: map[int]int{}},
		{name: "a leak seen once is kept", stored: bits(0, 4), inUse: []int{0}, wantBits: []int{0, 4}, wantLeaks: map[int]int{4: 1}},
		{name: "a leak seen twice is kept", stored: bits(4), leaks: map[int]int{4: 1}, wantBits: []int{4}, wantLeaks: map[int]int{4: 2}},
		{name: "a leak seen three times is freed", stored: bits(4, 6), leaks: map[int]int{4: 2}, wantBits: []int{6}, wantFreed: []int{4}, wantLeaks: map[int]int{6: 1}},
		{name: "a leak that got its Service is forgotten", stored: bits(4), inUse: []int{4}, leaks: map[int]int{4: 2}, wantBits: []int{4}, wantLeaks: map[int]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inUse := map[int]bool{}
			for _, o := range tt.inUse {
				inUse[o] = true
			}
			out := repairBitmap(tt.stored, 8, inUse, tt.leaks)
			if got := setBits(tt.stored, 8); !reflect.DeepEqual(got, tt.wantBits) {
				t.Errorf("bits = %v, want %v", got, tt.wantBits)
			}
			if !reflect.DeepEqual(out.marked, tt.wantMarked) || !reflect.DeepEqual(out.freed, tt.wantFreed) || !reflect.DeepEqual(out.leaks, tt.wantLeaks) {
				t.Errorf("marked %v freed %v leaks %v, want %v %v %v", out.marked, out.freed, out.leaks, tt.wantMarked, tt.wantFreed, tt.wantLeaks)
			}
		})
	}
}

func TestBitmapNextSkipsUsedAndReserved(t *testing.T) {
	b := bits(1, 2)
	reserved := func(off int) bool { return off == 0 }
	for _, tt := range []struct{ start, want int }{{0, 3}, {2, 3}, {3, 3}, {4, 3}} {
		if got, ok := b.next(4, tt.start, reserved); !ok || got != tt.want {
			t.Errorf("next from %d = %d %v, want %d", tt.start, got, ok, tt.want)
		}
	}
	b.set(3)
	if _, ok := b.next(4, 0, reserved); ok {
		t.Error("next on a full range succeeded")
	}
	if got := bitmapOf(b.bytes()); !reflect.DeepEqual(setBits(got, 4), []int{1, 2, 3}) {
		t.Errorf("bytes round trip: %v", setBits(got, 4))
	}
}

// sharedEtcd starts one embedded etcd for several API servers.
func sharedEtcd(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); e.Close() })
	return e.Endpoint
}

// serverOn starts an API server on the etcd at endpoint; cfg's Store is filled in.
func serverOn(t *testing.T, endpoint string, cfg Config) *testServer {
	t.Helper()
	return startTestServer(t, endpoint, cfg, nil)
}

func serviceJSON(name, typ, spec string) string {
	return `{"apiVersion":"v1","kind":"Service","metadata":{"name":"` + name + `"},"spec":{"type":"` + typ + `","ports":[{"port":80}]` + spec + `}}`
}

func TestTwoServersNeverShareClusterIPsOrNodePorts(t *testing.T) {
	ep := sharedEtcd(t)
	_, cidr, _ := net.ParseCIDR("10.43.0.0/26") // 61 addresses for Services: contention is likely
	cfg := Config{ServiceCIDR: cidr, NodePortMin: 30000, NodePortMax: 30079}
	servers := []*testServer{serverOn(t, ep, cfg), serverOn(t, ep, cfg)}
	const perServer = 25
	type got struct {
		ip   string
		port int32
	}
	var mu sync.Mutex
	var all []got
	var wg sync.WaitGroup
	errs := make(chan string, 2*perServer)
	for si, ts := range servers {
		for i := 0; i < perServer; i++ {
			wg.Add(1)
			go func(si, i int, ts *testServer) {
				defer wg.Done()
				r := ts.do("POST", "/api/v1/namespaces/default/services", "application/json", "", []byte(serviceJSON(fmt.Sprintf("s%d-%d", si, i), "NodePort", "")))
				if r.code != 201 {
					errs <- fmt.Sprintf("create on server %d: %d %s", si, r.code, r.body)
					return
				}
				var svc corev1.Service
				_ = json.Unmarshal(r.body, &svc)
				mu.Lock()
				all = append(all, got{svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort})
				mu.Unlock()
			}(si, i, ts)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	ips, ports := map[string]bool{"10.43.0.1": true}, map[int32]bool{}
	for _, g := range all {
		if ips[g.ip] || ports[g.port] {
			t.Fatalf("ClusterIP %s or NodePort %d handed out twice (all: %v)", g.ip, g.port, all)
		}
		ips[g.ip], ports[g.port] = true, true
	}
	// A value one server handed out is refused by the other.
	var svc corev1.Service
	_ = json.Unmarshal(servers[0].do("GET", "/api/v1/namespaces/default/services/s0-0", "", "", nil).body, &svc)
	r := servers[1].create("/api/v1/namespaces/default/services", serviceJSON("taken", "ClusterIP", `,"clusterIP":"`+svc.Spec.ClusterIP+`"`))
	want := fmt.Sprintf(`Service "taken" is invalid: spec.clusterIPs: Invalid value: []string{"%s"}: failed to allocate IP %s: provided IP is already allocated`, svc.Spec.ClusterIP, svc.Spec.ClusterIP)
	if st := r.status(t); r.code != 422 || st.Message != want {
		t.Fatalf("requested IP already allocated: %d %q, want %q", r.code, st.Message, want)
	}
	// Deleting through one server frees the value for the other.
	if r := servers[0].do("DELETE", "/api/v1/namespaces/default/services/s0-0", "", "", nil); r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if r := servers[1].create("/api/v1/namespaces/default/services", serviceJSON("taken", "ClusterIP", `,"clusterIP":"`+svc.Spec.ClusterIP+`"`)); r.code != 201 {
		t.Fatalf("freed IP: %d %s", r.code, r.body)
	}
}

func TestServiceRangeFullAndRepair(t *testing.T) {
	ep := sharedEtcd(t)
	_, cidr, _ := net.ParseCIDR("10.43.0.0/29") // .1 kubernetes, .2-.6 for Services
	ts := serverOn(t, ep, Config{ServiceCIDR: cidr})
	for i := 0; i < 5; i++ {
		if r := ts.create("/api/v1/namespaces/default/services", serviceJSON(fmt.Sprintf("s%d", i), "ClusterIP", "")); r.code != 201 {
			t.Fatalf("create s%d: %d %s", i, r.code, r.body)
		}
	}
	r := ts.create("/api/v1/namespaces/default/services", serviceJSON("full", "ClusterIP", ""))
	if st := r.status(t); r.code != 500 || st.Reason != "InternalError" || st.Message != "Internal error occurred: failed to allocate a serviceIP: range is full" {
		t.Fatalf("full range: %d %s %q", r.code, st.Reason, st.Message)
	}
	if r := ts.create("/api/v1/namespaces/default/services", serviceJSON("first", "ClusterIP", `,"clusterIP":"10.43.0.1"`)); r.code != 422 || !strings.Contains(string(r.body), "provided IP is already allocated") {
		t.Fatalf("the kubernetes Service's IP: %d %s", r.code, r.body)
	}
	if r := ts.create("/api/v1/namespaces/default/services", serviceJSON("out", "ClusterIP", `,"clusterIP":"10.44.0.1"`)); r.code != 422 || !strings.Contains(string(r.body), "failed to allocate IP 10.44.0.1: the provided IP (10.44.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/29") {
		t.Fatalf("IP outside the range: %d %s", r.code, r.body)
	}

	ctx := context.Background()
	ipOff := func(ip string) int { off, _ := ts.api.ipAlloc.offset(net.ParseIP(ip)); return off }
	stored := func() bitmap {
		o, err := ts.api.store.Get(ctx, serviceIPsKey, newRangeAllocation)
		if err != nil {
			t.Fatal(err)
		}
		ra := o.(*corev1.RangeAllocation)
		if ra.Range != "10.43.0.0/29" {
			t.Fatalf("stored range %q", ra.Range)
		}
		return bitmapOf(ra.Data)
	}
	// A Service deleted behind the allocator's back leaks its IP: three repair passes free it.
	var s0 corev1.Service
	_ = json.Unmarshal(ts.do("GET", "/api/v1/namespaces/default/services/s0", "", "", nil).body, &s0)
	svcRes := ts.api.byGVR[corev1.SchemeGroupVersion.WithResource("services")]
	if _, err := ts.etcd.Delete(ctx, svcRes.keys.Key("default", "s0")); err != nil {
		t.Fatal(err)
	}
	for pass := 1; pass <= leakRuns; pass++ {
		if err := ts.api.repairAllocations(ctx); err != nil {
			t.Fatal(err)
		}
		if held := stored().has(ipOff(s0.Spec.ClusterIP)); held != (pass < leakRuns) {
			t.Fatalf("after repair pass %d the leaked IP is held=%v", pass, held)
		}
	}
	// A bitmap that lost its allocations (a new etcd key) gets them back from the Services.
	if _, err := ts.etcd.Delete(ctx, serviceIPsKey); err != nil {
		t.Fatal(err)
	}
	ts.api.ipAlloc.r.cached = nil
	if err := ts.api.repairAllocations(ctx); err != nil {
		t.Fatal(err)
	}
	b := stored()
	for _, n := range []string{"s1", "s2", "s3", "s4"} {
		var s corev1.Service
		_ = json.Unmarshal(ts.do("GET", "/api/v1/namespaces/default/services/"+n, "", "", nil).body, &s)
		if !b.has(ipOff(s.Spec.ClusterIP)) {
			t.Fatalf("repair did not mark %s's IP %s", n, s.Spec.ClusterIP)
		}
	}
	if !b.has(0) {
		t.Fatal("repair did not mark the kubernetes Service's IP")
	}
	// The freed IP is the only one left.
	if r := ts.create("/api/v1/namespaces/default/services", serviceJSON("again", "ClusterIP", "")); r.code != 201 || !strings.Contains(string(r.body), s0.Spec.ClusterIP) {
		t.Fatalf("create after repair: %d %s", r.code, r.body)
	}
}

func TestServiceTypeChangeReleasesNodePort(t *testing.T) {
	ts := newTestServer(t)
	r := ts.create("/api/v1/namespaces/default/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30100}]}}`)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := ts.do("PATCH", "/api/v1/namespaces/default/services/np", "application/merge-patch+json", "", []byte(`{"spec":{"type":"ClusterIP"}}`)); r.code != 200 {
		t.Fatalf("type change: %d %s", r.code, r.body)
	}
	if r := ts.create("/api/v1/namespaces/default/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"np2"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30100}]}}`); r.code != 201 {
		t.Fatalf("the released NodePort: %d %s", r.code, r.body)
	}
}

// An ExternalName Service turned into a ClusterIP one gets a ClusterIP, and one turned back releases it (the upstream
// DNS conformance spec "should provide DNS for ExternalName services" switches both ways).
func TestServiceTypeChangeFromExternalName(t *testing.T) {
	ts := newTestServer(t)
	r := ts.create("/api/v1/namespaces/default/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"foo.example.com"}}`)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", "/api/v1/namespaces/default/services/ext", "application/merge-patch+json", "", []byte(`{"spec":{"type":"ClusterIP","externalName":null,"ports":[{"name":"http","port":80}]}}`))
	if r.code != 200 {
		t.Fatalf("to ClusterIP: %d %s", r.code, r.body)
	}
	var svc corev1.Service
	_ = json.Unmarshal(r.body, &svc)
	if net.ParseIP(svc.Spec.ClusterIP) == nil || len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP {
		t.Fatalf("after the change: clusterIP %q clusterIPs %q", svc.Spec.ClusterIP, svc.Spec.ClusterIPs)
	}
	r = ts.do("PATCH", "/api/v1/namespaces/default/services/ext", "application/merge-patch+json", "", []byte(`{"spec":{"type":"ExternalName","externalName":"bar.example.com","clusterIP":"","clusterIPs":null}}`))
	if r.code != 200 {
		t.Fatalf("back to ExternalName: %d %s", r.code, r.body)
	}
	again := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"reuse"},"spec":{"clusterIP":%q,"ports":[{"port":80}]}}`, svc.Spec.ClusterIP)
	if r := ts.create("/api/v1/namespaces/default/services", again); r.code != 201 {
		t.Fatalf("the released ClusterIP %s: %d %s", svc.Spec.ClusterIP, r.code, r.body)
	}
}

// BenchmarkServiceCreate reports the cost of a NodePort Service create, whose ClusterIP and NodePort are each one
// compare-and-swap on their etcd bitmap.
func BenchmarkServiceCreate(b *testing.B) {
	ts := benchServer(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ts.send("POST", "/api/v1/namespaces/default/services", serviceJSON(fmt.Sprintf("b%d", i), "NodePort", "")); err != nil {
			b.Fatal(err)
		}
	}
}
