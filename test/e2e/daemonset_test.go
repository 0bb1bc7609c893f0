package e2e

// DaemonSet controller evidence through the real kubectl on simulated nodes (internal/sim, in this test process)
// against a real `skiff server --disable-agent`: placement by nodeSelector and taints, nodes added, relabelled and
// tainted NoExecute, a RollingUpdate (maxUnavailable) and a surge rollout watched by `kubectl rollout status`,
// `kubectl rollout history` and `kubectl rollout undo` on the ControllerRevisions, and the printed columns.
// No kubelet, proxy or DNS runs in those, so they need no machine lock. TestDaemonSetOnKubelet (opt-in with
// SKIFF_E2E_DS_KUBELET=1) runs a DaemonSet on the real kubelet and must run under `flock /tmp/skiff-e2e.lock`.

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

const dsManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: app
        image: skiff.dev/testapp:v1
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: edge
spec:
  selector:
    matchLabels: {app: edge}
  updateStrategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: edge}
    spec:
      nodeSelector: {role: edge}
      containers:
      - name: app
        image: skiff.dev/testapp:v1
`

// dsPods returns the live (not terminating) pods labelled app=app by node, with their images.
func dsPods(ctx context.Context, client kubernetes.Interface, app string) (map[string][]corev1.Pod, error) {
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	out := map[string][]corev1.Pod{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out, nil
}

// placement renders pods by node as "node=image,..." sorted, for comparisons and failure messages.
func placement(by map[string][]corev1.Pod) string {
	var out []string
	for n, ps := range by {
		for _, p := range ps {
			out = append(out, n+"="+p.Spec.Containers[0].Image)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func wantPlacement(nodes []string, image string) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n+"="+image)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

var spaces = regexp.MustCompile(`\s+`)

// dsRow is `kubectl get ds name --no-headers` with runs of spaces squeezed and the AGE column dropped.
func dsRow(t *testing.T, c *cluster, name string) string {
	t.Helper()
	f := strings.Fields(c.mustKubectl(t, "get", "ds", name, "--no-headers"))
	if len(f) > 0 {
		f = f[:len(f)-1]
	}
	return strings.Join(f, " ")
}

// TestDaemonSetOnSimulatedNodes runs two DaemonSets on four simulated nodes (one tainted NoSchedule) and drives
// them with kubectl as a user would.
func TestDaemonSetOnSimulatedNodes(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	ctx := context.Background()
	nodes, _ := simNodes(t, rc, "ds-", 4, sim.Delays{Start: 50 * time.Millisecond, Ready: 200 * time.Millisecond})
	c.mustKubectl(t, "label", "node", nodes[0], "role=edge")
	c.mustKubectl(t, "taint", "node", nodes[3], "dedicated=infra:NoSchedule")

	// Watch the agent pods for the whole test: during its rolling update (maxUnavailable 1) at most one of the
	// three nodes may lack a Ready agent pod.
	var mu sync.Mutex
	ready := map[string]map[string]bool{} // node -> pod -> ready
	minReady, rolling := 3, false
	stopWatch := watchAgentPods(t, client, func(ev watch.Event) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || p.Spec.NodeName == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ready[p.Spec.NodeName] == nil {
			ready[p.Spec.NodeName] = map[string]bool{}
		}
		isReady := false
		for _, cond := range p.Status.Conditions {
			isReady = isReady || (cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue)
		}
		ready[p.Spec.NodeName][p.Name] = isReady && ev.Type != watch.Deleted && p.DeletionTimestamp == nil
		if !rolling {
			return
		}
		n := 0
		for _, pods := range ready {
			for _, r := range pods {
				if r {
					n++
					break
				}
			}
		}
		minReady = min(minReady, n)
	})

	out := c.mustStdin(t, dsManifest, "apply", "-f", "-")
	if !strings.Contains(out, "daemonset.apps/agent created") || !strings.Contains(out, "daemonset.apps/edge created") {
		t.Fatalf("apply: %s", out)
	}
	out = c.mustKubectl(t, "rollout", "status", "ds/agent", rolloutTimeout)
	if !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Fatalf("rollout status: %s", out)
	}
	c.mustKubectl(t, "rollout", "status", "ds/edge", rolloutTimeout)
	eventually(t, 20*time.Second, "agent on the three untainted nodes, edge on the edge node", func() (bool, string) {
		a, err := dsPods(ctx, client, "agent")
		if err != nil {
			return false, err.Error()
		}
		e, err := dsPods(ctx, client, "edge")
		if err != nil {
			return false, err.Error()
		}
		got := placement(a) + " | " + placement(e)
		return got == wantPlacement(nodes[:3], "skiff.dev/testapp:v1")+" | "+wantPlacement(nodes[:1], "skiff.dev/testapp:v1"), got
	})
	header := spaces.ReplaceAllString(strings.SplitN(c.mustKubectl(t, "get", "ds", "agent"), "\n", 2)[0], " ")
	if header != "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE" {
		t.Errorf("kubectl get ds header %q", header)
	}
	if row := dsRow(t, c, "agent"); row != "agent 3 3 3 3 3 <none>" {
		t.Errorf("agent row %q", row)
	}
	if row := dsRow(t, c, "edge"); row != "edge 1 1 1 1 1 role=edge" {
		t.Errorf("edge row %q", row)
	}

	// The pods are placed by the default scheduler through a node-name affinity and carry the daemon tolerations.
	a, _ := dsPods(ctx, client, "agent")
	p := a[nodes[0]][0]
	terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || fmt.Sprint(terms[0].MatchFields) != "[{metadata.name In ["+nodes[0]+"]}]" {
		t.Errorf("pod %s node affinity %+v", p.Name, terms)
	}
	if p.Labels[appsv1.ControllerRevisionHashLabelKey] == "" || p.Labels["pod-template-generation"] != "1" || !strings.HasPrefix(p.Name, "agent-") {
		t.Errorf("pod %s labels %v", p.Name, p.Labels)
	}
	var tols []string
	for _, tol := range p.Spec.Tolerations {
		tols = append(tols, tol.Key+":"+string(tol.Effect))
	}
	if !strings.Contains(strings.Join(tols, " "), "node.kubernetes.io/unschedulable:NoSchedule") {
		t.Errorf("pod %s tolerations %v", p.Name, tols)
	}

	// Rolling update, then history and undo.
	mu.Lock()
	rolling = true
	mu.Unlock()
	c.mustKubectl(t, "set", "image", "ds/agent", "app=skiff.dev/testapp:v2")
	c.mustKubectl(t, "rollout", "status", "ds/agent", rolloutTimeout)
	eventually(t, 20*time.Second, "agent pods on v2", func() (bool, string) {
		a, err := dsPods(ctx, client, "agent")
		if err != nil {
			return false, err.Error()
		}
		got := placement(a)
		return got == wantPlacement(nodes[:3], "skiff.dev/testapp:v2"), got
	})
	hist := spaces.ReplaceAllString(c.mustKubectl(t, "rollout", "history", "ds/agent"), " ")
	if !strings.Contains(hist, "REVISION CHANGE-CAUSE 1 <none> 2 <none>") {
		t.Errorf("rollout history: %q", hist)
	}
	out = c.mustKubectl(t, "rollout", "undo", "ds/agent")
	if !strings.Contains(out, "daemonset.apps/agent rolled back") {
		t.Errorf("rollout undo: %s", out)
	}
	c.mustKubectl(t, "rollout", "status", "ds/agent", rolloutTimeout)
	eventually(t, 20*time.Second, "agent pods back on v1", func() (bool, string) {
		a, err := dsPods(ctx, client, "agent")
		if err != nil {
			return false, err.Error()
		}
		got := placement(a)
		return got == wantPlacement(nodes[:3], "skiff.dev/testapp:v1"), got
	})
	mu.Lock()
	rolling = false
	if minReady < 2 {
		t.Errorf("during the rolling updates only %d of 3 nodes had a Ready agent pod (maxUnavailable 1)", minReady)
	}
	t.Logf("rolling updates: at least %d of 3 nodes kept a Ready agent pod", minReady)
	mu.Unlock()
	stopWatch()
	hist = spaces.ReplaceAllString(c.mustKubectl(t, "rollout", "history", "ds/agent"), " ")
	if !strings.Contains(hist, "REVISION CHANGE-CAUSE 2 <none> 3 <none>") {
		t.Errorf("rollout history after undo (revision 1 becomes 3): %q", hist)
	}
	if out := c.mustKubectl(t, "rollout", "history", "ds/agent", "--revision=2"); !strings.Contains(out, "skiff.dev/testapp:v2") {
		t.Errorf("rollout history --revision=2: %s", out)
	}
	// The API server counts template changes in deprecated.daemonset.template.generation; pods carry it.
	if out := c.mustKubectl(t, "get", "ds", "agent", "-o", `jsonpath={.metadata.annotations.deprecated\.daemonset\.template\.generation}`); out != "3" {
		t.Errorf("template generation after two template changes: %q", out)
	}
	if out := c.mustKubectl(t, "get", "pods", "-l", "app=agent,pod-template-generation=3", "-o", "name"); strings.Count(out, "pod/") != 3 {
		t.Errorf("pods of template generation 3: %q", out)
	}

	// Surge rollout of edge: the new pod starts next to the old one.
	c.mustKubectl(t, "set", "image", "ds/edge", "app=skiff.dev/testapp:v2")
	c.mustKubectl(t, "rollout", "status", "ds/edge", rolloutTimeout)
	eventually(t, 20*time.Second, "edge on v2", func() (bool, string) {
		e, err := dsPods(ctx, client, "edge")
		if err != nil {
			return false, err.Error()
		}
		got := placement(e)
		return got == wantPlacement(nodes[:1], "skiff.dev/testapp:v2"), got
	})

	// Nodes relabelled, tainted NoExecute and added.
	c.mustKubectl(t, "label", "node", nodes[1], "role=edge")
	c.mustKubectl(t, "label", "node", nodes[0], "role-")
	c.mustKubectl(t, "taint", "node", nodes[2], "evict=now:NoExecute")
	more, _ := simNodes(t, rc, "ds2-", 1, sim.Delays{Start: 50 * time.Millisecond, Ready: 200 * time.Millisecond})
	eventually(t, 30*time.Second, "pods follow the node changes", func() (bool, string) {
		a, err := dsPods(ctx, client, "agent")
		if err != nil {
			return false, err.Error()
		}
		e, err := dsPods(ctx, client, "edge")
		if err != nil {
			return false, err.Error()
		}
		got := placement(a) + " | " + placement(e)
		want := wantPlacement([]string{nodes[0], nodes[1], more[0]}, "skiff.dev/testapp:v1") + " | " + wantPlacement(nodes[1:2], "skiff.dev/testapp:v2")
		return got == want, got
	})
	eventually(t, 20*time.Second, "status follows", func() (bool, string) {
		row := dsRow(t, c, "agent") + " / " + dsRow(t, c, "edge")
		return row == "agent 3 3 3 3 3 <none> / edge 1 1 1 1 1 role=edge", row
	})

	// Events, as upstream.
	ev := c.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.kind=DaemonSet,involvedObject.name=agent")
	for _, want := range []string{"SuccessfulCreate", "Created pod: agent-", "SuccessfulDelete", "Deleted pod: agent-", "daemonset/agent"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	ds, err := client.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Status.ObservedGeneration != ds.Generation || ds.Status.NumberUnavailable != 0 || ds.Status.NumberMisscheduled != 0 {
		t.Errorf("status %+v (generation %d)", ds.Status, ds.Generation)
	}

	// Cascading delete removes the pods and revisions (garbage collector, through the owner references).
	c.mustKubectl(t, "delete", "ds", "agent", "--cascade=foreground", "--timeout=30s")
	eventually(t, 20*time.Second, "agent pods and revisions gone", func() (bool, string) {
		a, err := dsPods(ctx, client, "agent")
		if err != nil {
			return false, err.Error()
		}
		revs, err := client.AppsV1().ControllerRevisions("default").List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
		if err != nil {
			return false, err.Error()
		}
		return len(a) == 0 && len(revs.Items) == 0, fmt.Sprintf("%d nodes with pods, %d revisions", len(a), len(revs.Items))
	})
}

// watchAgentPods calls handle for every event of the app=agent pods until the returned stop is called.
func watchAgentPods(t *testing.T, client kubernetes.Interface, handle func(watch.Event)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := client.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			handle(ev)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			w.Stop()
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

const dsKubeletManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: skiff.local/testapp:dev
        args: ["pause"]
`

