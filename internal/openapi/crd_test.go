package openapi

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const cronTabSchema = `{type: object, properties: {
	spec: {type: object, required: [cronSpec], properties: {
		cronSpec: {type: string, description: The cron schedule.},
		image: {type: string},
		replicas: {type: integer, minimum: 1}}},
	status: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}}}`

// newCRD returns an established CRD of kind in group; versions are
// "name" (served, with schema) or "-name" (not served).
func newCRD(t testing.TB, group, kind string, namespaced bool, schemaYAML string, versions ...string) *apiextv1.CustomResourceDefinition {
	plural := strings.ToLower(kind) + "s"
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: group, Scope: apiextv1.ClusterScoped,
			Names: apiextv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
		},
		Status: apiextv1.CustomResourceDefinitionStatus{Conditions: []apiextv1.CustomResourceDefinitionCondition{
			{Type: apiextv1.Established, Status: apiextv1.ConditionTrue},
		}},
	}
	if namespaced {
		crd.Spec.Scope = apiextv1.NamespaceScoped
	}
	for i, name := range versions {
		served := !strings.HasPrefix(name, "-")
		v := apiextv1.CustomResourceDefinitionVersion{Name: strings.TrimPrefix(name, "-"), Served: served, Storage: i == 0,
			Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: props(t, schemaYAML)}}
		crd.Spec.Versions = append(crd.Spec.Versions, v)
	}
	return crd
}

// cronTab is the CronTab CRD of the Kubernetes documentation, with status
// and scale subresources in v1.
func cronTab(t testing.TB) *apiextv1.CustomResourceDefinition {
	crd := newCRD(t, "stable.example.com", "CronTab", true, cronTabSchema, "v1", "v1beta1", "-v1alpha1")
	crd.Spec.Versions[0].Subresources = &apiextv1.CustomResourceSubresources{
		Status: &apiextv1.CustomResourceSubresourceStatus{},
		Scale: &apiextv1.CustomResourceSubresourceScale{
			SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
		},
	}
	crd.Spec.Names.ShortNames = []string{"ct"}
	return crd
}

