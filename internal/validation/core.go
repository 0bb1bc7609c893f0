package validation

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxSecretSize is the limit on the data of a Secret or ConfigMap.
const maxSecretSize = 1 * 1024 * 1024

// Namespace

func validateNamespace(ns *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMeta(&ns.ObjectMeta, false, nameIsDNSLabel, field.NewPath("metadata"))
	for i := range ns.Spec.Finalizers {
		allErrs = append(allErrs, validateFinalizerName(string(ns.Spec.Finalizers[i]), field.NewPath("spec", "finalizers"))...)
	}
	return allErrs
}

func validateFinalizerName(stringValue string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsQualifiedName(stringValue) {
		allErrs = append(allErrs, field.Invalid(fldPath, stringValue, msg))
	}
	return append(allErrs, validateKubeFinalizerName(stringValue, fldPath)...)
}

// validateNamespaceUpdate: spec and status are owned by the finalize and
// status subresources and are reset by the strategy, not validated.
func validateNamespaceUpdate(ns, old *corev1.Namespace) field.ErrorList {
	return validateObjectMetaUpdate(&ns.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
}

func validateNamespaceStatusUpdate(ns, old *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ns.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			allErrs = append(allErrs, field.Invalid(field.NewPath("status", "Phase"), ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		allErrs = append(allErrs, field.Invalid(field.NewPath("status", "Phase"), ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
	}
	return allErrs
}

// Node

func validateNode(node *corev1.Node) field.ErrorList {
	fldPath := field.NewPath("metadata")
	allErrs := validateObjectMeta(&node.ObjectMeta, false, nameIsDNSSubdomain, fldPath)
	allErrs = append(allErrs, validateNodeTaints(node.Spec.Taints, field.NewPath("spec", "taints"))...)
	allErrs = append(allErrs, validateNodeResources(node)...)
	if len(node.Spec.PodCIDRs) > 0 {
		podCIDRsField := field.NewPath("spec", "podCIDRs")
		for idx, value := range node.Spec.PodCIDRs {
			allErrs = append(allErrs, validation.IsValidCIDRForLegacyField(podCIDRsField.Index(idx), value, false, nil)...)
		}
		if len(node.Spec.PodCIDRs) > 1 {
			if !isDualStackCIDRs(node.Spec.PodCIDRs) || len(node.Spec.PodCIDRs) > 2 {
				allErrs = append(allErrs, field.Invalid(podCIDRsField, node.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
			}
			seen := sets.Set[string]{}
			for i, value := range node.Spec.PodCIDRs {
				if seen.Has(value) {
					allErrs = append(allErrs, field.Duplicate(podCIDRsField.Index(i), value))
				}
				seen.Insert(value)
			}
		}
	}
	return allErrs
}

func validateNodeTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	uniqueTaints := map[corev1.TaintEffect]sets.Set[string]{}
	for i, currTaint := range taints {
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, metav1validation.ValidateLabelName(currTaint.Key, idxPath.Child("key"))...)
		if errs := validation.IsValidLabelValue(currTaint.Value); len(errs) != 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("value"), currTaint.Value, strings.Join(errs, ";")))
		}
		allErrs = append(allErrs, validateTaintEffect(currTaint.Effect, false, idxPath.Child("effect"))...)
		if uniqueTaints[currTaint.Effect].Has(currTaint.Key) {
			dup := field.Duplicate(idxPath, currTaint)
			dup.Detail = "taints must be unique by key and effect pair"
			allErrs = append(allErrs, dup)
			continue
		}
		if uniqueTaints[currTaint.Effect] == nil {
			uniqueTaints[currTaint.Effect] = sets.Set[string]{}
		}
		uniqueTaints[currTaint.Effect].Insert(currTaint.Key)
	}
	return allErrs
}

func validateNodeResources(node *corev1.Node) field.ErrorList {
	var allErrs field.ErrorList
	check := func(list corev1.ResourceList, p *field.Path) {
		for _, k := range sortedKeys(list) {
			kp := p.Key(string(k))
			allErrs = append(allErrs, validateResourceName(k, kp)...)
			allErrs = append(allErrs, validateResourceQuantityValue(k, list[k], kp)...)
		}
	}
	check(node.Status.Capacity, field.NewPath("status", "capacity"))
	check(node.Status.Allocatable, field.NewPath("status", "allocatable"))
	return allErrs
}

func validateNodeUpdate(node, old *corev1.Node) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&node.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeResources(node)...)
	addresses := map[corev1.NodeAddress]bool{}
	for i, address := range node.Status.Addresses {
		if addresses[address] {
			allErrs = append(allErrs, field.Duplicate(field.NewPath("status", "addresses").Index(i), address))
		}
		addresses[address] = true
	}
	// podCIDRs may only go from unset to set.
	if len(old.Spec.PodCIDRs) > 0 {
		changed := len(old.Spec.PodCIDRs) != len(node.Spec.PodCIDRs)
		for i := 0; !changed && i < len(old.Spec.PodCIDRs); i++ {
			changed = old.Spec.PodCIDRs[i] != node.Spec.PodCIDRs[i]
		}
		if changed {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
		}
	}
	if old.Spec.ProviderID != "" && old.Spec.ProviderID != node.Spec.ProviderID {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	if node.Spec.DoNotUseExternalID != old.Spec.DoNotUseExternalID {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	allErrs = append(allErrs, validateNodeTaints(node.Spec.Taints, field.NewPath("spec", "taints"))...)
	return allErrs
}

// Service

var (
	supportedSessionAffinityType   = sets.New(corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)
	supportedServiceType           = sets.New(corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName)
	supportedServiceIPFamily       = sets.New(corev1.IPv4Protocol, corev1.IPv6Protocol)
	supportedServiceIPFamilyPolicy = sets.New(corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack)
	supportedServiceInternalPolicy = sets.New(corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)
	validExternalTrafficPolicies   = sets.New(corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)
	supportedLoadBalancerIPMode    = sets.New(corev1.LoadBalancerIPModeVIP, corev1.LoadBalancerIPModeProxy)
)

const maxClientIPServiceAffinitySeconds = 86400

// normalizeService fills spec.clusterIPs from spec.clusterIP when only the
// latter is given, as kube-apiserver's service REST does before validation.
func normalizeService(svc *corev1.Service) *corev1.Service {
	if len(svc.Spec.ClusterIPs) != 0 || svc.Spec.ClusterIP == "" {
		return svc
	}
	c := svc.DeepCopy()
	c.Spec.ClusterIPs = []string{c.Spec.ClusterIP}
	return c
}

func isHeadlessService(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer ||
		svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func needsHealthCheck(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

func validateService(service *corev1.Service) field.ErrorList {
	service = normalizeService(service)
	metaPath := field.NewPath("metadata")
	allErrs := validateObjectMeta(&service.ObjectMeta, true, nameIsDNS1035Label, metaPath)

	hintsVal, hintsSet := service.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]
	modeVal, modeSet := service.Annotations[corev1.AnnotationTopologyMode]
	if hintsSet && modeSet && hintsVal != modeVal {
		allErrs = append(allErrs, field.Invalid(metaPath.Child("annotations").Key(corev1.AnnotationTopologyMode), modeVal,
			fmt.Sprintf("must match annotations[%s] when both are specified", corev1.DeprecatedAnnotationTopologyAwareHints)))
	}

	specPath := field.NewPath("spec")
	if len(service.Spec.Ports) == 0 && !isHeadlessService(service) && service.Spec.Type != corev1.ServiceTypeExternalName {
		allErrs = append(allErrs, field.Required(specPath.Child("ports"), ""))
	}
	switch service.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		if len(service.Spec.ClusterIPs) > 0 && service.Spec.ClusterIPs[0] == corev1.ClusterIPNone {
			allErrs = append(allErrs, field.Invalid(specPath.Child("clusterIPs").Index(0), service.Spec.ClusterIPs[0], "may not be set to 'None' for LoadBalancer services"))
		}
	case corev1.ServiceTypeNodePort:
		if len(service.Spec.ClusterIPs) > 0 && service.Spec.ClusterIPs[0] == corev1.ClusterIPNone {
			allErrs = append(allErrs, field.Invalid(specPath.Child("clusterIPs").Index(0), service.Spec.ClusterIPs[0], "may not be set to 'None' for NodePort services"))
		}
	case corev1.ServiceTypeExternalName:
		if len(service.Spec.ClusterIPs) > 0 {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(service.Spec.IPFamilies) > 0 {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if service.Spec.IPFamilyPolicy != nil {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		// The CNAME may end with a dot to mark it fully qualified.
		cname := strings.TrimSuffix(service.Spec.ExternalName, ".")
		if len(cname) > 0 {
			allErrs = append(allErrs, validateDNS1123Subdomain(cname, specPath.Child("externalName"))...)
		} else {
			allErrs = append(allErrs, field.Required(specPath.Child("externalName"), ""))
		}
	}

	allPortNames := sets.Set[string]{}
	portsPath := specPath.Child("ports")
	for i := range service.Spec.Ports {
		allErrs = append(allErrs, validateServicePort(&service.Spec.Ports[i], len(service.Spec.Ports) > 1, allPortNames, portsPath.Index(i))...)
	}

	if service.Spec.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabels(service.Spec.Selector, specPath.Child("selector"))...)
	}

	if len(service.Spec.SessionAffinity) == 0 {
		allErrs = append(allErrs, field.Required(specPath.Child("sessionAffinity"), ""))
	} else if !supportedSessionAffinityType.Has(service.Spec.SessionAffinity) {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("sessionAffinity"), service.Spec.SessionAffinity, sets.List(supportedSessionAffinityType)))
	}
	if service.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		allErrs = append(allErrs, validateClientIPAffinityConfig(service.Spec.SessionAffinityConfig, specPath.Child("sessionAffinityConfig"))...)
	} else if service.Spec.SessionAffinity == corev1.ServiceAffinityNone && service.Spec.SessionAffinityConfig != nil {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("sessionAffinityConfig"), fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone)))
	}

	allErrs = append(allErrs, validateServiceClusterIPsRelatedFields(service)...)

	ipPath := specPath.Child("externalIPs")
	for i, ip := range service.Spec.ExternalIPs {
		idxPath := ipPath.Index(i)
		if errs := validation.IsValidIPForLegacyField(idxPath, ip, false, nil); len(errs) != 0 {
			allErrs = append(allErrs, errs...)
		} else {
			allErrs = append(allErrs, validateNonSpecialIP(ip, idxPath)...)
		}
	}

	if len(service.Spec.Type) == 0 {
		allErrs = append(allErrs, field.Required(specPath.Child("type"), ""))
	} else if !supportedServiceType.Has(service.Spec.Type) {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("type"), service.Spec.Type, sets.List(supportedServiceType)))
	}

	if service.Spec.Type == corev1.ServiceTypeClusterIP {
		for i := range service.Spec.Ports {
			if service.Spec.Ports[i].NodePort != 0 {
				allErrs = append(allErrs, field.Forbidden(portsPath.Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}

	// Duplicate node ports and ports, by (protocol, port).
	nodePorts := map[corev1.ServicePort]bool{}
	for i := range service.Spec.Ports {
		port := &service.Spec.Ports[i]
		if port.NodePort == 0 {
			continue
		}
		key := corev1.ServicePort{Protocol: port.Protocol, NodePort: port.NodePort}
		if nodePorts[key] {
			allErrs = append(allErrs, field.Duplicate(portsPath.Index(i).Child("nodePort"), port.NodePort))
		}
		nodePorts[key] = true
	}
	ports := map[corev1.ServicePort]bool{}
	for i, port := range service.Spec.Ports {
		key := corev1.ServicePort{Protocol: port.Protocol, Port: port.Port}
		if ports[key] {
			allErrs = append(allErrs, field.Duplicate(portsPath.Index(i), key))
		}
		ports[key] = true
	}

	if len(service.Spec.LoadBalancerSourceRanges) > 0 {
		rangesPath := specPath.Child("loadBalancerSourceRanges")
		if service.Spec.Type != corev1.ServiceTypeLoadBalancer {
			allErrs = append(allErrs, field.Forbidden(rangesPath, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, value := range service.Spec.LoadBalancerSourceRanges {
			if errs := validation.IsValidCIDRForLegacyField(rangesPath.Index(i), strings.TrimSpace(value), false, nil); len(errs) > 0 {
				allErrs = append(allErrs, field.Invalid(rangesPath.Index(i), value, "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "))
			}
		}
	}

	allErrs = append(allErrs, validateServiceExternalTrafficPolicy(service)...)
	allErrs = append(allErrs, validateServiceInternalTrafficPolicy(service)...)
	allErrs = append(allErrs, validateLoadBalancerClassField(nil, service)...)
	if service.Spec.TrafficDistribution != nil && *service.Spec.TrafficDistribution != corev1.ServiceTrafficDistributionPreferClose {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("trafficDistribution"), *service.Spec.TrafficDistribution,
			[]string{corev1.ServiceTrafficDistributionPreferClose}))
	}
	return allErrs
}

func validateServicePort(sp *corev1.ServicePort, requireName bool, allNames sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if requireName && len(sp.Name) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else if len(sp.Name) != 0 {
		allErrs = append(allErrs, validateDNS1123Label(sp.Name, fldPath.Child("name"))...)
		if allNames.Has(sp.Name) {
			allErrs = append(allErrs, field.Duplicate(fldPath.Child("name"), sp.Name))
		} else {
			allNames.Insert(sp.Name)
		}
	}
	for _, msg := range validation.IsValidPortNum(int(sp.Port)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), sp.Port, msg))
	}
	if len(sp.Protocol) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("protocol"), ""))
	} else if !supportedPortProtocols.Has(sp.Protocol) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("protocol"), sp.Protocol, sets.List(supportedPortProtocols)))
	}
	allErrs = append(allErrs, validatePortNumOrName(sp.TargetPort, fldPath.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		allErrs = append(allErrs, validateQualifiedName(*sp.AppProtocol, fldPath.Child("appProtocol"))...)
	}
	if sp.NodePort != 0 {
		// The node port range itself is enforced by the allocator.
		for _, msg := range validation.IsValidPortNum(int(sp.NodePort)) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nodePort"), sp.NodePort, msg))
		}
	}
	return allErrs
}

