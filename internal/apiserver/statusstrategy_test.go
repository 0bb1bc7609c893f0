package apiserver

import (
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"reflect"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/registry"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// statusSpecChange changes something in the spec of each kind that has a status subresource.
var statusSpecChange = map[string]func(runtime.Object){
	"Namespace": func(o runtime.Object) {
		o.(*corev1.Namespace).Spec.Finalizers = []corev1.FinalizerName{"example.com/x"}
	},
	"Pod":     func(o runtime.Object) { o.(*corev1.Pod).Spec.NodeName = "other" },
	"Node":    func(o runtime.Object) { o.(*corev1.Node).Spec.Unschedulable = true },
	"Service": func(o runtime.Object) { o.(*corev1.Service).Spec.ClusterIP = "10.43.0.99" },
	"ResourceQuota": func(o runtime.Object) {
		o.(*corev1.ResourceQuota).Spec.Hard = corev1.ResourceList{corev1.ResourcePods: apiresource.MustParse("3")}
	},
	"PersistentVolumeClaim": func(o runtime.Object) { o.(*corev1.PersistentVolumeClaim).Spec.VolumeName = "pv9" },
	"PersistentVolume":      func(o runtime.Object) { o.(*corev1.PersistentVolume).Spec.StorageClassName = "fast" },
	"ReplicationController": func(o runtime.Object) { o.(*corev1.ReplicationController).Spec.Replicas = ref(int32(9)) },
	"Deployment":            func(o runtime.Object) { o.(*appsv1.Deployment).Spec.Replicas = ref(int32(9)) },
	"ReplicaSet":            func(o runtime.Object) { o.(*appsv1.ReplicaSet).Spec.Replicas = ref(int32(9)) },
	"DaemonSet":             func(o runtime.Object) { o.(*appsv1.DaemonSet).Spec.MinReadySeconds = 9 },
	"StatefulSet":           func(o runtime.Object) { o.(*appsv1.StatefulSet).Spec.Replicas = ref(int32(9)) },
	"Job":                   func(o runtime.Object) { o.(*batchv1.Job).Spec.Parallelism = ref(int32(9)) },
	"CronJob":               func(o runtime.Object) { o.(*batchv1.CronJob).Spec.Schedule = "9 * * * *" },
	"PodDisruptionBudget": func(o runtime.Object) {
		v := intstr.FromInt32(9)
		o.(*policyv1.PodDisruptionBudget).Spec.MinAvailable = &v
	},
	"HorizontalPodAutoscaler": func(o runtime.Object) {
		switch h := o.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			h.Spec.MaxReplicas = 9
		case *autoscalingv1.HorizontalPodAutoscaler:
			h.Spec.MaxReplicas = 9
		}
	},
	"Ingress":          func(o runtime.Object) { o.(*networkingv1.Ingress).Spec.IngressClassName = ref("other") },
	"VolumeAttachment": func(o runtime.Object) { o.(*storagev1.VolumeAttachment).Spec.NodeName = "other" },
	"CertificateSigningRequest": func(o runtime.Object) {
		o.(*certificatesv1.CertificateSigningRequest).Spec.SignerName = "example.com/other"
	},
	"APIService": func(o runtime.Object) {
		o.(*apiregistrationv1.APIService).Spec.VersionPriority = 7
	},
	"FlowSchema": func(o runtime.Object) {
		o.(*flowcontrolv1.FlowSchema).Spec.MatchingPrecedence = 7
	},
	"PriorityLevelConfiguration": func(o runtime.Object) {
		o.(*flowcontrolv1.PriorityLevelConfiguration).Spec.Type = flowcontrolv1.PriorityLevelEnablementExempt
	},
	"CustomResourceDefinition": func(o runtime.Object) {
		o.(*apiextv1.CustomResourceDefinition).Spec.Group = "other.example.com"
	},
}

func ref[T any](v T) *T { return &v }

