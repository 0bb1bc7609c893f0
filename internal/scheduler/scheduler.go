package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"runtime"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/informerutil"
	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	"github.com/skiff-sh/skiff/internal/scheduler/queue"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listersappsv1 "k8s.io/client-go/listers/apps/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	listersschedulingv1 "k8s.io/client-go/listers/scheduling/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// DefaultSchedulerName is the spec.schedulerName pods get by default.
const DefaultSchedulerName = "default-scheduler"

// apiCallTimeout bounds one bind, status or preemption call.
const apiCallTimeout = 30 * time.Second

// Config configures a Scheduler. Client is required; zero fields take the documented defaults.
type Config struct {
	Client kubernetes.Interface
	// SchedulerName selects the pods this scheduler places (default "default-scheduler") and names it as
	// the source of its events.
	SchedulerName string
	// Clock is the only time source of the queue (default the system clock).
	Clock clock.Clock
	Log   *slog.Logger
	// Recorder receives the events; nil makes one that writes core/v1 Events through Client.
	Recorder record.EventRecorder
	// APIWorkers is how many goroutines make the bind, status and preemption calls (default 32). The
	// scheduling goroutine hands them work and goes on with the next pod.
	APIWorkers int
	// Parallelism is how many goroutines filter nodes (default GOMAXPROCS).
	Parallelism int
	// PercentageOfNodesToScore: see Algorithm (default 0, adaptive).
	PercentageOfNodesToScore int
	// Seed seeds tie-breaking between equal nodes (default the time).
	Seed int64
	// InitialBackoff and MaxBackoff bound the back-off of failed pods (default 1 s and 10 s).
	InitialBackoff, MaxBackoff time.Duration
	// PriorityClasses makes the scheduler watch scheduling.k8s.io/v1 PriorityClasses to resolve
	// spec.priorityClassName when spec.priority is unset or 0; set it only when the server serves them
	// (DetectPriorityClasses). Without it, spec.priority is used as is (the built-in class names
	// system-cluster-critical and system-node-critical are still resolved).
	PriorityClasses bool
}

func (c *Config) validate() error {
	if c.Client == nil {
		return errors.New("scheduler: Config.Client is required")
	}
	if c.SchedulerName == "" {
		c.SchedulerName = DefaultSchedulerName
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.APIWorkers <= 0 {
		c.APIWorkers = 32
	}
	if c.Parallelism <= 0 {
		c.Parallelism = runtime.GOMAXPROCS(0)
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano()
	}
	return nil
}

// Scheduler watches pending pods and binds each to a node. Build it with New, run it with Start.
type Scheduler struct {
	cfg    Config
	client kubernetes.Interface
	log    *slog.Logger

	Cache     *cache.Cache
	Queue     *queue.Queue
	snapshot  *cache.Snapshot
	algo      *Algorithm
	nominator *nominator

	factory  informers.SharedInformerFactory
	synced   []toolscache.InformerSynced
	pods     listerscorev1.PodLister
	services listerscorev1.ServiceLister
	rcs      listerscorev1.ReplicationControllerLister
	rss      listersappsv1.ReplicaSetLister
	sss      listersappsv1.StatefulSetLister
	nss      listerscorev1.NamespaceLister
	pcs      listersschedulingv1.PriorityClassLister

	recorder record.EventRecorder
	work     chan func(ctx context.Context)

	// metrics, guarded by mu
	mu                          sync.Mutex
	scheduled, failed, bindErrs int
}

// New builds a scheduler and registers its informer handlers; it starts nothing.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{
		cfg: cfg, client: cfg.Client, log: cfg.Log.With("scheduler", cfg.SchedulerName),
		Cache:     cache.New(),
		Queue:     queue.New(queue.Config{Clock: cfg.Clock, InitialBackoff: cfg.InitialBackoff, MaxBackoff: cfg.MaxBackoff}),
		snapshot:  cache.NewSnapshot(),
		algo:      &Algorithm{PercentageOfNodesToScore: cfg.PercentageOfNodesToScore, Parallelism: cfg.Parallelism, Rand: rand.New(rand.NewSource(cfg.Seed))},
		nominator: newNominator(),
		factory:   informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informerutil.Options()...),
		recorder:  cfg.Recorder,
		work:      make(chan func(ctx context.Context), 1024),
	}
	podInf := s.factory.Core().V1().Pods()
	nodeInf := s.factory.Core().V1().Nodes()
	s.pods = podInf.Lister()
	s.services = s.factory.Core().V1().Services().Lister()
	s.rcs = s.factory.Core().V1().ReplicationControllers().Lister()
	s.rss = s.factory.Apps().V1().ReplicaSets().Lister()
	s.sss = s.factory.Apps().V1().StatefulSets().Lister()
	s.nss = s.factory.Core().V1().Namespaces().Lister()
	s.synced = []toolscache.InformerSynced{
		podInf.Informer().HasSynced, nodeInf.Informer().HasSynced,
		s.factory.Core().V1().Services().Informer().HasSynced,
		s.factory.Core().V1().ReplicationControllers().Informer().HasSynced,
		s.factory.Apps().V1().ReplicaSets().Informer().HasSynced,
		s.factory.Apps().V1().StatefulSets().Informer().HasSynced,
		s.factory.Core().V1().Namespaces().Informer().HasSynced,
	}
	if cfg.PriorityClasses {
		pc := s.factory.Scheduling().V1().PriorityClasses()
		s.pcs = pc.Lister()
		s.synced = append(s.synced, pc.Informer().HasSynced)
	}
	// Scheduling waits until the handlers (not only the stores) have seen every listed node and pod, so
	// the first pods are chosen by priority among all pending ones and the cache counts every bound pod.
	nreg, err := nodeInf.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: s.addNode, UpdateFunc: s.updateNode, DeleteFunc: s.deleteNode,
	})
	if err != nil {
		return nil, err
	}
	preg, err := podInf.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: s.addPod, UpdateFunc: s.updatePod, DeleteFunc: s.deletePod,
	})
	if err != nil {
		return nil, err
	}
	s.synced = append(s.synced, nreg.HasSynced, preg.HasSynced)
	return s, nil
}

