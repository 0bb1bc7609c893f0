package apiserver

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/pki"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Prometheus metrics of the API server, served on /metrics with kube-apiserver's names, labels and buckets
// (k8s.io/apiserver/pkg/endpoints/metrics and pkg/storage/etcd3/metrics): requests by verb/resource/scope/code,
// their latency, in-flight and long-running requests, watch events, stored objects and etcd request latency, plus
// the Go runtime and process collectors. Each APIServer has its own registry.

// requestDurationBuckets are apiserver_request_duration_seconds' (and etcd_request_duration_seconds') buckets.
var requestDurationBuckets = []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
	4, 5, 6, 8, 10, 15, 20, 30, 45, 60}

// metricsComponent is the component label of requests served by the API server itself.
const metricsComponent = "apiserver"

// connectSubresources are the subresources kube-apiserver reports as CONNECT (and treats as long-running).
var connectSubresources = map[string]bool{"log": true, "exec": true, "portforward": true, "attach": true, "proxy": true}

// apiMetrics holds one API server's collectors and the label sets bound so far.
type apiMetrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	longRunning *prometheus.GaugeVec
	inflightRO  prometheus.Gauge
	inflightMut prometheus.Gauge
	watchEvents map[*resource]prometheus.Counter
	etcdLatency *prometheus.HistogramVec
	etcdCount   *prometheus.CounterVec
	etcdErrors  *prometheus.CounterVec

	mu    sync.RWMutex // guards bound and etcd
	bound map[requestKey]boundRequest
	etcd  map[etcdKey]boundEtcd
}

// requestKey is one apiserver_request_total label set.
type requestKey struct {
	verb, dryRun, group, version, resource, subresource, scope string
	code                                                       int
}

type boundRequest struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

type etcdKey struct{ op, group, resource string }

type boundEtcd struct {
	latency prometheus.Observer
	count   prometheus.Counter
	errors  prometheus.Counter
}

