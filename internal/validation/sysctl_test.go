package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateSysctls(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want []string
	}{
		{name: "upstream's conformance case",
			spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
				{Name: "foo-", Value: "bar"}, {Name: "kernel.shmmax", Value: "1"}, {Name: "safe-and-unsafe", Value: "1"}, {Name: "bar..", Value: "42"}}}},
			want: []string{
				`spec.securityContext.sysctls[0].name: Invalid value: "foo-": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`,
				`spec.securityContext.sysctls[3].name: Invalid value: "bar..": must have at most 253 characters`,
			}},
		{name: "slashes", spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net/ipv4/ip_local_port_range"}}}}},
		{name: "empty and duplicate",
			spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: ""}, {Name: "kernel.shmmax"}, {Name: "kernel.shmmax"}}}},
			want: []string{`spec.securityContext.sysctls[0].name: Required value`, `spec.securityContext.sysctls[2].name: Duplicate value: "kernel.shmmax"`}},
		{name: "host namespaces",
			spec: corev1.PodSpec{HostNetwork: true, HostIPC: true, SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn"}, {Name: "kernel.msgmax"}, {Name: "kernel.hostname"}}}},
			want: []string{`spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`,
				`spec.securityContext.sysctls[1].name: Invalid value: "kernel.msgmax": may not be specified when 'hostIPC' is true`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := validateSysctls(&tc.spec, field.NewPath("spec", "securityContext", "sysctls"))
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %v, want %d", errs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}
