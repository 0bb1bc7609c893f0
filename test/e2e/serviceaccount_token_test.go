package e2e

// Service-account tokens: TokenRequest (`kubectl create token`), the token authenticator, the ServiceAccount
// admission plugin's kube-api-access volume and OIDC issuer discovery, through the real kubectl. TestServiceAccount
// TokenInPod starts a kubelet: run it under the machine lock (flock /tmp/skiff-e2e.lock).

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tokenKubeconfig writes a kubeconfig for c's server that authenticates with token only, and returns its path.
func tokenKubeconfig(t *testing.T, c *cluster, token string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	src := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	out := clientcmdapi.NewConfig()
	out.Clusters["c"] = &clientcmdapi.Cluster{Server: src.Server, CertificateAuthorityData: src.CertificateAuthorityData}
	out.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: token}
	out.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "sa"}
	out.CurrentContext = "c"
	path := filepath.Join(t.TempDir(), "token.kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// whoami runs `kubectl auth whoami -o json` with token and returns the user, or the exit code and stderr.
func whoami(t *testing.T, c *cluster, token string) (authenticationv1.UserInfo, int, string) {
	t.Helper()
	out, stderr, code := c.kubectlWith(t, kubectlOpts{kubeconfig: tokenKubeconfig(t, c, token)}, "auth", "whoami", "-o", "json")
	var r authenticationv1.SelfSubjectReview
	if code == 0 {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("whoami output: %v\n%s", err, out)
		}
	}
	return r.Status.UserInfo, code, stderr
}

func TestServiceAccountToken(t *testing.T) {
	c := startServer(t)
	// The serviceaccount controller makes "default" shortly after start.
	eventually(t, 30*time.Second, "serviceaccount default/default", func() (bool, string) {
		_, stderr, code := c.kubectl(t, "get", "serviceaccount", "default")
		return code == 0, stderr
	})
	token := strings.TrimSpace(c.mustKubectl(t, "create", "token", "default"))
	u, code, stderr := whoami(t, c, token)
	if code != 0 {
		t.Fatalf("whoami with the token: exit %d: %s", code, stderr)
	}
	if u.Username != "system:serviceaccount:default:default" || strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:default,system:authenticated" ||
		len(u.Extra["authentication.kubernetes.io/credential-id"]) != 1 {
		t.Fatalf("whoami: %+v", u)
	}
	// RBAC: the account may read pods once a RoleBinding grants it, as a user would bind it.
	if _, stderr, code := c.kubectlWith(t, kubectlOpts{kubeconfig: tokenKubeconfig(t, c, token)}, "get", "pods"); code == 0 ||
		!strings.Contains(stderr, `pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"`) {
		t.Fatalf("get pods with the token before a binding: exit %d %s", code, stderr)
	}
	c.mustKubectl(t, "create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=default:default")
	eventually(t, 30*time.Second, "get pods with the token", func() (bool, string) {
		_, stderr, code := c.kubectlWith(t, kubectlOpts{kubeconfig: tokenKubeconfig(t, c, token)}, "get", "pods")
		return code == 0, stderr
	})
	// A token signed by another key, or tampered with, is refused.
	parts := strings.Split(token, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if _, code, stderr := whoami(t, c, forged); code == 0 || !strings.Contains(stderr, "Unauthorized") {
		t.Fatalf("forged token: exit %d %s", code, stderr)
	}
	// upstream's validation and errors.
	if _, stderr, code := c.kubectl(t, "create", "token", "default", "--duration=5m"); code == 0 ||
		!strings.Contains(stderr, "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes") {
		t.Fatalf("5m token: exit %d %s", code, stderr)
	}
	if _, stderr, code := c.kubectl(t, "create", "token", "ghost"); code == 0 || !strings.Contains(stderr, `serviceaccounts "ghost" not found`) {
		t.Fatalf("token of a missing account: exit %d %s", code, stderr)
	}

	// A pod-bound token stops authenticating when its pod is deleted.
	c.mustStdin(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}`, "create", "-f", "-")
	bound := strings.TrimSpace(c.mustKubectl(t, "create", "token", "default", "--bound-object-kind=Pod", "--bound-object-name=p"))
	if u, code, stderr := whoami(t, c, bound); code != 0 || u.Extra["authentication.kubernetes.io/pod-name"][0] != "p" {
		t.Fatalf("bound token: exit %d %s %+v", code, stderr, u)
	}
	// The admission plugin mounted the API access volume.
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "pod", "p", "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 1 || !strings.HasPrefix(pod.Spec.Volumes[0].Name, "kube-api-access-") ||
		pod.Spec.Containers[0].VolumeMounts[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" {
		t.Fatalf("pod volumes %+v mounts %+v", pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts)
	}
	c.mustKubectl(t, "delete", "pod", "p", "--grace-period=0", "--force")
	eventually(t, 10*time.Second, "the bound token to be refused", func() (bool, string) {
		_, code, stderr := whoami(t, c, bound)
		return code != 0 && strings.Contains(stderr, "Unauthorized"), stderr
	})
	// A pod of a missing service account is refused as upstream refuses it.
	_, stderr, code = c.stdin(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"serviceAccountName":"ghost","containers":[{"name":"c","image":"i"}]}}`, "create", "-f", "-")
	if code == 0 || !strings.Contains(stderr, `pods "q" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found`) {
		t.Fatalf("pod of a missing account: exit %d %s", code, stderr)
	}

	// OIDC issuer discovery, readable with the service account's own token.
	sakc := kubectlOpts{kubeconfig: tokenKubeconfig(t, c, token)}
	out, stderr, code := c.kubectlWith(t, sakc, "get", "--raw", "/.well-known/openid-configuration")
	var cfg map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &cfg) != nil || cfg["issuer"] != "https://kubernetes.default.svc.cluster.local" ||
		!strings.HasSuffix(cfg["jwks_uri"].(string), "/openid/v1/jwks") {
		t.Fatalf("openid-configuration: exit %d %s %s", code, stderr, out)
	}
	out, stderr, code = c.kubectlWith(t, sakc, "get", "--raw", "/openid/v1/jwks")
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &jwks) != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["alg"] != "ES256" {
		t.Fatalf("jwks: exit %d %s %s", code, stderr, out)
	}

	// The signing key survives a restart: the token still authenticates.
	c.restart(t)
	if u, code, stderr := whoami(t, c, token); code != 0 || u.Username != "system:serviceaccount:default:default" {
		t.Fatalf("after restart: exit %d %s %+v", code, stderr, u)
	}
}

