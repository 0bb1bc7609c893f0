package printers

import (
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIngressRows(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	created := metav1.NewTime(now.Add(-90 * time.Second))
	rules := func(hosts ...string) []networkingv1.IngressRule {
		var rs []networkingv1.IngressRule
		for _, h := range hosts {
			rs = append(rs, networkingv1.IngressRule{Host: h})
		}
		return rs
	}
	for _, tc := range []struct {
		name string
		ing  networkingv1.Ingress
		want []interface{}
	}{
		{name: "no class, no hosts, no TLS", ing: networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "a", CreationTimestamp: created}, Spec: networkingv1.IngressSpec{Rules: rules("")}},
			want: []interface{}{"a", "<none>", "*", "", "80", "90s"}},
		{name: "hosts, TLS and addresses", ing: networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: created},
			Spec:   networkingv1.IngressSpec{IngressClassName: ptr("nginx"), Rules: rules("a.io", "", "b.io"), TLS: []networkingv1.IngressTLS{{}}},
			Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.2"}, {Hostname: "lb.example.com"}, {IP: "10.0.0.1"}}}}},
			want: []interface{}{"b", "nginx", "a.io,b.io", "10.0.0.1,10.0.0.2,lb.example.com", "80, 443", "90s"}},
		{name: "more than three hosts", ing: networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "c", CreationTimestamp: created}, Spec: networkingv1.IngressSpec{Rules: rules("a", "b", "c", "d", "e")}},
			want: []interface{}{"c", "<none>", "a,b,c + 2 more...", "", "80", "90s"}},
	} {
		got := printIngress(&tc.ing, now)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: cell %d = %v, want %v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	scope := networkingv1.IngressClassParametersReferenceScopeCluster
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "lb", CreationTimestamp: created}, Spec: networkingv1.IngressClassSpec{
		Controller: "example.com/lb", Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external", Scope: &scope}}}
	if got := printIngressClass(ic, now)[2]; got != "IngressParameters.k8s.example.com/external" {
		t.Errorf("ingress class parameters %v", got)
	}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", CreationTimestamp: created}}
	if got := printNetworkPolicy(np, now)[1]; got != "<none>" {
		t.Errorf("empty pod selector printed %v", got)
	}
	np.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
	if got := printNetworkPolicy(np, now)[1]; got != "app=db" {
		t.Errorf("pod selector printed %v", got)
	}
}
