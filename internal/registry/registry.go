package registry

import (
	"github.com/skiff-sh/skiff/internal/convert"
	"reflect"
	"strconv"

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
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Resource describes one served resource.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Singular   string
	Namespaced bool
	ShortNames []string
	Categories []string
	// Verbs lists what the main resource allows; nil means all of get list watch create update patch delete deletecollection.
	Verbs   []string
	New     func() runtime.Object
	NewList func() runtime.Object
	// Status says the resource has a status subresource: main-resource writes keep the stored status and status writes keep the rest.
	Status bool
	// Scale says the resource has a scale subresource (autoscaling/v1 Scale).
	Scale bool
	// Generation says metadata.generation starts at 1 and grows with every spec change.
	Generation bool
	// Fields returns the values of the fields field selectors may use beyond metadata.name and metadata.namespace.
	Fields func(obj runtime.Object) fields.Set
	// StoredAs, when set, names the resource whose storage this one serves in another form (events.k8s.io/v1
	// events are core/v1 events, as in Kubernetes); ToStored and FromStored convert between the two.
	StoredAs             schema.GroupVersionResource
	ToStored, FromStored func(obj runtime.Object) runtime.Object
}

// GVK returns the kind of the resource's objects.
func (r *Resource) GVK() schema.GroupVersionKind { return r.GVR.GroupVersion().WithKind(r.Kind) }

// GroupResource returns the group and plural name.
func (r *Resource) GroupResource() schema.GroupResource { return r.GVR.GroupResource() }

// AllVerbs is the verb list of a fully writable resource.
var AllVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// VerbList returns the verbs of the main resource.
func (r *Resource) VerbList() []string {
	if r.Verbs != nil {
		return r.Verbs
	}
	return AllVerbs
}

func gvr(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}

var all = "all"

