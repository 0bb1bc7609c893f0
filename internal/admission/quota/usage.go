package quota

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Well-known group resources the evaluators handle specially.
var (
	Pods                   = schema.GroupResource{Resource: "pods"}
	Services               = schema.GroupResource{Resource: "services"}
	PersistentVolumeClaims = schema.GroupResource{Resource: "persistentvolumeclaims"}
	ConfigMaps             = schema.GroupResource{Resource: "configmaps"}
	Secrets                = schema.GroupResource{Resource: "secrets"}
	ReplicationControllers = schema.GroupResource{Resource: "replicationcontrollers"}
	ResourceQuotas         = schema.GroupResource{Resource: "resourcequotas"}
)

// storageClassSuffix is what a per-storage-class quota name carries after the class name.
const storageClassSuffix = ".storageclass.storage.k8s.io/"

// legacyNames are the object-count names older than count/<resource>.
var legacyNames = map[schema.GroupResource]corev1.ResourceName{
	Pods:                   corev1.ResourcePods,
	Services:               corev1.ResourceServices,
	PersistentVolumeClaims: corev1.ResourcePersistentVolumeClaims,
	ConfigMaps:             corev1.ResourceConfigMaps,
	Secrets:                corev1.ResourceSecrets,
	ReplicationControllers: corev1.ResourceReplicationControllers,
	ResourceQuotas:         corev1.ResourceQuotas,
}

// CountName is the object-count resource name of gr: count/<resource>[.<group>].
func CountName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName("count/" + gr.Resource)
	}
	return corev1.ResourceName("count/" + gr.Resource + "." + gr.Group)
}

// ParseCountName returns the group resource a count/<resource>[.<group>] name counts.
func ParseCountName(name corev1.ResourceName) (schema.GroupResource, bool) {
	s, ok := strings.CutPrefix(string(name), "count/")
	if !ok || s == "" {
		return schema.GroupResource{}, false
	}
	res, group, _ := strings.Cut(s, ".")
	return schema.GroupResource{Group: group, Resource: res}, true
}

// podComputeNames are the names a pod's compute usage is reported under.
var podComputeNames = map[corev1.ResourceName]bool{
	corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true,
	corev1.ResourceRequestsCPU: true, corev1.ResourceRequestsMemory: true, corev1.ResourceRequestsEphemeralStorage: true,
	corev1.ResourceLimitsCPU: true, corev1.ResourceLimitsMemory: true, corev1.ResourceLimitsEphemeralStorage: true,
}

// isExtended reports whether name is an extended resource (domain-prefixed, outside kubernetes.io).
func isExtended(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.Contains(s, "kubernetes.io/") && !strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix)
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// MatchingResources returns the names among names that objects of gr consume, sorted.
func MatchingResources(gr schema.GroupResource, names []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range names {
		if matchesName(gr, n) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func matchesName(gr schema.GroupResource, n corev1.ResourceName) bool {
	if n == CountName(gr) || (legacyNames[gr] != "" && n == legacyNames[gr]) {
		return true
	}
	s := string(n)
	switch gr {
	case Pods:
		if podComputeNames[n] || isHugePages(n) {
			return true
		}
		if rest, ok := strings.CutPrefix(s, corev1.DefaultResourceRequestsPrefix); ok {
			return isExtended(corev1.ResourceName(rest)) || isHugePages(corev1.ResourceName(rest))
		}
	case Services:
		return n == corev1.ResourceServicesNodePorts || n == corev1.ResourceServicesLoadBalancers
	case PersistentVolumeClaims:
		if n == corev1.ResourceRequestsStorage {
			return true
		}
		if _, rest, ok := strings.Cut(s, storageClassSuffix); ok {
			return rest == string(corev1.ResourcePersistentVolumeClaims) || rest == string(corev1.ResourceRequestsStorage)
		}
	}
	return false
}

// Usage returns what obj, an object of gr, consumes.
func Usage(gr schema.GroupResource, obj runtime.Object, now time.Time) corev1.ResourceList {
	out := corev1.ResourceList{CountName(gr): *resource.NewQuantity(1, resource.DecimalSI)}
	switch o := obj.(type) {
	case *corev1.Pod:
		add(out, podUsage(o, now))
		return out
	case *corev1.Service:
		add(out, serviceUsage(o))
	case *corev1.PersistentVolumeClaim:
		add(out, pvcUsage(o))
	}
	if n := legacyNames[gr]; n != "" {
		out[n] = *resource.NewQuantity(1, resource.DecimalSI)
	}
	return out
}

// Counts reports whether a pod still consumes compute quota: it is not terminal and, if being deleted, its grace
// period has not run out (upstream QuotaV1Pod).
func Counts(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		end := pod.DeletionTimestamp.Add(time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second)
		if now.After(end) {
			return false
		}
	}
	return true
}

func podUsage(pod *corev1.Pod, now time.Time) corev1.ResourceList {
	out := corev1.ResourceList{}
	if !Counts(pod, now) {
		return out
	}
	out[corev1.ResourcePods] = *resource.NewQuantity(1, resource.DecimalSI)
	add(out, computeUsage(PodRequests(pod), PodLimits(pod)))
	return out
}

// computeUsage names requests and limits as quota does.
func computeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range requests {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			out[name] = q.DeepCopy()
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q.DeepCopy()
		default:
			if isHugePages(name) || isExtended(name) {
				out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q.DeepCopy()
			}
		}
	}
	for name, q := range limits {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			out[corev1.ResourceName("limits."+string(name))] = q.DeepCopy()
		}
	}
	return out
}

