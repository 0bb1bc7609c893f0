package controllerutil

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// PodNodeNameIndex names the pod informer index by spec.nodeName that AddPodNodeNameIndex installs.
const PodNodeNameIndex = "spec.nodeName"

// AddPodNodeNameIndex indexes the pods of inf by spec.nodeName (unbound pods are not indexed) unless inf already has
// that index, so that several controllers sharing one pod informer can each ask for it. Call it from a
// controller's constructor, before the informer factory starts.
func AddPodNodeNameIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[PodNodeNameIndex]; ok {
		return nil
	}
	if err := inf.AddIndexers(cache.Indexers{PodNodeNameIndex: podNodeName}); err != nil {
		return fmt.Errorf("pod index by node: %w", err)
	}
	return nil
}

func podNodeName(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName == "" {
		return nil, nil
	}
	return []string{p.Spec.NodeName}, nil
}

// PodsOnNode returns the pods of indexer (which has the PodNodeNameIndex) bound to node, sorted by namespace and
// name so that callers act in a stable order. They are the cache's objects: read only.
func PodsOnNode(indexer cache.Indexer, node string) ([]*corev1.Pod, error) {
	objs, err := indexer.ByIndex(PodNodeNameIndex, node)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}
