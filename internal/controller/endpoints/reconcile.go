package endpoints

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// MaxCapacity is how many addresses an Endpoints object holds at most; beyond it the controller truncates and
// sets the over-capacity annotation, as upstream.
const MaxCapacity = 1000

// Reconcile returns the Endpoints object svc should have given the pods its selector matches and current, the
// stored object (nil if none), and whether it must be written (created when current is nil). It is pure and
// does not modify its arguments.
//
// Addresses are the pods' IPs of the Service's first IP family; a pod is listed when it has an IP, is not
// terminal and, unless publishNotReadyAddresses, not being deleted. Ready pods (or every pod with
// publishNotReadyAddresses) go to addresses, the others to notReadyAddresses, each port resolved per pod (a
// headless Service without ports lists addresses without ports); the subsets are repacked as upstream's
// RepackSubsets (addresses that serve the same ports share a subset; not ready wins over ready) and sorted.
// Labels are the Service's plus service.kubernetes.io/headless for a headless Service; other annotations of
// current are kept.
func Reconcile(svc *corev1.Service, pods []*corev1.Pod, current *corev1.Endpoints) (*corev1.Endpoints, bool) {
	subsets := desiredSubsets(svc, pods)
	truncated := truncate(subsets)
	labels := maps.Clone(svc.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if !controllerutil.IsServiceIPSet(svc) {
		labels[corev1.IsHeadlessService] = ""
	} else {
		delete(labels, corev1.IsHeadlessService)
	}
	if current != nil {
		_, annotated := current.Annotations[corev1.EndpointsOverCapacity]
		if annotated == truncated && maps.Equal(current.Labels, labels) && subsetsEqual(current.Subsets, subsets) {
			return current, false
		}
	}
	var ep *corev1.Endpoints
	if current != nil {
		ep = current.DeepCopy()
	} else {
		ep = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace}}
	}
	ep.Subsets, ep.Labels = subsets, labels
	if truncated {
		if ep.Annotations == nil {
			ep.Annotations = map[string]string{}
		}
		ep.Annotations[corev1.EndpointsOverCapacity] = "truncated"
	} else {
		delete(ep.Annotations, corev1.EndpointsOverCapacity)
	}
	return ep, true
}

// desiredSubsets lists every (address, port) pair of the pods and repacks them.
func desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	var p packer
	sorted := append([]*corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, pod := range sorted {
		if !controllerutil.ShouldPodBeInEndpoints(pod, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		addr, ok := podAddress(svc, pod)
		if !ok {
			continue
		}
		ready := svc.Spec.PublishNotReadyAddresses || controllerutil.IsPodReady(pod)
		if len(svc.Spec.Ports) == 0 {
			if svc.Spec.ClusterIP == corev1.ClusterIPNone {
				p.add(addr, nil, ready)
			}
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, err := controllerutil.FindPort(pod, sp)
			if err != nil {
				continue
			}
			proto := sp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			p.add(addr, &corev1.EndpointPort{Name: sp.Name, Port: n, Protocol: proto, AppProtocol: sp.AppProtocol}, ready)
		}
	}
	return p.subsets()
}

// podAddress is pod's address for svc: its IP of the Service's first IP family (else its cluster IP's family,
// else the pod's first IP's), its node and a reference to it.
func podAddress(svc *corev1.Service, pod *corev1.Pod) (corev1.EndpointAddress, bool) {
	ips := controllerutil.PodIPs(pod)
	var v6 bool
	switch {
	case len(svc.Spec.IPFamilies) > 0:
		v6 = svc.Spec.IPFamilies[0] == corev1.IPv6Protocol
	case controllerutil.IsServiceIPSet(svc):
		v6 = controllerutil.IsIPv6(svc.Spec.ClusterIP)
	case len(ips) > 0:
		v6 = controllerutil.IsIPv6(ips[0])
	}
	for _, ip := range ips {
		if controllerutil.IsIPv6(ip) == v6 {
			a := corev1.EndpointAddress{
				IP:        ip,
				NodeName:  ptr.To(pod.Spec.NodeName),
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
			}
			if controllerutil.ShouldSetHostname(pod, svc) {
				a.Hostname = pod.Spec.Hostname
			}
			return a, true
		}
	}
	return corev1.EndpointAddress{}, false
}

type addrKey struct {
	ip  string
	uid types.UID
}

// packer groups (address, port, ready) triples into subsets, as upstream's RepackSubsets.
type packer struct {
	addrs map[addrKey]corev1.EndpointAddress
	// byPort maps a port (its key; "" for "no port") to its port and the readiness of each address serving it.
	byPort map[string]*portAddrs
}

type portAddrs struct {
	port  *corev1.EndpointPort
	ready map[addrKey]bool
}

func (p *packer) add(a corev1.EndpointAddress, port *corev1.EndpointPort, ready bool) {
	if p.addrs == nil {
		p.addrs, p.byPort = map[addrKey]corev1.EndpointAddress{}, map[string]*portAddrs{}
	}
	k := addrKey{ip: a.IP}
	if a.TargetRef != nil {
		k.uid = a.TargetRef.UID
	}
	if _, ok := p.addrs[k]; !ok {
		p.addrs[k] = a
	}
	pk := portKey(port)
	pa := p.byPort[pk]
	if pa == nil {
		pa = &portAddrs{port: port, ready: map[addrKey]bool{}}
		p.byPort[pk] = pa
	}
	if was, ok := pa.ready[k]; !ok || was {
		pa.ready[k] = ready // not ready wins
	}
}

func portKey(p *corev1.EndpointPort) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("%s/%s/%d/%s", p.Name, p.Protocol, p.Port, ptr.Deref(p.AppProtocol, ""))
}

