package endpointslice

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func mkService(opts ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "svc-uid", Labels: map[string]string{"team": "a"}},
		Spec: corev1.ServiceSpec{
			Selector:   map[string]string{"app": "web"},
			ClusterIP:  "10.43.0.10",
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

type podOpt func(*corev1.Pod)

// mkPod is a ready pod on n1 serving port "http" on 8080.
func mkPod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid"), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if ip == "" {
		p.Status.PodIPs = nil
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod)    { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func terminating(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.Now()) }
func onNode(n string) podOpt    { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func port(n int32) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = n }
}

var nodes = map[string]*corev1.Node{
	"n1": {ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelTopologyZone: "zone-a"}}},
	"n2": {ObjectMeta: metav1.ObjectMeta{Name: "n2"}},
}

// server plays the API server for plans: it names created slices and keeps the current set.
type server struct {
	n      int
	slices map[string]*discoveryv1.EndpointSlice
}

func (s *server) apply(t *testing.T, p Plan) {
	t.Helper()
	if s.slices == nil {
		s.slices = map[string]*discoveryv1.EndpointSlice{}
	}
	for _, c := range p.Create {
		if c.Name != "" {
			t.Fatalf("create of named slice %s", c.Name)
		}
		c = c.DeepCopy()
		s.n++
		c.Name = fmt.Sprintf("%s%d", c.GenerateName, s.n)
		c.UID = types.UID(c.Name)
		s.slices[c.Name] = c
	}
	for _, u := range p.Update {
		if s.slices[u.Name] == nil {
			t.Fatalf("update of unknown slice %s", u.Name)
		}
		s.slices[u.Name] = u.DeepCopy()
	}
	for _, d := range p.Delete {
		delete(s.slices, d.Name)
	}
}

func (s *server) list() []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, v := range s.slices {
		out = append(out, v)
	}
	return sortedSlices(out)
}

// describe renders slices as "name[ports]{ip:ready/serving/terminating@node/zone,...}".
func describe(slices []*discoveryv1.EndpointSlice) string {
	var out []string
	for _, s := range sortedSlices(slices) {
		var ports, eps []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0)))
		}
		for _, e := range s.Endpoints {
			c := e.Conditions
			d := fmt.Sprintf("%s:%v/%v/%v", strings.Join(e.Addresses, "+"), *c.Ready, *c.Serving, *c.Terminating)
			if e.NodeName != nil {
				d += "@" + *e.NodeName
			}
			if e.Zone != nil {
				d += "/" + *e.Zone
			}
			if e.Hostname != nil {
				d += "#" + *e.Hostname
			}
			eps = append(eps, d)
		}
		sort.Strings(eps)
		out = append(out, fmt.Sprintf("%s%s[%s]{%s}", s.Name, s.AddressType, strings.Join(ports, ","), strings.Join(eps, ",")))
	}
	return strings.Join(out, " ")
}

func counts(p Plan) string {
	return fmt.Sprintf("create %d update %d delete %d", len(p.Create), len(p.Update), len(p.Delete))
}

