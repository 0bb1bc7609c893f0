package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

const testIssuer = "https://kubernetes.default.svc.cluster.local"

var apiAuds = []string{testIssuer}

type fakeGetter struct {
	sas     map[string]*corev1.ServiceAccount
	pods    map[string]*corev1.Pod
	secrets map[string]*corev1.Secret
	nodes   map[string]*corev1.Node
}

func notFound(res, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: res}, name)
}

func (g *fakeGetter) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if o, ok := g.sas[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("serviceaccounts", name)
}

func (g *fakeGetter) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if o, ok := g.pods[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("pods", name)
}

func (g *fakeGetter) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if o, ok := g.secrets[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("secrets", name)
}

func (g *fakeGetter) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	if o, ok := g.nodes[name]; ok {
		return o, nil
	}
	return nil, notFound("nodes", name)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func meta(ns, name, uid string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestNewClaims(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "sa", "sa-uid")}
	pod := &corev1.Pod{ObjectMeta: meta("ns", "p", "pod-uid")}
	node := &corev1.Node{ObjectMeta: meta("", "n1", "node-uid")}
	secret := &corev1.Secret{ObjectMeta: meta("ns", "s", "secret-uid")}
	cases := []struct {
		name      string
		b         Bound
		warnAfter int64
		want      string // the kubernetes.io claim
	}{
		{"unbound", Bound{}, 0, `{"namespace":"ns","serviceaccount":{"name":"sa","uid":"sa-uid"}}`},
		{"pod on a node, extended", Bound{Pod: pod, Node: node}, 3607,
			`{"namespace":"ns","node":{"name":"n1","uid":"node-uid"},"pod":{"name":"p","uid":"pod-uid"},"serviceaccount":{"name":"sa","uid":"sa-uid"},"warnafter":` + itoa(t0.Unix()+3607) + `}`},
		{"secret", Bound{Secret: secret}, 0, `{"namespace":"ns","secret":{"name":"s","uid":"secret-uid"},"serviceaccount":{"name":"sa","uid":"sa-uid"}}`},
		{"node", Bound{Node: node}, 0, `{"namespace":"ns","node":{"name":"n1","uid":"node-uid"},"serviceaccount":{"name":"sa","uid":"sa-uid"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClaims(testIssuer, sa, tc.b, []string{"a", "b"}, t0, 3600, tc.warnAfter)
			data, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"iss": `"` + testIssuer + `"`, "sub": `"system:serviceaccount:ns:sa"`, "aud": `["a","b"]`,
				"iat": itoa(t0.Unix()), "nbf": itoa(t0.Unix()), "exp": itoa(t0.Unix() + 3600), "kubernetes.io": tc.want,
			}
			for k, v := range want {
				if string(m[k]) != v {
					t.Errorf("%s = %s, want %s", k, m[k], v)
				}
			}
			var jti string
			_ = json.Unmarshal(m["jti"], &jti)
			if len(jti) != 36 || strings.Count(jti, "-") != 4 {
				t.Errorf("jti = %q, want a UUID", jti)
			}
			if len(m) != 8 {
				t.Errorf("claims %s: want exactly aud, exp, iat, iss, jti, kubernetes.io, nbf, sub", data)
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestSignedTokenHeader(t *testing.T) {
	key := newKey(t)
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(&Claims{Issuer: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := KeyID(&key.PublicKey)
	if want := `{"alg":"ES256","kid":"` + kid + `"}`; string(h) != want {
		t.Fatalf("header %s, want %s", h, want)
	}
	if len(kid) != 43 {
		t.Fatalf("kid %q: want 43 base64url characters (a SHA-256)", kid)
	}
}

func TestAuthenticator(t *testing.T) {
	key := newKey(t)
	signer, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := NewSigner(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "sa", "sa-uid")}
	pod := &corev1.Pod{ObjectMeta: meta("ns", "p", "pod-uid")}
	node := &corev1.Node{ObjectMeta: meta("", "n1", "node-uid")}
	secret := &corev1.Secret{ObjectMeta: meta("ns", "s", "secret-uid")}
	newGetter := func() *fakeGetter {
		return &fakeGetter{
			sas:     map[string]*corev1.ServiceAccount{"ns/sa": sa.DeepCopy()},
			pods:    map[string]*corev1.Pod{"ns/p": pod.DeepCopy()},
			secrets: map[string]*corev1.Secret{"ns/s": secret.DeepCopy()},
			nodes:   map[string]*corev1.Node{"n1": node.DeepCopy()},
		}
	}
	deletedAt := func(d time.Duration) *metav1.Time { tm := metav1.NewTime(t0.Add(-d)); return &tm }
	type tc struct {
		name    string
		signer  *Signer
		claims  func() *Claims
		getter  func(g *fakeGetter)
		ctxAuds []string
		now     time.Time
		ok      bool
		errHas  string // "" with !ok: not ours, no error
		extra   map[string][]string
	}
	base := func(b Bound, auds ...string) func() *Claims {
		if len(auds) == 0 {
			auds = apiAuds
		}
		return func() *Claims { return NewClaims(testIssuer, sa, b, auds, t0, 3600, 0) }
	}
	cases := []tc{
		{name: "valid", claims: base(Bound{}), ok: true},
		{name: "valid bound to a pod on a node", claims: base(Bound{Pod: pod, Node: node}), ok: true, extra: map[string][]string{
			PodNameKey: {"p"}, PodUIDKey: {"pod-uid"}, NodeNameKey: {"n1"}, NodeUIDKey: {"node-uid"}}},
		{name: "pod on a node that was missing at issue", claims: base(Bound{Pod: pod, Node: &corev1.Node{ObjectMeta: meta("", "n2", "")}}), ok: true,
			extra: map[string][]string{PodNameKey: {"p"}, PodUIDKey: {"pod-uid"}, NodeNameKey: {"n2"}}},
		{name: "wrong key", signer: otherSigner, claims: base(Bound{}), errHas: "error in cryptographic primitive"},
		{name: "wrong issuer is not ours", claims: func() *Claims { c := base(Bound{})(); c.Issuer = "https://other"; return c }},
		{name: "expired", claims: base(Bound{}), now: t0.Add(time.Hour + 61*time.Second), errHas: "service account token has expired"},
		{name: "expired within leeway", claims: base(Bound{}), now: t0.Add(time.Hour + 59*time.Second), ok: true},
		{name: "not valid yet", claims: base(Bound{}), now: t0.Add(-2 * time.Minute), errHas: "service account token is not valid yet"},
		{name: "audience not accepted", claims: base(Bound{}, "other"), errHas: `token audiences ["other"] is invalid for the target audiences ["` + testIssuer + `"]`},
		{name: "audience asked by a review", claims: base(Bound{}, "other"), ctxAuds: []string{"other"}, ok: true},
		{name: "service account gone", claims: base(Bound{}), getter: func(g *fakeGetter) { delete(g.sas, "ns/sa") }, errHas: `serviceaccounts "sa" not found`},
		{name: "service account recreated", claims: base(Bound{}), getter: func(g *fakeGetter) { g.sas["ns/sa"].UID = "new" },
			errHas: "service account UID (new) does not match claim (sa-uid)"},
		{name: "service account deleted", claims: base(Bound{}), getter: func(g *fakeGetter) { g.sas["ns/sa"].DeletionTimestamp = deletedAt(2 * time.Minute) },
			errHas: "service account ns/sa has been deleted"},
		{name: "pod deleted", claims: base(Bound{Pod: pod}), getter: func(g *fakeGetter) { delete(g.pods, "ns/p") }, errHas: "service account token has been invalidated"},
		{name: "pod recreated", claims: base(Bound{Pod: pod}), getter: func(g *fakeGetter) { g.pods["ns/p"].UID = "new" },
			errHas: "pod UID (new) does not match service account pod ref claim (pod-uid)"},
		{name: "pod terminating past its grace", claims: base(Bound{Pod: pod}), getter: func(g *fakeGetter) { g.pods["ns/p"].DeletionTimestamp = deletedAt(2 * time.Minute) },
			errHas: "service account token has been invalidated"},
		{name: "pod terminating just now", claims: base(Bound{Pod: pod}), getter: func(g *fakeGetter) { g.pods["ns/p"].DeletionTimestamp = deletedAt(10 * time.Second) },
			ok: true, extra: map[string][]string{PodNameKey: {"p"}, PodUIDKey: {"pod-uid"}}},
		{name: "secret recreated", claims: base(Bound{Secret: secret}), getter: func(g *fakeGetter) { g.secrets["ns/s"].UID = "new" },
			errHas: "secret UID (new) does not match service account secret ref claim (secret-uid)"},
		{name: "node gone", claims: base(Bound{Node: node}), getter: func(g *fakeGetter) { delete(g.nodes, "n1") }, errHas: "service account token has been invalidated"},
		{name: "node recreated", claims: base(Bound{Node: node}), getter: func(g *fakeGetter) { g.nodes["n1"].UID = "new" },
			errHas: "node UID (new) does not match service account node ref claim (node-uid)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGetter()
			if c.getter != nil {
				c.getter(g)
			}
			now := c.now
			if now.IsZero() {
				now = t0
			}
			a := NewAuthenticator(testIssuer, &key.PublicKey, apiAuds, g, clock.NewFake(now))
			s := signer
			if c.signer != nil {
				s = c.signer
			}
			claims := c.claims()
			tok, err := s.Sign(claims)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			if c.ctxAuds != nil {
				r = r.WithContext(WithAudiences(r.Context(), c.ctxAuds))
			}
			u, ok, err := a.AuthenticateRequest(r)
			if ok != c.ok {
				t.Fatalf("ok = %v (err %v), want %v", ok, err, c.ok)
			}
			if !ok {
				if c.errHas == "" && err != nil || c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)) {
					t.Fatalf("err = %v, want containing %q", err, c.errHas)
				}
				if r.Header.Get("Authorization") == "" {
					t.Fatal("Authorization header removed from a request that did not authenticate")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "system:serviceaccount:ns:sa" || u.UID != "sa-uid" ||
				!reflect.DeepEqual(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:ns"}) {
				t.Fatalf("user %+v", u)
			}
			want := map[string][]string{CredentialIDKey: {"JTI=" + claims.ID}}
			for k, v := range c.extra {
				want[k] = v
			}
			if !reflect.DeepEqual(u.Extra, want) {
				t.Fatalf("extra %v, want %v", u.Extra, want)
			}
			if r.Header.Get("Authorization") != "" {
				t.Fatal("Authorization header kept after authentication")
			}
		})
	}
}

func TestAuthenticatorIgnoresOtherTokens(t *testing.T) {
	a := NewAuthenticator(testIssuer, &newKey(t).PublicKey, apiAuds, &fakeGetter{}, nil)
	for _, h := range []string{"", "Basic abc", "Bearer 0123456789abcdef", "Bearer a.b.c", "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256"}`)) + ".e30.AA"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		if u, ok, err := a.AuthenticateRequest(r); ok || err != nil || u != nil {
			t.Errorf("%q: got %v %v %v, want not ours without an error", h, u, ok, err)
		}
	}
}

