package openapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestKubectl runs the real kubectl against Service behind a minimal fake API
// server (version, legacy discovery, and an in-memory object map). It is
// opt-in because it needs the binary:
//
//	SKIFF_KUBECTL=$(which kubectl) go test ./internal/openapi -run Kubectl -v
//
// It checks the facts from shared/reference/kubectl-wire.md §2: with our v3
// documents, create, apply, apply --server-side and edit send
// fieldValidation=Strict (server-side validation) instead of failing or
// falling back; explain renders real schemas from v3 and from protobuf v2;
// and without v3, kubectl reads the protobuf v2 document instead.
func TestKubectl(t *testing.T) {
	bin := os.Getenv("SKIFF_KUBECTL")
	if bin == "" {
		t.Skip("set SKIFF_KUBECTL to a kubectl binary (1.32 or the gcloud dispatcher) to run")
	}
	fake := newFakeAPIServer(t, testService(t), testRoutes())
	srv := httptest.NewServer(fake)
	defer srv.Close()
	home := t.TempDir()
	kubectl := func(stdin string, env []string, args ...string) (string, error) {
		t.Helper()
		args = append([]string{"--server", srv.URL, "--cache-dir", filepath.Join(home, "cache")}, args...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}, env...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		t.Logf("kubectl %s\n%s", strings.Join(args[4:], " "), out)
		return string(out), err
	}
	manifest := func(name string, extra string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: c
        image: nginx
%s`, name, extra)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		object string // manifest name
		method string // the write kubectl must send with fieldValidation=Strict
	}{
		{"create", []string{"create", "-f", "-"}, "created", "POST"},
		{"apply", []string{"apply", "-f", "-"}, "applied", "POST"},
		{"apply --server-side", []string{"apply", "--server-side", "-f", "-"}, "ssa", "PATCH"},
	} {
		fake.reset()
		if _, err := kubectl(manifest(tc.object, ""), nil, tc.args...); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if w := fake.write(); w == nil || w.method != tc.method || w.query.Get("fieldValidation") != "Strict" {
			t.Errorf("%s: write = %+v, want %s with fieldValidation=Strict", tc.name, w, tc.method)
		}
	}

	fake.reset()
	editor := filepath.Join(home, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/replicas: 1/replicas: 2/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl("", []string{"KUBE_EDITOR=" + editor}, "edit", "deployment/created"); err != nil {
		t.Errorf("edit: %v", err)
	} else if w := fake.write(); w == nil || w.method != "PATCH" || w.query.Get("fieldValidation") != "Strict" {
		t.Errorf("edit: write = %+v, want PATCH with fieldValidation=Strict", w)
	}

	out, err := kubectl("", nil, "explain", "deployment.spec.strategy")
	if err != nil || !strings.Contains(out, "rollingUpdate") || !strings.Contains(out, "DeploymentStrategy") {
		t.Errorf("explain (v3): %v", err)
	}
	out, err = kubectl("", nil, "explain", "--output=plaintext-openapiv2", "deployment.spec.strategy")
	if err != nil || !strings.Contains(out, "rollingUpdate") {
		t.Errorf("explain (v2): %v", err)
	}

	out, err = kubectl("", nil, "explain", "customresourcedefinitions.spec.versions.schema.openAPIV3Schema")
	if err != nil || !strings.Contains(out, "JSONSchemaProps") || !strings.Contains(out, "x-kubernetes-preserve-unknown-fields") {
		t.Errorf("explain crd (v3): %v", err)
	}

	// Without /openapi/v3, kubectl's query-parameter check reads protobuf v2,
	// which also declares fieldValidation.
	fake.reset()
	fake.hideV3 = true
	if err := os.RemoveAll(filepath.Join(home, "cache")); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl(manifest("v2only", ""), nil, "create", "-f", "-"); err != nil {
		t.Errorf("create without v3: %v", err)
	}
	if w := fake.write(); w == nil || w.query.Get("fieldValidation") != "Strict" {
		t.Errorf("create without v3: write = %v, want fieldValidation=Strict", w)
	}
	if got := fake.v2Accept(); !strings.Contains(got, "protobuf") {
		t.Errorf("create without v3: /openapi/v2 Accept = %q, want protobuf", got)
	}
}

// fakeAPIServer is just enough of an API server for kubectl's create, apply,
// edit and explain.
type fakeAPIServer struct {
	t         *testing.T
	openapi   http.Handler
	api       map[string]any // discovery documents by path
	hideV3    bool
	mu        sync.Mutex
	objects   map[string][]byte // by item path
	lastWrite *request
	lastV2    string // Accept of the last /openapi/v2 request
}

type request struct {
	method string
	path   string
	query  url.Values
}

func (r *request) String() string { return fmt.Sprintf("%s %s %v", r.method, r.path, r.query) }

func newFakeAPIServer(t *testing.T, openapi http.Handler, routes []Route) *fakeAPIServer {
	f := &fakeAPIServer{t: t, openapi: openapi, api: map[string]any{}, objects: map[string][]byte{}}
	lists := map[string]*metav1.APIResourceList{}
	groups := map[string]*metav1.APIGroup{}
	var groupOrder []string
	for _, rt := range routes {
		gv := rt.GVK.GroupVersion()
		root := gvRoot(gv)
		l := lists[root]
		if l == nil {
			l = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
			lists[root] = l
			f.api[root] = l
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: rt.Resource, SingularName: strings.ToLower(rt.GVK.Kind), Namespaced: rt.Namespaced,
			Kind: rt.GVK.Kind, Verbs: rt.Verbs,
		})
		for _, sub := range rt.Subresources {
			l.APIResources = append(l.APIResources, metav1.APIResource{
				Name: rt.Resource + "/" + sub.Name, Namespaced: rt.Namespaced,
				Group: sub.GVK.Group, Version: sub.GVK.Version, Kind: sub.GVK.Kind, Verbs: sub.Verbs,
			})
		}
		if gv.Group == "" {
			continue
		}
		g := groups[gv.Group]
		if g == nil {
			g = &metav1.APIGroup{Name: gv.Group}
			groups[gv.Group] = g
			groupOrder = append(groupOrder, gv.Group)
		}
		found := false
		for _, v := range g.Versions {
			found = found || v.Version == gv.Version
		}
		if !found {
			g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version})
			g.PreferredVersion = g.Versions[0]
		}
	}
	gl := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, name := range groupOrder {
		gl.Groups = append(gl.Groups, *groups[name])
	}
	f.api["/apis"] = gl
	f.api["/api"] = &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}}
	f.api["/version"] = map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.4-skiff"}
	return f
}

func (f *fakeAPIServer) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastWrite = nil
	f.lastV2 = ""
}

func (f *fakeAPIServer) v2Accept() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastV2
}

func (f *fakeAPIServer) write() *request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastWrite
}

func (f *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasPrefix(p, "/openapi/") {
		if p == "/openapi/v2" {
			f.mu.Lock()
			f.lastV2 = r.Header.Get("Accept")
			f.mu.Unlock()
		}
		if f.hideV3 && strings.HasPrefix(p, "/openapi/v3") {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "not found")
			return
		}
		f.openapi.ServeHTTP(w, r)
		return
	}
	if doc, ok := f.api[p]; ok && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	}
	// Objects: /apis/G/V/namespaces/NS/RES[/NAME]; writes are recorded.
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	var name string
	if r.Method == http.MethodPost {
		var obj metav1.PartialObjectMetadata
		_ = json.Unmarshal(b, &obj)
		name = obj.Name
	}
	switch r.Method {
	case http.MethodGet:
		if obj, ok := f.objects[p]; ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(obj)
			return
		}
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "not found")
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		f.lastWrite = &request{method: r.Method, path: p, query: r.URL.Query()}
		item := p
		if name != "" {
			item = p + "/" + name
		}
		code := http.StatusOK
		obj, ok := f.objects[item]
		if !ok {
			code = http.StatusCreated
			obj = b
			f.objects[item] = b
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(obj)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, r.Method)
	}
}

// TestKubectlCustomResources runs the real kubectl against custom resource
// documents (opt-in like TestKubectl): explain renders the CRD schema from v3
// and v2, and create and apply --server-side send fieldValidation=Strict,
// also for a kind whose schema preserves unknown fields at the root.
func TestKubectlCustomResources(t *testing.T) {
	bin := os.Getenv("SKIFF_KUBECTL")
	if bin == "" {
		t.Skip("set SKIFF_KUBECTL to a kubectl binary (1.32 or the gcloud dispatcher) to run")
	}
	s, err := New(testRoutes())
	if err != nil {
		t.Fatal(err)
	}
	widget := newCRD(t, "other.example.com", "Widget", false, `{type: object, x-kubernetes-preserve-unknown-fields: true}`, "v2")
	if err := s.SetCustomResources([]*apiextv1.CustomResourceDefinition{cronTab(t), widget}); err != nil {
		t.Fatal(err)
	}
	ct := schema.GroupVersionKind{Group: "stable.example.com", Version: "v1", Kind: "CronTab"}
	routes := append(testRoutes(),
		Route{GVK: ct, Resource: "crontabs", Namespaced: true, Verbs: allVerbs, Subresources: []Subresource{
			{Name: "status", GVK: ct, Verbs: statusVerbs},
			{Name: "scale", GVK: schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: statusVerbs}}},
		Route{GVK: ct.GroupVersion().WithKind("CronTab").GroupKind().WithVersion("v1beta1"), Resource: "crontabs", Namespaced: true, Verbs: allVerbs},
		Route{GVK: schema.GroupVersionKind{Group: "other.example.com", Version: "v2", Kind: "Widget"}, Resource: "widgets", Verbs: allVerbs},
	)
	fake := newFakeAPIServer(t, s, routes)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	home := t.TempDir()
	kubectl := func(stdin string, args ...string) (string, error) {
		t.Helper()
		args = append([]string{"--server", srv.URL, "--cache-dir", filepath.Join(home, "cache")}, args...)
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		t.Logf("kubectl %s\n%s", strings.Join(args[4:], " "), out)
		return string(out), err
	}

	out, err := kubectl("", "explain", "crontabs.spec")
	if err != nil || !strings.Contains(out, "cronSpec") || !strings.Contains(out, "The cron schedule.") ||
		!strings.Contains(out, "-required-") {
		t.Errorf("explain crontabs.spec (v3): %v", err)
	}
	out, err = kubectl("", "explain", "--output=plaintext-openapiv2", "crontabs.spec")
	if err != nil || !strings.Contains(out, "cronSpec") {
		t.Errorf("explain crontabs.spec (v2): %v", err)
	}
	out, err = kubectl("", "explain", "crontabs.metadata.labels")
	if err != nil || !strings.Contains(out, "map[string]string") {
		t.Errorf("explain crontabs.metadata.labels: %v", err)
	}
	if out, err = kubectl("", "explain", "widgets"); err != nil || !strings.Contains(out, "Widget") {
		t.Errorf("explain widgets: %v", err)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		manifest string
		method   string
	}{
		{"create crontab", []string{"create", "-f", "-"}, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: a, namespace: default}\nspec: {cronSpec: '* * * * */5', image: x, bogus: 1}\n", "POST"},
		{"apply --server-side crontab", []string{"apply", "--server-side", "-f", "-"}, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: b, namespace: default}\nspec: {cronSpec: '* * * * */5'}\n", "PATCH"},
		{"create widget", []string{"create", "-f", "-"}, "apiVersion: other.example.com/v2\nkind: Widget\nmetadata: {name: w}\nanything: {goes: here}\n", "POST"},
	} {
		fake.reset()
		if _, err := kubectl(tc.manifest, tc.args...); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if w := fake.write(); w == nil || w.method != tc.method || w.query.Get("fieldValidation") != "Strict" {
			t.Errorf("%s: write = %v, want %s with fieldValidation=Strict", tc.name, w, tc.method)
		}
	}
}
