package controllerutil

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// What the EndpointSlice and Endpoints controllers share, with the semantics of Kubernetes'
// staging/src/k8s.io/endpointslice/util and pkg/api/v1/pod helpers.

// ShouldPodBeInEndpoints reports whether pod may back a Service at all: it is not terminal (Succeeded or Failed),
// it has an IP, and, unless includeTerminating, it is not being deleted.
func ShouldPodBeInEndpoints(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// PodIPs returns pod's IPs: status.podIPs, or status.podIP when only that is set.
func PodIPs(pod *corev1.Pod) []string {
	if len(pod.Status.PodIPs) == 0 {
		if pod.Status.PodIP == "" {
			return nil
		}
		return []string{pod.Status.PodIP}
	}
	out := make([]string, len(pod.Status.PodIPs))
	for i, ip := range pod.Status.PodIPs {
		out[i] = ip.IP
	}
	return out
}

// IsIPv6 reports whether s is an IPv6 address (false for anything unparsable).
func IsIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && !a.Is4In6()
}

// FindPort returns the container port of pod that svcPort's targetPort names: a number is used as it is, a name is
// looked up among the ports of the pod's containers and restartable init containers with the same protocol.
// A targetPort left at 0 means the service port. It fails when the name matches no port.
func FindPort(pod *corev1.Pod, svcPort *corev1.ServicePort) (int32, error) {
	tp := svcPort.TargetPort
	switch {
	case tp.Type == intstr.String:
		proto := svcPort.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		match := func(cs []corev1.Container, sidecarsOnly bool) (int32, bool) {
			for _, c := range cs {
				if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
					continue
				}
				for _, p := range c.Ports {
					pp := p.Protocol
					if pp == "" {
						pp = corev1.ProtocolTCP
					}
					if p.Name == tp.StrVal && pp == proto {
						return p.ContainerPort, true
					}
				}
			}
			return 0, false
		}
		if n, ok := match(pod.Spec.Containers, false); ok {
			return n, nil
		}
		if n, ok := match(pod.Spec.InitContainers, true); ok {
			return n, nil
		}
		return 0, fmt.Errorf("no container port named %q in pod %s/%s", tp.StrVal, pod.Namespace, pod.Name)
	case tp.IntVal == 0:
		return svcPort.Port, nil
	default:
		return tp.IntVal, nil
	}
}

// ShouldSetHostname reports whether pod's endpoint for svc carries pod.spec.hostname: the pod names svc as its
// subdomain (same namespace) and has a hostname.
func ShouldSetHostname(pod *corev1.Pod, svc *corev1.Service) bool {
	return pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace
}

// IsServiceIPSet reports whether svc has a cluster IP (it is not headless).
func IsServiceIPSet(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != corev1.ClusterIPNone && svc.Spec.ClusterIP != ""
}

// ServiceKeysForPod returns the keys (namespace/name) of the Services with a selector that selects pod.
func ServiceKeysForPod(lister corelisters.ServiceLister, pod *corev1.Pod) []string {
	if pod == nil {
		return nil
	}
	svcs, err := lister.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []string
	set := labels.Set(pod.Labels)
	for _, s := range svcs {
		if len(s.Spec.Selector) == 0 {
			continue
		}
		if labels.SelectorFromValidatedSet(s.Spec.Selector).Matches(set) {
			out = append(out, s.Namespace+"/"+s.Name)
		}
	}
	return out
}

// ServiceKeysForPodChange returns the keys of the Services whose endpoints may change because old became cur: none
// if nothing an endpoint shows changed; the Services selecting cur, and also those that selected old when its
// labels, hostname or subdomain changed.
func ServiceKeysForPodChange(lister corelisters.ServiceLister, old, cur *corev1.Pod) []string {
	if old.ResourceVersion == cur.ResourceVersion {
		return nil
	}
	changed, labelsChanged := podEndpointsChanged(old, cur)
	if !changed && !labelsChanged {
		return nil
	}
	keys := ServiceKeysForPod(lister, cur)
	if labelsChanged {
		seen := map[string]bool{}
		for _, k := range keys {
			seen[k] = true
		}
		for _, k := range ServiceKeysForPod(lister, old) {
			if !seen[k] {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// podEndpointsChanged reports whether an endpoint built from cur differs from one built from old, and whether the
// pod's Service membership (labels) or DNS identity (hostname, subdomain) changed.
func podEndpointsChanged(old, cur *corev1.Pod) (changed, labelsChanged bool) {
	labelsChanged = !labels.Equals(old.Labels, cur.Labels) || old.Spec.Hostname != cur.Spec.Hostname || old.Spec.Subdomain != cur.Spec.Subdomain
	switch {
	case (old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil),
		IsPodReady(old) != IsPodReady(cur),
		old.Spec.NodeName != cur.Spec.NodeName,
		old.Status.Phase != cur.Status.Phase && (cur.Status.Phase == corev1.PodSucceeded || cur.Status.Phase == corev1.PodFailed):
		return true, labelsChanged
	}
	oi, ci := PodIPs(old), PodIPs(cur)
	if len(oi) != len(ci) {
		return true, labelsChanged
	}
	for i := range oi {
		if oi[i] != ci[i] {
			return true, labelsChanged
		}
	}
	return false, labelsChanged
}