// subsets returns one subset per distinct set of (address, readiness) pairs, with every port that set serves.
func (p *packer) subsets() []corev1.EndpointSubset {
	type group struct {
		sig   string
		ready map[addrKey]bool
		ports []*corev1.EndpointPort
	}
	groups := map[string]*group{}
	for _, pk := range sortedKeys(p.byPort) {
		pa := p.byPort[pk]
		sig := signature(pa.ready)
		g := groups[sig]
		if g == nil {
			g = &group{sig: sig, ready: pa.ready}
			groups[sig] = g
		}
		if pa.port != nil {
			g.ports = append(g.ports, pa.port)
		}
	}
	out := []corev1.EndpointSubset{}
	for _, sig := range sortedKeys(groups) {
		g := groups[sig]
		var s corev1.EndpointSubset
		for _, k := range sortedAddrKeys(g.ready) {
			if g.ready[k] {
				s.Addresses = append(s.Addresses, p.addrs[k])
			} else {
				s.NotReadyAddresses = append(s.NotReadyAddresses, p.addrs[k])
			}
		}
		for _, port := range g.ports {
			s.Ports = append(s.Ports, *port)
		}
		out = append(out, s)
	}
	return out
}

func signature(ready map[addrKey]bool) string {
	var parts []string
	for _, k := range sortedAddrKeys(ready) {
		parts = append(parts, fmt.Sprintf("%s|%s|%v", k.ip, k.uid, ready[k]))
	}
	return strings.Join(parts, ",")
}

func sortedAddrKeys(m map[addrKey]bool) []addrKey {
	out := make([]addrKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ip != out[j].ip {
			return out[i].ip < out[j].ip
		}
		return out[i].uid < out[j].uid
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// truncate cuts subsets down to MaxCapacity addresses, as upstream: not-ready addresses go first, in proportion to
// each subset's share (rounded up); if the ready ones alone are too many, they are cut likewise and every
// not-ready address goes. It reports whether it cut anything.
func truncate(subsets []corev1.EndpointSubset) bool {
	ready, notReady := 0, 0
	for _, s := range subsets {
		ready += len(s.Addresses)
		notReady += len(s.NotReadyAddresses)
	}
	if ready+notReady <= MaxCapacity {
		return false
	}
	cutReady := ready > MaxCapacity
	limit, total := MaxCapacity-ready, notReady
	if cutReady {
		limit, total = MaxCapacity, ready
	}
	left := limit
	for i := range subsets {
		s := &subsets[i]
		n := len(s.NotReadyAddresses)
		if cutReady {
			n = len(s.Addresses)
		}
		keep := min(int(math.Ceil(float64(n)/float64(total)*float64(limit))), left)
		left -= keep
		if cutReady {
			s.Addresses, s.NotReadyAddresses = s.Addresses[:keep], nil
		} else {
			s.NotReadyAddresses = s.NotReadyAddresses[:keep]
		}
	}
	return true
}

// subsetsEqual compares stored and desired subsets, ignoring the resourceVersions of target references (older
// controllers wrote them; pod updates that change nothing else must not rewrite the object).
func subsetsEqual(stored, desired []corev1.EndpointSubset) bool {
	if len(stored) != len(desired) {
		return false
	}
	norm := make([]corev1.EndpointSubset, len(stored))
	for i := range stored {
		s := *stored[i].DeepCopy()
		for _, list := range [][]corev1.EndpointAddress{s.Addresses, s.NotReadyAddresses} {
			for j := range list {
				if list[j].TargetRef != nil {
					list[j].TargetRef.ResourceVersion = ""
				}
			}
		}
		norm[i] = s
	}
	return equality.Semantic.DeepEqual(norm, desired)
}