func validateClientIPAffinityConfig(config *corev1.SessionAffinityConfig, fldPath *field.Path) field.ErrorList {
	detail := fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP)
	if config == nil {
		return field.ErrorList{field.Required(fldPath, detail)}
	}
	if config.ClientIP == nil {
		return field.ErrorList{field.Required(fldPath.Child("clientIP"), detail)}
	}
	if config.ClientIP.TimeoutSeconds == nil {
		return field.ErrorList{field.Required(fldPath.Child("clientIP").Child("timeoutSeconds"), detail)}
	}
	timeout := config.ClientIP.TimeoutSeconds
	if *timeout <= 0 || *timeout > maxClientIPServiceAffinitySeconds {
		return field.ErrorList{field.Invalid(fldPath.Child("clientIP").Child("timeoutSeconds"), timeout,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPServiceAffinitySeconds))}
	}
	return nil
}

func validateServiceClusterIPsRelatedFields(service *corev1.Service) field.ErrorList {
	// ExternalName services had these checked (all must be unset) above.
	if service.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	var allErrs field.ErrorList
	hasInvalidIPs := false
	specPath := field.NewPath("spec")
	clusterIPsField := specPath.Child("clusterIPs")
	ipFamiliesField := specPath.Child("ipFamilies")
	ipFamilyPolicyField := specPath.Child("ipFamilyPolicy")

	if len(service.Spec.ClusterIP) != 0 {
		if len(service.Spec.ClusterIPs) == 0 {
			allErrs = append(allErrs, field.Required(clusterIPsField, ""))
		} else if service.Spec.ClusterIPs[0] != service.Spec.ClusterIP {
			allErrs = append(allErrs, field.Invalid(clusterIPsField, service.Spec.ClusterIPs, "first value must match `clusterIP`"))
		}
	} else if len(service.Spec.ClusterIPs) != 0 {
		allErrs = append(allErrs, field.Invalid(clusterIPsField, service.Spec.ClusterIPs, "must be empty when `clusterIP` is not specified"))
	}

	seen := sets.Set[corev1.IPFamily]{}
	for i, ipFamily := range service.Spec.IPFamilies {
		if !supportedServiceIPFamily.Has(ipFamily) {
			allErrs = append(allErrs, field.NotSupported(ipFamiliesField.Index(i), ipFamily, sets.List(supportedServiceIPFamily)))
		}
		if seen.Has(ipFamily) {
			allErrs = append(allErrs, field.Duplicate(ipFamiliesField.Index(i), ipFamily))
		}
		seen.Insert(ipFamily)
	}
	if service.Spec.IPFamilyPolicy != nil && !supportedServiceIPFamilyPolicy.Has(*service.Spec.IPFamilyPolicy) {
		allErrs = append(allErrs, field.NotSupported(ipFamilyPolicyField, *service.Spec.IPFamilyPolicy, sets.List(supportedServiceIPFamilyPolicy)))
	}

	for i, clusterIP := range service.Spec.ClusterIPs {
		if i == 0 && clusterIP == corev1.ClusterIPNone {
			if len(service.Spec.ClusterIPs) > 1 {
				hasInvalidIPs = true
				allErrs = append(allErrs, field.Invalid(clusterIPsField, service.Spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		errs := validation.IsValidIPForLegacyField(clusterIPsField.Index(i), clusterIP, false, nil)
		hasInvalidIPs = hasInvalidIPs || len(errs) != 0
		allErrs = append(allErrs, errs...)
	}
	if len(service.Spec.ClusterIPs) > 2 {
		allErrs = append(allErrs, field.Invalid(clusterIPsField, service.Spec.ClusterIPs, "may only hold up to 2 values"))
	}
	// Bad IPs would skew the family checks below.
	if hasInvalidIPs {
		return allErrs
	}
	if len(service.Spec.ClusterIPs) > 1 && !isDualStack(service.Spec.ClusterIPs) {
		allErrs = append(allErrs, field.Invalid(clusterIPsField, service.Spec.ClusterIPs, "may specify no more than one IP for each IP family"))
	}
	if !isHeadlessService(service) && len(service.Spec.ClusterIPs) > 0 && len(service.Spec.IPFamilies) > 0 {
		for i, ip := range service.Spec.ClusterIPs {
			if i > len(service.Spec.IPFamilies)-1 {
				break
			}
			if service.Spec.IPFamilies[i] == corev1.IPv4Protocol && isIPv6String(ip) {
				allErrs = append(allErrs, field.Invalid(clusterIPsField.Index(i), ip, fmt.Sprintf("expected an IPv4 value as indicated by `ipFamilies[%v]`", i)))
			}
			if service.Spec.IPFamilies[i] == corev1.IPv6Protocol && !isIPv6String(ip) {
				allErrs = append(allErrs, field.Invalid(clusterIPsField.Index(i), ip, fmt.Sprintf("expected an IPv6 value as indicated by `ipFamilies[%v]`", i)))
			}
		}
	}
	return allErrs
}

func validateServiceExternalTrafficPolicy(service *corev1.Service) field.ErrorList {
	var allErrs field.ErrorList
	fldPath := field.NewPath("spec")
	if !externallyAccessible(service) {
		if service.Spec.ExternalTrafficPolicy != "" {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("externalTrafficPolicy"), service.Spec.ExternalTrafficPolicy,
				"may only be set for externally-accessible services"))
		}
	} else if service.Spec.ExternalTrafficPolicy == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("externalTrafficPolicy"), ""))
	} else if !validExternalTrafficPolicies.Has(service.Spec.ExternalTrafficPolicy) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("externalTrafficPolicy"), service.Spec.ExternalTrafficPolicy, sets.List(validExternalTrafficPolicies)))
	}
	if !needsHealthCheck(service) {
		if service.Spec.HealthCheckNodePort != 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("healthCheckNodePort"), service.Spec.HealthCheckNodePort,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	} else if service.Spec.HealthCheckNodePort != 0 {
		// A zero value is left for the node port allocator to fill.
		for _, msg := range validation.IsValidPortNum(int(service.Spec.HealthCheckNodePort)) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("healthCheckNodePort"), service.Spec.HealthCheckNodePort, msg))
		}
	}
	return allErrs
}

