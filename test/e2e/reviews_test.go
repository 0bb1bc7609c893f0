package e2e

// The review APIs (authentication.k8s.io/v1 TokenReview and SelfSubjectReview, authorization.k8s.io/v1 access and
// rules reviews) and impersonation, through `kubectl auth` against `skiff server --disable-agent`. No kubelet runs,
// so this test needs no machine lock.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

func TestAuthReviews(t *testing.T) {
	// AlwaysAllow: what the reviews answer without RBAC (rbac_authz_test.go checks them under RBAC).
	c := startServer(t, "--authorization-mode=AlwaysAllow")

	t.Run("discovery", func(t *testing.T) {
		out := c.mustKubectl(t, "api-resources", "--api-group=authorization.k8s.io", "--no-headers", "-o", "name")
		if got, want := strings.Fields(out), []string{"localsubjectaccessreviews.authorization.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io",
			"selfsubjectrulesreviews.authorization.k8s.io", "subjectaccessreviews.authorization.k8s.io"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("authorization.k8s.io resources %v, want %v", got, want)
		}
		out = c.mustKubectl(t, "api-resources", "--api-group=authentication.k8s.io", "--no-headers", "-o", "name")
		if got := strings.Join(strings.Fields(out), " "); got != "selfsubjectreviews.authentication.k8s.io tokenreviews.authentication.k8s.io" {
			t.Errorf("authentication.k8s.io resources %q", got)
		}
		if _, errOut, code := c.kubectl(t, "get", "selfsubjectaccessreviews"); code == 0 || !strings.Contains(errOut, "MethodNotAllowed") && !strings.Contains(errOut, "not supported") {
			t.Errorf("list of a create-only resource: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("whoami", func(t *testing.T) {
		out := c.mustKubectl(t, "auth", "whoami")
		if !strings.Contains(out, "Username    system:admin") || !strings.Contains(out, "Groups      [system:masters system:authenticated]") {
			t.Errorf("kubectl auth whoami:\n%s", out)
		}
		var r authenticationv1.SelfSubjectReview
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "auth", "whoami", "--as=jane", "--as-group=devs", "-o", "json")), &r); err != nil {
			t.Fatal(err)
		}
		if u := r.Status.UserInfo; u.Username != "jane" || strings.Join(u.Groups, ",") != "devs,system:authenticated" {
			t.Errorf("whoami --as=jane --as-group=devs: %+v", u)
		}
		out = c.mustKubectl(t, "auth", "whoami", "--as=system:serviceaccount:ci:builder")
		if !strings.Contains(out, "[system:serviceaccounts system:serviceaccounts:ci system:authenticated]") {
			t.Errorf("whoami as a service account:\n%s", out)
		}
	})

	t.Run("can-i", func(t *testing.T) {
		// Until RBAC lands every authenticated user may do everything; the reviews say so.
		for _, args := range [][]string{{"create", "pods"}, {"delete", "nodes"}, {"get", "/healthz"}, {"list", "secrets", "-n", "kube-system", "--as=jane"}} {
			if out := c.mustKubectl(t, append([]string{"auth", "can-i"}, args...)...); strings.TrimSpace(out) != "yes" {
				t.Errorf("can-i %v: %q", args, out)
			}
		}
		out := c.mustKubectl(t, "auth", "can-i", "--list")
		if !strings.Contains(out, "*.*") || !strings.Contains(out, "[*]") {
			t.Errorf("can-i --list:\n%s", out)
		}
	})

	t.Run("TokenReview", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(c.DataDir, "tokens.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var token string
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				token = strings.Split(l, ",")[0]
				break
			}
		}
		review := func(tok string, audiences ...string) authenticationv1.TokenReviewStatus {
			auds, _ := json.Marshal(audiences)
			out := c.mustStdin(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+tok+`","audiences":`+string(auds)+`}}`, "create", "-f", "-", "-o", "json")
			var r authenticationv1.TokenReview
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		if st := review(token); !st.Authenticated || st.User.Username != "system:node-bootstrap" || !strings.Contains(strings.Join(st.User.Groups, ","), "system:authenticated") {
			t.Errorf("the node token: %+v", st)
		}
		// The token file's tokens are audience-agnostic: valid for the API audiences, as kube-apiserver answers.
		const apiAudience = "https://kubernetes.default.svc.cluster.local"
		if st := review(token); len(st.Audiences) != 1 || st.Audiences[0] != apiAudience {
			t.Errorf("audiences of a review that names none: %q, want the API audience", st.Audiences)
		}
		if st := review(token, "other", apiAudience); !st.Authenticated || len(st.Audiences) != 1 || st.Audiences[0] != apiAudience {
			t.Errorf("a review for another audience and the API's: %+v", st)
		}
		if st := review(token, "other"); st.Authenticated || st.User.Username != "" {
			t.Errorf("a review for an audience the token is not for: %+v", st)
		}
		if st := review("not-a-token"); st.Authenticated || st.User.Username != "" {
			t.Errorf("an unknown token: %+v", st)
		}
		_, errOut, code := c.stdin(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{}}`, "create", "-f", "-")
		if code == 0 || !strings.Contains(errOut, "token is required for TokenReview in authentication") {
			t.Errorf("empty token: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("access review validation", func(t *testing.T) {
		_, errOut, code := c.stdin(t, `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}`, "create", "-f", "-")
		if want := `spec.user: Invalid value: "": at least one of user or group must be specified`; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("no user: exit %d, stderr %q, want %q", code, errOut, want)
		}
		out := c.mustStdin(t, `{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview","metadata":{"namespace":"default"},"spec":{"user":"jane","resourceAttributes":{"namespace":"default","verb":"get","resource":"pods"}}}`,
			"create", "-f", "-", "-o", "jsonpath={.status.allowed}")
		if out != "true" {
			t.Errorf("local review: allowed %q", out)
		}
		_, errOut, code = c.stdin(t, `{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview","metadata":{"namespace":"default"},"spec":{"user":"jane","resourceAttributes":{"namespace":"other","verb":"get","resource":"pods"}}}`, "create", "-f", "-")
		if want := `spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace`; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("namespace mismatch: exit %d, stderr %q, want %q", code, errOut, want)
		}
	})
}
