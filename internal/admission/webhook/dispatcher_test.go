package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/skiff-sh/skiff/internal/clock"
)

// fakeSource is a Source over fixed slices.
type fakeSource struct {
	mu         sync.Mutex
	validating []*admissionregistrationv1.ValidatingWebhookConfiguration
	mutating   []*admissionregistrationv1.MutatingWebhookConfiguration
	namespaces map[string]map[string]string
	services   map[string]string // "ns/name" -> host:port
}

func (s *fakeSource) ValidatingWebhooks() []*admissionregistrationv1.ValidatingWebhookConfiguration {
	return s.validating
}
func (s *fakeSource) MutatingWebhooks() []*admissionregistrationv1.MutatingWebhookConfiguration {
	return s.mutating
}
func (s *fakeSource) NamespaceLabels(name string) (map[string]string, bool) {
	l, ok := s.namespaces[name]
	return l, ok
}
func (s *fakeSource) ServiceAddress(_ context.Context, namespace, name string, _ int32) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr, ok := s.services[namespace+"/"+name]
	if !ok {
		return "", errors.New("service " + namespace + "/" + name + " has no ready endpoints")
	}
	return addr, nil
}

// reviewServer is a webhook server over TLS that records the reviews it receives.
type reviewServer struct {
	*httptest.Server
	caPEM  []byte
	mu     sync.Mutex
	got    []admissionv1.AdmissionReview
	answer func(req *admissionv1.AdmissionReview) (int, any)
}

func (s *reviewServer) reviews() []admissionv1.AdmissionReview {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]admissionv1.AdmissionReview(nil), s.got...)
}

// certFor makes a CA and a serving certificate for the given DNS names and 127.0.0.1.
func certFor(t testing.TB, dnsNames ...string) (tls.Certificate, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "webhook"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), DNSNames: dnsNames, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

func newReviewServer(t testing.TB, answer func(req *admissionv1.AdmissionReview) (int, any), dnsNames ...string) *reviewServer {
	t.Helper()
	s := &reviewServer{answer: answer}
	cert, caPEM := certFor(t, dnsNames...)
	s.caPEM = caPEM
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, review)
		s.mu.Unlock()
		code, body := s.answer(&review)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// respond answers with a v1 AdmissionReview echoing the uid.
func respond(resp admissionv1.AdmissionResponse) func(*admissionv1.AdmissionReview) (int, any) {
	return func(req *admissionv1.AdmissionReview) (int, any) {
		resp.UID = req.Request.UID
		return http.StatusOK, admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Response: &resp}
	}
}

func vHook(name string, s *reviewServer, mutate ...func(*admissionregistrationv1.ValidatingWebhook)) admissionregistrationv1.ValidatingWebhook {
	h := admissionregistrationv1.ValidatingWebhook{Name: name,
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptrTo(s.URL + "/validate"), CABundle: s.caPEM},
		Rules:                   []admissionregistrationv1.RuleWithOperations{podRule("*")},
		SideEffects:             ptrTo(admissionregistrationv1.SideEffectClassNone),
		AdmissionReviewVersions: []string{"v1"}}
	for _, m := range mutate {
		m(&h)
	}
	c := vwc(h)
	SetDefaultsValidating(c)
	return c.Webhooks[0]
}

func mHook(name string, s *reviewServer, mutate ...func(*admissionregistrationv1.MutatingWebhook)) admissionregistrationv1.MutatingWebhook {
	h := admissionregistrationv1.MutatingWebhook{Name: name,
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptrTo(s.URL + "/mutate"), CABundle: s.caPEM},
		Rules:                   []admissionregistrationv1.RuleWithOperations{podRule("*")},
		SideEffects:             ptrTo(admissionregistrationv1.SideEffectClassNone),
		AdmissionReviewVersions: []string{"v1"}}
	for _, m := range mutate {
		m(&h)
	}
	c := &admissionregistrationv1.MutatingWebhookConfiguration{Webhooks: []admissionregistrationv1.MutatingWebhook{h}}
	SetDefaultsMutating(c)
	return c.Webhooks[0]
}

func vConfigs(hooks ...admissionregistrationv1.ValidatingWebhook) []*admissionregistrationv1.ValidatingWebhookConfiguration {
	c := vwc(hooks...)
	return []*admissionregistrationv1.ValidatingWebhookConfiguration{c}
}

