package server

import (
	"context"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/dns"
	"github.com/skiff-sh/skiff/internal/proxy"
	"k8s.io/client-go/rest"
)

// The service proxy runs wherever the kubelet runs (it programs this machine's nftables).
func init() {
	Register(Component{
		Name: "proxy", User: "system:kube-proxy", Groups: []string{"system:masters"},
		Enabled: func(cfg *Config) bool { return !cfg.DisableAgent },
		Run: func(ctx context.Context, rc *rest.Config, cfg *Config, log *slog.Logger) error {
			proxy.EnsureSysctls(log)
			err := proxy.Run(ctx, rc, proxy.Config{
				NodeName: cfg.NodeName, NodeIPs: []string{nodeAddress(cfg)}, ClusterCIDR: cfg.ClusterCIDR, Log: log,
			})
			if err != nil && ctx.Err() == nil {
				// E.g. no nft on this machine: pods still run, Services do not; keep the control plane up.
				log.Error("Services are not proxied on this node", "err", err)
				<-ctx.Done()
			}
			return nil
		},
	})
}

// Cluster DNS runs beside the proxy: it listens on the node address, port 53, and publishes the kube-dns Service
// (ClusterIP the first --cluster-dns address) whose EndpointSlice points there, so the proxy maps VIP:53 to it.
func init() {
	Register(Component{
		Name: "dns", User: "system:skiff-dns", Groups: []string{"system:masters"},
		Enabled: func(cfg *Config) bool { return !cfg.DisableAgent && len(cfg.ClusterDNS) > 0 },
		Run: func(ctx context.Context, rc *rest.Config, cfg *Config, log *slog.Logger) error {
			err := dns.Run(ctx, rc, dns.Config{
				Addr: dns.ListenAddr(nodeAddress(cfg), 53), ServiceIP: cfg.ClusterDNS[0], ServiceCIDRs: []string{cfg.ServiceCIDR},
				Domain: cfg.ClusterDomain, Log: log,
			})
			if err != nil && ctx.Err() == nil {
				// Without DNS the rest of the cluster still works: say so and keep the server up.
				log.Error("cluster DNS is not served", "err", err)
				<-ctx.Done()
			}
			return nil
		},
	})
}

// nodeAddress is the address of this node: --advertise-address, or the default route's.
func nodeAddress(cfg *Config) string {
	if cfg.AdvertiseAddress != "" {
		return cfg.AdvertiseAddress
	}
	return defaultAddress().String()
}
