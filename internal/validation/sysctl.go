package validation

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Sysctl names as kube-apiserver checks them (pkg/apis/core/validation: IsValidSysctlName, ValidateHostSysctl).
const (
	sysctlSegmentFmt      = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	sysctlContainSlashFmt = "(" + sysctlSegmentFmt + "[\\./])*" + sysctlSegmentFmt
	sysctlMaxLength       = 253
)

var sysctlContainSlashRegexp = regexp.MustCompile("^" + sysctlContainSlashFmt + "$")

// validSysctlName reports whether name is a sysctl name with dots or slashes as separators.
func validSysctlName(name string) bool {
	return len(name) <= sysctlMaxLength && sysctlContainSlashRegexp.MatchString(name)
}

// validateSysctls checks a pod's securityContext.sysctls: names required, well formed and unique, and no sysctl of a
// namespace the pod shares with the host.
func validateSysctls(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := map[string]bool{}
	for i, s := range spec.SecurityContext.Sysctls {
		p := fldPath.Index(i).Child("name")
		switch {
		case s.Name == "":
			allErrs = append(allErrs, field.Required(p, ""))
		case !validSysctlName(s.Name):
			allErrs = append(allErrs, field.Invalid(p, s.Name, fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlContainSlashRegexp)))
		case names[s.Name]:
			allErrs = append(allErrs, field.Duplicate(p, s.Name))
		}
		switch ns := sysctlNamespace(s.Name); {
		case spec.HostNetwork && ns == "net":
			allErrs = append(allErrs, field.Invalid(p, s.Name, "may not be specified when 'hostNetwork' is true"))
		case spec.HostIPC && ns == "ipc":
			allErrs = append(allErrs, field.Invalid(p, s.Name, "may not be specified when 'hostIPC' is true"))
		}
		names[s.Name] = true
	}
	return allErrs
}

// sysctlNamespace is the kernel namespace a sysctl belongs to ("ipc", "net", "uts"), or "" for a node-level one.
func sysctlNamespace(name string) string {
	n := name
	if strings.Contains(n, "/") {
		// A name written with slashes uses them as separators (and dots within a segment), as the kubelet reads it.
		n = strings.NewReplacer("/", ".", ".", "/").Replace(n)
	}
	switch {
	case strings.HasPrefix(n, "kernel.shm"), strings.HasPrefix(n, "kernel.msg"), n == "kernel.sem", strings.HasPrefix(n, "fs.mqueue."):
		return "ipc"
	case strings.HasPrefix(n, "net."):
		return "net"
	case n == "kernel.hostname", n == "kernel.domainname":
		return "uts"
	}
	return ""
}