func podCreate() *Attributes {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	return &Attributes{Operation: admissionv1.Create, Kind: podGVK, Resource: podGVR, Name: "web", Namespace: "default",
		Object: pod, Options: &metav1.CreateOptions{FieldManager: "kubectl"},
		UserInfo: authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev", "system:authenticated"}}}
}

func statusOf(t *testing.T, err error) metav1.Status {
	t.Helper()
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a StatusError", err, err)
	}
	return se.ErrStatus
}

func TestValidateSendsReviewAndDenies(t *testing.T) {
	srv := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: false, Warnings: []string{"careful"},
		Result: &metav1.Status{Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: "no pods today"}}))
	d := NewDispatcher(&fakeSource{validating: vConfigs(vHook("deny.example.com", srv))}, scheme.Scheme)
	a := podCreate()
	a.DryRun = true
	warnings, err := d.Validate(context.Background(), a)
	if err == nil {
		t.Fatal("the request was allowed")
	}
	st := statusOf(t, err)
	if got, want := st.Message, `admission webhook "deny.example.com" denied the request: no pods today`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if st.Code != http.StatusForbidden || st.Reason != metav1.StatusReasonForbidden || st.Status != metav1.StatusFailure {
		t.Errorf("status = %+v, want 403 Forbidden Failure", st)
	}
	if len(warnings) != 1 || warnings[0] != "careful" {
		t.Errorf("warnings = %q", warnings)
	}
	reviews := srv.reviews()
	if len(reviews) != 1 {
		t.Fatalf("webhook got %d reviews, want 1", len(reviews))
	}
	rv := reviews[0]
	r := rv.Request
	if rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		t.Errorf("review type = %s %s", rv.APIVersion, rv.Kind)
	}
	if r.UID == "" || r.Kind.Kind != "Pod" || r.Kind.Version != "v1" || r.Resource.Resource != "pods" || r.Name != "web" ||
		r.Namespace != "default" || r.Operation != admissionv1.Create || r.DryRun == nil || !*r.DryRun ||
		r.RequestKind == nil || r.RequestKind.Kind != "Pod" || r.RequestResource == nil || r.RequestResource.Resource != "pods" ||
		r.UserInfo.Username != "alice" || len(r.UserInfo.Groups) != 2 {
		t.Errorf("request = %+v", r)
	}
	var obj map[string]any
	if err := json.Unmarshal(r.Object.Raw, &obj); err != nil || obj["apiVersion"] != "v1" || obj["kind"] != "Pod" {
		t.Errorf("object = %s (%v), want apiVersion v1, kind Pod", r.Object.Raw, err)
	}
	var opts map[string]any
	if err := json.Unmarshal(r.Options.Raw, &opts); err != nil || opts["apiVersion"] != "meta.k8s.io/v1" || opts["kind"] != "CreateOptions" || opts["fieldManager"] != "kubectl" {
		t.Errorf("options = %s", r.Options.Raw)
	}
	if len(r.OldObject.Raw) != 0 {
		t.Errorf("oldObject on CREATE = %s", r.OldObject.Raw)
	}
}

func TestValidateDenialWording(t *testing.T) {
	tests := []struct {
		name     string
		result   *metav1.Status
		wantMsg  string
		wantCode int32
	}{
		{"no status", nil, `admission webhook "deny.example.com" denied the request without explanation`, 400},
		{"reason only", &metav1.Status{Reason: "Quota"}, `admission webhook "deny.example.com" denied the request: Quota`, 400},
		{"code below 400", &metav1.Status{Code: 200, Message: "nope"}, `admission webhook "deny.example.com" denied the request: nope`, 400},
		{"code kept", &metav1.Status{Code: 422, Message: "bad"}, `admission webhook "deny.example.com" denied the request: bad`, 422},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := toStatusErr("deny.example.com", tc.result).ErrStatus
			if st.Message != tc.wantMsg || st.Code != tc.wantCode || st.Status != metav1.StatusFailure {
				t.Errorf("status = %+v, want %q %d", st, tc.wantMsg, tc.wantCode)
			}
		})
	}
}

