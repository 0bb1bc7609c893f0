package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func clusterMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, ResourceVersion: "1"}
}

func TestStorageClass(t *testing.T) {
	sc := func(mutate func(*storagev1.StorageClass)) *storagev1.StorageClass {
		s := &storagev1.StorageClass{
			ObjectMeta:        clusterMeta("fast"),
			Provisioner:       "ebs.csi.aws.com",
			Parameters:        map[string]string{"type": "gp3"},
			ReclaimPolicy:     ptr(corev1.PersistentVolumeReclaimDelete),
			VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer),
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	zone := func(values ...string) corev1.TopologySelectorTerm {
		return corev1.TopologySelectorTerm{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: "topology.kubernetes.io/zone", Values: values}}}
	}
	tooMany := map[string]string{}
	for i := 0; i < 513; i++ {
		tooMany[strings.Repeat("k", i+1)] = "v"
	}
	runCreate(t, []createCase{
		{name: "valid", obj: sc(nil)},
		{name: "valid topologies", obj: sc(func(s *storagev1.StorageClass) {
			s.AllowedTopologies = []corev1.TopologySelectorTerm{zone("a"), zone("b")}
		})},
		{name: "namespaced", obj: sc(func(s *storagev1.StorageClass) { s.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "no provisioner", obj: sc(func(s *storagev1.StorageClass) { s.Provisioner = "" }),
			want: []string{`provisioner: Required value`}},
		{name: "bad provisioner", obj: sc(func(s *storagev1.StorageClass) { s.Provisioner = "a/b/c" }),
			want: []string{`provisioner: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`}},
		{name: "empty parameter key", obj: sc(func(s *storagev1.StorageClass) { s.Parameters = map[string]string{"": "x"} }),
			want: []string{`parameters: Invalid value: "": field can not be empty.`}},
		{name: "too many parameters", obj: sc(func(s *storagev1.StorageClass) { s.Parameters = tooMany }),
			want: []string{"parameters: Too long: may not be more than 512 bytes"}},
		{name: "parameters too large", obj: sc(func(s *storagev1.StorageClass) {
			s.Parameters = map[string]string{"big": strings.Repeat("x", 256*1024)}
		}), want: []string{"parameters: Too long: may not be more than 262144 bytes"}},
		{name: "reclaim Recycle", obj: sc(func(s *storagev1.StorageClass) { s.ReclaimPolicy = ptr(corev1.PersistentVolumeReclaimRecycle) }),
			want: []string{`reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"`}},
		{name: "no binding mode", obj: sc(func(s *storagev1.StorageClass) { s.VolumeBindingMode = nil }),
			want: []string{"volumeBindingMode: Required value"}},
		{name: "bad binding mode", obj: sc(func(s *storagev1.StorageClass) { s.VolumeBindingMode = ptr(storagev1.VolumeBindingMode("Later")) }),
			want: []string{`volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`}},
		{name: "topology without values", obj: sc(func(s *storagev1.StorageClass) { s.AllowedTopologies = []corev1.TopologySelectorTerm{zone()} }),
			want: []string{"allowedTopologies[0].matchLabelExpressions[0].values: Required value"}},
		{name: "duplicate topology value", obj: sc(func(s *storagev1.StorageClass) { s.AllowedTopologies = []corev1.TopologySelectorTerm{zone("a", "a")} }),
			want: []string{`allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"`}},
		{name: "duplicate topology term", obj: sc(func(s *storagev1.StorageClass) {
			s.AllowedTopologies = []corev1.TopologySelectorTerm{zone("a"), zone("a")}
		}), want: []string{`allowedTopologies[1].matchLabelExpressions: Duplicate value: ""`}},
		{name: "bad topology key", obj: sc(func(s *storagev1.StorageClass) {
			s.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: "bad key", Values: []string{"a"}}}}}
		}), want: []string{`allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`}},
	})
	runUpdate(t, []updateCase{
		{name: "labels and allowVolumeExpansion may change", obj: sc(func(s *storagev1.StorageClass) {
			s.Labels = map[string]string{"tier": "gold"}
			s.AllowVolumeExpansion = ptr(true)
		}), old: sc(nil)},
		{name: "parameters", obj: sc(func(s *storagev1.StorageClass) { s.Parameters["type"] = "io2" }), old: sc(nil),
			want: []string{"parameters: Forbidden: updates to parameters are forbidden."}},
		{name: "provisioner", obj: sc(func(s *storagev1.StorageClass) { s.Provisioner = "pd.csi.storage.gke.io" }), old: sc(nil),
			want: []string{"provisioner: Forbidden: updates to provisioner are forbidden."}},
		{name: "reclaimPolicy", obj: sc(func(s *storagev1.StorageClass) { s.ReclaimPolicy = ptr(corev1.PersistentVolumeReclaimRetain) }), old: sc(nil),
			want: []string{"reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."}},
		{name: "volumeBindingMode", obj: sc(func(s *storagev1.StorageClass) { s.VolumeBindingMode = ptr(storagev1.VolumeBindingImmediate) }), old: sc(nil),
			want: []string{`volumeBindingMode: Invalid value: "Immediate": field is immutable`}},
	})
}

