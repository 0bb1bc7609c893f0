package openapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	openapiproto "k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

var (
	allVerbs    = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	statusVerbs = []string{"get", "update", "patch"}
)

func gvk(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

// testRoutes is a realistic route list: roughly what skiff's API server
// serves.
func testRoutes() []Route {
	status := func(g schema.GroupVersionKind) Subresource {
		return Subresource{Name: "status", GVK: g, Verbs: statusVerbs}
	}
	scale := Subresource{Name: "scale", GVK: gvk("autoscaling", "v1", "Scale"), Verbs: statusVerbs}
	ns := func(g schema.GroupVersionKind, res string, subs ...Subresource) Route {
		return Route{GVK: g, Resource: res, Namespaced: true, Verbs: allVerbs, Subresources: subs}
	}
	cluster := func(g schema.GroupVersionKind, res string, subs ...Subresource) Route {
		return Route{GVK: g, Resource: res, Verbs: allVerbs, Subresources: subs}
	}
	pod := gvk("", "v1", "Pod")
	deploy := gvk("apps", "v1", "Deployment")
	rs := gvk("apps", "v1", "ReplicaSet")
	return []Route{
		cluster(gvk("", "v1", "Namespace"), "namespaces", status(gvk("", "v1", "Namespace"))),
		cluster(gvk("", "v1", "Node"), "nodes", status(gvk("", "v1", "Node")), Subresource{Name: "proxy"}),
		ns(pod, "pods", status(pod),
			Subresource{Name: "log", GVK: pod, Verbs: []string{"get"}},
			Subresource{Name: "exec", Verbs: []string{"get", "create"}},
			Subresource{Name: "attach", Verbs: []string{"get", "create"}},
			Subresource{Name: "portforward", Verbs: []string{"get", "create"}},
			Subresource{Name: "eviction", GVK: gvk("policy", "v1", "Eviction"), Verbs: []string{"create"}},
			Subresource{Name: "binding", GVK: gvk("", "v1", "Binding"), Verbs: []string{"create"}},
			Subresource{Name: "ephemeralcontainers", GVK: pod, Verbs: statusVerbs},
		),
		ns(gvk("", "v1", "ConfigMap"), "configmaps"),
		ns(gvk("", "v1", "Secret"), "secrets"),
		ns(gvk("", "v1", "Service"), "services", status(gvk("", "v1", "Service"))),
		ns(gvk("", "v1", "Endpoints"), "endpoints"),
		ns(gvk("", "v1", "Event"), "events"),
		ns(gvk("", "v1", "ServiceAccount"), "serviceaccounts",
			Subresource{Name: "token", GVK: gvk("authentication.k8s.io", "v1", "TokenRequest"), Verbs: []string{"create"}}),
		ns(deploy, "deployments", status(deploy), scale),
		ns(rs, "replicasets", status(rs), scale),
		ns(gvk("apps", "v1", "StatefulSet"), "statefulsets", status(gvk("apps", "v1", "StatefulSet")), scale),
		ns(gvk("apps", "v1", "DaemonSet"), "daemonsets", status(gvk("apps", "v1", "DaemonSet"))),
		ns(gvk("apps", "v1", "ControllerRevision"), "controllerrevisions"),
		ns(gvk("batch", "v1", "Job"), "jobs", status(gvk("batch", "v1", "Job"))),
		ns(gvk("batch", "v1", "CronJob"), "cronjobs", status(gvk("batch", "v1", "CronJob"))),
		ns(gvk("coordination.k8s.io", "v1", "Lease"), "leases"),
		ns(gvk("discovery.k8s.io", "v1", "EndpointSlice"), "endpointslices"),
		ns(gvk("events.k8s.io", "v1", "Event"), "events"),
		ns(gvk("policy", "v1", "PodDisruptionBudget"), "poddisruptionbudgets", status(gvk("policy", "v1", "PodDisruptionBudget"))),
		ns(gvk("autoscaling", "v1", "HorizontalPodAutoscaler"), "horizontalpodautoscalers", status(gvk("autoscaling", "v1", "HorizontalPodAutoscaler"))),
		ns(gvk("autoscaling", "v2", "HorizontalPodAutoscaler"), "horizontalpodautoscalers", status(gvk("autoscaling", "v2", "HorizontalPodAutoscaler"))),
		cluster(gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"), "customresourcedefinitions",
			status(gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"))),
		{GVK: gvk("authentication.k8s.io", "v1", "TokenReview"), Resource: "tokenreviews", Verbs: []string{"create"}},
		{GVK: gvk("authentication.k8s.io", "v1", "SelfSubjectReview"), Resource: "selfsubjectreviews", Verbs: []string{"create"}},
		{GVK: gvk("authorization.k8s.io", "v1", "SelfSubjectAccessReview"), Resource: "selfsubjectaccessreviews", Verbs: []string{"create"}},
		{GVK: gvk("authorization.k8s.io", "v1", "SubjectAccessReview"), Resource: "subjectaccessreviews", Verbs: []string{"create"}},
		{GVK: gvk("authorization.k8s.io", "v1", "LocalSubjectAccessReview"), Resource: "localsubjectaccessreviews", Namespaced: true, Verbs: []string{"create"}},
	}
}

var (
	svcOnce sync.Once
	svc     *Service
	svcErr  error
)

// testService builds the documents for testRoutes once for all tests.
func testService(t testing.TB) *Service {
	t.Helper()
	svcOnce.Do(func() { svc, svcErr = New(testRoutes()) })
	if svcErr != nil {
		t.Fatalf("New: %v", svcErr)
	}
	return svc
}

// get sends a GET through s and returns the recorded response.
func get(t testing.TB, s http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Result()
}

func body(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v3Index fetches and decodes /openapi/v3.
func v3Index(t testing.TB, s *Service) map[string]string {
	t.Helper()
	resp := get(t, s, "/openapi/v3")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi/v3: %s", resp.Status)
	}
	var idx struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body(t, resp), &idx); err != nil {
		t.Fatalf("index: %v", err)
	}
	out := map[string]string{}
	for k, v := range idx.Paths {
		out[k] = v.ServerRelativeURL
	}
	return out
}

// v3Doc fetches the v3 document key through the index.
func v3Document(t testing.TB, s *Service, key string) (*http.Response, []byte) {
	t.Helper()
	u, ok := v3Index(t, s)[key]
	if !ok {
		t.Fatalf("index has no %q", key)
	}
	resp := get(t, s, u, "Accept", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return resp, body(t, resp)
}

func TestIndex(t *testing.T) {
	idx := v3Index(t, testService(t))
	hashURL := regexp.MustCompile(`^/openapi/v3/(.+)\?hash=[0-9A-F]{128}$`)
	for _, key := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/autoscaling/v2",
		"apis/discovery.k8s.io/v1", "version"} {
		u, ok := idx[key]
		if !ok {
			t.Errorf("index lacks %q", key)
			continue
		}
		if m := hashURL.FindStringSubmatch(u); m == nil || m[1] != key {
			t.Errorf("index[%q] = %q, want /openapi/v3/%s?hash=HEX", key, u, key)
		}
	}
	if got, want := len(idx), 25; got != want {
		t.Errorf("index has %d documents, want %d: %v", got, want, idx)
	}
}

// TestAppsV1 checks what kubectl's --validate=strict looks for
// (cli-runtime query_param_verifier_v3.go) and what explain renders.
func TestAppsV1(t *testing.T) {
	resp, b := v3Document(t, testService(t), "apis/apps/v1")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable", cc)
	}
	if et := resp.Header.Get("Etag"); len(et) != 130 {
		t.Errorf("Etag = %q, want quoted SHA-512", et)
	}

	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("spec3: %v", err)
	}
	item := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
	if item == nil || item.Patch == nil {
		t.Fatalf("no PATCH for deployments/{name}; paths: %v", keys(doc.Paths.Paths))
	}
	if !hasGVK(item.Patch.Extensions, "apps", "v1", "Deployment") {
		t.Errorf("PATCH x-kubernetes-group-version-kind = %v", item.Patch.Extensions[extensionGVK])
	}
	if got := item.Patch.Extensions["x-kubernetes-action"]; got != "patch" {
		t.Errorf("PATCH x-kubernetes-action = %v", got)
	}
	if got, want := opParams(item.Patch), "dryRun fieldManager fieldValidation force"; got != want {
		t.Errorf("PATCH parameters = %q, want %q", got, want)
	}
	if got, want := opParams(&spec3.Operation{OperationProps: spec3.OperationProps{Parameters: item.Parameters}}),
		"name namespace pretty"; got != want {
		t.Errorf("path parameters = %q, want %q", got, want)
	}
	if got, want := item.Patch.OperationId, "patchAppsV1NamespacedDeployment"; got != want {
		t.Errorf("operationId = %q, want %q", got, want)
	}
	if rb := item.Patch.RequestBody; rb == nil || rb.Content["application/apply-patch+yaml"] == nil ||
		rb.Content["application/strategic-merge-patch+json"] == nil {
		t.Errorf("PATCH requestBody = %+v", rb)
	}

	coll := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
	if coll == nil || coll.Get == nil || coll.Post == nil || coll.Delete == nil {
		t.Fatalf("deployments collection lacks list/create/deletecollection")
	}
	wantList := "allowWatchBookmarks continue fieldSelector labelSelector limit resourceVersion resourceVersionMatch sendInitialEvents timeoutSeconds watch"
	if got := opParams(coll.Get); got != wantList {
		t.Errorf("list parameters = %q, want %q", got, wantList)
	}
	if got, want := opParams(coll.Post), "dryRun fieldManager fieldValidation"; got != want {
		t.Errorf("create parameters = %q, want %q", got, want)
	}
	if got, want := opParams(coll.Delete), "continue dryRun fieldSelector gracePeriodSeconds ignoreStoreReadErrorWithClusterBreakingPotential labelSelector limit orphanDependents propagationPolicy resourceVersion resourceVersionMatch sendInitialEvents timeoutSeconds"; got != want {
		t.Errorf("deletecollection parameters = %q, want %q", got, want)
	}
	for p, id := range map[string]string{
		"/apis/apps/v1/deployments":                                      "listAppsV1DeploymentForAllNamespaces",
		"/apis/apps/v1/watch/deployments":                                "watchAppsV1DeploymentListForAllNamespaces",
		"/apis/apps/v1/watch/namespaces/{namespace}/deployments":         "watchAppsV1NamespacedDeploymentList",
		"/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}":  "watchAppsV1NamespacedDeployment",
		"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status": "readAppsV1NamespacedDeploymentStatus",
		"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale":  "readAppsV1NamespacedDeploymentScale",
		"/apis/apps/v1/": "getAppsV1APIResources",
		"/apis/apps/v1/namespaces/{namespace}/controllerrevisions/{name}":       "readAppsV1NamespacedControllerRevision",
		"/apis/apps/v1/watch/namespaces/{namespace}/controllerrevisions/{name}": "watchAppsV1NamespacedControllerRevision",
	} {
		if item := doc.Paths.Paths[p]; item == nil || item.Get == nil || item.Get.OperationId != id {
			t.Errorf("GET %s: want operation %s", p, id)
		}
	}
	scalePatch := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"].Patch
	if scalePatch == nil || !hasGVK(scalePatch.Extensions, "autoscaling", "v1", "Scale") {
		t.Errorf("scale PATCH lacks autoscaling/v1 Scale")
	}

	strategy := doc.Components.Schemas["io.k8s.api.apps.v1.DeploymentStrategy"]
	if strategy == nil {
		t.Fatalf("no io.k8s.api.apps.v1.DeploymentStrategy in %d schemas", len(doc.Components.Schemas))
	}
	for _, p := range []string{"type", "rollingUpdate"} {
		if _, ok := strategy.Properties[p]; !ok {
			t.Errorf("DeploymentStrategy lacks property %q", p)
		}
	}
	if d := doc.Components.Schemas["io.k8s.api.apps.v1.Deployment"]; d == nil || !hasGVKList(d.Extensions, "apps", "v1", "Deployment") {
		t.Errorf("Deployment schema lacks x-kubernetes-group-version-kind")
	}
	if s := doc.Components.Schemas["io.k8s.api.core.v1.Pod"]; s != nil {
		t.Errorf("apps/v1 document carries unreferenced Pod schema")
	}
	if s := doc.Components.Schemas["io.k8s.api.core.v1.PodSpec"]; s == nil {
		t.Errorf("apps/v1 document lacks PodSpec")
	}
}

