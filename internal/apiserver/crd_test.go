package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/storage/embedded"
)

const crontabCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"crontabs.stable.example.com"},
"spec":{"group":"stable.example.com","scope":"Namespaced",
 "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab","shortNames":["ct"]},
 "versions":[
  {"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
  {"name":"v1","served":true,"storage":true,
   "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},
   "additionalPrinterColumns":[{"name":"Spec","type":"string","jsonPath":".spec.cronSpec"},{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"}],
   "schema":{"openAPIV3Schema":{"type":"object","properties":{
    "spec":{"type":"object","properties":{"cronSpec":{"type":"string"},"image":{"type":"string"},"replicas":{"type":"integer","minimum":0,"default":1}}},
    "status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}}]}}`

const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
const ctPath = "/apis/stable.example.com/v1/namespaces/default/crontabs"

// waitFor polls get until ok or the deadline.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decodeMap(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d %s: %v", r.code, r.body, err)
	}
	return m
}

func conditionStatus(m map[string]any, typ string) string {
	st, _ := m["status"].(map[string]any)
	conds, _ := st["conditions"].([]any)
	for _, c := range conds {
		c := c.(map[string]any)
		if c["type"] == typ {
			return c["status"].(string)
		}
	}
	return ""
}

func establishCronTabs(t *testing.T, ts *testServer) {
	t.Helper()
	if r := ts.create(crdPath, crontabCRD); r.code != http.StatusCreated {
		t.Fatalf("create CRD: %d %s", r.code, r.body)
	}
	waitFor(t, "CRD established and served", func() bool {
		r := ts.do("GET", crdPath+"/crontabs.stable.example.com", "", "", nil)
		return conditionStatus(decodeMap(t, r), "Established") == "True" &&
			ts.do("GET", ctPath, "", "", nil).code == http.StatusOK
	})
}

func TestCustomResourcesServedFromCRD(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.do("GET", ctPath, "", "", nil); r.code != http.StatusNotFound {
		t.Fatalf("before the CRD: %d", r.code)
	}
	establishCronTabs(t, ts)
	crd := decodeMap(t, ts.do("GET", crdPath+"/crontabs.stable.example.com", "", "", nil))
	st := crd["status"].(map[string]any)
	if names := st["acceptedNames"].(map[string]any); names["listKind"] != "CronTabList" || names["plural"] != "crontabs" {
		t.Errorf("acceptedNames = %v", names)
	}
	if sv := st["storedVersions"].([]any); len(sv) != 1 || sv[0] != "v1" {
		t.Errorf("storedVersions = %v", sv)
	}

	// Discovery, legacy and aggregated, lists the resource with its subresources, most preferred version first.
	disc := string(ts.do("GET", "/apis/stable.example.com/v1", "", "", nil).body)
	for _, want := range []string{`"name":"crontabs"`, `"name":"crontabs/status"`, `"name":"crontabs/scale"`, `"shortNames":["ct"]`, `"kind":"CronTab"`} {
		if !strings.Contains(disc, want) {
			t.Errorf("/apis/stable.example.com/v1 lacks %s: %s", want, disc)
		}
	}
	group := decodeMap(t, ts.do("GET", "/apis/stable.example.com", "", "", nil))
	if pv := group["preferredVersion"].(map[string]any); pv["version"] != "v1" {
		t.Errorf("preferredVersion = %v, want v1", pv)
	}
	agg := string(ts.do("GET", "/apis", "", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", nil).body)
	if !strings.Contains(agg, `"name":"stable.example.com"`) {
		t.Errorf("aggregated discovery lacks the group: %s", agg)
	}

	// Create: the schema's default is set, an unknown field is an error under Strict and dropped otherwise.
	r := ts.do("POST", ctPath+"?fieldValidation=Strict", "application/json", "", []byte(`{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"a"},"spec":{"cronSpec":"* * * * */5","foo":1}}`))
	if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), `strict decoding error: unknown field \"spec.foo\"`) {
		t.Fatalf("strict unknown field: %d %s", r.code, r.body)
	}
	r = ts.do("POST", ctPath+"?fieldValidation=Warn", "application/json", "", []byte(`{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"a"},"spec":{"cronSpec":"* * * * */5","foo":1},"status":{"replicas":7}}`))
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if w := r.header.Get("Warning"); !strings.Contains(w, `unknown field \"spec.foo\"`) {
		t.Errorf("Warning = %q", w)
	}
	obj := decodeMap(t, r)
	spec := obj["spec"].(map[string]any)
	if spec["replicas"] != float64(1) || spec["foo"] != nil {
		t.Errorf("spec = %v, want replicas defaulted to 1 and foo pruned", spec)
	}
	if obj["status"] != nil {
		t.Errorf("status on create through the main resource = %v, want dropped", obj["status"])
	}
	if obj["metadata"].(map[string]any)["generation"] != float64(1) {
		t.Errorf("generation = %v", obj["metadata"])
	}

	// Schema violations are 422 with field paths.
	r = ts.create(ctPath, `{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"b"},"spec":{"cronSpec":5,"replicas":-1}}`)
	if r.code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid create: %d %s", r.code, r.body)
	}
	msg := r.status(t).Message
	for _, want := range []string{`CronTab.stable.example.com "b" is invalid`, "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0", `spec.cronSpec: Invalid value: "integer": spec.cronSpec in body must be of type string`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}

	// Status is a subresource: writes through the main resource keep it, writes through status keep the spec.
	r = ts.do("PATCH", ctPath+"/a/status", "application/merge-patch+json", "", []byte(`{"status":{"replicas":2},"spec":{"image":"ignored"}}`))
	if r.code != http.StatusOK {
		t.Fatalf("status patch: %d %s", r.code, r.body)
	}
	obj = decodeMap(t, r)
	if obj["status"].(map[string]any)["replicas"] != float64(2) || obj["spec"].(map[string]any)["image"] != nil {
		t.Errorf("after status patch: %v", obj)
	}
	if g := obj["metadata"].(map[string]any)["generation"]; g != float64(1) {
		t.Errorf("generation after a status write = %v, want 1", g)
	}
	r = ts.do("PATCH", ctPath+"/a", "application/merge-patch+json", "", []byte(`{"status":{"replicas":9},"spec":{"image":"web"}}`))
	obj = decodeMap(t, r)
	if obj["status"].(map[string]any)["replicas"] != float64(2) || obj["spec"].(map[string]any)["image"] != "web" {
		t.Errorf("after main patch: %v", obj)
	}
	if g := obj["metadata"].(map[string]any)["generation"]; g != float64(2) {
		t.Errorf("generation after a spec change = %v, want 2", g)
	}
	if r := ts.do("PATCH", ctPath+"/a", "application/strategic-merge-patch+json", "", []byte(`{"spec":{"image":"x"}}`)); r.code != http.StatusUnsupportedMediaType {
		t.Errorf("strategic merge patch: %d, want 415", r.code)
	}

	// Scale reads and writes the replicas paths.
	r = ts.do("PUT", ctPath+"/a/scale", "application/json", "", []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"a","namespace":"default"},"spec":{"replicas":4}}`))
	if r.code != http.StatusOK {
		t.Fatalf("scale: %d %s", r.code, r.body)
	}
	sc := decodeMap(t, r)
	if sc["spec"].(map[string]any)["replicas"] != float64(4) || sc["status"].(map[string]any)["replicas"] != float64(2) {
		t.Errorf("scale = %v", sc)
	}

	// The served versions share storage: the object reads back in each version.
	beta := decodeMap(t, ts.do("GET", "/apis/stable.example.com/v1beta1/namespaces/default/crontabs/a", "", "", nil))
	if beta["apiVersion"] != "stable.example.com/v1beta1" || beta["spec"].(map[string]any)["replicas"] != float64(4) {
		t.Errorf("v1beta1 read = %v", beta)
	}

	// Tables carry the CRD's printer columns.
	tbl := decodeMap(t, ts.do("GET", ctPath, "", "application/json;as=Table;v=v1;g=meta.k8s.io", nil))
	var cols []string
	for _, c := range tbl["columnDefinitions"].([]any) {
		cols = append(cols, c.(map[string]any)["name"].(string))
	}
	if strings.Join(cols, ",") != "Name,Spec,Replicas" {
		t.Errorf("columns = %v", cols)
	}
	row := tbl["rows"].([]any)[0].(map[string]any)
	if cells := row["cells"].([]any); cells[0] != "a" || cells[1] != "* * * * */5" || cells[2] != float64(4) {
		t.Errorf("cells = %v", cells)
	}
	if ns := row["object"].(map[string]any)["metadata"].(map[string]any)["namespace"]; ns != "default" {
		t.Errorf("row metadata namespace = %v", ns)
	}

	// Server-side apply: unknown fields fail under Strict as upstream's typed apply does.
	r = ts.do("PATCH", ctPath+"/a?fieldManager=m&fieldValidation=Strict", "application/apply-patch+yaml", "", []byte("apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: a\n  unknownMeta: x\nspec:\n  image: applied\n"))
	if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), ".metadata.unknownMeta: field not declared in schema") {
		t.Errorf("apply with an unknown field: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", ctPath+"/a?fieldManager=m&force=true&fieldValidation=Ignore", "application/apply-patch+yaml", "", []byte("apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: a\nspec:\n  image: applied\n  bogus: 1\n"))
	if r.code != http.StatusOK || strings.Contains(string(r.body), "bogus") || !strings.Contains(string(r.body), `"image":"applied"`) {
		t.Errorf("apply ignoring an unknown field: %d %s", r.code, r.body)
	}

	// A default added to the schema later is applied to stored objects when they are read.
	crd = decodeMap(t, ts.do("GET", crdPath+"/crontabs.stable.example.com", "", "", nil))
	v1 := crd["spec"].(map[string]any)["versions"].([]any)[1].(map[string]any)
	v1["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)["cronSpec"].(map[string]any)["default"] = "@daily"
	body, _ := json.Marshal(crd)
	if r := ts.do("PUT", crdPath+"/crontabs.stable.example.com", "application/json", "", body); r.code != http.StatusOK {
		t.Fatalf("update CRD: %d %s", r.code, r.body)
	}
	if r := ts.create(ctPath, `{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c"},"spec":{"cronSpec":"x"}}`); r.code != http.StatusCreated {
		t.Fatalf("create c: %d %s", r.code, r.body)
	}
	if _, err := ts.etcd.Put(context.Background(), "/registry/stable.example.com/crontabs/default/d", `{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"d","namespace":"default","uid":"1"},"spec":{}}`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stored object read with the new default", func() bool {
		r := ts.do("GET", ctPath+"/d", "", "", nil)
		return r.code == http.StatusOK && decodeMap(t, r)["spec"].(map[string]any)["cronSpec"] == "@daily"
	})

	// Field selectors on metadata.name work as for every resource.
	list := decodeMap(t, ts.do("GET", ctPath+"?fieldSelector=metadata.name%3Dnone", "", "", nil))
	if items := list["items"].([]any); len(items) != 0 || list["kind"] != "CronTabList" {
		t.Errorf("filtered list = %v", list)
	}
}

func TestDeletingCRDDeletesItsCustomResources(t *testing.T) {
	ts := newTestServer(t)
	establishCronTabs(t, ts)
	body := `{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"held","finalizers":["example.com/hold"]},"spec":{}}`
	if r := ts.create(ctPath, body); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := ts.create(ctPath, strings.Replace(body, `"held","finalizers":["example.com/hold"]`, `"free"`, 1)); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r := ts.do("DELETE", crdPath+"/crontabs.stable.example.com", "", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("delete CRD: %d %s", r.code, r.body)
	}
	obj := decodeMap(t, r)
	if fz := obj["metadata"].(map[string]any)["finalizers"]; fz == nil || fz.([]any)[0] != "customresourcecleanup.apiextensions.k8s.io" {
		t.Errorf("finalizers after delete = %v", fz)
	}
	// The free object goes; the held one waits for its finalizer, and the CRD for it.
	waitFor(t, "the object without finalizers deleted", func() bool {
		return ts.do("GET", ctPath+"/free", "", "", nil).code == http.StatusNotFound
	})
	crd := decodeMap(t, ts.do("GET", crdPath+"/crontabs.stable.example.com", "", "", nil))
	if conditionStatus(crd, "Terminating") != "True" {
		t.Errorf("Terminating condition: %v", crd["status"])
	}
	r = ts.create(ctPath, strings.Replace(body, `"held","finalizers":["example.com/hold"]`, `"late"`, 1))
	if r.code != http.StatusMethodNotAllowed || !strings.Contains(r.status(t).Message, "create not allowed while custom resource definition is terminating") {
		t.Errorf("create while terminating: %d %s", r.code, r.body)
	}
	if r := ts.do("PATCH", ctPath+"/held", "application/merge-patch+json", "", []byte(`{"metadata":{"finalizers":null}}`)); r.code != http.StatusOK {
		t.Fatalf("remove finalizer: %d %s", r.code, r.body)
	}
	waitFor(t, "the CRD deleted", func() bool {
		return ts.do("GET", crdPath+"/crontabs.stable.example.com", "", "", nil).code == http.StatusNotFound
	})
	waitFor(t, "the resource no longer served", func() bool {
		return ts.do("GET", ctPath, "", "", nil).code == http.StatusNotFound &&
			ts.do("GET", "/apis/stable.example.com/v1", "", "", nil).code == http.StatusNotFound
	})
}

func TestCRDNameConflictIsNotEstablished(t *testing.T) {
	ts := newTestServer(t)
	establishCronTabs(t, ts)
	// Same group, another plural, but the kind of the first: the names are not accepted.
	second := strings.NewReplacer("crontabs.stable.example.com", "crontabs2.stable.example.com", `"plural":"crontabs"`, `"plural":"crontabs2"`,
		`"singular":"crontab"`, `"singular":"crontab2"`, `"shortNames":["ct"]`, `"shortNames":["ct2"]`).Replace(crontabCRD)
	if r := ts.create(crdPath, second); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	waitFor(t, "NamesAccepted=False", func() bool {
		return conditionStatus(decodeMap(t, ts.do("GET", crdPath+"/crontabs2.stable.example.com", "", "", nil)), "NamesAccepted") == "False"
	})
	crd := decodeMap(t, ts.do("GET", crdPath+"/crontabs2.stable.example.com", "", "", nil))
	if conditionStatus(crd, "Established") == "True" {
		t.Errorf("a CRD whose kind is taken was established: %v", crd["status"])
	}
	if r := ts.do("GET", "/apis/stable.example.com/v1/namespaces/default/crontabs2", "", "", nil); r.code != http.StatusNotFound {
		t.Errorf("served despite the conflict: %d", r.code)
	}
	// An invalid CRD is refused with the field path.
	bad := strings.Replace(crontabCRD, `"name":"crontabs.stable.example.com"`, `"name":"wrong.stable.example.com"`, 1)
	if r := ts.create(crdPath, bad); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.status(t).Message, "metadata.name: Invalid value") {
		t.Errorf("invalid CRD: %d %s", r.code, r.body)
	}
}

// conversionServer converts between v1 (spec.hostPort "h:p") and v2 (spec.host, spec.port), as upstream's e2e
// conversion webhook does; a request for v3 fails.
func conversionServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Request    struct {
				UID               string           `json:"uid"`
				DesiredAPIVersion string           `json:"desiredAPIVersion"`
				Objects           []map[string]any `json:"objects"`
			} `json:"request"`
		}
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out []any
		result := map[string]any{"status": "Success"}
		for _, o := range review.Request.Objects {
			spec, _ := o["spec"].(map[string]any)
			if spec == nil {
				spec = map[string]any{}
			}
			switch review.Request.DesiredAPIVersion {
			case "stable.example.com/v2":
				if hp, ok := spec["hostPort"].(string); ok {
					h, p, _ := strings.Cut(hp, ":")
					spec = map[string]any{"host": h, "port": p}
				}
			case "stable.example.com/v1":
				if h, ok := spec["host"].(string); ok {
					spec = map[string]any{"hostPort": h + ":" + spec["port"].(string)}
				}
			default:
				result = map[string]any{"status": "Failure", "message": "cannot convert to " + review.Request.DesiredAPIVersion}
			}
			o["spec"] = spec
			o["apiVersion"] = review.Request.DesiredAPIVersion
			out = append(out, o)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": review.APIVersion, "kind": review.Kind,
			"response": map[string]any{"uid": review.Request.UID, "convertedObjects": out, "result": result}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCustomResourceConversionWebhook(t *testing.T) {
	srv := conversionServer(t)
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	ts := newTestServer(t)
	version := func(name string, storage bool) string {
		return fmt.Sprintf(`{"name":%q,"served":true,"storage":%v,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}`, name, storage)
	}
	crd := fmt.Sprintf(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"crontabs.stable.example.com"},
"spec":{"group":"stable.example.com","scope":"Namespaced","names":{"plural":"crontabs","singular":"crontab","kind":"CronTab"},
"conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":%q,"caBundle":%q}}},
"versions":[%s,%s,%s]}}`, srv.URL+"/convert", ca, version("v1", true), version("v2", false), version("v3", false))
	if r := ts.create(crdPath, crd); r.code != http.StatusCreated {
		t.Fatalf("create CRD: %d %s", r.code, r.body)
	}
	waitFor(t, "CRD served", func() bool {
		return ts.do("GET", "/apis/stable.example.com/v2/namespaces/default/crontabs", "", "", nil).code == http.StatusOK
	})

	// Written in v2, stored in v1 (the storage version), read back in both.
	r := ts.create("/apis/stable.example.com/v2/namespaces/default/crontabs", `{"apiVersion":"stable.example.com/v2","kind":"CronTab","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"host":"localhost","port":"8080"}}`)
	if r.code != http.StatusCreated {
		t.Fatalf("create in v2: %d %s", r.code, r.body)
	}
	if spec := decodeMap(t, r)["spec"].(map[string]any); spec["host"] != "localhost" || spec["port"] != "8080" {
		t.Errorf("create response spec = %v", spec)
	}
	kv, err := ts.etcd.Get(context.Background(), "/registry/stable.example.com/crontabs/default/a")
	if err != nil || len(kv.Kvs) != 1 || !strings.Contains(string(kv.Kvs[0].Value), `"hostPort":"localhost:8080"`) || !strings.Contains(string(kv.Kvs[0].Value), `"apiVersion":"stable.example.com/v1"`) {
		t.Errorf("stored form: %v %s", err, kv.Kvs)
	}
	v1 := decodeMap(t, ts.do("GET", "/apis/stable.example.com/v1/namespaces/default/crontabs/a", "", "", nil))
	if v1["spec"].(map[string]any)["hostPort"] != "localhost:8080" {
		t.Errorf("v1 read = %v", v1)
	}
	list := decodeMap(t, ts.do("GET", "/apis/stable.example.com/v2/namespaces/default/crontabs", "", "", nil))
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["spec"].(map[string]any)["port"] != "8080" {
		t.Errorf("v2 list = %v", list)
	}
	// A webhook that refuses makes the read fail with upstream's message.
	r = ts.do("GET", "/apis/stable.example.com/v3/namespaces/default/crontabs/a", "", "", nil)
	if r.code != http.StatusInternalServerError || !strings.Contains(r.status(t).Message, "conversion webhook for stable.example.com/v1, Kind=CronTab failed: cannot convert to stable.example.com/v3") {
		t.Errorf("refused conversion: %d %s", r.code, r.body)
	}
}

