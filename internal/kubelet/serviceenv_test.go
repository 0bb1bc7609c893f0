package kubelet

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestServiceEnv(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, s := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"}, Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.1",
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "my-web"}, Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.9",
			Ports: []corev1.ServicePort{{Port: 80}, {Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "headless"}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone,
			Ports: []corev1.ServicePort{{Port: 80}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "elsewhere"}, Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.7",
			Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if err := idx.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	k := &Kubelet{svcLister: corelisters.NewServiceLister(idx)}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "p"}}
	c := &corev1.Container{Name: "c", Env: []corev1.EnvVar{
		{Name: "URL", Value: "http://$(MY_WEB_SERVICE_HOST):$(MY_WEB_SERVICE_PORT)"},
		{Name: "MY_WEB_SERVICE_PORT", Value: "8080"}, // the container's own definition wins
	}}
	got := map[string]string{}
	env, err := k.containerEnv(pod, c, "10.42.0.5")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range env {
		got[e.Name] = e.Value
		order = append(order, e.Name)
	}
	want := map[string]string{
		"URL":                           "http://10.43.0.9:80",
		"MY_WEB_SERVICE_PORT":           "8080",
		"MY_WEB_SERVICE_HOST":           "10.43.0.9",
		"MY_WEB_SERVICE_PORT_DNS_UDP":   "53",
		"MY_WEB_PORT":                   "tcp://10.43.0.9:80",
		"MY_WEB_PORT_80_TCP":            "tcp://10.43.0.9:80",
		"MY_WEB_PORT_80_TCP_PROTO":      "tcp",
		"MY_WEB_PORT_80_TCP_PORT":       "80",
		"MY_WEB_PORT_80_TCP_ADDR":       "10.43.0.9",
		"MY_WEB_PORT_53_UDP":            "udp://10.43.0.9:53",
		"MY_WEB_PORT_53_UDP_PROTO":      "udp",
		"KUBERNETES_SERVICE_HOST":       "10.43.0.1",
		"KUBERNETES_SERVICE_PORT":       "443",
		"KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT":               "tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP_ADDR":  "10.43.0.1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "HEADLESS_") || strings.HasPrefix(k, "ELSEWHERE_") {
			t.Errorf("%s: a headless service or another namespace's service leaked in", k)
		}
	}
	if order[0] != "URL" || order[1] != "MY_WEB_SERVICE_PORT" {
		t.Errorf("the container's variables must come first: %v", order)
	}

	// enableServiceLinks: false leaves only the kubernetes service's variables.
	off := false
	pod.Spec.EnableServiceLinks = &off
	env, _ = k.containerEnv(pod, &corev1.Container{Name: "c"}, "")
	for _, e := range env {
		if !strings.HasPrefix(e.Name, "KUBERNETES_") {
			t.Errorf("with enableServiceLinks false: %s", e.Name)
		}
	}
	if len(env) == 0 {
		t.Errorf("with enableServiceLinks false the kubernetes service's variables are still set")
	}
}