func TestCoreV1(t *testing.T) {
	_, b := v3Document(t, testService(t), "api/v1")
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("spec3: %v", err)
	}
	ops := map[string]*spec3.Operation{}
	for p, item := range doc.Paths.Paths {
		for m, op := range map[string]*spec3.Operation{"GET": item.Get, "PUT": item.Put, "POST": item.Post,
			"PATCH": item.Patch, "DELETE": item.Delete, "HEAD": item.Head, "OPTIONS": item.Options} {
			if op != nil {
				ops[m+" "+p] = op
			}
		}
	}
	for op, want := range map[string]string{
		"PATCH /api/v1/namespaces/{name}":                                      "patchCoreV1Namespace",
		"GET /api/v1/namespaces":                                               "listCoreV1Namespace",
		"GET /api/v1/watch/namespaces":                                         "watchCoreV1NamespaceList",
		"PATCH /api/v1/namespaces/{namespace}/configmaps/{name}":               "patchCoreV1NamespacedConfigMap",
		"DELETE /api/v1/namespaces/{namespace}/configmaps":                     "deleteCoreV1CollectionNamespacedConfigMap",
		"GET /api/v1/configmaps":                                               "listCoreV1ConfigMapForAllNamespaces",
		"GET /api/v1/namespaces/{namespace}/pods/{name}/log":                   "readCoreV1NamespacedPodLog",
		"POST /api/v1/namespaces/{namespace}/pods/{name}/exec":                 "connectCoreV1PostNamespacedPodExec",
		"GET /api/v1/namespaces/{namespace}/pods/{name}/portforward":           "connectCoreV1GetNamespacedPodPortforward",
		"POST /api/v1/namespaces/{namespace}/pods/{name}/eviction":             "createCoreV1NamespacedPodEviction",
		"PATCH /api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers": "patchCoreV1NamespacedPodEphemeralcontainers",
		"POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token":     "createCoreV1NamespacedServiceAccountToken",
		"HEAD /api/v1/nodes/{name}/proxy/{path}":                               "connectCoreV1HeadNodeProxyWithPath",
		"GET /api/v1/":                                                         "getCoreV1APIResources",
	} {
		if got := ops[op]; got == nil || got.OperationId != want {
			t.Errorf("%s: want operation %s", op, want)
		}
	}
	if op := ops["GET /api/v1/namespaces"]; op != nil && !hasGVK(op.Extensions, "", "v1", "Namespace") {
		t.Errorf("list namespaces GVK = %v", op.Extensions[extensionGVK])
	}
	if op := ops["POST /api/v1/namespaces/{namespace}/pods/{name}/eviction"]; op != nil && !hasGVK(op.Extensions, "policy", "v1", "Eviction") {
		t.Errorf("eviction GVK = %v", op.Extensions[extensionGVK])
	}
	if op := ops["GET /api/v1/namespaces/{namespace}/pods/{name}/exec"]; op != nil && !hasGVK(op.Extensions, "", "v1", "PodExecOptions") {
		t.Errorf("exec GVK = %v", op.Extensions[extensionGVK])
	}
	exec := doc.Paths.Paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
	if got, want := opParams(&spec3.Operation{OperationProps: spec3.OperationProps{Parameters: exec.Parameters}}),
		"command container name namespace stderr stdin stdout tty"; got != want {
		t.Errorf("exec parameters = %q, want %q", got, want)
	}
	log := doc.Paths.Paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]
	if got := opParams(&spec3.Operation{OperationProps: spec3.OperationProps{Parameters: log.Parameters}}); !strings.Contains(got, "follow") || !strings.Contains(got, "tailLines") {
		t.Errorf("log parameters = %q", got)
	}
	if r := ops["DELETE /api/v1/namespaces/{namespace}/pods/{name}"].Responses.StatusCodeResponses[200]; r == nil ||
		r.Content["application/json"].Schema.Ref.String() != "#/components/schemas/io.k8s.api.core.v1.Pod" {
		t.Errorf("pod DELETE does not return the Pod")
	}
	if d := doc.Components.Schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]; d == nil || !hasGVKList(d.Extensions, "apps", "v1", "DeleteOptions") {
		t.Errorf("DeleteOptions lacks the GVK list")
	}
}

