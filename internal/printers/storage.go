package printers

import (
	"strings"
	"time"

	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// storage.k8s.io/v1 and node.k8s.io/v1 columns and rows, as kube-apiserver 1.32's pkg/printers/internalversion.

const (
	// isDefaultStorageClassAnnotation marks the cluster's default StorageClass.
	isDefaultStorageClassAnnotation = "storageclass.kubernetes.io/is-default-class"
	// betaIsDefaultStorageClassAnnotation is the beta spelling, still honoured.
	betaIsDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

func init() {
	sc := storagev1.StorageClass{}.SwaggerDoc()
	register[*storagev1.StorageClass, *storagev1.StorageClassList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Provisioner", Type: "string", Description: sc["provisioner"]},
		{Name: "ReclaimPolicy", Type: "string", Description: sc["reclaimPolicy"]},
		{Name: "VolumeBindingMode", Type: "string", Description: sc["volumeBindingMode"]},
		{Name: "AllowVolumeExpansion", Type: "string", Description: sc["allowVolumeExpansion"]},
		ageColumn,
	}, printStorageClass)
	spec := storagev1.CSIDriverSpec{}.SwaggerDoc()
	register[*storagev1.CSIDriver, *storagev1.CSIDriverList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "AttachRequired", Type: "boolean", Description: spec["attachRequired"]},
		{Name: "PodInfoOnMount", Type: "boolean", Description: spec["podInfoOnMount"]},
		{Name: "StorageCapacity", Type: "boolean", Description: spec["storageCapacity"]},
		{Name: "TokenRequests", Type: "string", Description: spec["tokenRequests"]},
		{Name: "RequiresRepublish", Type: "boolean", Description: spec["requiresRepublish"]},
		{Name: "Modes", Type: "string", Description: spec["volumeLifecycleModes"]},
		ageColumn,
	}, printCSIDriver)
	register[*storagev1.CSINode, *storagev1.CSINodeList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Drivers", Type: "integer", Description: "Drivers indicates the number of CSI drivers registered on the node"},
		ageColumn,
	}, printCSINode)
	register[*storagev1.VolumeAttachment, *storagev1.VolumeAttachmentList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]},
		{Name: "PV", Type: "string", Description: storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]},
		{Name: "Node", Type: "string", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]},
		{Name: "Attached", Type: "boolean", Description: storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]},
		ageColumn,
	}, printVolumeAttachment)
	register[*nodev1.RuntimeClass, *nodev1.RuntimeClassList]([]metav1.TableColumnDefinition{
		nameColumn,
		// Upstream describes this column with ObjectMeta's (missing) "handler" doc, an empty string.
		{Name: "Handler", Type: "string", Description: nodev1.RuntimeClass{}.SwaggerDoc()["handler"]},
		ageColumn,
	}, printRuntimeClass)
}

// isDefaultStorageClass reports whether either is-default-class annotation is "true".
func isDefaultStorageClass(m metav1.ObjectMeta) bool {
	return m.Annotations[isDefaultStorageClassAnnotation] == "true" || m.Annotations[betaIsDefaultStorageClassAnnotation] == "true"
}

func printStorageClass(obj *storagev1.StorageClass, now time.Time) []interface{} {
	name := obj.Name
	if isDefaultStorageClass(obj.ObjectMeta) {
		name += " (default)"
	}
	reclaimPolicy := "Delete"
	if obj.ReclaimPolicy != nil {
		reclaimPolicy = string(*obj.ReclaimPolicy)
	}
	bindingMode := string(storagev1.VolumeBindingImmediate)
	if obj.VolumeBindingMode != nil {
		bindingMode = string(*obj.VolumeBindingMode)
	}
	allowExpansion := false
	if obj.AllowVolumeExpansion != nil {
		allowExpansion = *obj.AllowVolumeExpansion
	}
	return []interface{}{name, obj.Provisioner, reclaimPolicy, bindingMode, allowExpansion, translateTimestampSince(obj.CreationTimestamp, now)}
}

func printCSIDriver(obj *storagev1.CSIDriver, now time.Time) []interface{} {
	boolOr := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	modes := make([]string, 0, len(obj.Spec.VolumeLifecycleModes))
	for _, m := range obj.Spec.VolumeLifecycleModes {
		modes = append(modes, string(m))
	}
	modeCell := strings.Join(modes, ",")
	if modeCell == "" {
		modeCell = "<none>"
	}
	tokenRequests := "<unset>"
	if len(obj.Spec.TokenRequests) > 0 {
		audiences := make([]string, 0, len(obj.Spec.TokenRequests))
		for _, t := range obj.Spec.TokenRequests {
			audiences = append(audiences, t.Audience)
		}
		tokenRequests = strings.Join(audiences, ",")
	}
	return []interface{}{obj.Name, boolOr(obj.Spec.AttachRequired, true), boolOr(obj.Spec.PodInfoOnMount, false),
		boolOr(obj.Spec.StorageCapacity, false), tokenRequests, boolOr(obj.Spec.RequiresRepublish, false), modeCell,
		translateTimestampSince(obj.CreationTimestamp, now)}
}

func printCSINode(obj *storagev1.CSINode, now time.Time) []interface{} {
	return []interface{}{obj.Name, int64(len(obj.Spec.Drivers)), translateTimestampSince(obj.CreationTimestamp, now)}
}

func printVolumeAttachment(obj *storagev1.VolumeAttachment, now time.Time) []interface{} {
	pvName := ""
	if obj.Spec.Source.PersistentVolumeName != nil {
		pvName = *obj.Spec.Source.PersistentVolumeName
	}
	return []interface{}{obj.Name, obj.Spec.Attacher, pvName, obj.Spec.NodeName, obj.Status.Attached, translateTimestampSince(obj.CreationTimestamp, now)}
}

func printRuntimeClass(obj *nodev1.RuntimeClass, now time.Time) []interface{} {
	return []interface{}{obj.Name, obj.Handler, translateTimestampSince(obj.CreationTimestamp, now)}
}
