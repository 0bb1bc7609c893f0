package validation

import (
	"fmt"
	"github.com/skiff-sh/skiff/internal/convert"
	"reflect"
	"sort"
	"strings"

	"github.com/skiff-sh/skiff/internal/admission/webhook"
	"github.com/skiff-sh/skiff/internal/apiextensions"
	"github.com/skiff-sh/skiff/internal/certificates"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validate/content"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// ValidateCreate returns the problems with obj as a new object; nil means valid. Unknown types get only ObjectMeta checks.
func ValidateCreate(obj runtime.Object) field.ErrorList {
	if isNilObject(obj) {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("cannot validate a nil object"))}
	}
	var errs field.ErrorList
	switch o := obj.(type) {
	case *certificatesv1.CertificateSigningRequest:
		errs = certificates.ValidateCreate(o)
	case *apiregistrationv1.APIService:
		errs = validateAPIService(o)
	case *flowcontrolv1.FlowSchema:
		errs = validateFlowSchema(o)
	case *flowcontrolv1.PriorityLevelConfiguration:
		errs = validatePriorityLevelConfiguration(o)
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		errs = webhook.ValidateValidating(o)
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		errs = webhook.ValidateMutating(o)
	case *apiextv1.CustomResourceDefinition:
		errs = apiextensions.ValidateCreate(o)
	case *corev1.Namespace:
		errs = validateNamespace(o)
	case *corev1.Pod:
		errs = validatePodCreate(o)
	case *corev1.Node:
		errs = validateNode(o)
	case *corev1.Service:
		errs = validateService(o)
	case *corev1.Endpoints:
		errs = validateEndpoints(o)
	case *corev1.ConfigMap:
		errs = validateConfigMap(o)
	case *corev1.Secret:
		errs = validateSecret(o)
	case *corev1.ServiceAccount:
		errs = validateServiceAccount(o)
	case *corev1.Event:
		errs = validateCoreEventCreate(o)
	case *appsv1.Deployment:
		errs = validateDeployment(o)
	case *appsv1.ReplicaSet:
		errs = validateReplicaSet(o)
	case *corev1.ReplicationController:
		errs = validateReplicationController(o)
	case *appsv1.DaemonSet:
		errs = validateDaemonSet(o)
	case *appsv1.StatefulSet:
		errs = validateStatefulSet(o)
	case *batchv1.Job:
		errs = validateJob(o)
	case *batchv1.CronJob:
		errs = validateCronJobCreate(o)
	case *coordinationv1.Lease:
		errs = validateLease(o)
	case *discoveryv1.EndpointSlice:
		errs = validateEndpointSlice(o, nil)
	case *eventsv1.Event:
		errs = validateEventsV1Create(o)
	case *policyv1.PodDisruptionBudget:
		errs = validatePodDisruptionBudget(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		errs = validateHorizontalPodAutoscaler(o)
	case *autoscalingv1.HorizontalPodAutoscaler:
		// As kube-apiserver, which validates its internal (v2-shaped) form: the paths name v2's fields.
		errs = validateHorizontalPodAutoscaler(convert.HPAFromV1(o))
	case *schedulingv1.PriorityClass:
		errs = validatePriorityClass(o)
	case *networkingv1.Ingress:
		errs = validateIngress(o)
	case *networkingv1.IngressClass:
		errs = validateIngressClass(o)
	case *networkingv1.NetworkPolicy:
		errs = validateNetworkPolicy(o)
	case *rbacv1.Role:
		errs = validateRole(o)
	case *rbacv1.ClusterRole:
		errs = validateClusterRole(o)
	case *rbacv1.RoleBinding:
		errs = validateRoleBinding(o)
	case *rbacv1.ClusterRoleBinding:
		errs = validateClusterRoleBinding(o)
	case *storagev1.StorageClass:
		errs = validateStorageClass(o)
	case *storagev1.CSIDriver:
		errs = validateCSIDriver(o)
	case *storagev1.CSIStorageCapacity:
		errs = validateCSIStorageCapacity(o)
	case *storagev1.VolumeAttributesClass:
		errs = validateVolumeAttributesClass(o)
	case *storagev1.CSINode:
		errs = validateCSINode(o)
	case *storagev1.VolumeAttachment:
		errs = append(validateVolumeAttachment(o), validateVolumeAttachmentV1(o)...)
	case *nodev1.RuntimeClass:
		errs = validateRuntimeClass(o)
	case *autoscalingv1.Scale:
		// The /scale subresource has no storage of its own: it is checked as
		// kube-apiserver's scale REST does, and the write then goes through
		// the parent object.
		return finish(validateScale(o))
	}
	if len(errs) > 0 {
		return finish(errs)
	}
	// Like rest.BeforeCreate: once the type's own checks pass, the common
	// ObjectMeta checks run for every resource.
	return finish(validateCommonCreate(obj))
}

