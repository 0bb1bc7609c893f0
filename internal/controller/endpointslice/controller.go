package endpointslice

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
const Name = "endpointslice"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "endpoint-slice-controller"

// EventFailedToUpdateEndpointSlices is the reason of the Warning event on a Service whose slices could not be written.
const EventFailedToUpdateEndpointSlices = "FailedToUpdateEndpointSlices"

// ErrStaleCache means the informer cache has not yet caught up with this controller's own writes; the sync is
// retried with backoff.
var ErrStaleCache = errors.New("endpointslice: EndpointSlice informer cache is out of date")

// Controller keeps the EndpointSlices of every Service with a selector. It is the thin shell around Reconcile.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	log      *slog.Logger

	svcLister   corelisters.ServiceLister
	podLister   corelisters.PodLister
	podIndexer  cache.Indexer
	nodeLister  corelisters.NodeLister
	sliceLister discoverylisters.EndpointSliceLister
	synced      []cache.InformerSynced

	queue   workqueue.TypedRateLimitingInterface[string]
	tracker *controllerutil.SliceTracker
	// maxPerSlice is MaxEndpointsPerSlice; tests lower it.
	maxPerSlice int
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Service, Pod, Node
// and EndpointSlice informers of cc.Informers (and a pod index by node) and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	svcInf := cc.Informers.Core().V1().Services()
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	sliceInf := cc.Informers.Discovery().V1().EndpointSlices()
	if err := controllerutil.AddPodNodeNameIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{
		client:      cc.Client,
		recorder:    cc.Recorder(eventSource),
		log:         cc.LogOrDefault().With("controller", Name),
		svcLister:   svcInf.Lister(),
		podLister:   podInf.Lister(),
		podIndexer:  podInf.Informer().GetIndexer(),
		nodeLister:  nodeInf.Lister(),
		sliceLister: sliceInf.Lister(),
		queue:       controller.NewQueue[string](Name),
		tracker:     controllerutil.NewSliceTracker(),
		maxPerSlice: MaxEndpointsPerSlice,
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
		controller.Handler{What: Name, Informer: nodeInf.Informer(), Handler: cache.ResourceEventHandlerDetailedFuncs{
			// Nodes listed at start-up are in the cache before any sync; a node added later may be one whose pods
			// a sync had to leave out.
			AddFunc: func(obj any, initial bool) {
				if !initial {
					c.nodeChanged(obj)
				}
			},
			UpdateFunc: func(old, cur any) {
				if o, n := old.(*corev1.Node), cur.(*corev1.Node); o.Labels[corev1.LabelTopologyZone] != n.Labels[corev1.LabelTopologyZone] {
					c.nodeChanged(n)
				}
			},
			DeleteFunc: c.nodeChanged,
		}},
		controller.Handler{What: Name, Informer: sliceInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.sliceChanged,
			UpdateFunc: func(old, cur any) { c.sliceChanged(old); c.sliceChanged(cur) },
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

// Run implements controller.Controller: it waits for the caches, then syncs Services with workers goroutines until
// ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueueKeys(keys []string) {
	for _, k := range keys {
		c.queue.Add(k)
	}
}

// podAddedOrDeleted queues the Services selecting the pod.
func (c *Controller) podAddedOrDeleted(obj any) {
	c.enqueueKeys(controllerutil.ServiceKeysForPod(c.svcLister, controllerutil.PodFromEvent(obj)))
}

// podUpdated queues the Services whose endpoints the change may affect.
func (c *Controller) podUpdated(old, cur *corev1.Pod) {
	c.enqueueKeys(controllerutil.ServiceKeysForPodChange(c.svcLister, old, cur))
}

// nodeChanged queues the Services of the pods on a node that appeared, went or moved to another zone.
func (c *Controller) nodeChanged(obj any) {
	n, ok := controllerutil.ObjectOf[*corev1.Node](obj)
	if !ok {
		return
	}
	pods, err := controllerutil.PodsOnNode(c.podIndexer, n.Name)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range pods {
		for _, k := range controllerutil.ServiceKeysForPod(c.svcLister, p) {
			if !seen[k] {
				seen[k] = true
				c.queue.Add(k)
			}
		}
	}
}

// serviceKeyOf returns the key of the Service a slice this controller manages belongs to.
func serviceKeyOf(obj any) (*discoveryv1.EndpointSlice, string, bool) {
	s, ok := controllerutil.ObjectOf[*discoveryv1.EndpointSlice](obj)
	if !ok || s.Labels[discoveryv1.LabelManagedBy] != ControllerName || s.Labels[discoveryv1.LabelServiceName] == "" {
		return nil, "", false
	}
	return s, s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName], true
}