// newTestService builds a Service of its own, for tests that change it.
func newTestService(t testing.TB) *Service {
	t.Helper()
	s, err := New(testRoutes())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// v3Doc3 fetches and parses the v3 document key.
func v3Doc3(t testing.TB, s *Service, key string) *spec3.OpenAPI {
	t.Helper()
	_, b := v3Document(t, s, key)
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return &doc
}

func TestSetCustomResources(t *testing.T) {
	s := newTestService(t)
	before := v3Index(t, s)
	notEstablished := newCRD(t, "pending.example.com", "Pending", false, `{type: object}`, "v1")
	notEstablished.Status.Conditions = nil
	crds := []*apiextv1.CustomResourceDefinition{
		cronTab(t),
		newCRD(t, "other.example.com", "Widget", false, `{type: object, x-kubernetes-preserve-unknown-fields: true}`, "v2"),
		notEstablished,
	}
	if err := s.SetCustomResources(crds); err != nil {
		t.Fatalf("SetCustomResources: %v", err)
	}
	idx := v3Index(t, s)
	for _, key := range []string{"apis/stable.example.com/v1", "apis/stable.example.com/v1beta1", "apis/other.example.com/v2"} {
		if _, ok := idx[key]; !ok {
			t.Errorf("index lacks %q", key)
		}
	}
	for _, key := range []string{"apis/stable.example.com/v1alpha1", "apis/pending.example.com/v1", "apis/stable.example.com"} {
		if _, ok := idx[key]; ok {
			t.Errorf("index has %q", key)
		}
	}
	if len(idx) != len(before)+3 {
		t.Errorf("index has %d documents, want %d", len(idx), len(before)+3)
	}
	for key, u := range before {
		if idx[key] != u {
			t.Errorf("built-in document %s changed: %s -> %s", key, u, idx[key])
		}
	}

	doc := v3Doc3(t, s, "apis/stable.example.com/v1")
	if doc.Info == nil || doc.Info.Title != "Kubernetes CRD Swagger" {
		t.Errorf("info = %+v", doc.Info)
	}
	const ns = "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs"
	wantOps := map[string]string{
		"/apis/stable.example.com/v1/crontabs GET": "listStableExampleComV1CronTabForAllNamespaces",
		ns + " GET":                 "listStableExampleComV1NamespacedCronTab",
		ns + " POST":                "createStableExampleComV1NamespacedCronTab",
		ns + " DELETE":              "deleteStableExampleComV1CollectionNamespacedCronTab",
		ns + "/{name} GET":          "readStableExampleComV1NamespacedCronTab",
		ns + "/{name} PUT":          "replaceStableExampleComV1NamespacedCronTab",
		ns + "/{name} PATCH":        "patchStableExampleComV1NamespacedCronTab",
		ns + "/{name} DELETE":       "deleteStableExampleComV1NamespacedCronTab",
		ns + "/{name}/status GET":   "readStableExampleComV1NamespacedCronTabStatus",
		ns + "/{name}/status PATCH": "patchStableExampleComV1NamespacedCronTabStatus",
		ns + "/{name}/scale PUT":    "replaceStableExampleComV1NamespacedCronTabScale",
	}
	gotOps := map[string]*spec3.Operation{}
	for p, item := range doc.Paths.Paths {
		for m, op := range map[string]*spec3.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				gotOps[p+" "+m] = op
			}
		}
	}
	if len(gotOps) != 14 { // list for all namespaces, 7 on the resource, 3 on each subresource, no watch paths
		t.Errorf("%d operations, want 14: %v", len(gotOps), keys(gotOps))
	}
	for k, id := range wantOps {
		if op := gotOps[k]; op == nil || op.OperationId != id {
			t.Errorf("%s: operation %v, want %s", k, op, id)
		}
	}
	patch := gotOps[ns+"/{name} PATCH"]
	if !hasGVK(patch.Extensions, "stable.example.com", "v1", "CronTab") || patch.Extensions["x-kubernetes-action"] != "patch" {
		t.Errorf("PATCH extensions = %v", patch.Extensions)
	}
	if got, want := opParams(patch), "dryRun fieldManager fieldValidation force"; got != want {
		t.Errorf("PATCH parameters = %q, want %q", got, want)
	}
	if rb := patch.RequestBody; rb == nil || rb.Content["application/apply-patch+yaml"] == nil || rb.Content["application/strategic-merge-patch+json"] != nil {
		t.Errorf("PATCH content types = %v", keys(rb.Content))
	}
	if ref := gotOps[ns+"/{name}/scale GET"].Responses.StatusCodeResponses[200].Content["application/json"].Schema.Ref; ref.String() != "#/components/schemas/io.k8s.api.autoscaling.v1.Scale" {
		t.Errorf("scale response $ref = %q", ref.String())
	}

	kind := doc.Components.Schemas["com.example.stable.v1.CronTab"]
	if kind == nil {
		t.Fatalf("no com.example.stable.v1.CronTab; schemas: %v", keys(doc.Components.Schemas))
	}
	if !hasGVKList(kind.Extensions, "stable.example.com", "v1", "CronTab") {
		t.Errorf("CronTab GVK = %v", kind.Extensions[extensionGVK])
	}
	if got := kind.Properties["spec"].Properties["cronSpec"].Description; got != "The cron schedule." {
		t.Errorf("spec.cronSpec description = %q", got)
	}
	for _, name := range []string{"com.example.stable.v1.CronTabList", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "io.k8s.api.autoscaling.v1.Scale", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	if v1beta1 := v3Doc3(t, s, "apis/stable.example.com/v1beta1"); v1beta1.Paths.Paths[strings.Replace(ns, "v1", "v1beta1", 1)+"/{name}/status"] != nil {
		t.Errorf("v1beta1 has a status subresource")
	}

	// client-go's openapi3 root (kubectl explain, kubectl's strict
	// validation) reads the document.
	srv := httptest.NewServer(s)
	defer srv.Close()
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	gvSpec, err := openapi3.NewRoot(dc.OpenAPIV3()).GVSpec(schema.GroupVersion{Group: "other.example.com", Version: "v2"})
	if err != nil {
		t.Fatalf("GVSpec: %v", err)
	}
	widget := gvSpec.Components.Schemas["com.example.other.v2.Widget"]
	if widget == nil {
		t.Fatalf("no Widget schema")
	}
	if meta, ok := widget.Properties["metadata"]; !ok || len(meta.AllOf) != 1 || refString(meta.AllOf[0].Ref) != "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
		t.Errorf("Widget = %+v, want metadata (preserve-unknown-fields at the root still publishes v3)", widget)
	}
	if gvSpec.Paths.Paths["/apis/other.example.com/v2/widgets/{name}"] == nil {
		t.Errorf("cluster-scoped paths missing: %v", keys(gvSpec.Paths.Paths))
	}

	// v2: the CR paths and definitions are there, with the bare object for
	// root preserve-unknown-fields.
	var sw spec.Swagger
	if err := json.Unmarshal(body(t, get(t, s, "/openapi/v2", "Accept", "application/json")), &sw); err != nil {
		t.Fatal(err)
	}
	if _, ok := sw.Paths.Paths[ns+"/{name}"]; !ok {
		t.Errorf("v2 lacks %s", ns+"/{name}")
	}
	if _, ok := sw.Paths.Paths["/api/v1/namespaces/{namespace}/pods"]; !ok {
		t.Errorf("v2 lost the built-in paths")
	}
	if w, ok := sw.Definitions["com.example.other.v2.Widget"]; !ok || len(w.Properties) != 0 || !hasGVKList(w.Extensions, "other.example.com", "v2", "Widget") {
		t.Errorf("v2 Widget = %+v", w)
	}
	if ct, ok := sw.Definitions["com.example.stable.v1.CronTab"]; !ok || refString(ct.Properties["metadata"].Ref) != "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
		t.Errorf("v2 CronTab = %+v", ct)
	}

	// The built-in entries are kept byte for byte, and the protobuf form
	// (what kubectl reads) builds.
	var merged, base struct{ Paths map[string]json.RawMessage }
	if err := json.Unmarshal(s.docs.Load().v2.data, &merged); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(s.baseV2, &base); err != nil {
		t.Fatal(err)
	}
	const pods = "/api/v1/namespaces/{namespace}/pods"
	if string(merged.Paths[pods]) != string(base.Paths[pods]) {
		t.Errorf("v2 %s changed in the merge", pods)
	}
	if resp := get(t, s, "/openapi/v2", "Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"); resp.StatusCode != 200 {
		t.Errorf("protobuf v2: %s", resp.Status)
	}

	// The same input changes nothing; removing a CRD removes its keys and
	// keeps the others' hashes.
	if err := s.SetCustomResources(crds); err != nil {
		t.Fatal(err)
	}
	if again := v3Index(t, s); !equalMaps(again, idx) {
		t.Errorf("index changed on the same input")
	}
	if err := s.SetCustomResources(crds[1:]); err != nil {
		t.Fatal(err)
	}
	after := v3Index(t, s)
	for _, key := range []string{"apis/stable.example.com/v1", "apis/stable.example.com/v1beta1"} {
		if _, ok := after[key]; ok {
			t.Errorf("index still has %q", key)
		}
		if resp := get(t, s, "/openapi/v3/"+key); resp.StatusCode != 404 {
			t.Errorf("GET %s after removal: %s", key, resp.Status)
		}
	}
	if after["apis/other.example.com/v2"] != idx["apis/other.example.com/v2"] {
		t.Errorf("the Widget document changed")
	}
	if strings.Contains(string(body(t, get(t, s, "/openapi/v2"))), "crontabs") {
		t.Errorf("v2 still has crontabs")
	}
	if err := s.SetCustomResources(nil); err != nil {
		t.Fatal(err)
	}
	if got := v3Index(t, s); !equalMaps(got, before) {
		t.Errorf("index after removing all CRDs differs from the built-in one")
	}
}