// DetectPriorityClasses reports whether the server serves scheduling.k8s.io/v1 priorityclasses.
func DetectPriorityClasses(client kubernetes.Interface) bool {
	rl, err := client.Discovery().ServerResourcesForGroupVersion("scheduling.k8s.io/v1")
	if err != nil {
		return false
	}
	for _, r := range rl.APIResources {
		if r.Name == "priorityclasses" {
			return true
		}
	}
	return false
}

// Start runs the scheduler until ctx ends: it starts the informers, waits for their caches, then
// schedules one pod after another while the API workers bind them. It returns after every goroutine it
// started has stopped.
func (s *Scheduler) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.recorder == nil {
		b := record.NewBroadcaster(record.WithContext(ctx))
		b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.client.CoreV1().Events("")})
		defer b.Shutdown()
		s.recorder = b.NewRecorder(scheme.Scheme, v1.EventSource{Component: s.cfg.SchedulerName})
	}
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil // ctx ended before the caches synced
	}
	s.log.Info("scheduler caches synced; scheduling")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Queue.Run(ctx)
	}()
	// API calls already under way when ctx ends are finished (each bounded by apiCallTimeout), so that a
	// stopping scheduler leaves no binding half-known; calls still waiting for a worker are dropped (their
	// pods stay pending for the next scheduler).
	var workers sync.WaitGroup
	for i := 0; i < s.cfg.APIWorkers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for f := range s.work {
				if ctx.Err() != nil {
					continue
				}
				callCtx, done := context.WithTimeout(context.WithoutCancel(ctx), apiCallTimeout)
				f(callCtx)
				done()
			}
		}()
	}
	for s.ScheduleOne(ctx) {
	}
	cancel()
	s.Queue.Close()
	close(s.work)
	workers.Wait()
	wg.Wait()
	return nil
}

// responsible reports whether pod is a pending pod this scheduler should place.
func (s *Scheduler) responsible(pod *v1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.Spec.SchedulerName == s.cfg.SchedulerName &&
		pod.DeletionTimestamp == nil && !terminal(pod)
}

func terminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

