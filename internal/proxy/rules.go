package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// DefaultAffinityTimeout is sessionAffinityConfig.clientIP.timeoutSeconds when it is unset (3 hours, as Kubernetes).
const DefaultAffinityTimeout = 10800

// Node is what Build needs to know about the machine whose table it computes.
type Node struct {
	// Name is the node's name: endpoints whose nodeName equals it are local (traffic policies Local).
	Name string
	// IPs are the addresses NodePorts are served on (IPv4; others are ignored).
	IPs []string
	// ClusterCIDR, if set, is the pods' range: under externalTrafficPolicy Local, pod traffic to a Service's
	// external addresses goes to every endpoint, as the ClusterIP would (upstream's "short-circuit").
	ClusterCIDR string
}

// ServiceRules is the part of skiff's table that belongs to one Service: its chains, affinity sets and elements
// of the two verdict maps. Every slice is sorted (chains and sets by name, elements by destination).
type ServiceRules struct {
	// Chains are the per-service-port chains (svc-, svl-, ext-) and per-endpoint chains (ep-).
	Chains []Chain
	// Sets are the per-endpoint affinity sets of a Service with sessionAffinity ClientIP.
	Sets []Set
	// Map are the elements of the verdict map "service-ips": destination → "goto <chain>".
	Map []Element
	// Filter are the elements of the verdict map "no-endpoints", looked up for new connections after DNAT:
	// "goto reject-chain" (no usable endpoint anywhere) or "drop" (a traffic policy Local without local endpoints).
	Filter []Element
}

// Dest is a destination address, protocol ("tcp", "udp", "sctp") and port.
type Dest struct {
	IP    string
	Proto string
	Port  int32
}

// Element is one element of a verdict map.
type Element struct {
	Dest    Dest
	Verdict string
}

// Chain is a regular chain with its rules in nft syntax.
type Chain struct {
	Name  string
	Rules []string
}

// Set is an affinity set: the client addresses recently sent to one endpoint, each kept Timeout seconds.
type Set struct {
	Name    string
	Timeout int32
}

// Endpoint is one backend of a service port.
type Endpoint struct {
	IP   string
	Port int32
}

// Key is the key of a Service in a Table: namespace/name.
func Key(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }

// SliceService is the key (namespace/name) of the Service an EndpointSlice belongs to, or "" if it has none.
func SliceService(s *discoveryv1.EndpointSlice) string {
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return ""
	}
	return s.Namespace + "/" + name
}

// Build computes the whole table: BuildService for every Service, with the slices labelled with its name, recorded
// in a new Table in key order (so that of two Services claiming one destination the first by key keeps it).
func Build(services []*corev1.Service, slices []*discoveryv1.EndpointSlice, node Node) *Table {
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range slices {
		if k := SliceService(s); k != "" {
			bySvc[k] = append(bySvc[k], s)
		}
	}
	sorted := append([]*corev1.Service(nil), services...)
	sort.Slice(sorted, func(i, j int) bool { return Key(sorted[i]) < Key(sorted[j]) })
	t := NewTable()
	for _, svc := range sorted {
		t.Set(nil, Key(svc), BuildService(svc, bySvc[Key(svc)], node))
	}
	return t
}