func TestCSIDriver(t *testing.T) {
	drv := func(mutate func(*storagev1.CSIDriver)) *storagev1.CSIDriver {
		d := &storagev1.CSIDriver{ObjectMeta: clusterMeta("hostpath.csi.k8s.io"), Spec: storagev1.CSIDriverSpec{
			AttachRequired:       ptr(true),
			PodInfoOnMount:       ptr(false),
			StorageCapacity:      ptr(false),
			FSGroupPolicy:        ptr(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
			RequiresRepublish:    ptr(false),
			SELinuxMount:         ptr(false),
		}}
		if mutate != nil {
			mutate(d)
		}
		return d
	}
	runCreate(t, []createCase{
		{name: "valid", obj: drv(nil)},
		{name: "token requests", obj: drv(func(d *storagev1.CSIDriver) {
			d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "", ExpirationSeconds: ptr(int64(3600))}}
		})},
		{name: "attachRequired unset", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.AttachRequired = nil }),
			want: []string{"spec.attachedRequired: Required value"}},
		{name: "podInfoOnMount and storageCapacity unset", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.PodInfoOnMount, d.Spec.StorageCapacity = nil, nil }),
			want: []string{"spec.podInfoOnMount: Required value", "spec.storageCapacity: Required value"}},
		{name: "seLinuxMount unset", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.SELinuxMount = nil }),
			want: []string{"spec.seLinuxMount: Required value"}},
		{name: "bad fsGroupPolicy", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.FSGroupPolicy = ptr(storagev1.FSGroupPolicy("Always")) }),
			want: []string{`spec.fsGroupPolicy: Unsupported value: "Always": supported values: "File", "None", "ReadWriteOnceWithFSType"`}},
		{name: "bad lifecycle mode", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Forever"} }),
			want: []string{`spec.volumeLifecycleModes: Unsupported value: "Forever": supported values: "Persistent", "Ephemeral"`}},
		{name: "duplicate audience", obj: drv(func(d *storagev1.CSIDriver) {
			d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "vault"}}
		}), want: []string{`spec.tokenRequests[1].audience: Duplicate value: "vault"`}},
		{name: "short token", obj: drv(func(d *storagev1.CSIDriver) {
			d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "vault", ExpirationSeconds: ptr(int64(60))}}
		}), want: []string{"spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"}},
		{name: "name not a subdomain", obj: drv(func(d *storagev1.CSIDriver) { d.Name = "Hostpath" }),
			want: []string{`metadata.name: Invalid value: "Hostpath": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
	})
	runUpdate(t, []updateCase{
		{name: "mutable fields", obj: drv(func(d *storagev1.CSIDriver) {
			d.Spec.PodInfoOnMount, d.Spec.StorageCapacity, d.Spec.RequiresRepublish = ptr(true), ptr(true), ptr(true)
			d.Spec.FSGroupPolicy = ptr(storagev1.FileFSGroupPolicy)
			d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "vault"}}
		}), old: drv(nil)},
		{name: "attachRequired", obj: drv(func(d *storagev1.CSIDriver) { d.Spec.AttachRequired = ptr(false) }), old: drv(nil),
			want: []string{"spec.attachedRequired: Invalid value: false: field is immutable"}},
		{name: "volumeLifecycleModes", obj: drv(func(d *storagev1.CSIDriver) {
			d.Spec.VolumeLifecycleModes = append(d.Spec.VolumeLifecycleModes, storagev1.VolumeLifecycleEphemeral)
		}), old: drv(nil), want: []string{`spec.volumeLifecycleModes: Invalid value: ["Persistent","Ephemeral"]: field is immutable`}},
	})
}

func TestCSINode(t *testing.T) {
	node := func(mutate func(*storagev1.CSINode)) *storagev1.CSINode {
		n := &storagev1.CSINode{ObjectMeta: clusterMeta("node-1"), Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{
			Name: "hostpath.csi.k8s.io", NodeID: "node-1", TopologyKeys: []string{"topology.hostpath.csi/node"},
			Allocatable: &storagev1.VolumeNodeResources{Count: ptr(int32(10))},
		}}}}
		if mutate != nil {
			mutate(n)
		}
		return n
	}
	d0 := "spec.drivers[0]"
	runCreate(t, []createCase{
		{name: "valid", obj: node(nil)},
		{name: "no drivers", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers = nil })},
		{name: "no nodeID", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers[0].NodeID = "" }),
			want: []string{d0 + ".nodeID: Required value"}},
		{name: "long nodeID", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers[0].NodeID = strings.Repeat("n", 257) }),
			want: []string{d0 + `.nodeID: Invalid value: "` + strings.Repeat("n", 257) + `": must be 256 characters or less`}},
		{name: "negative count", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers[0].Allocatable.Count = ptr(int32(-1)) }),
			want: []string{d0 + ".allocatable.count: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "duplicate driver", obj: node(func(n *storagev1.CSINode) {
			n.Spec.Drivers = append(n.Spec.Drivers, n.Spec.Drivers[0])
		}), want: []string{`spec.drivers[1].name: Duplicate value: "hostpath.csi.k8s.io"`}},
		{name: "duplicate topology key", obj: node(func(n *storagev1.CSINode) {
			n.Spec.Drivers[0].TopologyKeys = []string{"zone", "zone"}
		}), want: []string{d0 + `: Duplicate value: "zone"`}},
		{name: "bad driver name", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers[0].Name = strings.Repeat("d", 64) }),
			want: []string{d0 + ".name: Too long: may not be more than 63 bytes"}},
	})
	runUpdate(t, []updateCase{
		{name: "driver added", obj: node(func(n *storagev1.CSINode) {
			n.Spec.Drivers = append(n.Spec.Drivers, storagev1.CSINodeDriver{Name: "other.csi.k8s.io", NodeID: "n1"})
		}), old: node(nil)},
		{name: "driver removed", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers = nil }), old: node(nil)},
		{name: "driver changed", obj: node(func(n *storagev1.CSINode) { n.Spec.Drivers[0].NodeID = "node-2" }), old: node(nil),
			want: []string{`spec.drivers: Invalid value: {"name":"hostpath.csi.k8s.io","nodeID":"node-2","topologyKeys":["topology.hostpath.csi/node"],"allocatable":{"count":10}}: field is immutable`}},
	})
}

func TestVolumeAttachment(t *testing.T) {
	va := func(mutate func(*storagev1.VolumeAttachment)) *storagev1.VolumeAttachment {
		v := &storagev1.VolumeAttachment{ObjectMeta: clusterMeta("csi-1234"), Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "hostpath.csi.k8s.io", NodeName: "node-1",
			Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pv-1")},
		}}
		if mutate != nil {
			mutate(v)
		}
		return v
	}
	runCreate(t, []createCase{
		{name: "valid", obj: va(nil)},
		{name: "no attacher", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.Attacher = "" }),
			want: []string{"spec.attacher: Required value", `spec.attacher: Invalid value: "": ` + subdomainMsg}},
		{name: "attacher not a subdomain", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.Attacher = "Host_Path" }),
			want: []string{`spec.attacher: Invalid value: "Host_Path": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{name: "no source", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.Source = storagev1.VolumeAttachmentSource{} }),
			want: []string{"spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"}},
		{name: "two sources", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.Source.InlineVolumeSpec = &corev1.PersistentVolumeSpec{} }),
			want: []string{"spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"}},
		{name: "empty pv name", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.Source.PersistentVolumeName = ptr("") }),
			want: []string{"spec.source.persistentVolumeName: Required value: must specify non empty persistentVolumeName",
				`spec.source.persistentVolumeName: Invalid value: "": ` + subdomainMsg}},
		{name: "bad node name", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.NodeName = "Node_1" }),
			want: []string{`spec.nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
	})
	runUpdate(t, []updateCase{
		{name: "labels", obj: va(func(v *storagev1.VolumeAttachment) { v.Labels = map[string]string{"a": "b"} }), old: va(nil)},
		{name: "node changed", obj: va(func(v *storagev1.VolumeAttachment) { v.Spec.NodeName = "node-2" }), old: va(nil),
			want: []string{`spec: Invalid value: {"attacher":"hostpath.csi.k8s.io","source":{"persistentVolumeName":"pv-1"},"nodeName":"node-2"}: field is immutable`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "attached", obj: va(func(v *storagev1.VolumeAttachment) {
			v.Status = storagev1.VolumeAttachmentStatus{Attached: true, AttachmentMetadata: map[string]string{"devicePath": "/dev/sdb"}}
		}), old: va(nil)},
		{name: "error message too long", obj: va(func(v *storagev1.VolumeAttachment) {
			v.Status.AttachError = &storagev1.VolumeError{Message: strings.Repeat("e", 1025)}
		}), old: va(nil), want: []string{"status.attachError.message: Too long: may not be more than 262144 bytes"}},
	})
}

func TestRuntimeClass(t *testing.T) {
	rc := func(mutate func(*nodev1.RuntimeClass)) *nodev1.RuntimeClass {
		r := &nodev1.RuntimeClass{ObjectMeta: clusterMeta("gvisor"), Handler: "runsc"}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	runCreate(t, []createCase{
		{name: "valid", obj: rc(nil)},
		{name: "overhead and scheduling", obj: rc(func(r *nodev1.RuntimeClass) {
			r.Overhead = &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("120Mi")}}
			r.Scheduling = &nodev1.Scheduling{NodeSelector: map[string]string{"runtime": "gvisor"},
				Tolerations: []corev1.Toleration{{Key: "runtime", Operator: corev1.TolerationOpEqual, Value: "gvisor", Effect: corev1.TaintEffectNoSchedule}}}
		})},
		{name: "no handler", obj: rc(func(r *nodev1.RuntimeClass) { r.Handler = "" }),
			want: []string{`handler: Invalid value: "": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{name: "handler with dot", obj: rc(func(r *nodev1.RuntimeClass) { r.Handler = "run.sc" }),
			want: []string{`handler: Invalid value: "run.sc": must not contain dots`}},
		{name: "negative overhead", obj: rc(func(r *nodev1.RuntimeClass) {
			r.Overhead = &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")}}
		}), want: []string{"overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"}},
		{name: "bad node selector", obj: rc(func(r *nodev1.RuntimeClass) {
			r.Scheduling = &nodev1.Scheduling{NodeSelector: map[string]string{"runtime": "a b"}}
		}), want: []string{`scheduling.nodeSelector: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
		{name: "duplicate toleration", obj: rc(func(r *nodev1.RuntimeClass) {
			t := corev1.Toleration{Key: "runtime", Operator: corev1.TolerationOpExists}
			r.Scheduling = &nodev1.Scheduling{Tolerations: []corev1.Toleration{t, t}}
		}), want: []string{`scheduling.tolerations[1]: Duplicate value: {"key":"runtime","operator":"Exists"}`}},
	})
	runUpdate(t, []updateCase{
		{name: "scheduling may change", obj: rc(func(r *nodev1.RuntimeClass) {
			r.Scheduling = &nodev1.Scheduling{NodeSelector: map[string]string{"runtime": "gvisor"}}
		}), old: rc(nil)},
		{name: "handler", obj: rc(func(r *nodev1.RuntimeClass) { r.Handler = "kata" }), old: rc(nil),
			want: []string{`handler: Invalid value: "kata": field is immutable`}},
	})
}
