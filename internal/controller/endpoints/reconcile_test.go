package endpoints

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
			{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod)    { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func terminating(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.Now()) }
func port(n int32) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = n }
}

// describe renders subsets as "{ready;notready;ports}" with addresses as ip(pod) and ports as name=port.
func describe(subsets []corev1.EndpointSubset) string {
	var out []string
	addrs := func(as []corev1.EndpointAddress) string {
		var s []string
		for _, a := range as {
			d := a.IP
			if a.TargetRef != nil {
				d += "(" + a.TargetRef.Name + ")"
			}
			if a.Hostname != "" {
				d += "#" + a.Hostname
			}
			s = append(s, d)
		}
		return strings.Join(s, ",")
	}
	for _, ss := range subsets {
		var ports []string
		for _, p := range ss.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		out = append(out, fmt.Sprintf("{%s;%s;%s}", addrs(ss.Addresses), addrs(ss.NotReadyAddresses), strings.Join(ports, ",")))
	}
	return strings.Join(out, " ")
}

func TestReconcile(t *testing.T) {
	twoPorts := func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "metrics", Port: 9100, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("metrics")})
	}
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want string
	}{
		{
			name: "ready and not ready, terminal and terminating left out",
			svc:  mkService(),
			pods: []*corev1.Pod{
				mkPod("b", "10.42.0.2", notReady), mkPod("a", "10.42.0.1"), mkPod("c", ""),
				mkPod("d", "10.42.0.4", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
				mkPod("e", "10.42.0.5", terminating),
			},
			want: "{10.42.0.1(a);10.42.0.2(b);http=8080}",
		},
		{
			name: "named port resolved per pod: one subset per port",
			svc:  mkService(),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1"), mkPod("b", "10.42.0.2", port(9090))},
			want: "{10.42.0.1(a);;http=8080} {10.42.0.2(b);;http=9090}",
		},
		{
			name: "addresses serving the same ports share a subset",
			svc:  mkService(twoPorts),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1"), mkPod("b", "10.42.0.2"), mkPod("c", "10.42.0.3", notReady)},
			want: "{10.42.0.1(a),10.42.0.2(b);10.42.0.3(c);http=8080,metrics=9100}",
		},
		{
			name: "a port a pod does not serve",
			svc:  mkService(twoPorts),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1"), mkPod("b", "10.42.0.2", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = p.Spec.Containers[0].Ports[:1] })},
			want: "{10.42.0.1(a);;metrics=9100} {10.42.0.1(a),10.42.0.2(b);;http=8080}",
		},
		{
			name: "publishNotReadyAddresses",
			svc:  mkService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1", notReady), mkPod("b", "10.42.0.2", terminating)},
			want: "{10.42.0.1(a),10.42.0.2(b);;http=8080}",
		},
		{
			name: "headless without ports, hostname",
			svc: mkService(func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil
			}),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1", func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "a", "web" })},
			want: "{10.42.0.1(a)#a;;}",
		},
		{
			name: "IPv6 Service takes the pod's IPv6 address",
			svc:  mkService(func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }),
			pods: []*corev1.Pod{mkPod("a", "10.42.0.1", func(p *corev1.Pod) {
				p.Status.PodIPs = []corev1.PodIP{{IP: "10.42.0.1"}, {IP: "fd00::1"}}
			}), mkPod("b", "10.42.0.2")},
			want: "{fd00::1(a);;http=8080}",
		},
		{
			name: "no pods",
			svc:  mkService(),
			want: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, write := Reconcile(tc.svc, tc.pods, nil)
			if !write {
				t.Fatal("new Endpoints not written")
			}
			if got := describe(ep.Subsets); got != tc.want {
				t.Errorf("subsets\n got %s\nwant %s", got, tc.want)
			}
			if ep.Name != "web" || ep.Namespace != "ns" || ep.Labels["team"] != "a" {
				t.Errorf("meta %+v", ep.ObjectMeta)
			}
			if _, headless := ep.Labels[corev1.IsHeadlessService]; headless != (tc.svc.Spec.ClusterIP == corev1.ClusterIPNone) {
				t.Errorf("headless label %v", headless)
			}
			stored := ep.DeepCopy()
			stored.ResourceVersion = "7"
			if again, write := Reconcile(tc.svc, tc.pods, stored); write || again != stored {
				t.Error("unchanged Endpoints written again")
			}
		})
	}
}