func TestCustomResourcesServedAsSoonAsReadyAfterRestart(t *testing.T) {
	e, err := embedded.Start(context.Background(), embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	first := startTestServer(t, e.Endpoint, Config{}, nil)
	establishCronTabs(t, first)
	if r := first.create(ctPath, `{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"kept"},"spec":{}}`); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	// A second server on the same storage serves the custom resource the moment it is ready.
	second := startTestServer(t, e.Endpoint, Config{}, nil)
	if r := second.do("GET", ctPath+"/kept", "", "", nil); r.code != http.StatusOK {
		t.Errorf("GET right after ready: %d %s", r.code, r.body)
	}
}

func TestAPIServicesListServedGroupVersions(t *testing.T) {
	ts := newTestServer(t)
	const path = "/apis/apiregistration.k8s.io/v1/apiservices"
	available := func(name string) (string, bool) {
		r := ts.do("GET", path+"/"+name, "", "", nil)
		if r.code != http.StatusOK {
			return "", false
		}
		m := decodeMap(t, r)
		return conditionStatus(m, "Available"), true
	}
	waitFor(t, "local APIServices available", func() bool {
		a, ok1 := available("v1.apps")
		b, ok2 := available("v1.")
		return ok1 && ok2 && a == "True" && b == "True"
	})
	apps := decodeMap(t, ts.do("GET", path+"/v1.apps", "", "", nil))
	if spec := apps["spec"].(map[string]any); spec["groupPriorityMinimum"] != float64(17800) || spec["versionPriority"] != float64(15) {
		t.Errorf("v1.apps spec = %v", spec)
	}
	// A CRD's group version gets one while it is served, and loses it with the CRD.
	establishCronTabs(t, ts)
	waitFor(t, "the CRD's APIService", func() bool { s, ok := available("v1.stable.example.com"); return ok && s == "True" })
	// An APIService naming a Service is stored, but skiff does not proxy to it.
	r := ts.create(path, `{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1alpha1.wardle.example.com"},
		"spec":{"group":"wardle.example.com","version":"v1alpha1","groupPriorityMinimum":2000,"versionPriority":200,"service":{"namespace":"default","name":"api"},"insecureSkipTLSVerify":true}}`)
	if r.code != http.StatusCreated || !strings.Contains(string(r.body), `"port":443`) {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	waitFor(t, "the proxied APIService unavailable", func() bool { s, ok := available("v1alpha1.wardle.example.com"); return ok && s == "False" })
	if r := ts.create(path, `{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"wrong"},"spec":{"group":"x.example.com","version":"v1","groupPriorityMinimum":1,"versionPriority":1}}`); r.code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.status(t).Message, "must be `spec.version+\".\"+spec.group`") {
		t.Errorf("misnamed APIService: %d %s", r.code, r.body)
	}
	if r := ts.do("DELETE", crdPath+"/crontabs.stable.example.com", "", "", nil); r.code != http.StatusOK {
		t.Fatalf("delete CRD: %d", r.code)
	}
	waitFor(t, "the CRD's APIService removed", func() bool { _, ok := available("v1.stable.example.com"); return !ok })
}

func TestServerSideApplyOfCRDsAndAPIServices(t *testing.T) {
	ts := newTestServer(t)
	crdYAML := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
	r := ts.do("PATCH", crdPath+"/widgets.example.com?fieldManager=installer", "application/apply-patch+yaml", "", []byte(crdYAML))
	if r.code != http.StatusCreated {
		t.Fatalf("apply CRD: %d %s", r.code, r.body)
	}
	if !strings.Contains(string(r.body), `"manager":"installer"`) || !strings.Contains(string(r.body), `"f:group"`) {
		t.Errorf("managed fields of the applied CRD: %s", r.body)
	}
	r = ts.do("PATCH", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.custom.metrics.k8s.io?fieldManager=installer", "application/apply-patch+yaml", "",
		[]byte("apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1beta1.custom.metrics.k8s.io}\nspec: {group: custom.metrics.k8s.io, version: v1beta1, groupPriorityMinimum: 100, versionPriority: 100, insecureSkipTLSVerify: true, service: {name: adapter, namespace: monitoring}}\n"))
	if r.code != http.StatusCreated || !strings.Contains(string(r.body), `"manager":"installer"`) {
		t.Errorf("apply APIService: %d %s", r.code, r.body)
	}
}
