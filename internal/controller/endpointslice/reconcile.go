package endpointslice

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ControllerName is the value of the managed-by label on the slices this controller owns, as upstream.
const ControllerName = "endpointslice-controller.k8s.io"

// MaxEndpointsPerSlice is how many endpoints one slice holds at most (upstream --max-endpoints-per-slice default).
const MaxEndpointsPerSlice = 100

var serviceKind = corev1.SchemeGroupVersion.WithKind("Service")

// Plan is what one sync of a Service does to its EndpointSlices.
type Plan struct {
	// Create are new slices (generateName "<svc>-"); Update are changed copies of existing slices (carrying their
	// resourceVersion); Delete are existing slices to delete.
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// MissingNodes names the nodes of pods left out because the node is not known (yet); the caller retries.
	MissingNodes []string
}

// Reconcile decides how svc's EndpointSlices reach the desired state, changing as few slices as it can (upstream's
// reconciler: keep endpoints where they are, fill slices being updated anyway, then the closest-fitting
// unchanged slice, then new slices; creations are turned into updates of slices that would be deleted).
//
//	svc       the Service (with a selector), read only
//	pods      the pods in svc's namespace its selector matches, read only
//	nodes     the nodes by name, for zones (and to skip pods of unknown nodes unless publishNotReadyAddresses)
//	existing  svc's slices managed by this controller (label kubernetes.io/service-name), not being deleted
//	max       endpoints per slice (MaxEndpointsPerSlice)
//
// Slices whose owner reference is not svc (e.g. of an older Service of the same name) are deleted. The result is
// deterministic: pods are taken in namespace/name order.
func Reconcile(svc *corev1.Service, pods []*corev1.Pod, nodes map[string]*corev1.Node, existing []*discoveryv1.EndpointSlice, max int) Plan {
	var plan Plan
	types := addressTypes(svc, pods)
	supported := map[discoveryv1.AddressType]bool{}
	for _, t := range types {
		supported[t] = true
	}
	byType := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	var unsupported []*discoveryv1.EndpointSlice
	for _, s := range sortedSlices(existing) {
		if !supported[s.AddressType] {
			unsupported = append(unsupported, s)
			continue
		}
		byType[s.AddressType] = append(byType[s.AddressType], s)
	}
	sorted := append([]*corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Namespace+"/"+sorted[i].Name < sorted[j].Namespace+"/"+sorted[j].Name
	})
	missing := map[string]bool{}
	for _, t := range types {
		c, u, d := reconcileAddressType(svc, sorted, nodes, byType[t], t, max, missing)
		plan.Create = append(plan.Create, c...)
		plan.Update = append(plan.Update, u...)
		plan.Delete = append(plan.Delete, d...)
	}
	plan.Delete = append(plan.Delete, unsupported...)
	for n := range missing {
		plan.MissingNodes = append(plan.MissingNodes, n)
	}
	sort.Strings(plan.MissingNodes)
	return plan
}

// addressTypes are the address types svc's slices have: its IP families, else its cluster IP's, else (headless
// without families) the first pod IP's.
func addressTypes(svc *corev1.Service, pods []*corev1.Pod) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		if f == corev1.IPv6Protocol {
			out = append(out, discoveryv1.AddressTypeIPv6)
		} else {
			out = append(out, discoveryv1.AddressTypeIPv4)
		}
	}
	if len(out) > 0 {
		return out
	}
	ip := ""
	if controllerutil.IsServiceIPSet(svc) {
		ip = svc.Spec.ClusterIP
	} else {
		for _, p := range pods {
			if ips := controllerutil.PodIPs(p); len(ips) > 0 {
				ip = ips[0]
				break
			}
		}
	}
	if controllerutil.IsIPv6(ip) {
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
}

// endpointSet is an ordered set of endpoints keyed by identity (addresses, hostname, pod).
type endpointSet struct {
	byKey map[string]*discoveryv1.Endpoint
	order []string
}

