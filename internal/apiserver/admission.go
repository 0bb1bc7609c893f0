package apiserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func randInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(v.Int64()), nil
}

var namespacesGR = schema.GroupResource{Resource: "namespaces"}

// admitCreate runs the built-in admission steps kube-apiserver runs on create (namespace lifecycle, LimitRanger,
// service account, default toleration seconds, priority, ClusterIP and NodePort allocation); ResourceQuota
// (admitQuota) runs after validation.
func (s *APIServer) admitCreate(ctx context.Context, res *resource, obj runtime.Object) error {
	if err := s.admitRBAC(ctx, obj, nil); err != nil {
		return err
	}
	m := accessor(obj)
	if res.Namespaced {
		if err := s.checkNamespace(ctx, m.GetNamespace(), res.GroupResource(), m.GetName()); err != nil {
			return err
		}
	}
	if err := s.admitLimitRanger(obj); err != nil {
		return err
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if err := s.admitServiceAccount(ctx, o); err != nil {
			return err
		}
		if err := s.admitRuntimeClass(ctx, o); err != nil {
			return err
		}
		admitPod(o)
		return admitPodPriority(o, s.priorityClassLookup(ctx, false))
	case *schedulingv1.PriorityClass:
		return admitPriorityClass(o, false, s.priorityClassLookup(ctx, true))
	case *corev1.Service:
		return s.allocateService(ctx, o, nil)
	case *batchv1.Job:
		generateJobSelector(o)
	case *appsv1.DaemonSet:
		setTemplateGeneration(o, nil)
	}
	return nil
}

// setTemplateGeneration keeps a DaemonSet's deprecated.daemonset.template.generation annotation as kube-apiserver's
// strategy does: 1 on create; on update the old value, plus one when spec.template changed.
func setTemplateGeneration(ds, old *appsv1.DaemonSet) {
	gen := int64(1)
	if old != nil {
		gen, _ = strconv.ParseInt(old.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
		if !apiequality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
			gen++
		}
	}
	if gen > 0 {
		metav1.SetMetaDataAnnotation(&ds.ObjectMeta, appsv1.DeprecatedTemplateGeneration, strconv.FormatInt(gen, 10))
	}
}

// generateJobSelector gives a Job without manualSelector the controller-uid selector and labels kube-apiserver gives it.
func generateJobSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	uid := string(j.UID)
	lbls := map[string]string{
		"batch.kubernetes.io/controller-uid": uid,
		"batch.kubernetes.io/job-name":       j.Name,
		"controller-uid":                     uid,
		"job-name":                           j.Name,
	}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for k, v := range lbls {
		if _, ok := j.Spec.Template.Labels[k]; !ok {
			j.Spec.Template.Labels[k] = v
		}
	}
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": uid}}
}

// checkNamespace is the NamespaceLifecycle admission plugin for a create of gr objName in namespace name.
func (s *APIServer) checkNamespace(ctx context.Context, name string, gr schema.GroupResource, objName string) error {
	nsRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("namespaces")]
	var ns *corev1.Namespace
	if o := nsRes.cacher.Get(nsRes.keys.Key("", name)); o != nil {
		ns = o.(*corev1.Namespace)
	} else {
		o, err := s.store.Get(ctx, nsRes.keys.Key("", name), nsRes.New)
		if err != nil {
			if apierrors.IsNotFound(toAPIError(err, namespacesGR, name)) {
				return apierrors.NewNotFound(namespacesGR, name)
			}
			return err
		}
		ns = o.(*corev1.Namespace)
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		// As upstream: forbidden names the object being created, the cause the namespace.
		err := apierrors.NewForbidden(gr, objName, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", name))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", name), Field: "metadata.namespace",
		})
		return err
	}
	return nil
}

