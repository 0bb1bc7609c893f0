package apiserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rbacServer is an API server with RBAC and service-account tokens behind skiff's filter chain: bearer tokens
// "admin" (system:masters) and "bob", service-account tokens, anonymous access to the public paths.
type rbacServer struct {
	*testServer
	authed *httptest.Server
}

func newRBACServer(t *testing.T) *rbacServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := serviceaccount.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	var saAuthn auth.Authenticator
	ts := newTestServerWith(t, func(api *APIServer) error {
		saAuthn = api.EnableServiceAccountTokens(signer, DefaultAPIAudiences[0])
		api.EnableRBAC()
		return nil
	})
	tokens := auth.AuthenticatorFunc(func(r *http.Request) (*auth.User, bool, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer admin":
			return &auth.User{Name: "admin", Groups: []string{auth.SystemPrivileged}}, true, nil
		case "Bearer bob":
			return &auth.User{Name: "bob", Groups: []string{"devs"}}, true, nil
		}
		return nil, false, nil
	})
	api := ts.api
	h := auth.Middleware(auth.Union(tokens, saAuthn), auth.DefaultAnonymousPaths,
		api.WithImpersonationAuthorization(auth.Impersonation(api.WithAuthorization(api.Handler()))))
	authed := httptest.NewServer(h)
	t.Cleanup(authed.Close)
	return &rbacServer{testServer: ts, authed: authed}
}

// as sends a request with bearer token tok ("" for none) and extra headers (name, value pairs).
func (rs *rbacServer) as(tok, method, path, body string, headers ...string) result {
	rs.t.Helper()
	req, err := http.NewRequest(method, rs.authed.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		rs.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, data}
}

// eventually polls f until it returns "" or the deadline passes, then fails with f's last answer.
func eventually(t *testing.T, f func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantForbidden(t *testing.T, r result, msg string) {
	t.Helper()
	st := r.status(t)
	if r.code != http.StatusForbidden || st.Reason != metav1.StatusReasonForbidden || st.Message != msg {
		t.Fatalf("got %d %s %q\nwant 403 Forbidden %q", r.code, st.Reason, st.Message, msg)
	}
}

func TestRBACEnforcement(t *testing.T) {
	rs := newRBACServer(t)
	const ns = "/api/v1/namespaces/default"

	// The bootstrap policy is in place: the public paths for anyone, discovery for the authenticated.
	eventually(t, func() string {
		if r := rs.as("", "GET", "/healthz", ""); r.code != 200 {
			return "anonymous /healthz: " + string(r.body)
		}
		if r := rs.as("bob", "GET", "/api", ""); r.code != 200 {
			return "bob /api: " + string(r.body)
		}
		return ""
	})
	if r := rs.as("", "GET", "/api", ""); r.code != http.StatusUnauthorized {
		t.Fatalf("anonymous /api: %d, want 401", r.code)
	}
	// system:masters may do anything without a binding.
	if r := rs.as("admin", "GET", "/api/v1/nodes", ""); r.code != 200 {
		t.Fatalf("admin: %d %s", r.code, r.body)
	}

	// Denials carry upstream's exact messages.
	wantForbidden(t, rs.as("bob", "GET", ns+"/pods", ""), `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"`)
	wantForbidden(t, rs.as("bob", "GET", ns+"/pods/p/log", ""), `pods "p" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "default"`)
	wantForbidden(t, rs.as("bob", "GET", "/api/v1/nodes", ""), `nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope`)
	wantForbidden(t, rs.as("bob", "GET", "/apis/apps/v1/namespaces/default/deployments/d", ""),
		`deployments.apps "d" is forbidden: User "bob" cannot get resource "deployments" in API group "apps" in the namespace "default"`)
	wantForbidden(t, rs.as("bob", "GET", "/api/v1/namespaces/default", ""),
		`namespaces "default" is forbidden: User "bob" cannot get resource "namespaces" in API group "" in the namespace "default"`)
	wantForbidden(t, rs.as("bob", "GET", "/foo", ""), `forbidden: User "bob" cannot get path "/foo"`)

	// A service account's token: 403 until a RoleBinding grants it.
	if r := rs.create(ns+"/serviceaccounts", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}`); r.code != 201 {
		t.Fatalf("create sa: %d %s", r.code, r.body)
	}
	r := rs.create(ns+"/serviceaccounts/default/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`)
	var tr authenticationv1.TokenRequest
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.Status.Token == "" {
		t.Fatalf("token: %d %s", r.code, r.body)
	}
	sa := tr.Status.Token
	wantForbidden(t, rs.as(sa, "GET", ns+"/pods", ""), `pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"`)

	if r := rs.create("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",
		"metadata":{"name":"pod-reader"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]}]}`); r.code != 201 {
		t.Fatalf("create role: %d %s", r.code, r.body)
	}
	if r := rs.create("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
		"metadata":{"name":"read-pods"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},
		"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"},{"kind":"ServiceAccount","name":"default"}]}`); r.code != 201 {
		t.Fatalf("create rolebinding: %d %s", r.code, r.body)
	}
	eventually(t, func() string {
		for _, tok := range []string{"bob", sa} {
			if r := rs.as(tok, "GET", ns+"/pods", ""); r.code != 200 {
				return "after the binding: " + string(r.body)
			}
		}
		return ""
	})
	// Only in that namespace, and only reading.
	wantForbidden(t, rs.as("bob", "GET", "/api/v1/namespaces/kube-system/pods", ""), `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "kube-system"`)
	wantForbidden(t, rs.as("bob", "DELETE", ns+"/pods/p", ""), `pods "p" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "default"`)

	// Impersonation needs the impersonate verb; the impersonated request is then authorized as its user.
	wantForbidden(t, rs.as("bob", "GET", ns+"/pods", "", auth.ImpersonateUserHeader, "alice"),
		`users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope`)
	wantForbidden(t, rs.as("bob", "GET", ns+"/pods", "", auth.ImpersonateUserHeader, "system:serviceaccount:default:x"),
		`serviceaccounts "x" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"`)
	if r := rs.create("/apis/rbac.authorization.k8s.io/v1/clusterroles", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
		"metadata":{"name":"impersonator"},"rules":[{"apiGroups":[""],"resources":["users"],"verbs":["impersonate"],"resourceNames":["alice"]}]}`); r.code != 201 {
		t.Fatalf("create clusterrole: %d %s", r.code, r.body)
	}
	if r := rs.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
		"metadata":{"name":"impersonator"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"impersonator"},
		"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}]}`); r.code != 201 {
		t.Fatalf("create clusterrolebinding: %d %s", r.code, r.body)
	}
	eventually(t, func() string {
		r := rs.as("bob", "GET", ns+"/pods", "", auth.ImpersonateUserHeader, "alice")
		if r.code != http.StatusForbidden || !strings.Contains(string(r.body), `User \"alice\" cannot list resource \"pods\"`) {
			return "impersonating alice: " + string(r.body)
		}
		return ""
	})
	wantForbidden(t, rs.as("bob", "GET", ns+"/pods", "", auth.ImpersonateUserHeader, "alice", auth.ImpersonateGroupHeader, "system:masters"),
		`groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope`)
}

