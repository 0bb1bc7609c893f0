package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-sh/skiff/internal/storage"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// The fuzz targets run their seeds (the f.Add calls and testdata/fuzz/<Name>/) in every `go test`;
// `go test -run '^$' -fuzz '^FuzzDecodeBody$' ./internal/apiserver` explores further.

var (
	fuzzOnce   sync.Once
	fuzzServer *APIServer
)

// fuzzAPIServer is an APIServer whose store is never used (the code under test does no I/O).
func fuzzAPIServer(t testing.TB) *APIServer {
	fuzzOnce.Do(func() {
		s, err := New(Config{Store: storage.New(nil, scheme.Scheme)})
		if err != nil {
			panic(err)
		}
		fuzzServer = s
	})
	return fuzzServer
}

func fuzzResource(t testing.TB, group, resource string) *resource {
	s := fuzzAPIServer(t)
	res := s.byGVR[schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}]
	if res == nil {
		t.Fatalf("no resource %s/%s", group, resource)
	}
	return res
}

// fuzzTargets are the types bodies are decoded into.
var fuzzTargets = []struct{ group, resource string }{
	{"", "configmaps"}, {"", "pods"}, {"apps", "deployments"}, {"", "services"}, {"", "namespaces"}, {"", "secrets"},
}

var fuzzContentTypes = []string{
	"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "",
	"application/json; charset=utf-8", "text/yaml", "text/plain", "application/cbor", "a/b;;=", "application/x-yaml",
}

var fuzzFieldValidation = []string{"", "Strict", "Warn", "Ignore", "bogus"}

// statusCode returns the HTTP code of a Kubernetes StatusError, or fails the test for any other error.
func statusCode(t *testing.T, what string, err error) int32 {
	t.Helper()
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %T is not a StatusError: %v", what, err, err)
	}
	return se.ErrStatus.Code
}

func encodeSeed(t testing.TB, obj runtime.Object, ct string) []byte {
	s := fuzzAPIServer(t)
	s.codecs.setTypeMeta(obj)
	var b bytes.Buffer
	var err error
	switch ct {
	case mediaProtobuf:
		err = s.codecs.pb.Encode(obj, &b)
	case mediaYAML:
		err = s.codecs.yaml.Encode(obj, &b)
	default:
		err = s.codecs.json.Encode(obj, &b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func seedObjects() []runtime.Object {
	one := int32(1)
	return []runtime.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default", Labels: map[string]string{"a": "b"}}, Data: map[string]string{"k": "v"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Spec: appsv1.DeploymentSpec{Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"k": []byte("\x00\xff")}},
	}
}

func FuzzDecodeBody(f *testing.F) {
	for i, obj := range seedObjects() {
		for ci, ct := range []string{mediaJSON, mediaYAML, mediaProtobuf} {
			f.Add(encodeSeed(f, obj, ct), uint8(ci), uint8(i), uint8(1))
			// The same body named as the wrong type.
			f.Add(encodeSeed(f, obj, ct), uint8(ci), uint8(i+1), uint8(0))
		}
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"kind":"ConfigMap"}`, `{"apiVersion":"v1"}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"},"unknown":1}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","name":"y"}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"resources":{"limits":{"cpu":"1e1000000"}}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"resources":{"limits":{"cpu":"abc"}}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"not a time"}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":1e100}}`,
		`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80,"targetPort":"x"}]}}`,
		`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"targetPort":{"a":1}}]}}`,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: &a b, c: *a}\n",
		"a: &a [*a, *a]\n",
		"---\n---\n",
		"apiVersion: v1\nkind: Secret\ndata: {k: '!!!'}\n",
		"k8s\x00\x0a\x04\x0a\x02v1",
		"k8s\x00",
		strings.Repeat("[", 10000),
	} {
		for ci := range 3 {
			f.Add([]byte(s), uint8(ci), uint8(0), uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, ctSel, typeSel, fvSel uint8) {
		s := fuzzAPIServer(t)
		tgt := fuzzTargets[int(typeSel)%len(fuzzTargets)]
		res := fuzzResource(t, tgt.group, tgt.resource)
		ct := fuzzContentTypes[int(ctSel)%len(fuzzContentTypes)]
		fv := fuzzFieldValidation[int(fvSel)%len(fuzzFieldValidation)]
		target := "/api/v1/namespaces/default/x"
		if fv != "" {
			target += "?fieldValidation=" + fv
		}
		r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(data))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		into := res.New()
		obj, err := s.codecs.decodeBody(w, r, data, into, res.GVK())
		if err != nil {
			if obj != nil {
				t.Errorf("decodeBody returned both an object and an error: %v", err)
			}
			if code := statusCode(t, "decodeBody", err); code != http.StatusBadRequest && code != http.StatusUnsupportedMediaType {
				t.Fatalf("decodeBody(%q, %s, fv=%q): code %d, want 400 or 415: %v", ct, res.Kind, fv, code, err)
			}
			return
		}
		if obj == nil || obj != into {
			t.Fatalf("decodeBody returned %T (%p), want the target %T (%p)", obj, obj, into, into)
		}
		// What was accepted must be storable and servable.
		if _, err := s.store.Encode(obj); err != nil {
			t.Errorf("accepted %s body does not encode for storage: %v", ct, err)
		}
		for _, n := range []negotiated{{}, {protobuf: true}, {yaml: true}} {
			if _, _, err := s.codecs.encode(obj, n); err != nil {
				t.Errorf("accepted %s body does not encode as %+v: %v", ct, n, err)
			}
		}
	})
}

