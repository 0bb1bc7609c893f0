package serviceaccount

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "serviceaccount"

// DefaultName is the ServiceAccount every namespace gets.
const DefaultName = "default"

// Controller keeps a default ServiceAccount in every active namespace.
type Controller struct {
	client   kubernetes.Interface
	nsLister corelisters.NamespaceLister
	saLister corelisters.ServiceAccountLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	log      *slog.Logger
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	nsInf := cc.Informers.Core().V1().Namespaces()
	saInf := cc.Informers.Core().V1().ServiceAccounts()
	c := &Controller{
		client:   cc.Client,
		nsLister: nsInf.Lister(),
		saLister: saInf.Lister(),
		queue:    controller.NewQueue[string](Name),
		log:      cc.Log.With("controller", Name),
	}
	nsReg, err := nsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	saReg, err := saInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: c.serviceAccountDeleted,
	})
	if err != nil {
		return nil, fmt.Errorf("serviceaccount informer: %w", err)
	}
	c.synced = []cache.InformerSynced{nsReg.HasSynced, saReg.HasSynced}
	return c, nil
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

func (c *Controller) serviceAccountDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if sa, ok := obj.(*corev1.ServiceAccount); ok && sa.Name == DefaultName {
		c.queue.Add(sa.Namespace)
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return nil
	}
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

// sync makes sure namespace name has its default ServiceAccount; see the package documentation.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	ns, err := c.nsLister.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return controller.Result{}, nil
	}
	if _, err := c.saLister.ServiceAccounts(name).Get(DefaultName); err == nil {
		return controller.Result{}, nil
	} else if !apierrors.IsNotFound(err) {
		return controller.Result{}, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: name}}
	_, err = c.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err):
		return controller.Result{}, nil
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return controller.Result{}, nil
	}
	return controller.Result{}, fmt.Errorf("create %s/%s: %w", name, DefaultName, err)
}
