package disruption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "disruption"

// eventSource is the component named as the source of the events it records, as upstream.
const eventSource = "controllermanager"

// key is a work item: a PodDisruptionBudget to sync, or (Pod) a pod whose DisruptionTarget condition may be stale.
type key struct {
	Pod bool
	cache.ObjectName
}

// Controller keeps the status of every PodDisruptionBudget; it is the thin shell around Reconcile.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger

	pdbLister policylisters.PodDisruptionBudgetLister
	podLister corelisters.PodLister
	rcLister  corelisters.ReplicationControllerLister
	rsLister  appslisters.ReplicaSetLister
	dLister   appslisters.DeploymentLister
	ssLister  appslisters.StatefulSetLister
	synced    []cache.InformerSynced

	// scaleOf is the last finder: the /scale subresource of any other controller kind (nil: none).
	scaleOf Finder
	queue   workqueue.TypedRateLimitingInterface[key]
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context: it registers handlers on the Pod and
// PodDisruptionBudget informers, requests the ReplicationController, ReplicaSet, Deployment and StatefulSet
// informers for their listers, and starts nothing.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	podInf := cc.Informers.Core().V1().Pods()
	pdbInf := cc.Informers.Policy().V1().PodDisruptionBudgets()
	rcInf := cc.Informers.Core().V1().ReplicationControllers()
	rsInf := cc.Informers.Apps().V1().ReplicaSets()
	dInf := cc.Informers.Apps().V1().Deployments()
	ssInf := cc.Informers.Apps().V1().StatefulSets()
	c := &Controller{
		client:    cc.Client,
		recorder:  cc.Recorder(eventSource),
		clock:     cc.ClockOrReal(),
		log:       cc.LogOrDefault().With("controller", Name),
		pdbLister: pdbInf.Lister(),
		podLister: podInf.Lister(),
		rcLister:  rcInf.Lister(),
		rsLister:  rsInf.Lister(),
		dLister:   dInf.Lister(),
		ssLister:  ssInf.Lister(),
		queue:     controller.NewQueue[key](Name),
	}
	if cc.RESTMapper != nil && cc.Discovery != nil {
		c.scaleOf = scaleFinder(cc.Client, cc.RESTMapper, cc.Discovery)
	}
	pdbEvents := cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueuePDB,
		UpdateFunc: func(_, cur any) { c.enqueuePDB(cur) },
		DeleteFunc: c.enqueuePDB,
	}
	podEvents := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podChanged(obj, true) },
		UpdateFunc: func(_, cur any) { c.podChanged(cur, true) },
		DeleteFunc: func(obj any) { c.podChanged(obj, false) },
	}
	var err error
	c.synced, err = controller.AddHandlers(
		controller.Handler{What: "poddisruptionbudget", Informer: pdbInf.Informer(), Handler: pdbEvents},
		controller.Handler{What: "pod", Informer: podInf.Informer(), Handler: podEvents},
	)
	if err != nil {
		return nil, err
	}
	c.synced = append(c.synced, rcInf.Informer().HasSynced, rsInf.Informer().HasSynced, dInf.Informer().HasSynced, ssInf.Informer().HasSynced)
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it waits for the caches, then syncs keys with workers goroutines until ctx
// ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueuePDB(obj any) {
	pdb, ok := controllerutil.ObjectOf[*policyv1.PodDisruptionBudget](obj)
	if !ok {
		return
	}
	c.queue.Add(key{ObjectName: cache.MetaObjectToName(pdb)})
}

// podChanged queues the budgets that select the pod and, for a live pod, its stale DisruptionTarget cleanup.
func (c *Controller) podChanged(obj any, live bool) {
	pod := controllerutil.PodFromEvent(obj)
	if pod == nil {
		return
	}
	if pdbs, err := c.pdbLister.GetPodPodDisruptionBudgets(pod); err == nil {
		if len(pdbs) > 1 && live {
			msg := fmt.Sprintf("Pod %q/%q matches multiple PodDisruptionBudgets.  Chose %q arbitrarily.", pod.Namespace, pod.Name, pdbs[0].Name)
			c.recorder.Event(pod, corev1.EventTypeWarning, EventMultiplePodDisruptionBudgets, msg)
		}
		// Upstream queues only the first; every budget that selects the pod is affected by it.
		for _, pdb := range pdbs {
			c.queue.Add(key{ObjectName: cache.MetaObjectToName(pdb)})
		}
	}
	if !live {
		return
	}
	if stale, after := StaleDisruptionTarget(pod, c.clock.Now()); stale {
		c.queue.AddAfter(key{Pod: true, ObjectName: cache.MetaObjectToName(pod)}, after)
	}
}

// sync handles one key; see the package documentation. Errors follow the controller package's retry contract.
func (c *Controller) sync(ctx context.Context, k key) (controller.Result, error) {
	if k.Pod {
		return c.syncStalePod(ctx, k.ObjectName)
	}
	pdb, err := c.pdbLister.PodDisruptionBudgets(k.Namespace).Get(k.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	now := c.clock.Now()
	var plan Plan
	pods, err := c.podsFor(pdb)
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, EventNoPods, "Failed to get pods: %v", err)
		plan = failSafe(plan, pdb, err)
	} else {
		plan = Reconcile(ctx, pdb, pods, c.finders(), now)
	}
	for _, ev := range plan.Events {
		if ev.Pod != nil {
			c.recorder.Event(ev.Pod, ev.Type, ev.Reason, ev.Message)
		} else {
			c.recorder.Event(pdb, ev.Type, ev.Reason, ev.Message)
		}
	}
	if plan.Err != nil {
		c.log.Info("budget cannot be computed, allowing no disruptions", "pdb", k.String(), "err", plan.Err)
	}
	if !plan.Update {
		return controller.Result{RequeueAfter: plan.RecheckAfter}, nil
	}
	err = c.writeStatus(ctx, pdb, plan.Status)
	switch {
	case err == nil:
		return controller.Result{RequeueAfter: plan.RecheckAfter}, nil
	case apierrors.IsConflict(err), apierrors.IsNotFound(err), plan.Err != nil:
		return controller.Result{}, err
	}
	// As upstream: when the status cannot be written, at least try to stop evictions.
	if fsErr := c.writeStatus(ctx, pdb, FailSafeStatus(pdb, err)); fsErr != nil {
		return controller.Result{}, errors.Join(err, fsErr)
	}
	return controller.Result{}, nil
}