// FuzzDeleteOptions decodes DeleteOptions bodies and query parameters: 400 or 422, never a panic.
func FuzzDeleteOptions(f *testing.F) {
	f.Add([]byte(`{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"propagationPolicy":"Foreground"}`), "", false)
	f.Add([]byte(`{"preconditions":{"uid":"x","resourceVersion":"1"},"dryRun":["All"]}`), "gracePeriodSeconds=-1", false)
	f.Add([]byte(`{"orphanDependents":true,"propagationPolicy":"Orphan"}`), "propagationPolicy=Nope&orphanDependents=1", false)
	f.Add(encodeSeed(f, &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "DeleteOptions"}}, mediaProtobuf), "dryRun=All", true)
	f.Add([]byte("k8s\x00\x0a\x00"), "", true)
	f.Fuzz(func(t *testing.T, body []byte, query string, pb bool) {
		s := fuzzAPIServer(t)
		r := httptest.NewRequest(http.MethodDelete, "/api/v1/namespaces/default/configmaps/x", bytes.NewReader(body))
		r.URL.RawQuery = query
		if pb {
			r.Header.Set("Content-Type", mediaProtobuf)
		}
		opts, err := s.deleteOptions(r)
		if err != nil {
			if code := statusCode(t, "deleteOptions", err); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
				t.Fatalf("deleteOptions: code %d: %v", code, err)
			}
			return
		}
		if opts == nil {
			t.Fatal("deleteOptions returned nil options and no error")
		}
		_ = propagation(nil, opts)
	})
}

func fuzzFilter(t *testing.T, res *resource, q url.Values, raw string) {
	s := fuzzAPIServer(t)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.URL.Path = "/api/v1/" + res.GVR.Resource
	r.URL.RawQuery = q.Encode()
	if raw != "" {
		r.URL.RawQuery += "&" + raw
	}
	f, err := s.parseFilter(r, res)
	if err != nil {
		if code := statusCode(t, "parseFilter", err); code != http.StatusBadRequest {
			t.Fatalf("parseFilter(%q): code %d, want 400: %v", r.URL.RawQuery, code, err)
		}
		return
	}
	// A selector that parsed must be usable on any object and print back to something that parses again.
	for _, obj := range []runtime.Object{res.New(), fuzzSample(res)} {
		_ = f.match(obj)
	}
	q2 := url.Values{"labelSelector": {f.label.String()}, "fieldSelector": {f.field.String()}}
	r2 := httptest.NewRequest(http.MethodGet, "/", nil)
	r2.URL.RawQuery = q2.Encode()
	if _, err := s.parseFilter(r2, res); err != nil {
		t.Errorf("selector %q / %q printed from %q does not parse again: %v", f.label.String(), f.field.String(), r.URL.RawQuery, err)
	}
}

// fuzzSample is a filled-in object of res's type, so field and label selectors have something to look at.
func fuzzSample(res *resource) runtime.Object {
	obj := res.New()
	m := accessor(obj)
	m.SetName("name-1")
	m.SetNamespace("ns")
	m.SetLabels(map[string]string{"app": "web", "tier": "", "a.b/c": "d"})
	switch o := obj.(type) {
	case *corev1.Pod:
		o.Spec.NodeName = "node-1"
		o.Status.Phase = corev1.PodRunning
	case *corev1.Event:
		o.InvolvedObject.Name = "x"
	case *corev1.Secret:
		o.Type = corev1.SecretTypeOpaque
	}
	return obj
}

var filterResources = []struct{ group, resource string }{
	{"", "pods"}, {"", "configmaps"}, {"", "events"}, {"", "nodes"}, {"", "namespaces"}, {"", "secrets"}, {"apps", "replicasets"},
}