func TestValidateRunsAllAndReturnsFirstDenialInOrder(t *testing.T) {
	allow := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true, Warnings: []string{"from allow"}}))
	deny1 := newReviewServer(t, respond(admissionv1.AdmissionResponse{Result: &metav1.Status{Message: "first"}}))
	deny2 := newReviewServer(t, respond(admissionv1.AdmissionResponse{Result: &metav1.Status{Message: "second"}}))
	src := &fakeSource{validating: []*admissionregistrationv1.ValidatingWebhookConfiguration{
		{ObjectMeta: metav1.ObjectMeta{Name: "z"}, Webhooks: []admissionregistrationv1.ValidatingWebhook{vHook("second.example.com", deny2)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Webhooks: []admissionregistrationv1.ValidatingWebhook{vHook("allow.example.com", allow), vHook("first.example.com", deny1)}},
	}}
	warnings, err := NewDispatcher(src, scheme.Scheme).Validate(context.Background(), podCreate())
	if err == nil || !strings.Contains(err.Error(), `"first.example.com" denied the request: first`) {
		t.Errorf("err = %v, want the denial of first.example.com", err)
	}
	if len(warnings) != 1 || warnings[0] != "from allow" {
		t.Errorf("warnings = %q", warnings)
	}
	for _, s := range []*reviewServer{allow, deny1, deny2} {
		if n := len(s.reviews()); n != 1 {
			t.Errorf("a webhook was called %d times, want 1", n)
		}
	}
}

func TestValidateSkipsNonMatchingAndExempt(t *testing.T) {
	srv := newReviewServer(t, respond(admissionv1.AdmissionResponse{Result: &metav1.Status{Message: "no"}}))
	src := &fakeSource{validating: vConfigs(vHook("deny.example.com", srv, func(h *admissionregistrationv1.ValidatingWebhook) {
		h.Rules = []admissionregistrationv1.RuleWithOperations{rule(ops("*"), ss("*"), ss("*"), ss("*/*"), "")}
		h.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	}))}
	d := NewDispatcher(src, scheme.Scheme)
	cfg := &Attributes{Operation: admissionv1.Create, Kind: admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingWebhookConfiguration"),
		Resource: admissionregistrationv1.SchemeGroupVersion.WithResource("validatingwebhookconfigurations"), Name: "x",
		Object: &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}}}
	if _, err := d.Validate(context.Background(), cfg); err != nil {
		t.Errorf("webhook configuration request: %v", err)
	}
	other := podCreate()
	other.Object.(*corev1.Pod).Labels = map[string]string{"app": "db"}
	if _, err := d.Validate(context.Background(), other); err != nil {
		t.Errorf("pod outside the objectSelector: %v", err)
	}
	if n := len(srv.reviews()); n != 0 {
		t.Errorf("webhook was called %d times, want 0", n)
	}
	if _, err := d.Validate(context.Background(), podCreate()); err == nil {
		t.Errorf("matching pod was allowed")
	}
}

func TestFailurePolicy(t *testing.T) {
	broken := newReviewServer(t, func(*admissionv1.AdmissionReview) (int, any) { return http.StatusInternalServerError, "boom" })
	badUID := newReviewServer(t, func(*admissionv1.AdmissionReview) (int, any) {
		return http.StatusOK, admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Response: &admissionv1.AdmissionResponse{UID: "other", Allowed: true}}
	})
	wrongCA := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true}))
	_, otherCA := certFor(t)
	tests := []struct {
		name    string
		srv     *reviewServer
		ca      []byte
		wantMsg string
	}{
		{"500", broken, nil, `Internal error occurred: failed calling webhook "hook.example.com": failed to call webhook: an error on the server ("\"boom\"") has prevented the request from succeeding`},
		{"uid mismatch", badUID, nil, `Internal error occurred: failed calling webhook "hook.example.com": received invalid webhook response: expected response.uid=`},
		{"unknown CA", wrongCA, otherCA, `x509: certificate signed by unknown authority`},
	}
	for _, tc := range tests {
		for _, policy := range []admissionregistrationv1.FailurePolicyType{admissionregistrationv1.Fail, admissionregistrationv1.Ignore} {
			t.Run(tc.name+"/"+string(policy), func(t *testing.T) {
				h := vHook("hook.example.com", tc.srv, func(h *admissionregistrationv1.ValidatingWebhook) {
					h.FailurePolicy = &policy
					if tc.ca != nil {
						h.ClientConfig.CABundle = tc.ca
					}
				})
				_, err := NewDispatcher(&fakeSource{validating: vConfigs(h)}, scheme.Scheme).Validate(context.Background(), podCreate())
				if policy == admissionregistrationv1.Ignore {
					if err != nil {
						t.Errorf("Ignore: err = %v, want nil", err)
					}
					return
				}
				st := statusOf(t, err)
				if st.Code != 500 || st.Reason != metav1.StatusReasonInternalError || !strings.Contains(st.Message, tc.wantMsg) {
					t.Errorf("Fail: status = %d %s %q, want 500 InternalError containing %q", st.Code, st.Reason, st.Message, tc.wantMsg)
				}
			})
		}
	}
}