const saPodManifest = `
apiVersion: v1
kind: Pod
metadata: {name: sa-pod}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
`

// TestServiceAccountTokenInPod checks what a container sees at /var/run/secrets/kubernetes.io/serviceaccount and that
// its token calls the API as the pod's service account.
func TestServiceAccountTokenInPod(t *testing.T) {
	kc := startKubeletCluster(t)
	eventually(t, 30*time.Second, "serviceaccount default/default", func() (bool, string) {
		_, stderr, code := kc.kubectl(t, "get", "serviceaccount", "default")
		return code == 0, stderr
	})
	kc.apply(t, saPodManifest)
	pod := kc.waitReady(t, "sa-pod", 90*time.Second)
	const dir = "/var/run/secrets/kubernetes.io/serviceaccount/"
	var token string
	eventually(t, 60*time.Second, "a token in the pod", func() (bool, string) {
		out, stderr, code := kc.kubectl(t, "exec", "sa-pod", "--", "cat", dir+"token")
		token = strings.TrimSpace(out)
		return code == 0 && strings.Count(token, ".") == 2, stderr
	})
	if ns := kc.mustKubectl(t, "exec", "sa-pod", "--", "cat", dir+"namespace"); ns != "default" {
		t.Errorf("namespace file %q", ns)
	}
	kcfg, err := clientcmd.LoadFromFile(kc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ca := string(kcfg.Clusters[kcfg.Contexts[kcfg.CurrentContext].Cluster].CertificateAuthorityData)
	if got := kc.mustKubectl(t, "exec", "sa-pod", "--", "cat", dir+"ca.crt"); strings.TrimSpace(got) != strings.TrimSpace(ca) {
		t.Errorf("ca.crt in the pod is not the cluster CA:\n%s", got)
	}
	u, code, stderr := whoami(t, kc.cluster, token)
	if code != 0 {
		t.Fatalf("whoami with the pod's token: exit %d %s", code, stderr)
	}
	if u.Username != "system:serviceaccount:default:default" || u.Extra["authentication.kubernetes.io/pod-name"][0] != "sa-pod" ||
		u.Extra["authentication.kubernetes.io/pod-uid"][0] != string(pod.UID) || u.Extra["authentication.kubernetes.io/node-name"][0] != kc.node {
		t.Fatalf("whoami: %+v", u)
	}
	// RBAC: reading pods needs a binding, as upstream.
	kc.mustKubectl(t, "create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=default:default")
	eventually(t, 30*time.Second, "get pods with the pod's token", func() (bool, string) {
		_, stderr, code := kc.kubectlWith(t, kubectlOpts{kubeconfig: tokenKubeconfig(t, kc.cluster, token)}, "get", "pods")
		return code == 0, stderr
	})
}