func (s *endpointSet) insert(e *discoveryv1.Endpoint) {
	k := endpointKey(e)
	if _, ok := s.byKey[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byKey[k] = e
}

func (s *endpointSet) len() int { return len(s.byKey) }

// take removes and returns the endpoint with identity k, or nil.
func (s *endpointSet) take(k string) *discoveryv1.Endpoint {
	e := s.byKey[k]
	delete(s.byKey, k)
	return e
}

// pop removes and returns the earliest inserted endpoint left; the set must not be empty.
func (s *endpointSet) pop() *discoveryv1.Endpoint {
	for len(s.order) > 0 {
		k := s.order[0]
		s.order = s.order[1:]
		if e, ok := s.byKey[k]; ok {
			delete(s.byKey, k)
			return e
		}
	}
	panic("endpointslice: pop from an empty set")
}

// endpointKey is an endpoint's identity, as upstream's endpoint hash: sorted addresses, hostname and pod.
func endpointKey(e *discoveryv1.Endpoint) string {
	addrs := append([]string(nil), e.Addresses...)
	sort.Strings(addrs)
	k := strings.Join(addrs, ",") + "|" + ptr.Deref(e.Hostname, "")
	if e.TargetRef != nil {
		k += "|" + e.TargetRef.Namespace + "/" + e.TargetRef.Name
	}
	return k
}

type portGroup struct {
	ports     []discoveryv1.EndpointPort
	endpoints *endpointSet
}

func reconcileAddressType(svc *corev1.Service, pods []*corev1.Pod, nodes map[string]*corev1.Node, existing []*discoveryv1.EndpointSlice,
	addrType discoveryv1.AddressType, max int, missing map[string]bool) (creates, updates, deletes []*discoveryv1.EndpointSlice) {
	// Existing state by port mapping; slices of another owner go.
	existingByPorts := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		if ownedBy(s, svc) {
			k := portsKey(s.Ports)
			existingByPorts[k] = append(existingByPorts[k], s)
		} else {
			deletes = append(deletes, s)
		}
	}
	// Desired state by port mapping: pods whose named ports resolve differently land in different slices.
	desired := map[string]*portGroup{}
	var desiredOrder []string
	for _, pod := range pods {
		if !controllerutil.ShouldPodBeInEndpoints(pod, true) {
			continue
		}
		node, ok := nodes[pod.Spec.NodeName]
		if !ok && !svc.Spec.PublishNotReadyAddresses {
			missing[pod.Spec.NodeName] = true
			continue
		}
		ep := podToEndpoint(pod, node, svc, addrType)
		if len(ep.Addresses) == 0 {
			continue
		}
		ports := endpointPorts(svc, pod)
		k := portsKey(ports)
		g, ok := desired[k]
		if !ok {
			g = &portGroup{ports: ports, endpoints: &endpointSet{byKey: map[string]*discoveryv1.Endpoint{}}}
			desired[k] = g
			desiredOrder = append(desiredOrder, k)
		}
		g.endpoints.insert(&ep)
	}
	for _, k := range desiredOrder {
		c, u, d := reconcilePortMapping(svc, existingByPorts[k], desired[k], addrType, max)
		creates = append(creates, c...)
		updates = append(updates, u...)
		deletes = append(deletes, d...)
	}
	// Slices of port mappings no longer in use go.
	for _, k := range sortedKeys(existingByPorts) {
		if _, ok := desired[k]; !ok {
			deletes = append(deletes, existingByPorts[k]...)
		}
	}
	// A Service without endpoints keeps one empty placeholder slice.
	if len(existing) == len(deletes) && len(creates) == 0 {
		placeholder := newSlice(svc, nil, addrType)
		if len(deletes) == 1 && isPlaceholder(deletes[0], placeholder, svc) {
			deletes = nil
		} else {
			creates = append(creates, placeholder)
		}
	}
	// Reuse slices about to be deleted for the ones about to be created.
	for i := 0; i < len(deletes) && len(creates) > 0; {
		d, c := deletes[i], creates[len(creates)-1]
		if d.AddressType == c.AddressType && ownedBy(d, svc) {
			meta := *d.ObjectMeta.DeepCopy()
			meta.Labels, meta.OwnerReferences = c.Labels, c.OwnerReferences
			c.ObjectMeta = meta
			creates = creates[:len(creates)-1]
			updates = append(updates, c)
			deletes = append(deletes[:i], deletes[i+1:]...)
			continue
		}
		i++
	}
	return creates, updates, deletes
}