func FuzzLabelSelector(f *testing.F) {
	for _, s := range []string{
		"", "app=web", "app==web", "app!=web", "app", "!app", "app in (a,b)", "app notin (a, b)", "a.b/c=d,tier",
		"x>1", "x<1", "x in ()", "x in (", "=", "!", "a=b=c", "a,,b", "app in (a b)", strings.Repeat("a,", 500) + "a",
		"example.com/" + strings.Repeat("x", 70) + "=y", "a=" + strings.Repeat("v", 70), "(", ")", "in", "a in a",
	} {
		f.Add(s, uint8(0), "")
	}
	f.Add("app=web", uint8(1), "labelSelector=%zz")
	f.Add("app=web", uint8(2), "labelSelector=a&labelSelector=b")
	f.Fuzz(func(t *testing.T, sel string, resSel uint8, raw string) {
		tgt := filterResources[int(resSel)%len(filterResources)]
		fuzzFilter(t, fuzzResource(t, tgt.group, tgt.resource), url.Values{"labelSelector": {sel}}, raw)
	})
}

func FuzzFieldSelector(f *testing.F) {
	for _, s := range []string{
		"", "metadata.name=x", "metadata.name==x", "metadata.name!=x", "metadata.namespace=ns", "spec.nodeName=node-1",
		"status.phase!=Succeeded,status.phase!=Failed", "spec.unschedulable=false", "status.phase=Active", "type=Opaque",
		"involvedObject.name=x,reason=y", "status.replicas=0", "unknown.field=x", "metadata.name", "=x", "metadata.name=x\\,y",
		"metadata.name=\\", "a=b,", ",", "metadata.name=x=y", "metadata.name in (a)", "metadata.name=" + strings.Repeat("\\\\", 100),
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, sel string, resSel uint8) {
		tgt := filterResources[int(resSel)%len(filterResources)]
		fuzzFilter(t, fuzzResource(t, tgt.group, tgt.resource), url.Values{"fieldSelector": {sel}}, "")
	})
}

var patchTypes = []string{mediaJSONP, mediaMergeP, mediaSMP}

func FuzzPatch(f *testing.F) {
	seeds := []struct {
		pt    int
		patch string
	}{
		{0, `[{"op":"replace","path":"/data/k","value":"v2"}]`},
		{0, `[{"op":"add","path":"/metadata/labels/x","value":"y"},{"op":"remove","path":"/metadata/labels/a"}]`},
		{0, `[{"op":"test","path":"/data/k","value":"v"}]`},
		{0, `[{"op":"copy","from":"/data","path":"/metadata/annotations"}]`},
		{0, `[{"op":"move","from":"/data/k","path":"/data/k2"}]`},
		{0, `[{"op":"add","path":"/spec/containers/-","value":{"name":"x"}}]`},
		{0, `[{"op":"add","path":"/spec/containers/99999999999999999999","value":1}]`},
		{0, `[{"op":"remove","path":"/spec/containers/-1"}]`},
		{0, `[{"op":"replace","path":"","value":null}]`},
		{0, `[{"op":"bogus"}]`},
		{0, `{}`},
		{1, `{"data":{"k":null,"n":"1"}}`},
		{1, `{"metadata":{"labels":null}}`},
		{1, `null`},
		{1, `[]`},
		{1, `{"spec":{"containers":[{"name":"c","image":"nginx"}]}}`},
		{2, `{"spec":{"containers":[{"name":"c","image":"nginx"}]}}`},
		{2, `{"spec":{"containers":[{"name":"c","$patch":"delete"}]}}`},
		{2, `{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"x"}]}}`},
		{2, `{"spec":{"$retainKeys":["containers"],"containers":null}}`},
		{2, `{"$patch":"replace","metadata":{"name":"x"}}`},
		{2, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}`},
		{2, `{"spec":{"containers":[{"$patch":"merge"}]}}`},
		{2, `{"spec":{"containers":{"name":"c"}}}`},
		{2, `{"spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"$patch":"delete"}]}]}}}}`},
		{2, `{"data":"x"}`},
	}
	for _, s := range seeds {
		for ti := range fuzzTargets {
			f.Add(uint8(s.pt), uint8(ti), []byte(s.patch))
		}
	}
	f.Fuzz(func(t *testing.T, ptSel, typeSel uint8, patch []byte) {
		s := fuzzAPIServer(t)
		pt := patchTypes[int(ptSel)%len(patchTypes)]
		idx := int(typeSel) % len(fuzzTargets)
		res := fuzzResource(t, fuzzTargets[idx].group, fuzzTargets[idx].resource)
		cur := seedObjects()[idx]
		s.codecs.setTypeMeta(cur)
		orig, err := json.Marshal(cur)
		if err != nil {
			t.Fatal(err)
		}
		patched, err := applyPatch(pt, orig, patch, res.New())
		if err != nil {
			if code := statusCode(t, "applyPatch", err); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
				t.Fatalf("applyPatch(%s): code %d: %v", pt, code, err)
			}
			return
		}
		obj, err := s.decodePatched(httptest.NewRecorder(), patched, res, "Strict")
		if err != nil {
			statusCode(t, "decodePatched", err)
			return
		}
		if obj == nil {
			t.Fatal("decodePatched returned no object and no error")
		}
	})
}
