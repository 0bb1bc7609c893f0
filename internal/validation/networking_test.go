package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestIngress(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	svc := func(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
	}
	ing := func(mutate func(*networkingv1.Ingress)) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: objMeta("web"), Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("nginx"),
			Rules: []networkingv1.IngressRule{{Host: "foo.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/api", PathType: &prefix, Backend: svc("api", networkingv1.ServiceBackendPort{Number: 80})}},
			}}}},
			TLS: []networkingv1.IngressTLS{{Hosts: []string{"foo.example.com"}, SecretName: "foo-tls"}},
		}}
		if mutate != nil {
			mutate(i)
		}
		return i
	}
	path0 := func(i *networkingv1.Ingress) *networkingv1.HTTPIngressPath { return &i.Spec.Rules[0].HTTP.Paths[0] }
	const p0 = "spec.rules[0].http.paths[0]"
	runCreate(t, []createCase{
		{name: "valid", obj: ing(nil)},
		{name: "wildcard host", obj: ing(func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.example.com" })},
		{name: "default backend only", obj: ing(func(i *networkingv1.Ingress) {
			b := svc("web", networkingv1.ServiceBackendPort{Name: "http"})
			i.Spec.Rules, i.Spec.DefaultBackend = nil, &b
		})},
		{name: "resource backend", obj: ing(func(i *networkingv1.Ingress) {
			path0(i).Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr("k8s.example.com"), Kind: "StorageBucket", Name: "static"}}
		})},
		{name: "nothing to route", obj: ing(func(i *networkingv1.Ingress) { i.Spec.Rules = nil }),
			want: []string{"spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"}},
		{name: "IP host", obj: ing(func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "10.0.0.1" }),
			want: []string{`spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address`}},
		{name: "no pathType", obj: ing(func(i *networkingv1.Ingress) { path0(i).PathType = nil }),
			want: []string{p0 + ".pathType: Required value: pathType must be specified"}},
		{name: "relative prefix path", obj: ing(func(i *networkingv1.Ingress) { path0(i).Path = "api" }),
			want: []string{p0 + `.path: Invalid value: "api": must be an absolute path`}},
		{name: "path with //", obj: ing(func(i *networkingv1.Ingress) { path0(i).Path = "/a//b" }),
			want: []string{p0 + `.path: Invalid value: "/a//b": must not contain '//'`}},
		{name: "unknown pathType", obj: ing(func(i *networkingv1.Ingress) { pt := networkingv1.PathType("Regex"); path0(i).PathType = &pt }),
			want: []string{p0 + `.pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"`}},
		{name: "no paths", obj: ing(func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil }),
			want: []string{"spec.rules[0].http.paths: Required value"}},
		{name: "port name and number", obj: ing(func(i *networkingv1.Ingress) {
			path0(i).Backend = svc("api", networkingv1.ServiceBackendPort{Name: "http", Number: 80})
		}), want: []string{p0 + `.backend: Invalid value: "": cannot set both port name & port number`}},
		{name: "no port", obj: ing(func(i *networkingv1.Ingress) { path0(i).Backend = svc("api", networkingv1.ServiceBackendPort{}) }),
			want: []string{p0 + ".backend: Required value: port name or number is required"}},
		{name: "port out of range", obj: ing(func(i *networkingv1.Ingress) {
			path0(i).Backend = svc("api", networkingv1.ServiceBackendPort{Number: 70000})
		}),
			want: []string{p0 + ".backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{name: "service name not a DNS-1035 label", obj: ing(func(i *networkingv1.Ingress) {
			path0(i).Backend = svc("1api", networkingv1.ServiceBackendPort{Number: 80})
		}),
			want: []string{p0 + `.backend.service.name: Invalid value: "1api": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`}},
		{name: "no backend", obj: ing(func(i *networkingv1.Ingress) { path0(i).Backend = networkingv1.IngressBackend{} }),
			want: []string{p0 + `.backend: Invalid value: "": resource or service backend is required`}},
		{name: "both backends", obj: ing(func(i *networkingv1.Ingress) {
			path0(i).Backend.Resource = &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}
		}), want: []string{p0 + `.backend: Invalid value: "": cannot set both resource and service backends`}},
		{name: "class annotation and field", obj: ing(func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
		}), want: []string{`annotations.kubernetes.io/ingress.class: Invalid value: "nginx": can not be set when the class field is also set`}},
		{name: "bad TLS secret", obj: ing(func(i *networkingv1.Ingress) { i.Spec.TLS[0].SecretName = "Foo_TLS" }),
			want: []string{`spec.tls[0].secretName: Invalid value: "Foo_TLS": ` + subdomainMsg}},
	})
	runUpdate(t, []updateCase{
		{name: "rules may change", old: ing(nil), obj: ing(func(i *networkingv1.Ingress) { path0(i).Path = "/v2" })},
		{name: "still validated", old: ing(nil), obj: ing(func(i *networkingv1.Ingress) { path0(i).PathType = nil }),
			want: []string{p0 + ".pathType: Required value: pathType must be specified"}},
	})
}

