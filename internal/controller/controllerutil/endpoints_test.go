package controllerutil

import (
	"fmt"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestFindPort(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	p := pod("a", func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		}}}
		p.Spec.InitContainers = []corev1.Container{
			{Ports: []corev1.ContainerPort{{Name: "init-only", ContainerPort: 1}}},
			{RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "sidecar", ContainerPort: 15000}}},
		}
	})
	for _, tc := range []struct {
		port    corev1.ServicePort
		want    int32
		wantErr bool
	}{
		{port: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}, want: 8080},
		{port: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, want: 8080},
		{port: corev1.ServicePort{Port: 53, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolUDP}, want: 53},
		{port: corev1.ServicePort{Port: 53, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolTCP}, wantErr: true},
		{port: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("sidecar")}, want: 15000},
		{port: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("init-only")}, wantErr: true},
		{port: corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(9000)}, want: 9000},
		{port: corev1.ServicePort{Port: 80}, want: 80},
	} {
		got, err := FindPort(p, &tc.port)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%+v: %d %v, want %d (error %v)", tc.port, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestShouldPodBeInEndpoints(t *testing.T) {
	withIP := func(p *corev1.Pod) { p.Status.PodIP = "10.0.0.1" }
	for _, tc := range []struct {
		pod                *corev1.Pod
		terminating, plain bool
	}{
		{pod("ok", withIP), true, true},
		{pod("no-ip"), false, false},
		{pod("ips-only", func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "fd00::1"}} }), true, true},
		{pod("done", withIP, phase(corev1.PodSucceeded)), false, false},
		{pod("failed", withIP, phase(corev1.PodFailed)), false, false},
		{pod("deleting", withIP, func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(now)) }), true, false},
	} {
		if got := ShouldPodBeInEndpoints(tc.pod, true); got != tc.terminating {
			t.Errorf("%s including terminating: %v", tc.pod.Name, got)
		}
		if got := ShouldPodBeInEndpoints(tc.pod, false); got != tc.plain {
			t.Errorf("%s: %v", tc.pod.Name, got)
		}
	}
	if got := PodIPs(pod("x", withIP)); fmt.Sprint(got) != "[10.0.0.1]" {
		t.Errorf("PodIPs from podIP: %v", got)
	}
	if !IsIPv6("fd00::1") || IsIPv6("10.0.0.1") || IsIPv6("::ffff:10.0.0.1") || IsIPv6("") {
		t.Error("IsIPv6")
	}
}

func TestServiceKeysForPodChange(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	idx := factory.Core().V1().Services().Informer().GetIndexer()
	for _, s := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "all", Namespace: "ns"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "other"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
	} {
		_ = idx.Add(s)
	}
	lister := factory.Core().V1().Services().Lister()
	old := pod("p", func(p *corev1.Pod) {
		p.Labels, p.ResourceVersion, p.Status.PodIP = map[string]string{"app": "web"}, "1", "10.0.0.1"
	})
	change := func(f func(*corev1.Pod)) *corev1.Pod {
		p := old.DeepCopy()
		p.ResourceVersion = "2"
		f(p)
		return p
	}
	for _, tc := range []struct {
		name string
		cur  *corev1.Pod
		want string
	}{
		{"resync", old.DeepCopy(), "[]"},
		{"annotation", change(func(p *corev1.Pod) { p.Annotations = map[string]string{"a": "b"} }), "[]"},
		{"ready", change(func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}), "[ns/web]"},
		{"ip", change(func(p *corev1.Pod) { p.Status.PodIP = "10.0.0.2" }), "[ns/web]"},
		{"deleting", change(func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(now)) }), "[ns/web]"},
		{"relabelled", change(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "api"} }), "[ns/api ns/web]"},
		{"hostname", change(func(p *corev1.Pod) { p.Spec.Hostname = "h" }), "[ns/web]"},
	} {
		got := ServiceKeysForPodChange(lister, old, tc.cur)
		sort.Strings(got)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPodNodeNameIndex(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	inf := factory.Core().V1().Pods().Informer()
	for i := 0; i < 2; i++ { // a second controller asking for it is fine
		if err := AddPodNodeNameIndex(inf); err != nil {
			t.Fatal(err)
		}
	}
	_ = inf.GetIndexer().Add(pod("a"))
	_ = inf.GetIndexer().Add(pod("b", unassigned))
	_ = inf.GetIndexer().Add(pod("c", func(p *corev1.Pod) { p.Spec.NodeName = "n2" }))
	pods, err := PodsOnNode(inf.GetIndexer(), "n1")
	if err != nil || len(pods) != 1 || pods[0].Name != "a" {
		t.Errorf("pods on n1: %v %v", pods, err)
	}
}