func TestServiceWebhookVerifiesServerName(t *testing.T) {
	good := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true, Warnings: []string{"via service"}}), "hook.webhooks.svc")
	wrong := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true}), "other.webhooks.svc")
	svcHook := func(name string, srv *reviewServer) admissionregistrationv1.ValidatingWebhook {
		return vHook(name, srv, func(h *admissionregistrationv1.ValidatingWebhook) {
			h.ClientConfig.URL = nil
			h.ClientConfig.Service = &admissionregistrationv1.ServiceReference{Namespace: "webhooks", Name: "hook", Path: ptrTo("/validate")}
		})
	}
	src := &fakeSource{validating: vConfigs(svcHook("svc.example.com", good)), services: map[string]string{"webhooks/hook": good.Listener.Addr().String()}}
	warnings, err := NewDispatcher(src, scheme.Scheme).Validate(context.Background(), podCreate())
	if err != nil || len(warnings) != 1 || warnings[0] != "via service" {
		t.Fatalf("service webhook: warnings %q, err %v", warnings, err)
	}
	src = &fakeSource{validating: vConfigs(svcHook("svc.example.com", wrong)), services: map[string]string{"webhooks/hook": wrong.Listener.Addr().String()}}
	_, err = NewDispatcher(src, scheme.Scheme).Validate(context.Background(), podCreate())
	if err == nil || !strings.Contains(err.Error(), `Post "https://hook.webhooks.svc:443/validate?timeout=10s"`) ||
		!strings.Contains(err.Error(), "not hook.webhooks.svc") {
		t.Errorf("certificate for another name: err = %v", err)
	}
	src.services = nil
	_, err = NewDispatcher(src, scheme.Scheme).Validate(context.Background(), podCreate())
	if err == nil || !strings.Contains(err.Error(), "has no ready endpoints") {
		t.Errorf("service without endpoints: err = %v", err)
	}
}

func TestTimeoutFollowsTimeoutSeconds(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := newReviewServer(t, func(req *admissionv1.AdmissionReview) (int, any) {
		arrived <- struct{}{}
		<-release
		return respond(admissionv1.AdmissionResponse{Allowed: true})(req)
	})
	defer close(release)
	h := vHook("slow.example.com", srv, func(h *admissionregistrationv1.ValidatingWebhook) { h.TimeoutSeconds = ptrTo(int32(3)) })
	d := NewDispatcher(&fakeSource{validating: vConfigs(h)}, scheme.Scheme)
	fc := clock.NewFake(time.Unix(0, 0))
	d.clock = fc
	errc := make(chan error, 1)
	go func() {
		_, err := d.Validate(context.Background(), podCreate())
		errc <- err
	}()
	<-arrived
	fc.Step(2 * time.Second)
	select {
	case err := <-errc:
		t.Fatalf("returned before timeoutSeconds: %v", err)
	default:
	}
	fc.Step(time.Second)
	err := <-errc
	want := `Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "` + srv.URL + `/validate?timeout=3s": context deadline exceeded`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestDryRunNeedsNoSideEffects(t *testing.T) {
	srv := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true}))
	for _, tc := range []struct {
		se      admissionregistrationv1.SideEffectClass
		wantErr string
	}{
		{admissionregistrationv1.SideEffectClassNone, ""},
		{admissionregistrationv1.SideEffectClassNoneOnDryRun, ""},
		{admissionregistrationv1.SideEffectClassSome, `admission webhook "se.example.com" does not support dry run`},
		{admissionregistrationv1.SideEffectClassUnknown, `admission webhook "se.example.com" does not support dry run`},
	} {
		h := mHook("se.example.com", srv, func(h *admissionregistrationv1.MutatingWebhook) { h.SideEffects = &tc.se })
		d := NewDispatcher(&fakeSource{mutating: []*admissionregistrationv1.MutatingWebhookConfiguration{{Webhooks: []admissionregistrationv1.MutatingWebhook{h}}}}, scheme.Scheme)
		a := podCreate()
		a.DryRun = true
		obj := a.Object
		_, err := d.Mutate(context.Background(), a, &obj)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.se, err)
			}
			continue
		}
		if err == nil || err.Error() != tc.wantErr || statusOf(t, err).Code != http.StatusBadRequest {
			t.Errorf("%s: err = %v, want 400 %q", tc.se, err, tc.wantErr)
		}
	}
}

