package scheduler

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderConfig configures leader election between scheduler instances (one per server).
type LeaderConfig struct {
	// Namespace and Name of the Lease (default kube-system/kube-scheduler).
	Namespace, Name string
	// Identity names this instance in the Lease (default hostname_uuid).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to Kubernetes' 15 s, 10 s and 2 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (c *LeaderConfig) setDefaults() {
	if c.Namespace == "" {
		c.Namespace = "kube-system"
	}
	if c.Name == "" {
		c.Name = "kube-scheduler"
	}
	if c.Identity == "" {
		host, _ := os.Hostname()
		c.Identity = host + "_" + string(uuid.NewUUID())
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = 2 * time.Second
	}
}

// RunWithLeaderElection campaigns for the Lease and, during each term it holds it, runs a fresh Scheduler
// built by cfg (so no state survives from an earlier term). When the term ends the scheduler is stopped
// and waited for, and the campaign starts again. It returns when ctx ends, releasing the Lease.
func RunWithLeaderElection(ctx context.Context, client kubernetes.Interface, le LeaderConfig, cfg Config) error {
	le.setDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.Log.With("lease", le.Namespace+"/"+le.Name, "identity", le.Identity)
	for ctx.Err() == nil {
		lock := &resourcelock.LeaseLock{
			LeaseMeta:  metaFor(le),
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
		}
		// OnStartedLeading runs in a goroutine of its own that may start after Run has returned. Whichever
		// of it and the code after Run claims the term first decides: the callback runs the scheduler and
		// closes done, or it finds the term over and does nothing.
		var claim sync.Once
		byCallback := false
		done := make(chan struct{})
		var runErr error
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod,
			ReleaseOnCancel: true, Name: le.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					claim.Do(func() { byCallback = true })
					if !byCallback {
						return
					}
					defer close(done)
					log.Info("leading: scheduler starts")
					s, err := New(cfg)
					if err != nil {
						runErr = err
						return
					}
					runErr = s.Start(lctx)
				},
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		elector.Run(ctx)
		claim.Do(func() {})
		if byCallback {
			<-done
			log.Info("leadership ended: scheduler stopped")
			if runErr != nil {
				log.Error("scheduler stopped with an error", "err", runErr)
			}
		}
	}
	return nil
}

func metaFor(le LeaderConfig) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name}
}