// ValidateUpdate returns the problems with changing old into obj via the main resource (immutable fields included).
func ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	if errs := checkPair(obj, old); errs != nil {
		return errs
	}
	var errs field.ErrorList
	switch o := obj.(type) {
	case *certificatesv1.CertificateSigningRequest:
		errs = certificates.ValidateUpdate(o, old.(*certificatesv1.CertificateSigningRequest))
	case *apiregistrationv1.APIService:
		errs = validateAPIService(o)
	case *flowcontrolv1.FlowSchema:
		errs = validateFlowSchemaUpdate(o, old.(*flowcontrolv1.FlowSchema))
	case *flowcontrolv1.PriorityLevelConfiguration:
		errs = validatePriorityLevelConfigurationUpdate(o, old.(*flowcontrolv1.PriorityLevelConfiguration))
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		errs = webhook.ValidateValidatingUpdate(o, old.(*admissionregistrationv1.ValidatingWebhookConfiguration))
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		errs = webhook.ValidateMutatingUpdate(o, old.(*admissionregistrationv1.MutatingWebhookConfiguration))
	case *apiextv1.CustomResourceDefinition:
		errs = apiextensions.ValidateUpdate(o, old.(*apiextv1.CustomResourceDefinition))
	case *corev1.Namespace:
		errs = validateNamespaceUpdate(o, old.(*corev1.Namespace))
	case *corev1.Pod:
		errs = validatePodUpdate(o, old.(*corev1.Pod))
	case *corev1.Node:
		errs = validateNodeUpdate(o, old.(*corev1.Node))
	case *corev1.Service:
		errs = validateServiceUpdate(o, old.(*corev1.Service))
	case *corev1.Endpoints:
		errs = validateEndpointsUpdate(o, old.(*corev1.Endpoints))
	case *corev1.ConfigMap:
		errs = validateConfigMapUpdate(o, old.(*corev1.ConfigMap))
	case *corev1.Secret:
		errs = validateSecretUpdate(o, old.(*corev1.Secret))
	case *corev1.ServiceAccount:
		errs = validateServiceAccountUpdate(o, old.(*corev1.ServiceAccount))
	case *corev1.Event:
		errs = validateCoreEventUpdate(o, old.(*corev1.Event))
	case *appsv1.Deployment:
		errs = validateDeploymentUpdate(o, old.(*appsv1.Deployment))
	case *appsv1.ReplicaSet:
		errs = validateReplicaSetUpdate(o, old.(*appsv1.ReplicaSet))
	case *corev1.ReplicationController:
		errs = validateReplicationControllerUpdate(o, old.(*corev1.ReplicationController))
	case *appsv1.DaemonSet:
		errs = validateDaemonSetUpdate(o, old.(*appsv1.DaemonSet))
	case *appsv1.StatefulSet:
		errs = validateStatefulSetUpdate(o, old.(*appsv1.StatefulSet))
	case *batchv1.Job:
		errs = validateJobUpdate(o, old.(*batchv1.Job))
	case *batchv1.CronJob:
		errs = validateCronJobUpdate(o, old.(*batchv1.CronJob))
	case *coordinationv1.Lease:
		errs = validateLeaseUpdate(o, old.(*coordinationv1.Lease))
	case *discoveryv1.EndpointSlice:
		errs = validateEndpointSliceUpdate(o, old.(*discoveryv1.EndpointSlice))
	case *eventsv1.Event:
		errs = validateEventsV1Update(o, old.(*eventsv1.Event))
	case *policyv1.PodDisruptionBudget:
		errs = validatePodDisruptionBudget(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		errs = validateHorizontalPodAutoscalerUpdate(o, old.(*autoscalingv2.HorizontalPodAutoscaler))
	case *autoscalingv1.HorizontalPodAutoscaler:
		errs = validateHorizontalPodAutoscalerUpdate(convert.HPAFromV1(o), convert.HPAFromV1(old.(*autoscalingv1.HorizontalPodAutoscaler)))
	case *schedulingv1.PriorityClass:
		errs = validatePriorityClassUpdate(o, old.(*schedulingv1.PriorityClass))
	case *networkingv1.Ingress:
		errs = validateIngressUpdate(o, old.(*networkingv1.Ingress))
	case *networkingv1.IngressClass:
		errs = validateIngressClassUpdate(o, old.(*networkingv1.IngressClass))
	case *networkingv1.NetworkPolicy:
		errs = validateNetworkPolicyUpdate(o, old.(*networkingv1.NetworkPolicy))
	case *rbacv1.Role:
		errs = validateRoleUpdate(o, old.(*rbacv1.Role))
	case *rbacv1.ClusterRole:
		errs = validateClusterRoleUpdate(o, old.(*rbacv1.ClusterRole))
	case *rbacv1.RoleBinding:
		errs = validateRoleBindingUpdate(o, old.(*rbacv1.RoleBinding))
	case *rbacv1.ClusterRoleBinding:
		errs = validateClusterRoleBindingUpdate(o, old.(*rbacv1.ClusterRoleBinding))
	case *storagev1.StorageClass:
		errs = validateStorageClassUpdate(o, old.(*storagev1.StorageClass))
	case *storagev1.CSIDriver:
		errs = validateCSIDriverUpdate(o, old.(*storagev1.CSIDriver))
	case *storagev1.CSIStorageCapacity:
		errs = validateCSIStorageCapacityUpdate(o, old.(*storagev1.CSIStorageCapacity))
	case *storagev1.VolumeAttributesClass:
		errs = validateVolumeAttributesClassUpdate(o, old.(*storagev1.VolumeAttributesClass))
	case *storagev1.CSINode:
		errs = validateCSINodeUpdate(o, old.(*storagev1.CSINode))
	case *storagev1.VolumeAttachment:
		errs = validateVolumeAttachmentUpdate(o, old.(*storagev1.VolumeAttachment))
	case *nodev1.RuntimeClass:
		errs = validateRuntimeClassUpdate(o, old.(*nodev1.RuntimeClass))
	case *autoscalingv1.Scale:
		return finish(validateScale(o))
	}
	// Like rest.BeforeUpdate: the common ObjectMeta checks come first, then
	// the type's own.
	return finish(append(validateCommonUpdate(obj, old), errs...))
}