// TestClientGo reads the documents the way kubectl does: client-go's
// OpenAPI v3 client (explain, validation) and OpenAPISchema (v2, protobuf).
func TestClientGo(t *testing.T) {
	srv := httptest.NewServer(testService(t))
	defer srv.Close()
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}

	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatalf("GroupVersions: %v", err)
	}
	if len(gvs) != 12 {
		t.Errorf("GroupVersions = %v", gvs)
	}
	doc, err := root.GVSpec(schema.GroupVersion{Group: "apps", Version: "v1"})
	if err != nil {
		t.Fatalf("GVSpec: %v", err)
	}
	if doc.Components.Schemas["io.k8s.api.apps.v1.DeploymentStrategy"] == nil {
		t.Errorf("GVSpec: no DeploymentStrategy")
	}

	// The structured-merge-diff converter kubectl and client-go build from
	// the v3 documents.
	tc, err := openapi.NewTypeConverter(dc.OpenAPIV3(), false)
	if err != nil {
		t.Fatalf("NewTypeConverter: %v", err)
	}
	var _ managedfields.TypeConverter = tc

	// v2 is fetched as protobuf only.
	v2, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	checkV2(t, v2)
}

func TestV2Protobuf(t *testing.T) {
	s := testService(t)
	resp := get(t, s, "/openapi/v2", "Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi/v2: %s", resp.Status)
	}
	if ct, want := resp.Header.Get("Content-Type"), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"; ct != want {
		t.Errorf("Content-Type = %q, want %q", ct, want)
	}
	var doc openapi_v2.Document
	if err := proto.Unmarshal(body(t, resp), &doc); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	checkV2(t, &doc)

	// JSON by default.
	resp = get(t, s, "/openapi/v2")
	var sw spec.Swagger
	if err := json.Unmarshal(body(t, resp), &sw); err != nil {
		t.Fatalf("v2 JSON: %v", err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || sw.Definitions["io.k8s.api.apps.v1.Deployment"].Description == "" {
		t.Errorf("v2 JSON lacks Deployment")
	}
	if op := sw.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].Patch; op == nil || op.ID != "patchAppsV1NamespacedDeployment" {
		t.Errorf("v2 lacks patchAppsV1NamespacedDeployment")
	}
}

