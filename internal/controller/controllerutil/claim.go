package controllerutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Claim sorts candidate objects for one controller; see ClassifyOwned.
type Claim[T metav1.Object] struct {
	// Owned are controlled by the controller and match its selector: they stay.
	Owned []T
	// Adopt are orphans that match the selector: the controller should adopt them.
	Adopt []T
	// Release are controlled by the controller but no longer match: it should release them.
	Release []T
}

// ClassifyOwned applies Kubernetes' ControllerRefManager rules to objs for owner and selector:
//   - objects controlled by someone else are ignored;
//   - objects controlled by owner are Owned if they match, else Release (unless owner is being deleted);
//   - orphans are adopted if they match, are not being deleted, are in owner's namespace, and owner is not being deleted.
//
// match, if not nil, is an extra condition an object must meet besides the selector.
func ClassifyOwned[T metav1.Object](owner metav1.Object, selector labels.Selector, objs []T, match func(T) bool) Claim[T] {
	var c Claim[T]
	matches := func(o T) bool {
		return selector.Matches(labels.Set(o.GetLabels())) && (match == nil || match(o))
	}
	ownerDeleting := owner.GetDeletionTimestamp() != nil
	for _, o := range objs {
		if ref := metav1.GetControllerOfNoCopy(o); ref != nil {
			if ref.UID != owner.GetUID() {
				continue
			}
			if matches(o) {
				c.Owned = append(c.Owned, o)
			} else if !ownerDeleting {
				c.Release = append(c.Release, o)
			}
			continue
		}
		if ownerDeleting || !matches(o) || o.GetDeletionTimestamp() != nil {
			continue
		}
		if ns := owner.GetNamespace(); ns != "" && ns != o.GetNamespace() {
			continue
		}
		c.Adopt = append(c.Adopt, o)
	}
	return c
}

// NewControllerRef is the owner reference a controller puts on what it creates or adopts: controller and
// blockOwnerDeletion true.
func NewControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{
		APIVersion:         gvk.GroupVersion().String(),
		Kind:               gvk.Kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

type patchMeta struct {
	UID             types.UID `json:"uid"`
	OwnerReferences []any     `json:"ownerReferences"`
}

type patchBody struct {
	Metadata patchMeta `json:"metadata"`
}

// AdoptPatch is the strategic-merge patch that makes owner the controller of the object with UID objUID.
func AdoptPatch(owner metav1.Object, gvk schema.GroupVersionKind, objUID types.UID) []byte {
	b, err := json.Marshal(patchBody{Metadata: patchMeta{UID: objUID, OwnerReferences: []any{NewControllerRef(owner, gvk)}}})
	if err != nil {
		panic(fmt.Sprintf("controllerutil: marshal adopt patch: %v", err))
	}
	return b
}

// ReleasePatch is the strategic-merge patch that removes the owner reference with UID ownerUID from the object with
// UID objUID.
func ReleasePatch(ownerUID, objUID types.UID) []byte {
	b, err := json.Marshal(patchBody{Metadata: patchMeta{UID: objUID, OwnerReferences: []any{
		map[string]string{"$patch": "delete", "uid": string(ownerUID)},
	}}})
	if err != nil {
		panic(fmt.Sprintf("controllerutil: marshal release patch: %v", err))
	}
	return b
}

// ClaimIO is what ClaimObjects needs from its caller.
type ClaimIO[T metav1.Object] struct {
	// CanAdopt re-reads the controller uncached and returns an error if it is gone, replaced or being deleted.
	// ClaimObjects calls it at most once, and only if there is something to adopt.
	CanAdopt func(ctx context.Context) error
	// Patch sends a strategic-merge patch to obj.
	Patch func(ctx context.Context, obj T, patch []byte) error
}

// ClaimObjects classifies objs (see ClassifyOwned), adopts and releases through io, and returns the objects owner now
// controls: Owned plus the ones adopted successfully. Objects that disappeared meanwhile are skipped; other errors are
// joined and returned along with the claimed objects.
func ClaimObjects[T metav1.Object](ctx context.Context, owner metav1.Object, gvk schema.GroupVersionKind, selector labels.Selector,
	objs []T, match func(T) bool, io ClaimIO[T]) ([]T, error) {
	c := ClassifyOwned(owner, selector, objs, match)
	claimed := c.Owned
	var errs []error
	for _, o := range c.Release {
		err := io.Patch(ctx, o, ReleasePatch(owner.GetUID(), o.GetUID()))
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
			errs = append(errs, fmt.Errorf("release %s: %w", o.GetName(), err))
		}
	}
	if len(c.Adopt) > 0 {
		if err := io.CanAdopt(ctx); err != nil {
			errs = append(errs, fmt.Errorf("can't adopt: %w", err))
			return claimed, errors.Join(errs...)
		}
		for _, o := range c.Adopt {
			err := io.Patch(ctx, o, AdoptPatch(owner, gvk, o.GetUID()))
			switch {
			case err == nil:
				claimed = append(claimed, o)
			case apierrors.IsNotFound(err):
			default:
				errs = append(errs, fmt.Errorf("adopt %s: %w", o.GetName(), err))
			}
		}
	}
	return claimed, errors.Join(errs...)
}

// RecheckOwner returns a CanAdopt function: get fetches the controller uncached; it must have uid and no
// deletionTimestamp.
func RecheckOwner(uid types.UID, get func(ctx context.Context) (metav1.Object, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return err
		}
		if fresh.GetUID() != uid {
			return fmt.Errorf("original %s is gone: got uid %s, wanted %s", fresh.GetName(), fresh.GetUID(), uid)
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s has just been deleted at %v", fresh.GetName(), fresh.GetDeletionTimestamp())
		}
		return nil
	}
}

// SelectingOwners returns the owners whose non-empty selector matches lbls: the controllers that could adopt an
// orphan carrying those labels. Owners with an invalid selector never match.
func SelectingOwners[T any](owners []T, selectorOf func(T) *metav1.LabelSelector, lbls map[string]string) []T {
	if len(lbls) == 0 {
		return nil
	}
	var out []T
	for _, o := range owners {
		sel, err := metav1.LabelSelectorAsSelector(selectorOf(o))
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, o)
	}
	return out
}
