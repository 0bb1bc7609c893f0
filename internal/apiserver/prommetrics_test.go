package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/pki"
	"github.com/skiff-sh/skiff/internal/storage"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestRequestLabels(t *testing.T) {
	tests := []struct {
		method, path, contentType string
		want                      requestKey
	}{
		{"GET", "/api/v1/namespaces/default/pods/p", "", requestKey{verb: "GET", version: "v1", resource: "pods", scope: "resource"}},
		{"GET", "/api/v1/namespaces/default/pods", "", requestKey{verb: "LIST", version: "v1", resource: "pods", scope: "namespace"}},
		{"GET", "/api/v1/pods", "", requestKey{verb: "LIST", version: "v1", resource: "pods", scope: "cluster"}},
		{"GET", "/apis/apps/v1/namespaces/ns/deployments?watch=true", "", requestKey{verb: "WATCH", group: "apps", version: "v1", resource: "deployments", scope: "namespace"}},
		{"POST", "/api/v1/namespaces/default/pods", "", requestKey{verb: "POST", version: "v1", resource: "pods", scope: "resource"}},
		{"POST", "/api/v1/namespaces/default/pods?dryRun=All", "", requestKey{verb: "POST", dryRun: "All", version: "v1", resource: "pods", scope: "resource"}},
		{"POST", "/api/v1/namespaces/default/pods?dryRun=Some", "", requestKey{verb: "POST", dryRun: "invalid", version: "v1", resource: "pods", scope: "resource"}},
		{"PUT", "/api/v1/namespaces/default/pods/p/status", "", requestKey{verb: "PUT", version: "v1", resource: "pods", subresource: "status", scope: "resource"}},
		{"PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", "application/apply-patch+yaml", requestKey{verb: "APPLY", group: "apps", version: "v1", resource: "deployments", scope: "resource"}},
		{"PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", "application/merge-patch+json", requestKey{verb: "PATCH", group: "apps", version: "v1", resource: "deployments", scope: "resource"}},
		{"DELETE", "/api/v1/namespaces/default/configmaps", "", requestKey{verb: "DELETE", version: "v1", resource: "configmaps", scope: "namespace"}},
		{"GET", "/api/v1/namespaces/default/pods/p/log", "", requestKey{verb: "CONNECT", version: "v1", resource: "pods", subresource: "log", scope: "resource"}},
		{"GET", "/api/v1/nodes/n1:10250/proxy/metrics/resource", "", requestKey{verb: "CONNECT", version: "v1", resource: "nodes", subresource: "proxy", scope: "resource"}},
		{"GET", "/api/v1/namespaces/ns", "", requestKey{verb: "GET", version: "v1", resource: "namespaces", scope: "resource"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			ri, ok := parseRequestInfo(r)
			if !ok || !ri.IsResource {
				t.Fatalf("not a resource request: %+v", ri)
			}
			if got := requestLabels(r, ri); got != tc.want {
				t.Errorf("labels = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// asAdmin serves h with the admin user in the request context, as authentication would.
func asUser(h http.Handler, groups ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), &auth.User{Name: "u", Groups: groups})))
	})
}