func TestOIDCHandler(t *testing.T) {
	key := newKey(t)
	s, _ := NewSigner(key)
	h, err := OIDCHandler(testIssuer, "", "10.0.0.1:6443", s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OIDCHandler("http://insecure", "", "x", s); err == nil {
		t.Fatal("http issuer accepted")
	}
	get := func(path string) (*httptest.ResponseRecorder, map[string]any) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return w, m
	}
	w, cfg := get(OpenIDConfigPath)
	if cfg["issuer"] != testIssuer || cfg["jwks_uri"] != "https://10.0.0.1:6443/openid/v1/jwks" ||
		w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "public, max-age=3600" {
		t.Fatalf("configuration %v, headers %v", cfg, w.Header())
	}
	w, ks := get(JWKSPath)
	keys, _ := ks["keys"].([]any)
	if len(keys) != 1 || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks %v", ks)
	}
	k := keys[0].(map[string]any)
	if k["kid"] != s.KeyID() || k["alg"] != "ES256" || k["crv"] != "P-256" || k["use"] != "sig" {
		t.Fatalf("key %v", k)
	}
	x, _ := base64.RawURLEncoding.DecodeString(k["x"].(string))
	if key.X.Cmp(new(big.Int).SetBytes(x)) != 0 {
		t.Fatal("x does not match the key")
	}
}

// BenchmarkSignAndAuthenticate reports the cost of issuing a pod-bound token and of authenticating one request.
func BenchmarkSignAndAuthenticate(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := NewSigner(key)
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "sa", "sa-uid")}
	pod := &corev1.Pod{ObjectMeta: meta("ns", "p", "pod-uid")}
	g := &fakeGetter{sas: map[string]*corev1.ServiceAccount{"ns/sa": sa}, pods: map[string]*corev1.Pod{"ns/p": pod}}
	a := NewAuthenticator(testIssuer, &key.PublicKey, apiAuds, g, nil)
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sign(NewClaims(testIssuer, sa, Bound{Pod: pod}, apiAuds, time.Now(), 3600, 0)); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok, _ := s.Sign(NewClaims(testIssuer, sa, Bound{Pod: pod}, apiAuds, time.Now(), 3600, 0))
	b.Run("authenticate", func(b *testing.B) {
		for b.Loop() {
			if _, _, ok, err := a.AuthenticateToken(context.Background(), tok); !ok {
				b.Fatal(err)
			}
		}
	})
}
