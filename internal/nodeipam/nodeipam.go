// Package nodeipam is the server component that gives every Node a pod CIDR: a /24 (by default) from
// --cluster-cidr, written once to spec.podCIDR and spec.podCIDRs, as kube-controller-manager's node IPAM does with
// --allocate-node-cidrs. The kubelet waits for it before writing the node's CNI configuration.
package nodeipam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/skiff-sh/skiff/internal/informerutil"
	"github.com/skiff-sh/skiff/internal/server"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// ErrFull is returned when every node CIDR of the cluster CIDR is taken.
var ErrFull = errors.New("nodeipam: cluster CIDR is full")

// NodeMaskSize is the prefix length of each node's CIDR.
const NodeMaskSize = 24

func init() {
	server.Register(server.Component{
		Name: "node-ipam", User: "system:kube-controller-manager", Groups: []string{"system:masters"},
		Run: func(ctx context.Context, rc *rest.Config, cfg *server.Config, log *slog.Logger) error {
			cidr, err := netip.ParsePrefix(cfg.ClusterCIDR)
			if err != nil {
				return fmt.Errorf("--cluster-cidr %q: %w", cfg.ClusterCIDR, err)
			}
			cs, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			return Run(ctx, cs, cidr, log)
		},
	})
}

// Allocate returns the first node CIDR of cluster not in used (pure).
func Allocate(cluster netip.Prefix, used map[netip.Prefix]bool) (netip.Prefix, error) {
	cluster = cluster.Masked()
	if cluster.Bits() > NodeMaskSize || !cluster.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("nodeipam: cluster CIDR %s must be IPv4 and at most /%d", cluster, NodeMaskSize)
	}
	n := 1 << (NodeMaskSize - cluster.Bits())
	base := cluster.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for i := 0; i < n; i++ {
		v := start + uint32(i)<<(32-NodeMaskSize)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), NodeMaskSize)
		if !used[p] {
			return p, nil
		}
	}
	return netip.Prefix{}, ErrFull
}

// Run assigns CIDRs to nodes without one until ctx ends.
func Run(ctx context.Context, cs kubernetes.Interface, cluster netip.Prefix, log *slog.Logger) error {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informerutil.Options()...)
	inf := f.Core().V1().Nodes()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer q.ShutDown()
	add := func(o any) {
		if n, ok := o.(*corev1.Node); ok && n.Spec.PodCIDR == "" {
			q.Add(n.Name)
		}
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, o any) { add(o) }})
	f.Start(ctx.Done())
	defer f.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return ctx.Err()
	}
	lister := inf.Lister()
	go func() { <-ctx.Done(); q.ShutDown() }()
	for {
		name, quit := q.Get()
		if quit {
			return nil
		}
		err := assign(ctx, cs, lister.List, cluster, name)
		if err != nil {
			log.Warn("node CIDR allocation", "node", name, "err", err)
			q.AddRateLimited(name)
		} else {
			q.Forget(name)
		}
		q.Done(name)
	}
}

func assign(ctx context.Context, cs kubernetes.Interface, list func(labels.Selector) ([]*corev1.Node, error), cluster netip.Prefix, name string) error {
	for attempt := 0; attempt < 5; attempt++ {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if n.Spec.PodCIDR != "" {
			return nil
		}
		nodes, err := list(labels.Everything())
		if err != nil {
			return err
		}
		used := map[netip.Prefix]bool{}
		for _, o := range nodes {
			for _, c := range append([]string{o.Spec.PodCIDR}, o.Spec.PodCIDRs...) {
				if p, err := netip.ParsePrefix(c); err == nil {
					used[p.Masked()] = true
				}
			}
		}
		p, err := Allocate(cluster, used)
		if err != nil {
			return err
		}
		n.Spec.PodCIDR, n.Spec.PodCIDRs = p.String(), []string{p.String()}
		if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		return nil
	}
	return fmt.Errorf("nodeipam: too many conflicts updating node %s", name)
}
