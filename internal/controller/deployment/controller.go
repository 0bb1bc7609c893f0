package deployment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "deployment"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "deployment-controller"

var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// Controller rolls Deployments out through ReplicaSets. It is the thin shell around Reconcile: informers enqueue
// Deployment keys, workers sync one key at a time and carry out the Plan.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	dLister   appslisters.DeploymentLister
	rsLister  appslisters.ReplicaSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Deployment,
// ReplicaSet and Pod informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	dInf := cc.Informers.Apps().V1().Deployments()
	rsInf := cc.Informers.Apps().V1().ReplicaSets()
	podInf := cc.Informers.Core().V1().Pods()
	c := &Controller{
		client:    cc.Client,
		recorder:  cc.Recorder(eventSource),
		clock:     cc.ClockOrReal(),
		log:       cc.LogOrDefault().With("controller", Name),
		dLister:   dInf.Lister(),
		rsLister:  rsInf.Lister(),
		podLister: podInf.Lister(),
		queue:     controller.NewQueue[string](Name),
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "deployment", Informer: dInf.Informer(), Handler: controllerutil.EnqueueHandler[*appsv1.Deployment](c.queue, nil)},
		controller.Handler{What: "replicaset", Informer: rsInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.addRS,
			UpdateFunc: c.updateRS,
			DeleteFunc: c.deleteRS,
		}},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod}},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then syncs keys with workers goroutines until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

func keyOf(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

// resolve returns the Deployment ref points to in ns, if it is in the cache with the same UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.Deployment {
	d, _ := controllerutil.ResolveControllerRef(ref, controllerKind, c.dLister.Deployments(ns).Get)
	return d
}

// matching returns the Deployments whose selector matches rs's labels (candidates to adopt an orphan).
func (c *Controller) matching(rs *appsv1.ReplicaSet) []*appsv1.Deployment {
	all, err := c.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return controllerutil.SelectingOwners(all, func(d *appsv1.Deployment) *metav1.LabelSelector { return d.Spec.Selector }, rs.Labels)
}

func (c *Controller) addRS(obj any) {
	rs := obj.(*appsv1.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		c.deleteRS(rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.queue.Add(keyOf(d))
		}
		return
	}
	for _, d := range c.matching(rs) {
		c.queue.Add(keyOf(d))
	}
}

func (c *Controller) updateRS(old, cur any) {
	oldRS, curRS := old.(*appsv1.ReplicaSet), cur.(*appsv1.ReplicaSet)
	if oldRS.ResourceVersion == curRS.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curRS), metav1.GetControllerOfNoCopy(oldRS)
	refChanged := !equality.Semantic.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolve(oldRS.Namespace, oldRef); d != nil {
			c.queue.Add(keyOf(d))
		}
	}
	if curRef != nil {
		if d := c.resolve(curRS.Namespace, curRef); d != nil {
			c.queue.Add(keyOf(d))
		}
		return
	}
	if refChanged || !labels.Equals(oldRS.Labels, curRS.Labels) {
		for _, d := range c.matching(curRS) {
			c.queue.Add(keyOf(d))
		}
	}
}

func (c *Controller) deleteRS(obj any) {
	rs, ok := controllerutil.ObjectOf[*appsv1.ReplicaSet](obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.queue.Add(keyOf(d))
		}
	}
}

// deletePod wakes a Recreate Deployment up: it waits for its old pods to be gone before creating new ones.
func (c *Controller) deletePod(obj any) {
	pod, ok := controllerutil.ObjectOf[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != rsKind.Kind {
		return
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	dref := metav1.GetControllerOfNoCopy(rs)
	if dref == nil {
		return
	}
	if d := c.resolve(rs.Namespace, dref); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.queue.Add(keyOf(d))
	}
}

// sync brings the Deployment named by key (namespace/name) one step closer to its desired state; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	d, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	var rss []*appsv1.ReplicaSet
	var pods map[types.UID][]*corev1.Pod
	if !selectsAll(d) {
		if rss, err = c.claimReplicaSets(ctx, d); err != nil {
			return controller.Result{}, err
		}
		if pods, err = c.podMap(d, rss); err != nil {
			return controller.Result{}, err
		}
	}
	plan := Reconcile(d, rss, pods, c.clock.Now())
	return c.apply(ctx, d, plan)
}

