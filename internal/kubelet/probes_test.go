package kubelet

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestHTTPSProbeSkipsCertificateVerification: as the kubelet's prober, an HTTPS probe succeeds against a server whose
// certificate is self-signed and not issued for the address probed.
func TestHTTPSProbeSkipsCertificateVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || r.Header.Get("User-Agent") != "kube-probe/1.32" {
			http.Error(w, "unexpected", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	w := &podWorker{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	get := &corev1.HTTPGetAction{Host: host, Port: intstr.FromInt(p), Path: "/readyz", Scheme: corev1.URISchemeHTTPS}
	if ok, msg := w.httpGet(ctx, &corev1.Pod{}, &corev1.Container{}, get, time.Second); !ok {
		t.Errorf("HTTPS probe of a self-signed server failed: %s", msg)
	}
	get.Path = "/other"
	if ok, _ := w.httpGet(ctx, &corev1.Pod{}, &corev1.Container{}, get, time.Second); ok {
		t.Error("a 404 passed the probe")
	}
}
