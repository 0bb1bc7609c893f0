package e2e

// rbac.authorization.k8s.io/v1 Roles, ClusterRoles, RoleBindings and ClusterRoleBindings through the real kubectl
// against `skiff server --disable-agent`: they are stored, printed and validated as kube-apiserver 1.32 does (with
// --authorization-mode=AlwaysAllow, so nothing is enforced). No kubelet, proxy or DNS runs: no machine lock needed.

import (
	"context"
	"errors"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// rbacManifest has all four kinds, as a Helm chart carries them; {verbs} and {user} vary between applies.
const rbacManifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: app-metrics
rules:
- nonResourceURLs: ["/metrics"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: app-metrics
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: app-metrics
subjects:
- kind: ServiceAccount
  name: app
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app-config
  namespace: default
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: [{verbs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app-config
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: app-config
subjects:
- kind: ServiceAccount
  name: app
- kind: User
  name: {user}
`

func TestRBAC(t *testing.T) {
	c := startServer(t)
	fields := func(s string) string { return strings.Join(strings.Fields(s), " ") }

	t.Run("discovery", func(t *testing.T) {
		out := c.mustKubectl(t, "api-resources", "--api-group=rbac.authorization.k8s.io", "--no-headers")
		want := []string{
			"clusterrolebindings rbac.authorization.k8s.io/v1 false ClusterRoleBinding",
			"clusterroles rbac.authorization.k8s.io/v1 false ClusterRole",
			"rolebindings rbac.authorization.k8s.io/v1 true RoleBinding",
			"roles rbac.authorization.k8s.io/v1 true Role",
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want) {
			t.Fatalf("api-resources:\n%s", out)
		}
		for i := range want {
			if got := fields(lines[i]); got != want[i] {
				t.Errorf("api-resources row %d: %q, want %q", i, got, want[i])
			}
		}
	})

	t.Run("kubectl create and get", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"create", "role", "pod-reader", "--verb=get,list", "--resource=pods"}, "role.rbac.authorization.k8s.io/pod-reader created"},
			{[]string{"create", "clusterrole", "secret-reader", "--verb=get", "--resource=secrets", "--non-resource-url=/healthz"},
				"clusterrole.rbac.authorization.k8s.io/secret-reader created"},
			{[]string{"create", "rolebinding", "read-pods", "--role=pod-reader", "--user=jane", "--serviceaccount=default:builder"},
				"rolebinding.rbac.authorization.k8s.io/read-pods created"},
			{[]string{"create", "clusterrolebinding", "devs-read", "--clusterrole=secret-reader", "--group=devs"},
				"clusterrolebinding.rbac.authorization.k8s.io/devs-read created"},
		} {
			if out := c.mustKubectl(t, tc.args...); strings.TrimSpace(out) != tc.want {
				t.Errorf("kubectl %s: %q, want %q", strings.Join(tc.args, " "), out, tc.want)
			}
		}

		// Roles print as the default table convertor does: NAME and CREATED AT (RFC 3339, UTC).
		created := c.mustKubectl(t, "get", "role", "pod-reader", "-o", "jsonpath={.metadata.creationTimestamp}")
		out := c.mustKubectl(t, "get", "roles", "-o", "wide")
		if got, want := fields(out), "NAME CREATED AT pod-reader "+created; got != want {
			t.Errorf("get roles -o wide: %q, want %q", got, want)
		}
		out = c.mustKubectl(t, "get", "clusterroles")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); fields(lines[0]) != "NAME CREATED AT" || !strings.Contains(out, "secret-reader ") {
			t.Errorf("get clusterroles:\n%s", out)
		}

		out = c.mustKubectl(t, "get", "rolebindings", "-o", "wide")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || fields(lines[0]) != "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" {
			t.Fatalf("get rolebindings -o wide:\n%s", out)
		}
		if f := strings.Fields(lines[1]); len(f) != 5 || f[0] != "read-pods" || f[1] != "Role/pod-reader" || f[3] != "jane" || f[4] != "default/builder" {
			t.Errorf("rolebinding row %q", lines[1])
		}
		if got := fields(c.mustKubectl(t, "get", "rolebindings")); !strings.HasPrefix(got, "NAME ROLE AGE read-pods Role/pod-reader ") {
			t.Errorf("get rolebindings without -o wide: %q", got)
		}
		out = c.mustKubectl(t, "get", "clusterrolebinding", "devs-read", "-o", "wide", "--no-headers")
		if f := strings.Fields(out); len(f) != 4 || f[0] != "devs-read" || f[1] != "ClusterRole/secret-reader" || f[3] != "devs" {
			t.Errorf("clusterrolebinding row %q", out)
		}

		// Defaulting: User and Group subjects get the RBAC API group, ServiceAccounts none.
		got := c.mustKubectl(t, "get", "rolebinding", "read-pods", "-o", "jsonpath={range .subjects[*]}{.kind}:{.apiGroup}:{.namespace}:{.name} {end}")
		if want := "User:rbac.authorization.k8s.io::jane ServiceAccount::default:builder "; got != want {
			t.Errorf("subjects %q, want %q", got, want)
		}
		// kubectl create clusterrole puts resources and non-resource URLs in separate rules.
		got = c.mustKubectl(t, "get", "clusterrole", "secret-reader", "-o", "jsonpath={.rules}")
		if want := `[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]},{"nonResourceURLs":["/healthz"],"verbs":["get"]}]`; got != want {
			t.Errorf("clusterrole rules %s, want %s", got, want)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := c.mustKubectl(t, "describe", "role", "pod-reader")
		for _, want := range []string{"Name:         pod-reader", "PolicyRule:", "Resources  Non-Resource URLs  Resource Names  Verbs", "pods       []                 []              [get list]"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe role lacks %q:\n%s", want, out)
			}
		}
		out = c.mustKubectl(t, "describe", "rolebinding", "read-pods")
		for _, want := range []string{"Kind:  Role", "Name:  pod-reader", "User            jane", "ServiceAccount  builder  default"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe rolebinding lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("apply a chart's manifests twice", func(t *testing.T) {
		manifest := func(verbs, user string) string {
			return strings.NewReplacer("{verbs}", verbs, "{user}", user).Replace(rbacManifest)
		}
		out := c.mustStdin(t, manifest(`"get", "watch"`, "jane"), "apply", "-f", "-")
		if want := "clusterrole.rbac.authorization.k8s.io/app-metrics created clusterrolebinding.rbac.authorization.k8s.io/app-metrics created " +
			"role.rbac.authorization.k8s.io/app-config created rolebinding.rbac.authorization.k8s.io/app-config created"; fields(out) != want {
			t.Errorf("first apply: %q, want %q", fields(out), want)
		}
		out = c.mustStdin(t, manifest(`"get", "watch", "list"`, "joe"), "apply", "-f", "-")
		if want := "clusterrole.rbac.authorization.k8s.io/app-metrics unchanged clusterrolebinding.rbac.authorization.k8s.io/app-metrics unchanged " +
			"role.rbac.authorization.k8s.io/app-config configured rolebinding.rbac.authorization.k8s.io/app-config configured"; fields(out) != want {
			t.Errorf("second apply: %q, want %q", fields(out), want)
		}
		if got := c.mustKubectl(t, "get", "role", "app-config", "-o", "jsonpath={.rules[0].verbs}"); got != `["get","watch","list"]` {
			t.Errorf("role verbs after the second apply: %s", got)
		}
		if got := c.mustKubectl(t, "get", "rolebinding", "app-config", "-o", "jsonpath={.subjects[1].name}/{.subjects[1].apiGroup}"); got != "joe/rbac.authorization.k8s.io" {
			t.Errorf("rolebinding user after the second apply: %s", got)
		}
		// Server-side apply (Helm 4) of the same objects under other names.
		ssa := strings.ReplaceAll(manifest(`"get"`, "ann"), "app-", "ssa-")
		c.mustStdin(t, ssa, "apply", "--server-side", "-f", "-")
		if got := c.mustKubectl(t, "get", "clusterrolebinding", "ssa-metrics", "-o", "jsonpath={.roleRef.name} {.metadata.managedFields[0].manager}"); got != "ssa-metrics kubectl" {
			t.Errorf("server-side applied binding: %q", got)
		}
		// Changing the roleRef in the manifest is refused: a binding must be deleted and recreated.
		changed := strings.Replace(manifest(`"get"`, "joe"), "  kind: Role\n  name: app-config", "  kind: ClusterRole\n  name: app-metrics", 1)
		_, errOut, code := c.stdin(t, changed, "apply", "-f", "-")
		if want := `roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"app-metrics"}: cannot change roleRef`; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("apply with a changed roleRef: exit %d, stderr %q, want %q", code, errOut, want)
		}
	})

	t.Run("validation", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"patch", "rolebinding", "read-pods", "-p", `{"roleRef":{"name":"other"}}`},
				`The RoleBinding "read-pods" is invalid: roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"other"}: cannot change roleRef`},
			{[]string{"patch", "clusterrolebinding", "devs-read", "--type=json", "-p", `[{"op":"replace","path":"/roleRef/name","value":"view"}]`},
				`The ClusterRoleBinding "devs-read" is invalid: roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}: cannot change roleRef`},
			{[]string{"patch", "role", "pod-reader", "--type=json", "-p", `[{"op":"add","path":"/rules/-","value":{"verbs":["get"],"nonResourceURLs":["/healthz"]}}]`},
				`The Role "pod-reader" is invalid: rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`},
		} {
			_, errOut, code := c.kubectl(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("kubectl %s: exit %d, stderr %q, want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
			}
		}

		// A ClusterRoleBinding's service account must name its namespace (kubectl create checks this itself).
		saNoNamespace := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: sa-no-ns\n" +
			"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: ServiceAccount\n  name: builder\n"
		_, errOut, code := c.stdin(t, saNoNamespace, "apply", "-f", "-")
		if want := `The ClusterRoleBinding "sa-no-ns" is invalid: subjects[0].namespace: Required value`; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("service account without namespace: exit %d, stderr %q, want %q", code, errOut, want)
		}

		noVerbs := "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: bad\nrules:\n- apiGroups: [\"\"]\n  resources: [\"pods\"]\n"
		_, errOut, code = c.stdin(t, noVerbs, "create", "-f", "-")
		if want := `The Role "bad" is invalid: rules[0].verbs: Required value: verbs must contain at least one value`; code == 0 || strings.TrimSpace(errOut) != want {
			t.Errorf("role without verbs: exit %d, stderr %q, want %q", code, errOut, want)
		}
		// The same through client-go: a 422 Invalid status whose cause names the field.
		rc, err := c.RESTConfig()
		if err != nil {
			t.Fatal(err)
		}
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cs.RbacV1().Roles("default").Create(context.Background(), &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "bad"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}},
		}, metav1.CreateOptions{})
		var status apierrors.APIStatus
		if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
			t.Fatalf("create role without verbs: %v, want 422 Invalid", err)
		}
		st := status.Status()
		if st.Code != 422 || st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "rules[0].verbs" ||
			st.Details.Causes[0].Type != metav1.CauseTypeFieldValueRequired {
			t.Errorf("status %+v, want code 422 with one FieldValueRequired cause at rules[0].verbs", st)
		}
		if _, _, code := c.kubectl(t, "get", "role", "bad"); code == 0 {
			t.Error("the invalid role was stored")
		}
	})
}
