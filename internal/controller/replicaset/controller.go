package replicaset

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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Event reasons, as upstream.
const (
	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
)

// Name is the controller's name in the manager's registry.
const Name = "replicaset"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "replicaset-controller"

var controllerKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// Controller keeps the pods of every owner (ReplicaSet, or another kind seen as one through Config.Owners) at its
// desired count. It is the thin shell around Reconcile and CalculateStatus: informers enqueue keys, workers sync
// one key at a time.
type Controller struct {
	name     string
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	owners    Owners
	kind      schema.GroupVersionKind
	podLister corelisters.PodLister
	synced    []cache.InformerSynced

	queue        workqueue.TypedRateLimitingInterface[string]
	expectations *controllerutil.Expectations
	// rsEvents and pods are the handlers of the owner and Pod informers.
	rsEvents cache.ResourceEventHandlerFuncs
	pods     *controllerutil.PodOwnerHandler[*appsv1.ReplicaSet]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the ReplicaSet and Pod
// informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	return NewFor(cc, Config{Name: Name, EventSource: eventSource, Owners: newReplicaSets(cc)})
}

// NewFor builds the shell over cfg.Owners, as New does for ReplicaSets: it registers handlers on the owners'
// informer and on the Pod informer of cc.Informers and starts nothing.
func NewFor(cc controller.Context, cfg Config) (*Controller, error) {
	clk := cc.ClockOrReal()
	podInf := cc.Informers.Core().V1().Pods()
	c := &Controller{
		name:         cfg.Name,
		client:       cc.Client,
		recorder:     cc.Recorder(cfg.EventSource),
		clock:        clk,
		log:          cc.LogOrDefault().With("controller", cfg.Name),
		owners:       cfg.Owners,
		kind:         cfg.Owners.Kind(),
		podLister:    podInf.Lister(),
		queue:        controller.NewQueue[string](cfg.Name),
		expectations: controllerutil.NewExpectations(clk),
	}
	c.pods = &controllerutil.PodOwnerHandler[*appsv1.ReplicaSet]{
		Queue: c.queue,
		Resolve: func(ns string, ref *metav1.OwnerReference) (*appsv1.ReplicaSet, bool) {
			return controllerutil.ResolveControllerRef(ref, c.kind, func(name string) (*appsv1.ReplicaSet, error) {
				return c.owners.Get(ns, name)
			})
		},
		Matching:           c.matching,
		SameRef:            equalRefs,
		MinReadySeconds:    func(rs *appsv1.ReplicaSet) int32 { return rs.Spec.MinReadySeconds },
		Creations:          c.expectations,
		Deletions:          c.expectations,
		DeleteOldOnRelabel: true,
	}
	c.rsEvents = controllerutil.EnqueueHandler[metav1.Object](c.queue, c.expectations.Delete)
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: strings.ToLower(c.kind.Kind), Informer: cfg.Owners.Informer(), Handler: c.rsEvents},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: c.pods.Funcs()},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return c.name }

// Run implements controller.Controller: it waits for the caches, then syncs keys with workers goroutines until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, c.name, c.log, c.queue, c.synced, workers, c.sync)
}

// matching returns the owners whose selector matches pod's labels (candidates to adopt an orphan).
func (c *Controller) matching(pod *corev1.Pod) []*appsv1.ReplicaSet {
	all, err := c.owners.List(pod.Namespace)
	if err != nil {
		return nil
	}
	return controllerutil.SelectingOwners(all, func(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector }, pod.Labels)
}

func equalRefs(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind && a.APIVersion == b.APIVersion
}

// Sync is one sync of the owner named by key (namespace/name), as a worker runs it; for the controllers built
// with NewFor, whose tests drive it directly.
func (c *Controller) Sync(ctx context.Context, key string) (controller.Result, error) {
	return c.sync(ctx, key)
}

// sync brings the ReplicaSet named by key (namespace/name) to its desired state once; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	rs, err := c.owners.Get(ns, name)
	if apierrors.IsNotFound(err) {
		c.expectations.Delete(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	needsSync := c.expectations.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation rejects such selectors; nothing to do until the spec changes.
		return controller.Result{}, controller.Terminal(fmt.Errorf("invalid selector: %w", err))
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	pods, err := c.claimPods(ctx, rs, selector, controllerutil.FilterActivePods(all))
	if err != nil {
		return controller.Result{}, err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, key, rs, pods)
	}
	now := c.clock.Now()
	st := CalculateStatus(rs, pods, manageErr, now)
	updated := rs
	if UpdateNeeded(rs, st) {
		if updated, err = c.writeStatus(ctx, rs, st); err != nil {
			return controller.Result{}, errors.Join(manageErr, err)
		}
	}
	if manageErr != nil {
		return controller.Result{}, manageErr
	}
	// Resync once minReadySeconds have passed, as a last line of defence against missed pod updates.
	return controller.Result{RequeueAfter: MinReadyRequeue(updated, updated.Status)}, nil
}

