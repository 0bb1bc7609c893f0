package endpointslicemirroring

import (
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

const ns = "db"

// svcWithout is the Service "ext" without a selector; svcWith has one.
func svcWithout() *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: ns, UID: "svc-uid"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "sql", Port: 5432}}}}
}

func svcWith() *corev1.Service {
	s := svcWithout()
	s.Spec.Selector = map[string]string{"app": "db"}
	return s
}

func port(name string, p int32) corev1.EndpointPort {
	return corev1.EndpointPort{Name: name, Port: p, Protocol: corev1.ProtocolTCP}
}

func addrs(ips ...string) []corev1.EndpointAddress {
	out := make([]corev1.EndpointAddress, 0, len(ips))
	for _, ip := range ips {
		out = append(out, corev1.EndpointAddress{IP: ip})
	}
	return out
}

// epsOf is the Endpoints "ext" with the given subsets.
func epsOf(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: ns, UID: "eps-uid",
		Labels: map[string]string{"team": "data"}}, Subsets: subsets}
}

// existingFor is what the server would hold after creating what Reconcile planned for eps, named name.
func existingFor(t *testing.T, eps *corev1.Endpoints, names ...string) []*discoveryv1.EndpointSlice {
	t.Helper()
	plan := Reconcile(eps, svcWithout(), nil, MaxEndpointsPerSubset)
	if len(plan.Create) != len(names) {
		t.Fatalf("existingFor: %d slices planned, %d names", len(plan.Create), len(names))
	}
	for i, s := range plan.Create {
		s.Name, s.GenerateName, s.UID, s.ResourceVersion = names[i], "", types.UID("uid-"+names[i]), "7"
	}
	return plan.Create
}

// render is a slice as "name type ports: ip(ready/not) ..." (name "+" for a generated one).
func render(s *discoveryv1.EndpointSlice) string {
	name := s.Name
	if name == "" {
		name = "+" + s.GenerateName
	}
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, fmt.Sprintf("%s/%d", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0)))
	}
	var eps []string
	for _, e := range s.Endpoints {
		r := "not"
		if ptr.Deref(e.Conditions.Ready, false) {
			r = "ready"
		}
		eps = append(eps, strings.Join(e.Addresses, ",")+"("+r+")")
	}
	if len(eps) > 3 {
		eps = []string{fmt.Sprintf("%s..%s[%d]", eps[0], eps[len(eps)-1], len(eps))}
	}
	return fmt.Sprintf("%s %s %s: %s", name, s.AddressType, strings.Join(ports, ","), strings.Join(eps, " "))
}

func renderAll(slices []*discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range slices {
		out = append(out, render(s))
	}
	sort.Strings(out)
	return out
}

