package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
)

func TestStorageClassCells(t *testing.T) {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	retain := corev1.PersistentVolumeReclaimRetain
	def := objMeta("standard")
	def.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	beta := objMeta("legacy")
	beta.Annotations = map[string]string{"storageclass.beta.kubernetes.io/is-default-class": "true"}
	notDefault := objMeta("slow")
	notDefault.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "false"}
	runCellsCases(t, []cellsCase{
		{name: "default class", obj: &storagev1.StorageClass{ObjectMeta: def, Provisioner: "rancher.io/local-path", VolumeBindingMode: &wffc, AllowVolumeExpansion: ptr(true)},
			want: []interface{}{"standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", true, "5m"}},
		{name: "beta default annotation", obj: &storagev1.StorageClass{ObjectMeta: beta, Provisioner: "x", ReclaimPolicy: &retain},
			want: []interface{}{"legacy (default)", "x", "Retain", "Immediate", false, "5m"}},
		{name: "annotation false", obj: &storagev1.StorageClass{ObjectMeta: notDefault, Provisioner: "x"},
			want: []interface{}{"slow", "x", "Delete", "Immediate", false, "5m"}},
	})
}

func TestCSIAndRuntimeClassCells(t *testing.T) {
	runCellsCases(t, []cellsCase{
		{name: "csidriver defaults", obj: &storagev1.CSIDriver{ObjectMeta: objMeta("hostpath.csi.k8s.io")},
			want: []interface{}{"hostpath.csi.k8s.io", true, false, false, "<unset>", false, "<none>", "5m"}},
		{name: "csidriver set", obj: &storagev1.CSIDriver{ObjectMeta: objMeta("secrets.csi.k8s.io"), Spec: storagev1.CSIDriverSpec{
			AttachRequired: ptr(false), PodInfoOnMount: ptr(true), StorageCapacity: ptr(true), RequiresRepublish: ptr(true),
			TokenRequests:        []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "aws"}},
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral},
		}}, want: []interface{}{"secrets.csi.k8s.io", false, true, true, "vault,aws", true, "Persistent,Ephemeral", "5m"}},
		{name: "csinode", obj: &storagev1.CSINode{ObjectMeta: objMeta("node-1"), Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: "a"}, {Name: "b"}}}},
			want: []interface{}{"node-1", int64(2), "5m"}},
		{name: "volumeattachment", obj: &storagev1.VolumeAttachment{ObjectMeta: objMeta("csi-123"), Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "hostpath.csi.k8s.io", NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pv-1")},
		}, Status: storagev1.VolumeAttachmentStatus{Attached: true}}, want: []interface{}{"csi-123", "hostpath.csi.k8s.io", "pv-1", "node-1", true, "5m"}},
		{name: "inline volumeattachment", obj: &storagev1.VolumeAttachment{ObjectMeta: objMeta("csi-456"), Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "x", NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{}},
		}}, want: []interface{}{"csi-456", "x", "", "node-1", false, "5m"}},
		{name: "runtimeclass", obj: &nodev1.RuntimeClass{ObjectMeta: objMeta("gvisor"), Handler: "runsc"},
			want: []interface{}{"gvisor", "runsc", "5m"}},
	})
}
