package apiserver

import (
	"github.com/skiff-sh/skiff/internal/apiextensions"
	"github.com/skiff-sh/skiff/internal/certificates"
	certificatesv1 "k8s.io/api/certificates/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// prepareStatusUpdate is kube-apiserver's status strategies' PrepareForUpdate: a write through /status keeps obj's
// status and metadata (labels, annotations, finalizers, owner references: the registry resets only what every update
// resets, which updateObject does) and takes old's spec, plus what each kind's strategy resets besides:
//
//   - pods: ownerReferences, an empty status.qosClass, cleared resource claim statuses and observedGenerations;
//   - deployments: labels;
//   - volumeattachments: all metadata a status write may not change (metav1.ResetObjectMetaForStatus);
//   - nodes: status.config unless the node already reports one;
//   - persistentvolumes: status.lastPhaseTransitionTime follows phase changes (now).
//
// obj and old are the served (external) form of one object; obj is modified.
func prepareStatusUpdate(obj, old runtime.Object, now time.Time) {
	copyField(obj, old, "Spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		preparePodStatusUpdate(o, old.(*corev1.Pod))
	case *appsv1.Deployment:
		o.Labels = old.(*appsv1.Deployment).Labels
	case *storagev1.VolumeAttachment:
		metav1.ResetObjectMetaForStatus(o, old.(*storagev1.VolumeAttachment))
	case *certificatesv1.CertificateSigningRequest:
		certificates.PrepareForStatusUpdateAt(o, old.(*certificatesv1.CertificateSigningRequest), now)
	case *corev1.Node:
		if old.(*corev1.Node).Status.Config == nil {
			o.Status.Config = nil
		}
	case *corev1.PersistentVolume:
		op := old.(*corev1.PersistentVolume)
		switch {
		case op.Status.Phase == o.Status.Phase && o.Status.LastPhaseTransitionTime == nil:
			o.Status.LastPhaseTransitionTime = op.Status.LastPhaseTransitionTime
		case op.Status.Phase != o.Status.Phase && (o.Status.LastPhaseTransitionTime == nil || o.Status.LastPhaseTransitionTime.Equal(op.Status.LastPhaseTransitionTime)):
			t := metav1.NewTime(now.Truncate(time.Second))
			o.Status.LastPhaseTransitionTime = &t
		}
	}
}

// preparePodStatusUpdate is podStatusStrategy.PrepareForUpdate beyond the spec.
func preparePodStatusUpdate(p, old *corev1.Pod) {
	p.DeletionTimestamp = old.DeletionTimestamp // upstream clears it; BeforeUpdate then restores the stored one
	// Old kubelets corrupted owner references through pods/status, which broke garbage collection.
	p.OwnerReferences = old.OwnerReferences
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = old.Status.QOSClass
	}
	if p.Status.ResourceClaimStatuses == nil && old.Status.ResourceClaimStatuses != nil {
		p.Status.ResourceClaimStatuses = old.Status.ResourceClaimStatuses
	}
	if p.Status.ExtendedResourceClaimStatus == nil && old.Status.ExtendedResourceClaimStatus != nil {
		p.Status.ExtendedResourceClaimStatus = old.Status.ExtendedResourceClaimStatus
	}
	if p.Status.NodeAllocatableResourceClaimStatuses == nil && old.Status.NodeAllocatableResourceClaimStatuses != nil {
		p.Status.NodeAllocatableResourceClaimStatuses = old.Status.NodeAllocatableResourceClaimStatuses
	}
	// A client that clears observedGeneration (status or a condition's) keeps the stored value.
	if p.Status.ObservedGeneration == 0 {
		p.Status.ObservedGeneration = old.Status.ObservedGeneration
	}
	oldGens := map[corev1.PodConditionType][]int64{}
	for _, c := range old.Status.Conditions {
		oldGens[c.Type] = append(oldGens[c.Type], c.ObservedGeneration)
	}
	for i, c := range p.Status.Conditions {
		var g int64
		if gs := oldGens[c.Type]; len(gs) > 0 {
			g, oldGens[c.Type] = gs[0], gs[1:]
		}
		if c.ObservedGeneration == 0 {
			p.Status.Conditions[i].ObservedGeneration = g
		}
	}
}

// prepareUpdate is what kube-apiserver's main-resource strategies reset on an update besides the status
// (which updateObject keeps): a namespace's spec.finalizers change only through /finalize.
func prepareUpdate(obj, old runtime.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		o.Spec.Finalizers = old.(*corev1.Namespace).Spec.Finalizers
	case *apiextv1.CustomResourceDefinition:
		apiextensions.PrepareForUpdate(o, old.(*apiextv1.CustomResourceDefinition))
	case *certificatesv1.CertificateSigningRequest:
		certificates.PrepareForUpdate(o, old.(*certificatesv1.CertificateSigningRequest))
	}
}

// copyField sets obj's top-level struct field name to old's (both the same type).
func copyField(obj, old runtime.Object, name string) {
	dst, src := reflect.ValueOf(obj), reflect.ValueOf(old)
	if dst.Kind() != reflect.Pointer || src.Kind() != reflect.Pointer || dst.Type() != src.Type() || dst.Elem().Kind() != reflect.Struct {
		return
	}
	if f := dst.Elem().FieldByName(name); f.IsValid() && f.CanSet() {
		f.Set(src.Elem().FieldByName(name))
	}
}
