package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/skiff-sh/skiff/internal/kubelet"
	"github.com/skiff-sh/skiff/internal/proxy"
	"github.com/skiff-sh/skiff/internal/server"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, serverCommand) }

func serverCommand() *cobra.Command {
	var cfg server.Config
	var logLevel string
	var podGCThreshold int
	var cleanup bool
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane (API server on etcd, controllers, scheduler) and a node",
		RunE: func(cmd *cobra.Command, args []string) error {
			if cleanup {
				return proxy.Cleanup(cmd.Context())
			}
			if _, err := kubelet.ParseEvictionHard(cfg.EvictionHard); err != nil {
				return fmt.Errorf("--eviction-hard: %w", err)
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			cfg.TerminatedPodGCThreshold = &podGCThreshold
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return server.Run(ctx, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/skiff", "directory for etcd data, certificates and kubeconfig")
	f.StringVar(&cfg.BindAddress, "bind-address", "", "address the API server listens on (default all)")
	f.IntVar(&cfg.Port, "port", 6443, "HTTPS port of the API server")
	f.StringSliceVar(&cfg.EtcdEndpoints, "etcd-endpoints", nil, "external etcd cluster client URLs (comma-separated); empty runs an embedded etcd")
	f.StringVar(&cfg.EtcdCAFile, "etcd-cafile", "", "CA bundle to verify the external etcd servers")
	f.StringVar(&cfg.EtcdCertFile, "etcd-certfile", "", "client certificate for the external etcd")
	f.StringVar(&cfg.EtcdKeyFile, "etcd-keyfile", "", "client key for the external etcd")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.43.0.0/16", "range of Service ClusterIPs")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "range of pod IPs (a /24 per node)")
	f.StringVar(&cfg.TokenFile, "token-file", "", "static bearer token file (CSV token,user,uid,\"groups\"); default DATA/tokens.csv")
	f.StringVar(&cfg.ServiceAccountIssuer, "service-account-issuer", "https://kubernetes.default.svc.cluster.local", "iss of service-account tokens, also the API audience")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra names or IPs for the serving certificate")
	f.StringVar(&cfg.AdvertiseAddress, "advertise-address", "", "address of this server for the kubernetes Service")
	f.StringVar(&cfg.AuthorizationMode, "authorization-mode", server.AuthorizationRBAC, "how requests are authorized: RBAC or AlwaysAllow")
	f.BoolVar(&cfg.Profiling, "profiling", true, "serve Go profiles at /debug/pprof/ to system:masters")
	f.BoolVar(&cfg.DisableAgent, "disable-agent", false, "do not run a kubelet (and containerd) on this machine")
	f.StringVar(&cfg.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "existing CRI socket for the kubelet instead of starting containerd")
	f.StringVar(&cfg.NodeName, "node-name", "", "this machine's node name (default the hostname)")
	f.IntVar(&cfg.KubeletPort, "kubelet-port", 10250, "HTTPS port of the kubelet API")
	f.StringSliceVar(&cfg.ClusterDNS, "cluster-dns", []string{"10.43.0.10"}, "DNS server(s) written into pods' resolv.conf (empty: the host's)")
	f.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "cluster DNS domain")
	f.StringVar(&cfg.EvictionHard, "eviction-hard", kubelet.DefaultEvictionHard, "thresholds of the node's pressure conditions, as the kubelet's (signal<quantity or percent, comma-separated; \"nodefs.available<0%\" turns one off)")
	f.DurationVar(&cfg.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may go without renewing its Lease before it is marked Unknown and tainted unreachable")
	f.IntVar(&podGCThreshold, "terminated-pod-gc-threshold", 12500, "number of terminated pods that can exist before the pod garbage collector starts deleting them (0 or less: never)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.BoolVar(&cleanup, "cleanup", false, "remove what skiff leaves on the host, the service proxy's nftables table (ip "+proxy.TableName+"), and exit without starting anything (data dir and containers are kept)")
	return cmd
}
