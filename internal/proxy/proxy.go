package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/informerutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/knftables"
)

// Config is what Run needs.
type Config struct {
	// NodeName is this node's name, for the traffic policies Local; "" means the host name, lower-cased (as the
	// kubelet's default).
	NodeName string
	// NodeIPs are the addresses NodePorts are served on (IPv4; others are ignored). Required.
	NodeIPs []string
	// ClusterCIDR is the pods' range (optional): under externalTrafficPolicy Local, pods' traffic to external
	// addresses still goes to every endpoint.
	ClusterCIDR string
	// CheckInterval is how often the kernel's table is checked (Intact) and rewritten whole if it was removed or
	// flushed; 0 means 30 s.
	CheckInterval time.Duration
	// FullSyncInterval is how often the whole table is rewritten even if it looks intact; 0 means 1 h.
	FullSyncInterval time.Duration
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
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("proxy: hostname: %w", err)
		}
		c.NodeName = strings.ToLower(h)
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = 30 * time.Second
	}
	if c.FullSyncInterval == 0 {
		c.FullSyncInterval = time.Hour
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

func (c *Config) node() Node {
	return Node{Name: c.NodeName, IPs: c.NodeIPs, ClusterCIDR: c.ClusterCIDR}
}

// Run watches Services and EndpointSlices through rc and keeps skiff's nftables table in step with them, until ctx
// ends. The first sync writes the whole table; later ones change only the Services that changed (coalesced: one
// sync covers every change seen before it starts). The whole table is written again after a failed sync (retried
// after a second), when Intact finds it altered, and every FullSyncInterval.
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

const byService = "service"

// dirtySet is the set of Services changed since the last sync, filled by the informers' handlers.
type dirtySet struct {
	mu   sync.Mutex
	keys map[string]bool
	kick chan struct{}
}

func (d *dirtySet) mark(keys ...string) {
	d.mu.Lock()
	for _, k := range keys {
		if k != "" {
			d.keys[k] = true
		}
	}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *dirtySet) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.keys))
	for k := range d.keys {
		out = append(out, k)
	}
	clear(d.keys)
	slices.Sort(out)
	return out
}

// objKey returns the Service key an informer object (possibly a deletion tombstone) concerns.
func objKey(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	switch o := obj.(type) {
	case *corev1.Service:
		return Key(o)
	case *discoveryv1.EndpointSlice:
		return SliceService(o)
	}
	return ""
}

// serviceIndex indexes EndpointSlices by the key of their Service.
func serviceIndex(obj any) ([]string, error) {
	if k := objKey(obj); k != "" {
		return []string{k}, nil
	}
	return nil, nil
}

// run is Run on a clientset and an nft interface (tests pass fakes of both); cfg is validated.
func run(ctx context.Context, cs kubernetes.Interface, nft knftables.Interface, cfg Config) error {
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informerutil.Options()...)
	svcInf := factory.Core().V1().Services().Informer()
	sliceInf := factory.Discovery().V1().EndpointSlices().Informer()
	if err := sliceInf.AddIndexers(cache.Indexers{byService: serviceIndex}); err != nil {
		return fmt.Errorf("proxy: indexer: %w", err)
	}
	dirty := &dirtySet{keys: map[string]bool{}, kick: make(chan struct{}, 1)}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { dirty.mark(objKey(obj)) },
		UpdateFunc: func(old, obj any) { dirty.mark(objKey(old), objKey(obj)) },
		DeleteFunc: func(obj any) { dirty.mark(objKey(obj)) },
	}
	for _, inf := range []cache.SharedIndexInformer{svcInf, sliceInf} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("proxy: handler: %w", err)
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), svcInf.HasSynced, sliceInf.HasSynced) {
		return nil
	}
	cfg.Log.Info("proxy: caches synced", "node", cfg.NodeName, "nodeIPs", cfg.NodeIPs)
	s := &syncer{nft: nft, cfg: cfg, node: cfg.node(), svcs: svcInf.GetIndexer(), slices: sliceInf.GetIndexer(), full: true}
	check := cfg.Clock.NewTicker(cfg.CheckInterval)
	defer check.Stop()
	fullTick := cfg.Clock.NewTicker(cfg.FullSyncInterval)
	defer fullTick.Stop()
	var retry <-chan time.Time
	for {
		keys := dirty.take()
		if s.full || len(keys) > 0 {
			retryKeys, err := s.sync(ctx, keys)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				cfg.Log.Error("proxy: sync failed, rewriting the whole table in a second", "err", err)
				retry = cfg.Clock.After(time.Second)
			}
			if len(retryKeys) > 0 {
				dirty.mark(retryKeys...)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-dirty.kick:
		case <-retry:
			retry = nil
		case <-fullTick.C():
			s.full = true
		case <-check.C():
			if ok, err := Intact(ctx, nft); err != nil {
				cfg.Log.Warn("proxy: cannot check the table", "err", err)
			} else if !ok {
				cfg.Log.Warn("proxy: table ip " + TableName + " was altered; rewriting it")
				s.full = true
			}
		}
	}
}