// admitPod applies the ServiceAccount and DefaultTolerationSeconds admission plugins and the pod's initial status
// (admitPodPriority is the Priority plugin).
func admitPod(p *corev1.Pod) {
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
	p.Spec.DeprecatedServiceAccount = p.Spec.ServiceAccountName
	defaultTolerationSeconds(p)
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qosClass(&p.Spec)}
}

// defaultTolerationSeconds is the DefaultTolerationSeconds admission plugin, on create and on update as upstream's:
// a pod tolerates the not-ready and unreachable NoExecute taints for 300 s unless it says otherwise.
func defaultTolerationSeconds(p *corev1.Pod) {
	addToleration := func(key string) {
		for _, t := range p.Spec.Tolerations {
			if (t.Key == key || t.Key == "" && t.Operator == corev1.TolerationOpExists) && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
				return
			}
		}
		secs := int64(300)
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs})
	}
	addToleration("node.kubernetes.io/not-ready")
	addToleration("node.kubernetes.io/unreachable")
}

// qosClass computes the pod's QoS class as Kubernetes does.
func qosClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	zeroQuantity := true
	guaranteed := true
	all := append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...)
	for _, c := range all {
		for name, q := range c.Resources.Requests {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if !q.IsZero() {
				zeroQuantity = false
				if cur, ok := requests[name]; ok {
					q.Add(cur)
				}
				requests[name] = q
			}
		}
		hasCPU, hasMem := false, false
		for name, q := range c.Resources.Limits {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if !q.IsZero() {
				zeroQuantity = false
				if name == corev1.ResourceCPU {
					hasCPU = true
				} else {
					hasMem = true
				}
				if cur, ok := limits[name]; ok {
					q.Add(cur)
				}
				limits[name] = q
			}
		}
		if !hasCPU || !hasMem {
			guaranteed = false
		}
	}
	if zeroQuantity {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func (s *APIServer) admitUpdate(ctx context.Context, res *resource, obj, old runtime.Object) error {
	if err := s.admitRBAC(ctx, obj, old); err != nil {
		return err
	}
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		setTemplateGeneration(o, old.(*appsv1.DaemonSet))
	case *schedulingv1.PriorityClass:
		return admitPriorityClass(o, true, s.priorityClassLookup(ctx, true))
	case *corev1.Service:
		dropTypeDependentFields(o, old.(*corev1.Service))
		return s.allocateService(ctx, o, old.(*corev1.Service))
	case *corev1.Pod:
		op := old.(*corev1.Pod)
		defaultTolerationSeconds(o)
		// Fields set by admission are not the user's to drop on update.
		if o.Spec.ServiceAccountName == "" {
			o.Spec.ServiceAccountName = op.Spec.ServiceAccountName
			o.Spec.DeprecatedServiceAccount = op.Spec.DeprecatedServiceAccount
		}
		if o.Spec.Priority == nil {
			o.Spec.Priority = op.Spec.Priority
		}
		if o.Spec.PreemptionPolicy == nil {
			o.Spec.PreemptionPolicy = op.Spec.PreemptionPolicy
		}
		if o.Spec.NodeName == "" {
			o.Spec.NodeName = op.Spec.NodeName
		}
	}
	return nil
}

// externallyAccessible reports whether the Service is reachable from outside the cluster (Kubernetes' serviceutil).
func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

