package e2e

// The StatefulSet controller of a real `skiff server --disable-agent`, driven through the real kubectl, with pods
// run by simulated nodes (internal/sim: pods go Running and Ready without containers, so pods whose claims nothing
// binds still start). No kubelet, proxy or DNS runs, so this file needs no machine lock.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const statefulSetManifest = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: skiff.dev/testapp:v1
        volumeMounts:
        - name: www
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
`

// stsPods returns the StatefulSet's pods by name.
func stsPods(t *testing.T, client kubernetes.Interface) map[string]corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		out[p.Name] = p
	}
	return out
}

func readySince(p corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// TestStatefulSetOnSimulatedNodes creates, updates, rolls back and scales a StatefulSet with kubectl and checks
// upstream's ordering guarantees, pod identity, claims, revisions, events and kubectl's printed messages.
func TestStatefulSetOnSimulatedNodes(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	simNodes(t, rc, "sts-", 2, sim.Delays{Start: 100 * time.Millisecond, Ready: 200 * time.Millisecond})

	c.mustStdin(t, statefulSetManifest, "apply", "-f", "-")
	out := c.mustKubectl(t, "rollout", "status", "sts/web", "--timeout=60s")
	if !strings.Contains(out, "partitioned roll out complete: 3 new pods have been updated...") {
		t.Errorf("rollout status printed %q", out)
	}

	// Identity: stable names, hostname/subdomain, labels, claim volumes; OrderedReady: each pod created only
	// after the previous one was Ready.
	pods := stsPods(t, client)
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		p, ok := pods[name]
		if !ok {
			t.Fatalf("pod %s missing; have %v", name, pods)
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "nginx" {
			t.Errorf("%s hostname/subdomain = %s/%s", name, p.Spec.Hostname, p.Spec.Subdomain)
		}
		if p.Labels["statefulset.kubernetes.io/pod-name"] != name || p.Labels["apps.kubernetes.io/pod-index"] != fmt.Sprint(i) ||
			p.Labels["controller-revision-hash"] == "" {
			t.Errorf("%s labels %v", name, p.Labels)
		}
		// The claim's volume is named after the template; the ServiceAccount admission plugin adds kube-api-access-*.
		if v := p.Spec.Volumes; !slices.ContainsFunc(v, func(v corev1.Volume) bool {
			return v.Name == "www" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "www-"+name
		}) {
			t.Errorf("%s volumes %+v, want claim www-%s", name, v, name)
		}
		if i > 0 {
			prev := pods[fmt.Sprintf("web-%d", i-1)]
			// Timestamps have one-second resolution: created no earlier than the second the previous got Ready.
			if p.CreationTimestamp.Time.Before(readySince(prev)) {
				t.Errorf("%s created at %v, before %s was ready at %v", name, p.CreationTimestamp, prev.Name, readySince(prev))
			}
		}
	}
	claims := c.mustKubectl(t, "get", "pvc", "-o", "name")
	for i := range 3 {
		if !strings.Contains(claims, fmt.Sprintf("persistentvolumeclaim/www-web-%d", i)) {
			t.Errorf("claims %q lack www-web-%d", claims, i)
		}
	}
	if got := c.mustKubectl(t, "get", "sts", "web", "--no-headers"); !strings.HasPrefix(strings.Join(strings.Fields(got), " "), "web 3/3") {
		t.Errorf("kubectl get sts: %q, want web 3/3", got)
	}

	// Rolling update: highest ordinal first.
	c.mustKubectl(t, "set", "image", "sts/web", "app=skiff.dev/testapp:v2")
	out = c.mustKubectl(t, "rollout", "status", "sts/web", "--timeout=60s")
	if !strings.Contains(out, "partitioned roll out complete: 3 new pods have been updated...") {
		t.Errorf("rollout status after update printed %q", out)
	}
	pods = stsPods(t, client)
	for i := range 3 {
		p := pods[fmt.Sprintf("web-%d", i)]
		if img := p.Spec.Containers[0].Image; img != "skiff.dev/testapp:v2" {
			t.Errorf("%s image %s after update", p.Name, img)
		}
		if i < 2 {
			higher := pods[fmt.Sprintf("web-%d", i+1)]
			if p.CreationTimestamp.Time.Before(readySince(higher)) {
				t.Errorf("%s replaced at %v, before %s was ready at %v", p.Name, p.CreationTimestamp, higher.Name, readySince(higher))
			}
		}
	}
	eventually(t, 10*time.Second, "status.currentRevision = updateRevision", func() (bool, string) {
		out := c.mustKubectl(t, "get", "sts", "web", "-o", "jsonpath={.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas} {.status.currentReplicas} {.status.availableReplicas}")
		f := strings.Fields(out)
		return len(f) == 5 && f[0] == f[1] && f[2] == "3" && f[3] == "3" && f[4] == "3", out
	})
	hist := c.mustKubectl(t, "rollout", "history", "sts/web")
	if !strings.Contains(hist, "REVISION") || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Errorf("rollout history:\n%s", hist)
	}

	// Rollback through the stored revision.
	out = c.mustKubectl(t, "rollout", "undo", "sts/web")
	if !strings.Contains(out, "statefulset.apps/web rolled back") {
		t.Errorf("rollout undo printed %q", out)
	}
	c.mustKubectl(t, "rollout", "status", "sts/web", "--timeout=60s")
	eventually(t, 10*time.Second, "pods back at v1", func() (bool, string) {
		var imgs []string
		for _, p := range stsPods(t, client) {
			if p.DeletionTimestamp == nil {
				imgs = append(imgs, p.Name+"="+p.Spec.Containers[0].Image)
			}
		}
		return len(imgs) == 3 && !strings.Contains(strings.Join(imgs, " "), "v2"), strings.Join(imgs, " ")
	})
	hist = c.mustKubectl(t, "rollout", "history", "sts/web")
	if !strings.Contains(hist, "\n2 ") || !strings.Contains(hist, "\n3 ") || strings.Contains(hist, "\n1 ") {
		t.Errorf("rollout history after undo (revision 1 renumbered to 3):\n%s", hist)
	}

	// Scale down: highest ordinals go, claims stay (Retain).
	c.mustKubectl(t, "scale", "sts/web", "--replicas=1")
	eventually(t, 30*time.Second, "scaled to web-0", func() (bool, string) {
		pods := stsPods(t, client)
		_, ok := pods["web-0"]
		return len(pods) == 1 && ok, fmt.Sprint(len(pods))
	})
	c.mustKubectl(t, "rollout", "status", "sts/web", "--timeout=30s")
	if claims := c.mustKubectl(t, "get", "pvc", "-o", "name"); strings.Count(claims, "www-web-") != 3 {
		t.Errorf("claims after scale-down %q, want all three retained", claims)
	}
	events := c.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.kind=StatefulSet", "-o", "custom-columns=REASON:.reason,MESSAGE:.message", "--no-headers")
	for _, want := range []string{
		"SuccessfulCreate   create Pod web-0 in StatefulSet web successful",
		"SuccessfulCreate   create Claim www-web-1 Pod web-1 in StatefulSet web success",
		"SuccessfulDelete   delete Pod web-2 in StatefulSet web successful",
	} {
		if !strings.Contains(strings.Join(strings.Fields(events), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}
}
