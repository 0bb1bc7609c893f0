package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// This file is kube-apiserver's RuntimeClass admission plugin (plugin/pkg/admission/runtimeclass): a pod naming a
// RuntimeClass gets the class's pod overhead and scheduling constraints, and is refused when the class is missing or
// contradicts the pod.

var runtimeClassGVR = nodev1.SchemeGroupVersion.WithResource("runtimeclasses")

// admitRuntimeClass applies the pod's RuntimeClass on create. A missing class, an overhead the pod sets that the class
// does not define, or a nodeSelector conflict is 403 Forbidden, as upstream.
func (s *APIServer) admitRuntimeClass(ctx context.Context, pod *corev1.Pod) error {
	var rc *nodev1.RuntimeClass
	if name := pod.Spec.RuntimeClassName; name != nil {
		got, err := s.runtimeClass(ctx, *name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return forbiddenPod(pod, fmt.Errorf("pod rejected: RuntimeClass %q not found", *name))
			}
			return err
		}
		rc = got
	}
	if err := applyRuntimeClass(pod, rc); err != nil {
		return forbiddenPod(pod, err)
	}
	return nil
}

// applyRuntimeClass sets the pod's overhead and merges the class's scheduling into it (rc may be nil); the error
// says why the pod is rejected.
func applyRuntimeClass(pod *corev1.Pod, rc *nodev1.RuntimeClass) error {
	switch {
	case rc == nil:
		if pod.Spec.Overhead != nil {
			return errors.New("pod rejected: Pod Overhead set without corresponding RuntimeClass")
		}
		return nil
	case rc.Overhead == nil:
		if pod.Spec.Overhead != nil {
			return errors.New("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead")
		}
	default:
		if pod.Spec.Overhead != nil && !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return errors.New("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	}
	if rc.Scheduling == nil {
		return nil
	}
	for k, v := range rc.Scheduling.NodeSelector {
		if pv, ok := pod.Spec.NodeSelector[k]; ok && pv != v {
			return fmt.Errorf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, pv)
		}
	}
	if len(rc.Scheduling.NodeSelector) > 0 && pod.Spec.NodeSelector == nil {
		pod.Spec.NodeSelector = map[string]string{}
	}
	for k, v := range rc.Scheduling.NodeSelector {
		pod.Spec.NodeSelector[k] = v
	}
	for _, t := range rc.Scheduling.Tolerations {
		if !hasToleration(pod.Spec.Tolerations, t) {
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, t)
		}
	}
	return nil
}

func hasToleration(ts []corev1.Toleration, t corev1.Toleration) bool {
	for _, x := range ts {
		if apiequality.Semantic.DeepEqual(x, t) {
			return true
		}
	}
	return false
}

// runtimeClass reads a RuntimeClass from the watch cache, or from etcd when the cache does not hold it.
func (s *APIServer) runtimeClass(ctx context.Context, name string) (*nodev1.RuntimeClass, error) {
	res := s.byGVR[runtimeClassGVR]
	if res == nil {
		return nil, apierrors.NewNotFound(runtimeClassGVR.GroupResource(), name)
	}
	key := res.keys.Key("", name)
	if o := res.cacher.Get(key); o != nil {
		return o.(*nodev1.RuntimeClass), nil
	}
	o, err := s.store.Get(ctx, key, res.New)
	if err != nil {
		return nil, toAPIError(err, runtimeClassGVR.GroupResource(), name)
	}
	return o.(*nodev1.RuntimeClass), nil
}

// forbiddenPod is admission's 403 for a pod: `pods "NAME" is forbidden: REASON`.
func forbiddenPod(pod *corev1.Pod, err error) error {
	return apierrors.NewForbidden(podsGR, pod.Name, err)
}
