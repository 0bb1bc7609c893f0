package proxy

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// variants are rules of the Service default/web in several states, for the Diff tests.
func variants() map[string]*ServiceRules {
	web := func(typ corev1.ServiceType, nodePort int32, f func(*corev1.Service)) *corev1.Service {
		s := svc("web", "10.43.0.20", typ, port("http", 80, nodePort))
		if f != nil {
			f(s)
		}
		return s
	}
	affinity := func(sec int32) func(*corev1.Service) {
		return func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &sec}}
		}
	}
	eLocal := func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }
	ab := []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)}
	return map[string]*ServiceRules{
		"none":               nil,
		"no endpoints":       BuildService(web(corev1.ServiceTypeClusterIP, 0, nil), nil, local),
		"a":                  BuildService(web(corev1.ServiceTypeClusterIP, 0, nil), []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)}, local),
		"a b":                BuildService(web(corev1.ServiceTypeClusterIP, 0, nil), ab, local),
		"a b nodeport":       BuildService(web(corev1.ServiceTypeNodePort, 30080, nil), ab, local),
		"a b affinity 60":    BuildService(web(corev1.ServiceTypeClusterIP, 0, affinity(60)), ab, local),
		"a b affinity 120":   BuildService(web(corev1.ServiceTypeClusterIP, 0, affinity(120)), ab, local),
		"a b nodeport local": BuildService(web(corev1.ServiceTypeNodePort, 30080, eLocal), ab, local),
		"b nodeport local":   BuildService(web(corev1.ServiceTypeNodePort, 30080, eLocal), []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b)}, local),
	}
}