func TestIngressClass(t *testing.T) {
	ic := func(controller string, mutate func(*networkingv1.IngressClass)) *networkingv1.IngressClass {
		c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx", ResourceVersion: "1"}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	cluster, namespace := networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace
	runCreate(t, []createCase{
		{name: "valid", obj: ic("k8s.io/ingress-nginx", nil)},
		{name: "cluster parameters", obj: ic("example.com/lb", func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = &networkingv1.IngressClassParametersReference{APIGroup: ptr("example.com"), Kind: "LB", Name: "x", Scope: &cluster}
		})},
		{name: "no controller", obj: ic("", nil), want: []string{"spec.controller: Required value"}},
		{name: "controller not domain-prefixed", obj: ic("nginx", nil),
			want: []string{`spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")`}},
		{name: "namespace scope without namespace", obj: ic("example.com/lb", func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = &networkingv1.IngressClassParametersReference{Kind: "LB", Name: "x", Scope: &namespace}
		}), want: []string{"spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"}},
		{name: "cluster scope with namespace", obj: ic("example.com/lb", func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = &networkingv1.IngressClassParametersReference{Kind: "LB", Name: "x", Scope: &cluster, Namespace: ptr("default")}
		}), want: []string{"spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"}},
	})
	runUpdate(t, []updateCase{
		{name: "controller is immutable", old: ic("example.com/a", nil), obj: ic("example.com/b", nil),
			want: []string{`spec.controller: Invalid value: "example.com/b": field is immutable`}},
	})
}

func TestNetworkPolicy(t *testing.T) {
	tcp := corev1.ProtocolTCP
	np := func(mutate func(*networkingv1.NetworkPolicy)) *networkingv1.NetworkPolicy {
		p := &networkingv1.NetworkPolicy{ObjectMeta: objMeta("db"), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr(intstr.FromInt32(5432))}},
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}},
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	port0 := func(p *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicyPort {
		return &p.Spec.Ingress[0].Ports[0]
	}
	runCreate(t, []createCase{
		{name: "valid", obj: np(nil)},
		{name: "port range", obj: np(func(p *networkingv1.NetworkPolicy) { port0(p).EndPort = ptr(int32(5440)) })},
		{name: "ipBlock with except", obj: np(func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}
		})},
		{name: "endPort below port", obj: np(func(p *networkingv1.NetworkPolicy) { port0(p).EndPort = ptr(int32(80)) }),
			want: []string{"spec.ingress[0].ports[0].endPort: Invalid value: 5432: must be greater than or equal to `port`"}},
		{name: "endPort with a named port", obj: np(func(p *networkingv1.NetworkPolicy) {
			port0(p).Port, port0(p).EndPort = ptr(intstr.FromString("pg")), ptr(int32(6000))
		}), want: []string{"spec.ingress[0].ports[0].endPort: Invalid value: 6000: may not be specified when `port` is non-numeric"}},
		{name: "bad protocol", obj: np(func(p *networkingv1.NetworkPolicy) { port0(p).Protocol = ptr(corev1.Protocol("ICMP")) }),
			want: []string{`spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`}},
		{name: "empty peer", obj: np(func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{}} }),
			want: []string{"spec.ingress[0].from[0]: Required value: must specify a peer"}},
		{name: "ipBlock beside a selector", obj: np(func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].IPBlock = &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}
		}), want: []string{"spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"}},
		{name: "except outside cidr", obj: np(func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"192.168.0.0/24"}}}}
		}), want: []string{"spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`"}},
		{name: "bad cidr", obj: np(func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/33"}}}
		}), want: []string{`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`}},
		{name: "unknown policy type", obj: np(func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = []networkingv1.PolicyType{"Sideways"} }),
			want: []string{`spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"`}},
	})
}
