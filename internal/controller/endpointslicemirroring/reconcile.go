package endpointslicemirroring

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	netutils "k8s.io/utils/net"
	"k8s.io/utils/ptr"
)

// ControllerName is the value of the managed-by label on the slices this controller owns, as upstream.
const ControllerName = "endpointslicemirroring-controller.k8s.io"

// MaxEndpointsPerSubset is how many addresses of one Endpoints subset are mirrored at most (upstream
// --mirroring-max-endpoints-per-subset default); the rest are skipped.
const MaxEndpointsPerSubset = 1000

var endpointsKind = corev1.SchemeGroupVersion.WithKind("Endpoints")

// Plan is what one sync of an Endpoints object does to its mirrored EndpointSlices.
type Plan struct {
	// Create are new slices (generateName "<name>-"); Update are rebuilt slices carrying the name and
	// resourceVersion of the existing slice they replace; Delete are existing slices to delete.
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// InvalidAddresses counts the addresses left out because their IP does not parse; SkippedAddresses counts every
	// address left out, those beyond max per subset included.
	InvalidAddresses, SkippedAddresses int
}

// ShouldMirror reports whether eps is to be mirrored at all, as upstream: it exists, does not carry the label
// endpointslice.kubernetes.io/skip-mirror=true and is not a leader-election lock (annotation
// control-plane.alpha.kubernetes.io/leader). Whether its Service allows it is MirrorsService's question.
func ShouldMirror(eps *corev1.Endpoints) bool {
	if eps == nil || eps.Labels[discoveryv1.LabelSkipMirror] == "true" {
		return false
	}
	_, lock := eps.Annotations[resourcelock.LeaderElectionRecordAnnotationKey]
	return !lock
}

// MirrorsService reports whether the Endpoints of svc are mirrored: svc exists and has no selector (the
// EndpointSlice controller writes the slices of Services with one).
func MirrorsService(svc *corev1.Service) bool {
	return svc != nil && len(svc.Spec.Selector) == 0
}

// Reconcile decides how the slices mirroring eps reach the desired state, as upstream's reconciler: per address
// type and port set of eps's repacked subsets one slice, holding the subset's ready then not-ready addresses (at
// most max per subset); an existing slice is kept when it already shows exactly that (endpoints, labels,
// annotations, owner), else rebuilt in place; surplus slices are deleted, and a creation reuses a slice about to
// be deleted (of the same address type) by updating it instead.
//
//	eps       the Endpoints object (nil: gone), read only
//	svc       the Service of the same name (nil: gone), read only
//	existing  the slices labelled managed-by this controller and service-name eps's name, not being deleted
//	max       addresses mirrored per subset (MaxEndpointsPerSubset)
//
// When eps is not to be mirrored (ShouldMirror, MirrorsService) every existing slice is deleted. The result is
// deterministic: existing slices are taken in name order.
func Reconcile(eps *corev1.Endpoints, svc *corev1.Service, existing []*discoveryv1.EndpointSlice, max int) Plan {
	var plan Plan
	existing = sortedSlices(existing)
	if !ShouldMirror(eps) || !MirrorsService(svc) {
		plan.Delete = existing
		return plan
	}
	d := desiredState{ports: map[string][]discoveryv1.EndpointPort{}, endpoints: map[string]*endpointSet{}}
	for _, subset := range repackSubsets(eps.Subsets) {
		ports := endpointPorts(subset.Ports)
		added := 0
		add := func(addrs []corev1.EndpointAddress, ready bool) {
			for i := range addrs {
				if added >= max {
					return
				}
				ep, addrType := addressToEndpoint(&addrs[i], ready)
				if ep == nil {
					plan.InvalidAddresses++
					continue
				}
				d.add(addrType, ports, ep)
				added++
			}
		}
		add(subset.Addresses, true)
		add(subset.NotReadyAddresses, false)
		plan.SkippedAddresses += len(subset.Addresses) + len(subset.NotReadyAddresses) - added
	}
	existingByKey := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		k := mapKey(s.AddressType, s.Ports)
		existingByKey[k] = append(existingByKey[k], s)
	}
	for _, k := range d.order {
		want := d.endpoints[k]
		have := existingByKey[k]
		if len(have) == 0 {
			plan.Create = append(plan.Create, buildSlice(eps, d.ports[k], addressTypeOf(k), "", "", want, max))
			continue
		}
		plan.Delete = append(plan.Delete, have[1:]...)
		if !upToDate(have[0], eps, want) {
			plan.Update = append(plan.Update, buildSlice(eps, d.ports[k], addressTypeOf(k), have[0].Name, have[0].ResourceVersion, want, max))
		}
	}
	for _, k := range sortedKeys(existingByKey) {
		if _, ok := d.endpoints[k]; !ok {
			plan.Delete = append(plan.Delete, existingByKey[k]...)
		}
	}
	recycle(&plan)
	return plan
}