// reconcilePortMapping is upstream's reconcileByPortMapping for the slices of one port mapping.
func reconcilePortMapping(svc *corev1.Service, existing []*discoveryv1.EndpointSlice, want *portGroup, addrType discoveryv1.AddressType,
	max int) (creates, updates, deletes []*discoveryv1.EndpointSlice) {
	var unchanged, toUpdate []*discoveryv1.EndpointSlice
	// 1. Keep the endpoints still desired where they are, updated if they changed; drop the others.
	for _, s := range existing {
		var kept []discoveryv1.Endpoint
		changed := false
		for i := range s.Endpoints {
			got := want.endpoints.take(endpointKey(&s.Endpoints[i]))
			if got == nil {
				continue
			}
			kept = append(kept, *got)
			if !endpointEqual(got, &s.Endpoints[i]) {
				changed = true
			}
		}
		labels, labelsChanged := sliceLabels(s, svc)
		switch {
		case changed || len(kept) != len(s.Endpoints):
			if len(kept) == 0 {
				deletes = append(deletes, s)
				continue
			}
			u := s.DeepCopy()
			u.Endpoints, u.Labels = kept, labels
			toUpdate = append(toUpdate, u)
		case labelsChanged:
			u := s.DeepCopy()
			u.Labels = labels
			toUpdate = append(toUpdate, u)
		default:
			unchanged = append(unchanged, s)
		}
	}
	// 2. Fill the slices being updated anyway, fullest first.
	if want.endpoints.len() > 0 && len(toUpdate) > 0 {
		fill := append([]*discoveryv1.EndpointSlice(nil), toUpdate...)
		sort.SliceStable(fill, func(i, j int) bool { return len(fill[i].Endpoints) > len(fill[j].Endpoints) })
		for _, s := range fill {
			for want.endpoints.len() > 0 && len(s.Endpoints) < max {
				s.Endpoints = append(s.Endpoints, *want.endpoints.pop())
			}
		}
	}
	// 3. Put the rest into the unchanged slice they fit best, else into new slices.
	for want.endpoints.len() > 0 {
		var s *discoveryv1.EndpointSlice
		if want.endpoints.len() < max && len(unchanged) > 0 {
			if i := closestFit(unchanged, want.endpoints.len(), max); i >= 0 {
				s = unchanged[i].DeepCopy()
				unchanged = append(unchanged[:i], unchanged[i+1:]...)
				toUpdate = append(toUpdate, s)
			}
		}
		if s == nil {
			s = newSlice(svc, want.ports, addrType)
			creates = append(creates, s)
		}
		for want.endpoints.len() > 0 && len(s.Endpoints) < max {
			s.Endpoints = append(s.Endpoints, *want.endpoints.pop())
		}
	}
	return creates, toUpdate, deletes
}

// closestFit returns the index of the slice with the least room left after taking n more endpoints, or -1 if none
// has room for them.
func closestFit(slices []*discoveryv1.EndpointSlice, n, max int) int {
	best, bestDiff := -1, max
	for i, s := range slices {
		if diff := max - (n + len(s.Endpoints)); diff >= 0 && diff < bestDiff {
			best, bestDiff = i, diff
			if diff == 0 {
				break
			}
		}
	}
	return best
}