// checkV2 parses doc the way kubectl's v2 validator and explain do.
func checkV2(t *testing.T, doc *openapi_v2.Document) {
	t.Helper()
	found := false
	for _, d := range doc.GetDefinitions().GetAdditionalProperties() {
		if d.GetName() == "io.k8s.api.apps.v1.Deployment" {
			found = true
		}
	}
	if !found {
		t.Fatalf("v2: no io.k8s.api.apps.v1.Deployment definition")
	}
	models, err := openapiproto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}
	m := models.LookupModel("io.k8s.api.apps.v1.Deployment")
	if m == nil {
		t.Fatalf("NewOpenAPIData: no Deployment model")
	}
	gvks, _ := m.GetExtensions()[extensionGVK].([]any)
	if len(gvks) != 1 {
		t.Errorf("Deployment model GVK = %v", m.GetExtensions()[extensionGVK])
	}
	spec := m.(*openapiproto.Kind).Fields["spec"]
	strategy := resolve(spec).(*openapiproto.Kind).Fields["strategy"]
	if fields := resolve(strategy).(*openapiproto.Kind).Fields; fields["type"] == nil || fields["rollingUpdate"] == nil {
		t.Errorf("v2 DeploymentStrategy fields = %v", keys(fields))
	}
}

func resolve(s openapiproto.Schema) openapiproto.Schema {
	if r, ok := s.(openapiproto.Reference); ok {
		return r.SubSchema()
	}
	return s
}

