package validation

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// storage.k8s.io/v1 (StorageClass, CSIDriver, CSINode, VolumeAttachment) as
// kube-apiserver 1.32's pkg/apis/storage/validation and its registry
// strategies, and node.k8s.io/v1 RuntimeClass as pkg/apis/node/validation.

const (
	maxProvisionerParameterSize   = 256 * (1 << 10) // 256 kB
	maxProvisionerParameterLen    = 512
	maxAttachedVolumeMetadataSize = 256 * (1 << 10) // 256 kB
	maxVolumeErrorMessageSize     = 1024
	// csiNodeIDMaxLength is the longest CSINode driver nodeID; the strategy allows long IDs (256), as in 1.32.
	csiNodeIDMaxLength = 256
	// csiDriverNameMaxLength is the longest CSI driver name.
	csiDriverNameMaxLength = 63
)

var (
	supportedReclaimPolicy      = sets.New(string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain))
	supportedVolumeBindingModes = sets.New(string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer))
	supportedFSGroupPolicy      = sets.New(string(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy), string(storagev1.FileFSGroupPolicy), string(storagev1.NoneFSGroupPolicy))
)

// StorageClass

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	allErrs := validateObjectMeta(&sc.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateProvisioner(sc.Provisioner, field.NewPath("provisioner"))...)
	allErrs = append(allErrs, validateStorageParameters(sc.Parameters, field.NewPath("parameters"))...)
	allErrs = append(allErrs, validateReclaimPolicy(sc.ReclaimPolicy, field.NewPath("reclaimPolicy"))...)
	allErrs = append(allErrs, validateVolumeBindingMode(sc.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
	allErrs = append(allErrs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
	return allErrs
}

func validateStorageClassUpdate(sc, old *storagev1.StorageClass) field.ErrorList {
	// The strategy validates the new object in full before the update rules.
	allErrs := validateStorageClass(sc)
	allErrs = append(allErrs, validateObjectMetaUpdate(&sc.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	if !reflect.DeepEqual(old.Parameters, sc.Parameters) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if derefReclaimPolicy(sc.ReclaimPolicy) != derefReclaimPolicy(old.ReclaimPolicy) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(allErrs, immutableField(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func derefReclaimPolicy(p *corev1.PersistentVolumeReclaimPolicy) corev1.PersistentVolumeReclaimPolicy {
	if p == nil {
		return ""
	}
	return *p
}

// validateProvisioner requires a qualified name (checked in lower case).
func validateProvisioner(provisioner string, fldPath *field.Path) field.ErrorList {
	if len(provisioner) == 0 {
		return field.ErrorList{field.Required(fldPath, provisioner)}
	}
	return validateQualifiedName(strings.ToLower(provisioner), fldPath)
}

// validateStorageParameters limits provisioner parameters to 512 entries and 256 KiB, with non-empty keys.
func validateStorageParameters(params map[string]string, fldPath *field.Path) field.ErrorList {
	if len(params) > maxProvisionerParameterLen {
		return field.ErrorList{field.TooLong(fldPath, "", maxProvisionerParameterLen)}
	}
	var allErrs field.ErrorList
	var totalSize int64
	for k, v := range params {
		if len(k) < 1 {
			allErrs = append(allErrs, field.Invalid(fldPath, k, "field can not be empty."))
		}
		totalSize += int64(len(k)) + int64(len(v))
	}
	if totalSize > maxProvisionerParameterSize {
		allErrs = append(allErrs, field.TooLong(fldPath, "", maxProvisionerParameterSize))
	}
	return allErrs
}

func validateReclaimPolicy(p *corev1.PersistentVolumeReclaimPolicy, fldPath *field.Path) field.ErrorList {
	if p == nil || len(*p) == 0 || supportedReclaimPolicy.Has(string(*p)) {
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, p, sets.List(supportedReclaimPolicy))}
}

func validateVolumeBindingMode(mode *storagev1.VolumeBindingMode, fldPath *field.Path) field.ErrorList {
	if mode == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if !supportedVolumeBindingModes.Has(string(*mode)) {
		return field.ErrorList{field.NotSupported(fldPath, mode, sets.List(supportedVolumeBindingModes))}
	}
	return nil
}

// validateAllowedTopologies checks each term and reports terms that repeat an earlier one.
func validateAllowedTopologies(topologies []corev1.TopologySelectorTerm, fldPath *field.Path) field.ErrorList {
	if len(topologies) == 0 {
		return nil
	}
	var allErrs field.ErrorList
	// Upstream starts the list with len(topologies) empty entries; kept so
	// that the same terms are reported as duplicates.
	raw := make([]map[string]sets.Set[string], len(topologies))
	for i, term := range topologies {
		idxPath := fldPath.Index(i)
		exprMap, termErrs := validateTopologySelectorTerm(term, idxPath)
		allErrs = append(allErrs, termErrs...)
		for _, t := range raw {
			if apiequality.Semantic.DeepEqual(exprMap, t) {
				allErrs = append(allErrs, field.Duplicate(idxPath.Child("matchLabelExpressions"), ""))
			}
		}
		raw = append(raw, exprMap)
	}
	return allErrs
}

// validateTopologySelectorTerm is core validation's ValidateTopologySelectorTerm.
func validateTopologySelectorTerm(term corev1.TopologySelectorTerm, fldPath *field.Path) (map[string]sets.Set[string], field.ErrorList) {
	var allErrs field.ErrorList
	exprMap := make(map[string]sets.Set[string])
	exprPath := fldPath.Child("matchLabelExpressions")
	for i, req := range term.MatchLabelExpressions {
		idxPath := exprPath.Index(i)
		valueSet := sets.New[string]()
		valuesPath := idxPath.Child("values")
		if len(req.Values) == 0 {
			allErrs = append(allErrs, field.Required(valuesPath, ""))
		}
		for j, value := range req.Values {
			if valueSet.Has(value) {
				allErrs = append(allErrs, field.Duplicate(valuesPath.Index(j), value))
			}
			valueSet.Insert(value)
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelName(req.Key, idxPath.Child("key"))...)
		if _, exists := exprMap[req.Key]; exists {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("key"), req.Key))
		}
		exprMap[req.Key] = valueSet
	}
	return exprMap, allErrs
}

// CSIDriver

// validateCSIDriverName is core validation's ValidateCSIDriverName: a DNS subdomain of at most 63 characters.
func validateCSIDriverName(driverName string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(driverName) == 0 {
		allErrs = append(allErrs, field.Required(fldPath, ""))
	}
	if len(driverName) > csiDriverNameMaxLength {
		allErrs = append(allErrs, field.TooLong(fldPath, driverName, csiDriverNameMaxLength))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(driverName)) {
		allErrs = append(allErrs, field.Invalid(fldPath, driverName, msg))
	}
	return allErrs
}

func validateCSIDriver(d *storagev1.CSIDriver) field.ErrorList {
	allErrs := validateObjectMeta(&d.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateCSIDriverSpec(&d.Spec, field.NewPath("spec"))...)
}

// validateCSIDriverUpdate allows changes to every spec field but attachRequired and volumeLifecycleModes.
func validateCSIDriverUpdate(d, old *storagev1.CSIDriver) field.ErrorList {
	// The strategy validates the new object in full before the update rules.
	allErrs := validateCSIDriver(d)
	allErrs = append(allErrs, validateObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	// Upstream's path says attachedRequired, not attachRequired.
	allErrs = append(allErrs, immutableField(d.Spec.AttachRequired, old.Spec.AttachRequired, field.NewPath("spec", "attachedRequired"))...)
	return append(allErrs, immutableField(d.Spec.VolumeLifecycleModes, old.Spec.VolumeLifecycleModes, field.NewPath("spec", "volumeLifecycleModes"))...)
}

func validateCSIDriverSpec(spec *storagev1.CSIDriverSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	required := func(v *bool, name string) {
		if v == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child(name), ""))
		}
	}
	required(spec.AttachRequired, "attachedRequired")
	required(spec.PodInfoOnMount, "podInfoOnMount")
	required(spec.StorageCapacity, "storageCapacity")
	if spec.FSGroupPolicy != nil && !supportedFSGroupPolicy.Has(string(*spec.FSGroupPolicy)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("fsGroupPolicy"), spec.FSGroupPolicy, sets.List(supportedFSGroupPolicy)))
	}
	allErrs = append(allErrs, validateTokenRequests(spec.TokenRequests, fldPath.Child("tokenRequests"))...)
	for _, mode := range spec.VolumeLifecycleModes {
		if mode != storagev1.VolumeLifecyclePersistent && mode != storagev1.VolumeLifecycleEphemeral {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("volumeLifecycleModes"), mode,
				[]string{string(storagev1.VolumeLifecyclePersistent), string(storagev1.VolumeLifecycleEphemeral)}))
		}
	}
	// SELinuxMountReadWriteOncePod is on by default in 1.32, so seLinuxMount is required (defaulting sets it).
	required(spec.SELinuxMount, "seLinuxMount")
	return allErrs
}

