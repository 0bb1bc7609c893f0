package proxy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/knftables"
)

// startRun runs the shell on a fake clientset and the fake nft until the test ends.
func startRun(t *testing.T, cs *fake.Clientset, nft knftables.Interface, cfg Config) {
	t.Helper()
	cfg.NodeIPs, cfg.NodeName, cfg.NFT = []string{"192.0.2.10"}, me, nft
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cs, nft, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

// TestRunFollowsChanges: a Service without endpoints is rejected, and once its EndpointSlice appears it is mapped
// to the endpoint; the change is written as a transaction about that Service only.
func TestRunFollowsChanges(t *testing.T) {
	cs := fake.NewClientset(
		svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
		svc("other", "10.43.0.30", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
		slice("other", "http", 8080, b))
	nft := knftables.NewFake(knftables.IPv4Family, TableName)
	startRun(t, cs, nft, Config{})
	waitDump(t, nft, "add element ip skiff no-endpoints { 10.43.0.20 . tcp . 80 : goto reject-chain }")
	waitDump(t, nft, "add element ip skiff service-ips { 10.43.0.30 . tcp . 80 : goto svc-default/other/tcp/80 }")
	ctx := context.Background()
	if _, err := cs.DiscoveryV1().EndpointSlices("default").Create(ctx, slice("web", "http", 8080, a), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDump(t, nft, "add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/80 }")
	if strings.Contains(nft.Dump(), "no-endpoints { 10.43.0.20") {
		t.Errorf("the VIP is still rejected:\n%s", nft.Dump())
	}
	nft.RLock()
	last := nft.LastTransaction.String()
	nft.RUnlock()
	if strings.Contains(last, "other") || strings.Contains(last, " table ") || strings.Contains(last, "nat-prerouting") {
		t.Errorf("the change to web rewrote more than web's rules:\n%s", last)
	}

	// The Service deleted: its chains and elements go, the other Service's stay.
	if err := cs.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(nft.Dump(), "default/web") {
		if time.Now().After(deadline) {
			t.Fatalf("web's rules stay after its deletion:\n%s", nft.Dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitDump(t, nft, "add element ip skiff service-ips { 10.43.0.30 . tcp . 80 : goto svc-default/other/tcp/80 }")
}

// TestRunRepairsTable: when the table disappears (here: deleted behind the proxy's back), the periodic check
// finds it and the whole table is written again.
func TestRunRepairsTable(t *testing.T) {
	cs := fake.NewClientset(svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)), slice("web", "http", 8080, a))
	nft := knftables.NewFake(knftables.IPv4Family, TableName)
	clk := clock.NewFake(time.Unix(1e9, 0))
	startRun(t, cs, nft, Config{Clock: clk, FullSyncInterval: 1000 * time.Hour})
	const line = "add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/80 }"
	waitDump(t, nft, line)
	if err := cleanup(context.Background(), nft); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(nft.Dump(), line+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("table not rewritten after it was deleted:\n%s", nft.Dump())
		}
		clk.Step(30 * time.Second)
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDump polls the fake's dump for a line, for up to 10 s.
func waitDump(t *testing.T, nft *knftables.Fake, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(nft.Dump(), line+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("dump lacks %q:\n%s", line, nft.Dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
