package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/storage"
	"github.com/skiff-sh/skiff/internal/storage/embedded"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// testServer is an APIServer on a real embedded etcd behind httptest (no TLS, no authentication).
type testServer struct {
	t    testing.TB
	api  *APIServer
	http *httptest.Server
	etcd *clientv3.Client
}

func newTestServer(t *testing.T) *testServer { return newTestServerTB(t) }

func newTestServerTB(t testing.TB) *testServer { return newTestServerWith(t, nil) }

// newTestServerWith starts an API server on a fresh embedded etcd; setup, if not nil, runs before the server's Run.
func newTestServerWith(t testing.TB, setup func(*APIServer) error) *testServer {
	t.Helper()
	e, err := embedded.Start(context.Background(), embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return startTestServer(t, e.Endpoint, Config{}, setup)
}

// startTestServer starts an API server on the etcd at endpoint (cfg's Store is filled in) and serves it over
// httptest; setup, if not nil, runs before the server's Run. Cleanup stops both.
func startTestServer(t testing.TB, endpoint string, cfg Config, setup func(*APIServer) error) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Logger: zap.NewNop()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cfg.Store = storage.New(cli, scheme.Scheme)
	api, err := New(cfg)
	if err == nil && setup != nil {
		err = setup(api)
	}
	if err != nil {
		cancel()
		cli.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = api.Run(ctx) }()
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(func() {
		api.Shutdown(context.Background())
		hs.Close()
		cancel()
		<-done
		cli.Close()
	})
	select {
	case <-api.ReadyC():
	case <-time.After(20 * time.Second):
		t.Fatal("api server not ready after 20s")
	}
	return &testServer{t: t, api: api, http: hs, etcd: cli}
}

type result struct {
	code   int
	header http.Header
	body   []byte
}

func (r result) status(t *testing.T) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil || st.Kind != "Status" {
		t.Fatalf("body is not a Status (%v): %s", err, r.body)
	}
	return st
}

func (ts *testServer) do(method, path, contentType, accept string, body []byte) result {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.http.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, data}
}

func (ts *testServer) create(path, body string) result {
	ts.t.Helper()
	return ts.do(http.MethodPost, path, "application/json", "", []byte(body))
}

const cmJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"v"}}`

func cm(name string) string { return strings.Replace(cmJSON, "%s", name, 1) }

func TestErrorsAreKubernetesStatuses(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.create("/api/v1/namespaces/default/configmaps", cm("a")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"` + strings.Repeat("x", 4<<20) + `"}}`
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		accept      string
		body        string
		code        int
		reason      metav1.StatusReason
		message     string
	}{
		{"unknown path", "GET", "/apis/nope/v1/things", "", "", "", 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"missing object", "GET", "/api/v1/namespaces/default/configmaps/nope", "", "", "", 404, metav1.StatusReasonNotFound, `configmaps "nope" not found`},
		{"duplicate", "POST", "/api/v1/namespaces/default/configmaps", "application/json", "", cm("a"), 409, metav1.StatusReasonAlreadyExists, `configmaps "a" already exists`},
		{"missing namespace", "POST", "/api/v1/namespaces/ghost/configmaps", "application/json", "", cm("b"), 404, metav1.StatusReasonNotFound, `namespaces "ghost" not found`},
		{"invalid", "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", "",
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
			422, metav1.StatusReasonInvalid, `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`},
		{"strict unknown field", "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json", "",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"bogus":1}`, 400, metav1.StatusReasonBadRequest, `unknown field "bogus"`},
		{"wrong kind", "POST", "/api/v1/namespaces/default/configmaps", "application/json", "",
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"c"}}`, 400, metav1.StatusReasonBadRequest, ""},
		{"bad json", "POST", "/api/v1/namespaces/default/configmaps", "application/json", "", `{"apiVersion":`, 400, metav1.StatusReasonBadRequest, ""},
		{"unsupported media type", "POST", "/api/v1/namespaces/default/configmaps", "text/plain", "", cm("d"), 415, metav1.StatusReasonUnsupportedMediaType, ""},
		{"not acceptable", "GET", "/api/v1/namespaces/default/configmaps/a", "", "text/html", "", 406, metav1.StatusReasonNotAcceptable, ""},
		{"too large", "POST", "/api/v1/namespaces/default/configmaps", "application/json", "", big, 413, metav1.StatusReasonRequestEntityTooLarge, ""},
		{"bad label selector", "GET", "/api/v1/configmaps?labelSelector=a%20in%20(", "", "", "", 400, metav1.StatusReasonBadRequest, ""},
		{"unsupported field selector", "GET", "/api/v1/configmaps?fieldSelector=spec.nope%3Dx", "", "", "", 400, metav1.StatusReasonBadRequest, "field label not supported: spec.nope"},
		{"method not allowed", "POST", "/api/v1/namespaces/default/configmaps/a", "application/json", "", cm("a"), 405, metav1.StatusReasonMethodNotAllowed, ""},
		{"stale resourceVersion", "PUT", "/api/v1/namespaces/default/configmaps/a", "application/json", "",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"1"}}`, 409, metav1.StatusReasonConflict,
			`Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again`},
		{"name mismatch", "PUT", "/api/v1/namespaces/default/configmaps/a", "application/json", "", cm("zzz"), 400, metav1.StatusReasonBadRequest, "does not match the name on the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(tt.method, tt.path, tt.contentType, tt.accept, []byte(tt.body))
			if r.code != tt.code {
				t.Fatalf("code = %d, want %d: %s", r.code, tt.code, r.body)
			}
			st := r.status(t)
			if st.Code != int32(tt.code) || st.Reason != tt.reason || st.Status != metav1.StatusFailure {
				t.Fatalf("status = %d %q %q, want %d %q Failure", st.Code, st.Reason, st.Status, tt.code, tt.reason)
			}
			if !strings.Contains(st.Message, tt.message) {
				t.Fatalf("message %q does not contain %q", st.Message, tt.message)
			}
		})
	}
	// Nothing of the refused writes was stored.
	r := ts.do("GET", "/api/v1/namespaces/default/configmaps", "", "", nil)
	var list corev1.ConfigMapList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "a" || list.Items[0].Data["k"] != "v" {
		t.Fatalf("stored configmaps changed by refused writes: %+v", list.Items)
	}
}

func TestProtobufBodiesAndResponses(t *testing.T) {
	ts := newTestServer(t)
	obj := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "pb"}, Data: map[string]string{"x": "y"}}
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	r := ts.do("POST", "/api/v1/namespaces/default/configmaps", mediaProtobuf, mediaProtobuf+",application/json", buf.Bytes())
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != mediaProtobuf {
		t.Fatalf("response content type %q, want protobuf", ct)
	}
	out := &corev1.ConfigMap{}
	if _, _, err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Decode(r.body, nil, out); err != nil {
		t.Fatal(err)
	}
	if out.Data["x"] != "y" || out.UID == "" || out.ResourceVersion == "" {
		t.Fatalf("decoded %+v", out)
	}
}

func TestGenerationStatusAndOptimisticConcurrency(t *testing.T) {
	ts := newTestServer(t)
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}}},"status":{"replicas":7}}`
	r := ts.create("/apis/apps/v1/namespaces/default/deployments", dep)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	var d map[string]any
	_ = json.Unmarshal(r.body, &d)
	md := d["metadata"].(map[string]any)
	if md["generation"].(float64) != 1 {
		t.Fatalf("generation = %v, want 1", md["generation"])
	}
	if st, _ := d["status"].(map[string]any); st["replicas"] != nil {
		t.Fatalf("status set on create through the main resource: %v", st)
	}
	// A label change keeps the generation; a spec change bumps it.
	patch := func(body string) map[string]any {
		r := ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json", "", []byte(body))
		if r.code != 200 {
			t.Fatalf("patch %s: %d %s", body, r.code, r.body)
		}
		var out map[string]any
		_ = json.Unmarshal(r.body, &out)
		return out["metadata"].(map[string]any)
	}
	if g := patch(`{"metadata":{"labels":{"x":"y"}}}`)["generation"].(float64); g != 1 {
		t.Fatalf("generation after label patch = %v, want 1", g)
	}
	if g := patch(`{"spec":{"replicas":3}}`)["generation"].(float64); g != 2 {
		t.Fatalf("generation after spec patch = %v, want 2", g)
	}
	// A Deployment's annotations are copied to its ReplicaSets: changing them bumps the generation too.
	if g := patch(`{"metadata":{"annotations":{"note":"v2"}}}`)["generation"].(float64); g != 3 {
		t.Fatalf("generation after annotation patch = %v, want 3", g)
	}
	// Status writes go through /status only, keep annotations (the deployment controller's revision), and do not
	// bump the generation.
	r = ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status", "application/merge-patch+json", "", []byte(`{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"1"}},"status":{"replicas":2},"spec":{"replicas":9}}`))
	if r.code != 200 {
		t.Fatalf("status patch: %d %s", r.code, r.body)
	}
	d = nil
	_ = json.Unmarshal(r.body, &d)
	md = d["metadata"].(map[string]any)
	if d["spec"].(map[string]any)["replicas"].(float64) != 3 || d["status"].(map[string]any)["replicas"].(float64) != 2 {
		t.Fatalf("status write changed spec or lost status: spec=%v status=%v", d["spec"], d["status"])
	}
	if md["generation"].(float64) != 3 || md["annotations"].(map[string]any)["deployment.kubernetes.io/revision"] != "1" {
		t.Fatalf("status write with an annotation: metadata %v", md)
	}
	// The scale subresource is an autoscaling/v1 Scale.
	r = ts.do("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", "", "", nil)
	var sc map[string]any
	_ = json.Unmarshal(r.body, &sc)
	if sc["kind"] != "Scale" || sc["apiVersion"] != "autoscaling/v1" || sc["spec"].(map[string]any)["replicas"].(float64) != 3 || sc["status"].(map[string]any)["selector"] != "a=b" {
		t.Fatalf("scale = %s", r.body)
	}
	r = ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", "application/merge-patch+json", "", []byte(`{"spec":{"replicas":-2}}`))
	if r.code != 422 {
		t.Fatalf("negative scale: %d %s", r.code, r.body)
	}
}

