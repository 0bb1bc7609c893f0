package validation

import (
	"fmt"
	"net"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy, as kube-apiserver's
// pkg/apis/networking/validation.

// ingressClassAnnotation is the beta annotation that named an Ingress's class before spec.ingressClassName.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

var (
	supportedPathTypes          = sets.New(networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific)
	invalidPathSequences        = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes         = []string{"/..", "/."}
	supportedPolicyTypes        = sets.New(string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress))
	supportedNetPolProtocols    = sets.New("TCP", "UDP", "SCTP")
	supportedIngressClassScopes = sets.New(networkingv1.IngressClassParametersReferenceScopeNamespace, networkingv1.IngressClassParametersReferenceScopeCluster)
)

// maxIngressClassControllerLen is the longest spec.controller of an IngressClass.
const maxIngressClassControllerLen = 250

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	allErrs := validateObjectMeta(&ing.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
	if ing.Spec.IngressClassName != nil {
		if v, ok := ing.Annotations[ingressClassAnnotation]; ok {
			allErrs = append(allErrs, field.Invalid(field.NewPath("annotations").Child(ingressClassAnnotation), v, "can not be set when the class field is also set"))
		}
	}
	return allErrs
}

func validateIngressUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
}

func validateIngressStatusUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range ing.Status.LoadBalancer.Ingress {
		idxPath := fldPath.Index(i)
		if in.IP != "" && net.ParseIP(in.IP) == nil {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("ip"), in.IP, "must be a valid IP address"))
		}
		if in.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(in.Hostname) {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("hostname"), in.Hostname, msg))
			}
			if net.ParseIP(in.Hostname) != nil {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("hostname"), in.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return allErrs
}

func validateIngressSpec(spec *networkingv1.IngressSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		allErrs = append(allErrs, field.Invalid(fldPath, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		allErrs = append(allErrs, validateIngressBackend(spec.DefaultBackend, fldPath.Child("defaultBackend"))...)
	}
	for i, rule := range spec.Rules {
		rulePath := fldPath.Child("rules").Index(i)
		if rule.Host != "" {
			allErrs = append(allErrs, validateIngressHost(rule.Host, rulePath.Child("host"))...)
		}
		if rule.HTTP != nil {
			allErrs = append(allErrs, validateHTTPIngressRuleValue(rule.HTTP, rulePath.Child("http"))...)
		}
	}
	for i, tls := range spec.TLS {
		tlsPath := fldPath.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			allErrs = append(allErrs, validateIngressHost(host, tlsPath.Child("hosts").Index(j))...)
		}
		if tls.SecretName != "" {
			for _, msg := range nameIsDNSSubdomain(tls.SecretName, false) {
				allErrs = append(allErrs, field.Invalid(tlsPath.Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range nameIsDNSSubdomain(*spec.IngressClassName, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return allErrs
}

// validateIngressHost: a DNS name, possibly with a leading wildcard label, never an IP address.
func validateIngressHost(host string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if net.ParseIP(host) != nil {
		return append(allErrs, field.Invalid(fldPath, host, "must be a DNS name, not an IP address"))
	}
	msgs := validation.IsDNS1123Subdomain(host)
	if strings.Contains(host, "*") {
		msgs = validation.IsWildcardDNS1123Subdomain(host)
	}
	for _, msg := range msgs {
		allErrs = append(allErrs, field.Invalid(fldPath, host, msg))
	}
	return allErrs
}

func validateHTTPIngressRuleValue(http *networkingv1.HTTPIngressRuleValue, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(http.Paths) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("paths"), ""))
	}
	for i := range http.Paths {
		allErrs = append(allErrs, validateHTTPIngressPath(&http.Paths[i], fldPath.Child("paths").Index(i))...)
	}
	return allErrs
}

func validateHTTPIngressPath(p *networkingv1.HTTPIngressPath, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case p.PathType == nil:
		return append(allErrs, field.Required(fldPath.Child("pathType"), "pathType must be specified"))
	case *p.PathType == networkingv1.PathTypeExact || *p.PathType == networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), p.Path, "must be an absolute path"))
		}
		if len(p.Path) > 0 {
			for _, s := range invalidPathSequences {
				if strings.Contains(p.Path, s) {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), p.Path, fmt.Sprintf("must not contain '%s'", s)))
				}
			}
			for _, s := range invalidPathSuffixes {
				if strings.HasSuffix(p.Path, s) {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), p.Path, fmt.Sprintf("cannot end with '%s'", s)))
				}
			}
		}
	case *p.PathType == networkingv1.PathTypeImplementationSpecific:
		if len(p.Path) > 0 && !strings.HasPrefix(p.Path, "/") {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), p.Path, "must be an absolute path"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("pathType"), *p.PathType, sets.List(supportedPathTypes)))
	}
	return append(allErrs, validateIngressBackend(&p.Backend, fldPath.Child("backend"))...)
}