// TestStatusWriteKeepsWhatUpstreamKeeps writes, through /status of every kind that has one, an object whose labels,
// annotations, finalizers, owner references and spec all differ from the stored one, and checks that exactly what
// kube-apiserver's status strategy keeps from the request is kept.
func TestStatusWriteKeepsWhatUpstreamKeeps(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range registry.Resources() {
		if !r.Status {
			continue
		}
		t.Run(r.GVR.String(), func(t *testing.T) {
			change, ok := statusSpecChange[r.Kind]
			if !ok {
				t.Fatalf("no spec change for %s: add the kind to statusSpecChange and check its upstream status strategy", r.Kind)
			}
			seen[r.Kind] = true
			old := r.New()
			om := accessor(old)
			om.SetName("x")
			om.SetLabels(map[string]string{"l": "old"})
			om.SetAnnotations(map[string]string{"a": "old"})
			om.SetFinalizers([]string{"example.com/old"})
			om.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "old", UID: "u-old"}})
			obj := old.DeepCopyObject()
			m := accessor(obj)
			m.SetLabels(map[string]string{"l": "new"})
			m.SetAnnotations(map[string]string{"a": "new"})
			m.SetFinalizers([]string{"example.com/new"})
			m.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "new", UID: "u-new"}})
			change(obj)
			if !specChanged(obj, old) {
				t.Fatalf("statusSpecChange[%s] changes no spec", r.Kind)
			}
			want := obj.DeepCopyObject()
			prepareStatusUpdate(obj, old, time.Unix(1e9, 0))

			if specChanged(obj, old) {
				t.Errorf("spec written through /status was kept")
			}
			if !equality.Semantic.DeepEqual(reflect.ValueOf(obj).Elem().FieldByName("Status").Interface(), reflect.ValueOf(want).Elem().FieldByName("Status").Interface()) {
				t.Errorf("status changed: %+v", reflect.ValueOf(obj).Elem().FieldByName("Status").Interface())
			}
			// What each upstream status strategy's PrepareForUpdate resets to the stored value.
			resetLabels := r.Kind == "Deployment" || r.Kind == "VolumeAttachment"
			resetMeta := r.Kind == "VolumeAttachment"
			resetOwners := r.Kind == "Pod" || resetMeta
			check := func(what string, got, stored, sent any, reset bool) {
				t.Helper()
				want := sent
				if reset {
					want = stored
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v (stored %v, sent %v)", what, got, want, stored, sent)
				}
			}
			check("labels", m.GetLabels(), om.GetLabels(), accessor(want).GetLabels(), resetLabels)
			check("annotations", m.GetAnnotations(), om.GetAnnotations(), accessor(want).GetAnnotations(), resetMeta)
			check("finalizers", m.GetFinalizers(), om.GetFinalizers(), accessor(want).GetFinalizers(), resetMeta)
			check("ownerReferences", m.GetOwnerReferences(), om.GetOwnerReferences(), accessor(want).GetOwnerReferences(), resetOwners)
		})
	}
	for k := range statusSpecChange {
		if !seen[k] {
			t.Errorf("%s has no status subresource any more: drop it from statusSpecChange", k)
		}
	}
}

