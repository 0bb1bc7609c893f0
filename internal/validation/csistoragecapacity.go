package validation

import (
	storagev1 "k8s.io/api/storage/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateCSIStorageCapacity is kube-apiserver's ValidateCSIStorageCapacity: a namespaced object naming a valid
// storage class, with a valid node topology selector and a capacity that is not negative.
func validateCSIStorageCapacity(c *storagev1.CSIStorageCapacity) field.ErrorList {
	allErrs := validateObjectMeta(&c.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(c.NodeTopology, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("nodeTopology"))...)
	for _, msg := range validation.IsDNS1123Subdomain(c.StorageClassName) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("storageClassName"), c.StorageClassName, msg))
	}
	if c.Capacity != nil {
		allErrs = append(allErrs, validateNonnegativeQuantity(*c.Capacity, field.NewPath("capacity"))...)
	}
	return allErrs
}

// validateCSIStorageCapacityUpdate also keeps the inputs of CSI's GetCapacity (nodeTopology, storageClassName)
// immutable.
func validateCSIStorageCapacityUpdate(c, old *storagev1.CSIStorageCapacity) field.ErrorList {
	allErrs := validateCSIStorageCapacity(c)
	allErrs = append(allErrs, validateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	allErrs = append(allErrs, immutableField(c.NodeTopology, old.NodeTopology, field.NewPath("nodeTopology"))...)
	return append(allErrs, immutableField(c.StorageClassName, old.StorageClassName, field.NewPath("storageClassName"))...)
}
