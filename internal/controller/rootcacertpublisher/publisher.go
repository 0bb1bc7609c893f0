package rootcacertpublisher

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry (kube-controller-manager's name for it).
const Name = "root-ca-certificate-publisher-controller"

// Upstream's names and text for the published ConfigMap (pkg/controller/certificates/rootcacertpublisher).
const (
	// ConfigMapName is the ConfigMap every namespace gets.
	ConfigMapName = "kube-root-ca.crt"
	// DataKey is the key of the CA bundle in the ConfigMap's data.
	DataKey = "ca.crt"
	// DescriptionAnnotation is the annotation that says what the ConfigMap is for.
	DescriptionAnnotation = "kubernetes.io/description"
	// Description is the value of DescriptionAnnotation.
	Description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Controller publishes the cluster CA as ConfigMap kube-root-ca.crt in every namespace.
type Controller struct {
	client   kubernetes.Interface
	rootCA   string
	nsLister corelisters.NamespaceLister
	cmLister corelisters.ConfigMapLister
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
	cmInf := cc.Informers.Core().V1().ConfigMaps()
	c := &Controller{
		client:   cc.Client,
		rootCA:   string(cc.RootCA),
		nsLister: nsInf.Lister(),
		cmLister: cmInf.Lister(),
		queue:    controller.NewQueue[string](Name),
		log:      cc.LogOrDefault().With("controller", Name),
	}
	synced, err := controller.AddHandlers(
		controller.Handler{What: "namespace", Informer: nsInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.namespaceAdded,
			UpdateFunc: c.namespaceUpdated,
		}},
		controller.Handler{What: "configmap", Informer: cmInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, obj any) { c.configMapChanged(obj) },
			DeleteFunc: c.configMapChanged,
		}},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

func (c *Controller) namespaceAdded(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

// namespaceUpdated queues an Active namespace, as upstream (a terminating one gets nothing).
func (c *Controller) namespaceUpdated(_, obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.Status.Phase == corev1.NamespaceActive {
		c.queue.Add(ns.Name)
	}
}

// configMapChanged queues the namespace of an updated or deleted kube-root-ca.crt.
func (c *Controller) configMapChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == ConfigMapName {
		c.queue.Add(cm.Namespace)
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if c.rootCA == "" {
		c.queue.ShutDown()
		c.log.Warn("no cluster CA in the controller manager's client config; not publishing " + ConfigMapName)
		<-ctx.Done()
		return nil
	}
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

// sync makes namespace name's kube-root-ca.crt hold the cluster CA; see the package documentation.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	ns, err := c.nsLister.Get(name)
	switch {
	case err == nil:
		if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
			return controller.Result{}, nil
		}
	case !apierrors.IsNotFound(err):
		return controller.Result{}, err
	}
	data := map[string]string{DataKey: c.rootCA}
	cm, err := c.cmLister.ConfigMaps(name).Get(ConfigMapName)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, c.create(ctx, name, data)
	}
	if err != nil {
		return controller.Result{}, err
	}
	if maps.Equal(cm.Data, data) && cm.Annotations[DescriptionAnnotation] != "" {
		return controller.Result{}, nil
	}
	cm = cm.DeepCopy()
	cm.Data = data
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[DescriptionAnnotation] = Description
	if _, err := c.client.CoreV1().ConfigMaps(name).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return controller.Result{}, fmt.Errorf("update %s/%s: %w", name, ConfigMapName, err)
	}
	return controller.Result{}, nil
}

// create creates namespace's kube-root-ca.crt; a namespace that is gone or terminating is not an error.
func (c *Controller) create(ctx context.Context, namespace string, data map[string]string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: ConfigMapName, Namespace: namespace,
			Annotations: map[string]string{DescriptionAnnotation: Description},
		},
		Data: data,
	}
	_, err := c.client.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsNotFound(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil
	}
	return fmt.Errorf("create %s/%s: %w", namespace, ConfigMapName, err)
}
