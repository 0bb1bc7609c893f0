package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skiff-sh/skiff/internal/auth"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// admissionServer is a webhook that denies objects labelled deny=true and labels everything else mutated=yes.
func admissionServer(t *testing.T, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		var obj struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(review.Request.Object.Raw, &obj)
		switch r.URL.Path {
		case "/validate":
			if obj.Metadata.Labels["deny"] == "true" {
				resp.Allowed = false
				resp.Result = &metav1.Status{Message: "the label deny=true is not welcome", Code: 403}
			}
			if review.Request.UserInfo.Username != "alice" {
				resp.Allowed = false
				resp.Result = &metav1.Status{Message: "unexpected user " + review.Request.UserInfo.Username, Code: 403}
			}
		case "/mutate-pod":
			pt := admissionv1.PatchTypeJSONPatch
			resp.PatchType, resp.Patch = &pt, []byte(`[{"op":"add","path":"/spec/initContainers","value":[{"name":"webhook-added","image":"busybox:1.36"}]}]`)
		case "/mutate":
			pt := admissionv1.PatchTypeJSONPatch
			op := `[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]`
			if obj.Metadata.Labels != nil {
				op = `[{"op":"add","path":"/metadata/labels/mutated","value":"yes"}]`
			}
			resp.PatchType, resp.Patch = &pt, []byte(op)
		}
		review.Response = resp
		review.Request = nil
		_ = json.NewEncoder(w).Encode(review)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func webhookConfig(kind, name, url string, ca []byte, failurePolicy string) string {
	return fmt.Sprintf(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"%s","metadata":{"name":"%s"},
"webhooks":[{"name":"%s.example.com","clientConfig":{"url":"%s","caBundle":"%s"},
"rules":[{"operations":["CREATE","UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}],
"failurePolicy":"%s","sideEffects":"None","admissionReviewVersions":["v1"],
"objectSelector":{"matchExpressions":[{"key":"skip","operator":"DoesNotExist"}]}}]}`, kind, name, name, url, base64.StdEncoding.EncodeToString(ca), failurePolicy)
}

func TestAdmissionWebhooksMutateAndDeny(t *testing.T) {
	var calls atomic.Int32
	srv := admissionServer(t, &calls)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base := newTestServer(t)
	// Requests need a user for the webhooks to be called (the server's own writes are not sent).
	hs := httptest.NewServer(withTestUser(base.api.Handler(), "alice"))
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, api: base.api, http: hs, etcd: base.etcd}

	if r := ts.create("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", webhookConfig("MutatingWebhookConfiguration", "mutate", srv.URL+"/mutate", ca, "Fail")); r.code != http.StatusCreated {
		t.Fatalf("create mutating config: %d %s", r.code, r.body)
	}
	if r := ts.create("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", webhookConfig("ValidatingWebhookConfiguration", "validate", srv.URL+"/validate", ca, "Fail")); r.code != http.StatusCreated {
		t.Fatalf("create validating config: %d %s", r.code, r.body)
	}
	cms := "/api/v1/namespaces/default/configmaps"
	var r result
	waitFor(t, "the webhooks in effect", func() bool {
		r = ts.create(cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"probe-","labels":{"deny":"true"}}}`)
		return r.code == http.StatusForbidden
	})
	if msg := r.status(t).Message; msg != `admission webhook "validate.example.com" denied the request: the label deny=true is not welcome` {
		t.Errorf("denial message = %q", msg)
	}
	r = ts.create(cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ok","labels":{"app":"x"}}}`)
	if r.code != http.StatusCreated {
		t.Fatalf("allowed create: %d %s", r.code, r.body)
	}
	if labels := decodeMap(t, r)["metadata"].(map[string]any)["labels"].(map[string]any); labels["mutated"] != "yes" || labels["app"] != "x" {
		t.Errorf("labels after the mutating webhook = %v", labels)
	}
	// An update is admitted too: adding deny=true is refused and the object is unchanged.
	r = ts.do("PATCH", cms+"/ok", "application/merge-patch+json", "", []byte(`{"metadata":{"labels":{"deny":"true"}}}`))
	if r.code != http.StatusForbidden {
		t.Errorf("denied update: %d %s", r.code, r.body)
	}
	// The object selector excludes skip-labelled objects from both webhooks.
	r = ts.create(cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"skipped","labels":{"deny":"true","skip":"1"}}}`)
	if r.code != http.StatusCreated || strings.Contains(string(r.body), "mutated") {
		t.Errorf("skipped object: %d %s", r.code, r.body)
	}

	// A webhook that cannot be reached fails closed with failurePolicy Fail and is ignored with Ignore.
	if r := ts.create("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", webhookConfig("ValidatingWebhookConfiguration", "gone", "https://127.0.0.1:1/x", ca, "Ignore")); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	waitFor(t, "the ignored webhook configuration in the cache", func() bool {
		return len(webhookSource{ts.api}.ValidatingWebhooks()) == 2
	})
	if r := ts.create(cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"despite-gone"}}`); r.code != http.StatusCreated {
		t.Errorf("create with an unreachable Ignore webhook: %d %s", r.code, r.body)
	}
	gone := decodeMap(t, ts.do("GET", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gone", "", "", nil))
	gone["webhooks"].([]any)[0].(map[string]any)["failurePolicy"] = "Fail"
	body, _ := json.Marshal(gone)
	if r := ts.do("PUT", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gone", "application/json", "", body); r.code != http.StatusOK {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	waitFor(t, "the fail-closed webhook in effect", func() bool {
		r = ts.create(cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"closed-"}}`)
		return r.code == http.StatusInternalServerError
	})
	if msg := r.status(t).Message; !strings.Contains(msg, `failed calling webhook "gone.example.com"`) {
		t.Errorf("fail-closed message = %q", msg)
	}
	// A field added by a mutating webhook gets the type's defaults, as kube-apiserver decodes the patched object.
	podHook := strings.NewReplacer("mutate.example.com", "mutate-pod.example.com", `"name":"mutate"`, `"name":"mutate-pod"`,
		"/mutate", "/mutate-pod", `"resources":["configmaps"]`, `"resources":["pods"]`).Replace(webhookConfig("MutatingWebhookConfiguration", "mutate", srv.URL+"/mutate", ca, "Fail"))
	if r := ts.create("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", podHook); r.code != http.StatusCreated {
		t.Fatalf("create pod webhook: %d %s", r.code, r.body)
	}
	pods := "/api/v1/namespaces/default/pods"
	waitFor(t, "the pod webhook in effect", func() bool {
		r = ts.create(pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"mutated-"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}`)
		return r.code == http.StatusCreated && strings.Contains(string(r.body), "webhook-added")
	})
	ic := decodeMap(t, r)["spec"].(map[string]any)["initContainers"].([]any)[0].(map[string]any)
	if ic["imagePullPolicy"] != "IfNotPresent" || ic["terminationMessagePolicy"] != "File" {
		t.Errorf("webhook-added init container not defaulted: %v", ic)
	}

	// The API server's own writes are not sent to webhooks.
	before := calls.Load()
	internal := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "internal", Labels: map[string]string{"deny": "true"}}}
	if _, err := ts.api.createObject(context.Background(), ts.api.byGVR[corev1.SchemeGroupVersion.WithResource("configmaps")], "default", internal, writeOptions{}, false); err != nil {
		t.Errorf("internal write: %v", err)
	}
	if calls.Load() != before {
		t.Error("an internal write was sent to the webhooks")
	}
}

// withTestUser authenticates every request as name, as the auth middleware would.
func withTestUser(h http.Handler, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), &auth.User{Name: name, Groups: []string{"system:masters", "system:authenticated"}})))
	})
}
