package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	"github.com/skiff-sh/skiff/internal/controller/deployment"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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

// Event reasons, as upstream.
const (
	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
	EventFailedDaemonPod  = "FailedDaemonPod"
	EventSelectingAll     = "SelectingAll"
)

// Name is the controller's name in the manager's registry.
const Name = "daemonset"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "daemonset-controller"

var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Controller runs one pod of every DaemonSet on each eligible node and rolls them to new templates. It is the thin
// shell around Reconcile, SplitHistory and CalculateStatus: informers enqueue keys, workers sync one key at a time.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	dsLister   appslisters.DaemonSetLister
	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	revLister  appslisters.ControllerRevisionLister
	synced     []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
	// Creations and deletions are tracked apart: one sync may issue both, and each tracker keeps one kind.
	creations, deletions *controllerutil.Expectations
	// pods is the Pod informer's handler.
	pods *controllerutil.PodOwnerHandler[*appsv1.DaemonSet]
}

// satisfied reports whether key's creations and deletions have all been observed.
func (c *Controller) satisfied(key string) bool {
	return c.creations.Satisfied(key) && c.deletions.Satisfied(key)
}

func (c *Controller) forget(key string) {
	c.creations.Delete(key)
	c.deletions.Delete(key)
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the DaemonSet, Pod, Node
// and ControllerRevision informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	clk := cc.ClockOrReal()
	dsInf := cc.Informers.Apps().V1().DaemonSets()
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	c := &Controller{
		client:     cc.Client,
		recorder:   cc.Recorder(eventSource),
		clock:      clk,
		log:        cc.LogOrDefault().With("controller", Name),
		dsLister:   dsInf.Lister(),
		podLister:  podInf.Lister(),
		nodeLister: nodeInf.Lister(),
		revLister:  revInf.Lister(),
		queue:      controller.NewQueue[string](Name),
		creations:  controllerutil.NewExpectations(clk),
		deletions:  controllerutil.NewExpectations(clk),
	}
	c.pods = &controllerutil.PodOwnerHandler[*appsv1.DaemonSet]{
		Queue:    c.queue,
		Resolve:  c.resolve,
		Matching: func(pod *corev1.Pod) []*appsv1.DaemonSet { return c.matching(pod.Namespace, pod.Labels) },
		SameRef: func(old, cur *metav1.OwnerReference) bool {
			return cur != nil && cur.UID == old.UID
		},
		MinReadySeconds: func(ds *appsv1.DaemonSet) int32 { return ds.Spec.MinReadySeconds },
		Creations:       c.creations,
		Deletions:       c.deletions,
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "daemonset", Informer: dsInf.Informer(), Handler: controllerutil.EnqueueHandler[*appsv1.DaemonSet](c.queue, c.forget)},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: c.pods.Funcs()},
		controller.Handler{What: "node", Informer: nodeInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.enqueueAll() }, UpdateFunc: c.updateNode, DeleteFunc: func(any) { c.enqueueAll() },
		}},
		controller.Handler{What: "controllerrevision", Informer: revInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: c.enqueueOwner, UpdateFunc: func(_, cur any) { c.enqueueOwner(cur) }, DeleteFunc: c.enqueueOwner,
		}},
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

func (c *Controller) enqueueAll() {
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		c.queue.Add(cache.MetaObjectToName(ds).String())
	}
}

// resolve returns the DaemonSet ref points to in ns, if it is in the cache with the same UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) (*appsv1.DaemonSet, bool) {
	return controllerutil.ResolveControllerRef(ref, controllerKind, c.dsLister.DaemonSets(ns).Get)
}

// enqueueOwner queues the DaemonSet that controls a ControllerRevision or, for an orphan, the DaemonSets that
// may adopt it.
func (c *Controller) enqueueOwner(obj any) {
	m, ok := controllerutil.ObjectOf[metav1.Object](obj)
	if !ok {
		return
	}
	if ds, ok := c.resolve(m.GetNamespace(), metav1.GetControllerOfNoCopy(m)); ok {
		c.queue.Add(cache.MetaObjectToName(ds).String())
		return
	}
	if rev, ok := m.(*appsv1.ControllerRevision); ok && metav1.GetControllerOfNoCopy(rev) == nil {
		for _, ds := range c.matching(rev.Namespace, rev.Labels) {
			c.queue.Add(cache.MetaObjectToName(ds).String())
		}
	}
}

