package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// Proxy subresources: pods/proxy, services/proxy and nodes/proxy forward a request of any method (GET, POST, PUT,
// PATCH, DELETE, HEAD, OPTIONS, and upgrades) to a pod's IP, a ready endpoint of a service, or a node's kubelet, as
// kube-apiserver's ProxyREST connecters do. The name in the URL may carry a scheme and a port: "name", "name:port" or
// "scheme:name:port" (scheme http or https). What follows ".../proxy" is the backend path.
//
// Where a request goes is decided by pure functions (podProxyLocation, serviceProxyPortName, serviceProxyLocation,
// nodeProxyLocation) with kube-apiserver's rules and error messages; apimachinery's UpgradeAwareHandler then forwards
// it as upstream does: X-Forwarded-Uri/Host/Proto headers, redirects and HTML links rewritten to go back through the
// API server, CORS headers of the backend dropped, 301 to ".../proxy/" for a GET of ".../proxy". Pods and services are
// reached with a transport that does not verify serving certificates (kube-apiserver's proxy transport); a node's
// kubelet port with the kubelet client certificate, another port of a node with the proxy transport.

// proxyVerbs are the discovery verbs of a proxy subresource: those of its HTTP methods that map to a verb.
var proxyVerbs = []string{"create", "delete", "get", "patch", "update"}

// proxyMethods are the HTTP methods a proxy subresource forwards.
var proxyMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodHead: true, http.MethodOptions: true,
}

// proxyPath returns the backend path of a proxy subresource ("proxy" or "proxy/..."); ok is false for another subresource.
func proxyPath(subresource string) (path string, ok bool) {
	if subresource == "proxy" {
		return "", true
	}
	if rest, ok := strings.CutPrefix(subresource, "proxy/"); ok {
		return rest, true
	}
	return "", false
}

// splitProxyName parses "name", "name:port" or "scheme:name:port"; kind names the resource in the error ("pod").
func splitProxyName(kind, id string) (scheme, name, port string, err error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return "", "", "", apierrors.NewBadRequest(fmt.Sprintf("invalid %s request %q", kind, id))
	}
	return scheme, name, port, nil
}

// podProxyLocation is where a pod proxy request goes: the pod's first IP, on port (else the first declared container
// port, else none). As upstream, a port that is not a number is passed on as it is (the dialer resolves service names).
func podProxyLocation(pod *corev1.Pod, scheme, port string) (*url.URL, error) {
	if port == "" {
		for _, c := range pod.Spec.Containers {
			if len(c.Ports) > 0 {
				port = strconv.Itoa(int(c.Ports[0].ContainerPort))
				break
			}
		}
	}
	var podIP string
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	if ip := net.ParseIP(podIP); ip == nil || !ip.IsGlobalUnicast() {
		return nil, apierrors.NewBadRequest("address not allowed")
	}
	loc := &url.URL{Scheme: scheme, Host: podIP}
	if port != "" {
		loc.Host = net.JoinHostPort(podIP, port)
	} else if strings.Contains(podIP, ":") {
		loc.Host = "[" + podIP + "]"
	}
	return loc, nil
}

// serviceProxyPortName turns the port of a service proxy request into the service port name endpoints are matched
// by: a number names the service port with that number; a name (or "") is used as it is.
func serviceProxyPortName(svc *corev1.Service, port string) (string, error) {
	n, err := strconv.ParseInt(port, 10, 64)
	if err != nil {
		return port, nil
	}
	for _, p := range svc.Spec.Ports {
		if int64(p.Port) == n {
			return p.Name, nil
		}
	}
	return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %d found for service %q", n, svc.Name))
}