// watchEvents reads watch events from a streaming response until n are read or the deadline passes.
func watchEvents(t *testing.T, body io.Reader, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bufio.NewReader(body))
	for len(out) < n {
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
	return out
}

func openWatch(t *testing.T, ts *testServer, path string) io.ReadCloser {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.http.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("watch %s: %d %s", path, resp.StatusCode, b)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp.Body
}

func TestWatchListSendsInitialEventsThenBookmark(t *testing.T) {
	ts := newTestServer(t)
	for _, n := range []string{"w1", "w2"} {
		if r := ts.create("/api/v1/namespaces/default/configmaps", cm(n)); r.code != 201 {
			t.Fatal(string(r.body))
		}
	}
	body := openWatch(t, ts, "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=30")
	evs := watchEvents(t, body, 3)
	if evs[0]["type"] != "ADDED" || evs[1]["type"] != "ADDED" || evs[2]["type"] != "BOOKMARK" {
		t.Fatalf("events: %v", evs)
	}
	bm := evs[2]["object"].(map[string]any)["metadata"].(map[string]any)
	if bm["annotations"].(map[string]any)["k8s.io/initial-events-end"] != "true" || bm["resourceVersion"] == "" {
		t.Fatalf("bookmark: %v", bm)
	}
	ts.do("DELETE", "/api/v1/namespaces/default/configmaps/w1", "", "", nil)
	ev := watchEvents(t, body, 1)[0]
	if ev["type"] != "DELETED" || ev["object"].(map[string]any)["metadata"].(map[string]any)["name"] != "w1" {
		t.Fatalf("after delete: %v", ev)
	}
}

func TestWatchFromResourceVersionAndSelectorTransitions(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("GET", "/api/v1/namespaces/default/configmaps", "", "", nil)
	var list corev1.ConfigMapList
	_ = json.Unmarshal(r.body, &list)
	body := openWatch(t, ts, "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion="+list.ResourceVersion)
	ts.create("/api/v1/namespaces/default/configmaps", cm("s1"))
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/s1", "application/merge-patch+json", "", []byte(`{"metadata":{"labels":{"app":"web"}}}`))
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/s1", "application/merge-patch+json", "", []byte(`{"data":{"k":"v2"}}`))
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/s1", "application/merge-patch+json", "", []byte(`{"metadata":{"labels":{"app":"db"}}}`))
	evs := watchEvents(t, body, 3)
	got := []string{evs[0]["type"].(string), evs[1]["type"].(string), evs[2]["type"].(string)}
	if strings.Join(got, ",") != "ADDED,MODIFIED,DELETED" {
		t.Fatalf("selector transitions = %v, want ADDED,MODIFIED,DELETED", got)
	}
}