// patchResponse answers with a JSONPatch.
func patchResponse(patch string) func(*admissionv1.AdmissionReview) (int, any) {
	pt := admissionv1.PatchTypeJSONPatch
	return respond(admissionv1.AdmissionResponse{Allowed: true, Patch: []byte(patch), PatchType: &pt})
}

func mConfigs(hooks ...admissionregistrationv1.MutatingWebhook) []*admissionregistrationv1.MutatingWebhookConfiguration {
	return []*admissionregistrationv1.MutatingWebhookConfiguration{{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Webhooks: hooks}}
}

func TestMutateAppliesPatchesInOrder(t *testing.T) {
	first := newReviewServer(t, patchResponse(`[{"op":"add","path":"/metadata/labels/injected","value":"yes"}]`))
	second := newReviewServer(t, func(req *admissionv1.AdmissionReview) (int, any) {
		// The second webhook sees the first one's patch; it answers as a v1beta1 webhook (no patchType needed).
		var pod corev1.Pod
		_ = json.Unmarshal(req.Request.Object.Raw, &pod)
		return http.StatusOK, map[string]any{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
			"response": map[string]any{"uid": req.Request.UID, "allowed": true,
				"patch": []byte(`[{"op":"add","path":"/metadata/annotations","value":{"seen":"` + pod.Labels["injected"] + `"}}]`)}}
	})
	src := &fakeSource{mutating: mConfigs(
		mHook("first.example.com", first),
		mHook("second.example.com", second, func(h *admissionregistrationv1.MutatingWebhook) {
			h.AdmissionReviewVersions = []string{"v1beta1", "v1"}
		}),
	)}
	a := podCreate()
	obj := a.Object
	if _, err := NewDispatcher(src, scheme.Scheme).Mutate(context.Background(), a, &obj); err != nil {
		t.Fatal(err)
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		t.Fatalf("object is %T, want *v1.Pod", obj)
	}
	if pod.Labels["injected"] != "yes" || pod.Annotations["seen"] != "yes" || pod.Spec.Containers[0].Image != "nginx" {
		t.Errorf("patched pod = labels %v annotations %v", pod.Labels, pod.Annotations)
	}
	if a.Object != obj {
		t.Errorf("Attributes.Object was not updated")
	}
	if got := second.reviews()[0].APIVersion; got != "admission.k8s.io/v1beta1" {
		t.Errorf("second webhook got %s, want v1beta1", got)
	}
}

func TestMutateUnstructuredAndDelete(t *testing.T) {
	srv := newReviewServer(t, patchResponse(`[{"op":"replace","path":"/spec/replicas","value":5}]`))
	deployHook := mHook("scale.example.com", srv, func(h *admissionregistrationv1.MutatingWebhook) {
		h.Rules = []admissionregistrationv1.RuleWithOperations{rule(ops("*"), ss("apps"), ss("v1"), ss("deployments"), "")}
	})
	d := NewDispatcher(&fakeSource{mutating: mConfigs(deployHook)}, scheme.Scheme)
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "namespace": "default"}, "spec": map[string]any{"replicas": int64(1)}}}
	a := &Attributes{Operation: admissionv1.Create, Kind: deployGVK, Resource: deployGVR, Name: "d", Namespace: "default", Object: u}
	var obj runtime.Object = u
	if _, err := d.Mutate(context.Background(), a, &obj); err != nil {
		t.Fatal(err)
	}
	got, ok := obj.(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("object is %T", obj)
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 5 {
		t.Errorf("replicas = %d, want 5", r)
	}
	del := &Attributes{Operation: admissionv1.Delete, Kind: deployGVK, Resource: deployGVR, Name: "d", Namespace: "default", OldObject: u}
	var none runtime.Object
	_, err := d.Mutate(context.Background(), del, &none)
	if want := `Internal error occurred: admission webhook "scale.example.com" attempted to modify the object, which is not supported for this operation`; err == nil || err.Error() != want {
		t.Errorf("DELETE with a patch: err = %v, want %q", err, want)
	}
}

