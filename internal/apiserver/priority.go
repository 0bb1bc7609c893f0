package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiff-sh/skiff/internal/storage"
	"github.com/skiff-sh/skiff/internal/validation"
)

// This file is kube-apiserver's Priority admission plugin (plugin/pkg/admission/priority) and the special cases of
// its priorityclasses storage: the built-in classes are created at start and cannot be deleted.

var (
	podsGR            = schema.GroupResource{Resource: "pods"}
	priorityClassesGR = schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}
	priorityClassGVR  = schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")
)

// priorityClassLookup is what the Priority admission step reads.
type priorityClassLookup interface {
	// get returns the named class, or a NotFound StatusError.
	get(name string) (*schedulingv1.PriorityClass, error)
	// list returns every class.
	list() ([]*schedulingv1.PriorityClass, error)
}

// globalDefaultClass returns the globalDefault class, the one with the lowest value if a race left several; nil if none.
func globalDefaultClass(classes []*schedulingv1.PriorityClass) *schedulingv1.PriorityClass {
	var def *schedulingv1.PriorityClass
	for _, pc := range classes {
		if pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def
}

// admitPodPriority resolves a new pod's spec.priority and spec.preemptionPolicy from spec.priorityClassName, or
// from the global default class (whose name it records) when there is none; 0 and PreemptLowerPriority without one.
// A pod naming an unknown class, or asking for a priority or policy other than the class's, is Forbidden.
func admitPodPriority(pod *corev1.Pod, classes priorityClassLookup) error {
	var priority int32
	var policy *corev1.PreemptionPolicy
	if pod.Spec.PriorityClassName == "" {
		all, err := classes.list()
		if err != nil {
			return fmt.Errorf("failed to get default priority class: %w", err)
		}
		if def := globalDefaultClass(all); def != nil {
			pod.Spec.PriorityClassName = def.Name
			priority, policy = def.Value, def.PreemptionPolicy
		} else {
			lower := corev1.PreemptLowerPriority
			policy = &lower
		}
	} else {
		pc, err := classes.get(pod.Spec.PriorityClassName)
		if apierrors.IsNotFound(err) {
			return apierrors.NewForbidden(podsGR, pod.Name, fmt.Errorf("no PriorityClass with name %v was found", pod.Spec.PriorityClassName))
		}
		if err != nil {
			return fmt.Errorf("failed to get PriorityClass with name %s: %w", pod.Spec.PriorityClassName, err)
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return apierrors.NewForbidden(podsGR, pod.Name, fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority))
	}
	pod.Spec.Priority = &priority
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return apierrors.NewForbidden(podsGR, pod.Name, fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy))
		}
		p := *policy
		pod.Spec.PreemptionPolicy = &p
	}
	return nil
}

// admitPriorityClass refuses a class that would become a second global default: on create whenever one exists,
// on update when the existing one is another class.
func admitPriorityClass(pc *schedulingv1.PriorityClass, update bool, classes priorityClassLookup) error {
	if !pc.GlobalDefault {
		return nil
	}
	all, err := classes.list()
	if err != nil {
		return fmt.Errorf("failed to get default priority class: %w", err)
	}
	if def := globalDefaultClass(all); def != nil && (!update || def.Name != pc.Name) {
		return apierrors.NewForbidden(priorityClassesGR, pc.Name, fmt.Errorf("PriorityClass %v is already marked as default. Only one default can exist", def.Name))
	}
	return nil
}

// checkDelete refuses to delete a built-in PriorityClass, as kube-apiserver's priorityclasses storage does; other
// resources and names pass. (As upstream, a deletecollection does not go through this check.)
func checkDelete(res *resource, name string) error {
	if res.GVR == priorityClassGVR && validation.IsSystemPriorityClass(name) {
		return apierrors.NewForbidden(priorityClassesGR, name, errors.New("this is a system priority class and cannot be deleted"))
	}
	return nil
}

// storedPriorityClasses reads PriorityClasses for admission: named gets from the watch cache, falling back to etcd
// when the cache has not seen the class yet; lists from the cache, or from etcd when consistent is set.
type storedPriorityClasses struct {
	ctx        context.Context
	s          *APIServer
	res        *resource
	consistent bool
}

func (s *APIServer) priorityClassLookup(ctx context.Context, consistent bool) *storedPriorityClasses {
	return &storedPriorityClasses{ctx: ctx, s: s, res: s.byGVR[priorityClassGVR], consistent: consistent}
}

func (l *storedPriorityClasses) get(name string) (*schedulingv1.PriorityClass, error) {
	key := l.res.keys.Key("", name)
	if o := l.res.cacher.Get(key); o != nil {
		return o.(*schedulingv1.PriorityClass), nil
	}
	o, err := l.s.store.Get(l.ctx, key, l.res.New)
	if err != nil {
		return nil, toAPIError(err, priorityClassesGR, name)
	}
	return o.(*schedulingv1.PriorityClass), nil
}

func (l *storedPriorityClasses) list() ([]*schedulingv1.PriorityClass, error) {
	var items []runtime.Object
	if l.consistent {
		lr, err := l.s.store.List(l.ctx, l.res.keys.Prefix(""), storage.ListOptions{}, l.res.New)
		if err != nil {
			return nil, fmt.Errorf("list priorityclasses: %w", err)
		}
		items = lr.Items
	} else {
		items, _ = l.res.cacher.List(l.res.keys.Prefix(""), nil)
	}
	out := make([]*schedulingv1.PriorityClass, 0, len(items))
	for _, o := range items {
		out = append(out, o.(*schedulingv1.PriorityClass))
	}
	return out, nil
}

// bootstrapPriorityClasses creates the built-in PriorityClasses that do not exist yet; existing ones are left as they are.
func (s *APIServer) bootstrapPriorityClasses(ctx context.Context) error {
	res := s.byGVR[priorityClassGVR]
	wo := writeOptions{manager: "kube-apiserver"}
	for _, pc := range validation.SystemPriorityClasses() {
		if _, err := s.store.Get(ctx, res.keys.Key("", pc.Name), res.New); err == nil {
			continue
		}
		if _, err := s.createObject(ctx, res, "", pc, wo, false); err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("priority class %s: %w", pc.Name, err)
		}
	}
	return nil
}
