package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "nodelifecycle"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "node-controller"

// LeaseNamespace holds the nodes' heartbeat Leases, one per node, named after it.
const LeaseNamespace = corev1.NamespaceNodeLease

// Event reasons, as upstream.
const (
	EventNodeNotReady          = "NodeNotReady"
	EventTaintManagerEviction  = "TaintManagerEviction"
	ReasonDeletionByTaintMgr   = "DeletionByTaintManager"
	messageDeletionByTaintMgr  = "Taint manager: deleting due to NoExecute taint"
	messageNodeNotReadyForPods = "Node is not ready"
)

// Controller watches Nodes, their Leases and the pods bound to them, and queues node names only.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger
	opts     Options

	nodeLister  corelisters.NodeLister
	leaseLister coordinationlisters.LeaseLister
	podIndexer  cache.Indexer
	synced      []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	mu sync.Mutex // guards the fields below
	// observed is each node's Observation from its last sync.
	observed map[string]Observation
	// evicting holds the pods this controller deleted that the pod informer has not yet shown being deleted.
	evicting map[types.UID]bool
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller with the default Options (the manager has no per-controller options; see NewWith).
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc, Options{})
}

// NewWith returns a Constructor for the controller with opts, for a registry that overrides the defaults
// (internal/server passes --node-monitor-grace-period this way).
func NewWith(opts Options) controller.Constructor {
	return func(cc controller.Context) (controller.Controller, error) { return newController(cc, opts) }
}

func newController(cc controller.Context, opts Options) (*Controller, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	nodeInf := cc.Informers.Core().V1().Nodes()
	leaseInf := cc.Informers.Coordination().V1().Leases()
	podInf := cc.Informers.Core().V1().Pods()
	if err := controllerutil.AddPodNodeNameIndex(podInf.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{
		client:      cc.Client,
		recorder:    cc.Recorder(eventSource),
		clock:       cc.ClockOrReal(),
		log:         cc.LogOrDefault().With("controller", Name),
		opts:        opts,
		nodeLister:  nodeInf.Lister(),
		leaseLister: leaseInf.Lister(),
		podIndexer:  podInf.Informer().GetIndexer(),
		queue:       controller.NewQueue[string](Name),
		observed:    map[string]Observation{},
		evicting:    map[types.UID]bool{},
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "node", Informer: nodeInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueNode,
			UpdateFunc: func(_, cur any) { c.enqueueNode(cur) },
			DeleteFunc: c.enqueueNode,
		}},
		controller.Handler{What: "lease", Informer: leaseInf.Informer(), Handler: cache.FilteringResourceEventHandler{
			FilterFunc: func(obj any) bool {
				l, ok := controllerutil.ObjectOf[*coordinationv1.Lease](obj)
				return ok && l.Namespace == LeaseNamespace
			},
			Handler: cache.ResourceEventHandlerFuncs{
				AddFunc:    c.enqueueLease,
				UpdateFunc: func(_, cur any) { c.enqueueLease(cur) },
				DeleteFunc: c.enqueueLease,
			},
		}},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.addPod,
			UpdateFunc: c.updatePod,
			DeleteFunc: c.deletePod,
		}},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then syncs nodes with workers goroutines until
// ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueueNode(obj any) {
	if n, ok := controllerutil.ObjectOf[*corev1.Node](obj); ok {
		c.queue.Add(n.Name)
	}
}

func (c *Controller) enqueueLease(obj any) {
	if l, ok := controllerutil.ObjectOf[*coordinationv1.Lease](obj); ok {
		c.queue.Add(l.Name)
	}
}

// needsPodSync reports whether pods on the named node matter to the controller now: the node is not Ready or has
// a NoExecute taint. A healthy node's pods are left alone, so pod churn costs nothing in the steady state.
func (c *Controller) needsPodSync(name string) bool {
	n, err := c.nodeLister.Get(name)
	if err != nil {
		return false
	}
	if r := condition(n.Status.Conditions, corev1.NodeReady); r == nil || r.Status != corev1.ConditionTrue {
		return true
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}

func (c *Controller) addPod(obj any) {
	p := controllerutil.PodFromEvent(obj)
	if p != nil && p.Spec.NodeName != "" && c.needsPodSync(p.Spec.NodeName) {
		c.queue.Add(p.Spec.NodeName)
	}
}

func (c *Controller) updatePod(old, cur any) {
	o, p := controllerutil.PodFromEvent(old), controllerutil.PodFromEvent(cur)
	if o == nil || p == nil {
		return
	}
	if p.DeletionTimestamp != nil {
		c.forgetEviction(p.UID)
	}
	if o.ResourceVersion == p.ResourceVersion || p.Spec.NodeName == "" {
		return
	}
	if o.Spec.NodeName != p.Spec.NodeName || !tolerationsEqual(o.Spec.Tolerations, p.Spec.Tolerations) ||
		controllerutil.IsPodReady(o) != controllerutil.IsPodReady(p) || (o.DeletionTimestamp == nil) != (p.DeletionTimestamp == nil) {
		if c.needsPodSync(p.Spec.NodeName) {
			c.queue.Add(p.Spec.NodeName)
		}
	}
}

func (c *Controller) deletePod(obj any) {
	if p := controllerutil.PodFromEvent(obj); p != nil {
		c.forgetEviction(p.UID)
	}
}

func (c *Controller) forgetEviction(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.evicting, uid)
}

