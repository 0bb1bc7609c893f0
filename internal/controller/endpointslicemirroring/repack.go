package endpointslicemirroring

import (
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// repackSubsets is upstream's RepackSubsets: it expands subsets to (address, port) pairs and regroups them so that
// the addresses serving the same ports share one subset. Addresses are told apart by IP and targetRef UID; an
// address listed both ready and not ready is not ready. Subsets without ports keep their addresses. The result is
// sorted (addresses by IP then UID, ports by name/port/protocol, subsets by their first address) and newly
// allocated.
func repackSubsets(subsets []corev1.EndpointSubset) []corev1.EndpointSubset {
	type addrKey struct {
		ip  string
		uid types.UID
	}
	const noPort = "" // key of the sentinel port of subsets without ports
	addrs := map[addrKey]corev1.EndpointAddress{}
	var addrOrder []addrKey
	// readiness of each address per port; not ready wins.
	byPort := map[string]map[addrKey]bool{}
	ports := map[string]corev1.EndpointPort{}
	var portOrder []string
	note := func(a *corev1.EndpointAddress, port string, ready bool) {
		k := addrKey{ip: a.IP}
		if a.TargetRef != nil {
			k.uid = a.TargetRef.UID
		}
		if _, ok := addrs[k]; !ok {
			addrs[k] = *a.DeepCopy()
			addrOrder = append(addrOrder, k)
		}
		m, ok := byPort[port]
		if !ok {
			m = map[addrKey]bool{}
			byPort[port] = m
			portOrder = append(portOrder, port)
		}
		if was, seen := m[k]; !seen || was {
			m[k] = ready
		}
	}
	for i := range subsets {
		keys := []string{noPort}
		if len(subsets[i].Ports) > 0 {
			keys = keys[:0]
			for _, p := range subsets[i].Ports {
				k := endpointPortKey(p)
				ports[k] = *p.DeepCopy()
				keys = append(keys, k)
			}
		}
		for _, p := range keys {
			for j := range subsets[i].Addresses {
				note(&subsets[i].Addresses[j], p, true)
			}
			for j := range subsets[i].NotReadyAddresses {
				note(&subsets[i].NotReadyAddresses[j], p, false)
			}
		}
	}
	less := func(a, b addrKey) bool {
		if a.ip != b.ip {
			return a.ip < b.ip
		}
		return a.uid < b.uid
	}
	sort.Slice(addrOrder, func(i, j int) bool { return less(addrOrder[i], addrOrder[j]) })
	// Group the ports by the identical (address, readiness) set they map to.
	groups := map[string]*corev1.EndpointSubset{}
	var groupOrder []string
	for _, p := range portOrder {
		m := byPort[p]
		var sig strings.Builder
		for _, k := range addrOrder {
			if ready, ok := m[k]; ok {
				sig.WriteString(k.ip + "/" + string(k.uid))
				if ready {
					sig.WriteString("+;")
				} else {
					sig.WriteString("-;")
				}
			}
		}
		g, ok := groups[sig.String()]
		if !ok {
			g = &corev1.EndpointSubset{}
			for _, k := range addrOrder {
				if ready, ok := m[k]; ok {
					if ready {
						g.Addresses = append(g.Addresses, addrs[k])
					} else {
						g.NotReadyAddresses = append(g.NotReadyAddresses, addrs[k])
					}
				}
			}
			groups[sig.String()] = g
			groupOrder = append(groupOrder, sig.String())
		}
		if p != noPort {
			g.Ports = append(g.Ports, ports[p])
		}
	}
	out := make([]corev1.EndpointSubset, 0, len(groupOrder))
	for _, sig := range groupOrder {
		g := groups[sig]
		sort.Slice(g.Ports, func(i, j int) bool { return portLess(g.Ports[i], g.Ports[j]) })
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool { return subsetKey(out[i]) < subsetKey(out[j]) })
	return out
}

// endpointPortKey identifies an Endpoints port by value.
func endpointPortKey(p corev1.EndpointPort) string {
	k := p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port))
	if p.AppProtocol != nil {
		k += "/" + *p.AppProtocol
	}
	return k
}

func portLess(a, b corev1.EndpointPort) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	return a.Protocol < b.Protocol
}

// subsetKey orders subsets by their first address, then their first port.
func subsetKey(s corev1.EndpointSubset) string {
	var k string
	switch {
	case len(s.Addresses) > 0:
		k = s.Addresses[0].IP
	case len(s.NotReadyAddresses) > 0:
		k = s.NotReadyAddresses[0].IP
	}
	if len(s.Ports) > 0 {
		k += "|" + s.Ports[0].Name
	}
	return k
}