// withPriority resolves spec.priority from a PriorityClass when the server left it unset or 0.
func (s *Scheduler) withPriority(pod *v1.Pod) *v1.Pod {
	if s.pcs == nil || pod.Spec.PriorityClassName == "" || (pod.Spec.Priority != nil && *pod.Spec.Priority != 0) {
		return pod
	}
	pc, err := s.pcs.Get(pod.Spec.PriorityClassName)
	if err != nil || pc.Value == 0 {
		return pod
	}
	p := pod.DeepCopy()
	v := pc.Value
	p.Spec.Priority = &v
	return p
}

func (s *Scheduler) addNode(obj any) {
	node, ok := obj.(*v1.Node)
	if !ok {
		return
	}
	s.Cache.AddNode(node)
	s.Queue.MoveOnEvent(eventNodeAdd)
}

func (s *Scheduler) updateNode(oldObj, newObj any) {
	old, ok1 := oldObj.(*v1.Node)
	node, ok2 := newObj.(*v1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.Cache.UpdateNode(old, node)
	if ev := nodeUpdateEvent(old, node); len(ev) > 0 {
		s.Queue.MoveOnEvent(ev)
	}
}

func (s *Scheduler) deleteNode(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if node, ok := obj.(*v1.Node); ok {
		s.Cache.RemoveNode(node)
	}
}

func (s *Scheduler) addPod(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	pod = s.withPriority(pod)
	switch {
	case pod.Spec.NodeName != "":
		if terminal(pod) {
			return
		}
		s.Cache.AddPod(pod)
		s.nominator.remove(pod)
		s.Queue.MoveOnEvent(eventAssignedPodAdd)
	case s.responsible(pod):
		s.nominator.addFromStatus(pod)
		s.Queue.Add(pod)
	}
}

func (s *Scheduler) updatePod(oldObj, newObj any) {
	old, ok1 := oldObj.(*v1.Pod)
	pod, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return
	}
	pod = s.withPriority(pod)
	switch {
	case pod.Spec.NodeName != "" && old.Spec.NodeName == "":
		// Bound (by us, confirming the assumption, or by someone else).
		s.Queue.Delete(pod)
		s.nominator.remove(pod)
		if !terminal(pod) {
			s.Cache.AddPod(pod)
			s.Queue.MoveOnEvent(eventAssignedPodAdd)
		}
	case pod.Spec.NodeName != "":
		if terminal(pod) {
			s.Cache.RemovePod(pod)
			s.Queue.MoveOnEvent(eventAssignedPodDelete)
			return
		}
		s.Cache.UpdatePod(old, pod)
		if ev := assignedPodUpdateEvent(old, pod); len(ev) > 0 {
			s.Queue.MoveOnEvent(ev)
		}
	case s.responsible(pod):
		s.nominator.addFromStatus(pod)
		s.Queue.Update(old, pod)
	default:
		s.nominator.remove(pod)
		s.Queue.Delete(pod)
	}
}

func (s *Scheduler) deletePod(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	s.nominator.remove(pod)
	s.Queue.Delete(pod)
	// Also when the last state seen was unbound: the pod may have been assumed (and even bound) since.
	s.Cache.RemovePod(pod)
	if pod.Spec.NodeName != "" {
		s.Queue.MoveOnEvent(eventAssignedPodDelete)
	}
}

// extras gathers what placement reads for pod besides the snapshot.
func (s *Scheduler) extras(pod *v1.Pod) Extras {
	return Extras{
		Nominated:     s.nominator.pods,
		DefaultSpread: plugins.DefaultSpreadConstraints(DefaultSelector(pod, s.services, s.rcs, s.rss, s.sss)),
		NSLabels:      s.namespaceLabels,
	}
}

func (s *Scheduler) namespaceLabels(ns string) labels.Set {
	n, err := s.nss.Get(ns)
	if err != nil {
		return nil
	}
	return n.Labels
}

