package clusterroleaggregation

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/skiff-sh/skiff/internal/controller"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry (kube-controller-manager's name for it).
const Name = "clusterrole-aggregation-controller"

// Controller keeps aggregated ClusterRoles' rules the union of the rules of the roles they select.
type Controller struct {
	client kubernetes.Interface
	lister rbaclisters.ClusterRoleLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc)
}

func newController(cc controller.Context) (*Controller, error) {
	inf := cc.Informers.Rbac().V1().ClusterRoles()
	c := &Controller{
		client: cc.Client,
		lister: inf.Lister(),
		queue:  controller.NewQueue[string](Name),
		log:    cc.LogOrDefault().With("controller", Name),
	}
	synced, err := controller.AddHandlers(controller.Handler{What: "clusterrole", Informer: inf.Informer(), Handler: cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAggregated() },
		UpdateFunc: func(_, _ any) { c.enqueueAggregated() },
		DeleteFunc: func(any) { c.enqueueAggregated() },
	}})
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// enqueueAggregated queues every ClusterRole with an aggregationRule, as upstream's enqueue.
func (c *Controller) enqueueAggregated() {
	all, err := c.lister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, cr := range all {
		if cr.AggregationRule != nil {
			c.queue.Add(cr.Name)
		}
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

// sync brings ClusterRole name's rules to its aggregation; see the package documentation.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	cr, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if cr.AggregationRule == nil {
		return controller.Result{}, nil
	}
	all, err := c.lister.List(labels.Everything())
	if err != nil {
		return controller.Result{}, err
	}
	rules, err := Aggregate(cr, all)
	if err != nil {
		// A selector that does not parse never will: upstream retries, but nothing changes until the role does.
		return controller.Result{}, controller.Terminal(err)
	}
	if equality.Semantic.DeepEqual(rules, cr.Rules) {
		return controller.Result{}, nil
	}
	out := cr.DeepCopy()
	out.Rules = rules
	if _, err := c.client.RbacV1().ClusterRoles().Update(ctx, out, metav1.UpdateOptions{FieldManager: Name}); err != nil {
		return controller.Result{}, fmt.Errorf("update clusterrole %s: %w", name, err)
	}
	return controller.Result{}, nil
}

// Aggregate returns the rules role's aggregationRule selects from all (see the package documentation); it never
// mutates its arguments.
func Aggregate(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	rules := []rbacv1.PolicyRule{}
	sorted := append([]*rbacv1.ClusterRole(nil), all...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, fmt.Errorf("clusterrole %s: selector: %w", role.Name, err)
		}
		for _, cr := range sorted {
			if cr.Name == role.Name || !sel.Matches(labels.Set(cr.Labels)) {
				continue
			}
			for _, r := range cr.Rules {
				if !ruleExists(rules, r) {
					rules = append(rules, *r.DeepCopy())
				}
			}
		}
	}
	return rules, nil
}

func ruleExists(haystack []rbacv1.PolicyRule, needle rbacv1.PolicyRule) bool {
	for _, r := range haystack {
		if equality.Semantic.DeepEqual(r, needle) {
			return true
		}
	}
	return false
}