// serviceProxyLocation picks a ready endpoint of the service's slices serving portName, as upstream's
// RandomEndpoint: slices of the preferred address type first, otherwise in random order, and a random ready endpoint
// that valid accepts. intn(n) returns a number in [0, n).
func serviceProxyLocation(svcName, scheme, portName string, slices []*discoveryv1.EndpointSlice, preferred discoveryv1.AddressType,
	valid func(*discoveryv1.Endpoint) bool, intn func(int) int) (*url.URL, error) {
	slices = append([]*discoveryv1.EndpointSlice(nil), slices...)
	for i := len(slices) - 1; i > 0; i-- {
		j := intn(i + 1)
		slices[i], slices[j] = slices[j], slices[i]
	}
	sort.SliceStable(slices, func(i, j int) bool {
		return slices[i].AddressType == preferred && slices[j].AddressType != preferred
	})
	for _, slice := range slices {
		for _, p := range slice.Ports {
			if p.Name == nil || *p.Name != portName || p.Port == nil || len(slice.Endpoints) == 0 {
				continue
			}
			offset := intn(len(slice.Endpoints))
			for i := range slice.Endpoints {
				ep := &slice.Endpoints[(i+offset)%len(slice.Endpoints)]
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				if len(ep.Addresses) == 0 || (valid != nil && !valid(ep)) {
					continue
				}
				return &url.URL{Scheme: scheme, Host: net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*p.Port)))}, nil
			}
		}
	}
	return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", svcName))
}

// endpointIsPod reports whether ep points at pod (in namespace ns) and carries one of its IPs: upstream proxies to
// service endpoints only when they are pods.
func endpointIsPod(ns string, ep *discoveryv1.Endpoint, pod *corev1.Pod) bool {
	if ep.TargetRef == nil || ep.TargetRef.Namespace != ns || pod == nil || len(ep.Addresses) == 0 {
		return false
	}
	for _, ip := range pod.Status.PodIPs {
		if ip.IP == ep.Addresses[0] {
			return true
		}
	}
	return false
}

// nodeProxyLocation is where a node proxy request goes; kubelet says the kubelet's own endpoint is meant (no port,
// or its port), reached over https with the kubelet client certificate.
func nodeProxyLocation(node *corev1.Node, scheme, port string) (loc *url.URL, kubelet bool, err error) {
	host, kport := kubeletAddress(node)
	if host == "" {
		return nil, false, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Reason: metav1.StatusReasonUnknown, Message: fmt.Sprintf("no preferred addresses found; known addresses: %v", node.Status.Addresses)}}
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsGlobalUnicast() {
		return nil, false, apierrors.NewBadRequest("address not allowed")
	}
	if port == "" || port == strconv.Itoa(kport) {
		return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(kport))}, true, nil
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}, false, nil
}

// newProxyTransport is kube-apiserver's proxy transport for pods and services: serving certificates are not verified.
func newProxyTransport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as kube-apiserver's proxy transport
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
	}
}

// serveProxy serves the proxy subresource of pods, services and nodes; it returns false for other requests.
func (np *nodeProxy) serveProxy(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
	path, ok := proxyPath(ri.Subresource)
	if !ok || ri.Group != "" {
		return false
	}
	var gr schema.GroupResource
	switch ri.Resource {
	case "pods", "services", "nodes":
		gr = schema.GroupResource{Resource: ri.Resource}
	default:
		return false
	}
	s := np.s
	if !proxyMethods[r.Method] {
		s.writeError(w, r, apierrors.NewMethodNotSupported(gr, r.Method), gr, ri.Name)
		return true
	}
	loc, transport, err := np.proxyLocation(r.Context(), ri)
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
		return true
	}
	loc.Path = utilnet.JoinPreservingTrailingSlash(loc.Path, path)
	h := proxy.NewUpgradeAwareHandler(loc, transport, true, false, proxy.NewErrorResponder(&proxyResponder{s: s, w: w, r: r, gr: gr, name: ri.Name}))
	// As kube-apiserver's authentication and impersonation filters: the caller's credentials stay here.
	for k := range r.Header {
		if k == "Authorization" || strings.HasPrefix(k, "Impersonate-") {
			r.Header.Del(k)
		}
	}
	h.ServeHTTP(w, r)
	return true
}

