package job

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// TTLName names the TTL-after-finished loop in logs and its queue.
const TTLName = "ttl-after-finished"

// TTLExpiry tells whether job, finished with ttlSecondsAfterFinished set, is due for deletion at now: due, or
// the time left. ok is false when the Job has no TTL or has not finished.
func TTLExpiry(job *batchv1.Job, now time.Time) (due bool, left time.Duration, ok bool) {
	if job.Spec.TTLSecondsAfterFinished == nil || job.DeletionTimestamp != nil {
		return false, 0, false
	}
	var finishedAt time.Time
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			finishedAt = c.LastTransitionTime.Time
		}
	}
	if finishedAt.IsZero() {
		return false, 0, false
	}
	left = finishedAt.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second).Sub(now)
	if left <= 0 {
		return true, 0, true
	}
	return false, left, true
}

// TTLController deletes finished Jobs (background propagation) once ttlSecondsAfterFinished has passed, as
// upstream's ttlafterfinished controller. Job's Controller runs it.
type TTLController struct {
	client kubernetes.Interface
	clock  clock.Clock
	log    *slog.Logger
	lister batchlisters.JobLister
	queue  workqueue.TypedRateLimitingInterface[string]
}

func newTTLController(cc controller.Context, clk clock.Clock, log *slog.Logger) (*TTLController, error) {
	inf := cc.Informers.Batch().V1().Jobs()
	t := &TTLController{
		client: cc.Client,
		clock:  clk,
		log:    log.With("controller", TTLName),
		lister: inf.Lister(),
		queue:  controller.NewQueue[string](TTLName),
	}
	add := func(obj any) {
		if j, ok := obj.(*batchv1.Job); ok {
			if _, _, ok := TTLExpiry(j, clk.Now()); ok {
				t.queue.Add(cache.MetaObjectToName(j).String())
			}
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(_, cur any) { add(cur) },
	}); err != nil {
		return nil, fmt.Errorf("ttl job informer: %w", err)
	}
	return t, nil
}

func (t *TTLController) run(ctx context.Context, workers int) {
	controller.RunWorkers(ctx, t.log, t.queue, workers, t.sync)
}

// sync deletes the Job named by key if its TTL has expired, checking again on a fresh read first (the TTL may
// have been changed), and requeues it for when it will expire otherwise.
func (t *TTLController) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	job, err := t.lister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	due, left, ok := TTLExpiry(job, t.clock.Now())
	if !ok {
		return controller.Result{}, nil
	}
	if !due {
		return controller.Result{RequeueAfter: left}, nil
	}
	fresh, err := t.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("get job: %w", err)
	}
	if due, left, ok = TTLExpiry(fresh, t.clock.Now()); !ok || !due {
		return controller.Result{RequeueAfter: left}, nil
	}
	policy := metav1.DeletePropagationBackground
	err = t.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &fresh.UID, ResourceVersion: &fresh.ResourceVersion},
	})
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("delete job: %w", err)
	}
	t.log.Info("deleted finished job after its TTL", "job", key)
	return controller.Result{}, nil
}