// ScheduleOne takes the next pod from the queue and places it: on success it assumes the pod in the cache
// and hands the binding to an API worker; on failure it explains why (event and pod condition), tries
// preemption, and hands the pod back to the queue. It returns false once ctx ends.
func (s *Scheduler) ScheduleOne(ctx context.Context) bool {
	qp := s.Queue.Pop(ctx)
	if qp == nil {
		return false
	}
	cycle := s.Queue.Cycle()
	pod := qp.Pod
	if pod.DeletionTimestamp != nil || s.Cache.IsAssumed(pod) {
		s.Queue.Done(pod)
		return true
	}
	if nn := s.nominator.node(pod); nn != "" && pod.Status.NominatedNodeName != nn {
		p := *pod
		p.Status.NominatedNodeName = nn
		pod = &p
	}
	s.Cache.UpdateSnapshot(s.snapshot)
	pi := framework.NewPodInfo(pod)
	ex := s.extras(pod)
	res, st, err := s.algo.Schedule(s.snapshot, pi, ex)
	if err != nil {
		s.fail(ctx, qp, pi, st, ex, err, cycle)
		return true
	}
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = res.Node
	assumed.Status.NominatedNodeName = ""
	api := *pi
	api.Pod = assumed
	if err := s.Cache.AssumePod(&api); err != nil {
		s.log.Error("assume failed", "pod", queue.Key(pod), "err", err)
		s.Queue.AddUnschedulable(qp, nil, cycle)
		return true
	}
	s.nominator.remove(pod)
	s.submit(ctx, func(ctx context.Context) { s.bind(ctx, qp, assumed, cycle) })
	return true
}

// submit hands f to an API worker, blocking while they are all busy and their queue is full.
func (s *Scheduler) submit(ctx context.Context, f func(ctx context.Context)) {
	select {
	case s.work <- f:
	case <-ctx.Done():
	}
}

func (s *Scheduler) bind(ctx context.Context, qp *queue.QueuedPod, assumed *v1.Pod, cycle int64) {
	b := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: assumed.Namespace, Name: assumed.Name, UID: assumed.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: assumed.Spec.NodeName},
	}
	err := s.client.CoreV1().Pods(assumed.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if err != nil {
		if ferr := s.Cache.ForgetPod(assumed); ferr != nil {
			s.log.Debug("forget after failed bind", "pod", queue.Key(assumed), "err", ferr)
		}
		s.Queue.MoveOnEvent(eventAssignedPodDelete)
		s.mu.Lock()
		s.bindErrs++
		s.mu.Unlock()
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			// Gone, already bound (the informer will tell where) or shutting down: nothing to retry.
			s.Queue.Done(assumed)
			return
		}
		s.log.Info("binding failed, will retry", "pod", queue.Key(assumed), "node", assumed.Spec.NodeName, "err", err)
		s.recorder.Eventf(qp.Pod, v1.EventTypeWarning, "FailedScheduling", "Binding rejected: %v", err)
		s.Queue.AddUnschedulable(qp, nil, cycle)
		return
	}
	s.Cache.FinishBinding(assumed)
	s.Queue.Done(assumed)
	s.mu.Lock()
	s.scheduled++
	s.mu.Unlock()
	s.recorder.Eventf(assumed, v1.EventTypeNormal, "Scheduled", "Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, assumed.Spec.NodeName)
}

// fail handles a pod that could not be placed: preemption, the queue, the event and the pod's condition.
func (s *Scheduler) fail(ctx context.Context, qp *queue.QueuedPod, pi *framework.PodInfo, st *plugins.CycleState, ex Extras, err error, cycle int64) {
	pod := pi.Pod
	var fitErr *framework.FitError
	rejectors := sets.New[string]()
	nominated := pod.Status.NominatedNodeName
	reason := v1.PodReasonUnschedulable
	switch {
	case errors.As(err, &fitErr):
		for p := range fitErr.Diagnosis.UnschedulablePlugins {
			rejectors.Insert(p)
		}
		if p, msg, ok := s.algo.Preempt(s.snapshot, st, fitErr, ex); ok {
			nominated = p.Node
			s.nominator.add(pi, p.Node)
			s.preempt(ctx, pi, p)
		} else {
			fitErr.Diagnosis.PostFilterMsg = msg
			if nominated != "" {
				// Preemption no longer helps; free the nomination.
				s.nominator.remove(pod)
				nominated = ""
			}
		}
	case errors.Is(err, framework.ErrNoNodesAvailable):
		rejectors.Insert(noNodes)
	default:
		reason = "SchedulerError"
		rejectors = nil
	}
	msg := err.Error()
	s.mu.Lock()
	s.failed++
	s.mu.Unlock()
	s.Queue.AddUnschedulable(qp, rejectors, cycle)
	s.recorder.Event(qp.Pod, v1.EventTypeWarning, "FailedScheduling", msg)
	if needsStatusUpdate(qp.Pod, reason, msg, nominated) {
		orig := qp.Pod
		now := s.cfg.Clock.Now()
		s.submit(ctx, func(ctx context.Context) { s.patchUnschedulable(ctx, orig, reason, msg, nominated, now) })
	}
}

