package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (ts *testServer) mustDo(t *testing.T, want int, method, path, contentType, accept, body string) []byte {
	t.Helper()
	r := ts.do(method, path, contentType, accept, []byte(body))
	if r.code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.code, r.body, want)
	}
	return r.body
}

func decodeInto(t *testing.T, data []byte, into any) {
	t.Helper()
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// TestStatusWritesKeepMetadataAsUpstream replays the conformance tests "Namespaces should apply changes to a
// namespace status" and "Job should apply changes to a job status", and checks the other metadata rules of status
// writes through the server.
func TestStatusWritesKeepMetadataAsUpstream(t *testing.T) {
	ts := newTestServer(t)
	const merge = "application/merge-patch+json"

	ts.mustDo(t, 201, "POST", "/api/v1/namespaces", "application/json", "", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"st"}}`)
	var ns corev1.Namespace
	decodeInto(t, ts.mustDo(t, 200, "PATCH", "/api/v1/namespaces/st/status", merge, "",
		`{"metadata":{"annotations":{"e2e-patched-ns-status":"st"}},"spec":{"finalizers":[]},"status":{"conditions":[{"type":"StatusPatch","status":"True","reason":"E2E","message":"Patched by an e2e test"}]}}`), &ns)
	if ns.Annotations["e2e-patched-ns-status"] != "st" || len(ns.Status.Conditions) != 1 || ns.Status.Conditions[0].Type != "StatusPatch" {
		t.Fatalf("namespace status patch: annotations %v conditions %v", ns.Annotations, ns.Status.Conditions)
	}
	if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
		t.Fatalf("namespace status patch changed spec.finalizers: %v", ns.Spec.Finalizers)
	}
	// The main resource keeps the status and, as upstream's namespace strategy, spec.finalizers (only /finalize
	// changes them).
	decodeInto(t, ts.mustDo(t, 200, "PATCH", "/api/v1/namespaces/st", merge, "",
		`{"metadata":{"labels":{"l":"v"}},"spec":{"finalizers":[]},"status":{"conditions":null}}`), &ns)
	if ns.Labels["l"] != "v" || len(ns.Spec.Finalizers) != 1 || len(ns.Status.Conditions) != 1 {
		t.Fatalf("namespace main patch: labels %v finalizers %v conditions %v", ns.Labels, ns.Spec.Finalizers, ns.Status.Conditions)
	}

	job := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"parallelism":1,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}`
	ts.mustDo(t, 201, "POST", "/apis/batch/v1/namespaces/default/jobs", "application/json", "", job)
	var j batchv1.Job
	decodeInto(t, ts.mustDo(t, 200, "PATCH", "/apis/batch/v1/namespaces/default/jobs/j/status", merge, "",
		`{"metadata":{"annotations":{"patchedstatus":"true"},"labels":{"l":"v"}},"spec":{"parallelism":5},"status":{"ready":0}}`), &j)
	if j.Annotations["patchedstatus"] != "true" || j.Labels["l"] != "v" || *j.Spec.Parallelism != 1 || j.Generation != 1 {
		t.Fatalf("job status patch: annotations %v labels %v parallelism %d generation %d", j.Annotations, j.Labels, *j.Spec.Parallelism, j.Generation)
	}

	// Deployments: upstream's status strategy also resets the labels; annotations are kept.
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"l":"old"}},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	ts.mustDo(t, 201, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", "", dep)
	var d appsv1.Deployment
	decodeInto(t, ts.mustDo(t, 200, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d/status", merge, "",
		`{"metadata":{"labels":{"l":"new"},"annotations":{"a":"new"}},"status":{"replicas":1}}`), &d)
	if d.Labels["l"] != "old" || d.Annotations["a"] != "new" || d.Status.Replicas != 1 {
		t.Fatalf("deployment status patch: labels %v annotations %v status %+v", d.Labels, d.Annotations, d.Status)
	}

	// Pods: owner references are kept as stored; labels and finalizers written through /status are kept.
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u1"}]},"spec":{"containers":[{"name":"c","image":"i"}]}}`
	ts.mustDo(t, 201, "POST", "/api/v1/namespaces/default/pods", "application/json", "", pod)
	var p corev1.Pod
	decodeInto(t, ts.mustDo(t, 200, "PATCH", "/api/v1/namespaces/default/pods/p/status", merge, "",
		`{"metadata":{"labels":{"l":"v"},"finalizers":["example.com/f"],"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"x","uid":"u2"}]},"status":{"phase":"Running"}}`), &p)
	if p.Labels["l"] != "v" || len(p.Finalizers) != 1 || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != "u1" || p.Status.Phase != corev1.PodRunning || p.Status.QOSClass == "" {
		t.Fatalf("pod status patch: labels %v finalizers %v owners %v status %+v", p.Labels, p.Finalizers, p.OwnerReferences, p.Status)
	}
	// A PUT to /status with a stale spec and no resourceVersion still keeps the stored spec.
	p.Spec.Containers[0].Image = "changed"
	p.ResourceVersion = ""
	p.Status.Phase = corev1.PodSucceeded
	body, _ := json.Marshal(&p)
	decodeInto(t, ts.mustDo(t, 200, "PUT", "/api/v1/namespaces/default/pods/p/status", "application/json", "", string(body)), &p)
	if p.Spec.Containers[0].Image != "i" || p.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod status put: image %q phase %q", p.Spec.Containers[0].Image, p.Status.Phase)
	}
}

