package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestMountServiceAccountToken(t *testing.T) {
	mount := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: serviceAccountMountPath}
	c := func(name string, mounts ...corev1.VolumeMount) corev1.Container {
		return corev1.Container{Name: name, VolumeMounts: mounts}
	}
	own := corev1.VolumeMount{Name: "mine", MountPath: serviceAccountMountPath}
	cases := []struct {
		name       string
		sa         *bool
		pod        *bool
		containers []corev1.Container
		init       []corev1.Container
		volumes    []corev1.Volume
		wantMounts [][]corev1.VolumeMount // containers then init containers
		wantVolume string                 // name of the added volume, "" for none
	}{
		{name: "default", containers: []corev1.Container{c("a"), c("b")}, init: []corev1.Container{c("i")},
			wantMounts: [][]corev1.VolumeMount{{mount}, {mount}, {mount}}, wantVolume: "kube-api-access-abcde"},
		{name: "off on the account", sa: ptr.To(false), containers: []corev1.Container{c("a")}, wantMounts: [][]corev1.VolumeMount{nil}},
		{name: "off on the pod", pod: ptr.To(false), containers: []corev1.Container{c("a")}, wantMounts: [][]corev1.VolumeMount{nil}},
		{name: "pod on beats account off", sa: ptr.To(false), pod: ptr.To(true), containers: []corev1.Container{c("a")},
			wantMounts: [][]corev1.VolumeMount{{mount}}, wantVolume: "kube-api-access-abcde"},
		{name: "own mount at the path kept", containers: []corev1.Container{c("a", own), c("b")},
			volumes:    []corev1.Volume{{Name: "mine"}},
			wantMounts: [][]corev1.VolumeMount{{own}, {mount}}, wantVolume: "kube-api-access-abcde"},
		{name: "every container has its own mount", containers: []corev1.Container{c("a", own)}, volumes: []corev1.Volume{{Name: "mine"}},
			wantMounts: [][]corev1.VolumeMount{{own}}},
		{name: "existing kube-api-access volume reused", containers: []corev1.Container{c("a")}, volumes: []corev1.Volume{{Name: "kube-api-access-zzzzz"}},
			wantMounts: [][]corev1.VolumeMount{{{Name: "kube-api-access-zzzzz", ReadOnly: true, MountPath: serviceAccountMountPath}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sa := &corev1.ServiceAccount{AutomountServiceAccountToken: tc.sa}
			p := &corev1.Pod{Spec: corev1.PodSpec{AutomountServiceAccountToken: tc.pod, Containers: tc.containers, InitContainers: tc.init, Volumes: tc.volumes}}
			mountServiceAccountToken(sa, p, "abcde")
			var got [][]corev1.VolumeMount
			for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
				for _, c := range cs {
					got = append(got, c.VolumeMounts)
				}
			}
			if !reflect.DeepEqual(got, tc.wantMounts) {
				t.Errorf("mounts %v, want %v", got, tc.wantMounts)
			}
			added := p.Spec.Volumes[len(tc.volumes):]
			if tc.wantVolume == "" {
				if len(added) != 0 {
					t.Fatalf("volumes added: %v", added)
				}
				return
			}
			if len(added) != 1 || added[0].Name != tc.wantVolume {
				t.Fatalf("added volumes %v, want one named %s", added, tc.wantVolume)
			}
			got0, _ := json.Marshal(added[0].Projected)
			want := `{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},` +
				`{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},` +
				`{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}`
			if string(got0) != want {
				t.Errorf("projected %s\nwant %s", got0, want)
			}
		})
	}
}

// newSATestServer is newTestServer with service-account tokens enabled.
func newSATestServer(t *testing.T) (*testServer, *serviceaccount.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := serviceaccount.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServerWith(t, func(api *APIServer) error {
		api.EnableServiceAccountTokens(signer, DefaultAPIAudiences[0])
		return nil
	})
	return ts, signer
}

