package proxy

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"
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

type ep struct {
	ip                          string
	ready, serving, terminating bool
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
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.ip}, Conditions: discoveryv1.EndpointConditions{
			Ready: &e.ready, Serving: &e.serving, Terminating: &e.terminating}})
	}
	return s
}

var (
	a = ep{ip: "10.42.0.5", ready: true, serving: true}
	b = ep{ip: "10.42.0.6", ready: true, serving: true}
)

func TestBuild(t *testing.T) {
	const svcChain = "svc-default/web/tcp/80"
	epA := Chain{Name: "ep-default/web/tcp/80__10.42.0.5/8080", Rules: []string{"meta l4proto tcp dnat to 10.42.0.5:8080"}}
	epB := Chain{Name: "ep-default/web/tcp/80__10.42.0.6/8080", Rules: []string{"meta l4proto tcp dnat to 10.42.0.6:8080"}}
	vip := Dest{IP: "10.43.0.20", Proto: "tcp", Port: 80}
	tests := []struct {
		name     string
		services []*corev1.Service
		slices   []*discoveryv1.EndpointSlice
		want     *Ruleset
	}{
		{
			name:     "two ready endpoints: random over both",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			slices:   []*discoveryv1.EndpointSlice{slice("web", "http", 8080, b, a)},
			want: &Ruleset{
				Services: []MapEntry{{Dest: vip, Chain: svcChain}},
				Chains: []Chain{epA, epB, {Name: svcChain, Rules: []string{
					"numgen random mod 2 vmap { 0 : goto " + epA.Name + " , 1 : goto " + epB.Name + " }"}}},
				Hairpin: []string{"10.42.0.5", "10.42.0.6"},
			},
		},
		{
			name:     "no slice: rejected",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			want:     &Ruleset{NoEndpoints: []Dest{vip}},
		},
		{
			name:     "only not-ready endpoints: rejected",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			slices:   []*discoveryv1.EndpointSlice{slice("web", "http", 8080, ep{ip: "10.42.0.5"})},
			want:     &Ruleset{NoEndpoints: []Dest{vip}},
		},
		{
			name:     "terminating-but-serving ignored while a ready endpoint exists",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080,
				a, ep{ip: "10.42.0.6", serving: true, terminating: true})},
			want: &Ruleset{
				Services: []MapEntry{{Dest: vip, Chain: svcChain}},
				Chains:   []Chain{epA, {Name: svcChain, Rules: []string{"numgen random mod 1 vmap { 0 : goto " + epA.Name + " }"}}},
				Hairpin:  []string{"10.42.0.5"},
			},
		},
		{
			name:     "terminating-but-serving used when no ready endpoint is left",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			slices: []*discoveryv1.EndpointSlice{slice("web", "http", 8080,
				ep{ip: "10.42.0.5", serving: false, terminating: true}, ep{ip: "10.42.0.6", serving: true, terminating: true})},
			want: &Ruleset{
				Services: []MapEntry{{Dest: vip, Chain: svcChain}},
				Chains:   []Chain{epB, {Name: svcChain, Rules: []string{"numgen random mod 1 vmap { 0 : goto " + epB.Name + " }"}}},
				Hairpin:  []string{"10.42.0.6"},
			},
		},
		{
			name:     "NodePort on every node address, same chain",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeNodePort, port("http", 80, 30080))},
			slices:   []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a)},
			want: &Ruleset{
				Services: []MapEntry{
					{Dest: vip, Chain: svcChain},
					{Dest: Dest{IP: "192.0.2.10", Proto: "tcp", Port: 30080}, Chain: svcChain},
				},
				Chains:  []Chain{epA, {Name: svcChain, Rules: []string{"numgen random mod 1 vmap { 0 : goto " + epA.Name + " }"}}},
				Hairpin: []string{"10.42.0.5"},
			},
		},
		{
			name:     "NodePort without endpoints: VIP and node port rejected",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeNodePort, port("http", 80, 30080))},
			want:     &Ruleset{NoEndpoints: []Dest{vip, {IP: "192.0.2.10", Proto: "tcp", Port: 30080}}},
		},
		{
			name: "headless, ExternalName and slices of other ports or services are ignored",
			services: []*corev1.Service{
				svc("headless", "None", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
				svc("ext", "", corev1.ServiceTypeExternalName),
				svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0)),
			},
			slices: []*discoveryv1.EndpointSlice{slice("web", "metrics", 9090, a), slice("other", "http", 8080, a)},
			want:   &Ruleset{NoEndpoints: []Dest{vip}},
		},
		{
			name:     "duplicate endpoints across slices are merged",
			services: []*corev1.Service{svc("web", "10.43.0.20", corev1.ServiceTypeClusterIP, port("http", 80, 0))},
			slices:   []*discoveryv1.EndpointSlice{slice("web", "http", 8080, a), slice("web", "http", 8080, a)},
			want: &Ruleset{
				Services: []MapEntry{{Dest: vip, Chain: svcChain}},
				Chains:   []Chain{epA, {Name: svcChain, Rules: []string{"numgen random mod 1 vmap { 0 : goto " + epA.Name + " }"}}},
				Hairpin:  []string{"10.42.0.5"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.services, tt.slices, []string{"192.0.2.10", "fe80::1"})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Build:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestTransaction renders a Ruleset into the fake nft (which checks the objects' references) and checks the dump.
func TestTransaction(t *testing.T) {
	rs := Build(
		[]*corev1.Service{
			svc("web", "10.43.0.20", corev1.ServiceTypeNodePort, port("http", 80, 30080)),
			svc("empty", "10.43.0.21", corev1.ServiceTypeClusterIP, port("", 81, 0)),
		},
		[]*discoveryv1.EndpointSlice{slice("web", "http", 8080, a, b)},
		[]string{"192.0.2.10"})
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	for range 2 { // a second full rewrite replaces the first
		if err := Apply(context.Background(), fake, rs); err != nil {
			t.Fatal(err)
		}
	}
	dump := fake.Dump()
	for _, want := range []string{
		"add chain ip skiff nat-output { type nat hook output priority -100 ; }",
		"add rule ip skiff nat-output ip daddr . meta l4proto . th dport vmap @service-ips",
		"add element ip skiff service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/80 }",
		"add element ip skiff service-ips { 192.0.2.10 . tcp . 30080 : goto svc-default/web/tcp/80 }",
		"add element ip skiff no-endpoints { 10.43.0.21 . tcp . 81 : goto reject-chain }",
		"add rule ip skiff reject-chain meta l4proto tcp reject with tcp reset",
		"add rule ip skiff nat-postrouting ct status dnat ip saddr 10.42.0.5 ip daddr 10.42.0.5 masquerade",
		"add rule ip skiff ep-default/web/tcp/80__10.42.0.6/8080 meta l4proto tcp dnat to 10.42.0.6:8080",
	} {
		if !strings.Contains(dump, want+"\n") {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	if n := strings.Count(dump, "add rule ip skiff nat-output "); n != 1 {
		t.Errorf("nat-output has %d rules after two syncs, want 1", n)
	}
}