// desiredState is the endpoints each address type and port set is to show, in the order first seen.
type desiredState struct {
	ports     map[string][]discoveryv1.EndpointPort
	endpoints map[string]*endpointSet
	order     []string
}

func (d *desiredState) add(addrType discoveryv1.AddressType, ports []discoveryv1.EndpointPort, ep *discoveryv1.Endpoint) {
	k := mapKey(addrType, ports)
	set, ok := d.endpoints[k]
	if !ok {
		set = &endpointSet{byKey: map[string]*discoveryv1.Endpoint{}}
		d.endpoints[k], d.ports[k] = set, ports
		d.order = append(d.order, k)
	}
	set.insert(ep)
}

// endpointSet is an ordered set of endpoints keyed by identity; a later endpoint of the same identity replaces an
// earlier one in its place.
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

// endpointKey is an endpoint's identity, as upstream's endpoint hash: sorted addresses, hostname and target.
func endpointKey(e *discoveryv1.Endpoint) string {
	addrs := append([]string(nil), e.Addresses...)
	sort.Strings(addrs)
	k := strings.Join(addrs, ",") + "|" + ptr.Deref(e.Hostname, "")
	if e.TargetRef != nil {
		k += "|" + e.TargetRef.Namespace + "/" + e.TargetRef.Name
	}
	return k
}

// upToDate reports whether slice s already mirrors want (endpoints equal beyond identity: node, zone, conditions,
// target), eps's labels and annotations, and is not owned by an earlier Endpoints object of the same name.
func upToDate(s *discoveryv1.EndpointSlice, eps *corev1.Endpoints, want *endpointSet) bool {
	if len(s.Endpoints) != len(want.byKey) {
		return false
	}
	for i := range s.Endpoints {
		got, ok := want.byKey[endpointKey(&s.Endpoints[i])]
		if !ok || !endpointsEqualBeyondKey(got, &s.Endpoints[i]) {
			return false
		}
	}
	if !maps.Equal(eps.Labels, withoutKeys(s.Labels, discoveryv1.LabelManagedBy, discoveryv1.LabelServiceName)) ||
		!maps.Equal(mirroredAnnotations(eps.Annotations), s.Annotations) {
		return false
	}
	for _, r := range s.OwnerReferences {
		if r.Kind == endpointsKind.Kind && r.Name == eps.Name && r.UID != eps.UID {
			return false
		}
	}
	return true
}

// endpointsEqualBeyondKey is upstream's EndpointsEqualBeyondHash.
func endpointsEqualBeyondKey(a, b *discoveryv1.Endpoint) bool {
	if ptr.Deref(a.NodeName, "\x00") != ptr.Deref(b.NodeName, "\x00") || ptr.Deref(a.Zone, "\x00") != ptr.Deref(b.Zone, "\x00") {
		return false
	}
	if !equality.Semantic.DeepEqual(a.Conditions, b.Conditions) {
		return false
	}
	ar, br := a.TargetRef, b.TargetRef
	if ar != nil && br != nil {
		ac, bc := *ar, *br
		ac.ResourceVersion, bc.ResourceVersion = "", ""
		return ac == bc
	}
	return ar == nil && br == nil
}

