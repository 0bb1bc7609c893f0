package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "job"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "job-controller"

// orphanPrefix marks queue keys of pods that hold the tracking finalizer but have no Job left to count them.
const orphanPrefix = "orphan-pod:"

var controllerKind = batchv1.SchemeGroupVersion.WithKind("Job")

// Controller runs the pods of every Job and reports them in its status (the thin shell around Reconcile), and
// deletes finished Jobs whose ttlSecondsAfterFinished has passed (TTL).
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	jobLister batchlisters.JobLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced

	queue        workqueue.TypedRateLimitingInterface[string]
	expectations *controllerutil.Expectations
	ttl          *TTLController
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Job and Pod
// informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	clk, log := cc.ClockOrReal(), cc.LogOrDefault()
	jobInf := cc.Informers.Batch().V1().Jobs()
	podInf := cc.Informers.Core().V1().Pods()
	c := &Controller{
		client:       cc.Client,
		recorder:     cc.Recorder(eventSource),
		clock:        clk,
		log:          log.With("controller", Name),
		jobLister:    jobInf.Lister(),
		podLister:    podInf.Lister(),
		queue:        controller.NewQueue[string](Name),
		expectations: controllerutil.NewExpectations(clk),
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "job", Informer: jobInf.Informer(), Handler: controllerutil.EnqueueHandler[*batchv1.Job](c.queue, c.expectations.Delete)},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.addPod,
			UpdateFunc: func(_, cur any) { c.podChanged(cur, false) },
			DeleteFunc: func(obj any) { c.podChanged(obj, true) },
		}},
	)
	if err != nil {
		return nil, err
	}
	if c.ttl, err = newTTLController(cc, clk, log); err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then syncs Jobs with workers goroutines (and
// the TTL-after-finished loop with as many) until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.ttl.run(ctx, workers) })
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	wg.Wait()
	return nil
}

// resolve returns the Job ref points to in ns, if it is in the cache with the same UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *batchv1.Job {
	j, _ := controllerutil.ResolveControllerRef(ref, controllerKind, c.jobLister.Jobs(ns).Get)
	return j
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if j := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); j != nil {
		c.expectations.CreationObserved(cache.MetaObjectToName(j).String())
	}
	c.podChanged(pod, false)
}

