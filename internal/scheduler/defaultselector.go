package scheduler

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	listersappsv1 "k8s.io/client-go/listers/apps/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
)

// DefaultSelector returns the selector of the pods that default spreading keeps apart from pod: the union
// of the selectors of the Services that select it and of its controller when that is a
// ReplicationController, ReplicaSet or StatefulSet (as Kubernetes). Empty when there are none.
func DefaultSelector(pod *v1.Pod, svcs listerscorev1.ServiceLister, rcs listerscorev1.ReplicationControllerLister,
	rss listersappsv1.ReplicaSetLister, sss listersappsv1.StatefulSetLister) labels.Selector {
	set := labels.Set{}
	if svcs != nil {
		if list, err := svcs.Services(pod.Namespace).List(labels.Everything()); err == nil {
			for _, svc := range list {
				if len(svc.Spec.Selector) > 0 && labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
					set = labels.Merge(set, svc.Spec.Selector)
				}
			}
		}
	}
	sel := labels.NewSelector()
	if len(set) > 0 {
		sel = set.AsSelector()
	}
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return sel
	}
	addSelector := func(ls *metav1.LabelSelector) {
		other, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return
		}
		if reqs, ok := other.Requirements(); ok {
			sel = sel.Add(reqs...)
		}
	}
	switch {
	case owner.Kind == "ReplicationController" && owner.APIVersion == "v1" && rcs != nil:
		if rc, err := rcs.ReplicationControllers(pod.Namespace).Get(owner.Name); err == nil {
			set = labels.Merge(set, rc.Spec.Selector)
			sel = set.AsSelector()
		}
	case owner.Kind == "ReplicaSet" && owner.APIVersion == "apps/v1" && rss != nil:
		if rs, err := rss.ReplicaSets(pod.Namespace).Get(owner.Name); err == nil {
			addSelector(rs.Spec.Selector)
		}
	case owner.Kind == "StatefulSet" && owner.APIVersion == "apps/v1" && sss != nil:
		if ss, err := sss.StatefulSets(pod.Namespace).Get(owner.Name); err == nil {
			addSelector(ss.Spec.Selector)
		}
	}
	return sel
}