func validateIngressBackend(b *networkingv1.IngressBackend, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case b.Resource != nil && b.Service != nil:
		return append(allErrs, field.Invalid(fldPath, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		r := b.Resource
		if r.APIGroup != nil {
			for _, msg := range validation.IsDNS1123Subdomain(*r.APIGroup) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("resource", "apiGroup"), *r.APIGroup, msg))
			}
		}
		if r.Kind == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("resource", "kind"), "kind is required"))
		}
		if r.Name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("resource", "name"), "name is required"))
		}
	case b.Service != nil:
		svc := b.Service
		if svc.Name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("service", "name"), ""))
		} else {
			for _, msg := range nameIsDNS1035Label(svc.Name, false) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("service", "name"), svc.Name, msg))
			}
		}
		hasName, hasNumber := svc.Port.Name != "", svc.Port.Number != 0
		switch {
		case hasName && hasNumber:
			allErrs = append(allErrs, field.Invalid(fldPath, "", "cannot set both port name & port number"))
		case hasName:
			for _, msg := range validation.IsValidPortName(svc.Port.Name) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("service", "port", "name"), svc.Port.Name, msg))
			}
		case hasNumber:
			for _, msg := range validation.IsValidPortNum(int(svc.Port.Number)) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("service", "port", "number"), svc.Port.Number, msg))
			}
		default:
			allErrs = append(allErrs, field.Required(fldPath, "port name or number is required"))
		}
	default:
		allErrs = append(allErrs, field.Invalid(fldPath, "", "resource or service backend is required"))
	}
	return allErrs
}

func validateIngressClass(ic *networkingv1.IngressClass) field.ErrorList {
	allErrs := validateObjectMeta(&ic.ObjectMeta, false, nameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressClassController(ic.Spec.Controller, field.NewPath("spec", "controller"))...)
	return append(allErrs, validateIngressClassParameters(ic.Spec.Parameters, field.NewPath("spec", "parameters"))...)
}

func validateIngressClassUpdate(ic, old *networkingv1.IngressClass) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ic.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if ic.Spec.Controller != old.Spec.Controller {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "controller"), ic.Spec.Controller, "field is immutable"))
	}
	return append(allErrs, validateIngressClassParameters(ic.Spec.Parameters, field.NewPath("spec", "parameters"))...)
}

func validateIngressClassController(controller string, fldPath *field.Path) field.ErrorList {
	if controller == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if len(controller) > maxIngressClassControllerLen {
		return field.ErrorList{field.TooLong(fldPath, "", maxIngressClassControllerLen)}
	}
	return validation.IsDomainPrefixedPath(fldPath, controller)
}

func validateIngressClassParameters(p *networkingv1.IngressClassParametersReference, fldPath *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	var allErrs field.ErrorList
	if p.APIGroup != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*p.APIGroup) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("apiGroup"), *p.APIGroup, msg))
		}
	}
	if p.Kind == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), "kind is required"))
	}
	if p.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), "name is required"))
	}
	if p.Scope == nil {
		return append(allErrs, field.Required(fldPath.Child("scope"), ""))
	}
	switch *p.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if p.Namespace == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		} else {
			for _, msg := range validation.IsDNS1123Label(*p.Namespace) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("namespace"), *p.Namespace, msg))
			}
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if p.Namespace != nil {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("scope"), *p.Scope, sets.List(supportedIngressClassScopes)))
	}
	return allErrs
}

func validateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	allErrs := validateObjectMeta(&np.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateNetworkPolicySpec(&np.Spec, field.NewPath("spec"))...)
}