// validateTokenRequests requires distinct audiences and expirations between 10 minutes and 2^32 seconds.
func validateTokenRequests(tokenRequests []storagev1.TokenRequest, fldPath *field.Path) field.ErrorList {
	const minExpiration = 10 * time.Minute
	var allErrs field.ErrorList
	audiences := make(map[string]bool)
	for i, tr := range tokenRequests {
		path := fldPath.Index(i)
		if audiences[tr.Audience] {
			allErrs = append(allErrs, field.Duplicate(path.Child("audience"), tr.Audience))
			continue
		}
		audiences[tr.Audience] = true
		if tr.ExpirationSeconds == nil {
			continue
		}
		if *tr.ExpirationSeconds < int64(minExpiration.Seconds()) {
			allErrs = append(allErrs, field.Invalid(path.Child("expirationSeconds"), *tr.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
		}
		if *tr.ExpirationSeconds > 1<<32 {
			allErrs = append(allErrs, field.Invalid(path.Child("expirationSeconds"), *tr.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	return allErrs
}

// CSINode

func validateCSINode(n *storagev1.CSINode) field.ErrorList {
	allErrs := validateObjectMeta(&n.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	driversPath := field.NewPath("spec", "drivers")
	names := sets.New[string]()
	for i, driver := range n.Spec.Drivers {
		allErrs = append(allErrs, validateCSINodeDriver(driver, names, driversPath.Index(i))...)
	}
	return allErrs
}

func validateCSINodeDriver(driver storagev1.CSINodeDriver, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	allErrs := validateCSIDriverName(driver.Name, fldPath.Child("name"))
	if len(driver.NodeID) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("nodeID"), driver.NodeID))
	}
	if len(driver.NodeID) > csiNodeIDMaxLength {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("nodeID"), driver.NodeID, fmt.Sprintf("must be %d characters or less", csiNodeIDMaxLength)))
	}
	if a := driver.Allocatable; a != nil && a.Count != nil {
		allErrs = append(allErrs, validateNonnegative(int64(*a.Count), fldPath.Child("allocatable", "count"))...)
	}
	if names.Has(driver.Name) {
		allErrs = append(allErrs, field.Duplicate(fldPath.Child("name"), driver.Name))
	}
	names.Insert(driver.Name)
	keys := sets.New[string]()
	for _, key := range driver.TopologyKeys {
		if len(key) == 0 {
			allErrs = append(allErrs, field.Required(fldPath, key))
		}
		if keys.Has(key) {
			allErrs = append(allErrs, field.Duplicate(fldPath, key))
		}
		keys.Insert(key)
		allErrs = append(allErrs, validateQualifiedName(key, fldPath)...)
	}
	return allErrs
}

// validateCSINodeUpdate forbids changes to a driver entry that exists in both versions; drivers may come and go.
func validateCSINodeUpdate(n, old *storagev1.CSINode) field.ErrorList {
	allErrs := validateCSINode(n)
	allErrs = append(allErrs, validateObjectMetaUpdate(&n.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	for _, oldDriver := range old.Spec.Drivers {
		for _, newDriver := range n.Spec.Drivers {
			if oldDriver.Name == newDriver.Name {
				allErrs = append(allErrs, immutableField(newDriver, oldDriver, field.NewPath("spec").Child("drivers"))...)
			}
		}
	}
	return allErrs
}

// VolumeAttachment

func validateVolumeAttachment(va *storagev1.VolumeAttachment) field.ErrorList {
	allErrs := validateObjectMeta(&va.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	if len(va.Spec.Attacher) == 0 {
		allErrs = append(allErrs, field.Required(specPath.Child("attacher"), va.Spec.Attacher))
	}
	allErrs = append(allErrs, validateVolumeAttachmentSource(&va.Spec.Source, specPath.Child("source"))...)
	for _, msg := range nameIsDNSSubdomain(va.Spec.NodeName, false) {
		allErrs = append(allErrs, field.Invalid(specPath.Child("nodeName"), va.Spec.NodeName, msg))
	}
	return append(allErrs, validateVolumeAttachmentStatus(&va.Status, field.NewPath("status"))...)
}

// validateVolumeAttachmentV1 is the stricter check kube-apiserver applies to new storage.k8s.io/v1 attachments.
func validateVolumeAttachmentV1(va *storagev1.VolumeAttachment) field.ErrorList {
	allErrs := validateCSIDriverName(va.Spec.Attacher, field.NewPath("spec.attacher"))
	if pv := va.Spec.Source.PersistentVolumeName; pv != nil {
		for _, msg := range nameIsDNSSubdomain(*pv, false) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("spec.source.persistentVolumeName"), *pv, msg))
		}
	}
	return allErrs
}

// validateVolumeAttachmentSource requires exactly one source. An inline
// volume spec is accepted without the PersistentVolumeSpec checks (skiff
// has no PersistentVolume validation).
func validateVolumeAttachmentSource(source *storagev1.VolumeAttachmentSource, fldPath *field.Path) field.ErrorList {
	switch {
	case source.InlineVolumeSpec == nil && source.PersistentVolumeName == nil:
		return field.ErrorList{field.Required(fldPath, "must specify exactly one of inlineVolumeSpec and persistentVolumeName")}
	case source.InlineVolumeSpec != nil && source.PersistentVolumeName != nil:
		return field.ErrorList{field.Forbidden(fldPath, "must specify exactly one of inlineVolumeSpec and persistentVolumeName")}
	case source.PersistentVolumeName != nil && len(*source.PersistentVolumeName) == 0:
		return field.ErrorList{field.Required(fldPath.Child("persistentVolumeName"), "must specify non empty persistentVolumeName")}
	}
	return nil
}

func validateVolumeAttachmentStatus(status *storagev1.VolumeAttachmentStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	var size int64
	for k, v := range status.AttachmentMetadata {
		size += int64(len(k)) + int64(len(v))
	}
	if size > maxAttachedVolumeMetadataSize {
		allErrs = append(allErrs, field.TooLong(fldPath.Child("attachmentMetadata"), "", maxAttachedVolumeMetadataSize))
	}
	for i, e := range []*storagev1.VolumeError{status.AttachError, status.DetachError} {
		name := [...]string{"attachError", "detachError"}[i]
		if e != nil && len(e.Message) > maxVolumeErrorMessageSize {
			// Upstream reports the metadata limit here, not the message limit.
			allErrs = append(allErrs, field.TooLong(fldPath.Child(name, "message"), "", maxAttachedVolumeMetadataSize))
		}
	}
	return allErrs
}

// validateVolumeAttachmentUpdate serves both the main resource and /status: the spec never changes.
func validateVolumeAttachmentUpdate(va, old *storagev1.VolumeAttachment) field.ErrorList {
	allErrs := validateVolumeAttachment(va)
	allErrs = append(allErrs, validateObjectMetaUpdate(&va.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	if !apiequality.Semantic.DeepEqual(old.Spec, va.Spec) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec"), va.Spec, "field is immutable"))
	}
	return allErrs
}

// RuntimeClass (node.k8s.io/v1)

func validateRuntimeClass(rc *nodev1.RuntimeClass) field.ErrorList {
	allErrs := validateObjectMeta(&rc.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	for _, msg := range nameIsDNSLabel(rc.Handler, false) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("handler"), rc.Handler, msg))
	}
	if rc.Overhead != nil {
		allErrs = append(allErrs, validateContainerResourceRequirements(&corev1.ResourceRequirements{Limits: rc.Overhead.PodFixed}, field.NewPath("overhead"))...)
	}
	if s := rc.Scheduling; s != nil {
		fldPath := field.NewPath("scheduling")
		if s.NodeSelector != nil {
			allErrs = append(allErrs, metav1validation.ValidateLabels(s.NodeSelector, fldPath.Child("nodeSelector"))...)
		}
		allErrs = append(allErrs, validateRuntimeClassTolerations(s.Tolerations, fldPath.Child("tolerations"))...)
	}
	return allErrs
}

// validateRuntimeClassTolerations is the pod toleration check plus uniqueness by key, operator, value and effect.
func validateRuntimeClassTolerations(tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	allErrs := validateTolerations(tolerations, fldPath)
	seen := map[corev1.Toleration]bool{}
	for i, t := range tolerations {
		key := corev1.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect}
		if seen[key] {
			allErrs = append(allErrs, field.Duplicate(fldPath.Index(i), t))
		}
		seen[key] = true
	}
	return allErrs
}

func validateRuntimeClassUpdate(rc, old *nodev1.RuntimeClass) field.ErrorList {
	// The strategy validates the new object in full before the update rules.
	allErrs := validateRuntimeClass(rc)
	allErrs = append(allErrs, validateObjectMetaUpdate(&rc.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
	return append(allErrs, immutableField(rc.Handler, old.Handler, field.NewPath("handler"))...)
}