func TestV3Protobuf(t *testing.T) {
	s := testService(t)
	u := v3Index(t, s)["apis/apps/v1"]
	resp := get(t, s, u, "Accept", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	var doc openapi_v3.Document
	if err := proto.Unmarshal(body(t, resp), &doc); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	models, err := openapiproto.NewOpenAPIV3Data(&doc)
	if err != nil {
		t.Fatalf("NewOpenAPIV3Data: %v", err)
	}
	if models.LookupModel("io.k8s.api.apps.v1.DeploymentStrategy") == nil {
		t.Errorf("v3 protobuf: no DeploymentStrategy")
	}
}

func TestCaching(t *testing.T) {
	s := testService(t)
	u := v3Index(t, s)["apis/apps/v1"]
	first := get(t, s, u)
	etag := first.Header.Get("Etag")

	if resp := get(t, s, u, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", resp.Status)
	}
	// A stale hash redirects to the current one.
	resp := get(t, s, "/openapi/v3/apis/apps/v1?hash=0123")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != u {
		t.Errorf("stale hash: %s to %q, want 301 to %q", resp.Status, resp.Header.Get("Location"), u)
	}
	// Without a hash: no immutable caching.
	resp = get(t, s, "/openapi/v3/apis/apps/v1")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "" || resp.Header.Get("Etag") != etag {
		t.Errorf("no hash: %s, Cache-Control %q, Etag %q", resp.Status, resp.Header.Get("Cache-Control"), resp.Header.Get("Etag"))
	}
	// Large documents are gzipped on request.
	resp = get(t, s, u, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, body(t, first)) {
		t.Errorf("gzipped document differs")
	}
	if resp := get(t, s, u, "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still gzipped")
	}

	// Rebuilding gives the same bytes, so clients keep their caches across
	// restarts.
	again, err := New(testRoutes())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := v3Index(t, s), v3Index(t, again); !equalMaps(a, b) {
		t.Errorf("hashes differ between builds")
	}
}

