package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
)

// ownerState is how an owner reference stands.
type ownerState int

const (
	// stateUnknown: the cache cannot tell; only the cache-only check returns it.
	stateUnknown ownerState = iota
	// stateSolid: the owner exists and is not deleting its dependents.
	stateSolid
	// stateDangling: the owner does not exist (or another object with a different UID has its name).
	stateDangling
	// stateWaiting: the owner exists and waits, with the foregroundDeletion finalizer, for its dependents.
	stateWaiting
)

func stateOf(owner metav1.Object) ownerState {
	if owner.GetDeletionTimestamp() != nil && hasFinalizer(owner, metav1.FinalizerDeleteDependents) {
		return stateWaiting
	}
	return stateSolid
}

// sync is the synchronous core for one object; see the package documentation.
func (gc *GarbageCollector) sync(ctx context.Context, key objectKey) (controller.Result, error) {
	obj, ok := gc.cached(key)
	if !ok {
		return controller.Result{}, nil
	}
	if obj.DeletionTimestamp != nil {
		switch {
		case hasFinalizer(obj, metav1.FinalizerOrphanDependents):
			return controller.Result{}, gc.orphanDependents(ctx, key, obj)
		case hasFinalizer(obj, metav1.FinalizerDeleteDependents):
			return controller.Result{}, gc.deleteDependents(ctx, key, obj)
		}
		return controller.Result{}, nil
	}
	if len(obj.OwnerReferences) == 0 {
		return controller.Result{}, nil
	}
	return controller.Result{}, gc.attemptToDelete(ctx, key, obj)
}

// client returns the metadata client for key's resource and namespace.
func (gc *GarbageCollector) client(key objectKey) metadata.ResourceInterface {
	return gc.metadata.Resource(key.Resource).Namespace(key.Namespace)
}

