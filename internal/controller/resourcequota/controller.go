package resourcequota

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/admission/quota"
	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry, as kube-controller-manager's.
const Name = "resourcequota"

// ResyncPeriod is how often every quota is recomputed in full (kube-controller-manager's
// --resource-quota-sync-period default).
const ResyncPeriod = 5 * time.Minute

// Controller keeps ResourceQuota status current; it is the thin shell around quota.Calculate.
type Controller struct {
	client kubernetes.Interface
	clock  clock.Clock
	log    *slog.Logger

	rqLister  corelisters.ResourceQuotaLister
	podLister corelisters.PodLister
	svcLister corelisters.ServiceLister
	cmLister  corelisters.ConfigMapLister
	secLister corelisters.SecretLister
	pvcLister corelisters.PersistentVolumeClaimLister
	rcLister  corelisters.ReplicationControllerLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]

	mapper   meta.RESTMapper
	metadata metadatainformer.SharedInformerFactory
	stop     <-chan struct{}
	mu       sync.Mutex // guards generic
	generic  map[schema.GroupResource]*genericInformer
}

// genericInformer counts a resource other than the typed ones, for count/<resource>.<group>.
type genericInformer struct {
	gvr     schema.GroupVersionResource
	lister  cache.GenericLister
	synced  cache.InformerSynced
	unknown bool // the server does not serve it
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	core := cc.Informers.Core().V1()
	c := &Controller{
		client: cc.Client, clock: cc.ClockOrReal(), log: cc.LogOrDefault().With("controller", Name),
		rqLister: core.ResourceQuotas().Lister(), podLister: core.Pods().Lister(), svcLister: core.Services().Lister(),
		cmLister: core.ConfigMaps().Lister(), secLister: core.Secrets().Lister(),
		pvcLister: core.PersistentVolumeClaims().Lister(), rcLister: core.ReplicationControllers().Lister(),
		queue:  controller.NewQueue[string](Name),
		mapper: cc.RESTMapper, metadata: cc.MetadataInformers,
		generic: map[schema.GroupResource]*genericInformer{},
	}
	deleted := cache.ResourceEventHandlerFuncs{DeleteFunc: c.released}
	synced, err := controller.AddHandlers(
		controller.Handler{What: "resourcequota", Informer: core.ResourceQuotas().Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: c.quotaUpdated,
			DeleteFunc: c.released,
		}},
		controller.Handler{What: "pod", Informer: core.Pods().Informer(), Handler: cache.ResourceEventHandlerFuncs{
			UpdateFunc: c.podUpdated,
			DeleteFunc: c.released,
		}},
		controller.Handler{What: "service", Informer: core.Services().Informer(), Handler: cache.ResourceEventHandlerFuncs{
			UpdateFunc: c.usageUpdated(quota.Services),
			DeleteFunc: c.released,
		}},
		controller.Handler{What: "persistentvolumeclaim", Informer: core.PersistentVolumeClaims().Informer(), Handler: cache.ResourceEventHandlerFuncs{
			UpdateFunc: c.usageUpdated(quota.PersistentVolumeClaims),
			DeleteFunc: c.released,
		}},
		controller.Handler{What: "configmap", Informer: core.ConfigMaps().Informer(), Handler: deleted},
		controller.Handler{What: "secret", Informer: core.Secrets().Informer(), Handler: deleted},
		controller.Handler{What: "replicationcontroller", Informer: core.ReplicationControllers().Informer(), Handler: deleted},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// quotaUpdated enqueues a quota whose spec.hard or scopes changed; status-only changes wait for the resync.
func (c *Controller) quotaUpdated(oldObj, newObj any) {
	o, ok1 := oldObj.(*corev1.ResourceQuota)
	n, ok2 := newObj.(*corev1.ResourceQuota)
	if !ok1 || !ok2 {
		return
	}
	if quota.Equal(o.Spec.Hard, n.Spec.Hard) && fmt.Sprint(quota.ScopeSelectors(o)) == fmt.Sprint(quota.ScopeSelectors(n)) {
		return
	}
	c.enqueue(n)
}

// released enqueues the quotas of the namespace of a deleted object.
func (c *Controller) released(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	c.enqueueNamespace(m.GetNamespace())
}

func (c *Controller) enqueueNamespace(ns string) {
	qs, err := c.rqLister.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.enqueue(q)
	}
}

// podUpdated enqueues the namespace's quotas when a pod stops consuming compute quota (it turned terminal).
func (c *Controller) podUpdated(oldObj, newObj any) {
	o, ok1 := oldObj.(*corev1.Pod)
	n, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	now := c.clock.Now()
	if quota.Counts(o, now) && !quota.Counts(n, now) {
		c.enqueueNamespace(n.Namespace)
	}
}

