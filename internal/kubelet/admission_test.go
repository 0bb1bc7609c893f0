package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestAdmitPod(t *testing.T) {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi"), corev1.ResourcePods: resource.MustParse("3")}},
	}
	tainted := node.DeepCopy()
	tainted.Spec.Taints = []corev1.Taint{{Key: "maintenance", Effect: corev1.TaintEffectNoExecute}}
	pod := func(name, cpu string, hostPort int32) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("u-" + name)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		if cpu != "" {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		}
		if hostPort != 0 {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: hostPort, Protocol: corev1.ProtocolTCP}}
		}
		return p
	}
	withSelector := pod("sel", "", 0)
	withSelector.Spec.NodeSelector = map[string]string{"zone": "b"}
	tolerating := pod("tol", "", 0)
	tolerating.Spec.Tolerations = []corev1.Toleration{{Key: "maintenance", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
	for _, tc := range []struct {
		name            string
		pod             *corev1.Pod
		node            *corev1.Node
		others          []*corev1.Pod
		reason, message string
	}{
		{name: "fits", pod: pod("p", "500m", 8080), node: node, others: []*corev1.Pod{pod("o", "400m", 9090)}},
		{name: "cpu", pod: pod("p", "700m", 0), node: node, others: []*corev1.Pod{pod("o", "400m", 0)},
			reason: "OutOfcpu", message: "Node didn't have enough resource: cpu, requested: 700, used: 400, capacity: 1000"},
		{name: "pods", pod: pod("p", "", 0), node: node, others: []*corev1.Pod{pod("a", "", 0), pod("b", "", 0), pod("c", "", 0)},
			reason: "OutOfpods", message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"},
		{name: "node selector", pod: withSelector, node: node,
			reason: "NodeAffinity", message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"},
		{name: "host port taken", pod: pod("p", "", 8080), node: node, others: []*corev1.Pod{pod("o", "", 8080)},
			reason: "NodePorts", message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"},
		{name: "untolerated NoExecute taint", pod: pod("p", "", 0), node: tainted,
			reason: "TaintToleration", message: "Predicate TaintToleration failed: node(s) had untolerated taint(s)"},
		{name: "tolerated NoExecute taint", pod: tolerating, node: tainted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := admitPod(tc.pod, tc.node, tc.others)
			if a.Admit != (tc.reason == "") || a.Reason != tc.reason || a.Message != tc.message {
				t.Fatalf("admitPod = %+v, want reason %q message %q", a, tc.reason, tc.message)
			}
		})
	}
}
