package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "namespace"

// Condition reasons, as kube-controller-manager writes them.
const (
	reasonDiscoveryFailed     = "DiscoveryFailed"
	reasonResourcesDiscovered = "ResourcesDiscovered"
	reasonGVParsed            = "ParsedGroupVersions"
	reasonContentDeleted      = "ContentDeleted"
	reasonContentFailed       = "ContentDeletionFailed"
	reasonContentRemoved      = "ContentRemoved"
	reasonSomeRemain          = "SomeResourcesRemain"
	reasonNoFinalizers        = "ContentHasNoFinalizers"
	reasonSomeFinalizers      = "SomeFinalizersRemain"
)

// Controller deletes the content of terminating namespaces and then finalizes them.
type Controller struct {
	client   kubernetes.Interface
	metadata metadata.Interface
	// discover lists the server's preferred namespaced resources; it may return a partial result with an error.
	discover func() ([]*metav1.APIResourceList, error)
	lister   corelisters.NamespaceLister
	synced   cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	clock    clock.Clock
	log      *slog.Logger
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	inf := cc.Informers.Core().V1().Namespaces()
	c := &Controller{
		client:   cc.Client,
		metadata: cc.Metadata,
		discover: func() ([]*metav1.APIResourceList, error) {
			return discovery.ServerPreferredNamespacedResources(cc.Discovery)
		},
		lister: inf.Lister(),
		queue:  controller.NewQueue[string](Name),
		clock:  cc.Clock,
		log:    cc.Log.With("controller", Name),
	}
	reg, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	c.synced = reg.HasSynced
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.queue.Add(ns.Name)
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced) {
		return nil
	}
	controller.RunWorkers(ctx, c.log, c.queue, workers, c.sync)
	return nil
}

// sync empties and finalizes one terminating namespace; see the package documentation.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if ns.DeletionTimestamp == nil || !hasKubernetesFinalizer(ns) {
		return controller.Result{}, nil
	}
	lists, discoveryErr := c.discover() // on a partial failure, still empty what was discovered
	content := c.deleteContent(ctx, name, lists)
	conds := conditions(discoveryErr, content)
	if err := c.updateConditions(ctx, ns, conds); err != nil && !apierrors.IsNotFound(err) {
		return controller.Result{}, fmt.Errorf("namespace status: %w", err)
	}
	if discoveryErr != nil {
		return controller.Result{}, fmt.Errorf("discovery: %w", discoveryErr)
	}
	if len(content.errs) > 0 {
		return controller.Result{}, errors.Join(content.errs...)
	}
	if content.remaining() {
		return controller.Result{RequeueAfter: time.Duration(content.estimate/2+1) * time.Second}, nil
	}
	return controller.Result{}, c.finalize(ctx, ns)
}

func hasKubernetesFinalizer(ns *corev1.Namespace) bool {
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return true
		}
	}
	return false
}

// contentResult is what deleting a namespace's content left behind.
type contentResult struct {
	errs []error
	// remainingByResource counts objects still present per resource; finalizers counts them per finalizer.
	remainingByResource map[schema.GroupResource]int
	finalizers          map[string]int
	// estimate is the number of seconds the remaining content is expected to take to go away.
	estimate int64
}

func (r *contentResult) remaining() bool { return len(r.remainingByResource) > 0 }

// podsResource is the core pods resource, which is emptied before any other (OrderedNamespaceDeletion).
var podsResource = schema.GroupResource{Resource: "pods"}

// target is one resource whose objects a namespace's deletion removes.
type target struct {
	gvr schema.GroupVersionResource
	// collection says whether the resource supports deletecollection.
	collection bool
}

// deletionTargets returns the namespaced resources in lists that support delete and list, pods first and the
// others in discovery order.
func deletionTargets(lists []*metav1.APIResourceList) []target {
	var out []target
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !r.Namespaced || strings.Contains(r.Name, "/") || !hasVerbs(r.Verbs, "delete", "list") {
				continue
			}
			t := target{gvr: gv.WithResource(r.Name), collection: hasVerbs(r.Verbs, "deletecollection")}
			if t.gvr.GroupResource() == podsResource {
				out = append([]target{t}, out...)
			} else {
				out = append(out, t)
			}
		}
	}
	return out
}

// deleteContent deletes every object of the deletable namespaced resources in lists from namespace ns. As
// kube-controller-manager with OrderedNamespaceDeletion (on by default since 1.33), pods go first: while any pod
// remains, nothing else is deleted.
func (c *Controller) deleteContent(ctx context.Context, ns string, lists []*metav1.APIResourceList) *contentResult {
	res := &contentResult{remainingByResource: map[schema.GroupResource]int{}, finalizers: map[string]int{}}
	for _, t := range deletionTargets(lists) {
		c.deleteTarget(ctx, ns, t, res)
		if t.gvr.GroupResource() == podsResource && res.remainingByResource[podsResource] > 0 {
			break
		}
	}
	return res
}

// deleteTarget deletes the objects of t in namespace ns and records in res what remains.
func (c *Controller) deleteTarget(ctx context.Context, ns string, t target, res *contentResult) {
	gvr := t.gvr
	if err := c.deleteResource(ctx, gvr, ns, t.collection); err != nil {
		res.errs = append(res.errs, fmt.Errorf("%s: %w", gvr.GroupResource(), err))
		return
	}
	left, err := c.metadata.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		res.errs = append(res.errs, fmt.Errorf("%s: list: %w", gvr.GroupResource(), err))
		return
	}
	if len(left.Items) == 0 {
		return
	}
	res.remainingByResource[gvr.GroupResource()] += len(left.Items)
	for _, item := range left.Items {
		for _, f := range item.Finalizers {
			res.finalizers[f]++
		}
		if gvr.GroupResource() == podsResource && item.DeletionTimestamp != nil {
			if left := int64(item.DeletionTimestamp.Sub(c.clock.Now()).Seconds()); left > res.estimate {
				res.estimate = left
			}
		}
	}
}