// TestSetCustomResourcesErrors: a bad CRD is reported and left out; the
// others are published.
func TestSetCustomResourcesErrors(t *testing.T) {
	s := newTestService(t)
	noPlural := newCRD(t, "bad.example.com", "Bad", false, `{type: object}`, "v1")
	noPlural.Spec.Names.Plural = ""
	clash := newCRD(t, "apps.api.k8s.io", "Deployment", true, `{type: object}`, "v1") // io.k8s.api.apps.v1.Deployment
	err := s.SetCustomResources([]*apiextv1.CustomResourceDefinition{noPlural, clash, cronTab(t)})
	if err == nil || !strings.Contains(err.Error(), "bad.example.com") || !strings.Contains(err.Error(), "io.k8s.api.apps.v1.Deployment") {
		t.Errorf("err = %v, want both CRDs reported", err)
	}
	idx := v3Index(t, s)
	if _, ok := idx["apis/stable.example.com/v1"]; !ok {
		t.Errorf("the good CRD was not published")
	}
	if _, ok := idx["apis/apps.api.k8s.io/v1"]; ok {
		t.Errorf("the clashing CRD was published")
	}
}

// TestSetCustomResourcesSharedKey: a CRD in a built-in group version is
// merged into the built-in document.
func TestSetCustomResourcesSharedKey(t *testing.T) {
	s := newTestService(t)
	if err := s.SetCustomResources([]*apiextv1.CustomResourceDefinition{newCRD(t, "batch", "Pipeline", true, `{type: object}`, "v1")}); err != nil {
		t.Fatal(err)
	}
	doc := v3Doc3(t, s, "apis/batch/v1")
	if doc.Paths.Paths["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"] == nil ||
		doc.Paths.Paths["/apis/batch/v1/namespaces/{namespace}/pipelines/{name}"] == nil {
		t.Errorf("apis/batch/v1 paths = %v", keys(doc.Paths.Paths))
	}
	if doc.Info.Title != "Kubernetes" {
		t.Errorf("shared document title = %q", doc.Info.Title)
	}
}