// matching returns the DaemonSets in ns whose selector matches lbls (candidates to adopt an orphan).
func (c *Controller) matching(ns string, lbls map[string]string) []*appsv1.DaemonSet {
	all, err := c.dsLister.DaemonSets(ns).List(labels.Everything())
	if err != nil {
		return nil
	}
	return controllerutil.SelectingOwners(all, func(ds *appsv1.DaemonSet) *metav1.LabelSelector { return ds.Spec.Selector }, lbls)
}

// updateNode queues the DaemonSets for which the node's eligibility changed (labels, taints, unschedulable).
func (c *Controller) updateNode(old, cur any) {
	oldNode, curNode := old.(*corev1.Node), cur.(*corev1.Node)
	if labels.Equals(oldNode.Labels, curNode.Labels) && taintsEqual(oldNode.Spec.Taints, curNode.Spec.Taints) &&
		oldNode.Spec.Unschedulable == curNode.Spec.Unschedulable {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		f := newFit(ds)
		oldRun, oldCont := f.shouldRun(oldNode)
		curRun, curCont := f.shouldRun(curNode)
		if oldRun != curRun || oldCont != curCont {
			c.queue.Add(cache.MetaObjectToName(ds).String())
		}
	}
}

func taintsEqual(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect {
			return false
		}
	}
	return true
}

// sync brings the DaemonSet named by key (namespace/name) to its desired state once; see the package documentation.
// Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	ds, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("invalid selector: %w", err))
	}
	if selector.Empty() {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, EventSelectingAll, "This daemon set is selecting all pods. A non-empty selector is required.")
		return controller.Result{}, nil
	}
	if ds.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	pods, err := c.claimPods(ctx, ds, selector, all)
	if err != nil {
		return controller.Result{}, err
	}
	cur, old, err := c.constructHistory(ctx, ds, selector)
	if err != nil {
		return controller.Result{}, fmt.Errorf("construct history: %w", err)
	}
	hash := cur.Labels[appsv1.ControllerRevisionHashLabelKey]

	var manageErr error
	if c.satisfied(key) {
		manageErr = c.manage(ctx, key, ds, nodes, pods, hash)
		if manageErr == nil && c.satisfied(key) {
			manageErr = c.cleanupHistory(ctx, ds, old, pods)
		}
	}
	st := CalculateStatus(ds, nodes, pods, hash, c.clock.Now())
	if UpdateNeeded(ds, st) {
		if err := c.writeStatus(ctx, ds, st); err != nil {
			return controller.Result{}, errors.Join(manageErr, err)
		}
	}
	if manageErr != nil {
		return controller.Result{}, manageErr
	}
	return controller.Result{RequeueAfter: MinReadyRequeue(ds, st)}, nil
}

func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	return controllerutil.ClaimObjects(ctx, ds, controllerKind, sel, pods, nil, controllerutil.ClaimIO[*corev1.Pod]{
		CanAdopt: c.recheck(ds),
		Patch: func(ctx context.Context, pod *corev1.Pod, patch []byte) error {
			_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
}

func (c *Controller) recheck(ds *appsv1.DaemonSet) func(ctx context.Context) error {
	return controllerutil.RecheckOwner(ds.UID, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	})
}

// constructHistory claims ds's ControllerRevisions and returns the one recording its current template (created, or
// renumbered to the newest revision, as needed) and the others.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	all, err := c.revLister.ControllerRevisions(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	revs, err := controllerutil.ClaimObjects(ctx, ds, controllerKind, sel, all, nil, controllerutil.ClaimIO[*appsv1.ControllerRevision]{
		CanAdopt: c.recheck(ds),
		Patch: func(ctx context.Context, rev *appsv1.ControllerRevision, patch []byte) error {
			_, err := c.client.AppsV1().ControllerRevisions(rev.Namespace).Patch(ctx, rev.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
	if err != nil {
		return nil, nil, err
	}
	h := SplitHistory(ds, revs)
	revClient := c.client.AppsV1().ControllerRevisions(ds.Namespace)
	if len(h.Current) == 0 {
		cur, err := c.snapshot(ctx, ds, h.Next)
		return cur, h.Old, err
	}
	cur := h.Current[0]
	for _, dup := range h.Current[1:] {
		if err := revClient.Delete(ctx, dup.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("delete duplicate revision: %w", err)
		}
	}
	if cur.Revision < h.Next {
		// A rollback to an old template: it becomes the newest revision.
		upd := cur.DeepCopy()
		upd.Revision = h.Next
		if cur, err = revClient.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("renumber revision: %w", err)
		}
	}
	return cur, h.Old, nil
}

// snapshot creates the ControllerRevision for ds's current template; on a name collision with a different template
// it bumps status.collisionCount and fails so that the next sync uses a new name.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, revision int64) (*appsv1.ControllerRevision, error) {
	hash := deployment.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	rev, err := NewRevision(ds, hash, revision, controllerutil.NewControllerRef(ds, controllerKind))
	if err != nil {
		return nil, err
	}
	revClient := c.client.AppsV1().ControllerRevisions(ds.Namespace)
	created, err := revClient.Create(ctx, rev, metav1.CreateOptions{})
	if err == nil {
		return created, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create revision: %w", err)
	}
	existing, getErr := revClient.Get(ctx, rev.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, fmt.Errorf("get revision: %w", getErr)
	}
	if ref := metav1.GetControllerOfNoCopy(existing); ref != nil && ref.UID == ds.UID && Match(ds, existing) {
		return existing, nil
	}
	fresh, getErr := c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, fmt.Errorf("get daemonset: %w", getErr)
	}
	n := int32(0)
	if fresh.Status.CollisionCount != nil {
		n = *fresh.Status.CollisionCount
	}
	n++
	fresh.Status.CollisionCount = &n
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, fresh, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("bump collisionCount: %w", err)
	}
	return nil, fmt.Errorf("hash collision on revision %s: collisionCount is now %d", rev.Name, n)
}

