package server

import (
	"context"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/controller/manager"
	"k8s.io/client-go/rest"
)

func init() {
	Register(Component{Name: "controller-manager", User: "system:kube-controller-manager", Run: runControllerManager})
}

// runControllerManager runs the registered controllers while this server holds the Lease
// kube-system/kube-controller-manager (see internal/controller/manager).
func runControllerManager(ctx context.Context, rc *rest.Config, _ *Config, log *slog.Logger) error {
	return manager.Run(ctx, rc, manager.Options{Log: log})
}
