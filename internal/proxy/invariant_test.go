package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/knftables"
)

// flakyNFT is the fake nft whose next Run fails (changing nothing, as a refused nft transaction) when fail is set.
type flakyNFT struct {
	*knftables.Fake
	fail bool
}

var errInjected = errors.New("injected nft failure")

func (f *flakyNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if f.fail {
		f.fail = false
		return errInjected
	}
	return f.Fake.Run(ctx, tx)
}

// testSyncer is the shell's syncer on caches the test fills by hand, and a log of the Services to sync again.
type testSyncer struct {
	*syncer
	nft   *flakyNFT
	dirty map[string]bool
}

func newTestSyncer(t *testing.T) *testSyncer {
	t.Helper()
	cfg := Config{NodeName: me, NodeIPs: local.IPs, ClusterCIDR: local.ClusterCIDR, Clock: clock.NewFake(clock.Real{}.Now()),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	nft := &flakyNFT{Fake: knftables.NewFake(knftables.IPv4Family, TableName)}
	s := &syncer{nft: nft, cfg: cfg, node: cfg.node(), full: true,
		svcs:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		slices: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{byService: serviceIndex})}
	return &testSyncer{syncer: s, nft: nft, dirty: map[string]bool{}}
}

func (ts *testSyncer) putService(t *testing.T, s *corev1.Service) {
	t.Helper()
	if err := ts.svcs.Update(s); err != nil {
		t.Fatal(err)
	}
	ts.dirty[Key(s)] = true
}

func (ts *testSyncer) deleteService(t *testing.T, key string) {
	t.Helper()
	if o, ok, _ := ts.svcs.GetByKey(key); ok {
		if err := ts.svcs.Delete(o); err != nil {
			t.Fatal(err)
		}
	}
	ts.dirty[key] = true
}

func (ts *testSyncer) putSlice(t *testing.T, s *discoveryv1.EndpointSlice) {
	t.Helper()
	if err := ts.slices.Update(s); err != nil {
		t.Fatal(err)
	}
	ts.dirty[SliceService(s)] = true
}

func (ts *testSyncer) deleteSlice(t *testing.T, key string) {
	t.Helper()
	if o, ok, _ := ts.slices.GetByKey(key); ok {
		if err := ts.slices.Delete(o); err != nil {
			t.Fatal(err)
		}
		ts.dirty[SliceService(o.(*discoveryv1.EndpointSlice))] = true
	}
}

// sync does what one turn of Run's loop does: sync the changed Services (all of them when full), and note the
// Services handed back to be built again.
func (ts *testSyncer) sync(t *testing.T) error {
	t.Helper()
	keys := make([]string, 0, len(ts.dirty))
	for k := range ts.dirty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	clear(ts.dirty)
	retry, err := ts.syncer.sync(context.Background(), keys)
	for _, k := range retry {
		ts.dirty[k] = true
	}
	return err
}

// mapDests returns the destinations in one of the fake's verdict maps, with their verdicts.
func mapDests(t *testing.T, nft *knftables.Fake, name string) map[Dest]string {
	t.Helper()
	out := map[Dest]string{}
	if nft.Table == nil || nft.Table.Maps[name] == nil {
		return out
	}
	for _, e := range nft.Table.Maps[name].Elements {
		p, err := strconv.Atoi(e.Key[2])
		if err != nil {
			t.Fatalf("element key %v: %v", e.Key, err)
		}
		out[Dest{IP: e.Key[0], Proto: e.Key[1], Port: int32(p)}] = strings.Join(e.Value, " ")
	}
	return out
}