// podToEndpoint is pod's endpoint in a slice of addrType: ready = Ready and not terminating (or
// publishNotReadyAddresses), serving = Ready, terminating = being deleted.
func podToEndpoint(pod *corev1.Pod, node *corev1.Node, svc *corev1.Service, addrType discoveryv1.AddressType) discoveryv1.Endpoint {
	serving := controllerutil.IsPodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || serving && !terminating
	ep := discoveryv1.Endpoint{
		Addresses:  []string{},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	for _, ip := range controllerutil.PodIPs(pod) {
		if controllerutil.IsIPv6(ip) == (addrType == discoveryv1.AddressTypeIPv6) {
			ep.Addresses = append(ep.Addresses, ip)
		}
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
	}
	if node != nil {
		if z := node.Labels[corev1.LabelTopologyZone]; z != "" {
			ep.Zone = ptr.To(z)
		}
	}
	if controllerutil.ShouldSetHostname(pod, svc) {
		ep.Hostname = ptr.To(pod.Spec.Hostname)
	}
	return ep
}

// endpointPorts are svc's ports as pod serves them (named target ports resolved against the pod's container
// ports; ports that do not resolve are left out), sorted. A headless Service may have none.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
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
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(n), Protocol: ptr.To(proto), AppProtocol: sp.AppProtocol})
	}
	sort.Slice(out, func(i, j int) bool { return portString(out[i]) < portString(out[j]) })
	return out
}

func portString(p discoveryv1.EndpointPort) string {
	return fmt.Sprintf("%s/%s/%d/%s", ptr.Deref(p.Name, ""), ptr.Deref(p.Protocol, ""), ptr.Deref(p.Port, 0), ptr.Deref(p.AppProtocol, ""))
}

// portsKey identifies a port mapping regardless of order.
func portsKey(ports []discoveryv1.EndpointPort) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = portString(p)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// endpointEqual compares two endpoints of the same identity in everything a slice shows.
func endpointEqual(a, b *discoveryv1.Endpoint) bool {
	ac, bc := *a, *b
	ac.Addresses, bc.Addresses = sortedStrings(a.Addresses), sortedStrings(b.Addresses)
	return equality.Semantic.DeepEqual(ac, bc)
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// newSlice is an empty slice of svc (generateName "<svc>-", owner reference to svc, svc's labels).
func newSlice(svc *corev1.Service, ports []discoveryv1.EndpointPort, addrType discoveryv1.AddressType) *discoveryv1.EndpointSlice {
	if ports == nil {
		ports = []discoveryv1.EndpointPort{}
	}
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    slicePrefix(svc.Name),
			Namespace:       svc.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, serviceKind)},
		},
		AddressType: addrType,
		Endpoints:   []discoveryv1.Endpoint{},
		Ports:       ports,
	}
	s.Labels, _ = sliceLabels(s, svc)
	return s
}

// slicePrefix is "<svc>-", or the name alone when that would be too long for a generated name.
func slicePrefix(name string) string {
	if len(name)+1 > 253-5 {
		return name
	}
	return name + "-"
}

// sliceLabels are the labels slice s of svc should have: svc's labels (less the reserved ones), the
// service-name and managed-by labels and, for a headless Service, service.kubernetes.io/headless. It also
// reports whether they differ from s's.
func sliceLabels(s *discoveryv1.EndpointSlice, svc *corev1.Service) (map[string]string, bool) {
	out := map[string]string{}
	for k, v := range svc.Labels {
		if !reservedLabel(k) {
			out[k] = v
		}
	}
	if !controllerutil.IsServiceIPSet(svc) {
		out[corev1.IsHeadlessService] = ""
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ControllerName
	return out, !maps.Equal(out, s.Labels)
}

func reservedLabel(k string) bool {
	return k == discoveryv1.LabelServiceName || k == discoveryv1.LabelManagedBy || k == corev1.IsHeadlessService
}

func ownedBy(s *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, r := range s.OwnerReferences {
		if r.UID == svc.UID && r.Kind == "Service" && r.APIVersion == "v1" {
			return true
		}
	}
	return false
}

// isPlaceholder reports whether s is (equivalent to) the placeholder slice p.
func isPlaceholder(s, p *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	return ownedBy(s, svc) && s.Namespace == p.Namespace && maps.Equal(s.Labels, p.Labels) && s.AddressType == p.AddressType &&
		len(s.Endpoints) == 0 && len(s.Ports) == 0
}

func sortedSlices(in []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := append([]*discoveryv1.EndpointSlice(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
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