// TestSetCustomResourcesConcurrent serves documents while they change (run
// with -race).
func TestSetCustomResourcesConcurrent(t *testing.T) {
	s := newTestService(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, u := range v3Index(t, s) {
					resp := get(t, s, u)
					if resp.StatusCode != 200 && resp.StatusCode != 301 && resp.StatusCode != 404 {
						t.Errorf("GET %s: %s", u, resp.Status)
					}
				}
			}
		}()
	}
	for i := range 4 {
		crds := []*apiextv1.CustomResourceDefinition{cronTab(t)}
		if i%2 == 1 {
			crds = append(crds, newCRD(t, "other.example.com", "Widget", false, `{type: object}`, "v2"))
		}
		if err := s.SetCustomResources(crds); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

// BenchmarkSetCustomResources publishes 50 CRDs (10 groups of 5, two served
// versions each, status and scale) into a fresh Service each round, i.e.
// 20 v3 documents and the whole v2 document.
func BenchmarkSetCustomResources(b *testing.B) {
	crds := benchCRDs(b, 50)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s := newTestService(b)
		b.StartTimer()
		if err := s.SetCustomResources(crds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetCustomResourcesOneChanged changes one of 50 CRDs per round:
// one v3 document and the v2 document are rebuilt.
func BenchmarkSetCustomResourcesOneChanged(b *testing.B) {
	crds := benchCRDs(b, 50)
	s := newTestService(b)
	if err := s.SetCustomResources(crds); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		crds[0].Spec.Versions[0].Schema.OpenAPIV3Schema.Description = fmt.Sprint("round ", i)
		if err := s.SetCustomResources(crds); err != nil {
			b.Fatal(err)
		}
	}
	d := s.docs.Load()
	b.ReportMetric(float64(len(d.v2.data)), "v2-json-bytes")
	b.ReportMetric(float64(len(d.v3["apis/g0.example.com/v1"].json.data)), "v3-group-bytes")
}

func benchCRDs(b *testing.B, n int) []*apiextv1.CustomResourceDefinition {
	var crds []*apiextv1.CustomResourceDefinition
	for i := range n {
		crd := newCRD(b, fmt.Sprintf("g%d.example.com", i/5), fmt.Sprintf("Kind%d", i), true, cronTabSchema, "v1", "v1beta1")
		for j := range crd.Spec.Versions {
			crd.Spec.Versions[j].Subresources = cronTab(b).Spec.Versions[0].Subresources
		}
		crds = append(crds, crd)
	}
	return crds
}

func refString(r spec.Ref) string { return r.String() }

// BenchmarkSetCustomResourcesUnchanged passes the same 50 CRDs again: nothing is rebuilt.
func BenchmarkSetCustomResourcesUnchanged(b *testing.B) {
	crds := benchCRDs(b, 50)
	s := newTestService(b)
	if err := s.SetCustomResources(crds); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SetCustomResources(crds); err != nil {
			b.Fatal(err)
		}
	}
}
