package proxy

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/knftables"
)

// TestRunFollowsChanges drives the shell with a fake clientset and the fake nft: a Service without endpoints is
// rejected, and once its EndpointSlice appears it is mapped to the endpoint.
func TestRunFollowsChanges(t *testing.T) {
	cs := fake.NewClientset(svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)))
	nft := knftables.NewFake(knftables.IPv4Family, TableName)
	cfg := Config{NodeIPs: []string{"192.0.2.10"}}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cs, nft, cfg) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	waitDump(t, nft, "add element ip skiff no-endpoints { 10.43.0.20 . tcp . 80 : goto reject-chain }")
	if _, err := cs.DiscoveryV1().EndpointSlices("default").Create(ctx, slice("web", "http", 8080, a), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDump(t, nft, "add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/80 }")
	if strings.Contains(nft.Dump(), "no-endpoints { 10.43.0.20") {
		t.Errorf("the VIP is still rejected:\n%s", nft.Dump())
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