func validateServiceInternalTrafficPolicy(service *corev1.Service) field.ErrorList {
	p := field.NewPath("spec").Child("internalTrafficPolicy")
	if service.Spec.InternalTrafficPolicy == nil {
		// Not required for ExternalName, for backward compatibility.
		if service.Spec.Type == corev1.ServiceTypeNodePort || service.Spec.Type == corev1.ServiceTypeLoadBalancer || service.Spec.Type == corev1.ServiceTypeClusterIP {
			return field.ErrorList{field.Required(p, "")}
		}
		return nil
	}
	if !supportedServiceInternalPolicy.Has(*service.Spec.InternalTrafficPolicy) {
		return field.ErrorList{field.NotSupported(p, *service.Spec.InternalTrafficPolicy, sets.List(supportedServiceInternalPolicy))}
	}
	return nil
}

func validateLoadBalancerClassField(oldService, service *corev1.Service) field.ErrorList {
	var allErrs field.ErrorList
	p := field.NewPath("spec", "loadBalancerClass")
	isLB := func(s *corev1.Service) bool { return s.Spec.Type == corev1.ServiceTypeLoadBalancer }
	if oldService != nil && isLB(oldService) && isLB(service) &&
		!reflect.DeepEqual(oldService.Spec.LoadBalancerClass, service.Spec.LoadBalancerClass) {
		allErrs = append(allErrs, field.Invalid(p, service.Spec.LoadBalancerClass, "may not change once set"))
	}
	if isLB(service) {
		if service.Spec.LoadBalancerClass != nil {
			allErrs = append(allErrs, validateQualifiedName(*service.Spec.LoadBalancerClass, p)...)
		}
	} else if service.Spec.LoadBalancerClass != nil {
		allErrs = append(allErrs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
	}
	return allErrs
}

// validateNonSpecialIP rejects addresses that make no sense as endpoints or
// external IPs: unspecified, loopback and link-local.
func validateNonSpecialIP(ipAddress string, fldPath *field.Path) field.ErrorList {
	ip := parseIPSloppy(ipAddress)
	if ip == nil {
		return field.ErrorList{field.Invalid(fldPath, ipAddress, "must be a valid IP address")}
	}
	var allErrs field.ErrorList
	if ip.IsUnspecified() {
		allErrs = append(allErrs, field.Invalid(fldPath, ipAddress, fmt.Sprintf("may not be unspecified (%v)", ipAddress)))
	}
	if ip.IsLoopback() {
		allErrs = append(allErrs, field.Invalid(fldPath, ipAddress, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		allErrs = append(allErrs, field.Invalid(fldPath, ipAddress, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		allErrs = append(allErrs, field.Invalid(fldPath, ipAddress, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return allErrs
}

func validateServiceUpdate(service, oldService *corev1.Service) field.ErrorList {
	service = normalizeService(service)
	oldService = normalizeService(oldService)
	allErrs := validateObjectMetaUpdate(&service.ObjectMeta, &oldService.ObjectMeta, field.NewPath("metadata"))

	// spec.clusterIP is immutable except when moving to or from
	// ExternalName. kube-apiserver 1.32 reports this through the clusterIPs
	// check below; the spec.clusterIP error is kept for clients that look
	// for "field is immutable".
	if service.Spec.Type != corev1.ServiceTypeExternalName && oldService.Spec.Type != corev1.ServiceTypeExternalName {
		allErrs = append(allErrs, immutableField(service.Spec.ClusterIP, oldService.Spec.ClusterIP, field.NewPath("spec", "clusterIP"))...)
	}
	allErrs = append(allErrs, validateUpgradeDowngradeClusterIPs(oldService, service)...)
	allErrs = append(allErrs, validateUpgradeDowngradeIPFamilies(oldService, service)...)
	allErrs = append(allErrs, validateLoadBalancerClassField(oldService, service)...)
	return append(allErrs, validateService(service)...)
}

func validateUpgradeDowngradeClusterIPs(oldService, service *corev1.Service) field.ErrorList {
	if service.Spec.Type == corev1.ServiceTypeExternalName || oldService.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadlessService(oldService) && isHeadlessService(service) {
		return nil
	}
	var allErrs field.ErrorList
	p := field.NewPath("spec", "clusterIPs")
	oldIPs, newIPs := oldService.Spec.ClusterIPs, service.Spec.ClusterIPs
	switch {
	case len(oldIPs) == len(newIPs):
		for i, ip := range oldIPs {
			if ip != newIPs[i] {
				allErrs = append(allErrs, field.Invalid(p.Index(i), newIPs, "may not change once set"))
			}
		}
	case len(oldIPs) > len(newIPs):
		if len(newIPs) == 0 {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "primary clusterIP can not be unset"))
		}
		if len(oldIPs) > 0 && len(newIPs) > 0 && newIPs[0] != oldIPs[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
		if len(newIPs) == 1 && (service.Spec.IPFamilyPolicy == nil || *service.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"))
		}
	default:
		if len(oldIPs) > 0 && newIPs[0] != oldIPs[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
	}
	return allErrs
}

func validateUpgradeDowngradeIPFamilies(oldService, service *corev1.Service) field.ErrorList {
	if service.Spec.Type == corev1.ServiceTypeExternalName || oldService.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadlessService(oldService) && isHeadlessService(service) {
		return nil
	}
	var allErrs field.ErrorList
	p := field.NewPath("spec", "ipFamilies")
	oldF, newF := oldService.Spec.IPFamilies, service.Spec.IPFamilies
	switch {
	case len(oldF) == len(newF):
		for i, f := range oldF {
			if f != newF[i] {
				allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "may not change once set"))
			}
		}
	case len(oldF) > len(newF):
		if len(newF) == 0 {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "primary ipFamily can not be unset"))
		}
		if len(oldF) > 0 && len(newF) > 0 && newF[0] != oldF[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "may not change once set"))
		}
		if len(newF) == 1 && (service.Spec.IPFamilyPolicy == nil || *service.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
			allErrs = append(allErrs, field.Invalid(p, newF, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary ipFamily"))
		}
	default:
		if len(oldF) > 0 && newF[0] != oldF[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "may not change once set"))
		}
	}
	return allErrs
}

func validateServiceStatusUpdate(service, oldService *corev1.Service) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&service.ObjectMeta, &oldService.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status", "loadBalancer")
	ingrPath := fldPath.Child("ingress")
	if service.Spec.Type != corev1.ServiceTypeLoadBalancer && len(service.Status.LoadBalancer.Ingress) != 0 {
		return append(allErrs, field.Forbidden(ingrPath, "may only be used when `spec.type` is 'LoadBalancer'"))
	}
	for i, ingress := range service.Status.LoadBalancer.Ingress {
		idxPath := ingrPath.Index(i)
		if len(ingress.IP) > 0 {
			allErrs = append(allErrs, validation.IsValidIPForLegacyField(idxPath.Child("ip"), ingress.IP, false, nil)...)
		}
		switch {
		case ingress.IPMode == nil:
			if len(ingress.IP) > 0 {
				allErrs = append(allErrs, field.Required(idxPath.Child("ipMode"), "must be specified when `ip` is set"))
			}
		case len(ingress.IP) == 0:
			allErrs = append(allErrs, field.Forbidden(idxPath.Child("ipMode"), "may not be specified when `ip` is not set"))
		case !supportedLoadBalancerIPMode.Has(*ingress.IPMode):
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("ipMode"), *ingress.IPMode, sets.List(supportedLoadBalancerIPMode)))
		}
		if len(ingress.Hostname) > 0 {
			for _, msg := range validation.IsDNS1123Subdomain(ingress.Hostname) {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("hostname"), ingress.Hostname, msg))
			}
			if parseIPSloppy(ingress.Hostname) != nil {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("hostname"), ingress.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return allErrs
}

