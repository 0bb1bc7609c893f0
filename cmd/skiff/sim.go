package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func init() { commands = append(commands, simCommand) }

func simCommand() *cobra.Command {
	var (
		kubeconfig, clusterCIDR, logLevel string
		cfg                               sim.Config
		qps                               float32
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate hollow nodes (registered Nodes, leases, pods taken to Ready) through the Kubernetes API",
		Long: `sim registers --nodes simulated nodes with any Kubernetes-compatible API server and acts as their
kubelets: it renews their leases (every 10s) and Ready heartbeats (every 5m, as a kubelet's nodeStatusReportFrequency), takes the pods bound to them
through Pending, Running and Ready, and finishes their deletion. Nodes are named PREFIX+node-00001...,
labelled skiff.dev/simulated=true and report kubelet version ` + sim.KubeletVersion + `.
It stops on SIGINT/SIGTERM and then deletes its nodes unless --cleanup=false.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := perfLogger(logLevel)
			if err != nil {
				return err
			}
			rc, err := perfKubeconfig(kubeconfig)
			if err != nil {
				return err
			}
			if clusterCIDR != "" {
				if cfg.ClusterCIDR, err = netip.ParsePrefix(clusterCIDR); err != nil {
					return fmt.Errorf("--cluster-cidr: %w", err)
				}
			}
			if cfg.Client, cfg.HeartbeatClient, err = sim.Clients(rc, cfg.Nodes, qps); err != nil {
				return err
			}
			cfg.Log = log
			s, err := sim.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			log.Info("sim: starting", "server", rc.Host, "nodes", cfg.Nodes, "prefix", cfg.NamePrefix)
			return s.Start(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default $KUBECONFIG, then ~/.kube/config)")
	f.IntVar(&cfg.Nodes, "nodes", 10, "number of simulated nodes")
	f.StringVar(&cfg.NamePrefix, "name-prefix", "sim-", "node name prefix (nodes are PREFIXnode-00001, ...)")
	f.DurationVar(&cfg.Delays.Start, "pod-start-delay", 0, "how long a pod stays Pending before Running")
	f.DurationVar(&cfg.Delays.Ready, "pod-ready-delay", 0, "how long a Running pod waits before it is Ready")
	f.DurationVar(&cfg.LeaseInterval, "lease-interval", 10*time.Second, "how often each node renews its Lease")
	f.DurationVar(&cfg.StatusInterval, "status-interval", 5*time.Minute, "how often each node posts its Ready heartbeat")
	f.StringVar(&clusterCIDR, "cluster-cidr", sim.ClusterCIDRDefault, "pod CIDRs for nodes the server gives none (a /24 each)")
	f.BoolVar(&cfg.Taint, "taint", false, "taint nodes skiff.dev/simulated=true:NoSchedule so only tolerating pods land there")
	f.Float32Var(&qps, "qps", 1000, "client-side rate limit for pod and registration requests (heartbeats have their own)")
	f.IntVar(&cfg.PodWorkers, "pod-workers", 64, "pod status writes and deletes in flight")
	f.IntVar(&cfg.HeartbeatWorkers, "heartbeat-workers", 0, "lease and status heartbeats in flight (0: one per 50 nodes, at least 16)")
	f.DurationVar(&cfg.ReportInterval, "report-interval", 10*time.Second, "how often to log progress and the simulator's CPU share (0: never)")
	f.BoolVar(&cfg.Cleanup, "cleanup", true, "delete the simulated nodes and their leases on exit")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

// perfKubeconfig reads a kubeconfig: path, else $KUBECONFIG, else ~/.kube/config.
func perfKubeconfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return rc, nil
}

// perfLogger logs text to stderr at level.
func perfLogger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}
