package statefulset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
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

// Name is the controller's name in the manager's registry.
const Name = "statefulset"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "statefulset-controller"

var controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Controller keeps every StatefulSet's pods, claims and revisions as its spec asks. It is the thin shell around
// ResolveRevisions and Reconcile: informers enqueue keys, workers sync one key at a time.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	setLister   appslisters.StatefulSetLister
	podLister   corelisters.PodLister
	revLister   appslisters.ControllerRevisionLister
	claimLister corelisters.PersistentVolumeClaimLister
	synced      []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the StatefulSet, Pod,
// ControllerRevision and PersistentVolumeClaim informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	setInf := cc.Informers.Apps().V1().StatefulSets()
	podInf := cc.Informers.Core().V1().Pods()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	claimInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	c := &Controller{
		client:      cc.Client,
		recorder:    cc.Recorder(eventSource),
		clock:       cc.ClockOrReal(),
		log:         cc.LogOrDefault().With("controller", Name),
		setLister:   setInf.Lister(),
		podLister:   podInf.Lister(),
		revLister:   revInf.Lister(),
		claimLister: claimInf.Lister(),
		queue:       controller.NewQueue[string](Name),
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "statefulset", Informer: setInf.Informer(), Handler: controllerutil.EnqueueHandler[*appsv1.StatefulSet](c.queue, nil)},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: c.updatePod,
			DeleteFunc: c.enqueueOwner,
		}},
		controller.Handler{What: "controllerrevision", Informer: revInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: func(_, cur any) { c.enqueueOwner(cur) },
			DeleteFunc: c.enqueueOwner,
		}},
		// No handler: the claims are read from the cache only.
		controller.Handler{What: "persistentvolumeclaim", Informer: claimInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{}},
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

