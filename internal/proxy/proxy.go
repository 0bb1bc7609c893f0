package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/knftables"
)

// Config is what Run needs.
type Config struct {
	// NodeIPs are the addresses NodePorts are served on (IPv4; others are ignored). Required.
	NodeIPs []string
	// ResyncInterval rewrites the table even without changes, repairing it if something else altered it;
	// 0 means 30 s.
	ResyncInterval time.Duration
	// Clock defaults to the real clock.
	Clock clock.Clock
	// Log defaults to slog.Default().
	Log *slog.Logger
	// NFT, if set, replaces the real nft (tests pass knftables.NewFake).
	NFT knftables.Interface
}

// ErrNoNodeIPs is returned by Run when Config.NodeIPs is empty.
var ErrNoNodeIPs = errors.New("proxy: no node addresses")

func (c *Config) validate() error {
	if len(c.NodeIPs) == 0 {
		return ErrNoNodeIPs
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = 30 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Run watches Services and EndpointSlices through rc and keeps skiff's nftables table in step with them, until ctx
// ends. Changes are coalesced: one sync covers every change seen before it starts. A failed sync is retried after
// a second.
func Run(ctx context.Context, rc *rest.Config, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	nft := cfg.NFT
	if nft == nil {
		var err error
		if nft, err = knftables.New(knftables.IPv4Family, TableName); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("proxy: client: %w", err)
	}
	return run(ctx, cs, nft, cfg)
}

// run is Run on a clientset and an nft interface (tests pass fakes of both); cfg is validated.
func run(ctx context.Context, cs kubernetes.Interface, nft knftables.Interface, cfg Config) error {
	factory := informers.NewSharedInformerFactory(cs, 0)
	svcInf := factory.Core().V1().Services()
	sliceInf := factory.Discovery().V1().EndpointSlices()
	kick := make(chan struct{}, 1)
	notify := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	if _, err := svcInf.Informer().AddEventHandler(h); err != nil {
		return err
	}
	if _, err := sliceInf.Informer().AddEventHandler(h); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), svcInf.Informer().HasSynced, sliceInf.Informer().HasSynced) {
		return ctx.Err()
	}
	cfg.Log.Info("proxy: caches synced", "nodeIPs", cfg.NodeIPs)
	ticker := cfg.Clock.NewTicker(cfg.ResyncInterval)
	defer ticker.Stop()
	var retry <-chan time.Time
	notify()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-ticker.C():
		case <-retry:
		}
		retry = nil
		svcs, err := svcInf.Lister().List(labels.Everything())
		if err != nil {
			return err
		}
		slices, err := sliceInf.Lister().List(labels.Everything())
		if err != nil {
			return err
		}
		start := cfg.Clock.Now()
		rs := Build(svcs, slices, cfg.NodeIPs)
		if err := Apply(ctx, nft, rs); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			cfg.Log.Error("proxy: sync failed, retrying", "err", err)
			retry = cfg.Clock.After(time.Second)
			continue
		}
		cfg.Log.Debug("proxy: synced", "services", len(rs.Services), "rejected", len(rs.NoEndpoints),
			"chains", len(rs.Chains), "took", cfg.Clock.Since(start))
	}
}