// TestDaemonSetOnKubelet runs a DaemonSet on the real kubelet: its pod runs on the node, a template change replaces
// it, and a pod deleted by hand comes back. Opt-in (SKIFF_E2E_DS_KUBELET=1); run it under the machine lock.
func TestDaemonSetOnKubelet(t *testing.T) {
	if os.Getenv("SKIFF_E2E_DS_KUBELET") != "1" {
		t.Skip("set SKIFF_E2E_DS_KUBELET=1 (and hold flock /tmp/skiff-e2e.lock) to run a DaemonSet on the real kubelet")
	}
	kc := startKubeletCluster(t)
	ctx := context.Background()
	kc.mustStdin(t, dsKubeletManifest, "apply", "-f", "-")
	kc.mustKubectl(t, "rollout", "status", "ds/node-agent", "--timeout=50s")
	running := func(what, args string) string {
		var name string
		eventually(t, 60*time.Second, what, func() (bool, string) {
			pods, err := kc.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=node-agent"})
			if err != nil {
				return false, err.Error()
			}
			var got []string
			var live []corev1.Pod
			for _, p := range pods.Items {
				got = append(got, fmt.Sprintf("%s@%s %s %v deleting=%v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Spec.Containers[0].Args, p.DeletionTimestamp != nil))
				if p.DeletionTimestamp == nil {
					live = append(live, p)
				}
			}
			if len(live) != 1 {
				return false, strings.Join(got, "; ")
			}
			p := live[0]
			name = p.Name
			return p.Spec.NodeName == kc.node && p.Status.Phase == corev1.PodRunning && fmt.Sprint(p.Spec.Containers[0].Args) == args, strings.Join(got, "; ")
		})
		return name
	}
	first := running("the daemon pod running on the node", "[pause]")
	kc.mustKubectl(t, "patch", "ds", "node-agent", "--type=json", `-p=[{"op":"replace","path":"/spec/template/spec/containers/0/args","value":["pause","--updated"]}]`)
	kc.mustKubectl(t, "rollout", "status", "ds/node-agent", "--timeout=50s")
	second := running("the updated daemon pod running", "[pause --updated]")
	if second == first {
		t.Fatalf("pod %s was not replaced", first)
	}
	kc.mustKubectl(t, "delete", "pod", second, "--wait=false")
	if third := running("a new daemon pod after a manual delete", "[pause --updated]"); third == second {
		t.Fatalf("pod %s was not recreated", second)
	}
	if row := dsRow(t, kc.cluster, "node-agent"); row != "node-agent 1 1 1 1 1 <none>" {
		t.Errorf("node-agent row %q", row)
	}
}
