package apiserver

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// wantStatus checks that err is a Status with code and message (nil err when code is 0).
func wantStatus(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	st, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Fatalf("error %v (%T) is not a Status; want %d %q", err, err, code, msg)
	}
	if s := st.Status(); s.Code != code || s.Message != msg {
		t.Fatalf("got %d %q, want %d %q", s.Code, s.Message, code, msg)
	}
}

func TestProxyPath(t *testing.T) {
	for _, tc := range []struct {
		sub, path string
		ok        bool
	}{
		{"proxy", "", true},
		{"proxy/", "", true},
		{"proxy/echo", "echo", true},
		{"proxy/a/b/", "a/b/", true},
		{"proxyx", "", false},
		{"log", "", false},
		{"status", "", false},
	} {
		path, ok := proxyPath(tc.sub)
		if path != tc.path || ok != tc.ok {
			t.Errorf("proxyPath(%q) = %q %v, want %q %v", tc.sub, path, ok, tc.path, tc.ok)
		}
	}
}

func TestSplitProxyName(t *testing.T) {
	for _, tc := range []struct {
		id                 string
		scheme, name, port string
		code               int32
		msg                string
	}{
		{id: "web", name: "web"},
		{id: "web:8080", name: "web", port: "8080"},
		{id: "web:http", name: "web", port: "http"},
		{id: "https:web:443", scheme: "https", name: "web", port: "443"},
		{id: "http:web:", scheme: "http", name: "web"},
		{id: "ftp:web:21", code: 400, msg: `invalid pod request "ftp:web:21"`},
		{id: "a:b:c:d", code: 400, msg: `invalid pod request "a:b:c:d"`},
		{id: "", code: 400, msg: `invalid pod request ""`},
	} {
		scheme, name, port, err := splitProxyName("pod", tc.id)
		wantStatus(t, err, tc.code, tc.msg)
		if scheme != tc.scheme || name != tc.name || port != tc.port {
			t.Errorf("splitProxyName(%q) = %q %q %q, want %q %q %q", tc.id, scheme, name, port, tc.scheme, tc.name, tc.port)
		}
	}
}

func proxyPod(ip string, ports ...int32) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
	c := corev1.Container{Name: "app"}
	for _, n := range ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: n})
	}
	p.Spec.Containers = []corev1.Container{{Name: "sidecar"}, c}
	if ip != "" {
		p.Status.PodIP = ip
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	return p
}

func TestPodProxyLocation(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pod          *corev1.Pod
		scheme, port string
		want         string
		code         int32
		msg          string
	}{
		{name: "explicit port", pod: proxyPod("10.42.0.5", 8080), port: "9000", want: "//10.42.0.5:9000"},
		{name: "first container port", pod: proxyPod("10.42.0.5", 8080, 8443), want: "//10.42.0.5:8080"},
		{name: "no port anywhere", pod: proxyPod("10.42.0.5"), want: "//10.42.0.5"},
		{name: "scheme kept", pod: proxyPod("10.42.0.5"), scheme: "https", port: "443", want: "https://10.42.0.5:443"},
		{name: "port name passed on as upstream", pod: proxyPod("10.42.0.5", 8080), port: "http", want: "//10.42.0.5:http"},
		{name: "ipv6", pod: proxyPod("fd00::5"), want: "//[fd00::5]"},
		{name: "ipv6 with port", pod: proxyPod("fd00::5"), port: "80", want: "//[fd00::5]:80"},
		{name: "no IP yet", pod: proxyPod("", 8080), code: 400, msg: "address not allowed"},
		{name: "loopback", pod: proxyPod("127.0.0.1", 8080), code: 400, msg: "address not allowed"},
		{name: "link-local", pod: proxyPod("169.254.1.1", 8080), code: 400, msg: "address not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := podProxyLocation(tc.pod, tc.scheme, tc.port)
			wantStatus(t, err, tc.code, tc.msg)
			if err == nil && loc.String() != tc.want {
				t.Fatalf("location %q, want %q", loc, tc.want)
			}
		})
	}
}