func TestMutateReinvocation(t *testing.T) {
	for _, tc := range []struct {
		policy    admissionregistrationv1.ReinvocationPolicyType
		wantCalls int
		wantTrail string
	}{{admissionregistrationv1.NeverReinvocationPolicy, 1, "-a-b"}, {admissionregistrationv1.IfNeededReinvocationPolicy, 2, "-a-b-a"}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			// a appends "-a" to the "trail" annotation; b (later) appends "-b" once.
			appendTrail := func(mark string, once bool) func(*admissionv1.AdmissionReview) (int, any) {
				return func(req *admissionv1.AdmissionReview) (int, any) {
					var pod corev1.Pod
					_ = json.Unmarshal(req.Request.Object.Raw, &pod)
					trail := pod.Annotations["trail"]
					if once && strings.Contains(trail, mark) {
						return respond(admissionv1.AdmissionResponse{Allowed: true})(req)
					}
					if pod.Annotations == nil {
						return patchResponse(`[{"op":"add","path":"/metadata/annotations","value":{"trail":"` + mark + `"}}]`)(req)
					}
					return patchResponse(`[{"op":"replace","path":"/metadata/annotations/trail","value":"` + trail + mark + `"}]`)(req)
				}
			}
			a := newReviewServer(t, appendTrail("-a", false))
			b := newReviewServer(t, appendTrail("-b", true))
			src := &fakeSource{mutating: mConfigs(
				mHook("a.example.com", a, func(h *admissionregistrationv1.MutatingWebhook) { h.ReinvocationPolicy = &tc.policy }),
				mHook("b.example.com", b),
			)}
			attrs := podCreate()
			obj := attrs.Object
			if _, err := NewDispatcher(src, scheme.Scheme).Mutate(context.Background(), attrs, &obj); err != nil {
				t.Fatal(err)
			}
			if n := len(a.reviews()); n != tc.wantCalls {
				t.Errorf("a called %d times, want %d", n, tc.wantCalls)
			}
			if n := len(b.reviews()); n != 1 {
				t.Errorf("b called %d times, want 1", n)
			}
			if got := obj.(*corev1.Pod).Annotations["trail"]; got != tc.wantTrail {
				t.Errorf("trail = %q, want %q", got, tc.wantTrail)
			}
		})
	}
}

func TestReviewForUpdateSubresourceAndEquivalentMatch(t *testing.T) {
	srv := newReviewServer(t, func(req *admissionv1.AdmissionReview) (int, any) {
		// A v1beta1 webhook need not echo the uid.
		return http.StatusOK, map[string]any{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
			"response": map[string]any{"allowed": true}}
	})
	h := vHook("status.example.com", srv, func(h *admissionregistrationv1.ValidatingWebhook) {
		h.AdmissionReviewVersions = []string{"v1beta1"}
		h.Rules = []admissionregistrationv1.RuleWithOperations{rule(ops("UPDATE"), ss("apps"), ss("v1beta1"), ss("deployments/status"), "")}
		h.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "status", Expression: "request.subResource == 'status'"}}
	})
	d := NewDispatcher(&fakeSource{validating: vConfigs(h)}, scheme.Scheme)
	oldDeploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "default"}}
	newDeploy := oldDeploy.DeepCopy()
	newDeploy.Status.Replicas = 2
	// Kind is left empty: the dispatcher takes it from the scheme.
	a := &Attributes{Operation: admissionv1.Update, Resource: deployGVR, SubResource: "status", Name: "d", Namespace: "default",
		Object: newDeploy, OldObject: oldDeploy, Options: &metav1.UpdateOptions{}}
	if _, err := d.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reviews := srv.reviews()
	if len(reviews) != 1 {
		t.Fatalf("webhook got %d reviews, want 1", len(reviews))
	}
	r := reviews[0].Request
	if reviews[0].APIVersion != "admission.k8s.io/v1beta1" || r.Operation != admissionv1.Update || r.SubResource != "status" ||
		r.RequestSubResource != "status" || r.Resource != (metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}) ||
		r.RequestResource.Version != "v1" || r.Kind != (metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}) {
		t.Errorf("request = %+v", r)
	}
	var oldObj, opts map[string]any
	if json.Unmarshal(r.OldObject.Raw, &oldObj) != nil || oldObj["kind"] != "Deployment" || json.Unmarshal(r.Options.Raw, &opts) != nil || opts["kind"] != "UpdateOptions" {
		t.Errorf("oldObject %s, options %s", r.OldObject.Raw, r.Options.Raw)
	}
}
