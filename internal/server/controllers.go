package server

import (
	"context"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/controller/manager"
	"github.com/skiff-sh/skiff/internal/controller/nodelifecycle"
	"github.com/skiff-sh/skiff/internal/controller/podgc"
	"k8s.io/client-go/rest"
)

func init() {
	Register(Component{Name: "controller-manager", User: "system:kube-controller-manager", Groups: []string{"system:masters"}, Run: runControllerManager})
}

// runControllerManager runs the registered controllers while this server holds the Lease
// kube-system/kube-controller-manager (see internal/controller/manager).
func runControllerManager(ctx context.Context, rc *rest.Config, cfg *Config, log *slog.Logger) error {
	return manager.Run(ctx, rc, manager.Options{Log: log, Controllers: controllers(cfg), ClusterSigner: cfg.clusterSigner})
}

// controllers is the manager's registry with the node lifecycle and pod GC controllers built from cfg's options.
func controllers(cfg *Config) []manager.Registration {
	regs := append([]manager.Registration(nil), manager.Controllers...)
	for i := range regs {
		if regs[i].Name == nodelifecycle.Name {
			regs[i].New = nodelifecycle.NewWith(nodelifecycle.Options{NodeMonitorGracePeriod: cfg.NodeMonitorGracePeriod})
		}
		if regs[i].Name == podgc.Name && cfg.TerminatedPodGCThreshold != nil {
			regs[i].New = podgc.NewWith(podgc.Options{TerminatedPodThreshold: *cfg.TerminatedPodGCThreshold})
		}
	}
	return regs
}