// dropTypeDependentFields clears, on a type change, the fields the old type had that the new one may not have, when
// the update left them as they were (Kubernetes' service strategy); allocateService handles the NodePorts.
func dropTypeDependentFields(svc, old *corev1.Service) {
	if needsClusterIP(old) && !needsClusterIP(svc) && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		// Released by allocateService's caller once the update commits.
		if svc.Spec.ClusterIP == old.Spec.ClusterIP && slices.Equal(svc.Spec.ClusterIPs, old.Spec.ClusterIPs) {
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
		}
		if slices.Equal(svc.Spec.IPFamilies, old.Spec.IPFamilies) {
			svc.Spec.IPFamilies = nil
		}
		if ptrEqual(svc.Spec.IPFamilyPolicy, old.Spec.IPFamilyPolicy) {
			svc.Spec.IPFamilyPolicy = nil
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName && ptrEqual(svc.Spec.InternalTrafficPolicy, old.Spec.InternalTrafficPolicy) {
		svc.Spec.InternalTrafficPolicy = nil
	}
	if old.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		if a, b := svc.Spec.AllocateLoadBalancerNodePorts, old.Spec.AllocateLoadBalancerNodePorts; a != nil && b != nil && *a == *b {
			svc.Spec.AllocateLoadBalancerNodePorts = nil
		}
		if a, b := svc.Spec.LoadBalancerClass, old.Spec.LoadBalancerClass; a != nil && b != nil && *a == *b {
			svc.Spec.LoadBalancerClass = nil
		}
	}
	if externallyAccessible(old) && !externallyAccessible(svc) && svc.Spec.ExternalTrafficPolicy == old.Spec.ExternalTrafficPolicy {
		svc.Spec.ExternalTrafficPolicy = ""
	}
	if old.Spec.HealthCheckNodePort != 0 && svc.Spec.HealthCheckNodePort == old.Spec.HealthCheckNodePort &&
		!(svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal) {
		svc.Spec.HealthCheckNodePort = 0
	}
}

func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

func needsNodePorts(svc *corev1.Service) bool {
	if svc.Spec.Type == corev1.ServiceTypeNodePort {
		return true
	}
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && (svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts)
}

func ptrEqual[T comparable](a, b *T) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