// usageUpdated returns an update handler that enqueues the namespace's quotas when the object's usage changed.
func (c *Controller) usageUpdated(gr schema.GroupResource) func(oldObj, newObj any) {
	return func(oldObj, newObj any) {
		o, ok1 := oldObj.(runtime.Object)
		n, ok2 := newObj.(runtime.Object)
		if !ok1 || !ok2 {
			return
		}
		now := c.clock.Now()
		if !quota.Equal(quota.Usage(gr, o, now), quota.Usage(gr, n, now)) {
			if m, err := meta.Accessor(n); err == nil {
				c.enqueueNamespace(m.GetNamespace())
			}
		}
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.mu.Lock()
	c.stop = ctx.Done()
	c.mu.Unlock()
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

// sync recomputes quota key (namespace/name) and writes its status if it changed; see the package documentation.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	q, err := c.rqLister.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	objects, ready, err := c.objects(ns, q.Spec.Hard)
	if err != nil {
		return controller.Result{}, err
	}
	if !ready {
		return controller.Result{RequeueAfter: 200 * time.Millisecond}, nil
	}
	used := quota.Calculate(q, objects, c.clock.Now())
	if quota.Equal(q.Status.Hard, q.Spec.Hard) && quota.Equal(q.Status.Used, used) {
		return controller.Result{RequeueAfter: ResyncPeriod}, nil
	}
	q = q.DeepCopy()
	q.Status.Hard = quota.Add(corev1.ResourceList{}, q.Spec.Hard)
	q.Status.Used = used
	if _, err := c.client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("update status of resourcequota %s: %w", key, err)
	}
	return controller.Result{RequeueAfter: ResyncPeriod}, nil
}

// objects lists what namespace ns holds of every resource hard names; ready is false while a generic informer
// is still filling.
func (c *Controller) objects(ns string, hard corev1.ResourceList) ([]quota.Objects, bool, error) {
	var out []quota.Objects
	typed := map[schema.GroupResource]func() ([]runtime.Object, error){
		quota.Pods: func() ([]runtime.Object, error) {
			l, err := c.podLister.Pods(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.Services: func() ([]runtime.Object, error) {
			l, err := c.svcLister.Services(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.ConfigMaps: func() ([]runtime.Object, error) {
			l, err := c.cmLister.ConfigMaps(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.Secrets: func() ([]runtime.Object, error) {
			l, err := c.secLister.Secrets(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.PersistentVolumeClaims: func() ([]runtime.Object, error) {
			l, err := c.pvcLister.PersistentVolumeClaims(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.ReplicationControllers: func() ([]runtime.Object, error) {
			l, err := c.rcLister.ReplicationControllers(ns).List(labels.Everything())
			return objs(l), err
		},
		quota.ResourceQuotas: func() ([]runtime.Object, error) {
			l, err := c.rqLister.ResourceQuotas(ns).List(labels.Everything())
			return objs(l), err
		},
	}
	names := quota.Names(hard)
	for gr, list := range typed {
		if len(quota.MatchingResources(gr, names)) == 0 {
			continue
		}
		items, err := list()
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", gr, err)
		}
		out = append(out, quota.Objects{GR: gr, Items: items})
	}
	ready := true
	for _, n := range names {
		gr, ok := quota.ParseCountName(n)
		if !ok {
			continue
		}
		if _, isTyped := typed[gr]; isTyped {
			continue
		}
		g := c.genericFor(gr)
		if g == nil || g.unknown {
			continue
		}
		if !g.synced() {
			ready = false
			continue
		}
		items, err := g.lister.ByNamespace(ns).List(labels.Everything())
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", gr, err)
		}
		out = append(out, quota.Objects{GR: gr, Items: items})
	}
	return out, ready, nil
}

// genericFor returns (starting it the first time) the metadata informer counting gr.
func (c *Controller) genericFor(gr schema.GroupResource) *genericInformer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.generic[gr]; ok {
		return g
	}
	if c.mapper == nil || c.metadata == nil {
		return nil
	}
	gvr, err := c.mapper.ResourceFor(schema.GroupVersionResource{Group: gr.Group, Resource: gr.Resource})
	if err != nil {
		if r, ok := c.mapper.(meta.ResettableRESTMapper); ok && meta.IsNoMatchError(err) {
			r.Reset()
		}
		// Not served (yet): counted as 0; asked again on the next sync.
		return &genericInformer{unknown: true}
	}
	inf := c.metadata.ForResource(gvr)
	reg, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.released})
	if err != nil {
		return &genericInformer{unknown: true}
	}
	g := &genericInformer{gvr: gvr, lister: inf.Lister(), synced: reg.HasSynced}
	c.generic[gr] = g
	if c.stop != nil {
		c.metadata.Start(c.stop)
	}
	return g
}

func objs[T runtime.Object](l []T) []runtime.Object {
	out := make([]runtime.Object, len(l))
	for i, o := range l {
		out[i] = o
	}
	return out
}
