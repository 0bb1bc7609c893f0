package endpointslicemirroring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "endpointslicemirroring"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "endpoint-slice-mirroring-controller"

// Reasons of the Warning events recorded on an Endpoints object, as upstream.
const (
	EventInvalidIPAddress         = "InvalidIPAddress"
	EventTooManyAddressesToMirror = "TooManyAddressesToMirror"
)

// ErrStaleCache means the informer cache has not yet caught up with this controller's own writes; the sync is
// retried with backoff.
var ErrStaleCache = errors.New("endpointslicemirroring: EndpointSlice informer cache is out of date")

// Controller mirrors the Endpoints of Services without a selector into EndpointSlices. It is the thin shell
// around Reconcile.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	log      *slog.Logger

	epsLister   corelisters.EndpointsLister
	svcLister   corelisters.ServiceLister
	sliceLister discoverylisters.EndpointSliceLister
	synced      []cache.InformerSynced

	queue   workqueue.TypedRateLimitingInterface[string]
	tracker *controllerutil.SliceTracker
	// maxPerSubset is MaxEndpointsPerSubset; tests lower it.
	maxPerSubset int
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Endpoints, Service
// and EndpointSlice informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	epsInf := cc.Informers.Core().V1().Endpoints()
	svcInf := cc.Informers.Core().V1().Services()
	sliceInf := cc.Informers.Discovery().V1().EndpointSlices()
	c := &Controller{
		client:       cc.Client,
		recorder:     cc.Recorder(eventSource),
		log:          cc.LogOrDefault().With("controller", Name),
		epsLister:    epsInf.Lister(),
		svcLister:    svcInf.Lister(),
		sliceLister:  sliceInf.Lister(),
		queue:        controller.NewQueue[string](Name),
		tracker:      controllerutil.NewSliceTracker(),
		maxPerSubset: MaxEndpointsPerSubset,
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: Name, Informer: epsInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.endpointsChanged(obj, nil) },
			UpdateFunc: func(old, cur any) { c.endpointsChanged(cur, old) },
			DeleteFunc: func(obj any) { c.endpointsChanged(obj, nil) },
		}},
		controller.Handler{What: Name, Informer: svcInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: c.serviceAddedOrDeleted,
			UpdateFunc: func(old, cur any) {
				// Only gaining or losing the selector changes whether the Endpoints are mirrored.
				if o, n := old.(*corev1.Service), cur.(*corev1.Service); MirrorsService(o) != MirrorsService(n) {
					c.enqueue(n.Namespace, n.Name)
				}
			},
			DeleteFunc: c.serviceAddedOrDeleted,
		}},
		controller.Handler{What: Name, Informer: sliceInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.sliceAdded,
			UpdateFunc: c.sliceUpdated,
			DeleteFunc: c.sliceDeleted,
		}},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then syncs Endpoints keys with workers
// goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueue(ns, name string) { c.queue.Add(ns + "/" + name) }

// endpointsChanged queues an Endpoints object that is (or, before an update, was) to be mirrored.
func (c *Controller) endpointsChanged(obj, old any) {
	eps, ok := controllerutil.ObjectOf[*corev1.Endpoints](obj)
	if !ok {
		return
	}
	if ShouldMirror(eps) {
		c.enqueue(eps.Namespace, eps.Name)
		return
	}
	if prev, ok := controllerutil.ObjectOf[*corev1.Endpoints](old); ok && ShouldMirror(prev) {
		c.enqueue(eps.Namespace, eps.Name)
	}
}

// serviceAddedOrDeleted queues the Endpoints of a Service without a selector.
func (c *Controller) serviceAddedOrDeleted(obj any) {
	if svc, ok := controllerutil.ObjectOf[*corev1.Service](obj); ok && MirrorsService(svc) {
		c.enqueue(svc.Namespace, svc.Name)
	}
}

// keyOf returns the Endpoints key of a slice this controller manages.
func keyOf(s *discoveryv1.EndpointSlice) (string, bool) {
	if s.Labels[discoveryv1.LabelManagedBy] != ControllerName || s.Labels[discoveryv1.LabelServiceName] == "" {
		return "", false
	}
	return s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName], true
}

// sliceAdded queues the Endpoints of a managed slice someone else created.
func (c *Controller) sliceAdded(obj any) {
	s, ok := controllerutil.ObjectOf[*discoveryv1.EndpointSlice](obj)
	if !ok {
		return
	}
	if key, ok := keyOf(s); ok && !c.tracker.OwnEvent(key, s) {
		c.queue.Add(key)
	}
}