func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	return controllerutil.ClaimObjects(ctx, rs, c.kind, sel, pods, nil, controllerutil.ClaimIO[*corev1.Pod]{
		CanAdopt: controllerutil.RecheckOwner(rs.UID, func(ctx context.Context) (metav1.Object, error) {
			return c.owners.GetLive(ctx, rs.Namespace, rs.Name)
		}),
		Patch: func(ctx context.Context, pod *corev1.Pod, patch []byte) error {
			_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
}

// related returns the active pods of every owner that has the same controller as rs.
func (c *Controller) related(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil
	}
	siblings, err := c.owners.List(rs.Namespace)
	if err != nil {
		return nil
	}
	seen := map[types.UID]bool{}
	var out []*corev1.Pod
	for _, s := range siblings {
		if r := metav1.GetControllerOfNoCopy(s); r == nil || r.UID != ref.UID {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
		if err != nil {
			continue
		}
		pods, err := c.podLister.Pods(s.Namespace).List(sel)
		if err != nil {
			continue
		}
		for _, p := range pods {
			if !seen[p.UID] {
				seen[p.UID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// manage carries out Reconcile's plan: creations in slow-start batches, deletions in parallel, with expectations
// recorded first so that a lagging cache cannot cause a second round.
func (c *Controller) manage(ctx context.Context, key string, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	var related []*corev1.Pod
	if len(pods) > int(ptr.Deref(rs.Spec.Replicas, 1)) {
		related = c.related(rs)
	}
	plan := Reconcile(rs, pods, related, c.clock.Now())
	switch {
	case plan.Create > 0:
		c.expectations.ExpectCreations(key, plan.Create)
		ref := controllerutil.NewControllerRef(rs, c.kind)
		created, err := controllerutil.SlowStartBatch(plan.Create, 1, func() error {
			return c.createPod(ctx, rs, ref)
		})
		for range plan.Create - created {
			// Never created: the informer will not report them.
			c.expectations.CreationObserved(key)
		}
		return err
	case len(plan.Delete) > 0:
		keys := make([]string, len(plan.Delete))
		for i, p := range plan.Delete {
			keys[i] = cache.MetaObjectToName(p).String()
		}
		c.expectations.ExpectDeletions(key, keys)
		errs := make([]error, len(plan.Delete))
		var wg sync.WaitGroup
		for i, p := range plan.Delete {
			wg.Go(func() {
				if err := c.deletePodNow(ctx, rs, p); err != nil {
					c.expectations.DeletionObserved(key, cache.MetaObjectToName(p).String())
					if !apierrors.IsNotFound(err) {
						errs[i] = err
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet, ref *metav1.OwnerReference) error {
	pod := controllerutil.PodFromTemplate(&rs.Spec.Template, rs.Name, ref)
	if len(pod.Labels) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			// Every create would fail the same way; the namespace is going away.
			return nil
		}
		c.recorder.Eventf(c.owners.EventObject(rs), corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return err
	}
	c.recorder.Eventf(c.owners.EventObject(rs), corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deletePodNow(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		c.recorder.Eventf(c.owners.EventObject(rs), corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("unable to delete pods: %w", err)
	}
	c.recorder.Eventf(c.owners.EventObject(rs), corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", pod.Name)
	return nil
}

// writeStatus writes st through the status subresource, re-reading once on a conflict.
func (c *Controller) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	st.ObservedGeneration = rs.Generation
	cur := rs.DeepCopy()
	for attempt := 0; ; attempt++ {
		cur.Status = st
		updated, err := c.owners.UpdateStatus(ctx, cur)
		if err == nil {
			return updated, nil
		}
		if attempt >= 1 {
			return nil, fmt.Errorf("update status: %w", err)
		}
		if cur, err = c.owners.GetLive(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, fmt.Errorf("update status: %w", err)
		}
	}
}