func TestPodStatusWriteBackfillsAsUpstream(t *testing.T) {
	del := metav1.NewTime(time.Unix(2e9, 0))
	old := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", DeletionTimestamp: &del},
		Status: corev1.PodStatus{
			QOSClass: corev1.PodQOSBurstable, ObservedGeneration: 3,
			Conditions:            []corev1.PodCondition{{Type: corev1.PodReady, ObservedGeneration: 2}, {Type: corev1.PodScheduled, ObservedGeneration: 1}},
			ResourceClaimStatuses: []corev1.PodResourceClaimStatus{{Name: "c"}},
		},
	}
	obj := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Status: corev1.PodStatus{
			Phase:                 corev1.PodRunning,
			Conditions:            []corev1.PodCondition{{Type: corev1.PodReady}, {Type: corev1.PodScheduled, ObservedGeneration: 5}, {Type: corev1.ContainersReady}},
			ResourceClaimStatuses: []corev1.PodResourceClaimStatus{}, // an empty list clears, nil keeps
		},
	}
	prepareStatusUpdate(obj, old, time.Unix(1e9, 0))
	if obj.DeletionTimestamp == nil || !obj.DeletionTimestamp.Equal(&del) {
		t.Errorf("deletionTimestamp = %v, want the stored %v", obj.DeletionTimestamp, del)
	}
	if obj.Status.QOSClass != corev1.PodQOSBurstable || obj.Status.ObservedGeneration != 3 || obj.Status.Phase != corev1.PodRunning {
		t.Errorf("status = %+v, want qosClass and observedGeneration backfilled and phase kept", obj.Status)
	}
	gens := []int64{obj.Status.Conditions[0].ObservedGeneration, obj.Status.Conditions[1].ObservedGeneration, obj.Status.Conditions[2].ObservedGeneration}
	if !reflect.DeepEqual(gens, []int64{2, 5, 0}) {
		t.Errorf("condition observedGenerations = %v, want [2 5 0]", gens)
	}
	if obj.Status.ResourceClaimStatuses == nil || len(obj.Status.ResourceClaimStatuses) != 0 {
		t.Errorf("resourceClaimStatuses = %v, want the sent empty list", obj.Status.ResourceClaimStatuses)
	}
	obj.Status.ResourceClaimStatuses = nil
	prepareStatusUpdate(obj, old, time.Unix(1e9, 0))
	if len(obj.Status.ResourceClaimStatuses) != 1 {
		t.Errorf("resourceClaimStatuses = %v, want the stored one kept when the write drops the field", obj.Status.ResourceClaimStatuses)
	}
}

func TestNodeAndPersistentVolumeStatusWrites(t *testing.T) {
	node := &corev1.Node{Status: corev1.NodeStatus{Config: &corev1.NodeConfigStatus{Error: "x"}}}
	prepareStatusUpdate(node, &corev1.Node{}, time.Time{})
	if node.Status.Config != nil {
		t.Errorf("node status.config kept on a node that reported none: %+v", node.Status.Config)
	}
	node = &corev1.Node{Status: corev1.NodeStatus{Config: &corev1.NodeConfigStatus{Error: "y"}}}
	prepareStatusUpdate(node, &corev1.Node{Status: corev1.NodeStatus{Config: &corev1.NodeConfigStatus{}}}, time.Time{})
	if node.Status.Config == nil || node.Status.Config.Error != "y" {
		t.Errorf("node status.config = %+v, want the written one", node.Status.Config)
	}

	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	before := metav1.NewTime(now.Add(-time.Hour))
	tests := []struct {
		name            string
		oldPhase, phase corev1.PersistentVolumePhase
		oldTime, sent   *metav1.Time
		want            *metav1.Time
	}{
		{"same phase keeps the stored time", corev1.VolumeBound, corev1.VolumeBound, &before, nil, &before},
		{"new phase stamps now", corev1.VolumeAvailable, corev1.VolumeBound, &before, nil, ref(metav1.NewTime(now.Truncate(time.Second)))},
		{"new phase with the stored time stamps now", corev1.VolumeAvailable, corev1.VolumeBound, &before, &before, ref(metav1.NewTime(now.Truncate(time.Second)))},
		{"new phase with a sent time keeps it", corev1.VolumeAvailable, corev1.VolumeBound, &before, ref(metav1.NewTime(now.Add(-time.Minute).Truncate(time.Second))), ref(metav1.NewTime(now.Add(-time.Minute).Truncate(time.Second)))},
	}
	for _, tt := range tests {
		old := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: tt.oldPhase, LastPhaseTransitionTime: tt.oldTime}}
		pv := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: tt.phase, LastPhaseTransitionTime: tt.sent}}
		prepareStatusUpdate(pv, old, now)
		if got := pv.Status.LastPhaseTransitionTime; got == nil || !got.Equal(tt.want) {
			t.Errorf("%s: lastPhaseTransitionTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}
