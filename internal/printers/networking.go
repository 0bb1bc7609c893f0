package printers

import (
	"fmt"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// networking.k8s.io/v1 columns and rows, as kube-apiserver 1.32's pkg/printers/internalversion.

func init() {
	register[*networkingv1.Ingress, *networkingv1.IngressList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Class", Type: "string", Description: "The name of the IngressClass resource that should be used for additional configuration"},
		{Name: "Hosts", Type: "string", Description: "Hosts that incoming requests are matched against before the ingress rule"},
		{Name: "Address", Type: "string", Description: "Address is a list containing ingress points for the load-balancer"},
		{Name: "Ports", Type: "string", Description: "Ports of TLS configurations that open"},
		ageColumn,
	}, printIngress)
	register[*networkingv1.IngressClass, *networkingv1.IngressClassList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Controller", Type: "string", Description: "Controller that is responsible for handling this class"},
		{Name: "Parameters", Type: "string", Description: "A reference to a resource with additional parameters"},
		ageColumn,
	}, printIngressClass)
	register[*networkingv1.NetworkPolicy, *networkingv1.NetworkPolicyList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Pod-Selector", Type: "string", Description: networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]},
		ageColumn,
	}, printNetworkPolicy)
}

func printIngress(obj *networkingv1.Ingress, now time.Time) []interface{} {
	className := "<none>"
	if obj.Spec.IngressClassName != nil {
		className = *obj.Spec.IngressClassName
	}
	ports := "80"
	if len(obj.Spec.TLS) != 0 {
		ports = "80, 443"
	}
	addresses := sets.New[string]()
	for _, in := range obj.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			addresses.Insert(in.IP)
		} else if in.Hostname != "" {
			addresses.Insert(in.Hostname)
		}
	}
	return []interface{}{obj.Name, className, formatIngressHosts(obj.Spec.Rules), strings.Join(sets.List(addresses), ","), ports,
		translateTimestampSince(obj.CreationTimestamp, now)}
}

// formatIngressHosts lists up to three rule hosts ("*" when no rule names one).
func formatIngressHosts(rules []networkingv1.IngressRule) string {
	const maxHosts = 3
	var list []string
	more := false
	for _, rule := range rules {
		if len(list) == maxHosts {
			more = true
		}
		if !more && rule.Host != "" {
			list = append(list, rule.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, len(rules)-maxHosts)
	}
	return ret
}

func printIngressClass(obj *networkingv1.IngressClass, now time.Time) []interface{} {
	parameters := "<none>"
	if p := obj.Spec.Parameters; p != nil {
		parameters = p.Kind
		if p.APIGroup != nil {
			parameters += "." + *p.APIGroup
		}
		parameters += "/" + p.Name
	}
	return []interface{}{obj.Name, obj.Spec.Controller, parameters, translateTimestampSince(obj.CreationTimestamp, now)}
}

func printNetworkPolicy(obj *networkingv1.NetworkPolicy, now time.Time) []interface{} {
	return []interface{}{obj.Name, metav1.FormatLabelSelector(&obj.Spec.PodSelector), translateTimestampSince(obj.CreationTimestamp, now)}
}
