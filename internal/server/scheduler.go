package server

import (
	"context"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/scheduler"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func init() {
	Register(Component{Name: "scheduler", User: "system:kube-scheduler", Groups: []string{"system:masters"}, Run: runScheduler})
}

// runScheduler runs the scheduler while this server holds the Lease kube-system/kube-scheduler.
func runScheduler(ctx context.Context, rc *rest.Config, _ *Config, log *slog.Logger) error {
	rc = rest.CopyConfig(rc)
	// Binding is one call per pod (plus an event): the default 200 qps would cap throughput at ~100 pods/s.
	rc.QPS, rc.Burst = 5000, 10000
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	return scheduler.RunWithLeaderElection(ctx, client, scheduler.LeaderConfig{}, scheduler.Config{
		Client:          client,
		Log:             log,
		PriorityClasses: scheduler.DetectPriorityClasses(client),
	})
}