// buildSlice is the slice mirroring want (at most max endpoints) for eps: eps's labels plus service-name and
// managed-by, eps's annotations but the last-change-trigger-time and last-applied-configuration ones, a
// controller owner reference to eps; named name (resourceVersion rv) when it replaces an existing slice, else
// generateName "<name>-".
func buildSlice(eps *corev1.Endpoints, ports []discoveryv1.EndpointPort, addrType discoveryv1.AddressType, name, rv string,
	want *endpointSet, max int) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			ResourceVersion: rv,
			Namespace:       eps.Namespace,
			Labels:          map[string]string{},
			Annotations:     mirroredAnnotations(eps.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(eps, endpointsKind)},
		},
		AddressType: addrType,
		Ports:       append([]discoveryv1.EndpointPort{}, ports...),
		Endpoints:   []discoveryv1.Endpoint{},
	}
	maps.Copy(s.Labels, eps.Labels)
	s.Labels[discoveryv1.LabelServiceName] = eps.Name
	s.Labels[discoveryv1.LabelManagedBy] = ControllerName
	if name == "" {
		s.GenerateName = slicePrefix(eps.Name)
	}
	for _, k := range want.order {
		if len(s.Endpoints) >= max {
			break
		}
		s.Endpoints = append(s.Endpoints, *want.byKey[k])
	}
	return s
}

// mirroredAnnotations are the annotations of an Endpoints object a mirrored slice carries (never nil).
func mirroredAnnotations(a map[string]string) map[string]string {
	return withoutKeys(a, corev1.EndpointsLastChangeTriggerTime, corev1.LastAppliedConfigAnnotation)
}

func withoutKeys(m map[string]string, keys ...string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// recycle turns creations into updates of slices of the same address type that would be deleted, as upstream's
// recycleSlices.
func recycle(plan *Plan) {
	var creates []*discoveryv1.EndpointSlice
	for _, c := range plan.Create {
		i := -1
		for j, d := range plan.Delete {
			if d.AddressType == c.AddressType {
				i = j
				break
			}
		}
		if i < 0 {
			creates = append(creates, c)
			continue
		}
		d := plan.Delete[i]
		plan.Delete = append(plan.Delete[:i:i], plan.Delete[i+1:]...)
		c.Name, c.GenerateName, c.ResourceVersion = d.Name, "", d.ResourceVersion
		plan.Update = append(plan.Update, c)
	}
	plan.Create = creates
}

// addressToEndpoint converts an Endpoints address (IP parsed leniently and written canonically) into an endpoint
// with only the ready condition, hostname, nodeName and targetRef, as upstream; nil for an IP that does not parse.
func addressToEndpoint(a *corev1.EndpointAddress, ready bool) (*discoveryv1.Endpoint, discoveryv1.AddressType) {
	ip := netutils.ParseIPSloppy(a.IP)
	if ip == nil {
		return nil, ""
	}
	addrType := discoveryv1.AddressTypeIPv4
	if ip.To4() == nil {
		addrType = discoveryv1.AddressTypeIPv6
	}
	ep := &discoveryv1.Endpoint{
		Addresses:  []string{ip.String()},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
		NodeName:   copyPtr(a.NodeName),
		TargetRef:  a.TargetRef.DeepCopy(),
	}
	if a.Hostname != "" {
		ep.Hostname = ptr.To(a.Hostname)
	}
	return ep, addrType
}

// endpointPorts converts an Endpoints subset's ports, sorted.
func endpointPorts(in []corev1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, 0, len(in))
	for _, p := range in {
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.Port), Protocol: ptr.To(p.Protocol),
			AppProtocol: copyPtr(p.AppProtocol)})
	}
	sort.Slice(out, func(i, j int) bool { return portString(out[i]) < portString(out[j]) })
	return out
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptr.To(*p)
}

func portString(p discoveryv1.EndpointPort) string {
	return fmt.Sprintf("%s/%s/%d/%s", ptr.Deref(p.Name, ""), ptr.Deref(p.Protocol, ""), ptr.Deref(p.Port, 0), ptr.Deref(p.AppProtocol, ""))
}

// mapKey identifies an address type and port set regardless of port order.
func mapKey(addrType discoveryv1.AddressType, ports []discoveryv1.EndpointPort) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = portString(p)
	}
	sort.Strings(s)
	return string(addrType) + "|" + strings.Join(s, ",")
}

func addressTypeOf(key string) discoveryv1.AddressType {
	t, _, _ := strings.Cut(key, "|")
	return discoveryv1.AddressType(t)
}

// slicePrefix is "<name>-", or the name alone when that would be too long for a generated name.
func slicePrefix(name string) string {
	if len(name)+1 > 253-5 {
		return name
	}
	return name + "-"
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