func selectsAll(d *appsv1.Deployment) bool {
	return d.Spec.Selector == nil || equality.Semantic.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{})
}

func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %w", d.Namespace, d.Name, err)
	}
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return controllerutil.ClaimObjects(ctx, d, controllerKind, sel, all, nil, controllerutil.ClaimIO[*appsv1.ReplicaSet]{
		CanAdopt: controllerutil.RecheckOwner(d.UID, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		}),
		Patch: func(ctx context.Context, rs *appsv1.ReplicaSet, patch []byte) error {
			_, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
}

// podMap groups d's pods by the UID of the ReplicaSet (of rss) controlling them.
func (c *Controller) podMap(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) (map[types.UID][]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	pods, err := c.podLister.Pods(d.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	m := make(map[types.UID][]*corev1.Pod, len(rss))
	for _, rs := range rss {
		m[rs.UID] = nil
	}
	for _, p := range pods {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
			if list, ok := m[ref.UID]; ok {
				m[ref.UID] = append(list, p)
			}
		}
	}
	return m, nil
}

// apply carries out plan: create, updates, deletes, status, revision annotation; it stops at the first failure.
// Events are recorded for the writes that succeeded.
func (c *Controller) apply(ctx context.Context, d *appsv1.Deployment, plan Plan) (controller.Result, error) {
	emit := func(rs string) {
		for _, e := range plan.Events {
			if e.RS == rs {
				c.recorder.Event(d, e.Type, e.Reason, e.Message)
			}
		}
	}
	defer emit("")

	if rs := plan.Create; rs != nil {
		_, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Create(ctx, rs, metav1.CreateOptions{})
		switch {
		case err == nil:
			emit(rs.Name)
		case apierrors.IsAlreadyExists(err):
			return c.createCollided(ctx, d, rs, err)
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			return controller.Result{}, err
		default:
			st, msg := CreateFailed(d, rs.Name, err, c.clock.Now())
			if st != nil {
				cp := d.DeepCopy()
				cp.Status = *st
				// The create error is the one worth reporting; this write is best effort.
				_, _ = c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
			}
			c.recorder.Event(d, corev1.EventTypeWarning, ReasonFailedRSCreate, msg)
			return controller.Result{}, err
		}
	}
	for _, rs := range plan.Update {
		if _, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("update replica set %s: %w", rs.Name, err)
		}
		emit(rs.Name)
	}
	for _, rs := range plan.Delete {
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &rs.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return controller.Result{}, fmt.Errorf("delete replica set %s: %w", rs.Name, err)
		}
	}
	if plan.Status != nil || plan.Revision != "" {
		// The revision annotation travels with the status write, as upstream's (a status write keeps annotation
		// changes), so it does not bump the Deployment's generation the way a user's annotation change does.
		cp := d.DeepCopy()
		if plan.Status != nil {
			cp.Status = *plan.Status
		}
		if plan.Revision != "" {
			if cp.Annotations == nil {
				cp.Annotations = map[string]string{}
			}
			cp.Annotations[RevisionAnnotation] = plan.Revision
		}
		if _, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("update status: %w", err)
		}
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// createCollided handles AlreadyExists on the new ReplicaSet: if it is ours with d's template, the cache was just
// behind (sync again); otherwise the hash collided with another ReplicaSet, so bump status.collisionCount, which
// changes the hash, and retry.
func (c *Controller) createCollided(ctx context.Context, d *appsv1.Deployment, want *appsv1.ReplicaSet, createErr error) (controller.Result, error) {
	rs, err := c.client.AppsV1().ReplicaSets(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		return controller.Result{}, err
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
		// Its add event is on the way too; this is a fallback.
		return controller.Result{RequeueAfter: time.Second}, nil
	}
	cp := d.DeepCopy()
	n := int32(0)
	if cp.Status.CollisionCount != nil {
		n = *cp.Status.CollisionCount
	}
	n++
	cp.Status.CollisionCount = &n
	if _, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{}); err != nil {
		return controller.Result{}, errors.Join(createErr, err)
	}
	c.log.Info("hash collision, bumped collisionCount", "deployment", keyOf(d), "collisionCount", n)
	return controller.Result{}, createErr
}
