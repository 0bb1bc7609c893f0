package kubelet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/skiff-sh/skiff/internal/server"
	"k8s.io/client-go/rest"
)

func init() {
	host, _ := os.Hostname()
	server.Register(server.Component{
		Name: "kubelet", User: "system:node:" + strings.ToLower(host), Groups: []string{"system:nodes", "system:masters"},
		Enabled: func(cfg *server.Config) bool { return !cfg.DisableAgent },
		Run: func(ctx context.Context, rc *rest.Config, cfg *server.Config, log *slog.Logger) error {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(rc.CAData) {
				return errors.New("kubelet: no cluster CA in the component's client config")
			}
			var eviction EvictionThresholds
			if cfg.EvictionHard != "" {
				th, err := ParseEvictionHard(cfg.EvictionHard)
				if err != nil {
					return fmt.Errorf("kubelet: --eviction-hard: %w", err)
				}
				eviction = th
			}
			return Run(ctx, rc, Config{
				NodeName: cfg.NodeName, DataDir: cfg.DataDir, RuntimeEndpoint: cfg.ContainerRuntimeEndpoint,
				ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain, Address: cfg.AdvertiseAddress,
				Port: cfg.KubeletPort, EvictionHard: eviction, ClientCA: pool, Log: log,
			})
		},
	})
}

// DefaultClusterDNS is the tenth address of the service CIDR (10.43.0.10 for the default), as k3s.
func DefaultClusterDNS(serviceCIDR string) string {
	_, n, err := net.ParseCIDR(serviceCIDR)
	if err != nil || n.IP.To4() == nil {
		return ""
	}
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+10).String()
}