// podChanged queues the Job controlling pod (or, for an orphan, the Jobs selecting it), and orphaned pods that
// still hold the tracking finalizer.
func (c *Controller) podChanged(obj any, deleted bool) {
	pod := controllerutil.PodFromEvent(obj)
	if pod == nil {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if j := c.resolve(pod.Namespace, ref); j != nil {
		if deleted || pod.DeletionTimestamp != nil {
			c.expectations.DeletionObserved(cache.MetaObjectToName(j).String(), cache.MetaObjectToName(pod).String())
		}
		c.queue.Add(cache.MetaObjectToName(j).String())
		return
	}
	if !deleted && hasFinalizer(pod) {
		c.queue.Add(orphanPrefix + cache.MetaObjectToName(pod).String())
	}
	if ref == nil && !deleted {
		all, err := c.jobLister.Jobs(pod.Namespace).List(labels.Everything())
		if err != nil {
			return
		}
		for _, j := range controllerutil.SelectingOwners(all, func(j *batchv1.Job) *metav1.LabelSelector { return j.Spec.Selector }, pod.Labels) {
			c.queue.Add(cache.MetaObjectToName(j).String())
		}
	}
}

// sync brings the Job named by key (namespace/name) one step towards its desired state; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	if podKey, ok := strings.CutPrefix(key, orphanPrefix); ok {
		return controller.Result{}, c.syncOrphan(ctx, podKey)
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	job, err := c.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.Delete(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !c.expectations.Satisfied(key) {
		// Our last creations or deletions are not in the cache yet; their events queue the Job again.
		return controller.Result{}, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil || job.Spec.Selector == nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("invalid selector: %v", err))
	}
	all, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	pods, err := c.claimPods(ctx, job, selector, all)
	if err != nil {
		return controller.Result{}, err
	}
	plan := Reconcile(job, pods, c.clock.Now())
	if plan.StatusChanged {
		if err := c.writeStatus(ctx, job, plan.Status); err != nil {
			return controller.Result{}, err
		}
	}
	for _, e := range plan.Events {
		c.recorder.Event(job, e.Type, e.Reason, e.Message)
	}
	errs := []error{c.managePods(ctx, key, job, plan)}
	errs = append(errs, c.removeFinalizers(ctx, plan.RemoveFinalizers)...)
	if err := errors.Join(errs...); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// syncOrphan removes the tracking finalizer from a pod whose Job is gone or no longer controls it.
func (c *Controller) syncOrphan(ctx context.Context, podKey string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(podKey)
	if err != nil {
		return controller.Terminal(err)
	}
	pod, err := c.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if !hasFinalizer(pod) || c.resolve(ns, ref) != nil {
		return nil
	}
	if ref == nil && pod.DeletionTimestamp == nil && IsActive(pod) {
		// A running orphan may still be adopted by a Job that selects it.
		return nil
	}
	return errors.Join(c.removeFinalizers(ctx, []*corev1.Pod{pod})...)
}

func (c *Controller) claimPods(ctx context.Context, job *batchv1.Job, sel labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	return controllerutil.ClaimObjects(ctx, job, controllerKind, sel, pods, nil, controllerutil.ClaimIO[*corev1.Pod]{
		CanAdopt: controllerutil.RecheckOwner(job.UID, func(ctx context.Context) (metav1.Object, error) {
			return c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		}),
		Patch: func(ctx context.Context, pod *corev1.Pod, patch []byte) error {
			_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
}

// managePods carries out the plan's creations (slow-start batches) and deletions (in parallel, each after
// releasing the pod's finalizer so that it is not counted as a failure), expectations recorded first.
func (c *Controller) managePods(ctx context.Context, key string, job *batchv1.Job, plan Plan) error {
	switch {
	case len(plan.Create) > 0:
		c.expectations.ExpectCreations(key, len(plan.Create))
		ref := controllerutil.NewControllerRef(job, controllerKind)
		var mu sync.Mutex
		next := 0
		created, err := controllerutil.SlowStartBatch(len(plan.Create), 1, func() error {
			mu.Lock()
			idx := plan.Create[next]
			next++
			mu.Unlock()
			return c.createPod(ctx, job, ref, idx, plan.PodAnnotations[idx])
		})
		for range len(plan.Create) - created {
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
				if err := c.deletePod(ctx, job, p); err != nil {
					c.expectations.DeletionObserved(key, cache.MetaObjectToName(p).String())
					errs[i] = err
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return nil
}

// NewPod is the pod job runs for completion index idx (-1 for NonIndexed): its template with the tracking
// finalizer and, for Indexed Jobs, the index annotation and label, hostname "<job>-<idx>" and JOB_COMPLETION_INDEX.
func NewPod(job *batchv1.Job, ref *metav1.OwnerReference, idx int) *corev1.Pod {
	prefix := job.Name
	if idx >= 0 {
		prefix = fmt.Sprintf("%s-%d", job.Name, idx)
	}
	pod := controllerutil.PodFromTemplate(&job.Spec.Template, prefix, ref)
	pod.Finalizers = append(pod.Finalizers, TrackingFinalizer)
	if idx < 0 {
		return pod
	}
	v := strconv.Itoa(idx)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[CompletionIndexKey] = v
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[CompletionIndexKey] = v
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = prefix
	}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			addIndexEnv(&cs[i])
		}
	}
	return pod
}

func addIndexEnv(c *corev1.Container) {
	for _, e := range c.Env {
		if e.Name == CompletionIndexEnv {
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: CompletionIndexEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.labels['%s']", CompletionIndexKey)},
	}})
}

func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, ref *metav1.OwnerReference, idx int, annotations map[string]string) error {
	pod := NewPod(job, ref, idx)
	for k, v := range annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	created, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return fmt.Errorf("create pod: %w", err)
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deletePod(ctx context.Context, job *batchv1.Job, pod *corev1.Pod) error {
	if errs := c.removeFinalizers(ctx, []*corev1.Pod{pod}); len(errs) > 0 {
		return errs[0]
	}
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("delete pod: %w", err)
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", pod.Name)
	return nil
}

// removeFinalizers patches the tracking finalizer out of pods, in parallel; pods already gone are skipped.
func (c *Controller) removeFinalizers(ctx context.Context, pods []*corev1.Pod) []error {
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, pod := range pods {
		if !hasFinalizer(pod) {
			continue
		}
		wg.Go(func() {
			errs[i] = c.removeFinalizer(ctx, pod)
		})
	}
	wg.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func (c *Controller) removeFinalizer(ctx context.Context, pod *corev1.Pod) error {
	// As upstream: a strategic-merge directive that leaves other finalizers alone.
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"$deleteFromPrimitiveList/finalizers": []string{TrackingFinalizer},
	}})
	if err != nil {
		return fmt.Errorf("finalizer patch: %w", err)
	}
	_, err = c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove finalizer from %s: %w", pod.Name, err)
	}
	return nil
}

// writeStatus writes st through the status subresource; on a conflict the retry decides again from the newer
// object.
func (c *Controller) writeStatus(ctx context.Context, job *batchv1.Job, st batchv1.JobStatus) error {
	cur := job.DeepCopy()
	cur.Status = st
	_, err := c.client.BatchV1().Jobs(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}