// proxyLocation resolves the target of a proxy request and the transport to reach it.
func (np *nodeProxy) proxyLocation(ctx context.Context, ri requestInfo) (*url.URL, http.RoundTripper, error) {
	s := np.s
	switch ri.Resource {
	case "pods":
		scheme, name, port, err := splitProxyName("pod", ri.Name)
		if err != nil {
			return nil, nil, err
		}
		pods := s.byGVR[corev1.SchemeGroupVersion.WithResource("pods")]
		obj, err := s.store.Get(ctx, pods.keys.Key(ri.Namespace, name), pods.New)
		if err != nil {
			return nil, nil, toAPIError(err, pods.GroupResource(), name)
		}
		loc, err := podProxyLocation(obj.(*corev1.Pod), scheme, port)
		return loc, np.proxyTransport, err
	case "services":
		scheme, name, port, err := splitProxyName("service", ri.Name)
		if err != nil {
			return nil, nil, err
		}
		services := s.byGVR[corev1.SchemeGroupVersion.WithResource("services")]
		if _, err := strconv.ParseInt(port, 10, 64); err == nil {
			obj, err := s.store.Get(ctx, services.keys.Key(ri.Namespace, name), services.New)
			if err != nil {
				return nil, nil, toAPIError(err, services.GroupResource(), name)
			}
			if port, err = serviceProxyPortName(obj.(*corev1.Service), port); err != nil {
				return nil, nil, err
			}
		}
		loc, err := s.serviceEndpoint(ri.Namespace, name, scheme, port)
		return loc, np.proxyTransport, err
	default: // nodes
		scheme, name, port, err := splitProxyName("node", ri.Name)
		if err != nil {
			return nil, nil, err
		}
		nodes := s.byGVR[corev1.SchemeGroupVersion.WithResource("nodes")]
		obj, err := s.store.Get(ctx, nodes.keys.Key("", name), nodes.New)
		if err != nil {
			return nil, nil, toAPIError(err, nodes.GroupResource(), name)
		}
		loc, kubelet, err := nodeProxyLocation(obj.(*corev1.Node), scheme, port)
		if err != nil {
			return nil, nil, err
		}
		if host := loc.Hostname(); net.ParseIP(host) == nil {
			// A host name: every address it resolves to must be proxyable, as upstream.
			addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err == nil && len(addrs) == 0 {
				err = fmt.Errorf("no addresses for hostname")
			}
			for _, a := range addrs {
				if err == nil && !a.IP.IsGlobalUnicast() {
					err = fmt.Errorf("address not allowed")
				}
			}
			if err != nil {
				return nil, nil, apierrors.NewBadRequest(err.Error())
			}
		}
		if kubelet {
			return loc, np.transport, nil
		}
		return loc, np.proxyTransport, nil
	}
}

// serviceEndpoint picks a ready endpoint of a Service's port (named portName, or the only port when "") from the
// watch caches: the EndpointSlices of the Service, each endpoint still being the pod it names.
func (s *APIServer) serviceEndpoint(ns, name, scheme, portName string) (*url.URL, error) {
	slicesRes := s.byGVR[discoveryv1.SchemeGroupVersion.WithResource("endpointslices")]
	objs, _ := slicesRes.cacher.List(slicesRes.keys.Prefix(ns), nil)
	var slices []*discoveryv1.EndpointSlice
	for _, o := range objs {
		if es, ok := o.(*discoveryv1.EndpointSlice); ok && es.Labels[discoveryv1.LabelServiceName] == name {
			slices = append(slices, es)
		}
	}
	pods := s.byGVR[corev1.SchemeGroupVersion.WithResource("pods")]
	valid := func(ep *discoveryv1.Endpoint) bool {
		if ep.TargetRef == nil {
			return false
		}
		pod, _ := pods.cacher.Get(pods.keys.Key(ns, ep.TargetRef.Name)).(*corev1.Pod)
		return endpointIsPod(ns, ep, pod)
	}
	return serviceProxyLocation(name, scheme, portName, slices, discoveryv1.AddressTypeIPv4, valid, rand.IntN)
}

// proxyResponder writes the errors of the proxy handler (backend unreachable) as a Status.
type proxyResponder struct {
	s    *APIServer
	w    http.ResponseWriter
	r    *http.Request
	gr   schema.GroupResource
	name string
}

// Error writes err (a Status already, or an internal error) to the client.
func (p *proxyResponder) Error(err error) { p.s.writeError(p.w, p.r, err, p.gr, p.name) }
