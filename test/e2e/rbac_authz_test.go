package e2e

// RBAC authorization (on by default) through the real kubectl against `skiff server --disable-agent`: the bootstrap
// policy and aggregated roles, `kubectl auth can-i` (yes/no and exit codes, --list), `kubectl create
// role/rolebinding`, impersonation with --as, and escalation prevention. No kubelet runs: no machine lock needed.

import (
	"strings"
	"testing"
	"time"
)

func TestRBACAuthorization(t *testing.T) {
	c := startServer(t)

	// The bootstrap roles exist, labelled; the aggregation controller fills admin/edit/view.
	out := c.mustKubectl(t, "get", "clusterroles", "-l", "kubernetes.io/bootstrapping=rbac-defaults", "-o", "name")
	for _, r := range []string{"cluster-admin", "admin", "edit", "view", "system:aggregate-to-view", "system:basic-user", "system:discovery", "system:public-info-viewer"} {
		if !strings.Contains(out, "clusterrole.rbac.authorization.k8s.io/"+r+"\n") {
			t.Errorf("bootstrap clusterrole %s missing from:\n%s", r, out)
		}
	}
	eventually(t, 30*time.Second, "the view role aggregated", func() (bool, string) {
		out, stderr, _ := c.kubectl(t, "get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}")
		return strings.Contains(out, "pods") && strings.Contains(out, "deployments"), out + stderr
	})

	// can-i: yes exits 0, no exits 1.
	canI := func(args ...string) (string, int) {
		out, _, code := c.kubectl(t, append([]string{"auth", "can-i"}, args...)...)
		return strings.TrimSpace(out), code
	}
	if out, code := canI("delete", "nodes"); out != "yes" || code != 0 {
		t.Errorf("admin can-i delete nodes: %q exit %d", out, code)
	}
	if out, code := canI("list", "pods", "--as=jane"); out != "no" || code != 1 {
		t.Errorf("jane can-i list pods before a binding: %q exit %d", out, code)
	}
	if out, code := canI("get", "/apis", "--as=jane"); out != "yes" || code != 0 {
		t.Errorf("jane can-i get /apis (system:discovery): %q exit %d", out, code)
	}
	_, stderr, code := c.kubectl(t, "get", "pods", "--as=jane")
	if want := `Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"`; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("jane get pods: exit %d %q, want %q", code, stderr, want)
	}
	_, stderr, code = c.kubectl(t, "get", "--raw", "/foo", "--as=jane")
	if want := `forbidden: User "jane" cannot get path "/foo"`; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("jane get /foo: exit %d %q, want %q", code, stderr, want)
	}

	// kubectl create role / rolebinding grants it.
	c.mustKubectl(t, "create", "namespace", "team")
	c.mustKubectl(t, "create", "role", "pod-reader", "-n", "team", "--verb=get,list,watch", "--resource=pods")
	c.mustKubectl(t, "create", "rolebinding", "jane-reads", "-n", "team", "--role=pod-reader", "--user=jane")
	eventually(t, 10*time.Second, "jane may list pods in team", func() (bool, string) {
		out, code := canI("list", "pods", "-n", "team", "--as=jane")
		return out == "yes" && code == 0, out
	})
	c.mustKubectl(t, "get", "pods", "-n", "team", "--as=jane")
	if out, code := canI("list", "pods", "-n", "default", "--as=jane"); out != "no" || code != 1 {
		t.Errorf("jane in default: %q exit %d", out, code)
	}
	if out, code := canI("delete", "pods", "-n", "team", "--as=jane"); out != "no" || code != 1 {
		t.Errorf("jane delete pods: %q exit %d", out, code)
	}
	out = c.mustKubectl(t, "auth", "can-i", "--list", "-n", "team", "--as=jane")
	for _, want := range []string{"pods ", "[get list watch]", "selfsubjectaccessreviews.authorization.k8s.io", "[/apis/*]"} {
		if !strings.Contains(out, want) {
			t.Errorf("can-i --list as jane lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "*.*") {
		t.Errorf("can-i --list as jane shows everything:\n%s", out)
	}

	// A group binding with the aggregated edit role.
	c.mustKubectl(t, "create", "rolebinding", "devs-edit", "-n", "team", "--clusterrole=edit", "--group=devs")
	eventually(t, 10*time.Second, "devs may create deployments in team", func() (bool, string) {
		out, code := canI("create", "deployments.apps", "-n", "team", "--as=bob", "--as-group=devs")
		return out == "yes" && code == 0, out
	})
	if out, code := canI("create", "rolebindings", "-n", "team", "--as=bob", "--as-group=devs"); out != "no" || code != 1 {
		t.Errorf("edit may not bind: %q exit %d", out, code)
	}

	// Impersonation needs the impersonate verb: jane may not act as anyone until granted.
	janeToken := c.serviceAccountToken(t, "team", "jane-sa")
	janeKC := kubectlOpts{kubeconfig: tokenKubeconfig(t, c, janeToken)}
	_, stderr, code = c.kubectlWith(t, janeKC, "get", "pods", "-n", "team", "--as=jane")
	if want := `users "jane" is forbidden: User "system:serviceaccount:team:jane-sa" cannot impersonate resource "users" in API group "" at the cluster scope`; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("impersonation without the verb: exit %d %q, want %q", code, stderr, want)
	}
	c.mustKubectl(t, "create", "clusterrole", "impersonate-jane", "--verb=impersonate", "--resource=users", "--resource-name=jane")
	c.mustKubectl(t, "create", "clusterrolebinding", "jane-sa-impersonates", "--clusterrole=impersonate-jane", "--serviceaccount=team:jane-sa")
	eventually(t, 10*time.Second, "the account may impersonate jane", func() (bool, string) {
		_, stderr, code := c.kubectlWith(t, janeKC, "get", "pods", "-n", "team", "--as=jane")
		return code == 0, stderr
	})
	if _, stderr, code := c.kubectlWith(t, janeKC, "get", "pods", "-n", "team", "--as=joe"); code == 0 || !strings.Contains(stderr, `users "joe" is forbidden`) {
		t.Errorf("impersonating another user: exit %d %q", code, stderr)
	}

	// Escalation: a namespace admin may grant what it holds, not more.
	c.mustKubectl(t, "create", "rolebinding", "ann-admin", "-n", "team", "--clusterrole=admin", "--user=ann")
	eventually(t, 10*time.Second, "ann may create roles in team", func() (bool, string) {
		out, code := canI("create", "roles", "-n", "team", "--as=ann")
		return out == "yes" && code == 0, out
	})
	c.mustKubectl(t, "create", "role", "secret-reader", "-n", "team", "--verb=get", "--resource=secrets", "--as=ann")
	_, stderr, code = c.kubectl(t, "create", "role", "node-reader", "-n", "team", "--verb=get", "--resource=nodes", "--as=ann")
	if want := `roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "ann" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("escalating role: exit %d %q, want %q", code, stderr, want)
	}
	_, stderr, code = c.kubectl(t, "create", "rolebinding", "ann-root", "-n", "team", "--clusterrole=cluster-admin", "--user=ann", "--as=ann")
	if code == 0 || !strings.Contains(stderr, `rolebindings.rbac.authorization.k8s.io "ann-root" is forbidden: user "ann"`) {
		t.Errorf("binding cluster-admin: exit %d %q", code, stderr)
	}
	c.mustKubectl(t, "create", "rolebinding", "carol-view", "-n", "team", "--clusterrole=view", "--user=carol", "--as=ann")
}

// serviceAccountToken creates namespace/name (the namespace must exist) and returns a token for it.
func (c *cluster) serviceAccountToken(t *testing.T, namespace, name string) string {
	t.Helper()
	c.mustKubectl(t, "create", "serviceaccount", name, "-n", namespace)
	return strings.TrimSpace(c.mustKubectl(t, "create", "token", name, "-n", namespace))
}