// allocateService assigns the ClusterIP and NodePorts of a new or changed Service; old is nil on create.
func (s *APIServer) allocateService(ctx context.Context, svc *corev1.Service, old *corev1.Service) error {
	gk := schema.GroupKind{Kind: "Service"}
	fp := field.NewPath("spec")
	if old != nil {
		if svc.Spec.ClusterIP == "" && old.Spec.ClusterIP != "" && needsClusterIP(svc) && needsClusterIP(old) {
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
		}
		// Ports keep their NodePort across updates that leave it unset, as kube-apiserver does.
		if needsNodePorts(svc) {
			for i := range svc.Spec.Ports {
				p := &svc.Spec.Ports[i]
				if p.NodePort != 0 {
					continue
				}
				for _, op := range old.Spec.Ports {
					if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 {
						p.NodePort = op.NodePort
					}
				}
			}
		}
	}
	oldIP := ""
	oldPorts := map[int32]bool{}
	if old != nil {
		oldIP = old.Spec.ClusterIP
		for _, p := range old.Spec.Ports {
			if p.NodePort != 0 {
				oldPorts[p.NodePort] = true
			}
		}
	}
	if needsClusterIP(svc) && (old == nil || svc.Spec.ClusterIP != oldIP || !needsClusterIP(old)) {
		if svc.Spec.ClusterIP == "" {
			ip, err := s.ipAlloc.AllocateNext(ctx)
			if err != nil {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %v", err))
			}
			svc.Spec.ClusterIP = ip.String()
		} else {
			ip := net.ParseIP(svc.Spec.ClusterIP)
			if ip == nil {
				return apierrors.NewInvalid(gk, svc.Name, field.ErrorList{field.Invalid(fp.Child("clusterIP"), svc.Spec.ClusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")})
			}
			isKubernetes := svc.Namespace == "default" && svc.Name == "kubernetes" && ip.Equal(s.ipAlloc.First())
			if err := s.ipAlloc.Allocate(ctx, ip, isKubernetes); err != nil && !(isKubernetes && errors.Is(err, errIPAllocated)) {
				if !isRangeError(err) {
					return apierrors.NewInternalError(fmt.Errorf("failed to allocate IP %s: %v", svc.Spec.ClusterIP, err))
				}
				return apierrors.NewInvalid(gk, svc.Name, field.ErrorList{field.Invalid(fp.Child("clusterIPs"), goSyntax{[]string{svc.Spec.ClusterIP}}, fmt.Sprintf("failed to allocate IP %s: %v", svc.Spec.ClusterIP, err))})
			}
		}
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if needsClusterIP(svc) && len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	}
	if needsNodePorts(svc) {
		seen := map[int32]bool{}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			switch {
			case p.NodePort == 0:
				port, err := s.portAlloc.AllocateNext(ctx)
				if err != nil {
					return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %v", err))
				}
				p.NodePort = int32(port)
			case oldPorts[p.NodePort] || seen[p.NodePort]:
				// Already ours (or shared by two protocols of this Service).
			default:
				if err := s.portAlloc.Allocate(ctx, int(p.NodePort)); err != nil {
					if !isRangeError(err) {
						return apierrors.NewInternalError(fmt.Errorf("failed to allocate port %d: %v", p.NodePort, err))
					}
					return apierrors.NewInvalid(gk, svc.Name, field.ErrorList{field.Invalid(fp.Child("ports").Index(i).Child("nodePort"), p.NodePort, err.Error())})
				}
			}
			seen[p.NodePort] = true
		}
	} else {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
	return nil
}

// goSyntax renders a field error's value as Kubernetes 1.32 does (Go syntax, []string{"10.43.0.5"}), not as
// newer apimachinery does (JSON): its JSON form fails, so field.Error falls back to String.
type goSyntax struct{ v any }

var errGoSyntax = errors.New("rendered as Go syntax")

// MarshalJSON fails on purpose (see goSyntax).
func (g goSyntax) MarshalJSON() ([]byte, error) { return nil, errGoSyntax }

// String returns the value in Go syntax.
func (g goSyntax) String() string { return fmt.Sprintf("%#v", g.v) }

// isRangeError reports whether err is the client's (a taken or out-of-range value) rather than storage's.
func isRangeError(err error) bool {
	return errors.Is(err, errIPAllocated) || errors.Is(err, errPortAllocated) || strings.Contains(err.Error(), "not in the valid range")
}

// releaseAllocations frees what allocateService reserved for obj beyond what old holds (old nil: all of it).
// A release that fails leaves a leak, which the repair loop frees.
func (s *APIServer) releaseAllocations(ctx context.Context, res *resource, obj, old runtime.Object) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	var o *corev1.Service
	if old != nil {
		o, _ = old.(*corev1.Service)
	}
	ctx = context.WithoutCancel(ctx)
	if o == nil || o.Spec.ClusterIP != svc.Spec.ClusterIP {
		if ip := net.ParseIP(svc.Spec.ClusterIP); ip != nil && !(svc.Name == "kubernetes" && svc.Namespace == "default") {
			if err := s.ipAlloc.Release(ctx, ip); err != nil {
				s.log.Warn("apiserver: releasing a ClusterIP failed; the repair loop will free it", "ip", ip, "err", err)
			}
		}
	}
	keep := map[int32]bool{}
	if o != nil {
		for _, p := range o.Spec.Ports {
			keep[p.NodePort] = true
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 && !keep[p.NodePort] {
			if err := s.portAlloc.Release(ctx, int(p.NodePort)); err != nil {
				s.log.Warn("apiserver: releasing a NodePort failed; the repair loop will free it", "port", p.NodePort, "err", err)
			}
		}
	}
}

// afterDelete frees what a deleted object held.
func (s *APIServer) afterDelete(ctx context.Context, res *resource, obj runtime.Object) {
	s.releaseAllocations(ctx, res, obj, nil)
}

// afterUpdate frees what old held and the committed obj no longer does (a Service that dropped its ClusterIP or
// NodePorts).
func (s *APIServer) afterUpdate(ctx context.Context, res *resource, obj, old runtime.Object) {
	if old == nil {
		return
	}
	if _, ok := obj.(*corev1.Service); ok {
		s.releaseAllocations(ctx, res, old, obj)
	}
}
