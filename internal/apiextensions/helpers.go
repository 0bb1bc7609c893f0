package apiextensions

import (
	"errors"
	"fmt"
	"sort"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// CleanupFinalizer is the finalizer that holds a deleted CRD until its custom resources are gone.
const CleanupFinalizer = apiextv1.CustomResourceCleanupFinalizer

var (
	// ErrNoStorageVersion is returned by StorageVersion for a CRD with no version marked storage.
	ErrNoStorageVersion = errors.New("apiextensions: no storage version")
	// ErrVersionNotFound is returned for a version a CRD does not list.
	ErrVersionNotFound = errors.New("apiextensions: version not found")
)

// StorageVersion returns the name of the version marked storage; returns ErrNoStorageVersion if there is none.
func StorageVersion(crd *apiextv1.CustomResourceDefinition) (string, error) {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name, nil
		}
	}
	return "", fmt.Errorf("customresourcedefinition %q: %w", crd.Name, ErrNoStorageVersion)
}

// ServedVersions returns the names of the served versions, highest Kubernetes version priority first (v1 > v1beta1 > v1alpha1 > foo), as discovery lists them.
func ServedVersions(crd *apiextv1.CustomResourceDefinition) []string {
	var out []string
	for _, v := range crd.Spec.Versions {
		if v.Served {
			out = append(out, v.Name)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return version.CompareKubeAwareVersionStrings(out[i], out[j]) > 0
	})
	return out
}

// HasServedVersion reports whether the CRD lists the version and serves it.
func HasServedVersion(crd *apiextv1.CustomResourceDefinition, name string) bool {
	for _, v := range crd.Spec.Versions {
		if v.Name == name {
			return v.Served
		}
	}
	return false
}

// FindVersion returns the version with that name, or nil.
func FindVersion(crd *apiextv1.CustomResourceDefinition, name string) *apiextv1.CustomResourceDefinitionVersion {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			return &crd.Spec.Versions[i]
		}
	}
	return nil
}

// FindCondition returns the status condition of that type, or nil.
func FindCondition(status *apiextv1.CustomResourceDefinitionStatus, t apiextv1.CustomResourceDefinitionConditionType) *apiextv1.CustomResourceDefinitionCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// IsConditionTrue reports whether the CRD has the condition with status True.
func IsConditionTrue(crd *apiextv1.CustomResourceDefinition, t apiextv1.CustomResourceDefinitionConditionType) bool {
	c := FindCondition(&crd.Status, t)
	return c != nil && c.Status == apiextv1.ConditionTrue
}

// SetCondition adds cond or overwrites the condition of its type, keeping the old lastTransitionTime when the status is unchanged.
//
// The caller sets cond.LastTransitionTime to now; it is used when the
// condition is new, its status changes or the old one has no time.
func SetCondition(status *apiextv1.CustomResourceDefinitionStatus, cond apiextv1.CustomResourceDefinitionCondition) {
	old := FindCondition(status, cond.Type)
	if old == nil {
		status.Conditions = append(status.Conditions, cond)
		return
	}
	if old.Status == cond.Status && !old.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = old.LastTransitionTime
	}
	*old = cond
}

// RemoveCondition deletes the condition of that type from the status.
func RemoveCondition(status *apiextv1.CustomResourceDefinitionStatus, t apiextv1.CustomResourceDefinitionConditionType) {
	var out []apiextv1.CustomResourceDefinitionCondition
	for _, c := range status.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	status.Conditions = out
}

// Reasons of the Terminating condition, as upstream's finalizer controller writes them.
const (
	ReasonInstanceDeletionInProgress = "InstanceDeletionInProgress"
	ReasonInstanceDeletionFailed     = "InstanceDeletionFailed"
	ReasonInstanceDeletionCheck      = "InstanceDeletionCheck"
	ReasonInstanceDeletionCompleted  = "InstanceDeletionCompleted"
	ReasonNeverEstablished           = "NeverEstablished"
)

