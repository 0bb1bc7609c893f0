package defaults

import (
	"github.com/skiff-sh/skiff/internal/admission/webhook"
	"github.com/skiff-sh/skiff/internal/apiextensions"
	"github.com/skiff-sh/skiff/internal/certificates"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Apply sets Kubernetes' defaults on obj in place; objects of types it does not know are left unchanged.
func Apply(obj runtime.Object) {
	if obj == nil {
		return
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return
	}
	switch o := obj.(type) {
	case *apiextv1.CustomResourceDefinition:
		apiextensions.SetDefaults(o)
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		webhook.SetDefaultsValidating(o)
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		webhook.SetDefaultsMutating(o)
	case *certificatesv1.CertificateSigningRequest:
		certificates.SetDefaults(o)
	case *apiregistrationv1.APIService:
		if o.Spec.Service != nil && o.Spec.Service.Port == nil {
			port := int32(443)
			o.Spec.Service.Port = &port
		}
	case *flowcontrolv1.FlowSchema:
		defaultFlowSchema(o)
	case *flowcontrolv1.PriorityLevelConfiguration:
		defaultPriorityLevelConfiguration(o)
	// core/v1
	case *corev1.Pod:
		defaultPod(o)
	case *corev1.PodTemplate:
		defaultPodTemplate(o)
	case *corev1.ReplicationController:
		defaultReplicationController(o)
	case *corev1.Service:
		defaultService(o)
	case *corev1.Endpoints:
		defaultEndpoints(o)
	case *corev1.Namespace:
		defaultNamespace(o)
	case *corev1.Secret:
		defaultSecret(o)
	case *corev1.ConfigMap:
		defaultConfigMap(o)
	case *corev1.Node:
		defaultNode(o)
	case *corev1.PersistentVolume:
		defaultPersistentVolume(o)
	case *corev1.PersistentVolumeClaim:
		defaultPVCTree(o)
	case *corev1.LimitRange:
		defaultLimitRange(o)
	case *corev1.ResourceQuota:
		defaultResourceQuota(o)

	// apps/v1
	case *appsv1.Deployment:
		defaultDeployment(o)
	case *appsv1.ReplicaSet:
		defaultReplicaSet(o)
	case *appsv1.DaemonSet:
		defaultDaemonSet(o)
	case *appsv1.StatefulSet:
		defaultStatefulSet(o)

	// batch/v1
	case *batchv1.Job:
		defaultJob(o)
	case *batchv1.CronJob:
		defaultCronJob(o)

	// autoscaling
	case *autoscalingv1.HorizontalPodAutoscaler:
		defaultHPAv1(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		defaultHPAv2(o)

	// discovery/v1, networking/v1, rbac/v1, scheduling/v1, storage/v1
	case *discoveryv1.EndpointSlice:
		defaultEndpointSlice(o)
	case *networkingv1.NetworkPolicy:
		defaultNetworkPolicy(o)
	case *networkingv1.IngressClass:
		defaultIngressClass(o)
	case *rbacv1.RoleBinding:
		defaultRoleRef(&o.RoleRef)
		defaultSubjects(o.Subjects)
	case *rbacv1.ClusterRoleBinding:
		defaultRoleRef(&o.RoleRef)
		defaultSubjects(o.Subjects)
	case *schedulingv1.PriorityClass:
		defaultPriorityClass(o)
	case *storagev1.StorageClass:
		defaultStorageClass(o)
	case *storagev1.CSIDriver:
		defaultCSIDriver(o)

	default:
		// Lists (typed, or metav1.List of RawExtensions holding decoded
		// objects) are defaulted item by item, as upstream does.
		if meta.IsListType(obj) {
			_ = meta.EachListItem(obj, func(item runtime.Object) error {
				Apply(item)
				return nil
			})
		}
	}
}

// looksNew reports whether obj appears to be a create request body rather
// than an update of a stored object: it has neither resourceVersion nor uid
// and is not being deleted. Apply has no create/update signal, so the few
// registry PrepareForCreate behaviours reproduced here are limited to such
// objects.
func looksNew(obj metav1.Object) bool {
	return obj.GetResourceVersion() == "" && obj.GetUID() == "" && obj.GetDeletionTimestamp() == nil
}

func ptrTo[T any](v T) *T { return &v }