func TestReconcile(t *testing.T) {
	one := epsOf(corev1.EndpointSubset{Addresses: addrs("10.1.2.3"), Ports: []corev1.EndpointPort{port("sql", 5432)}})
	many := make([]string, 1200)
	for i := range many {
		many[i] = fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)
	}
	tests := []struct {
		name     string
		eps      *corev1.Endpoints
		svc      *corev1.Service
		existing []*discoveryv1.EndpointSlice
		max      int

		create, update, delete []string
		invalid, skipped       int
	}{
		{
			name:   "create: one address",
			eps:    one,
			svc:    svcWithout(),
			create: []string{"+ext- IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name:     "up to date: nothing to do",
			eps:      one,
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
		},
		{
			name:     "address changed: slice rebuilt in place",
			eps:      epsOf(corev1.EndpointSubset{Addresses: addrs("10.2.3.4"), Ports: []corev1.EndpointPort{port("sql", 5432)}}),
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			update:   []string{"ext-a IPv4 sql/5432: 10.2.3.4(ready)"},
		},
		{
			name: "labels changed: slice rebuilt",
			eps: func() *corev1.Endpoints {
				e := one.DeepCopy()
				e.Labels["tier"] = "gold"
				return e
			}(),
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			update:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name:     "ports changed: the old slice is reused",
			eps:      epsOf(corev1.EndpointSubset{Addresses: addrs("10.1.2.3"), Ports: []corev1.EndpointPort{port("sql", 6432)}}),
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			update:   []string{"ext-a IPv4 sql/6432: 10.1.2.3(ready)"},
		},
		{
			name:     "duplicate slices of one key: extras deleted",
			eps:      one,
			svc:      svcWithout(),
			existing: append(existingFor(t, one, "ext-a"), existingFor(t, one, "ext-b")...),
			delete:   []string{"ext-b IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name:     "Service gained a selector: slices deleted",
			eps:      one,
			svc:      svcWith(),
			existing: existingFor(t, one, "ext-a"),
			delete:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name:     "Service gone: slices deleted",
			eps:      one,
			existing: existingFor(t, one, "ext-a"),
			delete:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name:     "Endpoints gone: slices deleted",
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			delete:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name: "skip-mirror label: slices deleted, none created",
			eps: func() *corev1.Endpoints {
				e := one.DeepCopy()
				e.Labels[discoveryv1.LabelSkipMirror] = "true"
				return e
			}(),
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			delete:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
		{
			name: "leader-election lock: not mirrored",
			eps: func() *corev1.Endpoints {
				e := one.DeepCopy()
				e.Annotations = map[string]string{"control-plane.alpha.kubernetes.io/leader": "{}"}
				return e
			}(),
			svc: svcWithout(),
		},
		{
			name: "IPv4 and IPv6: a slice per address type; not-ready addresses; invalid IP skipped",
			eps: epsOf(corev1.EndpointSubset{
				Addresses:         addrs("10.1.2.3", "fd00::0001", "not-an-ip"),
				NotReadyAddresses: addrs("10.1.2.4", "fd00::2"),
				Ports:             []corev1.EndpointPort{port("sql", 5432)},
			}),
			svc: svcWithout(),
			create: []string{
				"+ext- IPv4 sql/5432: 10.1.2.3(ready) 10.1.2.4(not)",
				"+ext- IPv6 sql/5432: fd00::1(ready) fd00::2(not)",
			},
			invalid: 1,
			skipped: 1,
		},
		{
			name: "subsets with different ports: a slice each",
			eps: epsOf(
				corev1.EndpointSubset{Addresses: addrs("10.1.2.3"), Ports: []corev1.EndpointPort{port("sql", 5432)}},
				corev1.EndpointSubset{Addresses: addrs("10.1.2.4"), Ports: []corev1.EndpointPort{port("admin", 8080), port("sql", 5432)}},
			),
			svc: svcWithout(),
			create: []string{
				"+ext- IPv4 admin/8080: 10.1.2.4(ready)",
				"+ext- IPv4 sql/5432: 10.1.2.3(ready) 10.1.2.4(ready)",
			},
		},
		{
			name:    "more than max addresses in a subset: the first max (by IP, as upstream sorts them) mirrored, the rest skipped",
			eps:     epsOf(corev1.EndpointSubset{Addresses: addrs(many...), Ports: []corev1.EndpointPort{port("sql", 5432)}}),
			svc:     svcWithout(),
			create:  []string{"+ext- IPv4 sql/5432: 10.9.0.1(ready)..10.9.3.99(ready)[1000]"},
			skipped: 200,
		},
		{
			name: "more than max addresses split over subsets of different ports",
			eps: epsOf(
				corev1.EndpointSubset{Addresses: addrs(many[:600]...), Ports: []corev1.EndpointPort{port("sql", 5432)}},
				corev1.EndpointSubset{Addresses: addrs(many[600:]...), Ports: []corev1.EndpointPort{port("sql", 6432)}},
			),
			svc: svcWithout(),
			create: []string{
				"+ext- IPv4 sql/5432: 10.9.0.1(ready)..10.9.2.99(ready)[600]",
				"+ext- IPv4 sql/6432: 10.9.2.101(ready)..10.9.4.99(ready)[600]",
			},
		},
		{
			name:     "empty Endpoints: slices deleted",
			eps:      epsOf(),
			svc:      svcWithout(),
			existing: existingFor(t, one, "ext-a"),
			delete:   []string{"ext-a IPv4 sql/5432: 10.1.2.3(ready)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = MaxEndpointsPerSubset
			}
			plan := Reconcile(tt.eps, tt.svc, tt.existing, max)
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"create", renderAll(plan.Create), tt.create}, {"update", renderAll(plan.Update), tt.update}, {"delete", renderAll(plan.Delete), tt.delete}} {
				if len(c.got) != 0 || len(c.want) != 0 {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s:\n got %q\nwant %q", c.what, c.got, c.want)
					}
				}
			}
			if plan.InvalidAddresses != tt.invalid || plan.SkippedAddresses != tt.skipped {
				t.Errorf("invalid, skipped = %d, %d; want %d, %d", plan.InvalidAddresses, plan.SkippedAddresses, tt.invalid, tt.skipped)
			}
			for _, s := range plan.Update {
				if s.ResourceVersion != "7" {
					t.Errorf("update of %s: resourceVersion %q, want the existing slice's", s.Name, s.ResourceVersion)
				}
			}
		})
	}
}

