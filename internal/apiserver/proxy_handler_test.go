package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostIP returns a global unicast IPv4 address of this machine: proxy subresources refuse loopback targets.
func hostIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no global unicast IPv4 address to run backends on")
	return ""
}

// clientCertPEM makes a self-signed client certificate for the kubelet connection.
func clientCertPEM(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver-kubelet-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// newProxyTestServer is newTestServer with the node proxy enabled (it must be before Run).
func newProxyTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, func(api *APIServer) error { return api.EnableNodeProxy(clientCertPEM(t)) })
}

// backendReply is what the test backend answers: what it received.
type backendReply struct {
	Method, Path, Query, Body        string
	ForwardedURI, ForwardedHost      string
	Authorization, ClientCertCN, TLS string
	Impersonate                      string
}

// backendHandler answers with what it received; /redirect redirects and /page is HTML with links.
func backendHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/redirect":
		http.Redirect(w, r, "/target", http.StatusFound)
		return
	case "/page":
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<html><body><a href="/other">x</a></body></html>`)
		return
	}
	b, _ := io.ReadAll(r.Body)
	rep := backendReply{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(b),
		ForwardedURI: r.Header.Get("X-Forwarded-Uri"), ForwardedHost: r.Header.Get("X-Forwarded-Host"), Authorization: r.Header.Get("Authorization"),
		Impersonate: r.Header.Get("Impersonate-Extra-Scopes")}
	if r.TLS != nil {
		rep.TLS = "yes"
		if len(r.TLS.PeerCertificates) > 0 {
			rep.ClientCertCN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(rep)
}

// startBackend serves backendHandler on ip (over TLS asking for a client certificate when tlsOn) and returns its port.
func startBackend(t *testing.T, ip string, tlsOn bool) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(backendHandler))
	s.Listener.Close()
	s.Listener = ln
	if tlsOn {
		s.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return ln.Addr().(*net.TCPAddr).Port
}

func mustDo(t *testing.T, ts *testServer, method, path, body string, wantCode int) result {
	t.Helper()
	res := ts.do(method, path, "application/json", "", []byte(body))
	if res.code != wantCode {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.code, res.body, wantCode)
	}
	return res
}

func (r result) reply(t *testing.T) backendReply {
	t.Helper()
	var rep backendReply
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("backend reply %q: %v", r.body, err)
	}
	return rep
}

func TestProxySubresources(t *testing.T) {
	ip := hostIP(t)
	podPort := startBackend(t, ip, false)
	kubeletPort := startBackend(t, ip, true)
	otherNodePort := startBackend(t, ip, false)
	ts := newProxyTestServer(t)
	ns := "/api/v1/namespaces/default"

	mustDo(t, ts, "POST", ns+"/pods", fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},
		"spec":{"containers":[{"name":"app","image":"img","ports":[{"containerPort":%d,"name":"http"}]}]}}`, podPort), 201)
	pod := mustDo(t, ts, "GET", ns+"/pods/web", "", 200)
	var podObj map[string]any
	_ = json.Unmarshal(pod.body, &podObj)
	podObj["status"] = map[string]any{"phase": "Running", "podIP": ip, "podIPs": []any{map[string]any{"ip": ip}}}
	b, _ := json.Marshal(podObj)
	mustDo(t, ts, "PUT", ns+"/pods/web/status", string(b), 200)
	mustDo(t, ts, "POST", ns+"/pods", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pending"},"spec":{"containers":[{"name":"app","image":"img"}]}}`, 201)

	mustDo(t, ts, "POST", ns+"/services", fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
		"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":%d}]}}`, podPort), 201)
	mustDo(t, ts, "POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", fmt.Sprintf(`{"apiVersion":"discovery.k8s.io/v1",
		"kind":"EndpointSlice","metadata":{"name":"web-abc","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",
		"endpoints":[{"addresses":["%s"],"conditions":{"ready":true},"targetRef":{"kind":"Pod","namespace":"default","name":"web"}}],
		"ports":[{"name":"http","port":%d,"protocol":"TCP"}]}`, ip, podPort), 201)
	mustDo(t, ts, "POST", ns+"/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"empty"},"spec":{"selector":{"app":"none"},"ports":[{"port":80}]}}`, 201)

	mustDo(t, ts, "POST", "/api/v1/nodes", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"}}`, 201)
	node := mustDo(t, ts, "GET", "/api/v1/nodes/node-1", "", 200)
	var nodeObj map[string]any
	_ = json.Unmarshal(node.body, &nodeObj)
	nodeObj["status"] = map[string]any{"addresses": []any{map[string]any{"type": "InternalIP", "address": ip}},
		"daemonEndpoints": map[string]any{"kubeletEndpoint": map[string]any{"Port": kubeletPort}}}
	b, _ = json.Marshal(nodeObj)
	mustDo(t, ts, "PUT", "/api/v1/nodes/node-1/status", string(b), 200)

	podBase := fmt.Sprintf("%s/pods/web:%d/proxy", ns, podPort)
	t.Run("PodAllVerbs", func(t *testing.T) {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			rep := mustDo(t, ts, m, podBase+"/echo?msg=x", "body-"+m, 200).reply(t)
			if rep.Method != m || rep.Path != "/echo" || rep.Query != "msg=x" || rep.Body != "body-"+m {
				t.Errorf("%s: backend saw %+v", m, rep)
			}
		}
		if res := ts.do("HEAD", podBase+"/echo", "", "", nil); res.code != 200 || len(res.body) != 0 {
			t.Errorf("HEAD: %d %q", res.code, res.body)
		}
	})
	t.Run("PodNameForms", func(t *testing.T) {
		for _, name := range []string{"web", fmt.Sprintf("web:%d", podPort), fmt.Sprintf("http:web:%d", podPort)} {
			rep := mustDo(t, ts, "GET", ns+"/pods/"+name+"/proxy/a/b/", "", 200).reply(t)
			if rep.Path != "/a/b/" {
				t.Errorf("%s: backend path %q, want /a/b/", name, rep.Path)
			}
		}
	})
	t.Run("ForwardedHeadersAndCredentials", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.http.URL+podBase+"/echo", nil)
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Impersonate-Extra-Scopes", "x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep backendReply
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		if rep.ForwardedURI != podBase+"/echo" || rep.Authorization != "" || rep.Impersonate != "" {
			t.Errorf("backend saw X-Forwarded-Uri %q Authorization %q Impersonate-Extra-Scopes %q", rep.ForwardedURI, rep.Authorization, rep.Impersonate)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("the backend's CORS header was passed on")
		}
	})
	t.Run("RedirectsAndLinksRewritten", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(ts.http.URL + podBase + "/redirect")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != podBase+"/target" {
			t.Errorf("redirect: %d Location %q, want 302 %q", resp.StatusCode, loc, podBase+"/target")
		}
		page := mustDo(t, ts, "GET", podBase+"/page", "", 200)
		if !strings.Contains(string(page.body), `href="`+podBase+`/other"`) {
			t.Errorf("HTML link not rewritten: %s", page.body)
		}
		resp, err = client.Get(ts.http.URL + podBase + "?q=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != podBase+"/?q=1" {
			t.Errorf("bare proxy: %d Location %q, want 301 %q", resp.StatusCode, loc, podBase+"/?q=1")
		}
	})
	t.Run("Service", func(t *testing.T) {
		// The proxy reads endpoints from the watch cache, which sees the slice created above a moment later.
		deadline := time.Now().Add(10 * time.Second)
		for ts.do("GET", ns+"/services/web:80/proxy/echo", "", "", nil).code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for _, name := range []string{"web:80", "web:http", "http:web:http"} {
			rep := mustDo(t, ts, "POST", ns+"/services/"+name+"/proxy/echo?msg=s", "", 200).reply(t)
			if rep.Method != "POST" || rep.Path != "/echo" || rep.Query != "msg=s" {
				t.Errorf("%s: backend saw %+v", name, rep)
			}
		}
	})
	t.Run("Node", func(t *testing.T) {
		rep := mustDo(t, ts, "GET", "/api/v1/nodes/node-1/proxy/healthz", "", 200).reply(t)
		if rep.TLS != "yes" || rep.ClientCertCN != "kube-apiserver-kubelet-client" || rep.Path != "/healthz" {
			t.Errorf("kubelet saw %+v", rep)
		}
		rep = mustDo(t, ts, "GET", fmt.Sprintf("/api/v1/nodes/node-1:%d/proxy/metrics", otherNodePort), "", 200).reply(t)
		if rep.TLS != "" || rep.Path != "/metrics" {
			t.Errorf("other node port saw %+v", rep)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			code         int32
			reason       metav1.StatusReason
			msg          string
		}{
			{"GET", ns + "/pods/nosuch/proxy/", 404, metav1.StatusReasonNotFound, `pods "nosuch" not found`},
			{"GET", ns + "/pods/pending/proxy/", 400, metav1.StatusReasonBadRequest, "address not allowed"},
			{"GET", ns + "/pods/ftp:web:21/proxy/", 400, metav1.StatusReasonBadRequest, `invalid pod request "ftp:web:21"`},
			{"GET", ns + "/services/web/proxy/", 503, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "web"`},
			{"GET", ns + "/services/empty/proxy/", 503, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "empty"`},
			{"GET", ns + "/services/nosuch/proxy/", 503, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "nosuch"`},
			{"GET", ns + "/services/nosuch:80/proxy/", 404, metav1.StatusReasonNotFound, `services "nosuch" not found`},
			{"GET", ns + "/services/web:81/proxy/", 503, metav1.StatusReasonServiceUnavailable, `no service port 81 found for service "web"`},
			{"GET", "/api/v1/nodes/nosuch/proxy/", 404, metav1.StatusReasonNotFound, `nodes "nosuch" not found`},
			{"CONNECT", ns + "/pods/web/proxy/", 405, metav1.StatusReasonMethodNotAllowed, ""},
		} {
			res := ts.do(tc.method, tc.path, "", "", nil)
			st := res.status(t)
			if st.Code != tc.code || res.code != int(tc.code) || st.Reason != tc.reason || (tc.msg != "" && st.Message != tc.msg) {
				t.Errorf("%s %s: %d %s %q, want %d %s %q", tc.method, tc.path, st.Code, st.Reason, st.Message, tc.code, tc.reason, tc.msg)
			}
		}
		// A pod port nothing listens on: the backend cannot be reached.
		res := ts.do("GET", ns+"/pods/web:1/proxy/", "", "", nil)
		if st := res.status(t); st.Code != 503 || !strings.HasPrefix(st.Message, "error trying to reach service: ") {
			t.Errorf("closed port: %d %q", st.Code, st.Message)
		}
	})
	t.Run("Discovery", func(t *testing.T) {
		var list metav1.APIResourceList
		if err := json.Unmarshal(mustDo(t, ts, "GET", "/api/v1", "", 200).body, &list); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"pods/proxy": "PodProxyOptions", "services/proxy": "ServiceProxyOptions", "nodes/proxy": "NodeProxyOptions"}
		for _, r := range list.APIResources {
			if kind, ok := want[r.Name]; ok {
				if r.Kind != kind || strings.Join(r.Verbs, ",") != "create,delete,get,patch,update" {
					t.Errorf("%s: kind %s verbs %v", r.Name, r.Kind, r.Verbs)
				}
				delete(want, r.Name)
			}
		}
		if len(want) > 0 {
			t.Errorf("missing from /api/v1: %v", want)
		}
		res := ts.do("GET", "/api", "", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", nil)
		var agg apidiscoveryv2.APIGroupDiscoveryList
		if err := json.Unmarshal(res.body, &agg); err != nil || len(agg.Items) != 1 || len(agg.Items[0].Versions) != 1 {
			t.Fatalf("aggregated discovery: %v %.200s", err, res.body)
		}
		want = map[string]string{"pods": "PodProxyOptions", "services": "ServiceProxyOptions", "nodes": "NodeProxyOptions"}
		for _, r := range agg.Items[0].Versions[0].Resources {
			for _, sr := range r.Subresources {
				if kind, ok := want[r.Resource]; ok && sr.Subresource == "proxy" {
					if sr.ResponseKind == nil || sr.ResponseKind.Kind != kind || strings.Join(sr.Verbs, ",") != "create,delete,get,patch,update" {
						t.Errorf("aggregated %s/proxy: kind %v verbs %v", r.Resource, sr.ResponseKind, sr.Verbs)
					}
					delete(want, r.Resource)
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("missing from aggregated /api: %v", want)
		}
	})
}