type tokenFields struct {
	V     string `json:"v"`
	RV    int64  `json:"rv"`
	Start string `json:"start"`
}

func readToken(t *testing.T, tok string) tokenFields {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token %q: %v", tok, err)
	}
	var f tokenFields
	decodeInto(t, b, &f)
	return f
}

func (ts *testServer) compact(t *testing.T) int64 {
	t.Helper()
	resp, err := ts.etcd.Get(context.Background(), "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.etcd.Compact(context.Background(), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// TestCompactedContinueGivesInconsistentToken replays the conformance test "Servers with support for API chunking
// should support continue listing from the last key if the original version has been compacted away, though the
// list is inconsistent".
func TestCompactedContinueGivesInconsistentToken(t *testing.T) {
	ts := newTestServer(t)
	const total = 9
	for i := 0; i < total; i++ {
		ts.create("/api/v1/namespaces/default/configmaps", cm(fmt.Sprintf("c%02d", i)))
	}
	base := "/api/v1/namespaces/default/configmaps?limit=3"
	var first corev1.ConfigMapList
	decodeInto(t, ts.mustDo(t, 200, "GET", base, "", "", ""), &first)
	if first.Continue == "" || len(first.Items) != 3 {
		t.Fatalf("first page: %d items, continue %q", len(first.Items), first.Continue)
	}
	// A write after the first page, then compaction past the page's revision.
	ts.create("/api/v1/namespaces/default/configmaps", cm("c99"))
	compacted := ts.compact(t)

	r := ts.do("GET", base+"&continue="+first.Continue, "", "", nil)
	if r.code != http.StatusGone {
		t.Fatalf("continue after compaction: %d %s", r.code, r.body)
	}
	st := r.status(t)
	if st.Reason != metav1.StatusReasonExpired || st.Message != inconsistentContinue || st.Continue == "" {
		t.Fatalf("410 status = %+v", st)
	}
	if got, orig := readToken(t, st.Continue), readToken(t, first.Continue); got.RV != -1 || got.Start != orig.Start || got.V != "meta.k8s.io/v1" {
		t.Fatalf("inconsistent token = %+v, want rv -1 from %q", got, orig.Start)
	}

	// The token goes on from the same key at the latest revision: the write after the first page shows up, and
	// remainingItemCount + items + those already seen is the whole (new) list.
	found := len(first.Items)
	var names []string
	tok := st.Continue
	for pages := 0; tok != ""; pages++ {
		var page corev1.ConfigMapList
		decodeInto(t, ts.mustDo(t, 200, "GET", base+"&continue="+tok, "", "", ""), &page)
		rv, _ := strconv.ParseInt(page.ResourceVersion, 10, 64)
		if rv < compacted {
			t.Fatalf("page resourceVersion %d, want the latest (>= %d)", rv, compacted)
		}
		if pages == 0 {
			if page.RemainingItemCount == nil || int(*page.RemainingItemCount)+len(page.Items)+found != total+1 {
				t.Fatalf("remainingItemCount %v + %d items + %d found != %d", page.RemainingItemCount, len(page.Items), found, total+1)
			}
		}
		if page.Continue != "" && readToken(t, page.Continue).RV != rv {
			t.Fatalf("next token %+v does not pin the page's resourceVersion %d", readToken(t, page.Continue), rv)
		}
		for _, it := range page.Items {
			names = append(names, it.Name)
		}
		found += len(page.Items)
		tok = page.Continue
		if pages > total {
			t.Fatal("too many pages")
		}
	}
	if strings.Join(names, ",") != "c03,c04,c05,c06,c07,c08,c99" {
		t.Fatalf("names after the inconsistent token = %v", names)
	}

	// Tokens kube-apiserver refuses.
	bad := func(tf tokenFields) string {
		b, _ := json.Marshal(tf)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, tc := range []struct{ tok, msg string }{
		{bad(tokenFields{V: "meta.k8s.io/v1", RV: 0, Start: "c01"}), "invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"},
		{bad(tokenFields{V: "meta.k8s.io/v1", RV: 5, Start: ""}), "invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"},
		{bad(tokenFields{V: "meta.k8s.io/v1", RV: 5, Start: "../secrets/x"}), "invalid continue token: continue key is not valid: ../secrets/x"},
	} {
		r := ts.do("GET", base+"&continue="+tc.tok, "", "", nil)
		if st := r.status(t); r.code != 400 || st.Message != tc.msg {
			t.Errorf("token %s: %d %q, want 400 %q", tc.tok, r.code, st.Message, tc.msg)
		}
	}
	r = ts.do("GET", base+"&resourceVersion=5&continue="+first.Continue, "", "", nil)
	if st := r.status(t); r.code != 400 || st.Message != "specifying resource version is not allowed when using continue" {
		t.Errorf("continue with resourceVersion: %d %q", r.code, st.Message)
	}
}

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// TestTableAndMetadataForEndpointsWithoutTables replays the conformance test "Servers with support for Table
// transformation should return a 406 for a backend which does not implement metadata" and its rules for the other
// endpoints kube-apiserver has no table for.
func TestTableAndMetadataForEndpointsWithoutTables(t *testing.T) {
	ts := newTestServer(t)
	ssar := `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"nonResourceAttributes":{"path":"/","verb":"get"}}}`
	reviews := map[string]string{
		"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":                     ssar,
		"/apis/authorization.k8s.io/v1/subjectaccessreviews":                         `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"u","nonResourceAttributes":{"path":"/","verb":"get"}}}`,
		"/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews": `{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview","spec":{"user":"u","resourceAttributes":{"namespace":"default","verb":"get","resource":"pods"}}}`,
		"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews":                      `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"default"}}`,
		"/apis/authentication.k8s.io/v1/selfsubjectreviews":                          `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`,
		"/apis/authentication.k8s.io/v1/tokenreviews":                                `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"t"}}`,
	}
	for path, body := range reviews {
		r := ts.do("POST", path, "application/json", tableAccept, []byte(body))
		if st := r.status(t); r.code != http.StatusNotAcceptable || st.Reason != metav1.StatusReasonNotAcceptable ||
			st.Message != "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf" {
			t.Errorf("POST %s as Table: %d %+v", path, r.code, st)
		}
		// A Table offer followed by plain JSON gets the review.
		r = ts.do("POST", path, "application/json", tableAccept+",application/json", []byte(body))
		var tm metav1.TypeMeta
		decodeInto(t, r.body, &tm)
		if r.code != 201 || tm.Kind == "Table" || tm.Kind == "" {
			t.Errorf("POST %s as Table or JSON: %d %s", path, r.code, r.body)
		}
	}
	// PartialObjectMetadata is served for any object; PartialObjectMetadataList only for lists.
	var pom metav1.PartialObjectMetadata
	decodeInto(t, ts.mustDo(t, 201, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "application/json", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", ssar), &pom)
	if pom.Kind != "PartialObjectMetadata" {
		t.Errorf("SSAR as PartialObjectMetadata: %+v", pom)
	}
	r := ts.do("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "application/json", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", []byte(ssar))
	if st := r.status(t); r.code != 406 || st.Message != "you requested PartialObjectMetadataList, but the requested object is not a list (*authorization.SelfSubjectAccessReview)" {
		t.Errorf("SSAR as PartialObjectMetadataList: %d %+v", r.code, st)
	}
	ts.create("/api/v1/namespaces/default/configmaps", cm("m"))
	r = ts.do("GET", "/api/v1/namespaces/default/configmaps/m", "", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", nil)
	if st := r.status(t); r.code != 406 || st.Message != "you requested PartialObjectMetadataList, but the requested object is not a list (*core.ConfigMap)" {
		t.Errorf("GET configmap as PartialObjectMetadataList: %d %+v", r.code, st)
	}
	r = ts.do("GET", "/api/v1/namespaces/default/configmaps", "", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", nil)
	if st := r.status(t); r.code != 406 || st.Message != "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)" {
		t.Errorf("LIST configmaps as PartialObjectMetadata: %d %+v", r.code, st)
	}

	// pods/binding, pods/eviction and namespaces/finalize have no table either: a Table-only Accept is a 406 and the
	// request does nothing.
	ts.mustDo(t, 201, "POST", "/api/v1/namespaces/default/pods", "application/json", "", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"i"}]}}`)
	binding := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"b"},"target":{"kind":"Node","name":"n1"}}`
	for _, path := range []string{"/api/v1/namespaces/default/pods/b/binding", "/api/v1/namespaces/default/bindings"} {
		if r := ts.do("POST", path, "application/json", tableAccept, []byte(binding)); r.code != 406 {
			t.Errorf("POST %s as Table: %d %s", path, r.code, r.body)
		}
	}
	eviction := `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"b"}}`
	if r := ts.do("POST", "/api/v1/namespaces/default/pods/b/eviction", "application/json", tableAccept, []byte(eviction)); r.code != 406 {
		t.Errorf("eviction as Table: %d %s", r.code, r.body)
	}
	var p corev1.Pod
	decodeInto(t, ts.mustDo(t, 200, "GET", "/api/v1/namespaces/default/pods/b", "", "", ""), &p)
	if p.Spec.NodeName != "" {
		t.Fatalf("a refused binding bound the pod to %q", p.Spec.NodeName)
	}
	ts.mustDo(t, 201, "POST", "/api/v1/namespaces/default/pods/b/binding", "application/json", tableAccept+",application/json", binding)
	if r := ts.do("PUT", "/api/v1/namespaces/default/finalize", "application/json", tableAccept, []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"},"spec":{"finalizers":[]}}`)); r.code != 406 {
		t.Errorf("finalize as Table: %d %s", r.code, r.body)
	}
	// Status subresources have tables, as upstream's StatusREST.
	var tbl metav1.Table
	decodeInto(t, ts.mustDo(t, 200, "GET", "/api/v1/namespaces/default/pods/b/status", "", tableAccept, ""), &tbl)
	if tbl.Kind != "Table" || len(tbl.Rows) != 1 {
		t.Errorf("pod status as Table: %+v", tbl)
	}
}

// TestScaleTableAndMetadata checks the scale subresource's Table (kube-apiserver's Name, Desired, Available, Age)
// and PartialObjectMetadata forms.
func TestScaleTableAndMetadata(t *testing.T) {
	ts := newTestServer(t)
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	ts.mustDo(t, 201, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", "", dep)
	const path = "/apis/apps/v1/namespaces/default/deployments/d/scale"
	var tbl metav1.Table
	decodeInto(t, ts.mustDo(t, 200, "GET", path, "", tableAccept+",application/json", ""), &tbl)
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if tbl.Kind != "Table" || strings.Join(cols, ",") != "Name,Desired,Available,Age" || len(tbl.Rows) != 1 ||
		tbl.Rows[0].Cells[0] != "d" || tbl.Rows[0].Cells[1] != float64(2) || tbl.Rows[0].Cells[2] != float64(0) {
		t.Fatalf("scale table: %+v", tbl)
	}
	var pom metav1.PartialObjectMetadata
	decodeInto(t, ts.mustDo(t, 200, "PATCH", path, "application/merge-patch+json", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", `{"spec":{"replicas":3}}`), &pom)
	if pom.Kind != "PartialObjectMetadata" || pom.Name != "d" {
		t.Fatalf("scale as PartialObjectMetadata: %+v", pom)
	}
	r := ts.do("GET", path, "", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", nil)
	if st := r.status(t); r.code != 406 || st.Message != "you requested PartialObjectMetadataList, but the requested object is not a list (*autoscaling.Scale)" {
		t.Fatalf("scale as PartialObjectMetadataList: %d %+v", r.code, st)
	}
}
