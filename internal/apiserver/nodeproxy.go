package apiserver

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
)

// Node proxy: pods/log, pods/exec, pods/attach and pods/portforward are served by the kubelet of the pod's node.
// The API server finds the node's InternalIP and kubelet port in the Node object, connects with its own client
// certificate (the kubelet accepts certificates signed by the cluster CA) and reverse-proxies the request, including
// the SPDY upgrade of exec/attach/portforward. The kubelet's serving certificate is not verified, as kube-apiserver
// without --kubelet-certificate-authority.
//
// kubectl 1.32 first asks for a WebSocket (v5.channel.k8s.io, or SPDY tunnelled in WebSocket for port-forward); the
// kubelet's streaming server does not speak v5, so that attempt is refused with a non-101 status and kubectl falls back
// to SPDY/3.1, which is proxied byte for byte.

// kubeletDefaultPort is used when a Node does not report its kubelet endpoint.
const kubeletDefaultPort = 10250

type nodeProxy struct {
	s *APIServer
	// transport reaches kubelets with the API server's client certificate.
	transport *http.Transport
	// proxyTransport reaches pods, services and other ports of nodes (proxy.go).
	proxyTransport *http.Transport
}

// EnableNodeProxy turns on the pod subresources served by kubelets and the proxy subresources of pods, services and
// nodes (proxy.go); certPEM/keyPEM is the client certificate the
// API server presents to them. Call before Run.
func (s *APIServer) EnableNodeProxy(certPEM, keyPEM []byte) error {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("apiserver: kubelet client certificate: %w", err)
	}
	np := &nodeProxy{s: s, transport: &http.Transport{
		TLSClientConfig:     &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}, //nolint:gosec // kubelet serving certs are self-signed, as upstream's default
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 8,
		DialContext:         (&net.Dialer{}).DialContext,
	}, proxyTransport: newProxyTransport()}
	core := func(kind string) schema.GroupVersionKind { return schema.GroupVersionKind{Version: "v1", Kind: kind} }
	s.extraPodSubresources = append(s.extraPodSubresources,
		subresourceInfo{"log", core("Pod"), []string{"get"}},
		subresourceInfo{"exec", core("PodExecOptions"), []string{"create", "get"}},
		subresourceInfo{"attach", core("PodAttachOptions"), []string{"create", "get"}},
		subresourceInfo{"portforward", core("PodPortForwardOptions"), []string{"create", "get"}},
		subresourceInfo{"proxy", core("PodProxyOptions"), proxyVerbs},
	)
	if s.extraCoreSubresources == nil {
		s.extraCoreSubresources = map[string][]subresourceInfo{}
	}
	for _, kind := range []string{"Node", "Service"} {
		s.extraCoreSubresources[kind] = append(s.extraCoreSubresources[kind], subresourceInfo{"proxy", core(kind + "ProxyOptions"), proxyVerbs})
	}
	np.registerMetrics()
	prev := s.subresourceHook
	s.subresourceHook = func(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
		if ri.Group == "" && ri.Resource == "pods" && np.serve(w, r, ri) {
			return true
		}
		if np.serveProxy(w, r, ri) {
			return true
		}
		if ri.Group == metricsGroup && ri.Version == metricsVersion && ri.Subresource == "" {
			np.serveMetrics(w, r, ri)
			return true
		}
		return prev != nil && prev(w, r, ri)
	}
	return nil
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (np *nodeProxy) serve(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
	s := np.s
	gr := schema.GroupResource{Resource: "pods"}
	var kind string
	switch ri.Subresource {
	case "log":
		kind = "containerLogs"
		if ri.Verb != "get" {
			s.writeError(w, r, apierrors.NewMethodNotSupported(gr, r.Method), gr, ri.Name)
			return true
		}
	case "exec":
		kind = "exec"
	case "attach":
		kind = "attach"
	case "portforward":
		kind = "portForward"
	default:
		return false
	}
	if kind != "containerLogs" && isWebSocket(r) {
		// Not 101: kubectl falls back to SPDY.
		s.writeError(w, r, apierrors.NewBadRequest("WebSocket streaming is not supported by skiff; use SPDY (kubectl falls back automatically)"), gr, ri.Name)
		return true
	}
	pods := s.byGVR[corev1.SchemeGroupVersion.WithResource("pods")]
	obj, err := s.store.Get(r.Context(), pods.keys.Key(ri.Namespace, ri.Name), pods.New)
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
		return true
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		s.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name)), gr, ri.Name)
		return true
	}
	q := r.URL.Query()
	container := q.Get("container")
	if container == "" && kind != "portForward" {
		if len(pod.Spec.Containers) == 1 {
			container = pod.Spec.Containers[0].Name
		} else if d := pod.Annotations["kubectl.kubernetes.io/default-container"]; d != "" {
			container = d
		} else {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			s.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)), gr, ri.Name)
			return true
		}
	}
	if kind != "portForward" && !hasContainer(pod, container) {
		s.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name)), gr, ri.Name)
		return true
	}
	if kind != "containerLogs" {
		if err := s.admitConnect(r.Context(), ri.Namespace, ri.Name, ri.Subresource, connectOptions(ri.Subresource, q, container)); err != nil {
			s.writeError(w, r, err, gr, ri.Name)
			return true
		}
	}
	nodes := s.byGVR[corev1.SchemeGroupVersion.WithResource("nodes")]
	nobj, err := s.store.Get(r.Context(), nodes.keys.Key("", pod.Spec.NodeName), nodes.New)
	if err != nil {
		s.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s of pod %s is not available: %v", pod.Spec.NodeName, pod.Name, err)), gr, ri.Name)
		return true
	}
	host, port := kubeletAddress(nobj.(*corev1.Node))
	if host == "" {
		s.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has no address", pod.Spec.NodeName)), gr, ri.Name)
		return true
	}
	out := url.Values{}
	var path string
	switch kind {
	case "containerLogs":
		path = fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container)
		for _, k := range []string{"follow", "previous", "timestamps", "sinceSeconds", "sinceTime", "tailLines", "limitBytes"} {
			if v := q.Get(k); v != "" {
				out.Set(k, v)
			}
		}
	case "exec", "attach":
		path = fmt.Sprintf("/%s/%s/%s/%s", kind, pod.Namespace, pod.Name, container)
		out["command"] = q["command"]
		for from, to := range map[string]string{"stdin": "input", "stdout": "output", "stderr": "error", "tty": "tty"} {
			if v := q.Get(from); v == "true" || v == "1" {
				out.Set(to, "1")
			}
		}
	case "portForward":
		path = fmt.Sprintf("/portForward/%s/%s", pod.Namespace, pod.Name)
		if ports := q["ports"]; len(ports) > 0 {
			out["port"] = ports
		}
	}
	target := &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path, RawQuery: out.Encode()}
	if kind == "containerLogs" && wsstream.IsWebSocketRequest(r) {
		np.serveLogsWebSocket(w, r, target, pod.Spec.NodeName, gr, ri.Name)
		return true
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Impersonate-User")
			pr.Out.Header.Del("Impersonate-Group")
		},
		Transport:     np.transport,
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode < 400 || strings.Contains(resp.Header.Get("Content-Type"), "json") {
				return nil
			}
			// The kubelet answers errors in text; clients expect a Status.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			body, _ := json.Marshal(kubeletErrorStatus(resp.StatusCode, b))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			resp.Header.Set("Content-Type", "application/json")
			resp.Header.Del("X-Content-Type-Options")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach the kubelet of node %s: %v", pod.Spec.NodeName, err)), gr, ri.Name)
		},
	}
	rp.ServeHTTP(w, r)
	return true
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// kubeletAddress picks the node's InternalIP (else another address) and kubelet port.
func kubeletAddress(n *corev1.Node) (string, int) {
	port := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = kubeletDefaultPort
	}
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address, port
			}
		}
	}
	return "", port
}