// Resources returns every resource skiff serves, in discovery order.
func Resources() []*Resource {
	return []*Resource{
		{GVR: gvr("", "v1", "namespaces"), Kind: "Namespace", Singular: "namespace", ShortNames: []string{"ns"},
			Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"},
			New:   func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} },
			Status: true, Fields: namespaceFields},
		{GVR: gvr("", "v1", "pods"), Kind: "Pod", Singular: "pod", Namespaced: true, ShortNames: []string{"po"}, Categories: []string{all},
			New: func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} },
			Status: true, Generation: true, Fields: podFields},
		{GVR: gvr("", "v1", "nodes"), Kind: "Node", Singular: "node", ShortNames: []string{"no"},
			New: func() runtime.Object { return &corev1.Node{} }, NewList: func() runtime.Object { return &corev1.NodeList{} },
			Status: true, Fields: nodeFields},
		{GVR: gvr("", "v1", "services"), Kind: "Service", Singular: "service", Namespaced: true, ShortNames: []string{"svc"}, Categories: []string{all},
			Verbs: []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
			New:   func() runtime.Object { return &corev1.Service{} }, NewList: func() runtime.Object { return &corev1.ServiceList{} },
			Status: true},
		{GVR: gvr("", "v1", "endpoints"), Kind: "Endpoints", Singular: "endpoints", Namespaced: true, ShortNames: []string{"ep"},
			New: func() runtime.Object { return &corev1.Endpoints{} }, NewList: func() runtime.Object { return &corev1.EndpointsList{} }},
		{GVR: gvr("", "v1", "configmaps"), Kind: "ConfigMap", Singular: "configmap", Namespaced: true, ShortNames: []string{"cm"},
			New: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} }},
		{GVR: gvr("", "v1", "secrets"), Kind: "Secret", Singular: "secret", Namespaced: true,
			New: func() runtime.Object { return &corev1.Secret{} }, NewList: func() runtime.Object { return &corev1.SecretList{} },
			Fields: secretFields},
		{GVR: gvr("", "v1", "serviceaccounts"), Kind: "ServiceAccount", Singular: "serviceaccount", Namespaced: true, ShortNames: []string{"sa"},
			New: func() runtime.Object { return &corev1.ServiceAccount{} }, NewList: func() runtime.Object { return &corev1.ServiceAccountList{} }},
		{GVR: gvr("", "v1", "events"), Kind: "Event", Singular: "event", Namespaced: true, ShortNames: []string{"ev"},
			New: func() runtime.Object { return &corev1.Event{} }, NewList: func() runtime.Object { return &corev1.EventList{} },
			Fields: eventFields},
		{GVR: gvr("", "v1", "podtemplates"), Kind: "PodTemplate", Singular: "podtemplate", Namespaced: true,
			New: func() runtime.Object { return &corev1.PodTemplate{} }, NewList: func() runtime.Object { return &corev1.PodTemplateList{} }},
		{GVR: gvr("", "v1", "limitranges"), Kind: "LimitRange", Singular: "limitrange", Namespaced: true, ShortNames: []string{"limits"},
			New: func() runtime.Object { return &corev1.LimitRange{} }, NewList: func() runtime.Object { return &corev1.LimitRangeList{} }},
		{GVR: gvr("", "v1", "resourcequotas"), Kind: "ResourceQuota", Singular: "resourcequota", Namespaced: true, ShortNames: []string{"quota"},
			New: func() runtime.Object { return &corev1.ResourceQuota{} }, NewList: func() runtime.Object { return &corev1.ResourceQuotaList{} },
			Status: true},
		{GVR: gvr("", "v1", "persistentvolumeclaims"), Kind: "PersistentVolumeClaim", Singular: "persistentvolumeclaim", Namespaced: true, ShortNames: []string{"pvc"},
			New: func() runtime.Object { return &corev1.PersistentVolumeClaim{} }, NewList: func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
			Status: true},
		{GVR: gvr("", "v1", "persistentvolumes"), Kind: "PersistentVolume", Singular: "persistentvolume", ShortNames: []string{"pv"},
			New: func() runtime.Object { return &corev1.PersistentVolume{} }, NewList: func() runtime.Object { return &corev1.PersistentVolumeList{} },
			Status: true},
		{GVR: gvr("", "v1", "replicationcontrollers"), Kind: "ReplicationController", Singular: "replicationcontroller", Namespaced: true, ShortNames: []string{"rc"}, Categories: []string{all},
			New: func() runtime.Object { return &corev1.ReplicationController{} }, NewList: func() runtime.Object { return &corev1.ReplicationControllerList{} },
			Status: true, Scale: true, Generation: true},

		{GVR: gvr("apps", "v1", "deployments"), Kind: "Deployment", Singular: "deployment", Namespaced: true, ShortNames: []string{"deploy"}, Categories: []string{all},
			New: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} },
			Status: true, Scale: true, Generation: true},
		{GVR: gvr("apps", "v1", "replicasets"), Kind: "ReplicaSet", Singular: "replicaset", Namespaced: true, ShortNames: []string{"rs"}, Categories: []string{all},
			New: func() runtime.Object { return &appsv1.ReplicaSet{} }, NewList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
			Status: true, Scale: true, Generation: true, Fields: replicaSetFields},
		{GVR: gvr("apps", "v1", "daemonsets"), Kind: "DaemonSet", Singular: "daemonset", Namespaced: true, ShortNames: []string{"ds"}, Categories: []string{all},
			New: func() runtime.Object { return &appsv1.DaemonSet{} }, NewList: func() runtime.Object { return &appsv1.DaemonSetList{} },
			Status: true, Generation: true},
		{GVR: gvr("apps", "v1", "statefulsets"), Kind: "StatefulSet", Singular: "statefulset", Namespaced: true, ShortNames: []string{"sts"}, Categories: []string{all},
			New: func() runtime.Object { return &appsv1.StatefulSet{} }, NewList: func() runtime.Object { return &appsv1.StatefulSetList{} },
			Status: true, Scale: true, Generation: true},
		{GVR: gvr("apps", "v1", "controllerrevisions"), Kind: "ControllerRevision", Singular: "controllerrevision", Namespaced: true,
			New: func() runtime.Object { return &appsv1.ControllerRevision{} }, NewList: func() runtime.Object { return &appsv1.ControllerRevisionList{} }},

		{GVR: gvr("batch", "v1", "jobs"), Kind: "Job", Singular: "job", Namespaced: true, Categories: []string{all},
			New: func() runtime.Object { return &batchv1.Job{} }, NewList: func() runtime.Object { return &batchv1.JobList{} },
			Status: true, Generation: true},
		{GVR: gvr("batch", "v1", "cronjobs"), Kind: "CronJob", Singular: "cronjob", Namespaced: true, ShortNames: []string{"cj"}, Categories: []string{all},
			New: func() runtime.Object { return &batchv1.CronJob{} }, NewList: func() runtime.Object { return &batchv1.CronJobList{} },
			Status: true, Generation: true},

		{GVR: gvr("coordination.k8s.io", "v1", "leases"), Kind: "Lease", Singular: "lease", Namespaced: true,
			New: func() runtime.Object { return &coordinationv1.Lease{} }, NewList: func() runtime.Object { return &coordinationv1.LeaseList{} }},
		{GVR: gvr("discovery.k8s.io", "v1", "endpointslices"), Kind: "EndpointSlice", Singular: "endpointslice", Namespaced: true,
			New: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, NewList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} }},
		{GVR: gvr("events.k8s.io", "v1", "events"), Kind: "Event", Singular: "event", Namespaced: true, ShortNames: []string{"ev"},
			New: func() runtime.Object { return &eventsv1.Event{} }, NewList: func() runtime.Object { return &eventsv1.EventList{} },
			Fields: eventsV1Fields, StoredAs: gvr("", "v1", "events"), ToStored: EventFromV1, FromStored: EventToV1},
		{GVR: gvr("policy", "v1", "poddisruptionbudgets"), Kind: "PodDisruptionBudget", Singular: "poddisruptionbudget", Namespaced: true, ShortNames: []string{"pdb"},
			New: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, NewList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
			Status: true, Generation: true},
		{GVR: gvr("autoscaling", "v2", "horizontalpodautoscalers"), Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler", Namespaced: true, ShortNames: []string{"hpa"}, Categories: []string{all},
			New: func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }, NewList: func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} },
			Status: true},
		// autoscaling/v1 is served from the autoscaling/v2 storage, as kube-apiserver does (kubectl autoscale
		// writes v1); v2 stays the preferred version.
		{GVR: gvr("autoscaling", "v1", "horizontalpodautoscalers"), Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler", Namespaced: true, ShortNames: []string{"hpa"}, Categories: []string{all},
			New: func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscaler{} }, NewList: func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} },
			Status: true, StoredAs: gvr("autoscaling", "v2", "horizontalpodautoscalers"),
			ToStored: func(obj runtime.Object) runtime.Object {
				return convert.HPAFromV1(obj.(*autoscalingv1.HorizontalPodAutoscaler))
			},
			FromStored: func(obj runtime.Object) runtime.Object {
				return convert.HPAToV1(obj.(*autoscalingv2.HorizontalPodAutoscaler))
			}},
		{GVR: gvr("networking.k8s.io", "v1", "ingresses"), Kind: "Ingress", Singular: "ingress", Namespaced: true, ShortNames: []string{"ing"},
			New: func() runtime.Object { return &networkingv1.Ingress{} }, NewList: func() runtime.Object { return &networkingv1.IngressList{} },
			Status: true, Generation: true},
		{GVR: gvr("networking.k8s.io", "v1", "ingressclasses"), Kind: "IngressClass", Singular: "ingressclass",
			New: func() runtime.Object { return &networkingv1.IngressClass{} }, NewList: func() runtime.Object { return &networkingv1.IngressClassList{} },
			Generation: true},
		{GVR: gvr("networking.k8s.io", "v1", "networkpolicies"), Kind: "NetworkPolicy", Singular: "networkpolicy", Namespaced: true, ShortNames: []string{"netpol"},
			New: func() runtime.Object { return &networkingv1.NetworkPolicy{} }, NewList: func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
			Generation: true},
		{GVR: gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), Kind: "ClusterRoleBinding", Singular: "clusterrolebinding",
			New: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} }},
		{GVR: gvr("rbac.authorization.k8s.io", "v1", "clusterroles"), Kind: "ClusterRole", Singular: "clusterrole",
			New: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} }},
		{GVR: gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), Kind: "RoleBinding", Singular: "rolebinding", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.RoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} }},
		{GVR: gvr("rbac.authorization.k8s.io", "v1", "roles"), Kind: "Role", Singular: "role", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} }},
		{GVR: gvr("scheduling.k8s.io", "v1", "priorityclasses"), Kind: "PriorityClass", Singular: "priorityclass", ShortNames: []string{"pc"},
			New: func() runtime.Object { return &schedulingv1.PriorityClass{} }, NewList: func() runtime.Object { return &schedulingv1.PriorityClassList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "csidrivers"), Kind: "CSIDriver", Singular: "csidriver",
			New: func() runtime.Object { return &storagev1.CSIDriver{} }, NewList: func() runtime.Object { return &storagev1.CSIDriverList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "csistoragecapacities"), Kind: "CSIStorageCapacity", Singular: "csistoragecapacity", Namespaced: true,
			New: func() runtime.Object { return &storagev1.CSIStorageCapacity{} }, NewList: func() runtime.Object { return &storagev1.CSIStorageCapacityList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "csinodes"), Kind: "CSINode", Singular: "csinode",
			New: func() runtime.Object { return &storagev1.CSINode{} }, NewList: func() runtime.Object { return &storagev1.CSINodeList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "storageclasses"), Kind: "StorageClass", Singular: "storageclass", ShortNames: []string{"sc"},
			New: func() runtime.Object { return &storagev1.StorageClass{} }, NewList: func() runtime.Object { return &storagev1.StorageClassList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "volumeattributesclasses"), Kind: "VolumeAttributesClass", Singular: "volumeattributesclass", ShortNames: []string{"vac"},
			New: func() runtime.Object { return &storagev1.VolumeAttributesClass{} }, NewList: func() runtime.Object { return &storagev1.VolumeAttributesClassList{} }},
		{GVR: gvr("storage.k8s.io", "v1", "volumeattachments"), Kind: "VolumeAttachment", Singular: "volumeattachment",
			New: func() runtime.Object { return &storagev1.VolumeAttachment{} }, NewList: func() runtime.Object { return &storagev1.VolumeAttachmentList{} },
			Status: true},
		{GVR: gvr("node.k8s.io", "v1", "runtimeclasses"), Kind: "RuntimeClass", Singular: "runtimeclass",
			New: func() runtime.Object { return &nodev1.RuntimeClass{} }, NewList: func() runtime.Object { return &nodev1.RuntimeClassList{} }},
		{GVR: gvr("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"), Kind: "MutatingWebhookConfiguration", Singular: "mutatingwebhookconfiguration",
			Categories: []string{"api-extensions"},
			New:        func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfiguration{} },
			NewList:    func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfigurationList{} }},
		{GVR: gvr("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"), Kind: "ValidatingWebhookConfiguration", Singular: "validatingwebhookconfiguration",
			Categories: []string{"api-extensions"},
			New:        func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfiguration{} },
			NewList:    func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfigurationList{} }},
		{GVR: gvr("flowcontrol.apiserver.k8s.io", "v1", "flowschemas"), Kind: "FlowSchema", Singular: "flowschema",
			New:     func() runtime.Object { return &flowcontrolv1.FlowSchema{} },
			NewList: func() runtime.Object { return &flowcontrolv1.FlowSchemaList{} },
			Status:  true, Generation: true},
		{GVR: gvr("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations"), Kind: "PriorityLevelConfiguration", Singular: "prioritylevelconfiguration",
			New:     func() runtime.Object { return &flowcontrolv1.PriorityLevelConfiguration{} },
			NewList: func() runtime.Object { return &flowcontrolv1.PriorityLevelConfigurationList{} },
			Status:  true, Generation: true},
		{GVR: gvr("certificates.k8s.io", "v1", "certificatesigningrequests"), Kind: "CertificateSigningRequest", Singular: "certificatesigningrequest",
			ShortNames: []string{"csr"},
			New:        func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
			NewList:    func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
			Status:     true, Fields: csrFields},
		{GVR: gvr("apiregistration.k8s.io", "v1", "apiservices"), Kind: "APIService", Singular: "apiservice",
			Categories: []string{"api-extensions"},
			New:        func() runtime.Object { return &apiregistrationv1.APIService{} },
			NewList:    func() runtime.Object { return &apiregistrationv1.APIServiceList{} },
			Status:     true},
		{GVR: gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions"), Kind: "CustomResourceDefinition", Singular: "customresourcedefinition",
			ShortNames: []string{"crd", "crds"}, Categories: []string{"api-extensions"},
			New:     func() runtime.Object { return &apiextv1.CustomResourceDefinition{} },
			NewList: func() runtime.Object { return &apiextv1.CustomResourceDefinitionList{} },
			Status:  true, Generation: true},
	}
}

