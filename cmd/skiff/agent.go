package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/skiff-sh/skiff/internal/kubelet"
	_ "github.com/skiff-sh/skiff/internal/nodeipam" // registers the node-IPAM server component
	"github.com/skiff-sh/skiff/internal/proxy"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
)

func init() { commands = append(commands, agentCommand) }

func agentCommand() *cobra.Command {
	var cfg kubelet.Config
	var serverURL, token, caFile, logLevel, clusterDNS, clusterCIDR string
	var disableProxy bool
	var evictionHard string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run only a node (kubelet and its containerd, and the service proxy), joined to a skiff server",
		RunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			if serverURL == "" || token == "" {
				return fmt.Errorf("--server and --token are required")
			}
			th, err := kubelet.ParseEvictionHard(evictionHard)
			if err != nil {
				return fmt.Errorf("--eviction-hard: %w", err)
			}
			cfg.EvictionHard = th
			caPEM, err := agentCA(serverURL, caFile)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(caPEM) {
				return fmt.Errorf("no CA certificate in %s", caFile)
			}
			cfg.ClientCA = pool
			if clusterDNS != "" {
				cfg.ClusterDNS = []string{clusterDNS}
			}
			rc := &rest.Config{Host: serverURL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}, QPS: 50, Burst: 100}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if disableProxy {
				return kubelet.Run(ctx, rc, cfg)
			}
			return runWithProxy(ctx, rc, cfg, clusterCIDR)
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "server", "", "URL of the skiff server (https://HOST:6443)")
	f.StringVar(&token, "token", "", "join token (a line of the server's DATA/tokens.csv)")
	f.StringVar(&caFile, "ca-file", "", "cluster CA certificate (the server's DATA/tls/ca.crt); default: trust the CA the server presents on first contact")
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/skiff", "directory for the node's containerd, pod volumes and logs, and images/ to import")
	f.StringVar(&cfg.NodeName, "node-name", "", "node name (default the hostname)")
	f.StringVar(&cfg.RuntimeEndpoint, "container-runtime-endpoint", "", "existing CRI socket to use instead of starting containerd")
	f.StringVar(&cfg.Address, "node-ip", "", "node InternalIP (default the default route's address)")
	f.IntVar(&cfg.Port, "kubelet-port", 10250, "HTTPS port of the kubelet API")
	f.StringVar(&clusterDNS, "cluster-dns", "10.43.0.10", "DNS server for pods (empty: the host's resolv.conf)")
	f.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "cluster DNS domain")
	f.StringVar(&evictionHard, "eviction-hard", kubelet.DefaultEvictionHard, "thresholds of the node's pressure conditions, as the kubelet's (signal<quantity or percent, comma-separated; \"nodefs.available<0%\" turns one off)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.BoolVar(&disableProxy, "disable-proxy", false, "do not run the service proxy (nftables table ip "+proxy.TableName+") on this node")
	f.StringVar(&clusterCIDR, "cluster-cidr", "10.42.0.0/16", "range of pod IPs (the server's --cluster-cidr), for the proxy's externalTrafficPolicy Local")
	return cmd
}

// runWithProxy runs the kubelet and, beside it, the service proxy, until ctx ends or the kubelet returns. A proxy
// that cannot run (e.g. no nft) is logged, not fatal: pods still run, Services are not proxied on this node.
func runWithProxy(ctx context.Context, rc *rest.Config, cfg kubelet.Config, clusterCIDR string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := cfg.Log.With("component", "proxy")
	nodeIP := cfg.Address
	if nodeIP == "" {
		nodeIP = proxy.HostAddress()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		proxy.EnsureSysctls(log)
		err := proxy.Run(ctx, rc, proxy.Config{NodeName: cfg.NodeName, NodeIPs: []string{nodeIP}, ClusterCIDR: clusterCIDR, Log: log})
		if err != nil && ctx.Err() == nil {
			log.Error("Services are not proxied on this node", "err", err)
		}
	}()
	err := kubelet.Run(ctx, rc, cfg)
	cancel()
	<-done
	return err
}

// agentCA reads caFile, or takes the CA certificate the server presents (trust on first use).
func agentCA(serverURL, caFile string) ([]byte, error) {
	if caFile != "" {
		return os.ReadFile(caFile)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, err
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // trust on first use, documented on --ca-file
	if err != nil {
		return nil, fmt.Errorf("contacting %s: %w", serverURL, err)
	}
	defer conn.Close()
	chain := conn.ConnectionState().PeerCertificates
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].IsCA {
			return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[i].Raw}), nil
		}
	}
	return nil, fmt.Errorf("the server at %s does not present its CA; pass --ca-file (the server's DATA/tls/ca.crt)", serverURL)
}