// TerminatingInProgress is the Terminating condition set when a deleted CRD's instances start being removed.
func TerminatingInProgress(now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return terminating(apiextv1.ConditionTrue, ReasonInstanceDeletionInProgress, "CustomResource deletion is in progress", now)
}

// TerminatingFailed is the Terminating condition set when issuing the instances' deletes failed with err.
func TerminatingFailed(err error, now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return terminating(apiextv1.ConditionTrue, ReasonInstanceDeletionFailed, fmt.Sprintf("could not issue all deletes: %v", err), now)
}

// TerminatingCheckFailed is the Terminating condition set when it could not be confirmed that no instances remain.
func TerminatingCheckFailed(err error, now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return terminating(apiextv1.ConditionTrue, ReasonInstanceDeletionCheck, fmt.Sprintf("could not confirm zero CustomResources remaining: %v", err), now)
}

// TerminatingCompleted is the Terminating condition set once all instances are gone, before the finalizer is removed.
func TerminatingCompleted(now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return terminating(apiextv1.ConditionFalse, ReasonInstanceDeletionCompleted, "removed all instances", now)
}

// TerminatingNeverEstablished is the Terminating condition set for a CRD deleted before it was established (no instances to remove).
func TerminatingNeverEstablished(now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return terminating(apiextv1.ConditionFalse, ReasonNeverEstablished, "resource was never established", now)
}

func terminating(s apiextv1.ConditionStatus, reason, msg string, now metav1.Time) apiextv1.CustomResourceDefinitionCondition {
	return apiextv1.CustomResourceDefinitionCondition{
		Type: apiextv1.Terminating, Status: s, Reason: reason, Message: msg, LastTransitionTime: now,
	}
}

// DefaultPrinterColumns returns the columns served for a version without additionalPrinterColumns: Age.
func DefaultPrinterColumns() []apiextv1.CustomResourceColumnDefinition {
	return []apiextv1.CustomResourceColumnDefinition{ageColumn()}
}

// PrinterColumns returns a version's additionalPrinterColumns, or DefaultPrinterColumns when it has none; returns ErrVersionNotFound for an unknown version.
//
// As upstream's table convertor, the API server puts a Name column first.
func PrinterColumns(crd *apiextv1.CustomResourceDefinition, name string) ([]apiextv1.CustomResourceColumnDefinition, error) {
	v := FindVersion(crd, name)
	if v == nil {
		return nil, fmt.Errorf("customresourcedefinition %q version %q: %w", crd.Name, name, ErrVersionNotFound)
	}
	if len(v.AdditionalPrinterColumns) == 0 {
		return DefaultPrinterColumns(), nil
	}
	return v.AdditionalPrinterColumns, nil
}

// ScaleColumns returns the columns of a version's Scale table: Desired and Available when the scale subresource has their paths, then Age.
func ScaleColumns(crd *apiextv1.CustomResourceDefinition, name string) ([]apiextv1.CustomResourceColumnDefinition, error) {
	v := FindVersion(crd, name)
	if v == nil {
		return nil, fmt.Errorf("customresourcedefinition %q version %q: %w", crd.Name, name, ErrVersionNotFound)
	}
	var cols []apiextv1.CustomResourceColumnDefinition
	if v.Subresources != nil && v.Subresources.Scale != nil {
		if v.Subresources.Scale.SpecReplicasPath != "" {
			cols = append(cols, apiextv1.CustomResourceColumnDefinition{Name: "Desired", Type: "integer", Description: "Number of desired replicas", JSONPath: ".spec.replicas"})
		}
		if v.Subresources.Scale.StatusReplicasPath != "" {
			cols = append(cols, apiextv1.CustomResourceColumnDefinition{Name: "Available", Type: "integer", Description: "Number of actual replicas", JSONPath: ".status.replicas"})
		}
	}
	return append(cols, ageColumn()), nil
}

func ageColumn() apiextv1.CustomResourceColumnDefinition {
	return apiextv1.CustomResourceColumnDefinition{
		Name:        "Age",
		Type:        "date",
		Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"],
		JSONPath:    ".metadata.creationTimestamp",
	}
}