// cleanupHistory deletes old revisions beyond revisionHistoryLimit that no pod runs.
func (c *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	for _, r := range HistoryToDelete(ds, old, pods) {
		if err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete revision: %w", err)
		}
	}
	return nil
}

// manage carries out Reconcile's plan: expectations first, then creations in slow-start batches and deletions in
// parallel.
func (c *Controller) manage(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string) error {
	plan, err := Reconcile(ds, nodes, pods, hash, c.clock.Now())
	if err != nil {
		return controller.Terminal(err)
	}
	for _, p := range plan.Failed {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, EventFailedDaemonPod, "Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, p.Spec.NodeName)
	}
	keys := make([]string, len(plan.Delete))
	for i, p := range plan.Delete {
		keys[i] = cache.MetaObjectToName(p).String()
	}
	c.creations.ExpectCreations(key, len(plan.Create))
	c.deletions.ExpectDeletions(key, keys)

	var errs []error
	if n := len(plan.Create); n > 0 {
		ref := controllerutil.NewControllerRef(ds, controllerKind)
		var next atomic.Int32
		created, err := controllerutil.SlowStartBatch(n, 1, func() error {
			node := plan.Create[next.Add(1)-1]
			return c.createPod(ctx, ds, node, hash, ref)
		})
		for range n - created {
			c.creations.CreationObserved(key)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	delErrs := make([]error, len(plan.Delete))
	var wg sync.WaitGroup
	for i, p := range plan.Delete {
		wg.Go(func() {
			if err := c.deletePodNow(ctx, ds, p); err != nil {
				c.deletions.DeletionObserved(key, cache.MetaObjectToName(p).String())
				if !apierrors.IsNotFound(err) {
					delErrs[i] = err
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(append(errs, delErrs...)...)
}

func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, node, hash string, ref *metav1.OwnerReference) error {
	pod := controllerutil.PodFromTemplate(NewPodTemplate(ds, node, hash), ds.Name, ref)
	created, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.recorder.Eventf(ds, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return fmt.Errorf("create pod for node %s: %w", node, err)
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deletePodNow(ctx context.Context, ds *appsv1.DaemonSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		c.recorder.Eventf(ds, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("delete pod %s: %w", pod.Name, err)
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", pod.Name)
	return nil
}

// writeStatus writes st through the status subresource with observedGeneration set, re-reading once on a conflict.
func (c *Controller) writeStatus(ctx context.Context, ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) error {
	cur := ds.DeepCopy()
	for attempt := 0; ; attempt++ {
		st.ObservedGeneration = cur.Generation
		st.CollisionCount = cur.Status.CollisionCount
		cur.Status = st
		_, err := c.client.AppsV1().DaemonSets(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if attempt >= 1 {
			return fmt.Errorf("update status: %w", err)
		}
		if cur, err = c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
	}
}
