package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestSandboxSecurityContextPrivileged(t *testing.T) {
	yes, no := true, false
	priv := &corev1.SecurityContext{Privileged: &yes}
	unpriv := &corev1.SecurityContext{Privileged: &no}
	for _, tc := range []struct {
		name string
		edit func(p *corev1.Pod)
		want bool
	}{
		{"no security context", func(p *corev1.Pod) {}, false},
		{"privileged false", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = unpriv }, false},
		{"regular container", func(p *corev1.Pod) { p.Spec.Containers[1].SecurityContext = priv }, true},
		{"init container", func(p *corev1.Pod) { p.Spec.InitContainers[0].SecurityContext = priv }, true},
		{"ephemeral container", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", SecurityContext: priv}}}
		}, true},
		{"ephemeral unprivileged", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", SecurityContext: unpriv}}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPod(corev1.RestartPolicyAlways, "init:setup", "a", "b")
			tc.edit(p)
			sc := sandboxSecurityContext(p)
			if sc.Privileged != tc.want {
				t.Fatalf("sandbox privileged = %v, want %v", sc.Privileged, tc.want)
			}
			if sc.NamespaceOptions == nil || sc.NamespaceOptions.Network != runtimeapi.NamespaceMode_POD {
				t.Fatalf("namespace options = %+v", sc.NamespaceOptions)
			}
		})
	}
}

func TestSandboxSecurityContextUser(t *testing.T) {
	uid, gid := int64(1000), int64(2000)
	p := testPod(corev1.RestartPolicyAlways, "a")
	p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &gid, SupplementalGroups: []int64{3000}}
	sc := sandboxSecurityContext(p)
	if sc.RunAsUser.GetValue() != 1000 || sc.RunAsGroup.GetValue() != 2000 || len(sc.SupplementalGroups) != 1 || sc.SupplementalGroups[0] != 3000 || sc.Privileged {
		t.Fatalf("sandbox security context = %+v", sc)
	}
}