// Endpoints

func validateEndpoints(endpoints *corev1.Endpoints) field.ErrorList {
	allErrs := validateObjectMeta(&endpoints.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateEndpointSubsets(endpoints.Subsets, field.NewPath("subsets"))...)
}

func validateEndpointsUpdate(endpoints, old *corev1.Endpoints) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&endpoints.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateEndpointSubsets(endpoints.Subsets, field.NewPath("subsets"))...)
}

func validateEndpointSubsets(subsets []corev1.EndpointSubset, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i := range subsets {
		ss := &subsets[i]
		idxPath := fldPath.Index(i)
		// Subsets need an address; headless services may have no ports.
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			allErrs = append(allErrs, field.Required(idxPath, "must specify `addresses` or `notReadyAddresses`"))
		}
		for a := range ss.Addresses {
			allErrs = append(allErrs, validateEndpointAddress(&ss.Addresses[a], idxPath.Child("addresses").Index(a))...)
		}
		for a := range ss.NotReadyAddresses {
			allErrs = append(allErrs, validateEndpointAddress(&ss.NotReadyAddresses[a], idxPath.Child("notReadyAddresses").Index(a))...)
		}
		for p := range ss.Ports {
			allErrs = append(allErrs, validateEndpointPort(&ss.Ports[p], len(ss.Ports) > 1, idxPath.Child("ports").Index(p))...)
		}
	}
	return allErrs
}