func TestServiceProxyPortName(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "http", Port: 80}, {Name: "admin", Port: 9000},
	}}}
	unnamed := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "one"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	for _, tc := range []struct {
		svc        *corev1.Service
		port, want string
		code       int32
		msg        string
	}{
		{svc: svc, port: "80", want: "http"},
		{svc: svc, port: "9000", want: "admin"},
		{svc: svc, port: "admin", want: "admin"},
		{svc: svc, port: "", want: ""},
		{svc: svc, port: "nosuch", want: "nosuch"},
		{svc: unnamed, port: "80", want: ""},
		{svc: svc, port: "81", code: 503, msg: `no service port 81 found for service "web"`},
	} {
		got, err := serviceProxyPortName(tc.svc, tc.port)
		wantStatus(t, err, tc.code, tc.msg)
		if got != tc.want {
			t.Errorf("serviceProxyPortName(%s, %q) = %q, want %q", tc.svc.Name, tc.port, got, tc.want)
		}
	}
}

func slice(name string, family discoveryv1.AddressType, port int32, portName string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: family,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port)}},
		Endpoints:   eps,
	}
}

func ep(ip string, ready *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "pod-" + ip}}
}

func TestServiceProxyLocation(t *testing.T) {
	first := func(int) int { return 0 }
	all := func(*discoveryv1.Endpoint) bool { return true }
	noEndpoints := `no endpoints available for service "web"`
	for _, tc := range []struct {
		name     string
		slices   []*discoveryv1.EndpointSlice
		scheme   string
		portName string
		valid    func(*discoveryv1.Endpoint) bool
		want     string
		code     int32
		msg      string
	}{
		{name: "no slices", code: 503, msg: noEndpoints},
		{name: "ready endpoint", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http", ep("10.42.0.5", ptr.To(true)))},
			portName: "http", want: "//10.42.0.5:8080"},
		{name: "unset ready counts as ready", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "", ep("10.42.0.5", nil))},
			want: "//10.42.0.5:8080"},
		{name: "scheme kept", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8443, "tls", ep("10.42.0.5", nil))},
			scheme: "https", portName: "tls", want: "https://10.42.0.5:8443"},
		{name: "unready skipped", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http",
			ep("10.42.0.5", ptr.To(false)), ep("10.42.0.6", ptr.To(true)))}, portName: "http", want: "//10.42.0.6:8080"},
		{name: "only unready", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http",
			ep("10.42.0.5", ptr.To(false)))}, portName: "http", code: 503, msg: noEndpoints},
		{name: "other port name", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http", ep("10.42.0.5", nil))},
			portName: "admin", code: 503, msg: noEndpoints},
		{name: "slice without endpoints", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http")},
			portName: "http", code: 503, msg: noEndpoints},
		{name: "endpoint that is not a pod skipped", slices: []*discoveryv1.EndpointSlice{slice("a", discoveryv1.AddressTypeIPv4, 8080, "http",
			ep("10.42.0.5", nil), ep("10.42.0.6", nil))}, portName: "http",
			valid: func(e *discoveryv1.Endpoint) bool { return e.Addresses[0] == "10.42.0.6" }, want: "//10.42.0.6:8080"},
		{name: "preferred family first", slices: []*discoveryv1.EndpointSlice{
			slice("v6", discoveryv1.AddressTypeIPv6, 8080, "http", ep("fd00::5", nil)),
			slice("v4", discoveryv1.AddressTypeIPv4, 8080, "http", ep("10.42.0.5", nil))}, portName: "http", want: "//10.42.0.5:8080"},
		{name: "other family when preferred has none", slices: []*discoveryv1.EndpointSlice{
			slice("v6", discoveryv1.AddressTypeIPv6, 8080, "http", ep("fd00::5", nil)),
			slice("v4", discoveryv1.AddressTypeIPv4, 8080, "http", ep("10.42.0.5", ptr.To(false)))}, portName: "http", want: "//[fd00::5]:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			valid := tc.valid
			if valid == nil {
				valid = all
			}
			loc, err := serviceProxyLocation("web", tc.scheme, tc.portName, tc.slices, discoveryv1.AddressTypeIPv4, valid, first)
			wantStatus(t, err, tc.code, tc.msg)
			if err == nil && loc.String() != tc.want {
				t.Fatalf("location %q, want %q", loc, tc.want)
			}
		})
	}
}

