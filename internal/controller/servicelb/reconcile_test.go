package servicelb

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// node builds a node; addrs are "Type=address" ("I=" InternalIP, "E=" ExternalIP).
func node(name string, ready corev1.ConditionStatus, addrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}
	}
	for _, a := range addrs {
		typ := corev1.NodeInternalIP
		if strings.HasPrefix(a, "E=") {
			typ = corev1.NodeExternalIP
		}
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: typ, Address: a[2:]})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	return n
}

func svc(typ corev1.ServiceType, families ...corev1.IPFamily) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: typ, IPFamilies: families},
	}
}

func ips(in []corev1.LoadBalancerIngress) string {
	var out []string
	for _, i := range in {
		s := i.IP
		if i.IPMode == nil || *i.IPMode != corev1.LoadBalancerIPModeVIP {
			s += "(no VIP)"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func TestDesiredIngress(t *testing.T) {
	v4 := corev1.IPv4Protocol
	v6 := corev1.IPv6Protocol
	cordoned := node("c", corev1.ConditionTrue, "I=10.0.0.3")
	cordoned.Spec.Unschedulable = true
	excluded := node("x", corev1.ConditionTrue, "I=10.0.0.4")
	excluded.Labels = map[string]string{LabelExcludeFromLB: ""}
	classed := svc(corev1.ServiceTypeLoadBalancer, v4)
	classed.Spec.LoadBalancerClass = ptr.To("example.com/lb")

	tests := []struct {
		name  string
		svc   *corev1.Service
		nodes []*corev1.Node
		skip  bool
		lb    bool
		want  string
	}{
		{name: "internal IPs of ready nodes, sorted as strings",
			svc:   svc(corev1.ServiceTypeLoadBalancer, v4),
			nodes: []*corev1.Node{node("b", corev1.ConditionTrue, "I=10.0.0.2"), node("a", corev1.ConditionTrue, "I=10.0.0.10"), node("d", corev1.ConditionTrue, "I=10.0.0.2")},
			lb:    true, want: "10.0.0.10,10.0.0.2"},
		{name: "not ready, unknown, cordoned, excluded and condition-less nodes left out",
			svc: svc(corev1.ServiceTypeLoadBalancer, v4),
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=10.0.0.1"), node("b", corev1.ConditionFalse, "I=10.0.0.2"),
				node("u", corev1.ConditionUnknown, "I=10.0.0.5"), node("n", "", "I=10.0.0.6"), cordoned, excluded},
			lb: true, want: "10.0.0.1"},
		{name: "external IPs win when any node has one",
			svc:   svc(corev1.ServiceTypeLoadBalancer, v4),
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=10.0.0.1", "E=203.0.113.1"), node("b", corev1.ConditionTrue, "I=10.0.0.2")},
			lb:    true, want: "203.0.113.1"},
		{name: "only the service's IP families",
			svc:   svc(corev1.ServiceTypeLoadBalancer, v6),
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=10.0.0.1", "I=fd00::1")},
			lb:    true, want: "fd00::1"},
		{name: "dual stack keeps both",
			svc:   svc(corev1.ServiceTypeLoadBalancer, v4, v6),
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=fd00::1", "I=10.0.0.1")},
			lb:    true, want: "10.0.0.1,fd00::1"},
		{name: "no eligible node: no ingress",
			svc:   svc(corev1.ServiceTypeLoadBalancer, v4),
			nodes: []*corev1.Node{node("b", corev1.ConditionFalse, "I=10.0.0.2")},
			lb:    true, want: ""},
		{name: "not a load balancer: no ingress",
			svc:   svc(corev1.ServiceTypeNodePort, v4),
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=10.0.0.1")},
			want:  ""},
		{name: "another class: skipped",
			svc:   classed,
			nodes: []*corev1.Node{node("a", corev1.ConditionTrue, "I=10.0.0.1")},
			skip:  true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DesiredIngress(tt.svc, tt.nodes)
			if got.Skip != tt.skip || got.LoadBalancer != tt.lb {
				t.Fatalf("skip=%v lb=%v, want skip=%v lb=%v", got.Skip, got.LoadBalancer, tt.skip, tt.lb)
			}
			if s := ips(got.Ingress); s != tt.want {
				t.Errorf("ingress = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestChanged(t *testing.T) {
	vip, proxy := corev1.LoadBalancerIPModeVIP, corev1.LoadBalancerIPModeProxy
	a := []corev1.LoadBalancerIngress{{IP: "10.0.0.1", IPMode: &vip}}
	tests := []struct {
		name string
		cur  []corev1.LoadBalancerIngress
		want bool
	}{
		{"same", []corev1.LoadBalancerIngress{{IP: "10.0.0.1", IPMode: &vip}}, false},
		{"other ip", []corev1.LoadBalancerIngress{{IP: "10.0.0.2", IPMode: &vip}}, true},
		{"other mode", []corev1.LoadBalancerIngress{{IP: "10.0.0.1", IPMode: &proxy}}, true},
		{"ports set", []corev1.LoadBalancerIngress{{IP: "10.0.0.1", IPMode: &vip, Ports: []corev1.PortStatus{{Port: 80}}}}, true},
		{"empty", nil, true},
	}
	for _, tt := range tests {
		if got := Changed(tt.cur, a); got != tt.want {
			t.Errorf("%s: Changed = %v, want %v", tt.name, got, tt.want)
		}
	}
	if Changed(nil, nil) {
		t.Error("Changed(nil, nil) = true")
	}
}