func TestErrorsAndNotFound(t *testing.T) {
	s := testService(t)
	for target, code := range map[string]int{
		"/openapi/v3/apis/rbac.authorization.k8s.io/v1": http.StatusNotFound,
		"/openapi/v4":     http.StatusNotFound,
		"/openapi/v2x":    http.StatusNotFound,
		"/openapi/v3/":    http.StatusOK,
		"/openapi/v3/api": http.StatusOK,
	} {
		if resp := get(t, s, target); resp.StatusCode != code {
			t.Errorf("GET %s: %s, want %d", target, resp.Status, code)
		}
	}
	if resp := get(t, s, "/openapi/v2", "Accept", "text/html"); resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept text/html: %s, want 406", resp.Status)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/openapi/v3", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}
}

func TestNewRejectsBadRoutes(t *testing.T) {
	deploy := gvk("apps", "v1", "Deployment")
	for name, routes := range map[string][]Route{
		"unknown verb":      {{GVK: deploy, Resource: "deployments", Verbs: []string{"frobnicate"}}},
		"unregistered kind": {{GVK: gvk("storagemigration.k8s.io", "v1", "StorageVersionMigration"), Resource: "storageversionmigrations", Verbs: []string{"get"}}},
		"twice": {
			{GVK: deploy, Resource: "deployments", Verbs: []string{"get"}},
			{GVK: deploy, Resource: "deployments", Verbs: []string{"get"}},
		},
		"no resource":       {{GVK: deploy, Verbs: []string{"get"}}},
		"subresource verbs": {{GVK: deploy, Resource: "deployments", Subresources: []Subresource{{Name: "status"}}}},
		"subresource list":  {{GVK: deploy, Resource: "deployments", Subresources: []Subresource{{Name: "status", Verbs: []string{"list"}}}}},
		"connect options":   {{GVK: deploy, Resource: "deployments", Subresources: []Subresource{{Name: "exec"}}}},
	} {
		if _, err := New(routes); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestOperationID(t *testing.T) {
	for _, tc := range []struct{ verb, rest, path, id, tag string }{
		{"list", "NamespacedDeployment", "/apis/apps/v1/namespaces/{namespace}/deployments", "listAppsV1NamespacedDeployment", "apps_v1"},
		{"get", "APIVersions", "/api/", "getCoreAPIVersions", "core"},
		{"get", "APIVersions", "/apis/", "getAPIVersions", "apis"},
		{"get", "CodeVersion", "/version/", "getCodeVersion", "version"},
		{"create", "NamespacedLease", "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases", "createCoordinationV1NamespacedLease", "coordination_v1"},
		{"get", "APIGroup", "/apis/rbac.authorization.k8s.io/", "getRbacAuthorizationAPIGroup", "rbacAuthorization"},
	} {
		id, tags := operationIDAndTags(tc.verb, tc.rest, tc.path)
		if id != tc.id || len(tags) != 1 || tags[0] != tc.tag {
			t.Errorf("operationIDAndTags(%q, %q, %q) = %q, %v; want %q, %q", tc.verb, tc.rest, tc.path, id, tags, tc.id, tc.tag)
		}
	}
}

// TestSizes logs the document sizes; see also BenchmarkNew.
func TestSizes(t *testing.T) {
	s := testService(t).docs.Load()
	total := 0
	for _, d := range s.v3 {
		total += len(d.json.data)
	}
	pb, err := s.v2pb.get()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("v3: %d documents, %d bytes in all (apps/v1 %d, api/v1 %d); v2: JSON %d bytes (gzip %d), protobuf %d bytes",
		len(s.v3), total, len(s.v3["apis/apps/v1"].json.data), len(s.v3["api/v1"].json.data),
		len(s.v2.data), len(s.v2.gzipped()), len(pb.data))
}

func BenchmarkNew(b *testing.B) {
	routes := testRoutes()
	b.ReportAllocs()
	var svc *Service
	for b.Loop() {
		var err error
		if svc, err = New(routes); err != nil {
			b.Fatal(err)
		}
	}
	s := svc.docs.Load()
	total := 0
	for _, d := range s.v3 {
		total += len(d.json.data)
	}
	b.ReportMetric(float64(total), "v3-bytes")
	b.ReportMetric(float64(len(s.v2.data)), "v2-json-bytes")
}

// BenchmarkV2Protobuf measures the first protobuf v2 request, which converts
// the JSON document.
func BenchmarkV2Protobuf(b *testing.B) {
	s := testService(b).docs.Load()
	for b.Loop() {
		l := lazyBlob{build: s.v2pb.build}
		if _, err := l.get(); err != nil {
			b.Fatal(err)
		}
	}
}

func hasGVK(ext spec.Extensions, group, version, kind string) bool {
	m, ok := ext[extensionGVK].(map[string]any)
	return ok && m["group"] == group && m["version"] == version && m["kind"] == kind
}

func hasGVKList(ext spec.Extensions, group, version, kind string) bool {
	l, _ := ext[extensionGVK].([]any)
	for _, x := range l {
		if hasGVK(spec.Extensions{extensionGVK: x}, group, version, kind) {
			return true
		}
	}
	return false
}

// opParams lists op's parameter names, sorted and space-separated.
func opParams(op *spec3.Operation) string {
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
