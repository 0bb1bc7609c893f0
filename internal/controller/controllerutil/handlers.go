package controllerutil

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// ObjectOf returns obj as a T, unwrapping the cache.DeletedFinalStateUnknown a delete handler may get; false if it is no T.
func ObjectOf[T any](obj any) (T, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, ok := obj.(T)
	return o, ok
}

// PodFromEvent returns the pod of an informer event, unwrapping a DeletedFinalStateUnknown; nil if it is none.
func PodFromEvent(obj any) *corev1.Pod {
	p, _ := ObjectOf[*corev1.Pod](obj)
	return p
}

// Key is obj's queue key: namespace/name, or name alone for a cluster-scoped object.
func Key(obj metav1.Object) string { return cache.MetaObjectToName(obj).String() }

// EnqueueHandler returns the handler of a controller's own resource: every added T, the new version of every
// updated one and every deleted one (tombstones unwrapped) has its Key added to q. forget, if not nil, is called
// with a deleted object's key first (to drop what the controller remembers about it).
func EnqueueHandler[T metav1.Object](q workqueue.TypedInterface[string], forget func(key string)) cache.ResourceEventHandlerFuncs {
	enqueue := func(obj any) {
		if o, ok := ObjectOf[T](obj); ok {
			q.Add(Key(o))
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, cur any) { enqueue(cur) },
		DeleteFunc: func(obj any) {
			o, ok := ObjectOf[T](obj)
			if !ok {
				return
			}
			if forget != nil {
				forget(Key(o))
			}
			q.Add(Key(o))
		},
	}
}

// ResolveControllerRef returns the object ref points to, as upstream's resolveControllerRef: false if ref is nil or
// not of kind gvk, or if get (a lister's Get in ref's namespace) does not find it with ref's UID.
func ResolveControllerRef[T metav1.Object](ref *metav1.OwnerReference, gvk schema.GroupVersionKind, get func(name string) (T, error)) (T, bool) {
	var zero T
	if ref == nil || ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return zero, false
	}
	o, err := get(ref.Name)
	if err != nil || o.GetUID() != ref.UID {
		return zero, false
	}
	return o, true
}

// PodOwnerHandler is the pod event handler of a controller whose pods name it as their controller (upstream's
// ReplicaSet and DaemonSet controllers): it records the creations and deletions it sees in the owner's
// expectations and queues the owner, or, for an orphan, the owners whose selector matches it.
type PodOwnerHandler[T metav1.Object] struct {
	Queue workqueue.TypedDelayingInterface[string]
	// Resolve returns the owner ref (not nil) points to in namespace ns, if it is in the cache with ref's UID.
	Resolve func(ns string, ref *metav1.OwnerReference) (T, bool)
	// Matching returns the owners in pod's namespace whose selector matches its labels (candidates to adopt it).
	Matching func(pod *corev1.Pod) []T
	// SameRef reports whether a pod's controllerRef cur (maybe nil) names the same owner as old (not nil).
	SameRef func(old, cur *metav1.OwnerReference) bool
	// MinReadySeconds is owner's spec.minReadySeconds: when a pod becomes ready its owner is queued again after
	// that many seconds and one more, since pods do not report availability themselves.
	MinReadySeconds func(owner T) int32
	// Creations and Deletions are the owners' expectations (keyed by Key of the owner); they may be one tracker.
	Creations, Deletions *Expectations
	// DeleteOldOnRelabel also counts the old version of a pod whose deletion started with changed labels as
	// deleted (upstream's ReplicaSet controller does; its DaemonSet controller does not).
	DeleteOldOnRelabel bool
}

// Funcs returns h as the handler to register on the pod informer.
func (h *PodOwnerHandler[T]) Funcs() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: h.AddPod, UpdateFunc: h.UpdatePod, DeleteFunc: h.DeletePod}
}

func (h *PodOwnerHandler[T]) enqueueMatching(pod *corev1.Pod) {
	for _, o := range h.Matching(pod) {
		h.Queue.Add(Key(o))
	}
}

// AddPod handles a pod add: a creation observed for its owner, or an orphan that its matching owners may adopt.
func (h *PodOwnerHandler[T]) AddPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		// On a restart of the controller manager a pod may show up already marked for deletion.
		h.DeletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		owner, ok := h.Resolve(pod.Namespace, ref)
		if !ok {
			return
		}
		h.Creations.CreationObserved(Key(owner))
		h.Queue.Add(Key(owner))
		return
	}
	h.enqueueMatching(pod)
}

// UpdatePod handles a pod update: it queues the old and new owners, counts a started graceful deletion as
// observed, and queues the matching owners of a pod that became an orphan or was relabelled as one.
func (h *PodOwnerHandler[T]) UpdatePod(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	labelsChanged := !labels.Equals(oldPod.Labels, curPod.Labels)
	if curPod.DeletionTimestamp != nil {
		// A graceful deletion started: count the pod as gone now rather than when the kubelet finishes it.
		h.DeletePod(curPod)
		if labelsChanged && h.DeleteOldOnRelabel {
			h.DeletePod(oldPod)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curPod), metav1.GetControllerOfNoCopy(oldPod)
	if oldRef != nil && !h.SameRef(oldRef, curRef) {
		if owner, ok := h.Resolve(oldPod.Namespace, oldRef); ok {
			h.Queue.Add(Key(owner))
		}
	}
	if curRef != nil {
		owner, ok := h.Resolve(curPod.Namespace, curRef)
		if !ok {
			return
		}
		h.Queue.Add(Key(owner))
		if s := h.MinReadySeconds(owner); !IsPodReady(oldPod) && IsPodReady(curPod) && s > 0 {
			h.Queue.AddAfter(Key(owner), time.Duration(s)*time.Second+time.Second)
		}
		return
	}
	if labelsChanged || oldRef != nil {
		h.enqueueMatching(curPod)
	}
}

// DeletePod handles a pod delete (or a tombstone): a deletion observed for its owner.
func (h *PodOwnerHandler[T]) DeletePod(obj any) {
	pod, ok := ObjectOf[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	owner, ok := h.Resolve(pod.Namespace, ref)
	if !ok {
		return
	}
	h.Deletions.DeletionObserved(Key(owner), Key(pod))
	h.Queue.Add(Key(owner))
}