func TestReconcile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		svc    *corev1.Service
		pods   []*corev1.Pod
		max    int
		counts string
		want   string
	}{
		{
			name: "ready, not ready and terminating pods; named port resolved per pod",
			svc:  mkService(),
			pods: []*corev1.Pod{
				mkPod("a", "10.42.0.1"),
				mkPod("b", "10.42.0.2", notReady),
				mkPod("c", "10.42.1.1", onNode("n2"), port(9090)),
				mkPod("d", ""),
				mkPod("e", "10.42.0.5", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
				mkPod("f", "10.42.0.6", terminating),
				mkPod("g", "10.42.0.7", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil }),
			},
			counts: "create 3 update 0 delete 0",
			want: "web-1IPv4[http=8080]{10.42.0.1:true/true/false@n1/zone-a,10.42.0.2:false/false/false@n1/zone-a,10.42.0.6:false/true/true@n1/zone-a} " +
				"web-2IPv4[http=9090]{10.42.1.1:true/true/false@n2} web-3IPv4[]{10.42.0.7:true/true/false@n1/zone-a}",
		},
		{
			name:   "no pods: one placeholder",
			svc:    mkService(),
			counts: "create 1 update 0 delete 0",
			want:   "web-1IPv4[]{}",
		},
		{
			name:   "publishNotReadyAddresses: every endpoint ready",
			svc:    mkService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pods:   []*corev1.Pod{mkPod("a", "10.42.0.1", notReady), mkPod("b", "10.42.0.2", terminating), mkPod("c", "10.42.0.3", onNode("gone"))},
			counts: "create 1 update 0 delete 0",
			want:   "web-1IPv4[http=8080]{10.42.0.1:true/false/false@n1/zone-a,10.42.0.2:true/true/true@n1/zone-a,10.42.0.3:true/true/false@gone}",
		},
		{
			name: "headless: hostname for pods naming the Service as subdomain",
			svc: mkService(func(s *corev1.Service) {
				s.Spec.ClusterIP = corev1.ClusterIPNone
				s.Spec.Ports = nil
			}),
			pods: []*corev1.Pod{
				mkPod("a", "10.42.0.1", func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "a", "web" }),
				mkPod("b", "10.42.0.2", func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "b", "other" }),
			},
			counts: "create 1 update 0 delete 0",
			want:   "web-1IPv4[]{10.42.0.1:true/true/false@n1/zone-a#a,10.42.0.2:true/true/false@n1/zone-a}",
		},
		{
			name: "dual stack: a slice per family",
			svc: mkService(func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			}),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1", func(p *corev1.Pod) {
				p.Status.PodIPs = []corev1.PodIP{{IP: "10.42.0.1"}, {IP: "fd00::1"}}
			})},
			counts: "create 2 update 0 delete 0",
			want:   "web-1IPv4[http=8080]{10.42.0.1:true/true/false@n1/zone-a} web-2IPv6[http=8080]{fd00::1:true/true/false@n1/zone-a}",
		},
		{
			name:   "more than max endpoints",
			svc:    mkService(),
			pods:   manyPods(7),
			max:    3,
			counts: "create 3 update 0 delete 0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = MaxEndpointsPerSlice
			}
			p := Reconcile(tc.svc, tc.pods, nodes, nil, max)
			if got := counts(p); got != tc.counts {
				t.Errorf("%s, want %s", got, tc.counts)
			}
			var s server
			s.apply(t, p)
			if tc.want != "" {
				if got := describe(s.list()); got != tc.want {
					t.Errorf("slices\n got %s\nwant %s", got, tc.want)
				}
			}
			for _, sl := range s.list() {
				if len(sl.Endpoints) > max {
					t.Errorf("slice %s has %d endpoints", sl.Name, len(sl.Endpoints))
				}
				if sl.GenerateName != "web-" || sl.Labels[discoveryv1.LabelServiceName] != "web" || sl.Labels[discoveryv1.LabelManagedBy] != ControllerName ||
					sl.Labels["team"] != "a" || len(sl.OwnerReferences) != 1 || sl.OwnerReferences[0].UID != "svc-uid" || !*sl.OwnerReferences[0].Controller {
					t.Errorf("slice %s metadata %+v", sl.Name, sl.ObjectMeta)
				}
				_, headless := sl.Labels[corev1.IsHeadlessService]
				if headless != (tc.svc.Spec.ClusterIP == corev1.ClusterIPNone) {
					t.Errorf("slice %s headless label %v", sl.Name, headless)
				}
			}
			// Steady state: applying the plan leaves nothing to do.
			if again := Reconcile(tc.svc, tc.pods, nodes, s.list(), max); counts(again) != "create 0 update 0 delete 0" {
				t.Errorf("not converged: %s", counts(again))
			}
		})
	}
}

func manyPods(n int) []*corev1.Pod {
	var out []*corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, mkPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.42.%d.%d", i/250, i%250+1)))
	}
	return out
}