// csrFields are the fields kube-apiserver lets field selectors use on CertificateSigningRequests.
func csrFields(obj runtime.Object) fields.Set {
	return fields.Set{"spec.signerName": obj.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
}

func podFields(obj runtime.Object) fields.Set {
	p := obj.(*corev1.Pod)
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

func nodeFields(obj runtime.Object) fields.Set {
	n := obj.(*corev1.Node)
	return fields.Set{"spec.unschedulable": strconv.FormatBool(n.Spec.Unschedulable)}
}

func namespaceFields(obj runtime.Object) fields.Set {
	n := obj.(*corev1.Namespace)
	return fields.Set{"status.phase": string(n.Status.Phase), "name": n.Name}
}

func secretFields(obj runtime.Object) fields.Set {
	return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
}

func replicaSetFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.replicas": strconv.Itoa(int(obj.(*appsv1.ReplicaSet).Status.Replicas))}
}

func eventFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}

func eventsV1Fields(obj runtime.Object) fields.Set {
	e := obj.(*eventsv1.Event)
	return fields.Set{
		"regarding.kind":            e.Regarding.Kind,
		"regarding.namespace":       e.Regarding.Namespace,
		"regarding.name":            e.Regarding.Name,
		"regarding.uid":             string(e.Regarding.UID),
		"regarding.apiVersion":      e.Regarding.APIVersion,
		"regarding.resourceVersion": e.Regarding.ResourceVersion,
		"regarding.fieldPath":       e.Regarding.FieldPath,
		"reason":                    e.Reason,
		"reportingController":       e.ReportingController,
		"type":                      e.Type,
	}
}