// sliceChanged queues the Service of a managed slice that someone else changed (its own writes need no sync).
func (c *Controller) sliceChanged(obj any) {
	if s, key, ok := serviceKeyOf(obj); ok && !c.tracker.OwnEvent(key, s) {
		c.queue.Add(key)
	}
}

// sliceDeleted queues the Service of a managed slice that someone else deleted.
func (c *Controller) sliceDeleted(obj any) {
	if s, key, ok := serviceKeyOf(obj); ok && !c.tracker.ObservedDeletion(key, s.UID) {
		c.queue.Add(key)
	}
}

// sync brings the EndpointSlices of the Service named by key (namespace/name) to the desired state once; see
// the package documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	svc, err := c.svcLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The slices go with their owner (garbage collector).
		c.tracker.Forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
		// Slices of Services without a selector are written by whoever manages their endpoints.
		return controller.Result{}, nil
	}
	pods, err := c.podLister.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return controller.Result{}, err
	}
	cached, err := c.sliceLister.EndpointSlices(ns).List(labels.SelectorFromValidatedSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ControllerName,
	}))
	if err != nil {
		return controller.Result{}, err
	}
	if c.tracker.Stale(key, cached) {
		return controller.Result{}, ErrStaleCache
	}
	existing := make([]*discoveryv1.EndpointSlice, 0, len(cached))
	for _, s := range cached {
		if s.DeletionTimestamp == nil {
			existing = append(existing, s)
		}
	}
	nodes := map[string]*corev1.Node{}
	for _, p := range pods {
		if n := p.Spec.NodeName; n != "" && nodes[n] == nil {
			if node, err := c.nodeLister.Get(n); err == nil {
				nodes[n] = node
			}
		}
	}
	plan := Reconcile(svc, pods, nodes, existing, c.maxPerSlice)
	if err := c.apply(ctx, key, svc, plan); err != nil {
		if !errors.Is(err, errNamespaceTerminating) {
			c.recorder.Eventf(svc, corev1.EventTypeWarning, EventFailedToUpdateEndpointSlices,
				"Error updating Endpoint Slices for Service %s/%s: %v", svc.Namespace, svc.Name, err)
			return controller.Result{}, err
		}
		return controller.Result{}, nil
	}
	if len(plan.MissingNodes) > 0 {
		return controller.Result{}, fmt.Errorf("pods of Service %s left out: nodes %v not found", key, plan.MissingNodes)
	}
	return controller.Result{}, nil
}

var errNamespaceTerminating = errors.New("namespace terminating")

// apply writes plan: creations (none while svc is being deleted), then updates, then deletions.
func (c *Controller) apply(ctx context.Context, key string, svc *corev1.Service, plan Plan) error {
	slices := c.client.DiscoveryV1().EndpointSlices(svc.Namespace)
	if svc.DeletionTimestamp == nil {
		for _, s := range plan.Create {
			created, err := slices.Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return errNamespaceTerminating
				}
				return fmt.Errorf("create EndpointSlice: %w", err)
			}
			c.tracker.Wrote(key, created)
		}
	}
	for _, s := range plan.Update {
		updated, err := slices.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update EndpointSlice %s: %w", s.Name, err)
		}
		c.tracker.Wrote(key, updated)
	}
	for _, s := range plan.Delete {
		uid := s.UID
		err := slices.Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete EndpointSlice %s: %w", s.Name, err)
		}
		c.tracker.Deleted(key, uid)
	}
	return nil
}
