package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Name is the controller's name in the manager's registry.
const Name = "cronjob"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "cronjob-controller"

var controllerKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// Controller creates the Jobs of every CronJob on its schedule and cleans up their history. It is the thin
// shell around Reconcile: informers enqueue CronJob keys, workers sync one key at a time.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	cjLister  batchlisters.CronJobLister
	jobLister batchlisters.JobLister
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the CronJob and Job
// informers of cc.Informers and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	cjInf := cc.Informers.Batch().V1().CronJobs()
	jobInf := cc.Informers.Batch().V1().Jobs()
	c := &Controller{
		client:    cc.Client,
		recorder:  cc.Recorder(eventSource),
		clock:     cc.ClockOrReal(),
		log:       cc.LogOrDefault().With("controller", Name),
		cjLister:  cjInf.Lister(),
		jobLister: jobInf.Lister(),
		queue:     controller.NewQueue[string](Name),
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "cronjob", Informer: cjInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: c.updateCronJob,
			DeleteFunc: c.enqueue,
		}},
		controller.Handler{What: "job", Informer: jobInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: c.updateJob,
			DeleteFunc: c.enqueueOwner,
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

func (c *Controller) enqueue(obj any) {
	if cj, ok := controllerutil.ObjectOf[*batchv1.CronJob](obj); ok {
		c.queue.Add(cj.Namespace + "/" + cj.Name)
	}
}

// updateCronJob syncs a changed CronJob now, unless its schedule or time zone changed: then at the next time of
// the new schedule, so that the change itself never starts a Job for a time the new schedule missed.
func (c *Controller) updateCronJob(old, cur any) {
	oldCJ, ok1 := old.(*batchv1.CronJob)
	curCJ, ok2 := cur.(*batchv1.CronJob)
	if !ok1 || !ok2 {
		return
	}
	if oldCJ.Spec.Schedule != curCJ.Spec.Schedule || ptr.Deref(oldCJ.Spec.TimeZone, "") != ptr.Deref(curCJ.Spec.TimeZone, "") {
		if sched, err := parseSchedule(curCJ); err == nil {
			c.queue.AddAfter(curCJ.Namespace+"/"+curCJ.Name, max(nextScheduleTimeDuration(curCJ, c.clock.Now(), sched), 0))
			return
		}
	}
	c.enqueue(curCJ)
}

// enqueueOwner queues the CronJob that controls a Job, if it is in the cache with the same UID.
func (c *Controller) enqueueOwner(obj any) {
	job, ok := controllerutil.ObjectOf[*batchv1.Job](obj)
	if !ok {
		return
	}
	if cj, ok := controllerutil.ResolveControllerRef(metav1.GetControllerOfNoCopy(job), controllerKind, c.cjLister.CronJobs(job.Namespace).Get); ok {
		c.queue.Add(job.Namespace + "/" + cj.Name)
	}
}

// updateJob queues the CronJob that controls a changed Job and, if another CronJob controlled it before, that one.
func (c *Controller) updateJob(old, cur any) {
	oldJob, curJob := old.(*batchv1.Job), cur.(*batchv1.Job)
	if oldJob.ResourceVersion == curJob.ResourceVersion {
		return
	}
	if o, n := metav1.GetControllerOfNoCopy(oldJob), metav1.GetControllerOfNoCopy(curJob); o != nil && (n == nil || o.UID != n.UID) {
		c.enqueueOwner(oldJob)
	}
	c.enqueueOwner(curJob)
}

// sync brings the CronJob named by key (namespace/name) up to date once; see the package documentation. Errors
// follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	cj, err := c.cjLister.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	all, err := c.jobLister.Jobs(ns).List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	var jobs []*batchv1.Job
	for _, j := range all {
		if metav1.IsControlledBy(j, cj) {
			jobs = append(jobs, j)
		}
	}
	if Unexpected(cj, jobs) {
		// The Job cache may be ahead of the CronJob cache after our own status update: read the CronJob again.
		fresh, err := c.client.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		if err != nil {
			return controller.Result{}, fmt.Errorf("get cronjob: %w", err)
		}
		if fresh.UID == cj.UID {
			cj = fresh
		}
	}
	gone := map[types.UID]bool{}
	for _, ref := range MissingActive(cj, jobs) {
		// Ask the server: a slow watch must not make an active Job look gone.
		j, err := c.client.BatchV1().Jobs(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			gone[ref.UID] = true
		case err != nil:
			return controller.Result{}, fmt.Errorf("get job: %w", err)
		case j.UID != ref.UID:
			gone[ref.UID] = true
		}
	}

	plan := Reconcile(cj, jobs, gone, c.clock.Now())
	for _, e := range plan.Events {
		c.recorder.Event(cj, e.Type, e.Reason, e.Message)
	}
	st := plan.Status
	for _, j := range plan.Delete {
		c.deleteJob(ctx, cj, j.Namespace, j.Name)
	}
	var actErr error
	for _, ref := range plan.Replace {
		if err := c.deleteJob(ctx, cj, ref.Namespace, ref.Name); err != nil {
			actErr = fmt.Errorf("could not replace job %s/%s: %w", ref.Namespace, ref.Name, err)
			break
		}
		st.Active = removeActive(st.Active, ref.UID)
	}
	if plan.Create != nil && actErr == nil {
		ref, err := c.createJob(ctx, cj, plan.Create)
		switch {
		case err != nil:
			actErr = err
		case ref != nil:
			st.Active = append(st.Active, *ref)
			st.LastScheduleTime = &metav1.Time{Time: plan.ScheduledTime}
		}
	}
	if !apiequality.Semantic.DeepEqual(cj.Status, st) {
		if err := c.writeStatus(ctx, cj, st); err != nil {
			return controller.Result{}, errors.Join(actErr, err)
		}
	}
	if actErr != nil {
		return controller.Result{}, actErr
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// deleteJob deletes a Job and, in the background, its pods, recording SuccessfulDelete or FailedDelete. A Job
// already gone counts as deleted.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, ns, name string) error {
	err := c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, EventFailedDelete, "Deleted job: %v", err)
		return fmt.Errorf("delete job: %w", err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted job %v", name)
	return nil
}

// createJob creates job and returns the reference to add to status.active, or nil when the Job already exists
// and is not ours to track (another controller's, or already active).
func (c *Controller) createJob(ctx context.Context, cj *batchv1.CronJob, job *batchv1.Job) (*corev1.ObjectReference, error) {
	created, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, fmt.Errorf("create job: %w", err)
	case apierrors.IsAlreadyExists(err):
		// Created by an earlier sync whose status update was lost, or by someone else.
		existing, err := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get job: %w", err)
		}
		if !metav1.IsControlledBy(existing, cj) || inActive(cj.Status.Active, existing.UID) {
			return nil, nil
		}
		c.log.Info("job already exists", "cronjob", cj.Namespace+"/"+cj.Name, "job", job.Name)
		created = existing
	case err != nil:
		c.recorder.Eventf(cj, corev1.EventTypeWarning, EventFailedCreate, "Error creating job: %v", err)
		return nil, fmt.Errorf("create job: %w", err)
	default:
		c.recorder.Eventf(cj, corev1.EventTypeNormal, EventSuccessfulCreate, "Created job %v", created.Name)
	}
	ref := jobRef(created)
	return &ref, nil
}

// writeStatus writes st through the status subresource; a conflict is retried by the queue.
func (c *Controller) writeStatus(ctx context.Context, cj *batchv1.CronJob, st batchv1.CronJobStatus) error {
	cur := cj.DeepCopy()
	cur.Status = st
	if _, err := c.client.BatchV1().CronJobs(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}
