package validation

import (
	"maps"

	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumeAttributesClass is kube-apiserver's ValidateVolumeAttributesClass: a driver name as a StorageClass's
// provisioner, and parameters within the StorageClass limits.
func validateVolumeAttributesClass(c *storagev1.VolumeAttributesClass) field.ErrorList {
	allErrs := validateObjectMeta(&c.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateProvisioner(c.DriverName, field.NewPath("driverName"))...)
	return append(allErrs, validateStorageParameters(c.Parameters, field.NewPath("parameters"))...)
}

// validateVolumeAttributesClassUpdate forbids changing the driver or the parameters.
func validateVolumeAttributesClassUpdate(c, old *storagev1.VolumeAttributesClass) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if c.DriverName != old.DriverName {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("driverName"), "updates to driverName are forbidden."))
	}
	if !maps.Equal(c.Parameters, old.Parameters) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	return allErrs
}
