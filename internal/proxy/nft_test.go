package proxy

import (
	"context"
	"os"
	"os/exec"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// TestRealNFTCheck has the real nft parse a transaction (`nft --check`: nothing is changed on the host).
func TestRealNFTCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nft --check needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft is not installed")
	}
	nft, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		t.Skipf("nft unusable here: %v", err)
	}
	rs := Build(
		[]*corev1.Service{
			svc("web", "10.43.0.20", corev1.ServiceTypeNodePort, port("http", 80, 30080)),
			svc("empty", "10.43.0.21", corev1.ServiceTypeClusterIP, port("", 81, 0)),
		},
		[]*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)},
		[]string{"192.0.2.10"})
	tx := nft.NewTransaction()
	transaction(tx, rs)
	if err := nft.Check(context.Background(), tx); err != nil {
		t.Fatalf("nft --check: %v\n%s", err, tx)
	}
}
