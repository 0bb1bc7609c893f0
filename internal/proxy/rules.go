package proxy

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Ruleset is the desired content of skiff's table, apart from the fixed base chains (see baseChains).
type Ruleset struct {
	// Services maps a destination (ClusterIP or node address, protocol, port) to the chain of a service port
	// that has usable endpoints ("service-ips" verdict map).
	Services []MapEntry
	// NoEndpoints lists the destinations of service ports without usable endpoints; they are rejected.
	NoEndpoints []Dest
	// Chains are the per-service-port and per-endpoint chains, sorted by name.
	Chains []Chain
	// Hairpin lists the endpoint IPs to masquerade when a connection is DNATed back to its source.
	Hairpin []string
}

// Dest is a destination address, protocol ("tcp", "udp", "sctp") and port.
type Dest struct {
	IP    string
	Proto string
	Port  int32
}

// MapEntry sends a destination to a chain.
type MapEntry struct {
	Dest  Dest
	Chain string
}

// Chain is a regular chain with its rules in nft syntax.
type Chain struct {
	Name  string
	Rules []string
}

// Endpoint is one backend of a service port.
type Endpoint struct {
	IP   string
	Port int32
}

// Build computes the table's content. slices are matched to services by the kubernetes.io/service-name label;
// nodeIPs are the addresses NodePorts are served on. Services without a ClusterIP (headless, ExternalName) get
// no rules; only IPv4 is handled.
func Build(services []*corev1.Service, slices []*discoveryv1.EndpointSlice, nodeIPs []string) *Ruleset {
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range slices {
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		bySvc[s.Namespace+"/"+name] = append(bySvc[s.Namespace+"/"+name], s)
	}
	var nodes []string
	for _, ip := range nodeIPs {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			nodes = append(nodes, a.String())
		}
	}
	rs := &Ruleset{}
	hairpin := map[string]bool{}
	for _, svc := range services {
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil || !ip.Is4() || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		for _, sp := range svc.Spec.Ports {
			proto := strings.ToLower(string(sp.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			dests := []Dest{{IP: ip.String(), Proto: proto, Port: sp.Port}}
			if sp.NodePort != 0 && (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
				for _, n := range nodes {
					dests = append(dests, Dest{IP: n, Proto: proto, Port: sp.NodePort})
				}
			}
			eps := endpointsFor(bySvc[key], sp)
			if len(eps) == 0 {
				rs.NoEndpoints = append(rs.NoEndpoints, dests...)
				continue
			}
			svcChain := fmt.Sprintf("svc-%s/%s/%s/%d", svc.Namespace, svc.Name, proto, sp.Port)
			var vmap []string
			for i, ep := range eps {
				epChain := fmt.Sprintf("ep-%s/%s/%s/%d__%s/%d", svc.Namespace, svc.Name, proto, sp.Port, ep.IP, ep.Port)
				vmap = append(vmap, fmt.Sprintf("%d : goto %s", i, epChain))
				rs.Chains = append(rs.Chains, Chain{Name: epChain, Rules: []string{
					fmt.Sprintf("meta l4proto %s dnat to %s:%d", proto, ep.IP, ep.Port),
				}})
				hairpin[ep.IP] = true
			}
			rs.Chains = append(rs.Chains, Chain{Name: svcChain, Rules: []string{
				fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(vmap, " , ")),
			}})
			for _, d := range dests {
				rs.Services = append(rs.Services, MapEntry{Dest: d, Chain: svcChain})
			}
		}
	}
	sort.Slice(rs.Chains, func(i, j int) bool { return rs.Chains[i].Name < rs.Chains[j].Name })
	sort.Slice(rs.Services, func(i, j int) bool { return destLess(rs.Services[i].Dest, rs.Services[j].Dest) })
	sort.Slice(rs.NoEndpoints, func(i, j int) bool { return destLess(rs.NoEndpoints[i], rs.NoEndpoints[j]) })
	for ip := range hairpin {
		rs.Hairpin = append(rs.Hairpin, ip)
	}
	sort.Strings(rs.Hairpin)
	return rs
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

// endpointsFor returns the endpoints of one service port, sorted and without duplicates: the ready ones, or, when
// none is ready, the terminating endpoints that are still serving.
func endpointsFor(slices []*discoveryv1.EndpointSlice, sp corev1.ServicePort) []Endpoint {
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	ready, serving := map[Endpoint]bool{}, map[Endpoint]bool{}
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
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil || !ip.Is4() {
					continue
				}
				ep := Endpoint{IP: ip.String(), Port: port}
				switch {
				case isReady && !isTerminating:
					ready[ep] = true
				case isServing && isTerminating:
					serving[ep] = true
				}
			}
		}
	}
	use := ready
	if len(use) == 0 {
		use = serving
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