func validateEndpointAddress(address *corev1.EndpointAddress, fldPath *field.Path) field.ErrorList {
	allErrs := validation.IsValidIPForLegacyField(fldPath.Child("ip"), address.IP, false, nil)
	if len(address.Hostname) > 0 {
		allErrs = append(allErrs, validateDNS1123Label(address.Hostname, fldPath.Child("hostname"))...)
	}
	if address.NodeName != nil {
		for _, msg := range nameIsDNSSubdomain(*address.NodeName, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("nodeName"), *address.NodeName, msg))
		}
	}
	if len(allErrs) == 0 {
		allErrs = append(allErrs, validateNonSpecialIP(address.IP, fldPath.Child("ip"))...)
	}
	return allErrs
}

func validateEndpointPort(port *corev1.EndpointPort, requireName bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if requireName && len(port.Name) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else if len(port.Name) != 0 {
		allErrs = append(allErrs, validateDNS1123Label(port.Name, fldPath.Child("name"))...)
	}
	for _, msg := range validation.IsValidPortNum(int(port.Port)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), port.Port, msg))
	}
	if len(port.Protocol) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("protocol"), ""))
	} else if !supportedPortProtocols.Has(port.Protocol) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("protocol"), port.Protocol, sets.List(supportedPortProtocols)))
	}
	if port.AppProtocol != nil {
		allErrs = append(allErrs, validateQualifiedName(*port.AppProtocol, fldPath.Child("appProtocol"))...)
	}
	return allErrs
}

