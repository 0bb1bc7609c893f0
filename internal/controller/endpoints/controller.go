package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "endpoints"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "endpoint-controller"

// Event reasons, as upstream.
const (
	EventFailedToCreateEndpoint = "FailedToCreateEndpoint"
	EventFailedToUpdateEndpoint = "FailedToUpdateEndpoint"
)

// leaderAnnotation marks Endpoints used as a leader-election lock by old components; they are never deleted.
const leaderAnnotation = "control-plane.alpha.kubernetes.io/leader"

// apiServerKey is the Endpoints the API server maintains itself (for the kubernetes Service).
const apiServerKey = metav1.NamespaceDefault + "/kubernetes"

// ErrStaleCache means the informer cache has not yet caught up with this controller's own last write; the sync is
// retried with backoff.
var ErrStaleCache = errors.New("endpoints: Endpoints informer cache is out of date")

// Controller keeps a core/v1 Endpoints object, named after the Service, for every Service with a selector. It is
// the thin shell around Reconcile.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	log      *slog.Logger

	svcLister corelisters.ServiceLister
	podLister corelisters.PodLister
	epLister  corelisters.EndpointsLister
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	mu sync.Mutex // guards written
	// written remembers, per Service key, this controller's last write until the cache shows it.
	written map[string]write
}

// write is a write of an Endpoints object: a creation, or an update over the resourceVersion replaced.
type write struct {
	created    bool
	replacedRV string
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Service, Pod and
// Endpoints informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	svcInf := cc.Informers.Core().V1().Services()
	podInf := cc.Informers.Core().V1().Pods()
	epInf := cc.Informers.Core().V1().Endpoints() //nolint:staticcheck // Endpoints is deprecated, and this controller keeps it for older clients.
	c := &Controller{
		client:    cc.Client,
		recorder:  cc.Recorder(eventSource),
		log:       cc.LogOrDefault().With("controller", Name),
		svcLister: svcInf.Lister(),
		podLister: podInf.Lister(),
		epLister:  epInf.Lister(),
		queue:     controller.NewQueue[string](Name),
		written:   map[string]write{},
	}
	var err error
	// A registration error names the controller rather than the informer.
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: Name, Informer: svcInf.Informer(), Handler: controllerutil.EnqueueHandler[*corev1.Service](c.queue, nil)},
		controller.Handler{What: Name, Informer: podInf.Informer(), Handler: cache.ResourceEventHandlerDetailedFuncs{
			// Pods listed at start-up need no event: every Service is queued by its own.
			AddFunc: func(obj any, initial bool) {
				if !initial {
					c.podAddedOrDeleted(obj)
				}
			},
			UpdateFunc: func(old, cur any) { c.podUpdated(old.(*corev1.Pod), cur.(*corev1.Pod)) },
			DeleteFunc: c.podAddedOrDeleted,
		}},
		controller.Handler{What: Name, Informer: epInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueue}},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, queues Endpoints left over from Services deleted
// while no controller ran, then syncs Services with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return nil
	}
	c.queueLeftovers()
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

// queueLeftovers queues every Endpoints object without a Service (except leader-election locks), so that sync
// deletes it, as upstream's checkLeftoverEndpoints.
func (c *Controller) queueLeftovers() {
	all, err := c.epLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ep := range all {
		if _, ok := ep.Annotations[leaderAnnotation]; ok {
			continue
		}
		if _, err := c.svcLister.Services(ep.Namespace).Get(ep.Name); apierrors.IsNotFound(err) {
			c.queue.Add(ep.Namespace + "/" + ep.Name)
		}
	}
}

func (c *Controller) enqueue(obj any) {
	if m, ok := controllerutil.ObjectOf[metav1.Object](obj); ok {
		c.queue.Add(m.GetNamespace() + "/" + m.GetName())
	}
}

// podAddedOrDeleted queues the Services selecting the pod.
func (c *Controller) podAddedOrDeleted(obj any) {
	for _, k := range controllerutil.ServiceKeysForPod(c.svcLister, controllerutil.PodFromEvent(obj)) {
		c.queue.Add(k)
	}
}

// podUpdated queues the Services whose endpoints the change may affect.
func (c *Controller) podUpdated(old, cur *corev1.Pod) {
	for _, k := range controllerutil.ServiceKeysForPodChange(c.svcLister, old, cur) {
		c.queue.Add(k)
	}
}

// stale reports whether cur (nil: not in the cache) predates this controller's last write for key, and forgets
// the write once the cache shows it.
func (c *Controller) stale(key string, cur *corev1.Endpoints) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.written[key]
	if !ok {
		return false
	}
	if cur == nil && w.created || cur != nil && !w.created && cur.ResourceVersion == w.replacedRV {
		return true
	}
	delete(c.written, key)
	return false
}

func (c *Controller) remember(key string, w write) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[key] = w
}

func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.written, key)
}

// sync brings the Endpoints of the Service named by key (namespace/name) in line once; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	if key == apiServerKey {
		return controller.Result{}, nil
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	svc, err := c.svcLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		err := c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return controller.Result{}, fmt.Errorf("delete endpoints: %w", err)
		}
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
		// Services without a selector get their Endpoints from whoever manages them.
		return controller.Result{}, nil
	}
	pods, err := c.podLister.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return controller.Result{}, err
	}
	cur, err := c.epLister.Endpoints(ns).Get(name)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return controller.Result{}, err
		}
		cur = nil
	}
	if c.stale(key, cur) {
		return controller.Result{}, ErrStaleCache
	}
	want, changed := Reconcile(svc, pods, cur)
	if !changed {
		return controller.Result{}, nil
	}
	eps := c.client.CoreV1().Endpoints(ns)
	if cur == nil {
		if _, err := eps.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return controller.Result{}, nil
			}
			c.recorder.Eventf(want, corev1.EventTypeWarning, EventFailedToCreateEndpoint, "Failed to create endpoint for service %s/%s: %v", ns, name, err)
			return controller.Result{}, fmt.Errorf("create endpoints: %w", err)
		}
		c.remember(key, write{created: true})
		return controller.Result{}, nil
	}
	updated, err := eps.Update(ctx, want, metav1.UpdateOptions{})
	if err != nil {
		c.recorder.Eventf(want, corev1.EventTypeWarning, EventFailedToUpdateEndpoint, "Failed to update endpoint %s/%s: %v", ns, name, err)
		return controller.Result{}, fmt.Errorf("update endpoints: %w", err)
	}
	if updated.ResourceVersion != cur.ResourceVersion {
		c.remember(key, write{replacedRV: cur.ResourceVersion})
	}
	return controller.Result{}, nil
}
