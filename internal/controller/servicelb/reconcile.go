package servicelb

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// LabelExcludeFromLB marks nodes that must not serve external load balancers, as upstream.
const LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"

// Desired is what a Service's load-balancer status should be.
type Desired struct {
	// Skip is true for a Service another implementation manages (spec.loadBalancerClass set).
	Skip bool
	// LoadBalancer reports whether the Service is of type LoadBalancer.
	LoadBalancer bool
	// Ingress is the wanted status.loadBalancer.ingress (nil for none).
	Ingress []corev1.LoadBalancerIngress
}

// DesiredIngress computes the load-balancer ingress svc should have given the cluster's nodes; see the package
// documentation for the rules.
func DesiredIngress(svc *corev1.Service, nodes []*corev1.Node) Desired {
	if svc.Spec.LoadBalancerClass != nil {
		return Desired{Skip: true}
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return Desired{}
	}
	var external, internal []string
	for _, n := range nodes {
		if !Eligible(n) {
			continue
		}
		for _, a := range n.Status.Addresses {
			switch a.Type {
			case corev1.NodeExternalIP:
				external = append(external, a.Address)
			case corev1.NodeInternalIP:
				internal = append(internal, a.Address)
			}
		}
	}
	ips := internal
	if len(external) > 0 {
		ips = external
	}
	families := map[corev1.IPFamily]bool{}
	for _, f := range svc.Spec.IPFamilies {
		families[f] = true
	}
	seen := map[string]bool{}
	var kept []string
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		s = a.Unmap().String()
		fam := corev1.IPv4Protocol
		if !a.Unmap().Is4() {
			fam = corev1.IPv6Protocol
		}
		if (len(families) > 0 && !families[fam]) || seen[s] {
			continue
		}
		seen[s] = true
		kept = append(kept, s)
	}
	sort.Strings(kept)
	d := Desired{LoadBalancer: true}
	for _, ip := range kept {
		mode := corev1.LoadBalancerIPModeVIP
		d.Ingress = append(d.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: &mode})
	}
	return d
}

// Eligible reports whether node may serve load-balancer traffic: Ready, schedulable and not excluded by label.
func Eligible(node *corev1.Node) bool {
	if node.Spec.Unschedulable || node.DeletionTimestamp != nil {
		return false
	}
	if _, ok := node.Labels[LabelExcludeFromLB]; ok {
		return false
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Changed reports whether the ingress list cur differs from want in the fields the controller sets (ip, hostname,
// ipMode), in order.
func Changed(cur, want []corev1.LoadBalancerIngress) bool {
	if len(cur) != len(want) {
		return true
	}
	for i := range cur {
		c, w := cur[i], want[i]
		if c.IP != w.IP || c.Hostname != w.Hostname || modeOf(c) != modeOf(w) || len(c.Ports) != 0 {
			return true
		}
	}
	return false
}

func modeOf(i corev1.LoadBalancerIngress) corev1.LoadBalancerIPMode {
	if i.IPMode == nil {
		return ""
	}
	return *i.IPMode
}

// nodeView is what of a Node matters to Desired: a Node update that keeps it the same queues nothing.
func nodeView(n *corev1.Node) string {
	s := "0"
	if Eligible(n) {
		s = "1"
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeExternalIP || a.Type == corev1.NodeInternalIP {
			s += "," + string(a.Type) + "=" + a.Address
		}
	}
	return s
}