// kubeletErrorStatus is the Status for a kubelet's error answer (which is plain text).
func kubeletErrorStatus(code int, body []byte) *metav1.Status {
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Message: strings.TrimSpace(string(body)), Code: int32(code), Reason: metav1.StatusReasonBadRequest}
	if code == http.StatusNotFound {
		st.Reason = metav1.StatusReasonNotFound
	} else if code >= 500 {
		st.Reason = metav1.StatusReasonInternalError
	}
	return st
}

// serveLogsWebSocket streams a container's log over a WebSocket (protocols binary.k8s.io and base64.binary.k8s.io),
// as kube-apiserver's log endpoint does for a WebSocket request; a kubelet error is answered as a Status before the
// upgrade.
func (np *nodeProxy) serveLogsWebSocket(w http.ResponseWriter, r *http.Request, target *url.URL, node string, gr schema.GroupResource, name string) {
	s := np.s
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	if err != nil {
		s.writeError(w, r, err, gr, name)
		return
	}
	resp, err := np.transport.RoundTrip(req)
	if err != nil {
		s.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach the kubelet of node %s: %v", node, err)), gr, name)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		s.writeError(w, r, &apierrors.StatusError{ErrStatus: *kubeletErrorStatus(resp.StatusCode, b)}, gr, name)
		return
	}
	_ = wsstream.NewReader(resp.Body, true, wsstream.NewDefaultReaderProtocols()).Copy(w, r)
}
