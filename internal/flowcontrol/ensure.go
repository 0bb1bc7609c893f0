package flowcontrol

import (
	"strconv"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReviseFlowSchema returns the update that brings the stored current in line with its bootstrap object (ensurer's ReviseIfNeeded), or nil.
func ReviseFlowSchema(current, bootstrap *flowcontrolv1.FlowSchema, mandatory bool) *flowcontrolv1.FlowSchema {
	autoUpdate := mandatory || shouldUpdateSpec(&current.ObjectMeta)
	specChanged := autoUpdate && !apiequality.Semantic.DeepEqual(bootstrap.Spec, current.Spec)
	annotationChanged := annotationNeedsUpdate(&current.ObjectMeta, autoUpdate)
	if !specChanged && !annotationChanged {
		return nil
	}
	revised := current.DeepCopy()
	if specChanged {
		revised.Spec = *bootstrap.Spec.DeepCopy()
	}
	if annotationChanged {
		setAutoUpdate(&revised.ObjectMeta, autoUpdate)
	}
	return revised
}

// RevisePriorityLevel is ReviseFlowSchema for PriorityLevelConfigurations; the exempt level's spec.exempt is the operator's to change.
func RevisePriorityLevel(current, bootstrap *flowcontrolv1.PriorityLevelConfiguration, mandatory bool) *flowcontrolv1.PriorityLevelConfiguration {
	autoUpdate := mandatory || shouldUpdateSpec(&current.ObjectMeta)
	want := bootstrap.Spec.DeepCopy()
	if bootstrap.Name == exemptName && current.Spec.Exempt != nil {
		want.Exempt.NominalConcurrencyShares = current.Spec.Exempt.NominalConcurrencyShares
		want.Exempt.LendablePercent = current.Spec.Exempt.LendablePercent
	}
	specChanged := autoUpdate && !apiequality.Semantic.DeepEqual(*want, current.Spec)
	annotationChanged := annotationNeedsUpdate(&current.ObjectMeta, autoUpdate)
	if !specChanged && !annotationChanged {
		return nil
	}
	revised := current.DeepCopy()
	if specChanged {
		// As upstream, the whole bootstrap spec replaces the current one.
		revised.Spec = *bootstrap.Spec.DeepCopy()
	}
	if annotationChanged {
		setAutoUpdate(&revised.ObjectMeta, autoUpdate)
	}
	return revised
}

// Unwanted reports whether obj, whose kind's bootstrap objects are called names, is a retired bootstrap object to delete.
func Unwanted(obj metav1.Object, names []string) bool {
	for _, n := range names {
		if n == obj.GetName() {
			return false
		}
	}
	value, ok := obj.GetAnnotations()[flowcontrolv1.AutoUpdateAnnotationKey]
	if !ok {
		return false
	}
	autoUpdate, err := strconv.ParseBool(value)
	return err == nil && autoUpdate
}

// shouldUpdateSpec reads the autoupdate annotation; without a boolean one, only an object whose spec was never changed (generation 1) is updated.
func shouldUpdateSpec(m *metav1.ObjectMeta) bool {
	if autoUpdate, err := strconv.ParseBool(m.Annotations[flowcontrolv1.AutoUpdateAnnotationKey]); err == nil {
		return autoUpdate
	}
	return m.Generation == 1
}

func annotationNeedsUpdate(m *metav1.ObjectMeta, desired bool) bool {
	if value, ok := m.Annotations[flowcontrolv1.AutoUpdateAnnotationKey]; ok {
		if current, err := strconv.ParseBool(value); err == nil && current == desired {
			return false
		}
	}
	return true
}

func setAutoUpdate(m *metav1.ObjectMeta, autoUpdate bool) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = strconv.FormatBool(autoUpdate)
}