func (c *Controller) deleteResource(ctx context.Context, gvr schema.GroupVersionResource, ns string, collection bool) error {
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	client := c.metadata.Resource(gvr).Namespace(ns)
	if collection {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		if err == nil || !(apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err)) {
			return err
		}
	}
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var errs []error
	for _, item := range list.Items {
		if item.DeletionTimestamp != nil && len(item.Finalizers) > 0 {
			continue // already being deleted; waiting for its finalizers
		}
		if err := client.Delete(ctx, item.Name, opts); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func hasVerbs(verbs metav1.Verbs, want ...string) bool {
	have := sets.New[string](verbs...)
	return have.HasAll(want...)
}

// conditions returns the deletion conditions kube-controller-manager maintains, in its order.
func conditions(discoveryErr error, content *contentResult) []corev1.NamespaceCondition {
	cond := func(t corev1.NamespaceConditionType, status bool, reason, msg string) corev1.NamespaceCondition {
		s := corev1.ConditionFalse
		if status {
			s = corev1.ConditionTrue
		}
		return corev1.NamespaceCondition{Type: t, Status: s, Reason: reason, Message: msg}
	}
	var out []corev1.NamespaceCondition
	if discoveryErr != nil {
		out = append(out, cond(corev1.NamespaceDeletionDiscoveryFailure, true, reasonDiscoveryFailed, discoveryErr.Error()))
	} else {
		out = append(out, cond(corev1.NamespaceDeletionDiscoveryFailure, false, reasonResourcesDiscovered, "All resources successfully discovered"))
	}
	out = append(out, cond(corev1.NamespaceDeletionGVParsingFailure, false, reasonGVParsed, "All legacy kube types successfully parsed"))
	if len(content.errs) > 0 {
		msgs := make([]string, 0, len(content.errs))
		for _, e := range content.errs {
			msgs = append(msgs, e.Error())
		}
		sort.Strings(msgs)
		out = append(out, cond(corev1.NamespaceDeletionContentFailure, true, reasonContentFailed,
			"Failed to delete all resource types, "+fmt.Sprint(len(msgs))+" remaining: "+strings.Join(msgs, ", ")))
	} else {
		out = append(out, cond(corev1.NamespaceDeletionContentFailure, false, reasonContentDeleted, "All content successfully deleted, may be waiting on finalization"))
	}
	if len(content.remainingByResource) > 0 {
		var parts []string
		for gr, n := range content.remainingByResource {
			// As upstream: "<resource>.<group>", so core resources read "configmaps. has 1 resource instances".
			parts = append(parts, fmt.Sprintf("%s.%s has %d resource instances", gr.Resource, gr.Group, n))
		}
		sort.Strings(parts)
		out = append(out, cond(corev1.NamespaceContentRemaining, true, reasonSomeRemain, "Some resources are remaining: "+strings.Join(parts, ", ")))
	} else {
		out = append(out, cond(corev1.NamespaceContentRemaining, false, reasonContentRemoved, "All content successfully removed"))
	}
	if len(content.finalizers) > 0 {
		var parts []string
		for f, n := range content.finalizers {
			parts = append(parts, fmt.Sprintf("%s in %d resource instances", f, n))
		}
		sort.Strings(parts)
		out = append(out, cond(corev1.NamespaceFinalizersRemaining, true, reasonSomeFinalizers, "Some content in the namespace has finalizers remaining: "+strings.Join(parts, ", ")))
	} else {
		out = append(out, cond(corev1.NamespaceFinalizersRemaining, false, reasonNoFinalizers, "All content-preserving finalizers finished"))
	}
	return out
}

// updateConditions writes conds into the namespace's status when any differs from what is there.
func (c *Controller) updateConditions(ctx context.Context, cached *corev1.Namespace, conds []corev1.NamespaceCondition) error {
	ns := cached.DeepCopy()
	now := metav1.NewTime(c.clock.Now())
	changed := false
	for _, want := range conds {
		i := conditionIndex(ns.Status.Conditions, want.Type)
		if i < 0 {
			want.LastTransitionTime = now
			ns.Status.Conditions = append(ns.Status.Conditions, want)
			changed = true
			continue
		}
		have := &ns.Status.Conditions[i]
		if have.Status == want.Status && have.Reason == want.Reason && have.Message == want.Message {
			continue
		}
		if have.Status != want.Status {
			have.LastTransitionTime = now
		}
		have.Status, have.Reason, have.Message = want.Status, want.Reason, want.Message
		changed = true
	}
	if !changed {
		return nil
	}
	_, err := c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{})
	return err
}

func conditionIndex(conds []corev1.NamespaceCondition, t corev1.NamespaceConditionType) int {
	for i := range conds {
		if conds[i].Type == t {
			return i
		}
	}
	return -1
}

// finalize removes "kubernetes" from spec.finalizers through the finalize subresource.
func (c *Controller) finalize(ctx context.Context, cached *corev1.Namespace) error {
	ns := cached.DeepCopy()
	var kept []corev1.FinalizerName
	for _, f := range ns.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes {
			kept = append(kept, f)
		}
	}
	ns.Spec.Finalizers = kept
	if _, err := c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("finalize: %w", err)
	}
	return nil
}
