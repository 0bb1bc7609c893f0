package apiserver

import (
	"github.com/skiff-sh/skiff/internal/admission/limitranger"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var pvcsGR = schema.GroupResource{Resource: "persistentvolumeclaims"}

// limitRanges lists the LimitRanges of namespace ns from the watch cache.
func (s *APIServer) limitRanges(ns string) []*corev1.LimitRange {
	lrRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("limitranges")]
	if lrRes == nil {
		return nil
	}
	items, _ := lrRes.cacher.List(lrRes.keys.Prefix(ns), nil)
	out := make([]*corev1.LimitRange, 0, len(items))
	for _, o := range items {
		out = append(out, o.(*corev1.LimitRange))
	}
	return out
}

// admitLimitRanger is kube-apiserver's LimitRanger plugin on create: a pod gets its namespace's Container
// defaults, then a pod or claim that breaks a LimitRange constraint is refused with 403 Forbidden.
func (s *APIServer) admitLimitRanger(obj runtime.Object) error {
	switch o := obj.(type) {
	case *corev1.Pod:
		ranges := s.limitRanges(o.Namespace)
		if len(ranges) == 0 {
			return nil
		}
		limitranger.DefaultPod(o, ranges)
		if err := limitranger.ValidatePod(o, ranges); err != nil {
			return apierrors.NewForbidden(podsGR, o.Name, err)
		}
	case *corev1.PersistentVolumeClaim:
		if err := limitranger.ValidatePVC(o, s.limitRanges(o.Namespace)); err != nil {
			return apierrors.NewForbidden(pvcsGR, o.Name, err)
		}
	}
	return nil
}