// BuildService computes one Service's rules from its EndpointSlices (those of other Services or address types
// are ignored). It returns nil for a Service that gets no rules: headless, ExternalName, or without an IPv4
// ClusterIP.
//
// For each port: the ClusterIP (internal traffic) and the NodePorts, external IPs and load-balancer ingress IPs
// (external traffic) go to the service chain svc-… that picks one of all usable endpoints at random, or, for a
// traffic policy Local, to the chain svl-… over this node's endpoints (external traffic through ext-…, which
// still sends the node's own and, with Node.ClusterCIDR, pods' traffic to svc-…). Usable endpoints are the ready
// ones, or, when none is ready, the serving terminating ones; the same rule applies to the local subset.
func BuildService(svc *corev1.Service, slices []*discoveryv1.EndpointSlice, node Node) *ServiceRules {
	clusterIP, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil || !clusterIP.Is4() || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	key := Key(svc)
	var own []*discoveryv1.EndpointSlice
	for _, s := range slices {
		if SliceService(s) == key && s.AddressType == discoveryv1.AddressTypeIPv4 {
			own = append(own, s)
		}
	}
	nodeIPs := ipv4s(node.IPs)
	extIPs := ipv4s(svc.Spec.ExternalIPs)
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		var lb []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IPMode == nil || *in.IPMode == corev1.LoadBalancerIPModeVIP {
				lb = append(lb, in.IP)
			}
		}
		extIPs = append(extIPs, ipv4s(lb)...)
	}
	var affinity int32
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		affinity = DefaultAffinityTimeout
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
			affinity = *c.ClientIP.TimeoutSeconds
		}
	}
	internalLocal := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	externalLocal := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal

	r := &ServiceRules{}
	for _, sp := range svc.Spec.Ports {
		proto := strings.ToLower(string(sp.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		base := fmt.Sprintf("%s/%s/%d", key, proto, sp.Port)
		internal := Dest{IP: clusterIP.String(), Proto: proto, Port: sp.Port}
		var external []Dest
		if sp.NodePort != 0 && (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
			for _, n := range nodeIPs {
				external = append(external, Dest{IP: n, Proto: proto, Port: sp.NodePort})
			}
		}
		for _, x := range extIPs {
			external = append(external, Dest{IP: x, Proto: proto, Port: sp.Port})
		}
		cluster, local := endpointsFor(own, sp, node.Name)
		if len(cluster) == 0 {
			for _, d := range append([]Dest{internal}, external...) {
				r.Filter = append(r.Filter, Element{Dest: d, Verdict: "goto " + rejectChain})
			}
			continue
		}
		svcChain, localChain, extChain := "svc-"+base, "svl-"+base, "ext-"+base
		extLocal := externalLocal && len(external) > 0
		// The cluster chain serves internal traffic under policy Cluster and every external destination (directly,
		// or through the external chain for the node's and pods' own traffic).
		useCluster := !internalLocal || len(external) > 0
		useLocal := len(local) > 0 && (internalLocal || extLocal)
		epChains := map[Endpoint]bool{}
		if useCluster {
			r.Chains = append(r.Chains, Chain{Name: svcChain, Rules: balance(base, cluster, affinity)})
			for _, e := range cluster {
				epChains[e] = true
			}
		}
		if useLocal {
			r.Chains = append(r.Chains, Chain{Name: localChain, Rules: balance(base, local, affinity)})
			for _, e := range local {
				epChains[e] = true
			}
		}
		for e := range epChains {
			rules := []string{fmt.Sprintf("ip saddr %s jump %s", e.IP, markMasqChain)}
			if affinity > 0 {
				r.Sets = append(r.Sets, Set{Name: affinitySet(base, e), Timeout: affinity})
				rules = append(rules, fmt.Sprintf("update @%s { ip saddr }", affinitySet(base, e)))
			}
			rules = append(rules, fmt.Sprintf("meta l4proto %s dnat to %s:%d", proto, e.IP, e.Port))
			r.Chains = append(r.Chains, Chain{Name: endpointChain(base, e), Rules: rules})
		}
		switch {
		case !internalLocal:
			r.Map = append(r.Map, Element{Dest: internal, Verdict: "goto " + svcChain})
		case len(local) > 0:
			r.Map = append(r.Map, Element{Dest: internal, Verdict: "goto " + localChain})
		default:
			r.Filter = append(r.Filter, Element{Dest: internal, Verdict: "drop"})
		}
		if !extLocal {
			for _, d := range external {
				r.Map = append(r.Map, Element{Dest: d, Verdict: "goto " + svcChain})
			}
			continue
		}
		var ext []string
		if p, err := netip.ParsePrefix(node.ClusterCIDR); err == nil && p.Addr().Is4() {
			ext = append(ext, fmt.Sprintf("ip saddr %s goto %s", p.Masked(), svcChain))
		}
		ext = append(ext, "fib saddr type local goto "+svcChain)
		if len(local) > 0 {
			ext = append(ext, "goto "+localChain)
		}
		r.Chains = append(r.Chains, Chain{Name: extChain, Rules: ext})
		for _, d := range external {
			r.Map = append(r.Map, Element{Dest: d, Verdict: "goto " + extChain})
			if len(local) == 0 {
				r.Filter = append(r.Filter, Element{Dest: d, Verdict: "drop"})
			}
		}
	}
	sort.Slice(r.Chains, func(i, j int) bool { return r.Chains[i].Name < r.Chains[j].Name })
	sort.Slice(r.Sets, func(i, j int) bool { return r.Sets[i].Name < r.Sets[j].Name })
	r.Map, r.Filter = uniqueElements(r.Map), uniqueElements(r.Filter)
	return r
}

// balance is the rules of a chain that spreads connections over eps: with affinity, a client seen recently goes
// back to its endpoint first; the others pick one at random.
func balance(base string, eps []Endpoint, affinity int32) []string {
	var rules, vmap []string
	for i, e := range eps {
		if affinity > 0 {
			rules = append(rules, fmt.Sprintf("ip saddr @%s goto %s", affinitySet(base, e), endpointChain(base, e)))
		}
		vmap = append(vmap, fmt.Sprintf("%d : goto %s", i, endpointChain(base, e)))
	}
	return append(rules, fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(vmap, " , ")))
}