func needsStatusUpdate(pod *v1.Pod, reason, msg, nominated string) bool {
	if pod.Status.NominatedNodeName != nominated {
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled {
			return c.Status != v1.ConditionFalse || c.Reason != reason || c.Message != msg
		}
	}
	return true
}

// patchUnschedulable sets PodScheduled=False with reason and message, and nominatedNodeName, via
// pods/status (a strategic merge patch, so other conditions are kept).
func (s *Scheduler) patchUnschedulable(ctx context.Context, pod *v1.Pod, reason, msg, nominated string, now time.Time) {
	cond := map[string]any{"type": v1.PodScheduled, "status": v1.ConditionFalse, "reason": reason, "message": msg,
		"lastProbeTime": nil}
	changed := true
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
			changed = false
		}
	}
	if changed {
		cond["lastTransitionTime"] = metav1.NewTime(now.Truncate(time.Second))
	}
	status := map[string]any{"conditions": []any{cond}}
	if nominated != pod.Status.NominatedNodeName {
		if nominated == "" {
			status["nominatedNodeName"] = nil
		} else {
			status["nominatedNodeName"] = nominated
		}
	}
	s.patchStatus(ctx, pod, status)
}

func (s *Scheduler) patchStatus(ctx context.Context, pod *v1.Pod, status map[string]any) {
	data, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		s.log.Error("status patch", "pod", queue.Key(pod), "err", err)
		return
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		s.log.Info("pod status update failed", "pod", queue.Key(pod), "err", err)
	}
}

// preempt carries out a preemption decision: it clears the nominations of lower-priority pods to the
// node, marks each victim with a DisruptionTarget condition, records a Preempted event and deletes it.
func (s *Scheduler) preempt(ctx context.Context, preemptor *framework.PodInfo, p Preemption) {
	lower := s.nominator.lowerOn(p.Node, preemptor.Priority)
	for _, l := range lower {
		s.nominator.remove(l.Pod)
	}
	victims := p.Victims
	s.log.Info("preempting", "pod", queue.Key(preemptor.Pod), "node", p.Node, "victims", len(victims))
	s.submit(ctx, func(ctx context.Context) {
		for _, l := range lower {
			s.patchStatus(ctx, l.Pod, map[string]any{"nominatedNodeName": nil})
		}
		for _, v := range victims {
			vp := v.Pod
			s.patchStatus(ctx, vp, map[string]any{"conditions": []any{map[string]any{
				"type": v1.DisruptionTarget, "status": v1.ConditionTrue, "reason": v1.PodReasonPreemptionByScheduler,
				"message":            fmt.Sprintf("%s: preempting to accommodate a higher priority pod", s.cfg.SchedulerName),
				"lastTransitionTime": metav1.NewTime(s.cfg.Clock.Now().Truncate(time.Second)),
			}}})
			uid := vp.UID
			err := s.client.CoreV1().Pods(vp.Namespace).Delete(ctx, vp.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) {
				s.log.Info("preemption: deleting victim failed", "pod", queue.Key(vp), "err", err)
				continue
			}
			s.recorder.Eventf(vp, v1.EventTypeNormal, "Preempted", "Preempted by pod %v on node %v", preemptor.Pod.UID, p.Node)
		}
	})
}

// Stats are counters since Start.
type Stats struct{ Scheduled, Failed, BindErrors int }

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Scheduled: s.scheduled, Failed: s.failed, BindErrors: s.bindErrs}
}