func TestRBACEscalationPrevention(t *testing.T) {
	rs := newRBACServer(t)
	const rbacNS = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
	// bob may manage Roles and RoleBindings in default, and read pods there.
	if r := rs.create(rbacNS+"/roles", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"manager"},"rules":[
		{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles","rolebindings"],"verbs":["create","update","get"]},
		{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}]}`); r.code != 201 {
		t.Fatalf("create role: %d %s", r.code, r.body)
	}
	if r := rs.create(rbacNS+"/rolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"bob-manager"},
		"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"manager"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"}]}`); r.code != 201 {
		t.Fatalf("create rolebinding: %d %s", r.code, r.body)
	}
	role := func(name, rules string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"` + name + `"},"rules":` + rules + `}`
	}
	eventually(t, func() string {
		if r := rs.as("bob", "POST", rbacNS+"/roles", role("subset", `[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]`)); r.code != 201 {
			return "a role within bob's permissions: " + string(r.body)
		}
		return ""
	})
	wantForbidden(t, rs.as("bob", "POST", rbacNS+"/roles", role("more", `[{"apiGroups":[""],"resources":["secrets","pods"],"verbs":["get","delete"]}]`)),
		`roles.rbac.authorization.k8s.io "more" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}`)
	binding := func(name, kind, role string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"` + name + `"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"` +
			kind + `","name":"` + role + `"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"carol"}]}`
	}
	if r := rs.as("bob", "POST", rbacNS+"/rolebindings", binding("ok", "Role", "subset")); r.code != 201 {
		t.Fatalf("binding a role bob holds: %d %s", r.code, r.body)
	}
	wantForbidden(t, rs.as("bob", "POST", rbacNS+"/rolebindings", binding("admin", "ClusterRole", "cluster-admin")),
		`rolebindings.rbac.authorization.k8s.io "admin" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:["*"], Resources:["*"], Verbs:["*"]}
{NonResourceURLs:["*"], Verbs:["*"]}`)
	// The bind verb on the role lifts the check, as escalate does for roles.
	if r := rs.create(rbacNS+"/roles", role("binder", `[{"apiGroups":["rbac.authorization.k8s.io"],"resources":["clusterroles"],"verbs":["bind"],"resourceNames":["cluster-admin"]},
		{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles"],"verbs":["escalate"]}]`)); r.code != 201 {
		t.Fatalf("create role: %d %s", r.code, r.body)
	}
	if r := rs.create(rbacNS+"/rolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"bob-binder"},
		"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"binder"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"}]}`); r.code != 201 {
		t.Fatalf("create rolebinding: %d %s", r.code, r.body)
	}
	eventually(t, func() string {
		if r := rs.as("bob", "POST", rbacNS+"/rolebindings", binding("admin", "ClusterRole", "cluster-admin")); r.code != 201 {
			return "with bind: " + string(r.body)
		}
		return ""
	})
	if r := rs.as("bob", "POST", rbacNS+"/roles", role("more", `[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]`)); r.code != 201 {
		t.Fatalf("with escalate: %d %s", r.code, r.body)
	}
}