// podsFor lists the cached pods in pdb's namespace that its selector matches (an empty selector matches all).
func (c *Controller) podsFor(pdb *policyv1.PodDisruptionBudget) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil, err
	}
	return c.podLister.Pods(pdb.Namespace).List(sel)
}

func (c *Controller) writeStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget, st policyv1.PodDisruptionBudgetStatus) error {
	out := pdb.DeepCopy()
	out.Status = st
	if _, err := c.client.PolicyV1().PodDisruptionBudgets(out.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// syncStalePod sets a stale DisruptionTarget=True condition of the pod to False, or requeues it for when it
// turns stale.
func (c *Controller) syncStalePod(ctx context.Context, name cache.ObjectName) (controller.Result, error) {
	pod, err := c.podLister.Pods(name.Namespace).Get(name.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	now := c.clock.Now()
	stale, after := StaleDisruptionTarget(pod, now)
	if !stale {
		return controller.Result{}, nil
	}
	if after > 0 {
		return controller.Result{RequeueAfter: after}, nil
	}
	out, ok := ClearDisruptionTarget(pod, now)
	if !ok {
		return controller.Result{}, nil
	}
	if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("reset DisruptionTarget: %w", err)
	}
	return controller.Result{}, nil
}

// finders are upstream's, in its order: the workload kinds from the caches, then any /scale subresource.
func (c *Controller) finders() []Finder {
	fs := []Finder{c.replicationControllerScale, c.deploymentScale, c.replicaSetScale, c.statefulSetScale}
	if c.scaleOf != nil {
		fs = append(fs, c.scaleOf)
	}
	return fs
}

// isKind reports whether ref is of kind in one of groups; a malformed apiVersion is an error.
func isKind(ref *metav1.OwnerReference, kind string, groups ...string) (bool, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false, err
	}
	return ref.Kind == kind && slices.Contains(groups, gv.Group), nil
}

func (c *Controller) replicationControllerScale(_ context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
	if ok, err := isKind(ref, "ReplicationController", ""); !ok || err != nil {
		return nil, err
	}
	rc, err := c.rcLister.ReplicationControllers(ns).Get(ref.Name)
	if err != nil || rc.UID != ref.UID {
		return nil, nil
	}
	return &ControllerScale{UID: rc.UID, Scale: replicas(rc.Spec.Replicas)}, nil
}

// replicaSetScale finds a ReplicaSet that no Deployment controls.
func (c *Controller) replicaSetScale(_ context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
		return nil, nil
	}
	return &ControllerScale{UID: rs.UID, Scale: replicas(rs.Spec.Replicas)}, nil
}

// deploymentScale finds the Deployment controlling the pod's ReplicaSet.
func (c *Controller) deploymentScale(_ context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	ref = metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil, nil
	}
	if ok, err := isKind(ref, "Deployment", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	d, err := c.dLister.Deployments(ns).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil, nil
	}
	return &ControllerScale{UID: d.UID, Scale: replicas(d.Spec.Replicas)}, nil
}

func (c *Controller) statefulSetScale(_ context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
	if ok, err := isKind(ref, "StatefulSet", "apps"); !ok || err != nil {
		return nil, err
	}
	ss, err := c.ssLister.StatefulSets(ns).Get(ref.Name)
	if err != nil || ss.UID != ref.UID {
		return nil, nil
	}
	return &ControllerScale{UID: ss.UID, Scale: replicas(ss.Spec.Replicas)}, nil
}

// replicas is spec.replicas, whose default is 1.
func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// scaleFinder reads the /scale subresource of the controller (uncached), as upstream's getScaleController: a
// NotFound is "no controller" when the resource serves /scale and an error when it does not.
func scaleFinder(client kubernetes.Interface, mapper apimeta.RESTMapper, disc discovery.DiscoveryInterface) Finder {
	scales := scale.New(client.Discovery().RESTClient(), mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(disc))
	return func(ctx context.Context, ref *metav1.OwnerReference, ns string) (*ControllerScale, error) {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return nil, err
		}
		mapping, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
		if err != nil {
			return nil, err
		}
		gr := mapping.Resource.GroupResource()
		s, err := scales.Scales(ns).Get(ctx, gr, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			ok, derr := servesScale(disc, mapping.Resource)
			if derr != nil {
				return nil, derr
			}
			if !ok {
				return nil, fmt.Errorf("%s does not implement the scale subresource", gr.String())
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if s.UID != ref.UID {
			return nil, nil
		}
		return &ControllerScale{UID: s.UID, Scale: s.Spec.Replicas}, nil
	}
}

// servesScale reports whether discovery lists gvr's scale subresource with kind Scale.
func servesScale(disc discovery.DiscoveryInterface, gvr schema.GroupVersionResource) (bool, error) {
	list, err := disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/scale" && r.Kind == "Scale" {
			return true, nil
		}
	}
	return false, nil
}