// TestMinimalChanges walks a Service through changes and checks that each touches as few slices as it can.
func TestMinimalChanges(t *testing.T) {
	svc := mkService()
	const max = 3
	var s server
	step := func(name string, pods []*corev1.Pod, wantCounts string) {
		t.Helper()
		p := Reconcile(svc, pods, nodes, s.list(), max)
		if got := counts(p); got != wantCounts {
			t.Fatalf("%s: %s, want %s (slices %s)", name, got, wantCounts, describe(s.list()))
		}
		s.apply(t, p)
		if again := Reconcile(svc, pods, nodes, s.list(), max); counts(again) != "create 0 update 0 delete 0" {
			t.Fatalf("%s: not converged: %s", name, counts(again))
		}
	}
	step("placeholder", nil, "create 1 update 0 delete 0")
	pods := manyPods(5)
	step("pods appear: the placeholder is reused", pods, "create 1 update 1 delete 0")
	if got := describe(s.list()); !strings.HasPrefix(got, "web-1IPv4[http=8080]{") {
		t.Fatalf("placeholder not reused: %s", got)
	}
	pods[0] = mkPod("p000", "10.42.0.1", notReady)
	step("one pod not ready: one slice updated", pods, "create 0 update 1 delete 0")
	pods = append(pods, mkPod("p005", "10.42.0.6"))
	step("a pod added: it fills the slice with room", pods, "create 0 update 1 delete 0")
	pods = pods[1:]
	step("a pod removed: one slice updated", pods, "create 0 update 1 delete 0")
	svc.Labels = map[string]string{"team": "b"}
	step("Service labels change: every slice relabelled", pods, "create 0 update 2 delete 0")
	for _, sl := range s.list() {
		if sl.Labels["team"] != "b" {
			t.Errorf("slice %s labels %v", sl.Name, sl.Labels)
		}
	}
	svc.Spec.Ports[0].TargetPort = intstr.FromInt32(9000)
	step("target port changes: slices rewritten in place", pods, "create 0 update 2 delete 0")
	if got := describe(s.list()); strings.Contains(got, "8080") || !strings.Contains(got, "http=9000") {
		t.Errorf("ports not rewritten: %s", got)
	}
	step("all pods gone: one slice becomes the placeholder", nil, "create 0 update 1 delete 1")
	if got := describe(s.list()); !strings.HasSuffix(got, "IPv4[]{}") || strings.Count(got, "IPv4") != 1 {
		t.Errorf("placeholder: %s", got)
	}
}

func TestForeignAndUnsupportedSlices(t *testing.T) {
	svc := mkService()
	foreign := newSlice(mkService(func(s *corev1.Service) { s.UID = "old-uid" }), nil, discoveryv1.AddressTypeIPv4)
	foreign.Name, foreign.UID = "web-old", "foreign"
	v6 := newSlice(svc, nil, discoveryv1.AddressTypeIPv6)
	v6.Name, v6.UID = "web-v6", "v6"
	p := Reconcile(svc, []*corev1.Pod{mkPod("a", "10.42.0.1")}, nodes, []*discoveryv1.EndpointSlice{foreign, v6}, MaxEndpointsPerSlice)
	if got := counts(p); got != "create 1 update 0 delete 2" {
		t.Fatalf("%s", got)
	}
	var deleted []string
	for _, d := range p.Delete {
		deleted = append(deleted, d.Name)
	}
	if sort.Strings(deleted); fmt.Sprint(deleted) != "[web-old web-v6]" {
		t.Errorf("deleted %v", deleted)
	}
}

func TestMissingNode(t *testing.T) {
	p := Reconcile(mkService(), []*corev1.Pod{mkPod("a", "10.42.0.1"), mkPod("b", "10.42.0.2", onNode("n9"))}, nodes, nil, MaxEndpointsPerSlice)
	if fmt.Sprint(p.MissingNodes) != "[n9]" || len(p.Create) != 1 || len(p.Create[0].Endpoints) != 1 {
		t.Fatalf("missing %v, create %s", p.MissingNodes, describe(p.Create))
	}
}

func TestReconcileLeavesInputsAlone(t *testing.T) {
	svc := mkService()
	var s server
	s.apply(t, Reconcile(svc, manyPods(4), nodes, nil, 3))
	existing := s.list()
	before := describe(existing)
	pods := manyPods(6)
	pods[1] = mkPod("p001", "10.42.0.2", notReady)
	Reconcile(svc, pods, nodes, existing, 3)
	if after := describe(existing); after != before {
		t.Errorf("existing slices modified:\n%s\n%s", before, after)
	}
}