func tolerationsEqual(a, b []corev1.Toleration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].MatchToleration(&b[i]) || (a[i].TolerationSeconds == nil) != (b[i].TolerationSeconds == nil) ||
			a[i].TolerationSeconds != nil && *a[i].TolerationSeconds != *b[i].TolerationSeconds {
			return false
		}
	}
	return true
}

// sync brings one node (key: its name) and its pods in line with its heartbeats once; see the package
// documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	node, err := c.nodeLister.Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.observed, name)
		c.mu.Unlock()
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	lease, err := c.leaseLister.Leases(LeaseNamespace).Get(name)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return controller.Result{}, err
		}
		lease = nil
	}
	all, err := controllerutil.PodsOnNode(c.podIndexer, name)
	if err != nil {
		return controller.Result{}, err
	}
	c.mu.Lock()
	pods := make([]*corev1.Pod, 0, len(all))
	for _, p := range all {
		if !c.evicting[p.UID] {
			pods = append(pods, p)
		}
	}
	var last *Observation
	if o, ok := c.observed[name]; ok {
		last = &o
	}
	c.mu.Unlock()

	now := c.clock.Now()
	res := Reconcile(Input{Node: node, Lease: lease, Pods: pods, Last: last, Now: now}, c.opts)

	cur := node
	if res.Conditions != nil {
		n := node.DeepCopy()
		n.Status.Conditions = res.Conditions
		if cur, err = c.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("update node status: %w", err)
		}
		if res.NodeNotReady {
			c.recorder.Eventf(node, corev1.EventTypeNormal, EventNodeNotReady, "Node %s status is now: %s", node.Name, EventNodeNotReady)
		}
		c.log.Info("node stopped posting status; conditions set to Unknown", "node", name)
	}
	c.mu.Lock()
	c.observed[name] = res.Observation
	c.mu.Unlock()
	if res.TaintsChanged {
		n := cur.DeepCopy()
		n.Spec.Taints = res.Taints
		if _, err := c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("update node taints: %w", err)
		}
	}
	var errs []error
	for _, p := range res.MarkNotReady {
		if err := c.markNotReady(ctx, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range res.Evict {
		if err := c.evict(ctx, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	return controller.Result{RequeueAfter: res.RequeueAfter}, errors.Join(errs...)
}

// markNotReady sets the Ready condition of a pod on an unreachable node to False, as upstream's MarkPodsNotReady.
func (c *Controller) markNotReady(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	p := pod.DeepCopy()
	for i := range p.Status.Conditions {
		if cond := &p.Status.Conditions[i]; cond.Type == corev1.PodReady {
			cond.Status = corev1.ConditionFalse
			cond.LastTransitionTime = metav1.NewTime(now)
		}
	}
	if _, err := c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err)
	}
	c.recorder.Event(pod, corev1.EventTypeWarning, EventNodeNotReady, messageNodeNotReadyForPods)
	return nil
}

// evict deletes a pod for a NoExecute taint, first adding the DisruptionTarget condition, as upstream's taint
// eviction controller.
func (c *Controller) evict(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	c.recorder.Eventf(pod, corev1.EventTypeNormal, EventTaintManagerEviction, "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
	pods := c.client.CoreV1().Pods(pod.Namespace)
	if !hasDisruptionTarget(pod) {
		patch := fmt.Sprintf(`{"status":{"conditions":[{"type":%q,"status":"True","reason":%q,"message":%q,"lastTransitionTime":%q}]}}`,
			corev1.DisruptionTarget, ReasonDeletionByTaintMgr, messageDeletionByTaintMgr, now.UTC().Format(time.RFC3339))
		if _, err := pods.Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("evict pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	// Remembered before the call, so that the informer's report of the deletion, however early, clears it.
	uid := pod.UID
	c.mu.Lock()
	c.evicting[uid] = true
	c.mu.Unlock()
	err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil {
		c.forgetEviction(uid)
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) { // gone, or replaced by another pod
			return fmt.Errorf("evict pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

func hasDisruptionTarget(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