// sliceUpdated queues the Endpoints of a managed slice someone else changed, and both Endpoints when the slice's
// service-name or managed-by label changed.
func (c *Controller) sliceUpdated(old, cur any) {
	o, n := old.(*discoveryv1.EndpointSlice), cur.(*discoveryv1.EndpointSlice)
	if o.Labels[discoveryv1.LabelServiceName] != n.Labels[discoveryv1.LabelServiceName] ||
		(o.Labels[discoveryv1.LabelManagedBy] == ControllerName) != (n.Labels[discoveryv1.LabelManagedBy] == ControllerName) {
		for _, s := range []*discoveryv1.EndpointSlice{o, n} {
			if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
				c.enqueue(s.Namespace, name)
			}
		}
		return
	}
	c.sliceAdded(n)
}

// sliceDeleted queues the Endpoints of a managed slice someone else deleted.
func (c *Controller) sliceDeleted(obj any) {
	s, ok := controllerutil.ObjectOf[*discoveryv1.EndpointSlice](obj)
	if !ok {
		return
	}
	if key, ok := keyOf(s); ok && !c.tracker.ObservedDeletion(key, s.UID) {
		c.queue.Add(key)
	}
}

// sync brings the slices mirroring the Endpoints named by key (namespace/name) to the desired state once; see the
// package documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	eps, err := c.epsLister.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		eps = nil
	} else if err != nil {
		return controller.Result{}, err
	}
	var svc *corev1.Service
	if ShouldMirror(eps) {
		svc, err = c.svcLister.Services(ns).Get(name)
		if apierrors.IsNotFound(err) {
			svc = nil
		} else if err != nil {
			return controller.Result{}, err
		}
	}
	cached, err := c.sliceLister.EndpointSlices(ns).List(labels.SelectorFromValidatedSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ControllerName,
	}))
	if err != nil {
		return controller.Result{}, err
	}
	mirror := ShouldMirror(eps) && MirrorsService(svc)
	if !mirror {
		// Nothing is to be mirrored: whatever the cache shows goes, and nothing is remembered.
		c.tracker.Forget(key)
	} else if c.tracker.Stale(key, cached) {
		return controller.Result{}, ErrStaleCache
	}
	existing := make([]*discoveryv1.EndpointSlice, 0, len(cached))
	for _, s := range cached {
		if s.DeletionTimestamp == nil {
			existing = append(existing, s)
		}
	}
	plan := Reconcile(eps, svc, existing, c.maxPerSubset)
	if plan.InvalidAddresses > 0 {
		c.recorder.Eventf(eps, corev1.EventTypeWarning, EventInvalidIPAddress,
			"Skipped %d invalid IP addresses when mirroring to EndpointSlices", plan.InvalidAddresses)
	}
	if plan.SkippedAddresses > plan.InvalidAddresses {
		c.recorder.Eventf(eps, corev1.EventTypeWarning, EventTooManyAddressesToMirror,
			"A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset. %d addresses were skipped",
			c.maxPerSubset, plan.SkippedAddresses)
	}
	if err := c.apply(ctx, key, eps, plan, mirror); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, nil
}

// apply writes plan: creations (none while eps is being deleted), then updates, then deletions; track says
// whether the writes are remembered for the stale-cache check.
func (c *Controller) apply(ctx context.Context, key string, eps *corev1.Endpoints, plan Plan, track bool) error {
	if len(plan.Create)+len(plan.Update)+len(plan.Delete) == 0 {
		return nil
	}
	ns, _, _ := cache.SplitMetaNamespaceKey(key)
	slices := c.client.DiscoveryV1().EndpointSlices(ns)
	if eps != nil && eps.DeletionTimestamp == nil {
		for _, s := range plan.Create {
			created, err := slices.Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return nil
				}
				return fmt.Errorf("create EndpointSlice for Endpoints %s: %w", key, err)
			}
			if track {
				c.tracker.Wrote(key, created)
			}
		}
	}
	for _, s := range plan.Update {
		updated, err := slices.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update EndpointSlice %s for Endpoints %s: %w", s.Name, key, err)
		}
		if track {
			c.tracker.Wrote(key, updated)
		}
	}
	for _, s := range plan.Delete {
		uid := s.UID
		opts := metav1.DeleteOptions{}
		if uid != "" {
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
		}
		err := slices.Delete(ctx, s.Name, opts)
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete EndpointSlice %s for Endpoints %s: %w", s.Name, key, err)
		}
		if track {
			c.tracker.Deleted(key, uid)
		}
	}
	return nil
}