// TestDiff checks the operations Diff writes for typical changes: only what changed, in an order nft accepts.
func TestDiff(t *testing.T) {
	v := variants()
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"unchanged", "a b", "a b", nil},
		{"created", "none", "a", []string{
			"add chain ip skiff " + epA,
			"add chain ip skiff " + svcChain,
			"add rule ip skiff " + epA + " ip saddr 10.42.0.5 jump mark-for-masquerade",
			"add rule ip skiff " + epA + " meta l4proto tcp dnat to 10.42.0.5:8080",
			"add rule ip skiff " + svcChain + " " + random(epA),
			"add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto " + svcChain + " }",
		}},
		{"endpoint added", "a", "a b", []string{
			"add chain ip skiff " + epB,
			"flush chain ip skiff " + svcChain,
			"add rule ip skiff " + epB + " ip saddr 10.42.0.6 jump mark-for-masquerade",
			"add rule ip skiff " + epB + " meta l4proto tcp dnat to 10.42.0.6:8080",
			"add rule ip skiff " + svcChain + " " + random(epA, epB),
		}},
		{"endpoint removed", "a b", "a", []string{
			"flush chain ip skiff " + svcChain,
			"flush chain ip skiff " + epB,
			"add rule ip skiff " + svcChain + " " + random(epA),
			"delete chain ip skiff " + epB,
		}},
		{"last endpoint gone: rejected", "a", "no endpoints", []string{
			"flush chain ip skiff " + epA,
			"flush chain ip skiff " + svcChain,
			"delete element ip skiff service-ips { 10.43.0.20 . tcp . 80 }",
			"add element ip skiff no-endpoints { 10.43.0.20 . tcp . 80 : goto reject-chain }",
			"delete chain ip skiff " + epA,
			"delete chain ip skiff " + svcChain,
		}},
		{"deleted", "a", "none", []string{
			"flush chain ip skiff " + epA,
			"flush chain ip skiff " + svcChain,
			"delete element ip skiff service-ips { 10.43.0.20 . tcp . 80 }",
			"delete chain ip skiff " + epA,
			"delete chain ip skiff " + svcChain,
		}},
		{"node port added", "a b", "a b nodeport", []string{
			"add element ip skiff service-ips { 192.0.2.10 . tcp . 30080 : goto " + svcChain + " }",
		}},
		{"externalTrafficPolicy Local: the node port's verdict changes", "a b nodeport", "a b nodeport local", []string{
			"add chain ip skiff " + extChain,
			"add chain ip skiff " + svlChain,
			"delete element ip skiff service-ips { 192.0.2.10 . tcp . 30080 }",
			"add rule ip skiff " + extChain + " ip saddr 10.42.0.0/16 goto " + svcChain,
			"add rule ip skiff " + extChain + " fib saddr type local goto " + svcChain,
			"add rule ip skiff " + extChain + " goto " + svlChain,
			"add rule ip skiff " + svlChain + " " + random(epA),
			"add element ip skiff service-ips { 192.0.2.10 . tcp . 30080 : goto " + extChain + " }",
		}},
		{"the local endpoint goes: outside traffic dropped", "a b nodeport local", "b nodeport local", []string{
			"flush chain ip skiff " + extChain,
			"flush chain ip skiff " + svcChain,
			"flush chain ip skiff " + epA,
			"flush chain ip skiff " + svlChain,
			"add rule ip skiff " + extChain + " ip saddr 10.42.0.0/16 goto " + svcChain,
			"add rule ip skiff " + extChain + " fib saddr type local goto " + svcChain,
			"add rule ip skiff " + svcChain + " " + random(epB),
			"add element ip skiff no-endpoints { 192.0.2.10 . tcp . 30080 : drop }",
			"delete chain ip skiff " + epA,
			"delete chain ip skiff " + svlChain,
		}},
		{"affinity on", "a b", "a b affinity 60", []string{
			"add set ip skiff " + affA + " { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }",
			"add set ip skiff " + affB + " { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }",
			"flush chain ip skiff " + epA,
			"flush chain ip skiff " + epB,
			"flush chain ip skiff " + svcChain,
			"add rule ip skiff " + epA + " ip saddr 10.42.0.5 jump mark-for-masquerade",
			"add rule ip skiff " + epA + " update @" + affA + " { ip saddr }",
			"add rule ip skiff " + epA + " meta l4proto tcp dnat to 10.42.0.5:8080",
			"add rule ip skiff " + epB + " ip saddr 10.42.0.6 jump mark-for-masquerade",
			"add rule ip skiff " + epB + " update @" + affB + " { ip saddr }",
			"add rule ip skiff " + epB + " meta l4proto tcp dnat to 10.42.0.6:8080",
			"add rule ip skiff " + svcChain + " ip saddr @" + affA + " goto " + epA,
			"add rule ip skiff " + svcChain + " ip saddr @" + affB + " goto " + epB,
			"add rule ip skiff " + svcChain + " " + random(epA, epB),
		}},
		{"affinity off", "a b affinity 60", "a b", []string{
			"flush chain ip skiff " + epA,
			"flush chain ip skiff " + epB,
			"flush chain ip skiff " + svcChain,
			"add rule ip skiff " + epA + " ip saddr 10.42.0.5 jump mark-for-masquerade",
			"add rule ip skiff " + epA + " meta l4proto tcp dnat to 10.42.0.5:8080",
			"add rule ip skiff " + epB + " ip saddr 10.42.0.6 jump mark-for-masquerade",
			"add rule ip skiff " + epB + " meta l4proto tcp dnat to 10.42.0.6:8080",
			"add rule ip skiff " + svcChain + " " + random(epA, epB),
			"delete set ip skiff " + affA,
			"delete set ip skiff " + affB,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := knftables.NewFake(knftables.IPv4Family, TableName).NewTransaction()
			Diff(tx, v[tt.old], v[tt.new])
			var got []string
			if s := strings.TrimSpace(tx.String()); s != "" {
				got = strings.Split(s, "\n")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Diff(%s → %s):\n got %s\nwant %s", tt.old, tt.new, strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

// TestDiffConverges applies Diff between every pair of variants to a table holding the first, and checks the
// result equals the table written whole with the second (the fake nft checks every reference on the way).
func TestDiffConverges(t *testing.T) {
	v := variants()
	// A second Service that must stay untouched.
	other := BuildService(svc("other", "10.43.0.30", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
		[]*discoveryv1.EndpointSlice{slice("other", "http", 8080, a)}, local)
	whole := func(r *ServiceRules) (*knftables.Fake, string) {
		fake := knftables.NewFake(knftables.IPv4Family, TableName)
		tbl := NewTable()
		tbl.Set(nil, "default/other", other)
		tbl.Set(nil, "default/web", r)
		tx := fake.NewTransaction()
		tbl.WriteAll(tx)
		if err := fake.Run(context.Background(), tx); err != nil {
			t.Fatalf("WriteAll: %v", err)
		}
		return fake, normalize(fake.Dump())
	}
	for from, old := range v {
		for to, new := range v {
			fake, _ := whole(old)
			tx := fake.NewTransaction()
			Diff(tx, old, new)
			if err := fake.Run(context.Background(), tx); err != nil {
				t.Errorf("%s → %s: %v\n%s", from, to, err, tx)
				continue
			}
			if _, want := whole(new); normalize(fake.Dump()) != want {
				t.Errorf("%s → %s: table differs from a whole rewrite:\n got %s\nwant %s", from, to, normalize(fake.Dump()), want)
			}
		}
	}
}

// normalize sorts a dump's element lines (their order in a map is not significant).
func normalize(dump string) string {
	var rest, elems []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "add element ") {
			elems = append(elems, l)
		} else {
			rest = append(rest, l)
		}
	}
	slices.Sort(elems)
	return strings.Join(append(rest, elems...), "\n")
}

// TestWriteAll renders a table into the fake nft twice (the second rewrite replaces the first) and checks the dump.
func TestWriteAll(t *testing.T) {
	tbl := Build(
		[]*corev1.Service{
			svc("web", "10.43.0.20", corev1.ServiceTypeNodePort, port("http", 80, 30080)),
			svc("empty", "10.43.0.21", corev1.ServiceTypeClusterIP, port("", 81, 0)),
		},
		[]*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)}, local)
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	for range 2 {
		tx := fake.NewTransaction()
		tbl.WriteAll(tx)
		if err := fake.Run(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
	}
	dump := fake.Dump()
	for _, want := range []string{
		"add chain ip skiff nat-output { type nat hook output priority -100 ; }",
		"add rule ip skiff nat-output ip daddr . meta l4proto . th dport vmap @service-ips",
		"add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/80 }",
		"add element ip skiff service-ips { 192.0.2.10 . tcp . 30080 : goto svc-default/web/tcp/80 }",
		"add element ip skiff no-endpoints { 10.43.0.21 . tcp . 81 : goto reject-chain }",
		"add rule ip skiff reject-chain meta l4proto tcp reject with tcp reset",
		"add rule ip skiff nat-postrouting masquerade fully-random",
		"add rule ip skiff ep-default/web/tcp/80__10.42.0.6/8080 meta l4proto tcp dnat to 10.42.0.6:8080",
	} {
		if !strings.Contains(dump, want+"\n") {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	if n := strings.Count(dump, "add rule ip skiff nat-output "); n != 1 {
		t.Errorf("nat-output has %d rules after two syncs, want 1", n)
	}
	if ok, err := Intact(context.Background(), fake); !ok || err != nil {
		t.Errorf("Intact after WriteAll = %v, %v", ok, err)
	}
	if err := cleanup(context.Background(), fake); err != nil {
		t.Fatal(err)
	}
	if ok, err := Intact(context.Background(), fake); ok || err != nil {
		t.Errorf("Intact after cleanup = %v, %v; want false, nil", ok, err)
	}
}

// realNFT returns an nft interface on a scratch table of the real kernel (not skiff's), deleted at the end of
// the test, or skips.
func realNFT(t testing.TB, table string) knftables.Interface {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the real nft needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft is not installed")
	}
	nft, err := knftables.New(knftables.IPv4Family, table)
	if err != nil {
		t.Skipf("nft unusable here: %v", err)
	}
	t.Cleanup(func() {
		if err := cleanup(context.Background(), nft); err != nil {
			t.Errorf("removing table %s: %v", table, err)
		}
	})
	return nft
}

// TestRealKernelDiff has the real kernel take every variant whole and every Diff between them, in a scratch table
// "skiff-test" (skiff's own table is not touched).
func TestRealKernelDiff(t *testing.T) {
	nft := realNFT(t, "skiff-test")
	ctx := context.Background()
	v := variants()
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, from := range names {
		tbl := NewTable()
		tbl.Set(nil, "default/web", v[from])
		tx := nft.NewTransaction()
		tbl.WriteAll(tx)
		if err := nft.Run(ctx, tx); err != nil {
			t.Fatalf("write %s: %v\n%s", from, err, tx)
		}
		prev := from
		for _, to := range names {
			tx := nft.NewTransaction()
			Diff(tx, v[prev], v[to])
			if err := nft.Run(ctx, tx); err != nil {
				t.Fatalf("%s → %s: %v\n%s", prev, to, err, tx)
			}
			prev = to
		}
		if ok, err := Intact(ctx, nft); !ok || err != nil {
			t.Fatalf("Intact = %v, %v", ok, err)
		}
	}
}