// TestServiceProxyLocationSpreads checks that every ready endpoint can be picked (the pick is random upstream).
func TestServiceProxyLocationSpreads(t *testing.T) {
	s := slice("a", discoveryv1.AddressTypeIPv4, 80, "", ep("10.42.0.1", nil), ep("10.42.0.2", nil), ep("10.42.0.3", nil))
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		loc, err := serviceProxyLocation("web", "", "", []*discoveryv1.EndpointSlice{s}, discoveryv1.AddressTypeIPv4, nil, func(int) int { return i })
		if err != nil {
			t.Fatal(err)
		}
		seen[loc.Host] = true
	}
	if len(seen) != 3 {
		t.Fatalf("picked %v, want all three endpoints", seen)
	}
}

func TestEndpointIsPod(t *testing.T) {
	pod := proxyPod("10.42.0.5")
	for _, tc := range []struct {
		name string
		ep   discoveryv1.Endpoint
		pod  *corev1.Pod
		want bool
	}{
		{"pod with the address", ep("10.42.0.5", nil), pod, true},
		{"pod without the address", ep("10.42.0.6", nil), pod, false},
		{"no pod", ep("10.42.0.5", nil), nil, false},
		{"no target", discoveryv1.Endpoint{Addresses: []string{"10.42.0.5"}}, pod, false},
		{"other namespace", discoveryv1.Endpoint{Addresses: []string{"10.42.0.5"}, TargetRef: &corev1.ObjectReference{Namespace: "other", Name: "web"}}, pod, false},
	} {
		if got := endpointIsPod("ns", &tc.ep, tc.pod); got != tc.want {
			t.Errorf("%s: endpointIsPod = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func proxyNode(port int32, addrs ...corev1.NodeAddress) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	n.Status.Addresses = addrs
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	return n
}

func TestNodeProxyLocation(t *testing.T) {
	internal := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}
	for _, tc := range []struct {
		name         string
		node         *corev1.Node
		scheme, port string
		want         string
		kubelet      bool
		code         int32
		msg          string
	}{
		{name: "kubelet", node: proxyNode(10250, internal), want: "https://192.168.1.10:10250", kubelet: true},
		{name: "kubelet port from status", node: proxyNode(41234, internal), want: "https://192.168.1.10:41234", kubelet: true},
		{name: "default kubelet port", node: proxyNode(0, internal), want: "https://192.168.1.10:10250", kubelet: true},
		{name: "kubelet port named", node: proxyNode(10250, internal), scheme: "http", port: "10250", want: "https://192.168.1.10:10250", kubelet: true},
		{name: "another port", node: proxyNode(10250, internal), port: "9100", want: "//192.168.1.10:9100"},
		{name: "another port with scheme", node: proxyNode(10250, internal), scheme: "https", port: "9443", want: "https://192.168.1.10:9443"},
		{name: "InternalIP preferred", node: proxyNode(10250, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "node-1"}, internal),
			want: "https://192.168.1.10:10250", kubelet: true},
		{name: "no address", node: proxyNode(10250), code: 500, msg: "no preferred addresses found; known addresses: []"},
		{name: "loopback", node: proxyNode(10250, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}), code: 400, msg: "address not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, kubelet, err := nodeProxyLocation(tc.node, tc.scheme, tc.port)
			wantStatus(t, err, tc.code, tc.msg)
			if err != nil {
				return
			}
			if loc.String() != tc.want || kubelet != tc.kubelet {
				t.Fatalf("location %q kubelet %v, want %q %v", loc, kubelet, tc.want, tc.kubelet)
			}
		})
	}
}

func TestProxyMethods(t *testing.T) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions} {
		if !proxyMethods[m] {
			t.Errorf("%s is not proxied", m)
		}
	}
	if proxyMethods[http.MethodConnect] || proxyMethods[http.MethodTrace] {
		t.Error("CONNECT and TRACE must not be proxied")
	}
}
