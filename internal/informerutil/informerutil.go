// Package informerutil holds what the informers of every skiff component share.
//
// Components build their informer factories with Options (or, for metadata informers, MetadataOptions), so that
// what their caches hold is the same everywhere: today, objects without metadata.managedFields.
package informerutil

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata/metadatainformer"
)

// StripManagedFields is a cache.TransformFunc that drops metadata.managedFields before an object is cached, as
// kube-controller-manager and kube-scheduler do: no controller reads them, and on a pod they are a large share of
// its memory. Objects without metadata (a cache.DeletedFinalStateUnknown) pass unchanged; it never fails.
func StripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// Options returns the options every typed informer factory is built with, followed by extra.
func Options(extra ...informers.SharedInformerOption) []informers.SharedInformerOption {
	return append([]informers.SharedInformerOption{informers.WithTransform(StripManagedFields)}, extra...)
}

// MetadataOptions returns the options every metadata informer factory is built with.
func MetadataOptions() []metadatainformer.SharedInformerOption {
	return []metadatainformer.SharedInformerOption{metadatainformer.WithTransform(StripManagedFields)}
}