// ValidateStatusUpdate returns the problems with a write to the status subresource (metadata rules + status fields).
func ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	if errs := checkPair(obj, old); errs != nil {
		return errs
	}
	metaPath := field.NewPath("metadata")
	var errs field.ErrorList
	switch o := obj.(type) {
	case *certificatesv1.CertificateSigningRequest:
		errs = certificates.ValidateStatusUpdate(o, old.(*certificatesv1.CertificateSigningRequest))
	case *apiregistrationv1.APIService:
		errs = validateAPIServiceStatus(o)
	case *flowcontrolv1.FlowSchema:
		errs = validateFlowSchemaStatusUpdate(o, old.(*flowcontrolv1.FlowSchema))
	case *flowcontrolv1.PriorityLevelConfiguration:
		errs = validatePriorityLevelConfigurationStatusUpdate(o, old.(*flowcontrolv1.PriorityLevelConfiguration))
	case *apiextv1.CustomResourceDefinition:
		errs = apiextensions.ValidateStatusUpdate(o, old.(*apiextv1.CustomResourceDefinition))
	case *corev1.Namespace:
		errs = validateNamespaceStatusUpdate(o, old.(*corev1.Namespace))
	case *corev1.Pod:
		errs = validatePodStatusUpdate(o, old.(*corev1.Pod))
	case *corev1.Node:
		errs = validateNodeUpdate(o, old.(*corev1.Node))
	case *corev1.Service:
		errs = validateServiceStatusUpdate(o, old.(*corev1.Service))
	case *appsv1.Deployment:
		errs = validateDeploymentStatusUpdate(o, old.(*appsv1.Deployment))
	case *appsv1.ReplicaSet:
		errs = validateReplicaSetStatusUpdate(o, old.(*appsv1.ReplicaSet))
	case *corev1.ReplicationController:
		errs = validateReplicationControllerStatusUpdate(o, old.(*corev1.ReplicationController))
	case *appsv1.DaemonSet:
		errs = validateDaemonSetStatusUpdate(o, old.(*appsv1.DaemonSet))
	case *appsv1.StatefulSet:
		errs = validateStatefulSetStatusUpdate(o, old.(*appsv1.StatefulSet))
	case *batchv1.Job:
		errs = validateJobStatusUpdate(o, old.(*batchv1.Job))
	case *batchv1.CronJob:
		errs = validateObjectMetaUpdate(&o.ObjectMeta, &old.(*batchv1.CronJob).ObjectMeta, metaPath)
	case *policyv1.PodDisruptionBudget:
		errs = validatePodDisruptionBudgetStatusUpdate(o, old.(*policyv1.PodDisruptionBudget))
	case *autoscalingv2.HorizontalPodAutoscaler:
		errs = validateHorizontalPodAutoscalerStatusUpdate(o, old.(*autoscalingv2.HorizontalPodAutoscaler))
	case *networkingv1.Ingress:
		errs = validateIngressStatusUpdate(o, old.(*networkingv1.Ingress))
	case *storagev1.VolumeAttachment:
		errs = validateVolumeAttachmentUpdate(o, old.(*storagev1.VolumeAttachment))
	case *autoscalingv1.HorizontalPodAutoscaler:
		errs = validateHorizontalPodAutoscalerStatusUpdate(convert.HPAFromV1(o), convert.HPAFromV1(old.(*autoscalingv1.HorizontalPodAutoscaler)))
	case *autoscalingv1.Scale:
		return finish(validateScale(o))
	default:
		newMeta, err1 := meta.Accessor(obj)
		oldMeta, err2 := meta.Accessor(old)
		if err1 == nil && err2 == nil {
			errs = genericvalidation.ValidateObjectMetaAccessorUpdate(newMeta, oldMeta, metaPath)
		}
	}
	return finish(append(validateCommonUpdate(obj, old), errs...))
}

