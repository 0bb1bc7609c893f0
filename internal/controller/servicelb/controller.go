package servicelb

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/controller"
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

// Name is the controller's name in the manager's registry, and the source of its events (as k3s).
const Name = "service-lb-controller"

// Event reasons and messages, as the cloud-provider service controller that k3s runs.
const (
	EventEnsuringLoadBalancer    = "EnsuringLoadBalancer"
	EventEnsuredLoadBalancer     = "EnsuredLoadBalancer"
	EventDeletingLoadBalancer    = "DeletingLoadBalancer"
	EventDeletedLoadBalancer     = "DeletedLoadBalancer"
	EventUnAvailableLoadBalancer = "UnAvailableLoadBalancer"

	messageEnsuring    = "Ensuring load balancer"
	messageEnsured     = "Ensured load balancer"
	messageDeleting    = "Deleting load balancer"
	messageDeleted     = "Deleted load balancer"
	messageUnavailable = "There are no available nodes for LoadBalancer"
)

// Controller keeps the load-balancer ingress of every LoadBalancer Service at the eligible nodes' addresses. It is
// the thin shell around DesiredIngress.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	log      *slog.Logger

	svcLister  corelisters.ServiceLister
	nodeLister corelisters.NodeLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller: it registers handlers on the Service and Node informers of cc.Informers and starts
// nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	svcInf := cc.Informers.Core().V1().Services()
	nodeInf := cc.Informers.Core().V1().Nodes()
	c := &Controller{
		client:     cc.Client,
		recorder:   cc.Recorder(Name),
		log:        cc.LogOrDefault().With("controller", Name),
		svcLister:  svcInf.Lister(),
		nodeLister: nodeInf.Lister(),
		queue:      controller.NewQueue[string](Name),
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "service", Informer: svcInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, cur any) { c.enqueue(cur) },
		}},
		controller.Handler{What: "node", Informer: nodeInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.enqueueLoadBalancers() },
			UpdateFunc: func(old, cur any) {
				o, ok1 := old.(*corev1.Node)
				n, ok2 := cur.(*corev1.Node)
				if !ok1 || !ok2 || nodeView(o) != nodeView(n) {
					c.enqueueLoadBalancers()
				}
			},
			DeleteFunc: func(any) { c.enqueueLoadBalancers() },
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

func (c *Controller) enqueue(obj any) {
	if svc, ok := obj.(*corev1.Service); ok {
		c.queue.Add(svc.Namespace + "/" + svc.Name)
	}
}

// enqueueLoadBalancers queues every LoadBalancer Service (a node change may move their ingress).
func (c *Controller) enqueueLoadBalancers() {
	svcs, err := c.svcLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range svcs {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.LoadBalancerClass == nil {
			c.queue.Add(s.Namespace + "/" + s.Name)
		}
	}
}

// sync brings one Service's load-balancer ingress to DesiredIngress.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	svc, err := c.svcLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("get service: %w", err)
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return controller.Result{}, fmt.Errorf("list nodes: %w", err)
	}
	want := DesiredIngress(svc, nodes)
	if want.Skip || !Changed(svc.Status.LoadBalancer.Ingress, want.Ingress) {
		return controller.Result{}, nil
	}
	switch {
	case !want.LoadBalancer:
		c.recorder.Event(svc, corev1.EventTypeNormal, EventDeletingLoadBalancer, messageDeleting)
	case len(want.Ingress) == 0:
		c.recorder.Event(svc, corev1.EventTypeWarning, EventUnAvailableLoadBalancer, messageUnavailable)
	default:
		c.recorder.Event(svc, corev1.EventTypeNormal, EventEnsuringLoadBalancer, messageEnsuring)
	}
	s := svc.DeepCopy()
	s.Status.LoadBalancer.Ingress = want.Ingress
	if _, err := c.client.CoreV1().Services(ns).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("update service %s status: %w", key, err)
	}
	switch {
	case !want.LoadBalancer:
		c.recorder.Event(svc, corev1.EventTypeNormal, EventDeletedLoadBalancer, messageDeleted)
	case len(want.Ingress) > 0:
		c.recorder.Event(svc, corev1.EventTypeNormal, EventEnsuredLoadBalancer, messageEnsured)
	}
	return controller.Result{}, nil
}