func TestReconcileUpdates(t *testing.T) {
	svc := mkService()
	pods := []*corev1.Pod{mkPod("a", "10.42.0.1")}
	ep, _ := Reconcile(svc, pods, nil)
	ep.ResourceVersion = "5"
	ep.Annotations = map[string]string{"keep": "me"}
	ep.Subsets[0].Addresses[0].TargetRef.ResourceVersion = "99" // written by an older controller
	if _, write := Reconcile(svc, pods, ep); write {
		t.Error("target ref resourceVersion alone caused a write")
	}
	pods = append(pods, mkPod("b", "10.42.0.2", notReady))
	got, write := Reconcile(svc, pods, ep)
	if !write || got.ResourceVersion != "5" || got.Annotations["keep"] != "me" || describe(got.Subsets) != "{10.42.0.1(a);10.42.0.2(b);http=8080}" {
		t.Errorf("update: write %v %+v %s", write, got.ObjectMeta, describe(got.Subsets))
	}
	if describe(ep.Subsets) != "{10.42.0.1(a);;http=8080}" {
		t.Error("current modified")
	}
	svc.Labels = map[string]string{"team": "b"}
	if got, write := Reconcile(svc, pods[:1], ep); !write || got.Labels["team"] != "b" {
		t.Errorf("label change: write %v labels %v", write, got.Labels)
	}
}

func TestTruncate(t *testing.T) {
	var pods []*corev1.Pod
	for i := 0; i < 900; i++ {
		pods = append(pods, mkPod(fmt.Sprintf("r%04d", i), fmt.Sprintf("10.42.%d.%d", i/200, i%200+1)))
	}
	for i := 0; i < 300; i++ {
		pods = append(pods, mkPod(fmt.Sprintf("n%04d", i), fmt.Sprintf("10.43.%d.%d", i/200, i%200+1), notReady))
	}
	ep, _ := Reconcile(mkService(), pods, nil)
	ready, notReady := 0, 0
	for _, s := range ep.Subsets {
		ready += len(s.Addresses)
		notReady += len(s.NotReadyAddresses)
	}
	if ready != 900 || notReady != 100 || ep.Annotations[corev1.EndpointsOverCapacity] != "truncated" {
		t.Fatalf("ready %d not ready %d annotations %v", ready, notReady, ep.Annotations)
	}
	stored := ep.DeepCopy()
	if _, write := Reconcile(mkService(), pods, stored); write {
		t.Error("truncated Endpoints rewritten on every sync")
	}
	ep, write := Reconcile(mkService(), pods[:10], stored)
	if !write || ep.Annotations[corev1.EndpointsOverCapacity] != "" {
		t.Errorf("annotation not cleared: %v", ep.Annotations)
	}
	// Too many ready ones: ready cut to the capacity, not ready all gone.
	for i := 900; i < 1100; i++ {
		pods = append(pods, mkPod(fmt.Sprintf("r%04d", i), fmt.Sprintf("10.44.%d.%d", i/200, i%200+1)))
	}
	ep, _ = Reconcile(mkService(), pods, nil)
	ready, notReady = 0, 0
	for _, s := range ep.Subsets {
		ready += len(s.Addresses)
		notReady += len(s.NotReadyAddresses)
	}
	if ready != MaxCapacity || notReady != 0 {
		t.Errorf("ready %d not ready %d", ready, notReady)
	}
}