// checkPair rejects nil objects and pairs of different types.
func checkPair(obj, old runtime.Object) field.ErrorList {
	if isNilObject(obj) {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("cannot validate a nil object"))}
	}
	if isNilObject(old) {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("cannot validate an update from a nil object"))}
	}
	if reflect.TypeOf(obj) != reflect.TypeOf(old) {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("cannot validate an update of %T from %T", obj, old))}
	}
	return nil
}

func isNilObject(obj runtime.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// finish drops errors whose text repeats an earlier one (as the API server's
// aggregated message does) and returns nil for an empty list.
func finish(errs field.ErrorList) field.ErrorList {
	if len(errs) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(errs))
	out := make(field.ErrorList, 0, len(errs))
	for _, e := range errs {
		if e == nil {
			continue
		}
		msg := e.Error()
		if seen[msg] {
			continue
		}
		seen[msg] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isNamespaced reports the scope of the known types; for unknown types the
// presence of a namespace decides.
func isNamespaced(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Namespace, *corev1.Node, *schedulingv1.PriorityClass, *networkingv1.IngressClass,
		*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *storagev1.StorageClass, *storagev1.CSIDriver,
		*storagev1.CSINode, *storagev1.VolumeAttributesClass, *storagev1.VolumeAttachment, *nodev1.RuntimeClass,
		*flowcontrolv1.FlowSchema, *flowcontrolv1.PriorityLevelConfiguration, *apiextv1.CustomResourceDefinition, *apiregistrationv1.APIService,
		*certificatesv1.CertificateSigningRequest,
		*admissionregistrationv1.ValidatingWebhookConfiguration, *admissionregistrationv1.MutatingWebhookConfiguration:
		return false
	case *corev1.Pod, *corev1.Service, *corev1.Endpoints, *corev1.ConfigMap, *corev1.Secret,
		*corev1.ServiceAccount, *corev1.Event, *appsv1.Deployment, *appsv1.ReplicaSet,
		*appsv1.DaemonSet, *appsv1.StatefulSet, *batchv1.Job, *batchv1.CronJob,
		*coordinationv1.Lease, *discoveryv1.EndpointSlice, *eventsv1.Event,
		*policyv1.PodDisruptionBudget, *autoscalingv2.HorizontalPodAutoscaler, *autoscalingv1.HorizontalPodAutoscaler, *autoscalingv1.Scale,
		*networkingv1.Ingress, *networkingv1.NetworkPolicy, *rbacv1.Role, *rbacv1.RoleBinding, *storagev1.CSIStorageCapacity:
		return true
	}
	if m, err := meta.Accessor(obj); err == nil {
		return m.GetNamespace() != ""
	}
	return false
}

// validateCommonCreate is the check every resource gets on create
// (rest.BeforeCreate): ObjectMeta with path-segment-safe names.
func validateCommonCreate(obj runtime.Object) field.ErrorList {
	m, err := meta.Accessor(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	return genericvalidation.ValidateObjectMetaAccessor(m, isNamespaced(obj), validatePathSegmentName, field.NewPath("metadata"))
}

// validateCommonUpdate is the check every resource gets on update
// (rest.BeforeUpdate's validateCommonFields).
func validateCommonUpdate(obj, old runtime.Object) field.ErrorList {
	m, err := meta.Accessor(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	metaPath := field.NewPath("metadata")
	errs := genericvalidation.ValidateObjectMetaAccessor(m, isNamespaced(obj), validatePathSegmentName, metaPath)
	return append(errs, genericvalidation.ValidateObjectMetaAccessorUpdate(m, om, metaPath)...)
}

func validatePathSegmentName(name string, prefix bool) []string {
	if prefix {
		return apimachineryvalidation.IsPathSegmentPrefix(name)
	}
	return apimachineryvalidation.IsPathSegmentName(name)
}

// standardFinalizers are the finalizer names that need no domain prefix.
var standardFinalizers = map[string]bool{
	string(corev1.FinalizerKubernetes): true,
	metav1.FinalizerOrphanDependents:   true,
	metav1.FinalizerDeleteDependents:   true,
}

// validateKubeFinalizerName checks for "standard" names of legacy finalizers.
func validateKubeFinalizerName(stringValue string, fldPath *field.Path) field.ErrorList {
	if len(strings.Split(stringValue, "/")) == 1 && !standardFinalizers[stringValue] {
		return field.ErrorList{field.Invalid(fldPath, stringValue, "name is neither a standard finalizer name nor is it fully qualified")}
	}
	return nil
}

// validateObjectMeta is ValidateObjectMeta of k8s.io/kubernetes/pkg/apis/core/validation.
func validateObjectMeta(objMeta *metav1.ObjectMeta, requiresNamespace bool, nameFn genericvalidation.ValidateNameFunc, fldPath *field.Path) field.ErrorList {
	allErrs := genericvalidation.ValidateObjectMeta(objMeta, requiresNamespace, nameFn, fldPath)
	for i := range objMeta.Finalizers {
		allErrs = append(allErrs, validateKubeFinalizerName(objMeta.Finalizers[i], fldPath.Child("finalizers").Index(i))...)
	}
	return allErrs
}

// validateObjectMetaUpdate is ValidateObjectMetaUpdate of k8s.io/kubernetes/pkg/apis/core/validation.
func validateObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	allErrs := genericvalidation.ValidateObjectMetaUpdate(newMeta, oldMeta, fldPath)
	for i := range newMeta.Finalizers {
		allErrs = append(allErrs, validateKubeFinalizerName(newMeta.Finalizers[i], fldPath.Child("finalizers").Index(i))...)
	}
	return allErrs
}

var (
	nameIsDNSSubdomain  = genericvalidation.NameIsDNSSubdomain
	nameIsDNSLabel      = genericvalidation.NameIsDNSLabel
	nameIsDNS1035Label  = genericvalidation.NameIsDNS1035Label
	validateNonnegative = genericvalidation.ValidateNonnegativeField
	immutableField      = genericvalidation.ValidateImmutableField
)

const (
	isNegativeErrorMsg = genericvalidation.IsNegativeErrorMsg
	isNotIntegerMsg    = "must be an integer"
	fileModeErrorMsg   = "must be a number between 0 and 0777 (octal), both inclusive"
)

func validateDNS1123Label(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

func validateDNS1123Subdomain(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

func validateQualifiedName(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsQualifiedName(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// sortedKeys returns the keys of a string-keyed map in order, so that errors
// come out in a stable order.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// isDecremented reports whether a counter went down (nil counting as 0 only
// when the old value was set).
func isDecremented(update, old *int32) bool {
	if update == nil && old != nil {
		return true
	}
	if update == nil || old == nil {
		return false
	}
	return *update < *old
}