// enqueueOwner queues the StatefulSet that controls obj (a pod or revision) or, for an orphan pod, every
// StatefulSet whose selector matches it.
func (c *Controller) enqueueOwner(obj any) {
	m, ok := controllerutil.ObjectOf[metav1.Object](obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		if ref.Kind == controllerKind.Kind && ref.APIVersion == controllerKind.GroupVersion().String() {
			c.queue.Add(m.GetNamespace() + "/" + ref.Name)
		}
		return
	}
	if _, ok := m.(*corev1.Pod); !ok || m.GetDeletionTimestamp() != nil {
		return
	}
	sets, err := c.setLister.StatefulSets(m.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range controllerutil.SelectingOwners(sets, func(s *appsv1.StatefulSet) *metav1.LabelSelector { return s.Spec.Selector }, m.GetLabels()) {
		c.queue.Add(cache.MetaObjectToName(s).String())
	}
}

func (c *Controller) updatePod(old, cur any) {
	o, n := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == n.ResourceVersion {
		return
	}
	if or, nr := metav1.GetControllerOfNoCopy(o), metav1.GetControllerOfNoCopy(n); or != nil && (nr == nil || nr.UID != or.UID) {
		c.enqueueOwner(o)
	}
	c.enqueueOwner(n)
}

// sync brings the StatefulSet named by key (namespace/name) one step closer to its spec; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	set, err := c.setLister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("invalid selector: %w", err))
	}
	allPods, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	pods, err := controllerutil.ClaimObjects(ctx, set, controllerKind, selector, allPods,
		func(p *corev1.Pod) bool { return IsMember(set, p) }, controllerutil.ClaimIO[*corev1.Pod]{
			CanAdopt: c.canAdopt(set),
			Patch: func(ctx context.Context, p *corev1.Pod, patch []byte) error {
				_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
				return err
			},
		})
	if err != nil {
		return controller.Result{}, err
	}
	allRevs, err := c.revLister.ControllerRevisions(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	revs, err := controllerutil.ClaimObjects(ctx, set, controllerKind, selector, allRevs, nil, controllerutil.ClaimIO[*appsv1.ControllerRevision]{
		CanAdopt: c.canAdopt(set),
		Patch: func(ctx context.Context, r *appsv1.ControllerRevision, patch []byte) error {
			_, err := c.client.AppsV1().ControllerRevisions(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
	if err != nil {
		return controller.Result{}, err
	}
	SortRevisions(revs)

	// Revisions: reuse, renumber or create the update revision (bumping collisionCount on a hash collision).
	working := set.DeepCopy()
	plan, err := c.resolveRevisions(ctx, working, revs)
	if err != nil {
		return controller.Result{}, err
	}
	in := Input{Set: working, Pods: pods, CurrentRevision: plan.Current.Name, UpdateRevision: plan.Update.Name, Now: c.clock.Now()}
	if in.CurrentSet, err = ApplyRevision(working, plan.Current); err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if in.UpdateSet, err = ApplyRevision(working, plan.Update); err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if len(set.Spec.VolumeClaimTemplates) > 0 {
		claims, err := c.claimLister.PersistentVolumeClaims(ns).List(labels.Everything())
		if err != nil {
			return controller.Result{}, err
		}
		in.Claims = make(map[string]*corev1.PersistentVolumeClaim, len(claims))
		for _, cl := range claims {
			in.Claims[cl.Name] = cl
		}
	}
	out := Reconcile(in)
	manageErr := c.execute(ctx, set, out)
	if !StatusEqual(set, out.Status) {
		if err := c.writeStatus(ctx, set, out.Status); err != nil {
			return controller.Result{}, errors.Join(manageErr, err)
		}
	}
	if manageErr != nil {
		return controller.Result{}, manageErr
	}
	// History is trimmed after the pods moved, counting the revisions still in use.
	for _, r := range HistoryToDelete(set, revs, pods, out.Status.CurrentRevision, out.Status.UpdateRevision) {
		err := c.client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return controller.Result{}, fmt.Errorf("truncate history: %w", err)
		}
	}
	return controller.Result{RequeueAfter: out.RequeueAfter}, nil
}

func (c *Controller) canAdopt(set *appsv1.StatefulSet) func(ctx context.Context) error {
	return controllerutil.RecheckOwner(set.UID, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	})
}

// resolveRevisions carries out ResolveRevisions on the API, updating working.Status.CollisionCount on a collision.
func (c *Controller) resolveRevisions(ctx context.Context, working *appsv1.StatefulSet, revs []*appsv1.ControllerRevision) (RevisionPlan, error) {
	for range 10 {
		plan, err := ResolveRevisions(working, revs)
		if err != nil {
			return RevisionPlan{}, controller.Terminal(err)
		}
		switch {
		case plan.Renumber:
			upd, err := c.client.AppsV1().ControllerRevisions(working.Namespace).Update(ctx, plan.Update, metav1.UpdateOptions{})
			if err != nil {
				return RevisionPlan{}, fmt.Errorf("renumber revision: %w", err)
			}
			if plan.Current.Name == upd.Name {
				plan.Current = upd
			}
			plan.Update = upd
		case plan.Create:
			created, err := c.client.AppsV1().ControllerRevisions(working.Namespace).Create(ctx, plan.Update, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				existing, gerr := c.client.AppsV1().ControllerRevisions(working.Namespace).Get(ctx, plan.Update.Name, metav1.GetOptions{})
				if gerr != nil {
					return RevisionPlan{}, fmt.Errorf("get revision: %w", gerr)
				}
				if ref := metav1.GetControllerOfNoCopy(existing); ref != nil && ref.UID == working.UID &&
					string(existing.Data.Raw) == string(plan.Update.Data.Raw) {
					// Our own revision, not yet in the cache.
					created, err = existing, nil
				} else {
					n := ptrDeref(working.Status.CollisionCount) + 1
					working.Status.CollisionCount = &n
					continue
				}
			}
			if err != nil {
				return RevisionPlan{}, fmt.Errorf("create revision: %w", err)
			}
			if plan.Current.Name == created.Name {
				plan.Current = created
			}
			plan.Update = created
		}
		return plan, nil
	}
	return RevisionPlan{}, errors.New("create revision: too many hash collisions")
}

// execute carries out a Plan: claims first, then pods (created in parallel), then deletions (each guarded by the
// pod's UID so that a stale cache never deletes a newer pod of the same name).
func (c *Controller) execute(ctx context.Context, set *appsv1.StatefulSet, plan Plan) error {
	for _, cl := range plan.UpdateClaims {
		if _, err := c.client.CoreV1().PersistentVolumeClaims(cl.Namespace).Update(ctx, cl, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("update claim %s: %w", cl.Name, err)
		}
	}
	for _, cl := range plan.CreateClaims {
		_, err := c.client.CoreV1().PersistentVolumeClaims(cl.Namespace).Create(ctx, cl, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %s", cl.Name, podOfClaim(set, cl), set.Name, err)
			return fmt.Errorf("create claim %s: %w", cl.Name, err)
		}
		if err == nil {
			c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", cl.Name, podOfClaim(set, cl), set.Name)
		}
	}
	errs := make([]error, len(plan.Create)+len(plan.Delete))
	var wg sync.WaitGroup
	for i, p := range plan.Create {
		wg.Go(func() {
			_, err := c.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
			switch {
			case apierrors.IsAlreadyExists(err):
			case err != nil:
				c.recordPod(set, p, "create", err)
				errs[i] = fmt.Errorf("create pod %s: %w", p.Name, err)
			default:
				c.recordPod(set, p, "create", nil)
			}
		})
	}
	wg.Wait()
	for i, p := range plan.Delete {
		wg.Go(func() {
			uid := p.UID
			err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			switch {
			case apierrors.IsNotFound(err), apierrors.IsConflict(err):
			case err != nil:
				c.recordPod(set, p, "delete", err)
				errs[len(plan.Create)+i] = fmt.Errorf("delete pod %s: %w", p.Name, err)
			default:
				c.recordPod(set, p, "delete", nil)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// recordPod records upstream's pod events: SuccessfulCreate "create Pod P in StatefulSet S successful" and the
// like, FailedCreate/FailedDelete "... failed error: E".
func (c *Controller) recordPod(set *appsv1.StatefulSet, pod *corev1.Pod, verb string, err error) {
	title := strings.ToUpper(verb[:1]) + verb[1:]
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, "Successful"+title, "%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, "Failed"+title, "%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err)
}

// podOfClaim is the name of the pod a claim <template>-<set>-<ordinal> belongs to.
func podOfClaim(set *appsv1.StatefulSet, cl *corev1.PersistentVolumeClaim) string {
	_, ord := ParentAndOrdinal(cl.Name)
	return PodName(set, ord)
}

// writeStatus writes st through the status subresource, re-reading once on a conflict.
func (c *Controller) writeStatus(ctx context.Context, set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) error {
	cur := set.DeepCopy()
	for attempt := 0; ; attempt++ {
		cur.Status = st
		_, err := c.client.AppsV1().StatefulSets(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if attempt >= 1 || !apierrors.IsConflict(err) {
			return fmt.Errorf("update status: %w", err)
		}
		if cur, err = c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		if cur.Generation != set.Generation {
			// The spec moved on; the next sync computes a fresh status.
			return nil
		}
	}
}
