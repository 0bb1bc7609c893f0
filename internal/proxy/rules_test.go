package proxy

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svc(name, ip string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: ip, Type: typ, Ports: ports},
	}
}

func port(name string, p, nodePort int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, NodePort: nodePort, Protocol: corev1.ProtocolTCP}
}

// with returns s after applying f to it.
func with(s *corev1.Service, f func(*corev1.Service)) *corev1.Service { f(s); return s }

type ep struct {
	ip                          string
	ready, serving, terminating bool
	node                        string
}

func slice(svcName, portName string, p int32, eps ...ep) *discoveryv1.EndpointSlice {
	proto := corev1.ProtocolTCP
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: svcName + "-abc",
			Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &p, Protocol: &proto}},
	}
	for _, e := range eps {
		var node *string
		if e.node != "" {
			node = &e.node
		}
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.ip}, NodeName: node,
			Conditions: discoveryv1.EndpointConditions{Ready: &e.ready, Serving: &e.serving, Terminating: &e.terminating}})
	}
	return s
}

const me = "node-a"

var (
	a     = ep{ip: "10.42.0.5", ready: true, serving: true, node: me}
	b     = ep{ip: "10.42.0.6", ready: true, serving: true, node: "node-b"}
	local = Node{Name: me, IPs: []string{"192.0.2.10", "fe80::1"}, ClusterCIDR: "10.42.0.0/16"}
)

// Names and rules for the Service default/web, port 80/TCP, endpoints a and b on 8080.
const (
	svcChain = "svc-default/web/tcp/80"
	svlChain = "svl-default/web/tcp/80"
	extChain = "ext-default/web/tcp/80"
	epA      = "ep-default/web/tcp/80__10.42.0.5/8080"
	epB      = "ep-default/web/tcp/80__10.42.0.6/8080"
	affA     = "affinity-default/web/tcp/80__10.42.0.5/8080"
	affB     = "affinity-default/web/tcp/80__10.42.0.6/8080"
	reject   = "goto reject-chain"
)

var (
	vip      = Dest{IP: "10.43.0.20", Proto: "tcp", Port: 80}
	nodePort = Dest{IP: "192.0.2.10", Proto: "tcp", Port: 30080}
	chainA   = Chain{Name: epA, Rules: []string{"ip saddr 10.42.0.5 jump mark-for-masquerade", "meta l4proto tcp dnat to 10.42.0.5:8080"}}
	chainB   = Chain{Name: epB, Rules: []string{"ip saddr 10.42.0.6 jump mark-for-masquerade", "meta l4proto tcp dnat to 10.42.0.6:8080"}}
)

func random(eps ...string) string {
	s := "numgen random mod " + string(rune('0'+len(eps))) + " vmap { "
	for i, e := range eps {
		if i > 0 {
			s += " , "
		}
		s += string(rune('0'+i)) + " : goto " + e
	}
	return s + " }"
}