// getLive reads key from the server; it returns nil when the object is gone or is no longer the one with uid.
func (gc *GarbageCollector) getLive(ctx context.Context, key objectKey, uid types.UID) (*metav1.PartialObjectMetadata, error) {
	latest, err := gc.client(key).Get(ctx, key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if uid != "" && latest.UID != uid {
		return nil, nil
	}
	return latest, nil
}

// attemptToDelete deletes obj, or unlinks it from owners that are gone or waiting, when it has no solid owner.
func (gc *GarbageCollector) attemptToDelete(ctx context.Context, key objectKey, cached *metav1.PartialObjectMetadata) error {
	if gc.allOwnersSolidInCache(cached) {
		return nil
	}
	latest, err := gc.getLive(ctx, key, cached.UID)
	if err != nil || latest == nil {
		return err
	}
	if latest.DeletionTimestamp != nil || len(latest.OwnerReferences) == 0 {
		return nil
	}
	states := make([]ownerState, len(latest.OwnerReferences))
	for i, ref := range latest.OwnerReferences {
		if states[i], err = gc.liveOwnerState(ctx, key, latest, ref); err != nil {
			return err
		}
	}
	deps := gc.dependents(latest.UID)
	depWaiting := false
	for _, d := range deps {
		if d.obj.UID != latest.UID && stateOf(d.obj) == stateWaiting {
			depWaiting = true
			break
		}
	}
	v := decide(latest, states, len(deps) > 0, depWaiting)
	switch {
	case v.keep != nil:
		// Some owner still holds the object: drop only the references to owners that are gone or waiting for it.
		gc.log.Info("removing owner references", "object", key, "kept", refUIDs(v.keep))
		return gc.patchOwnerRefs(ctx, key, latest, v.keep)
	case v.policy == "":
		return nil
	}
	if v.unblock {
		// An owner waits for this object and a dependent of it waits for its own dependents: a potential cycle, which
		// the object's references stop blocking before it is deleted in the foreground (as upstream).
		gc.log.Info("unblocking owner references to prevent a potential cycle", "object", key)
		refs := make([]metav1.OwnerReference, len(latest.OwnerReferences))
		for i, ref := range latest.OwnerReferences {
			ref.BlockOwnerDeletion = ptrTo(false)
			refs[i] = ref
		}
		patched, err := gc.patchMetadata(ctx, key, latest, "ownerReferences", refs)
		if err != nil || patched == nil {
			return err
		}
		latest = patched
	}
	gc.log.Info("deleting object", "object", key, "propagation", v.policy)
	return gc.delete(ctx, key, latest, v.policy)
}

// verdict is what attemptToDelete does with an object whose owners have been classified.
type verdict struct {
	// keep, when not nil, are the owner references the object keeps; the others are removed and nothing is deleted.
	keep []metav1.OwnerReference
	// unblock sets blockOwnerDeletion=false on every owner reference before the delete.
	unblock bool
	// policy is the propagation policy of the delete; empty means no delete.
	policy metav1.DeletionPropagation
}

// decide is upstream's attemptToDeleteItem decision for obj, not being deleted, whose owner references have
// states (same order); hasDependents says whether any object names obj as owner and depWaiting whether one of
// those dependents is itself waiting for its dependents (foregroundDeletion).
func decide(obj *metav1.PartialObjectMetadata, states []ownerState, hasDependents, depWaiting bool) verdict {
	var solid []metav1.OwnerReference
	gone, waiting := 0, 0
	for i, ref := range obj.OwnerReferences {
		switch states[i] {
		case stateSolid:
			solid = append(solid, ref)
		case stateWaiting:
			waiting++
		default:
			gone++
		}
	}
	switch {
	case len(solid) > 0:
		if gone == 0 && waiting == 0 {
			return verdict{}
		}
		return verdict{keep: solid}
	case waiting > 0 && hasDependents:
		// Deleted in the foreground, so that the waiting owner also waits for this object's dependents; if one of
		// them waits too, this object may close a cycle, which its references stop blocking.
		unblock := false
		if depWaiting {
			for _, ref := range obj.OwnerReferences {
				unblock = unblock || boolValue(ref.BlockOwnerDeletion)
			}
		}
		return verdict{unblock: unblock, policy: metav1.DeletePropagationForeground}
	case hasFinalizer(obj, metav1.FinalizerOrphanDependents):
		return verdict{policy: metav1.DeletePropagationOrphan}
	case hasFinalizer(obj, metav1.FinalizerDeleteDependents):
		return verdict{policy: metav1.DeletePropagationForeground}
	}
	return verdict{policy: metav1.DeletePropagationBackground}
}

// allOwnersSolidInCache reports whether the caches show every owner of obj present and not waiting; a cheap
// check before anything is read from the server.
func (gc *GarbageCollector) allOwnersSolidInCache(obj *metav1.PartialObjectMetadata) bool {
	for _, ref := range obj.OwnerReferences {
		key, err := gc.ownerKey(obj.Namespace, ref)
		if err != nil {
			return false
		}
		o, ok := gc.cached(key)
		if !ok || o.UID != ref.UID || stateOf(o) != stateSolid {
			return false
		}
	}
	return true
}

// liveOwnerState classifies ref, an owner reference of dep, by reading the owner from the server.
func (gc *GarbageCollector) liveOwnerState(ctx context.Context, depKey objectKey, dep *metav1.PartialObjectMetadata, ref metav1.OwnerReference) (ownerState, error) {
	if gc.isAbsent(ref.UID) {
		return stateDangling, nil
	}
	key, err := gc.ownerKey(dep.Namespace, ref)
	if errors.Is(err, errInvalidNamespace) {
		gc.recorder.Eventf(gc.objectRef(depKey, dep), corev1.EventTypeWarning, "OwnerRefInvalidNamespace",
			"ownerRef %s does not exist in namespace %q", refString(ref), dep.Namespace)
		return stateDangling, nil
	}
	if err != nil {
		// Perhaps a kind the server began serving after the mapper read discovery: re-read it before the retry
		// (only here, where retries are rate-limited per key, never in the event handlers).
		if r, ok := gc.mapper.(meta.ResettableRESTMapper); ok && meta.IsNoMatchError(err) {
			r.Reset()
		}
		return stateUnknown, err
	}
	owner, err := gc.getLive(ctx, key, "")
	if err != nil {
		return stateUnknown, err
	}
	if owner == nil || owner.UID != ref.UID {
		gc.markAbsent(ref.UID)
		return stateDangling, nil
	}
	return stateOf(owner), nil
}

// deleteDependents carries out foreground deletion for owner: dependents get deleted (or unlinked) by their own
// syncs; the finalizer goes once no blocking dependent remains.
func (gc *GarbageCollector) deleteDependents(ctx context.Context, key objectKey, owner *metav1.PartialObjectMetadata) error {
	blocking := 0
	for _, d := range gc.dependents(owner.UID) {
		if d.obj.DeletionTimestamp == nil {
			gc.queue.Add(d.key)
		}
		for _, ref := range d.obj.OwnerReferences {
			if ref.UID == owner.UID && boolValue(ref.BlockOwnerDeletion) {
				blocking++
				break
			}
		}
	}
	if blocking > 0 {
		return nil // a dependent's deletion or update queues the owner again
	}
	return gc.removeFinalizer(ctx, key, owner.UID, metav1.FinalizerDeleteDependents)
}

// orphanDependents removes the reference to owner from its dependents, then the orphan finalizer from owner.
func (gc *GarbageCollector) orphanDependents(ctx context.Context, key objectKey, owner *metav1.PartialObjectMetadata) error {
	var errs []error
	for _, d := range gc.dependents(owner.UID) {
		latest, err := gc.getLive(ctx, d.key, d.obj.UID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if latest == nil {
			continue
		}
		var kept []metav1.OwnerReference
		for _, ref := range latest.OwnerReferences {
			if ref.UID != owner.UID {
				kept = append(kept, ref)
			}
		}
		if len(kept) == len(latest.OwnerReferences) {
			continue
		}
		if err := gc.patchOwnerRefs(ctx, d.key, latest, kept); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orphan dependents of %s: %w", key, errors.Join(errs...))
	}
	gc.log.Info("orphaned dependents", "owner", key)
	return gc.removeFinalizer(ctx, key, owner.UID, metav1.FinalizerOrphanDependents)
}

// patchOwnerRefs sets the owner references of latest to refs, provided the object has not changed since.
func (gc *GarbageCollector) patchOwnerRefs(ctx context.Context, key objectKey, latest *metav1.PartialObjectMetadata, refs []metav1.OwnerReference) error {
	var v any = refs
	if len(refs) == 0 {
		v = nil
	}
	_, err := gc.patchMetadata(ctx, key, latest, "ownerReferences", v)
	return err
}

// removeFinalizer removes finalizer from the live object named by key if it is still the one with uid.
func (gc *GarbageCollector) removeFinalizer(ctx context.Context, key objectKey, uid types.UID, finalizer string) error {
	latest, err := gc.getLive(ctx, key, uid)
	if err != nil || latest == nil || !hasFinalizer(latest, finalizer) {
		return err
	}
	var kept []string
	for _, f := range latest.Finalizers {
		if f != finalizer {
			kept = append(kept, f)
		}
	}
	var v any = kept
	if len(kept) == 0 {
		v = nil
	}
	_, err = gc.patchMetadata(ctx, key, latest, "finalizers", v)
	return err
}

// patchMetadata sends a JSON merge patch setting metadata.field to value, with latest's uid and resourceVersion as
// preconditions, and returns the patched object; a conflict is returned (the key is retried), NotFound is success
// with a nil object.
func (gc *GarbageCollector) patchMetadata(ctx context.Context, key objectKey, latest *metav1.PartialObjectMetadata, field string, value any) (*metav1.PartialObjectMetadata, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		field: value, "uid": latest.UID, "resourceVersion": latest.ResourceVersion,
	}})
	if err != nil {
		return nil, err
	}
	patched, err := gc.client(key).Patch(ctx, key.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("patch %s %s: %w", key, field, err)
	}
	return patched, nil
}

// delete deletes latest with policy, provided it has not changed since it was read.
func (gc *GarbageCollector) delete(ctx context.Context, key objectKey, latest *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	uid, rv := latest.UID, latest.ResourceVersion
	opts := metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &uid},
	}
	if rv != "" {
		opts.Preconditions.ResourceVersion = &rv
	}
	err := gc.client(key).Delete(ctx, key.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

func refUIDs(refs []metav1.OwnerReference) []types.UID {
	out := make([]types.UID, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

func refString(r metav1.OwnerReference) string {
	return fmt.Sprintf("[%s/%s, namespace: , name: %s, uid: %s]", r.APIVersion, r.Kind, r.Name, r.UID)
}

// objectRef is the event target for obj, an object of key's resource.
func (gc *GarbageCollector) objectRef(key objectKey, obj *metav1.PartialObjectMetadata) *corev1.ObjectReference {
	ref := &corev1.ObjectReference{
		APIVersion: key.Resource.GroupVersion().String(), Namespace: obj.Namespace, Name: obj.Name, UID: obj.UID,
		ResourceVersion: obj.ResourceVersion,
	}
	if gvk, err := gc.mapper.KindFor(key.Resource); err == nil {
		ref.Kind = gvk.Kind
	}
	return ref
}
