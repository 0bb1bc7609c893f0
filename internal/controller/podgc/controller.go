package podgc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry, as kube-controller-manager's.
const Name = "pod-garbage-collector"

// parallelDeletes bounds the deletions in flight.
const parallelDeletes = 16

// Controller force-deletes the pods Reconcile plans. It is the thin shell around Reconcile.
type Controller struct {
	client kubernetes.Interface
	clock  clock.Clock
	log    *slog.Logger
	opts   Options

	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex // guards missing
	missing map[string]time.Time
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller with DefaultOptions.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc, DefaultOptions())
}

// NewWith returns a Constructor that builds the controller with opts.
func NewWith(opts Options) controller.Constructor {
	return func(cc controller.Context) (controller.Controller, error) { return newController(cc, opts) }
}

func newController(cc controller.Context, opts Options) (*Controller, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	return &Controller{
		client: cc.Client, clock: cc.ClockOrReal(), log: cc.LogOrDefault().With("controller", Name), opts: opts,
		podLister: podInf.Lister(), nodeLister: nodeInf.Lister(),
		synced:  []cache.InformerSynced{podInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		queue:   controller.NewQueue[string](Name),
		missing: map[string]time.Time{},
	}, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then scans every CheckPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context, _ int) error {
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return nil
	}
	c.queue.Add(Name)
	controller.RunWorkers(ctx, c.log, c.queue, 1, c.sync)
	return nil
}

// sync scans once and carries out the Plan. On errors it still scans again after CheckPeriod.
func (c *Controller) sync(ctx context.Context, _ string) (controller.Result, error) {
	pods, err := c.podLister.List(labels.Everything())
	if err != nil {
		return controller.Result{}, fmt.Errorf("list pods: %w", err)
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return controller.Result{}, fmt.Errorf("list nodes: %w", err)
	}
	now := c.clock.Now()
	c.mu.Lock()
	plan := Reconcile(Input{Pods: pods, Nodes: nodes, Missing: c.missing, Now: now}, c.opts)
	c.missing = plan.Missing
	c.mu.Unlock()

	todo := plan.Delete
	var errs []error
	for node, dels := range plan.Orphaned {
		_, err := c.client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			todo = append(todo, dels...)
		case err != nil:
			errs = append(errs, fmt.Errorf("get node %s: %w", node, err))
		default:
			// The cache lags: the node exists. Quarantine it again.
			c.mu.Lock()
			c.missing[node] = now
			c.mu.Unlock()
		}
	}
	if len(todo) > 0 {
		c.log.Info("garbage collecting pods", "pods", len(todo))
	}
	errs = append(errs, c.deleteAll(ctx, todo, now)...)
	if err := errors.Join(errs...); err != nil {
		c.log.Warn("pod garbage collection", "err", err)
	}
	// Errors are logged, not retried with back-off: the next scan plans the same pods again.
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// deleteAll runs markFailedAndDelete for every Deletion, parallelDeletes at a time.
func (c *Controller) deleteAll(ctx context.Context, dels []Deletion, now time.Time) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, parallelDeletes)
	for _, d := range dels {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := c.markFailedAndDelete(ctx, d, now); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// markFailedAndDelete moves a pod that has not finished to phase Failed (with the Deletion's condition), then
// deletes it with grace period 0, as upstream's markFailedAndDeletePodWithCondition.
func (c *Controller) markFailedAndDelete(ctx context.Context, d Deletion, now time.Time) error {
	p := d.Pod
	pods := c.client.CoreV1().Pods(p.Namespace)
	c.log.Info("force deleting pod", "pod", p.Namespace+"/"+p.Name, "reason", d.Reason)
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		patch := fmt.Sprintf(`{"status":{"phase":%q`, corev1.PodFailed)
		if cond := d.Condition; cond != nil {
			patch += fmt.Sprintf(`,"conditions":[{"type":%q,"status":%q,"reason":%q,"message":%q,"lastTransitionTime":%q}]`,
				cond.Type, cond.Status, cond.Reason, cond.Message, now.UTC().Format(time.RFC3339))
		}
		patch += "}}"
		if _, err := pods.Patch(ctx, p.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("mark pod %s/%s failed: %w", p.Namespace, p.Name, err)
		}
	}
	zero := int64(0)
	uid := p.UID
	err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}