func TestBuildService(t *testing.T) {
	web := func(typ corev1.ServiceType, nodePort int32) *corev1.Service {
		return svc("web", "10.43.0.20", typ, port("http", 80, nodePort))
	}
	localPolicy := corev1.ServiceInternalTrafficPolicyLocal
	proxyMode := corev1.LoadBalancerIPModeProxy
	tests := []struct {
		name   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   *ServiceRules
	}{
		{
			name:   "two ready endpoints: random over both",
			svc:    web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b, a)},
			want: &ServiceRules{
				Chains: []Chain{chainA, chainB, {Name: svcChain, Rules: []string{random(epA, epB)}}},
				Map:    []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name: "no slice: rejected",
			svc:  web(corev1.ServiceTypeClusterIP, 0),
			want: &ServiceRules{Filter: []Element{{vip, reject}}},
		},
		{
			name:   "only not-ready endpoints: rejected",
			svc:    web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, ep{ip: "10.42.0.5"})},
			want:   &ServiceRules{Filter: []Element{{vip, reject}}},
		},
		{
			name: "terminating-but-serving ignored while a ready endpoint exists",
			svc:  web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080,
				a, ep{ip: "10.42.0.6", serving: true, terminating: true})},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svcChain, Rules: []string{random(epA)}}},
				Map:    []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name: "terminating-but-serving used when no ready endpoint is left",
			svc:  web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080,
				ep{ip: "10.42.0.5", serving: false, terminating: true}, ep{ip: "10.42.0.6", serving: true, terminating: true})},
			want: &ServiceRules{
				Chains: []Chain{chainB, {Name: svcChain, Rules: []string{random(epB)}}},
				Map:    []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name:   "NodePort on every IPv4 node address, same chain",
			svc:    web(corev1.ServiceTypeNodePort, 30080),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svcChain, Rules: []string{random(epA)}}},
				Map:    []Element{{vip, "goto " + svcChain}, {nodePort, "goto " + svcChain}},
			},
		},
		{
			name: "NodePort without endpoints: VIP and node port rejected",
			svc:  web(corev1.ServiceTypeNodePort, 30080),
			want: &ServiceRules{Filter: []Element{{vip, reject}, {nodePort, reject}}},
		},
		{
			name:   "headless: no rules",
			svc:    svc("web", "None", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)},
		},
		{
			name: "ExternalName: no rules",
			svc:  svc("web", "", corev1.ServiceTypeExternalName),
		},
		{
			name: "slices of other ports, services or address types are ignored",
			svc:  web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "metrics", 9090, a), slice("other", "http", 8080, a),
				func() *discoveryv1.EndpointSlice {
					s := slice("web", "http", 8080, a)
					s.AddressType = discoveryv1.AddressTypeIPv6
					return s
				}()},
			want: &ServiceRules{Filter: []Element{{vip, reject}}},
		},
		{
			name:   "duplicate endpoints across slices are merged",
			svc:    web(corev1.ServiceTypeClusterIP, 0),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a), slice("web", "http", 8080, a)},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svcChain, Rules: []string{random(epA)}}},
				Map:    []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name: "sessionAffinity ClientIP: per-endpoint sets, default timeout 10800 s",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)},
			want: &ServiceRules{
				Chains: []Chain{
					{Name: epA, Rules: []string{"ip saddr 10.42.0.5 jump mark-for-masquerade", "update @" + affA + " { ip saddr }", "meta l4proto tcp dnat to 10.42.0.5:8080"}},
					{Name: epB, Rules: []string{"ip saddr 10.42.0.6 jump mark-for-masquerade", "update @" + affB + " { ip saddr }", "meta l4proto tcp dnat to 10.42.0.6:8080"}},
					{Name: svcChain, Rules: []string{
						"ip saddr @" + affA + " goto " + epA,
						"ip saddr @" + affB + " goto " + epB,
						random(epA, epB)}},
				},
				Sets: []Set{{affA, 10800}, {affB, 10800}},
				Map:  []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name: "sessionAffinity ClientIP with timeoutSeconds 60",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				sixty := int32(60)
				s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &sixty}}
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)},
			want: &ServiceRules{
				Chains: []Chain{
					{Name: epA, Rules: []string{"ip saddr 10.42.0.5 jump mark-for-masquerade", "update @" + affA + " { ip saddr }", "meta l4proto tcp dnat to 10.42.0.5:8080"}},
					{Name: svcChain, Rules: []string{"ip saddr @" + affA + " goto " + epA, random(epA)}},
				},
				Sets: []Set{{affA, 60}},
				Map:  []Element{{vip, "goto " + svcChain}},
			},
		},
		{
			name: "internalTrafficPolicy Local: the ClusterIP goes to local endpoints only",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Spec.InternalTrafficPolicy = &localPolicy
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svlChain, Rules: []string{random(epA)}}},
				Map:    []Element{{vip, "goto " + svlChain}},
			},
		},
		{
			name: "internalTrafficPolicy Local without local endpoints: the ClusterIP is dropped",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Spec.InternalTrafficPolicy = &localPolicy
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b)},
			want:   &ServiceRules{Filter: []Element{{vip, "drop"}}},
		},
		{
			name: "externalTrafficPolicy Local: NodePort to local endpoints, except pods' and the node's own traffic; ClusterIP to all",
			svc: with(web(corev1.ServiceTypeNodePort, 30080), func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)},
			want: &ServiceRules{
				Chains: []Chain{chainA, chainB,
					{Name: extChain, Rules: []string{"ip saddr 10.42.0.0/16 goto " + svcChain, "fib saddr type local goto " + svcChain, "goto " + svlChain}},
					{Name: svcChain, Rules: []string{random(epA, epB)}},
					{Name: svlChain, Rules: []string{random(epA)}},
				},
				Map: []Element{{vip, "goto " + svcChain}, {nodePort, "goto " + extChain}},
			},
		},
		{
			name: "externalTrafficPolicy Local without local endpoints: outside traffic to the NodePort dropped",
			svc: with(web(corev1.ServiceTypeNodePort, 30080), func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b)},
			want: &ServiceRules{
				Chains: []Chain{chainB,
					{Name: extChain, Rules: []string{"ip saddr 10.42.0.0/16 goto " + svcChain, "fib saddr type local goto " + svcChain}},
					{Name: svcChain, Rules: []string{random(epB)}},
				},
				Map:    []Element{{vip, "goto " + svcChain}, {nodePort, "goto " + extChain}},
				Filter: []Element{{nodePort, "drop"}},
			},
		},
		{
			name: "local fallback: a local serving-terminating endpoint while the ready ones are elsewhere",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Spec.InternalTrafficPolicy = &localPolicy
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b,
				ep{ip: "10.42.0.5", serving: true, terminating: true, node: me})},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svlChain, Rules: []string{random(epA)}}},
				Map:    []Element{{vip, "goto " + svlChain}},
			},
		},
		{
			name: "LoadBalancer: ingress IPs (not ipMode Proxy) and externalIPs on the service port",
			svc: with(web(corev1.ServiceTypeLoadBalancer, 30080), func(s *corev1.Service) {
				s.Spec.ExternalIPs = []string{"198.51.100.3", "2001:db8::3"}
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
					{IP: "203.0.113.7"}, {IP: "203.0.113.8", IPMode: &proxyMode}, {Hostname: "lb.example.com"}}
			}),
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)},
			want: &ServiceRules{
				Chains: []Chain{chainA, {Name: svcChain, Rules: []string{random(epA)}}},
				Map: []Element{
					{vip, "goto " + svcChain},
					{nodePort, "goto " + svcChain},
					{Dest{"198.51.100.3", "tcp", 80}, "goto " + svcChain},
					{Dest{"203.0.113.7", "tcp", 80}, "goto " + svcChain},
				},
			},
		},
		{
			name: "ingress IPs of a Service that is no LoadBalancer are ignored",
			svc: with(web(corev1.ServiceTypeClusterIP, 0), func(s *corev1.Service) {
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}
			}),
			want: &ServiceRules{Filter: []Element{{vip, reject}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuildService(tt.svc, tt.slices, local)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("BuildService:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestBuildClaims checks that of two Services claiming one destination the first by key keeps it, and that the
// loser is handed back for a rebuild once the owner lets it go.
func TestBuildClaims(t *testing.T) {
	one := with(svc("one", "10.43.0.21", corev1.ServiceTypeClusterIP, port("http", 80, 0)), func(s *corev1.Service) {
		s.Spec.ExternalIPs = []string{"198.51.100.3"}
	})
	two := with(svc("two", "10.43.0.22", corev1.ServiceTypeClusterIP, port("http", 80, 0)), func(s *corev1.Service) {
		s.Spec.ExternalIPs = []string{"198.51.100.3"}
	})
	tbl := Build([]*corev1.Service{two, one}, nil, local)
	ext := Dest{"198.51.100.3", "tcp", 80}
	if got, want := tbl.Rules("default/one").Filter, []Element{{Dest{"10.43.0.21", "tcp", 80}, reject}, {ext, reject}}; !reflect.DeepEqual(got, want) {
		t.Errorf("one: %v, want %v", got, want)
	}
	if got, want := tbl.Rules("default/two").Filter, []Element{{Dest{"10.43.0.22", "tcp", 80}, reject}}; !reflect.DeepEqual(got, want) {
		t.Errorf("two: %v, want %v", got, want)
	}
	if retry := tbl.Set(nil, "default/one", nil); !reflect.DeepEqual(retry, []string{"default/two"}) {
		t.Errorf("deleting one: retry %v, want [default/two]", retry)
	}
	tbl.Set(nil, "default/two", BuildService(two, nil, local))
	if got := tbl.Rules("default/two").Filter; len(got) != 2 {
		t.Errorf("two after one went: %v, want its ClusterIP and external IP", got)
	}
}