// checkVIPs checks the invariant the kernel must hold once a sync has covered every change: each ClusterIP:port of
// a Service with rules is in exactly one of the maps "service-ips" (DNAT) and "no-endpoints" (reject/drop), so no
// connection to it ever escapes both; and no element is left of a destination no Service claims any more.
func checkVIPs(t *testing.T, ts *testSyncer, step string) {
	t.Helper()
	m, f := mapDests(t, ts.nft.Fake, serviceMap), mapDests(t, ts.nft.Fake, noEndpointsMap)
	claimed := map[Dest]bool{}
	for _, o := range ts.svcs.List() {
		svc := o.(*corev1.Service)
		objs, _ := ts.slices.ByIndex(byService, Key(svc))
		var sl []*discoveryv1.EndpointSlice
		for _, o := range objs {
			sl = append(sl, o.(*discoveryv1.EndpointSlice))
		}
		r := BuildService(svc, sl, local)
		if r == nil {
			continue
		}
		for _, e := range append(slices.Clone(r.Map), r.Filter...) {
			claimed[e.Dest] = true
		}
		for _, sp := range svc.Spec.Ports {
			d := Dest{IP: svc.Spec.ClusterIP, Proto: strings.ToLower(string(sp.Protocol)), Port: sp.Port}
			_, inMap := m[d]
			_, inFilter := f[d]
			if inMap == inFilter {
				t.Fatalf("%s: %s's ClusterIP %v is in service-ips: %v, in no-endpoints: %v\n%s", step, Key(svc), d, inMap, inFilter, ts.nft.Dump())
			}
		}
	}
	for _, es := range []map[Dest]string{m, f} {
		for d := range es {
			if !claimed[d] {
				t.Fatalf("%s: element %v left though no Service claims it\n%s", step, d, ts.nft.Dump())
			}
		}
	}
}

// TestSyncHandsOverDestination: one sync sees a Service deleted and another created with the same ClusterIP (the
// allocator reused it). The newcomer, first in key order, is refused the address while the old Service holds it;
// once the old one lets it go, the newcomer must get it in the same transaction, or the address is in neither map
// until the next sync and connections to it leave the node un-NATed.
func TestSyncHandsOverDestination(t *testing.T) {
	ts := newTestSyncer(t)
	ts.putService(t, svc("zeta", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)))
	ts.putSlice(t, slice("zeta", "http", 8080, a))
	if err := ts.sync(t); err != nil {
		t.Fatal(err)
	}
	checkVIPs(t, ts, "zeta created")

	ts.deleteService(t, "default/zeta")
	ts.deleteSlice(t, "default/zeta-abc")
	ts.putService(t, svc("alpha", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)))
	ts.putSlice(t, slice("alpha", "http", 8080, b))
	if err := ts.sync(t); err != nil {
		t.Fatal(err)
	}
	checkVIPs(t, ts, "zeta deleted, alpha created with its ClusterIP")
	if got := mapDests(t, ts.nft.Fake, serviceMap)[vip]; got != "goto svc-default/alpha/tcp/80" {
		t.Fatalf("10.43.0.20:80 maps to %q, want alpha's chain", got)
	}
	if len(ts.dirty) != 0 {
		t.Errorf("Services left to sync again: %v", ts.dirty)
	}
}

// TestSyncDuplicateDestination: a Service whose externalIP is also its load-balancer ingress IP claims one
// destination twice; its rules must name it once, or removing it deletes the element twice and nft refuses the
// whole transaction.
func TestSyncDuplicateDestination(t *testing.T) {
	ts := newTestSyncer(t)
	lb := func(ingress bool) *corev1.Service {
		s := svc("web", "10.43.0.20", corev1.ServiceTypeLoadBalancer, port("http", 80, 30080))
		s.Spec.ExternalIPs = []string{"198.51.100.7"}
		if ingress {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}
		}
		return s
	}
	ts.putService(t, lb(true))
	ts.putSlice(t, slice("web", "http", 8080, a))
	if err := ts.sync(t); err != nil {
		t.Fatal(err)
	}
	ts.deleteSlice(t, "default/web-abc")
	if err := ts.sync(t); err != nil {
		t.Fatalf("endpoints gone: %v", err)
	}
	checkVIPs(t, ts, "endpoints gone")
	ts.putService(t, lb(false))
	ts.putSlice(t, slice("web", "http", 8080, a))
	if err := ts.sync(t); err != nil {
		t.Fatalf("ingress gone: %v", err)
	}
	checkVIPs(t, ts, "ingress gone")
}