func TestWatchFromCompactedRevisionIsExpired(t *testing.T) {
	ts := newTestServer(t)
	r := ts.create("/api/v1/namespaces/default/configmaps", cm("old"))
	var c corev1.ConfigMap
	_ = json.Unmarshal(r.body, &c)
	ts.create("/api/v1/namespaces/default/configmaps", cm("new"))
	resp, err := ts.etcd.Get(context.Background(), "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.etcd.Compact(context.Background(), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	body := openWatch(t, ts, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+c.ResourceVersion)
	ev := watchEvents(t, body, 1)[0]
	obj := ev["object"].(map[string]any)
	if ev["type"] != "ERROR" || obj["code"].(float64) != 410 || obj["reason"] != "Expired" {
		t.Fatalf("watch from compacted revision: %v", ev)
	}
}

func TestListPaginationIsConsistent(t *testing.T) {
	ts := newTestServer(t)
	for i := 0; i < 5; i++ {
		ts.create("/api/v1/namespaces/default/configmaps", cm("p"+string(rune('a'+i))))
	}
	var names []string
	path := "/api/v1/namespaces/default/configmaps?limit=2"
	first := ""
	for pages := 0; ; pages++ {
		r := ts.do("GET", path, "", "", nil)
		var l corev1.ConfigMapList
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = l.ResourceVersion
			// A write between pages must not show up in later pages.
			ts.create("/api/v1/namespaces/default/configmaps", cm("pz"))
		} else if l.ResourceVersion != first {
			t.Fatalf("page resourceVersion %s, want %s", l.ResourceVersion, first)
		}
		for _, it := range l.Items {
			names = append(names, it.Name)
		}
		if l.Continue == "" {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
		path = "/api/v1/namespaces/default/configmaps?limit=2&continue=" + l.Continue
	}
	if strings.Join(names, ",") != "pa,pb,pc,pd,pe" {
		t.Fatalf("paged names = %v", names)
	}
}

func TestTableAndPartialMetadata(t *testing.T) {
	ts := newTestServer(t)
	ts.create("/api/v1/namespaces/default/configmaps", cm("t1"))
	r := ts.do("GET", "/api/v1/namespaces/default/configmaps", "", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", nil)
	var tbl metav1.Table
	if err := json.Unmarshal(r.body, &tbl); err != nil || tbl.Kind != "Table" {
		t.Fatalf("table: %v %s", err, r.body)
	}
	if tbl.ColumnDefinitions[0].Name != "Name" || tbl.ColumnDefinitions[1].Name != "Data" || len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "t1" {
		t.Fatalf("table content: %s", r.body)
	}
	var pom metav1.PartialObjectMetadata
	if err := json.Unmarshal(tbl.Rows[0].Object.Raw, &pom); err != nil || pom.Name != "t1" || pom.Namespace != "default" {
		t.Fatalf("row object: %v %s", err, tbl.Rows[0].Object.Raw)
	}
	r = ts.do("GET", "/api/v1/namespaces/default/configmaps", "", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", nil)
	var pl metav1.PartialObjectMetadataList
	if err := json.Unmarshal(r.body, &pl); err != nil || pl.Kind != "PartialObjectMetadataList" || len(pl.Items) != 1 || pl.Items[0].Name != "t1" {
		t.Fatalf("partial metadata list: %v %s", err, r.body)
	}
}

func TestServerSideApplyConflictsAndCreates(t *testing.T) {
	ts := newTestServer(t)
	apply := func(manager, body string, force bool) result {
		q := "?fieldManager=" + manager
		if force {
			q += "&force=true"
		}
		return ts.do("PATCH", "/api/v1/namespaces/default/configmaps/ssa"+q, "application/apply-patch+yaml", "", []byte(body))
	}
	if r := apply("alice", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: a\n", false); r.code != 201 {
		t.Fatalf("apply create: %d %s", r.code, r.body)
	}
	r := apply("bob", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: b\n", false)
	if r.code != 409 || !strings.Contains(string(r.body), `conflict with \"alice\"`) {
		t.Fatalf("conflicting apply: %d %s", r.code, r.body)
	}
	if r := apply("bob", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: b\n", true); r.code != 200 {
		t.Fatalf("forced apply: %d %s", r.code, r.body)
	}
	r = ts.do("GET", "/api/v1/namespaces/default/configmaps/ssa", "", "", nil)
	var c corev1.ConfigMap
	_ = json.Unmarshal(r.body, &c)
	managers := map[string]bool{}
	for _, mf := range c.ManagedFields {
		managers[mf.Manager] = true
	}
	if c.Data["k"] != "b" || !managers["bob"] {
		t.Fatalf("after forced apply: data=%v managers=%v", c.Data, managers)
	}
}

func TestDeletionWithFinalizersAndDryRun(t *testing.T) {
	ts := newTestServer(t)
	ts.create("/api/v1/namespaces/default/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f","finalizers":["example.com/hold"]}}`)
	if r := ts.do("DELETE", "/api/v1/namespaces/default/configmaps/f?dryRun=All", "", "", nil); r.code != 200 {
		t.Fatalf("dry-run delete: %d", r.code)
	}
	r := ts.do("GET", "/api/v1/namespaces/default/configmaps/f", "", "", nil)
	var c corev1.ConfigMap
	_ = json.Unmarshal(r.body, &c)
	if c.DeletionTimestamp != nil {
		t.Fatal("dry-run delete marked the object")
	}
	ts.do("DELETE", "/api/v1/namespaces/default/configmaps/f", "", "", nil)
	r = ts.do("GET", "/api/v1/namespaces/default/configmaps/f", "", "", nil)
	_ = json.Unmarshal(r.body, &c)
	if r.code != 200 || c.DeletionTimestamp == nil {
		t.Fatalf("object with finalizer: %d %s", r.code, r.body)
	}
	// Removing the last finalizer completes the deletion.
	r = ts.do("PATCH", "/api/v1/namespaces/default/configmaps/f", "application/merge-patch+json", "", []byte(`{"metadata":{"finalizers":null}}`))
	if r.code != 200 {
		t.Fatalf("finalizer removal: %d %s", r.code, r.body)
	}
	if r := ts.do("GET", "/api/v1/namespaces/default/configmaps/f", "", "", nil); r.code != 404 {
		t.Fatalf("after last finalizer: %d", r.code)
	}
}

func TestServicesGetDistinctClusterIPsAndNodePorts(t *testing.T) {
	ts := newTestServer(t)
	svc := func(name, typ string, extra string) result {
		return ts.create("/api/v1/namespaces/default/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"`+name+`"},"spec":{"type":"`+typ+`","selector":{"a":"b"},"ports":[{"port":80`+extra+`}]}}`)
	}
	seen := map[string]bool{"10.43.0.1": true}
	for _, n := range []string{"s1", "s2", "s3"} {
		r := svc(n, "NodePort", "")
		if r.code != 201 {
			t.Fatalf("%s: %d %s", n, r.code, r.body)
		}
		var s corev1.Service
		_ = json.Unmarshal(r.body, &s)
		if seen[s.Spec.ClusterIP] || !strings.HasPrefix(s.Spec.ClusterIP, "10.43.") {
			t.Fatalf("%s clusterIP %s reused or outside 10.43.0.0/16", n, s.Spec.ClusterIP)
		}
		seen[s.Spec.ClusterIP] = true
		if np := s.Spec.Ports[0].NodePort; np < 30000 || np > 32767 {
			t.Fatalf("nodePort %d outside 30000-32767", np)
		}
		if s.Spec.Ports[0].TargetPort.IntValue() != 80 {
			t.Fatalf("targetPort not defaulted: %v", s.Spec.Ports[0].TargetPort)
		}
	}
	if r := svc("dup", "NodePort", `,"nodePort":30999`); r.code != 201 {
		t.Fatalf("explicit nodePort: %d %s", r.code, r.body)
	}
	if r := svc("dup2", "NodePort", `,"nodePort":30999`); r.code != 422 || !strings.Contains(string(r.body), "provided port is already allocated") {
		t.Fatalf("duplicate nodePort: %d %s", r.code, r.body)
	}
	if r := ts.create("/api/v1/namespaces/default/services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ipdup"},"spec":{"clusterIP":"10.43.0.1","ports":[{"port":80}]}}`); r.code != 422 {
		t.Fatalf("duplicate clusterIP: %d %s", r.code, r.body)
	}
}

func TestSecretStringDataIsStoredAsData(t *testing.T) {
	ts := newTestServer(t)
	r := ts.create("/api/v1/namespaces/default/secrets", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"eA=="},"stringData":{"b":"why"}}`)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r = ts.do("GET", "/api/v1/namespaces/default/secrets/s", "", "", nil)
	var sec corev1.Secret
	if err := json.Unmarshal(r.body, &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["a"]) != "x" || string(sec.Data["b"]) != "why" || sec.StringData != nil {
		t.Fatalf("stored secret: data=%q stringData=%v", sec.Data, sec.StringData)
	}
}