// FieldSet returns every field a field selector may name for obj.
func (r *Resource) FieldSet(obj runtime.Object, m metav1.Object) fields.Set {
	set := fields.Set{"metadata.name": m.GetName()}
	if r.Namespaced {
		set["metadata.namespace"] = m.GetNamespace()
	}
	if r.Fields != nil {
		for k, v := range r.Fields(obj) {
			set[k] = v
		}
	}
	return set
}

// SupportsField reports whether field selectors on r may use field.
func (r *Resource) SupportsField(obj runtime.Object, field string) bool {
	if field == "metadata.name" || (field == "metadata.namespace" && r.Namespaced) {
		return true
	}
	if r.Fields == nil {
		return false
	}
	_, ok := r.Fields(obj)[field]
	return ok
}

// part returns the named top-level struct field (Spec, Status) of a typed object, or an invalid Value.
func part(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// ResetStatus clears the status of a new object created through the main resource, as Kubernetes strategies do.
func (r *Resource) ResetStatus(obj runtime.Object) {
	if !r.Status {
		return
	}
	switch r.Kind {
	case "Node", "Namespace", "PersistentVolume", "PersistentVolumeClaim":
		// Kubelets create nodes with their status; namespaces get phase Active from defaulting.
		return
	}
	if s := part(obj, "Status"); s.IsValid() && s.CanSet() {
		s.Set(reflect.Zero(s.Type()))
	}
}

// KeepStatus copies the stored status into an object written through the main resource.
func (r *Resource) KeepStatus(obj, old runtime.Object) {
	if !r.Status {
		return
	}
	s, o := part(obj, "Status"), part(old, "Status")
	if s.IsValid() && o.IsValid() && s.CanSet() {
		s.Set(o)
	}
}

// KeepSpec builds the result of a status write: the stored object with obj's status (and nothing else from obj).
func (r *Resource) KeepSpec(obj, old runtime.Object) runtime.Object {
	out := old.DeepCopyObject()
	s, o := part(obj, "Status"), part(out, "Status")
	if s.IsValid() && o.IsValid() && o.CanSet() {
		o.Set(s)
	}
	return out
}

// SpecChanged reports whether anything outside metadata and status differs between obj and old.
func SpecChanged(obj, old runtime.Object) bool {
	a, b := reflect.ValueOf(obj).Elem(), reflect.ValueOf(old).Elem()
	t := a.Type()
	for i := 0; i < t.NumField(); i++ {
		switch t.Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		if !equality.Semantic.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			return true
		}
	}
	return false
}