// TestSyncInvariant is a property test of the shell's sync: random sequences of Service and EndpointSlice changes
// (Services sharing ClusterIPs and NodePorts, endpoints ready, terminating, serving or not, local or not; several
// changes coalesced into one sync; full rewrites; transactions that fail and are retried whole) never leave a
// ClusterIP:port in neither or both of the two maps once a sync has succeeded.
func TestSyncInvariant(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		ts := newTestSyncer(t)
		for step := range 60 {
			what := randomChange(t, rng, ts)
			if rng.IntN(3) == 0 {
				continue // coalesced with the next change
			}
			if rng.IntN(10) == 0 {
				ts.full = true // periodic rewrite or a check that found the table altered
			}
			failed := rng.IntN(8) == 0
			ts.nft.fail = failed
			err := ts.sync(t)
			if failed && err == nil && ts.nft.fail {
				failed, ts.nft.fail = false, false // nothing to write: nft was not run
			}
			switch {
			case failed && !errors.Is(err, errInjected):
				t.Fatalf("seed %d step %d: sync with a failing nft: %v", seed, step, err)
			case failed:
				// Run retries with a whole rewrite; the kernel still holds the previous, consistent table.
				if err := ts.sync(t); err != nil {
					t.Fatalf("seed %d step %d: rewrite after a failure: %v", seed, step, err)
				}
			case err != nil:
				t.Fatalf("seed %d step %d (%s): %v", seed, step, what, err)
			}
			checkVIPs(t, ts, fmt.Sprintf("seed %d step %d (%s)", seed, step, what))
		}
	}
}

// randomChange applies one random change to the caches and says what it was.
func randomChange(t *testing.T, rng *rand.Rand, ts *testSyncer) string {
	t.Helper()
	name := fmt.Sprintf("s%d", rng.IntN(5))
	switch rng.IntN(6) {
	case 0:
		ts.deleteService(t, "default/"+name)
		return "delete service " + name
	case 1:
		ts.deleteSlice(t, "default/"+name+"-abc")
		return "delete slice " + name
	case 2, 3:
		s := svc(name, fmt.Sprintf("10.43.0.%d", 20+rng.IntN(3)), corev1.ServiceTypeClusterIP, port("http", 80, 0))
		switch rng.IntN(5) {
		case 0:
			s.Spec.Type, s.Spec.Ports[0].NodePort = corev1.ServiceTypeNodePort, int32(30080+rng.IntN(2))
		case 1:
			s.Spec.Type, s.Spec.Ports[0].NodePort = corev1.ServiceTypeLoadBalancer, int32(30080+rng.IntN(2))
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: local.IPs[0]}}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		case 2:
			il := corev1.ServiceInternalTrafficPolicyLocal
			s.Spec.InternalTrafficPolicy = &il
		case 3:
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		}
		if rng.IntN(3) == 0 {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
		}
		ts.putService(t, s)
		return fmt.Sprintf("put service %s %s %s", name, s.Spec.ClusterIP, s.Spec.Type)
	default:
		var eps []ep
		for i := range rng.IntN(4) {
			e := ep{ip: fmt.Sprintf("10.42.0.%d", 5+i+rng.IntN(3)), ready: rng.IntN(3) > 0, serving: rng.IntN(2) == 0,
				terminating: rng.IntN(3) == 0, node: []string{me, "node-b"}[rng.IntN(2)]}
			eps = append(eps, e)
		}
		ts.putSlice(t, slice(name, "http", 8080, eps...))
		return fmt.Sprintf("put slice %s with %d endpoints", name, len(eps))
	}
}