// maxHandoverRounds bounds how many times one sync builds again the Services handed back by Table.Set.
const maxHandoverRounds = 4

// syncer writes the table: whole, or the changes of some Services against what it wrote last.
type syncer struct {
	nft          knftables.Interface
	cfg          Config
	node         Node
	svcs, slices cache.Indexer
	table        *Table // what the kernel holds; nil after a failure
	full         bool
}

// sync writes the whole table if s.full (or nothing was written yet), else the changes of the Services keys. It
// returns Services to build again (see Table.Set).
func (s *syncer) sync(ctx context.Context, keys []string) ([]string, error) {
	start := s.cfg.Clock.Now()
	tx := s.nft.NewTransaction()
	var retry []string
	full := s.full || s.table == nil
	var table *Table
	if full {
		var svcs []*corev1.Service
		for _, o := range s.svcs.List() {
			svcs = append(svcs, o.(*corev1.Service))
		}
		var sl []*discoveryv1.EndpointSlice
		for _, o := range s.slices.List() {
			sl = append(sl, o.(*discoveryv1.EndpointSlice))
		}
		table = Build(svcs, sl, s.node)
		table.WriteAll(tx)
		// Services refused a destination stay so until one is released; nothing to rebuild now.
	} else {
		table = s.table
		// A Service refused a destination another held is built again in this same transaction once the other
		// lets it go, so the destination passes from one to the other atomically instead of being in neither map
		// until the next sync. Rounds are bounded; what is left is synced next time.
		pending := keys
		for round := 0; len(pending) > 0 && round < maxHandoverRounds; round++ {
			var again []string
			for _, k := range pending {
				again = append(again, table.Set(tx, k, s.buildOne(k))...)
			}
			slices.Sort(again)
			pending = slices.Compact(again)
		}
		retry = pending
	}
	s.table = nil // until the transaction succeeds
	if tx.NumOperations() > 0 {
		if err := s.nft.Run(ctx, tx); err != nil {
			s.full = true
			return nil, fmt.Errorf("proxy: nft: %w", err)
		}
	}
	s.table, s.full = table, false
	s.cfg.Log.Debug("proxy: synced", "full", full, "services", len(keys), "operations", tx.NumOperations(),
		"took", s.cfg.Clock.Since(start))
	return retry, nil
}

// buildOne builds the rules of one Service from the caches (nil if it is gone).
func (s *syncer) buildOne(key string) *ServiceRules {
	o, ok, err := s.svcs.GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	objs, _ := s.slices.ByIndex(byService, key)
	sl := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		sl = append(sl, o.(*discoveryv1.EndpointSlice))
	}
	return BuildService(o.(*corev1.Service), sl, s.node)
}

// EnsureSysctls turns on what Service traffic needs: forwarding, and netfilter on bridged traffic (pod → VIP →
// pod on the same bridge). Failures are logged, not fatal: the settings may be fixed on the host.
func EnsureSysctls(log *slog.Logger) {
	for _, p := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"} {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 && b[0] == '1' {
			continue
		}
		if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
			log.Warn("proxy: cannot enable sysctl", "path", p, "err", err)
		}
	}
}

// HostAddress is the IPv4 address of the default route, or 127.0.0.1 (the kubelet's default node address).
func HostAddress() string {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsUnspecified() {
			return a.IP.String()
		}
	}
	return "127.0.0.1"
}