func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", tok)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServiceAccountTokenRequestAndAdmission(t *testing.T) {
	ts, _ := newSATestServer(t)
	const ns = "/api/v1/namespaces/default"
	podJSON := func(name, sa string) string {
		s := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{`
		if sa != "" {
			s += `"serviceAccountName":"` + sa + `",`
		}
		return s + `"containers":[{"name":"c","image":"i"}]}}`
	}
	// No serviceaccount controller runs here: "default" does not exist.
	if r := ts.create(ns+"/pods", podJSON("nosa", "")); r.code != http.StatusForbidden ||
		r.status(t).Message != `pods "nosa" is forbidden: error looking up service account default/default: serviceaccount "default" not found` {
		t.Fatalf("pod without its service account: %d %s", r.code, r.body)
	}
	if r := ts.create(ns+"/serviceaccounts", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}}`); r.code != 201 {
		t.Fatalf("create sa: %d %s", r.code, r.body)
	}
	var sa corev1.ServiceAccount
	if err := json.Unmarshal(ts.do("GET", ns+"/serviceaccounts/sa", "", "", nil).body, &sa); err != nil {
		t.Fatal(err)
	}
	r := ts.create(ns+"/pods", podJSON("p", "sa"))
	if r.code != 201 {
		t.Fatalf("create pod: %d %s", r.code, r.body)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(r.body, &pod); err != nil {
		t.Fatal(err)
	}
	if v := pod.Spec.Volumes; len(v) != 1 || !strings.HasPrefix(v[0].Name, "kube-api-access-") || len(v[0].Name) != len("kube-api-access-")+5 {
		t.Fatalf("pod volumes %v, want one kube-api-access-XXXXX", v)
	}

	tokenReq := func(spec string) result {
		return ts.create(ns+"/serviceaccounts/sa/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":`+spec+`}`)
	}
	// Defaults: an hour, the API audiences.
	r = tokenReq(`{}`)
	if r.code != 201 {
		t.Fatalf("token: %d %s", r.code, r.body)
	}
	var tr authenticationv1.TokenRequest
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatal(err)
	}
	if *tr.Spec.ExpirationSeconds != 3600 || !reflect.DeepEqual(tr.Spec.Audiences, DefaultAPIAudiences) || tr.Name != "sa" || tr.UID != sa.UID ||
		tr.Status.ExpirationTimestamp.Sub(tr.CreationTimestamp.Time) != time.Hour {
		t.Fatalf("token request %+v", tr)
	}
	c := tokenClaims(t, tr.Status.Token)
	if c["sub"] != "system:serviceaccount:default:sa" || c["iss"] != DefaultAPIAudiences[0] || c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Fatalf("claims %v", c)
	}
	// The token authenticates in a TokenReview.
	r = ts.create("/apis/authentication.k8s.io/v1/tokenreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+tr.Status.Token+`"}}`)
	var rev authenticationv1.TokenReview
	if err := json.Unmarshal(r.body, &rev); err != nil || !rev.Status.Authenticated || rev.Status.User.Username != "system:serviceaccount:default:sa" {
		t.Fatalf("token review: %d %s", r.code, r.body)
	}

	// A pod-bound token with the admission plugin's expiry is extended, with warnafter, as upstream.
	r = tokenReq(`{"expirationSeconds":3607,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p","uid":"` + string(pod.UID) + `"}}`)
	if r.code != 201 {
		t.Fatalf("bound token: %d %s", r.code, r.body)
	}
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatal(err)
	}
	c = tokenClaims(t, tr.Status.Token)
	k := c["kubernetes.io"].(map[string]any)
	if c["exp"].(float64)-c["iat"].(float64) != serviceaccount.ExpirationExtensionSeconds || k["warnafter"].(float64)-c["iat"].(float64) != 3607 ||
		k["pod"].(map[string]any)["uid"] != string(pod.UID) || tr.Status.ExpirationTimestamp.Sub(tr.CreationTimestamp.Time) != 3607*time.Second {
		t.Fatalf("bound token claims %v, status %+v", c, tr.Status.ExpirationTimestamp)
	}

	for _, tc := range []struct {
		name, spec, path string
		code             int
		msg              string
	}{
		{"too short", `{"expirationSeconds":599}`, "", 422,
			`TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes`},
		{"too long", `{"expirationSeconds":4294967297}`, "", 422,
			`TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds`},
		{"unknown account", `{}`, ns + "/serviceaccounts/ghost/token", 404, `serviceaccounts "ghost" not found`},
		{"missing pod", `{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"ghost"}}`, "", 404, `pods "ghost" not found`},
		{"pod uid", `{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p","uid":"other"}}`, "", 409,
			`Operation cannot be fulfilled on Pod "p": the UID in the bound object reference (other) does not match the UID in record. The object might have been deleted and then recreated`},
		{"other kind", `{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"x"}}`, "", 400, `cannot bind token to object of type /v1, Kind=ConfigMap`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = ns + "/serviceaccounts/sa/token"
			}
			r := ts.create(path, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":`+tc.spec+`}`)
			if st := r.status(t); r.code != tc.code || st.Message != tc.msg {
				t.Fatalf("%d %q, want %d %q", r.code, st.Message, tc.code, tc.msg)
			}
		})
	}
	// A pod of another service account cannot be bound.
	if r := ts.create(ns+"/serviceaccounts", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"other"}}`); r.code != 201 {
		t.Fatalf("create sa: %d %s", r.code, r.body)
	}
	r = ts.create(ns+"/serviceaccounts/other/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p"}}}`)
	if st := r.status(t); r.code != 400 || st.Message != `cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.` {
		t.Fatalf("%d %q", r.code, st.Message)
	}
}