func TestPrometheusMetrics(t *testing.T) {
	ts := newTestServer(t)
	m := ts.api.prom
	if r := ts.create("/api/v1/namespaces/default/configmaps", cm("a")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := ts.create("/api/v1/namespaces/default/configmaps", cm("a")); r.code != 409 {
		t.Fatalf("second create: %d %s", r.code, r.body)
	}
	for i := 0; i < 2; i++ {
		if r := ts.do("GET", "/api/v1/namespaces/default/configmaps/a", "", "", nil); r.code != 200 {
			t.Fatalf("get: %d %s", r.code, r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/namespaces/default/configmaps/missing", "", "", nil); r.code != 404 {
		t.Fatalf("get missing: %d %s", r.code, r.body)
	}
	count := func(verb, scope, code string) float64 {
		return testutil.ToFloat64(m.requests.WithLabelValues(verb, "", "", "v1", "configmaps", "", scope, "apiserver", code))
	}
	for _, c := range []struct {
		verb, scope, code string
		want              float64
	}{{"POST", "resource", "201", 1}, {"POST", "resource", "409", 1}, {"GET", "resource", "200", 2}, {"GET", "resource", "404", 1}} {
		if got := count(c.verb, c.scope, c.code); got != c.want {
			t.Errorf("apiserver_request_total{verb=%s,code=%s} = %v, want %v", c.verb, c.code, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.durations, "apiserver_request_duration_seconds"); n == 0 {
		t.Error("no apiserver_request_duration_seconds series")
	}
	if got := testutil.ToFloat64(m.etcdCount.WithLabelValues("create", "", "configmaps")); got != 2 {
		t.Errorf("etcd_requests_total{operation=create,resource=configmaps} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.inflightMut); got != 0 {
		t.Errorf("mutating requests in flight after they ended = %v", got)
	}

	// /metrics: forbidden without system:masters, else Prometheus text that parses.
	if r := ts.do("GET", "/metrics", "", "", nil); r.code != http.StatusForbidden || !strings.Contains(string(r.body), `cannot get path \"/metrics\"`) {
		t.Fatalf("anonymous /metrics: %d %s", r.code, r.body)
	}
	rec := httptest.NewRecorder()
	asUser(ts.api.Handler(), "system:authenticated").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("/metrics for a plain user: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	asUser(ts.api.Handler(), pki.AdminGroup).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics as admin: %d %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, name := range []string{"apiserver_request_total", "apiserver_request_duration_seconds", "apiserver_current_inflight_requests",
		"apiserver_storage_objects", "apiserver_resource_objects", "etcd_request_duration_seconds", "go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	// The count comes from the watch cache, which sees the create a moment after it returns: poll with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := false
		for _, mt := range fams["apiserver_storage_objects"].GetMetric() {
			if mt.GetLabel()[0].GetValue() == "configmaps" && mt.GetGauge().GetValue() >= 1 {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("apiserver_storage_objects{resource=configmaps} is not >= 1")
		}
		time.Sleep(50 * time.Millisecond)
		rec = httptest.NewRecorder()
		asUser(ts.api.Handler(), pki.AdminGroup).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if fams, err = parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes())); err != nil {
			t.Fatalf("parse /metrics: %v", err)
		}
	}
}

func TestWatchEventsCounted(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.create("/api/v1/namespaces/default/configmaps", cm("w")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	// A watch from resourceVersion 0 sends the current objects as ADDED; a timeout ends it.
	if r := ts.do("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0&timeoutSeconds=1", "", "", nil); r.code != 200 {
		t.Fatalf("watch: %d %s", r.code, r.body)
	}
	m := ts.api.prom
	if got := testutil.ToFloat64(m.watchEvents[ts.api.byGVR[schemaGVR("", "v1", "configmaps")]]); got < 1 {
		t.Errorf("apiserver_watch_events_total{resource=configmaps} = %v, want >= 1", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("WATCH", "", "", "v1", "configmaps", "", "namespace", "apiserver", "200")); got != 1 {
		t.Errorf("apiserver_request_total{verb=WATCH} = %v, want 1", got)
	}
}

// BenchmarkInstrument measures what the metrics middleware adds to one request (the handler does nothing).
func BenchmarkInstrument(b *testing.B) {
	api, err := New(Config{Store: storage.New(nil, scheme.Scheme)})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/p", nil)
	ri, _ := parseRequestInfo(r)
	w := httptest.NewRecorder()
	noop := func(w http.ResponseWriter, _ *http.Request, _ requestInfo) { w.WriteHeader(http.StatusOK) }
	b.ReportAllocs()
	for b.Loop() {
		api.prom.instrument(w, r, ri, noop)
	}
}

func schemaGVR(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}

// The metrics writer must stay hijackable: golang.org/x/net/websocket (pods/log over a WebSocket) asserts
// http.Hijacker on the writer it is given, and a failed assertion there hung the request.
func TestStatusWriterHijack(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		hj, ok := any(sw).(http.Hijacker)
		if !ok {
			http.Error(w, "not a Hijacker", http.StatusInternalServerError)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		_ = buf.Flush()
		if sw.code != http.StatusSwitchingProtocols {
			t.Errorf("recorded code %d, want 101", sw.code)
		}
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
}