// TestReconcileMetadata checks what a mirrored slice carries besides its endpoints.
func TestReconcileMetadata(t *testing.T) {
	eps := epsOf(corev1.EndpointSubset{
		Addresses: []corev1.EndpointAddress{{IP: "10.1.2.3", Hostname: "db-0", NodeName: ptr.To("node-a"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "db-0", UID: "pod-uid"}}},
		Ports: []corev1.EndpointPort{{Name: "sql", Port: 5432, Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("postgresql")}},
	})
	eps.Annotations = map[string]string{
		"note":                                "kept",
		corev1.EndpointsLastChangeTriggerTime: "2026-01-01T00:00:00Z",
		corev1.LastAppliedConfigAnnotation:    "{}",
	}
	plan := Reconcile(eps, svcWithout(), nil, MaxEndpointsPerSubset)
	if len(plan.Create) != 1 {
		t.Fatalf("create %q, want one slice", renderAll(plan.Create))
	}
	s := plan.Create[0]
	wantLabels := map[string]string{"team": "data", discoveryv1.LabelServiceName: "ext", discoveryv1.LabelManagedBy: "endpointslicemirroring-controller.k8s.io"}
	if !maps.Equal(s.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", s.Labels, wantLabels)
	}
	if want := map[string]string{"note": "kept"}; !maps.Equal(s.Annotations, want) {
		t.Errorf("annotations %v, want %v", s.Annotations, want)
	}
	wantOwner := metav1.OwnerReference{APIVersion: "v1", Kind: "Endpoints", Name: "ext", UID: "eps-uid", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	if len(s.OwnerReferences) != 1 || !reflect.DeepEqual(s.OwnerReferences[0], wantOwner) {
		t.Errorf("owner references %+v, want [%+v]", s.OwnerReferences, wantOwner)
	}
	if s.GenerateName != "ext-" || s.Namespace != ns || s.Name != "" {
		t.Errorf("name %q generateName %q namespace %q", s.Name, s.GenerateName, s.Namespace)
	}
	wantPort := discoveryv1.EndpointPort{Name: ptr.To("sql"), Port: ptr.To[int32](5432), Protocol: ptr.To(corev1.ProtocolTCP), AppProtocol: ptr.To("postgresql")}
	if len(s.Ports) != 1 || !reflect.DeepEqual(s.Ports[0], wantPort) {
		t.Errorf("ports %+v, want [%+v]", s.Ports, wantPort)
	}
	wantEP := discoveryv1.Endpoint{Addresses: []string{"10.1.2.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		Hostname: ptr.To("db-0"), NodeName: ptr.To("node-a"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "db-0", UID: "pod-uid"}}
	if len(s.Endpoints) != 1 || !reflect.DeepEqual(s.Endpoints[0], wantEP) {
		t.Errorf("endpoints %+v, want [%+v]", s.Endpoints, wantEP)
	}
	// The same slice is up to date, even with the trigger-time annotation changed; an owner of another UID is not.
	s.Name, s.GenerateName = "ext-a", ""
	eps.Annotations[corev1.EndpointsLastChangeTriggerTime] = "2026-01-02T00:00:00Z"
	if p := Reconcile(eps, svcWithout(), []*discoveryv1.EndpointSlice{s}, MaxEndpointsPerSubset); len(p.Create)+len(p.Update)+len(p.Delete) != 0 {
		t.Errorf("up-to-date slice: plan %+v, want nothing", p)
	}
	recreated := eps.DeepCopy()
	recreated.UID = "eps-uid-2"
	if p := Reconcile(recreated, svcWithout(), []*discoveryv1.EndpointSlice{s}, MaxEndpointsPerSubset); len(p.Update) != 1 || p.Update[0].OwnerReferences[0].UID != "eps-uid-2" {
		t.Errorf("slice of an earlier Endpoints object: plan %+v, want it rebuilt with the new owner", p)
	}
}

func TestRepackSubsets(t *testing.T) {
	in := []corev1.EndpointSubset{
		{Addresses: addrs("10.0.0.2", "10.0.0.1"), Ports: []corev1.EndpointPort{port("sql", 5432)}},
		{Addresses: addrs("10.0.0.1"), NotReadyAddresses: addrs("10.0.0.2"), Ports: []corev1.EndpointPort{port("sql", 5432)}},
		{Addresses: addrs("10.0.0.3")},
	}
	got := repackSubsets(in)
	var s []string
	for _, ss := range got {
		var parts []string
		for _, a := range ss.Addresses {
			parts = append(parts, a.IP)
		}
		for _, a := range ss.NotReadyAddresses {
			parts = append(parts, a.IP+"(not)")
		}
		for _, p := range ss.Ports {
			parts = append(parts, fmt.Sprintf(":%d", p.Port))
		}
		s = append(s, strings.Join(parts, " "))
	}
	want := []string{"10.0.0.1 10.0.0.2(not) :5432", "10.0.0.3"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("repack: got %q, want %q", s, want)
	}
}