func endpointChain(base string, e Endpoint) string {
	return fmt.Sprintf("ep-%s__%s/%d", base, e.IP, e.Port)
}

func affinitySet(base string, e Endpoint) string {
	return fmt.Sprintf("affinity-%s__%s/%d", base, e.IP, e.Port)
}

func ipv4s(in []string) []string {
	var out []string
	for _, s := range in {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() && !slices.Contains(out, a.String()) {
			out = append(out, a.String())
		}
	}
	return out
}

// uniqueElements sorts es by destination and keeps the first of elements naming the same one (an external IP that
// is also a load-balancer ingress IP, or a NodePort on an address that is also an external IP): a map holds a key
// once, and a duplicate would be deleted twice, which nft refuses.
func uniqueElements(es []Element) []Element {
	sort.SliceStable(es, func(i, j int) bool { return destLess(es[i].Dest, es[j].Dest) })
	return slices.CompactFunc(es, func(x, y Element) bool { return x.Dest == y.Dest })
}

func destLess(a, b Dest) bool {
	if a.IP != b.IP {
		return a.IP < b.IP
	}
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	return a.Port < b.Port
}

// endpointsFor returns the usable endpoints of one service port, sorted and without duplicates, among all
// (cluster) and among those on nodeName (local): the ready ones, or, when none is ready, the terminating
// endpoints that are still serving.
func endpointsFor(slices []*discoveryv1.EndpointSlice, sp corev1.ServicePort, nodeName string) (cluster, local []Endpoint) {
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	type sets struct{ ready, serving map[Endpoint]bool }
	all := sets{map[Endpoint]bool{}, map[Endpoint]bool{}}
	here := sets{map[Endpoint]bool{}, map[Endpoint]bool{}}
	for _, s := range slices {
		var port int32
		found := false
		for _, p := range s.Ports {
			pname, pproto := "", corev1.ProtocolTCP
			if p.Name != nil {
				pname = *p.Name
			}
			if p.Protocol != nil {
				pproto = *p.Protocol
			}
			if pname == sp.Name && pproto == proto && p.Port != nil {
				port, found = *p.Port, true
				break
			}
		}
		if !found {
			continue
		}
		for _, e := range s.Endpoints {
			c := e.Conditions
			isReady := c.Ready == nil || *c.Ready
			isServing := c.Serving != nil && *c.Serving
			isTerminating := c.Terminating != nil && *c.Terminating
			isLocal := nodeName != "" && e.NodeName != nil && *e.NodeName == nodeName
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil || !ip.Is4() {
					continue
				}
				ep := Endpoint{IP: ip.String(), Port: port}
				add := func(s sets) {
					if isReady && !isTerminating {
						s.ready[ep] = true
					} else if isServing && isTerminating {
						s.serving[ep] = true
					}
				}
				add(all)
				if isLocal {
					add(here)
				}
			}
		}
	}
	pick := func(s sets) []Endpoint {
		use := s.ready
		if len(use) == 0 {
			use = s.serving
		}
		out := make([]Endpoint, 0, len(use))
		for ep := range use {
			out = append(out, ep)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].IP != out[j].IP {
				return out[i].IP < out[j].IP
			}
			return out[i].Port < out[j].Port
		})
		return out
	}
	return pick(all), pick(here)
}