func validateNetworkPolicyUpdate(np, old *networkingv1.NetworkPolicy) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&np.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateNetworkPolicySpec(&np.Spec, field.NewPath("spec"))...)
}

func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, fldPath *field.Path) field.ErrorList {
	allErrs := metav1validation.ValidateLabelSelector(&spec.PodSelector, strictSelectorOpts, fldPath.Child("podSelector"))
	for i, rule := range spec.Ingress {
		allErrs = append(allErrs, validateNetworkPolicyRule(rule.Ports, rule.From, fldPath.Child("ingress").Index(i), "from")...)
	}
	for i, rule := range spec.Egress {
		allErrs = append(allErrs, validateNetworkPolicyRule(rule.Ports, rule.To, fldPath.Child("egress").Index(i), "to")...)
	}
	for i, pt := range spec.PolicyTypes {
		if !supportedPolicyTypes.Has(string(pt)) {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("policyTypes").Index(i), pt, sets.List(supportedPolicyTypes)))
		}
	}
	if len(spec.PolicyTypes) > 2 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	return allErrs
}

// validateNetworkPolicyRule checks an ingress or egress rule, whose peers are under peersField ("from" or "to").
func validateNetworkPolicyRule(ports []networkingv1.NetworkPolicyPort, peers []networkingv1.NetworkPolicyPeer, rulePath *field.Path, peersField string) field.ErrorList {
	var allErrs field.ErrorList
	for j := range ports {
		allErrs = append(allErrs, validateNetworkPolicyPort(&ports[j], rulePath.Child("ports").Index(j))...)
	}
	for j := range peers {
		allErrs = append(allErrs, validateNetworkPolicyPeer(&peers[j], rulePath.Child(peersField).Index(j))...)
	}
	return allErrs
}

func validateNetworkPolicyPort(port *networkingv1.NetworkPolicyPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if port.Protocol != nil && !supportedNetPolProtocols.Has(string(*port.Protocol)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("protocol"), *port.Protocol, sets.List(supportedNetPolProtocols)))
	}
	if port.Port != nil {
		if port.Port.Type == intstr.Int {
			for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), port.Port.IntVal, msg))
			}
			if port.EndPort != nil {
				if *port.EndPort < port.Port.IntVal {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("endPort"), port.Port.IntVal, "must be greater than or equal to `port`"))
				}
				for _, msg := range validation.IsValidPortNum(int(*port.EndPort)) {
					allErrs = append(allErrs, field.Invalid(fldPath.Child("endPort"), *port.EndPort, msg))
				}
			}
		} else {
			if port.EndPort != nil {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
			}
			for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), port.Port.StrVal, msg))
			}
		}
	} else if port.EndPort != nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
	}
	return allErrs
}

func validateNetworkPolicyPeer(peer *networkingv1.NetworkPolicyPeer, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	peers := 0
	if peer.PodSelector != nil {
		peers++
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(peer.PodSelector, strictSelectorOpts, fldPath.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		peers++
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, strictSelectorOpts, fldPath.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		allErrs = append(allErrs, validateIPBlock(peer.IPBlock, fldPath.Child("ipBlock"))...)
		if peers > 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath, "may not specify both ipBlock and another peer"))
		}
		peers++
	}
	if peers == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a peer"))
	}
	return allErrs
}

func validateIPBlock(b *networkingv1.IPBlock, fldPath *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(fldPath.Child("cidr"), "")}
	}
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath.Child("cidr"), b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	}
	var allErrs field.ErrorList
	cidrOnes, _ := cidr.Mask.Size()
	for i, ex := range b.Except {
		exPath := fldPath.Child("except").Index(i)
		_, exNet, err := net.ParseCIDR(ex)
		if err != nil {
			allErrs = append(allErrs, field.Invalid(exPath, ex, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
			continue
		}
		exOnes, _ := exNet.Mask.Size()
		if !cidr.Contains(exNet.IP) || exOnes <= cidrOnes || (cidr.IP.To4() == nil) != (exNet.IP.To4() == nil) {
			allErrs = append(allErrs, field.Invalid(exPath, ex, "must be a strict subset of `cidr`"))
		}
	}
	return allErrs
}