// newAPIMetrics builds the registry of s and instruments its etcd client.
func newAPIMetrics(s *APIServer) *apiMetrics {
	m := &apiMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apiserver_request_total",
			Help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code."},
			[]string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "apiserver_request_duration_seconds",
			Help:    "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
			Buckets: requestDurationBuckets},
			[]string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"}),
		longRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apiserver_longrunning_requests",
			Help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way."},
			[]string{"verb", "group", "version", "resource", "subresource", "scope", "component"}),
		etcdLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "etcd_request_duration_seconds",
			Help: "Etcd request latency in seconds for each operation and object type.", Buckets: requestDurationBuckets},
			[]string{"operation", "group", "resource"}),
		etcdCount: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcd_requests_total",
			Help: "Etcd request counts for each operation and object type."}, []string{"operation", "group", "resource"}),
		etcdErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcd_request_errors_total",
			Help: "Etcd failed request counts for each operation and object type."}, []string{"operation", "group", "resource"}),
		watchEvents: map[*resource]prometheus.Counter{},
		bound:       map[requestKey]boundRequest{},
		etcd:        map[etcdKey]boundEtcd{},
	}
	inflight := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apiserver_current_inflight_requests",
		Help: "Maximal number of currently used inflight request limit of this apiserver per request kind in last second."},
		[]string{"request_kind"})
	m.inflightRO, m.inflightMut = inflight.WithLabelValues("readOnly"), inflight.WithLabelValues("mutating")
	watchEvents := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apiserver_watch_events_total",
		Help: "Number of events sent in watch clients"}, []string{"group", "version", "resource"})
	for _, r := range s.resources {
		m.watchEvents[r] = watchEvents.WithLabelValues(r.GVR.Group, r.GVR.Version, r.GVR.Resource)
	}
	m.reg.MustRegister(m.requests, m.durations, m.longRunning, inflight, watchEvents, m.etcdLatency, m.etcdCount, m.etcdErrors,
		&objectCounter{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if c := s.store.Client(); c != nil {
		if kv, ok := c.KV.(*etcdMetricsKV); ok {
			kv.m.Store(m)
		} else {
			wrapped := &etcdMetricsKV{KV: c.KV}
			wrapped.m.Store(m)
			c.KV = wrapped
		}
	}
	return m
}

// servePrometheus answers GET /metrics in the Prometheus text (or OpenMetrics) format. It is a non-resource URL:
// the Authorizer decides when the server has one, else only system:masters and system:monitoring may read it.
func (s *APIServer) servePrometheus(w http.ResponseWriter, r *http.Request) {
	u, ok := auth.UserFrom(r.Context())
	allowed := false
	if ok {
		if s.cfg.Authorizer != nil {
			allowed, _ = s.cfg.Authorizer.Authorize(u, authorizationv1.SubjectAccessReviewSpec{User: u.Name, UID: u.UID, Groups: u.Groups,
				NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}})
		} else {
			allowed = slices.Contains(u.Groups, pki.AdminGroup) || slices.Contains(u.Groups, "system:monitoring")
		}
	}
	if !allowed {
		name := "system:anonymous"
		if ok {
			name = u.Name
		}
		err := apierrors.NewForbidden(schema.GroupResource{}, "", nil)
		err.ErrStatus.Message = `forbidden: User "` + name + `" cannot ` + strings.ToLower(r.Method) + ` path "` + r.URL.Path + `"`
		err.ErrStatus.Details = nil
		s.writeError(w, r, err, schema.GroupResource{}, "")
		return
	}
	promhttp.HandlerFor(s.prom.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// instrument serves a resource request with serve and records it: apiserver_request_total and
// apiserver_request_duration_seconds when it ends, and while it runs apiserver_current_inflight_requests or, for
// watches and connect subresources, apiserver_longrunning_requests.
func (m *apiMetrics) instrument(w http.ResponseWriter, r *http.Request, ri requestInfo, serve func(http.ResponseWriter, *http.Request, requestInfo)) {
	start := time.Now()
	k := requestLabels(r, ri)
	longRunning := k.verb == "WATCH" || k.verb == "CONNECT"
	var g prometheus.Gauge
	switch {
	case longRunning:
		g = m.longRunning.WithLabelValues(k.verb, k.group, k.version, k.resource, k.subresource, k.scope, metricsComponent)
	case r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions:
		g = m.inflightRO
	default:
		g = m.inflightMut
	}
	g.Inc()
	sw := &statusWriter{ResponseWriter: w}
	returned := false
	defer func() {
		g.Dec()
		k.code = sw.code
		switch {
		case k.code != 0:
		case !returned:
			k.code = http.StatusInternalServerError // a panic, answered by serve's recovery
		case r.Header.Get("Upgrade") != "":
			k.code = http.StatusSwitchingProtocols // hijacked by the proxy
		default:
			k.code = http.StatusOK
		}
		b := m.bind(k)
		b.count.Inc()
		b.duration.Observe(time.Since(start).Seconds())
	}()
	serve(sw, r, ri)
	returned = true
}

// bind returns the collectors of label set k, creating them the first time.
func (m *apiMetrics) bind(k requestKey) boundRequest {
	m.mu.RLock()
	b, ok := m.bound[k]
	m.mu.RUnlock()
	if ok {
		return b
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok = m.bound[k]; ok {
		return b
	}
	b = boundRequest{
		count:    m.requests.WithLabelValues(k.verb, k.dryRun, k.group, k.version, k.resource, k.subresource, k.scope, metricsComponent, strconv.Itoa(k.code)),
		duration: m.durations.WithLabelValues(k.verb, k.dryRun, k.group, k.version, k.resource, k.subresource, k.scope, metricsComponent),
	}
	m.bound[k] = b
	return b
}

// watchEvent counts one event sent on a watch of res.
func (m *apiMetrics) watchEvent(res *resource) {
	if m == nil {
		return
	}
	if c := m.watchEvents[res]; c != nil {
		c.Inc()
	}
}

// requestLabels computes the labels kube-apiserver reports for a resource request (without the code).
func requestLabels(r *http.Request, ri requestInfo) requestKey {
	k := requestKey{group: ri.Group, version: ri.Version, resource: ri.Resource}
	// Only the subresource's first segment (pods/x/proxy/a/b is "proxy"), as kube-apiserver's RequestInfo.
	k.subresource, _, _ = strings.Cut(ri.Subresource, "/")
	switch {
	case ri.Name != "" || ri.Verb == "create":
		k.scope = "resource"
	case ri.Namespace != "":
		k.scope = "namespace"
	default:
		k.scope = "cluster"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		k.verb = "GET"
		if k.scope != "resource" {
			k.verb = "LIST"
		}
	case http.MethodPost:
		k.verb = "POST"
	case http.MethodPut:
		k.verb = "PUT"
	case http.MethodPatch:
		k.verb = "PATCH"
		if r.Header.Get("Content-Type") == "application/apply-patch+yaml" {
			k.verb = "APPLY"
		}
	case http.MethodDelete:
		k.verb = "DELETE"
	default:
		k.verb = "other"
	}
	if ri.Verb == "watch" {
		k.verb = "WATCH"
	}
	if connectSubresources[k.subresource] {
		k.verb = "CONNECT"
	}
	k.dryRun = cleanDryRun(r)
	return k
}

// cleanDryRun is the dry_run label: "" without dryRun, the sorted distinct values, or "invalid".
func cleanDryRun(r *http.Request) string {
	if !strings.Contains(r.URL.RawQuery, "dryRun") {
		return ""
	}
	vals := r.URL.Query()["dryRun"]
	for _, v := range vals {
		if v != "All" {
			return "invalid"
		}
	}
	if len(vals) == 0 {
		return ""
	}
	return "All"
}

// statusWriter records the status code of a response. Flush passes through (watches flush each event); Unwrap
// lets http.ResponseController find the connection's Hijacker (the kubelet proxy's upgrades).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands over the connection (a WebSocket upgrade: golang.org/x/net/websocket asserts http.Hijacker on the
// writer itself rather than asking a ResponseController); the request counts as 101 Switching Protocols.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// objectCounter reports apiserver_storage_objects and apiserver_resource_objects from the watch caches at scrape time.
type objectCounter struct{ s *APIServer }

var (
	storageObjectsDesc = prometheus.NewDesc("apiserver_storage_objects",
		"[DEPRECATED, consider using apiserver_resource_objects instead] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.",
		[]string{"resource"}, nil)
	resourceObjectsDesc = prometheus.NewDesc("apiserver_resource_objects",
		"Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.",
		[]string{"group", "resource"}, nil)
)

func (c *objectCounter) Describe(ch chan<- *prometheus.Desc) {
	ch <- storageObjectsDesc
	ch <- resourceObjectsDesc
}

func (c *objectCounter) Collect(ch chan<- prometheus.Metric) {
	if !c.s.Ready() {
		return
	}
	for _, r := range c.s.resources {
		if r.view {
			continue
		}
		objs, _ := r.cacher.List(r.keys.Prefix(""), nil)
		n := float64(len(objs))
		gr := r.GroupResource()
		ch <- prometheus.MustNewConstMetric(storageObjectsDesc, prometheus.GaugeValue, n, gr.String())
		ch <- prometheus.MustNewConstMetric(resourceObjectsDesc, prometheus.GaugeValue, n, gr.Group, gr.Resource)
	}
}

// etcdMetricsKV decorates the etcd client's KV with etcd_request_duration_seconds, etcd_requests_total and
// etcd_request_errors_total, with kube-apiserver's operation names and the group and resource of the key.
type etcdMetricsKV struct {
	clientv3.KV
	m atomic.Pointer[apiMetrics]
}

func (kv *etcdMetricsKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	start := time.Now()
	resp, err := kv.KV.Get(ctx, key, opts...)
	op := "get"
	if len(opts) > 0 {
		o := clientv3.OpGet(key, opts...)
		switch {
		case o.IsCountOnly() && key == "/registry/":
			op = "getCurrentResourceVersion"
		case o.IsCountOnly():
			op = "listWithCount"
		case len(o.RangeBytes()) > 0:
			op = "list"
		}
	}
	kv.m.Load().observeEtcd(op, key, start, err)
	return resp, err
}

func (kv *etcdMetricsKV) Txn(ctx context.Context) clientv3.Txn {
	return &etcdMetricsTxn{Txn: kv.KV.Txn(ctx), kv: kv}
}

// etcdMetricsTxn names a transaction by what it does: create (put if absent), update (put), delete.
type etcdMetricsTxn struct {
	clientv3.Txn
	kv     *etcdMetricsKV
	key    string
	op     string
	absent bool // the condition is "key does not exist"
}

func (t *etcdMetricsTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	for _, c := range cs {
		pc := c.GetCompare()
		if pc != nil && pc.Target == pb.Compare_MOD && pc.Result == pb.Compare_EQUAL && pc.GetModRevision() == 0 {
			t.absent = true
		}
	}
	t.Txn = t.Txn.If(cs...)
	return t
}

func (t *etcdMetricsTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	for _, o := range ops {
		switch {
		case o.IsPut():
			t.op, t.key = "update", string(o.KeyBytes())
		case o.IsDelete():
			t.op, t.key = "delete", string(o.KeyBytes())
		}
	}
	t.Txn = t.Txn.Then(ops...)
	return t
}

func (t *etcdMetricsTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	t.Txn = t.Txn.Else(ops...)
	return t
}

func (t *etcdMetricsTxn) Commit() (*clientv3.TxnResponse, error) {
	start := time.Now()
	resp, err := t.Txn.Commit()
	op := t.op
	if op == "update" && t.absent {
		op = "create"
	}
	if op != "" {
		t.kv.m.Load().observeEtcd(op, t.key, start, err)
	}
	return resp, err
}

// observeEtcd records one etcd request on key (/registry/<group>/<resource>/...; group "core" is "").
func (m *apiMetrics) observeEtcd(op, key string, start time.Time, err error) {
	if m == nil {
		return
	}
	rest, _ := strings.CutPrefix(key, "/registry/")
	group, rest, _ := strings.Cut(rest, "/")
	resource, _, _ := strings.Cut(rest, "/")
	if group == "core" {
		group = ""
	}
	k := etcdKey{op: op, group: group, resource: resource}
	m.mu.RLock()
	b, ok := m.etcd[k]
	m.mu.RUnlock()
	if !ok {
		m.mu.Lock()
		if b, ok = m.etcd[k]; !ok {
			b = boundEtcd{latency: m.etcdLatency.WithLabelValues(op, group, resource), count: m.etcdCount.WithLabelValues(op, group, resource),
				errors: m.etcdErrors.WithLabelValues(op, group, resource)}
			m.etcd[k] = b
		}
		m.mu.Unlock()
	}
	b.latency.Observe(time.Since(start).Seconds())
	b.count.Inc()
	if err != nil {
		b.errors.Inc()
	}
}
