package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const proxiedManifest = `
apiVersion: v1
kind: Pod
metadata: {name: proxied, labels: {app: proxied}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080, name: http}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: proxied}
spec:
  selector: {app: proxied}
  ports: [{name: http, port: 80, targetPort: http}]
`

// kubeletPort is the kubelet port the node reports.
func kubeletPort(t *testing.T, kc *kubeletCluster) string {
	t.Helper()
	n, err := kc.cs.CoreV1().Nodes().Get(context.Background(), kc.node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
}

// TestProxySubresources reaches a pod, a service and the node's kubelet through the API server's proxy subresources,
// with kubectl get --raw and client-go, as the upstream "Proxy version v1" conformance tests do.
func TestProxySubresources(t *testing.T) {
	kc := startKubeletCluster(t)
	kc.apply(t, proxiedManifest)
	kc.waitReady(t, "proxied", 60*time.Second)
	ns := "/api/v1/namespaces/default"

	raw := func(path string) (string, string, int) { return kc.kubectl(t, "get", "--raw", path) }
	wantRaw := func(t *testing.T, path, want string) {
		t.Helper()
		out, stderr, code := raw(path)
		if code != 0 || out != want {
			t.Fatalf("kubectl get --raw %s: exit %d out %q stderr %s, want %q", path, code, out, stderr, want)
		}
	}

	t.Run("Pod", func(t *testing.T) {
		wantRaw(t, ns+"/pods/proxied:8080/proxy/echo?msg=x", "x")
		wantRaw(t, ns+"/pods/http:proxied:8080/proxy/echo?msg=y", "y")
		// No port: the first declared container port.
		wantRaw(t, ns+"/pods/proxied/proxy/hostname", "proxied")
	})
	t.Run("PodAllVerbs", func(t *testing.T) {
		rc := kc.cs.CoreV1().RESTClient()
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"} {
			var status int
			body, err := rc.Verb(m).Namespace("default").Resource("pods").Name("proxied:8080").SubResource("proxy").Suffix("echo").
				Param("msg", strings.ToLower(m)).Body([]byte("{}")).SetHeader("Content-Type", "application/json").
				Do(context.Background()).StatusCode(&status).Raw()
			want := strings.ToLower(m)
			if m == "HEAD" {
				want = ""
			}
			if err != nil || status != http.StatusOK || string(body) != want {
				t.Errorf("%s pods/proxied:8080/proxy/echo: status %d body %q err %v, want 200 %q", m, status, body, err, want)
			}
		}
	})
	t.Run("Service", func(t *testing.T) {
		// The endpoint becomes ready shortly after the pod.
		eventually(t, 30*time.Second, "services/proxied:80/proxy to answer", func() (bool, string) {
			out, stderr, code := raw(ns + "/services/proxied:80/proxy/echo?msg=svc")
			return code == 0 && out == "svc", fmt.Sprintf("exit %d out %q stderr %s", code, out, stderr)
		})
		wantRaw(t, ns+"/services/proxied:http/proxy/echo?msg=named", "named")
		wantRaw(t, ns+"/services/http:proxied:http/proxy/hostname", "proxied")
	})
	t.Run("Node", func(t *testing.T) {
		wantRaw(t, "/api/v1/nodes/"+kc.node+"/proxy/healthz", "ok")
		out, stderr, code := raw("/api/v1/nodes/" + kc.node + "/proxy/pods")
		if code != 0 {
			t.Fatalf("nodes/%s/proxy/pods: exit %d %s", kc.node, code, stderr)
		}
		var pods corev1.PodList
		if err := json.Unmarshal([]byte(out), &pods); err != nil {
			t.Fatalf("kubelet /pods is not a PodList: %v: %.200s", err, out)
		}
		found := false
		for _, p := range pods.Items {
			found = found || (p.Namespace == "default" && p.Name == "proxied")
		}
		if !found {
			t.Errorf("kubelet /pods lists no default/proxied (%d pods)", len(pods.Items))
		}
		// The kubelet's /logs/ lists the node's /var/log, with the kubelet port named explicitly.
		out, stderr, code = raw("/api/v1/nodes/" + kc.node + ":" + kubeletPort(t, kc) + "/proxy/logs/")
		if code != 0 || !strings.Contains(out, "<a href=") {
			t.Errorf("nodes/%s:PORT/proxy/logs/: exit %d %s %.200s", kc.node, code, stderr, out)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ path, want string }{
			{ns + "/pods/nosuch/proxy/", `Error from server (NotFound): pods "nosuch" not found`},
			{ns + "/services/proxied:81/proxy/", `Error from server (ServiceUnavailable): no service port 81 found for service "proxied"`},
			{ns + "/services/nosuch/proxy/", `Error from server (ServiceUnavailable): no endpoints available for service "nosuch"`},
			{ns + "/pods/ftp:proxied:21/proxy/", `Error from server (BadRequest): invalid pod request "ftp:proxied:21"`},
			{"/api/v1/nodes/nosuch/proxy/healthz", `Error from server (NotFound): nodes "nosuch" not found`},
		} {
			_, stderr, code := raw(tc.path)
			if code == 0 || strings.TrimSpace(stderr) != tc.want {
				t.Errorf("kubectl get --raw %s: exit %d stderr %q, want %q", tc.path, code, strings.TrimSpace(stderr), tc.want)
			}
		}
	})
	t.Run("Discovery", func(t *testing.T) {
		out, stderr, code := raw("/api/v1")
		if code != 0 {
			t.Fatalf("kubectl get --raw /api/v1: %s", stderr)
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		verbs := map[string]string{}
		for _, r := range list.APIResources {
			verbs[r.Name] = strings.Join(r.Verbs, ",")
		}
		for _, r := range []string{"pods/proxy", "services/proxy", "nodes/proxy"} {
			if verbs[r] != "create,delete,get,patch,update" {
				t.Errorf("/api/v1 lists %s with verbs %q", r, verbs[r])
			}
		}
	})
}