// ConfigMap

func validateConfigMap(cfg *corev1.ConfigMap) field.ErrorList {
	allErrs := validateObjectMeta(&cfg.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	totalSize := 0
	for _, key := range sortedKeys(cfg.Data) {
		for _, msg := range validation.IsConfigMapKey(key) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("data").Key(key), key, msg))
		}
		if _, inBinary := cfg.BinaryData[key]; inBinary {
			allErrs = append(allErrs, field.Invalid(field.NewPath("data").Key(key), key, "duplicate of key present in binaryData"))
		}
		totalSize += len(cfg.Data[key])
	}
	for _, key := range sortedKeys(cfg.BinaryData) {
		for _, msg := range validation.IsConfigMapKey(key) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("binaryData").Key(key), key, msg))
		}
		totalSize += len(cfg.BinaryData[key])
	}
	if totalSize > maxSecretSize {
		// The empty path means the whole object.
		allErrs = append(allErrs, field.TooLong(field.NewPath(""), "", maxSecretSize))
	}
	return allErrs
}

func validateConfigMapUpdate(cfg, old *corev1.ConfigMap) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&cfg.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if old.Immutable != nil && *old.Immutable {
		if cfg.Immutable == nil || !*cfg.Immutable {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(cfg.Data, old.Data) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(cfg.BinaryData, old.BinaryData) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
		}
	}
	return append(allErrs, validateConfigMap(cfg)...)
}