// PodRequests is the pod's effective requests: the containers' (and restartable init containers') sum, at least
// the largest init container's, plus overhead, with pod-level cpu/memory requests taking precedence.
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	return podAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
}

// PodLimits is PodRequests for limits.
func PodLimits(pod *corev1.Pod) corev1.ResourceList {
	return podAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
}

func podAggregate(pod *corev1.Pod, pick func(corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		add(sum, pick(c.Resources))
	}
	restartable, initMax := corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		var eff corev1.ResourceList
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(sum, pick(c.Resources))
			add(restartable, pick(c.Resources))
			eff = restartable
		} else {
			eff = corev1.ResourceList{}
			add(eff, pick(c.Resources))
			add(eff, restartable)
		}
		maxInto(initMax, eff)
	}
	maxInto(sum, initMax)
	if pod.Spec.Resources != nil {
		for name, q := range pick(*pod.Spec.Resources) {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				sum[name] = q.DeepCopy()
			}
		}
	}
	if pod.Spec.Overhead != nil {
		add(sum, pod.Spec.Overhead)
	}
	return sum
}

func serviceUsage(svc *corev1.Service) corev1.ResourceList {
	out := corev1.ResourceList{
		corev1.ResourceServicesLoadBalancers: {Format: resource.DecimalSI},
		corev1.ResourceServicesNodePorts:     {Format: resource.DecimalSI},
	}
	ports := int64(len(svc.Spec.Ports))
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
	case corev1.ServiceTypeLoadBalancer:
		if a := svc.Spec.AllocateLoadBalancerNodePorts; a != nil && !*a {
			n := int64(0)
			for _, p := range svc.Spec.Ports {
				if p.NodePort != 0 {
					n++
				}
			}
			ports = n
		}
		out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
		out[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(1, resource.DecimalSI)
	}
	return out
}

func pvcUsage(pvc *corev1.PersistentVolumeClaim) corev1.ResourceList {
	one := *resource.NewQuantity(1, resource.DecimalSI)
	out := corev1.ResourceList{}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	} else if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = c
	}
	if class != "" {
		out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourcePersistentVolumeClaims))] = one
	}
	storage, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if alloc, found := pvc.Status.AllocatedResources[corev1.ResourceStorage]; found && (!ok || alloc.Cmp(storage) > 0) {
		storage, ok = alloc, true
	}
	if ok {
		out[corev1.ResourceRequestsStorage] = storage.DeepCopy()
		if class != "" {
			out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourceRequestsStorage))] = storage.DeepCopy()
		}
	}
	return out
}

// add adds b into a.
func add(a, b corev1.ResourceList) {
	for name, q := range b {
		if cur, ok := a[name]; ok {
			cur.Add(q)
			a[name] = cur
		} else {
			a[name] = q.DeepCopy()
		}
	}
}

// maxInto keeps in a the larger of a's and b's value of each name.
func maxInto(a, b corev1.ResourceList) {
	for name, q := range b {
		if cur, ok := a[name]; !ok || q.Cmp(cur) > 0 {
			a[name] = q.DeepCopy()
		}
	}
}

// Add returns a + b.
func Add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	add(out, a)
	add(out, b)
	return out
}

// Mask returns the entries of l whose names are in names.
func Mask(l corev1.ResourceList, names []corev1.ResourceName) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, n := range names {
		if q, ok := l[n]; ok {
			out[n] = q.DeepCopy()
		}
	}
	return out
}

// Names returns the names of l, sorted.
func Names(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Equal reports whether a and b hold the same names with equal quantities.
func Equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for n, q := range a {
		if o, ok := b[n]; !ok || o.Cmp(q) != 0 {
			return false
		}
	}
	return true
}