// Secret

// secretData is a Secret's data with stringData merged in, as the API
// server's conversion does before validation.
func secretData(secret *corev1.Secret) map[string][]byte {
	if len(secret.StringData) == 0 {
		return secret.Data
	}
	data := make(map[string][]byte, len(secret.Data)+len(secret.StringData))
	for k, v := range secret.Data {
		data[k] = v
	}
	for k, v := range secret.StringData {
		data[k] = []byte(v)
	}
	return data
}

func validateSecret(secret *corev1.Secret) field.ErrorList {
	allErrs := validateObjectMeta(&secret.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	dataPath := field.NewPath("data")
	data := secretData(secret)
	totalSize := 0
	for _, key := range sortedKeys(data) {
		for _, msg := range validation.IsConfigMapKey(key) {
			allErrs = append(allErrs, field.Invalid(dataPath.Key(key), key, msg))
		}
		totalSize += len(data[key])
	}
	if totalSize > maxSecretSize {
		allErrs = append(allErrs, field.TooLong(dataPath, "", maxSecretSize))
	}

	switch secret.Type {
	case corev1.SecretTypeServiceAccountToken:
		// Only the service account name is required; a controller adds the rest.
		if value := secret.Annotations[corev1.ServiceAccountNameKey]; len(value) == 0 {
			allErrs = append(allErrs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeOpaque, "":
	case corev1.SecretTypeDockercfg:
		allErrs = append(allErrs, validateSecretJSONKey(data, corev1.DockerConfigKey, dataPath)...)
	case corev1.SecretTypeDockerConfigJson:
		allErrs = append(allErrs, validateSecretJSONKey(data, corev1.DockerConfigJsonKey, dataPath)...)
	case corev1.SecretTypeBasicAuth:
		_, usernameExists := data[corev1.BasicAuthUsernameKey]
		_, passwordExists := data[corev1.BasicAuthPasswordKey]
		// Either may be empty, but one of them must be present.
		if !usernameExists && !passwordExists {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.BasicAuthUsernameKey), ""))
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(data[corev1.SSHAuthPrivateKey]) == 0 {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		if _, exists := data[corev1.TLSCertKey]; !exists {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.TLSCertKey), ""))
		}
		if _, exists := data[corev1.TLSPrivateKeyKey]; !exists {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.TLSPrivateKeyKey), ""))
		}
	}
	return allErrs
}

func validateSecretJSONKey(data map[string][]byte, key string, dataPath *field.Path) field.ErrorList {
	b, exists := data[key]
	if !exists {
		return field.ErrorList{field.Required(dataPath.Key(key), "")}
	}
	if err := json.Unmarshal(b, &map[string]any{}); err != nil {
		return field.ErrorList{field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error())}
	}
	return nil
}

func validateSecretUpdate(secret, old *corev1.Secret) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&secret.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, immutableField(secret.Type, old.Type, field.NewPath("type"))...)
	if old.Immutable != nil && *old.Immutable {
		if secret.Immutable == nil || !*secret.Immutable {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(secretData(secret), secretData(old)) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return append(allErrs, validateSecret(secret)...)
}

// ServiceAccount

func validateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	return validateObjectMeta(&sa.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
}

func validateServiceAccountUpdate(sa, old *corev1.ServiceAccount) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&sa.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateServiceAccount(sa)...)
}

// Events (core/v1). The v1 API keeps the legacy, loose rules: names are only
// checked by the common path-segment rule, and involvedObject.namespace must
// agree with the event's namespace.

const (
	reportingInstanceLengthLimit = 128
	actionLengthLimit            = 128
	reasonLengthLimit            = 128
	noteLengthLimit              = 1024
)

// eventFields is the internal shape of an Event, shared by core/v1 and
// events.k8s.io/v1 validation.
type eventFields struct {
	meta                *metav1.ObjectMeta
	involvedObject      corev1.ObjectReference
	related             *corev1.ObjectReference
	reason, message     string
	source              corev1.EventSource
	firstTimestamp      metav1.Time
	lastTimestamp       metav1.Time
	count               int32
	eventType           string
	eventTime           metav1.MicroTime
	series              *corev1.EventSeries
	action              string
	reportingController string
	reportingInstance   string
}

func coreEventFields(e *corev1.Event) eventFields {
	return eventFields{
		meta: &e.ObjectMeta, involvedObject: e.InvolvedObject, related: e.Related,
		reason: e.Reason, message: e.Message, source: e.Source,
		firstTimestamp: e.FirstTimestamp, lastTimestamp: e.LastTimestamp, count: e.Count,
		eventType: e.Type, eventTime: e.EventTime, series: e.Series, action: e.Action,
		reportingController: e.ReportingController, reportingInstance: e.ReportingInstance,
	}
}

func legacyValidateEvent(e eventFields, reportingControllerFieldName string) field.ErrorList {
	var allErrs field.ErrorList
	ns := e.meta.Namespace
	if e.eventTime.IsZero() {
		// Old-style events: involvedObject.namespace must match, with empty
		// allowed in "default" for old clients.
		if len(e.involvedObject.Namespace) == 0 {
			if ns != metav1.NamespaceNone && ns != metav1.NamespaceDefault {
				allErrs = append(allErrs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.involvedObject.Namespace, "does not match event.namespace"))
			}
		} else if ns != e.involvedObject.Namespace {
			allErrs = append(allErrs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.involvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if len(e.involvedObject.Namespace) == 0 && ns != metav1.NamespaceDefault && ns != metav1.NamespaceSystem {
			allErrs = append(allErrs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.involvedObject.Namespace, "does not match event.namespace"))
		}
		if len(e.reportingController) == 0 {
			allErrs = append(allErrs, field.Required(field.NewPath(reportingControllerFieldName), ""))
		}
		allErrs = append(allErrs, validateQualifiedName(e.reportingController, field.NewPath(reportingControllerFieldName))...)
		if len(e.reportingInstance) == 0 {
			allErrs = append(allErrs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		if len(e.reportingInstance) > reportingInstanceLengthLimit {
			allErrs = append(allErrs, field.Invalid(field.NewPath("reportingInstance"), "", fmt.Sprintf("can have at most %v characters", reportingInstanceLengthLimit)))
		}
		if len(e.action) == 0 {
			allErrs = append(allErrs, field.Required(field.NewPath("action"), ""))
		}
		if len(e.action) > actionLengthLimit {
			allErrs = append(allErrs, field.Invalid(field.NewPath("action"), "", fmt.Sprintf("can have at most %v characters", actionLengthLimit)))
		}
		if len(e.reason) == 0 {
			allErrs = append(allErrs, field.Required(field.NewPath("reason"), ""))
		}
		if len(e.reason) > reasonLengthLimit {
			allErrs = append(allErrs, field.Invalid(field.NewPath("reason"), "", fmt.Sprintf("can have at most %v characters", reasonLengthLimit)))
		}
		if len(e.message) > noteLengthLimit {
			allErrs = append(allErrs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", noteLengthLimit)))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(ns) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("namespace"), ns, msg))
	}
	return allErrs
}

func validateCoreEventCreate(e *corev1.Event) field.ErrorList {
	return legacyValidateEvent(coreEventFields(e), "reportingComponent")
}

func validateCoreEventUpdate(e, _ *corev1.Event) field.ErrorList {
	return legacyValidateEvent(coreEventFields(e), "reportingComponent")
}

// validateStrictEvent holds the extra rules for events written through
// events.k8s.io/v1.
func validateStrictEvent(e eventFields) field.ErrorList {
	allErrs := validateObjectMeta(e.meta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEventSeries(e)...)
	if e.eventTime.IsZero() {
		allErrs = append(allErrs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.eventType != corev1.EventTypeNormal && e.eventType != corev1.EventTypeWarning {
		allErrs = append(allErrs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.eventType)))
	}
	if !e.firstTimestamp.IsZero() {
		allErrs = append(allErrs, field.Invalid(field.NewPath("firstTimestamp"), "", "needs to be unset"))
	}
	if !e.lastTimestamp.IsZero() {
		allErrs = append(allErrs, field.Invalid(field.NewPath("lastTimestamp"), "", "needs to be unset"))
	}
	if e.count != 0 {
		allErrs = append(allErrs, field.Invalid(field.NewPath("count"), "", "needs to be unset"))
	}
	if e.source.Component != "" || e.source.Host != "" {
		allErrs = append(allErrs, field.Invalid(field.NewPath("source"), "", "needs to be unset"))
	}
	return allErrs
}

func validateEventSeries(e eventFields) field.ErrorList {
	var allErrs field.ErrorList
	if e.series != nil {
		if e.series.Count < 2 {
			allErrs = append(allErrs, field.Invalid(field.NewPath("series.count"), "", "should be at least 2"))
		}
		if e.series.LastObservedTime.IsZero() {
			allErrs = append(allErrs, field.Required(field.NewPath("series.lastObservedTime"), ""))
		}
	}
	return allErrs
}

func validateStrictEventUpdate(e, old eventFields) field.ErrorList {
	allErrs := validateObjectMetaUpdate(e.meta, old.meta, field.NewPath("metadata"))
	if !reflect.DeepEqual(e.series, old.series) {
		allErrs = append(allErrs, validateEventSeries(e)...)
	}
	allErrs = append(allErrs, immutableField(e.involvedObject, old.involvedObject, field.NewPath("involvedObject"))...)
	allErrs = append(allErrs, immutableField(e.reason, old.reason, field.NewPath("reason"))...)
	allErrs = append(allErrs, immutableField(e.message, old.message, field.NewPath("message"))...)
	allErrs = append(allErrs, immutableField(e.source, old.source, field.NewPath("source"))...)
	allErrs = append(allErrs, immutableField(e.firstTimestamp, old.firstTimestamp, field.NewPath("firstTimestamp"))...)
	allErrs = append(allErrs, immutableField(e.lastTimestamp, old.lastTimestamp, field.NewPath("lastTimestamp"))...)
	allErrs = append(allErrs, immutableField(e.count, old.count, field.NewPath("count"))...)
	allErrs = append(allErrs, immutableField(e.eventType, old.eventType, field.NewPath("type"))...)
	// eventTime may only change below microsecond precision.
	if !e.eventTime.Time.Truncate(time.Microsecond).Equal(old.eventTime.Time.Truncate(time.Microsecond)) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("eventTime"), e.eventTime, "field is immutable"))
	}
	allErrs = append(allErrs, immutableField(e.action, old.action, field.NewPath("action"))...)
	allErrs = append(allErrs, immutableField(e.related, old.related, field.NewPath("related"))...)
	allErrs = append(allErrs, immutableField(e.reportingController, old.reportingController, field.NewPath("reportingController"))...)
	allErrs = append(allErrs, immutableField(e.reportingInstance, old.reportingInstance, field.NewPath("reportingInstance"))...)
	return allErrs
}
