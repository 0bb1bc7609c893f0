package e2e

// Issue 4's integration evidence through the real kubectl: Deployments, ReplicaSets, the garbage collector and
// the namespace controller of a real `skiff server --disable-agent`, with pods run by simulated nodes
// (internal/sim, in this test process: pods go Running and Ready without containers). One server and one set of
// simulated nodes serve every subtest; each subtest has its own namespace and runs in parallel with the others.
// No kubelet, proxy or DNS runs, so this file needs no machine lock.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// neverReadyTaint keeps ordinary pods off the simulated node whose pods never become Ready.
const neverReadyTaint = "skiff.dev/never-ready"

// rolloutTimeout bounds `kubectl rollout status` (below kubectlTimeout, so kubectl reports it itself).
const rolloutTimeout = "--timeout=50s"

// ctlEnv is what every subtest shares: the server, a client for polling and the never-ready simulated node.
type ctlEnv struct {
	c         *cluster
	client    kubernetes.Interface
	neverNode string
}

// TestControllersKubectl drives Deployments through the real kubectl on simulated nodes: scale, pod replacement,
// a maxUnavailable=0 rolling update with history and undo, a stuck rollout, pause/resume/restart, each cascading
// delete policy and namespace deletion.
func TestControllersKubectl(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	// Simulated pods take a moment to become Ready, so rollouts have unready pods to respect.
	simNodes(t, rc, "ctl-", 3, sim.Delays{Start: 50 * time.Millisecond, Ready: 200 * time.Millisecond})
	// One simulated node whose pods run but never become Ready: a readiness probe that never passes. It is
	// tainted so that only pods that ask for it land there.
	never, _ := simNodes(t, rc, "never-", 1, sim.Delays{Ready: 24 * time.Hour})
	c.mustKubectl(t, "taint", "node", never[0], neverReadyTaint+"=true:NoSchedule")

	env := &ctlEnv{c: c, client: client, neverNode: never[0]}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *ctlEnv, string)
	}{
		{"Scale", testKubectlScale},
		{"DeletePodReplaced", testKubectlDeletePodReplaced},
		{"RollingUpdateHistoryUndo", testKubectlRollingUpdateUndo},
		{"ProgressDeadline", testKubectlProgressDeadline},
		{"PauseResumeRestart", testKubectlPauseResumeRestart},
		{"DeleteCascade", testKubectlDeleteCascade},
		{"DeleteNamespace", testKubectlDeleteNamespace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := "ctl-" + strings.ToLower(tc.name)
			c.mustKubectl(t, "create", "namespace", ns)
			tc.run(t, env, ns)
		})
	}
}

// deploymentYAML is a Deployment manifest of replicas pods of image labelled app=name; extra holds more spec
// fields, each line indented by two spaces.
func deploymentYAML(name string, replicas int, image, extra string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
%[4]s  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: %[3]s
`, name, replicas, image, extra)
}

// rolloutOK runs `kubectl rollout status` and requires upstream's success line.
func (e *ctlEnv) rolloutOK(t *testing.T, ns, name string) {
	t.Helper()
	out := e.c.mustKubectl(t, "rollout", "status", "-n", ns, "deployment/"+name, rolloutTimeout)
	wantContains(t, "rollout status", out, fmt.Sprintf("deployment %q successfully rolled out", name))
}

// get returns `kubectl get` of one object with a jsonpath template.
func (e *ctlEnv) get(t *testing.T, ns, what, jsonpath string) string {
	t.Helper()
	return e.c.mustKubectl(t, "get", "-n", ns, what, "-o", "jsonpath="+jsonpath)
}

// podState is one pod as the tests look at it.
type podState struct {
	name, hash, image, owner string
	ready, deleting          bool
	restartedAt              string
}

func podStateOf(p *corev1.Pod) podState {
	s := podState{name: p.Name, hash: p.Labels[appsv1.DefaultDeploymentUniqueLabelKey], deleting: p.DeletionTimestamp != nil,
		restartedAt: p.Annotations["kubectl.kubernetes.io/restartedAt"]}
	if len(p.Spec.Containers) > 0 {
		s.image = p.Spec.Containers[0].Image
	}
	if ref := metav1.GetControllerOf(p); ref != nil {
		s.owner = string(ref.UID)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			s.ready = true
		}
	}
	return s
}

// livePods lists the pods of app that are not being deleted.
func (e *ctlEnv) livePods(ns, app string) ([]podState, error) {
	list, err := e.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	var out []podState
	for i := range list.Items {
		if s := podStateOf(&list.Items[i]); !s.deleting {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// replicaSets lists the ReplicaSets of app, lowest revision first.
func (e *ctlEnv) replicaSets(ns, app string) ([]appsv1.ReplicaSet, error) {
	list, err := e.client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	rev := func(rs *appsv1.ReplicaSet) int {
		n, _ := strconv.Atoi(rs.Annotations["deployment.kubernetes.io/revision"])
		return n
	}
	sort.Slice(list.Items, func(i, j int) bool { return rev(&list.Items[i]) < rev(&list.Items[j]) })
	return list.Items, nil
}

func describeRS(rss []appsv1.ReplicaSet) string {
	var out []string
	for _, rs := range rss {
		out = append(out, fmt.Sprintf("%s rev=%s spec=%d replicas=%d ready=%d available=%d", rs.Name,
			rs.Annotations["deployment.kubernetes.io/revision"], ptr.Deref(rs.Spec.Replicas, 0),
			rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas))
	}
	return strings.Join(out, "; ")
}

// converged reports whether Deployment name has settled at replicas: its status counts and observedGeneration,
// exactly one ReplicaSet with pods (every other at 0), that ReplicaSet's status, and replicas live Ready pods
// all owned by it. It returns the settled ReplicaSet.
func (e *ctlEnv) converged(ns, name string, replicas int32) (bool, string, *appsv1.ReplicaSet) {
	d, err := e.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return false, err.Error(), nil
	}
	st := d.Status
	state := fmt.Sprintf("generation=%d observedGeneration=%d replicas=%d updated=%d ready=%d available=%d unavailable=%d",
		d.Generation, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, st.UnavailableReplicas)
	ok := st.ObservedGeneration == d.Generation && st.Replicas == replicas && st.UpdatedReplicas == replicas &&
		st.ReadyReplicas == replicas && st.AvailableReplicas == replicas && st.UnavailableReplicas == 0
	rss, err := e.replicaSets(ns, name)
	if err != nil {
		return false, err.Error(), nil
	}
	state += "; " + describeRS(rss)
	var active *appsv1.ReplicaSet
	for i, rs := range rss {
		if ptr.Deref(rs.Spec.Replicas, 0) == 0 {
			ok = ok && rs.Status.Replicas == 0
			continue
		}
		if active != nil {
			ok = false
		}
		active = &rss[i]
	}
	if active == nil {
		return false, state, nil
	}
	ok = ok && ptr.Deref(active.Spec.Replicas, 0) == replicas && active.Status.Replicas == replicas &&
		active.Status.FullyLabeledReplicas == replicas && active.Status.ReadyReplicas == replicas &&
		active.Status.AvailableReplicas == replicas && active.Status.ObservedGeneration == active.Generation
	pods, err := e.livePods(ns, name)
	if err != nil {
		return false, err.Error(), nil
	}
	ready := 0
	for _, p := range pods {
		if p.ready && p.owner == string(active.UID) {
			ready++
		}
	}
	state += fmt.Sprintf("; %d live pods, %d Ready and owned by %s", len(pods), ready, active.Name)
	return ok && len(pods) == int(replicas) && ready == int(replicas), state, active
}

// waitConverged polls converged and returns the settled ReplicaSet.
func (e *ctlEnv) waitConverged(t *testing.T, ns, name string, replicas int32) *appsv1.ReplicaSet {
	t.Helper()
	var rs *appsv1.ReplicaSet
	eventually(t, 60*time.Second, fmt.Sprintf("deployment %s/%s settled at %d replicas", ns, name, replicas), func() (bool, string) {
		ok, state, active := e.converged(ns, name, replicas)
		rs = active
		return ok, state
	})
	return rs
}

// condition returns the Deployment's condition of type ct as "status/reason".
func (e *ctlEnv) condition(ns, name string, ct appsv1.DeploymentConditionType) (string, string) {
	d, err := e.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return err.Error(), ""
	}
	for _, c := range d.Status.Conditions {
		if c.Type == ct {
			return string(c.Status) + "/" + c.Reason, c.Message
		}
	}
	return "absent", ""
}

func testKubectlScale(t *testing.T, e *ctlEnv, ns string) {
	e.c.mustStdin(t, deploymentYAML("web", 3, "skiff.dev/testapp:v1", ""), "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, "web")
	first := e.waitConverged(t, ns, "web", 3)

	for _, n := range []int32{7, 2} {
		out := e.c.mustKubectl(t, "scale", "-n", ns, "deployment/web", fmt.Sprintf("--replicas=%d", n))
		wantContains(t, "kubectl scale", out, "deployment.apps/web scaled")
		rs := e.waitConverged(t, ns, "web", n)
		if rs.UID != first.UID {
			t.Errorf("scaling to %d made ReplicaSet %s, want the same %s", n, rs.Name, first.Name)
		}
		// As `kubectl get` shows it.
		tb := parseTable(t, e.c.mustKubectl(t, "get", "-n", ns, "deployment", "web"))
		want := fmt.Sprint(n)
		matchCells(t, "kubectl get deployment", tb.row(t, "NAME", "web"), []string{"web", want + "/" + want, want, want, ageCell})
		tb = parseTable(t, e.c.mustKubectl(t, "get", "-n", ns, "replicaset"))
		matchCells(t, "kubectl get replicaset", tb.row(t, "NAME", first.Name), []string{first.Name, want, want, want, ageCell})
	}
	// The ScalingReplicaSet events, worded as upstream.
	eventually(t, 30*time.Second, "ScalingReplicaSet events", func() (bool, string) {
		out := e.get(t, ns, "events", `{range .items[?(@.reason=="ScalingReplicaSet")]}{.message}{"\n"}{end}`)
		return strings.Contains(out, fmt.Sprintf("Scaled up replica set %s from 0 to 3", first.Name)) &&
			strings.Contains(out, fmt.Sprintf("Scaled up replica set %s from 3 to 7", first.Name)) &&
			strings.Contains(out, fmt.Sprintf("Scaled down replica set %s from 7 to 2", first.Name)), out
	})
}

func testKubectlDeletePodReplaced(t *testing.T, e *ctlEnv, ns string) {
	e.c.mustStdin(t, deploymentYAML("del", 3, "skiff.dev/testapp:v1", ""), "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, "del")
	rs := e.waitConverged(t, ns, "del", 3)
	before, err := e.livePods(ns, "del")
	if err != nil {
		t.Fatal(err)
	}
	victim := before[0].name
	out := e.c.mustKubectl(t, "delete", "-n", ns, "pod", victim)
	wantContains(t, "kubectl delete pod", out, fmt.Sprintf("pod %q deleted", victim))
	e.waitConverged(t, ns, "del", 3)
	after, err := e.livePods(ns, "del")
	if err != nil {
		t.Fatal(err)
	}
	kept, added := 0, 0
	for _, p := range after {
		switch {
		case p.name == victim:
			t.Errorf("deleted pod %s is back", victim)
		case slices.ContainsFunc(before, func(b podState) bool { return b.name == p.name }):
			kept++
		default:
			added++
			if p.owner != string(rs.UID) || !strings.HasPrefix(p.name, rs.Name+"-") {
				t.Errorf("replacement %s owned by %s, want ReplicaSet %s (%s)", p.name, p.owner, rs.Name, rs.UID)
			}
		}
	}
	if kept != 2 || added != 1 {
		t.Errorf("after deleting %s: %d pods kept, %d new (%v), want 2 and 1", victim, kept, added, after)
	}
	_, stderr, code := e.c.kubectl(t, "get", "-n", ns, "pod", victim)
	wantExit(t, "kubectl get deleted pod", code, 1, stderr)
	wantContains(t, "kubectl get deleted pod", stderr, fmt.Sprintf(`pods %q not found`, victim))
}

// readyWatch follows the pods of app and records the fewest live Ready ones seen after any event.
type readyWatch struct {
	mu        sync.Mutex
	pods      map[string]podState
	events    int
	minReady  int
	maxPods   int
	lowest    string
	stopWatch func()
}

func (e *ctlEnv) watchReady(t *testing.T, ns, app string) *readyWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	list, err := e.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w := &readyWatch{pods: map[string]podState{}}
	for i := range list.Items {
		w.pods[list.Items[i].Name] = podStateOf(&list.Items[i])
	}
	w.minReady, w.maxPods = w.count()
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchFrom(ctx, t, list.ResourceVersion, func(opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = "app=" + app
			return e.client.CoreV1().Pods(ns).Watch(ctx, opts)
		}, func(ev watch.Event) {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				return
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if ev.Type == watch.Deleted {
				delete(w.pods, p.Name)
			} else {
				w.pods[p.Name] = podStateOf(p)
			}
			w.events++
			ready, live := w.count()
			w.maxPods = max(w.maxPods, live)
			if ready < w.minReady {
				w.minReady = ready
				w.lowest = fmt.Sprintf("event %d (%s %s)", w.events, ev.Type, p.Name)
			}
		})
	}()
	w.stopWatch = func() { cancel(); <-done }
	return w
}

// count returns the live Ready pods and the live pods; the caller holds mu or owns w.
func (w *readyWatch) count() (ready, live int) {
	for _, p := range w.pods {
		if p.deleting {
			continue
		}
		live++
		if p.ready {
			ready++
		}
	}
	return ready, live
}

func (w *readyWatch) stop() (events, minReady, maxPods int, lowest string) {
	w.stopWatch()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events, w.minReady, w.maxPods, w.lowest
}

// rolloutHistory parses `kubectl rollout history` into "REVISION CHANGE-CAUSE" lines.
func (e *ctlEnv) rolloutHistory(t *testing.T, ns, name string) []string {
	t.Helper()
	out := e.c.mustKubectl(t, "rollout", "history", "-n", ns, "deployment/"+name)
	ls := lines(out)
	if len(ls) < 2 || ls[0] != "deployment.apps/"+name || !strings.HasPrefix(ls[1], "REVISION") {
		t.Fatalf("kubectl rollout history: unexpected output %q", out)
	}
	var rows []string
	for _, l := range ls[2:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	return rows
}

// revisionOf returns the deployment.kubernetes.io/revision and revision-history annotations of the
// ReplicaSet of app whose pod-template-hash is hash, and the Deployment's own revision.
func (e *ctlEnv) revisionOf(ns, app, hash string) (rs, history, deployment string, err error) {
	rss, err := e.replicaSets(ns, app)
	if err != nil {
		return "", "", "", err
	}
	for _, r := range rss {
		if r.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			rs, history = r.Annotations["deployment.kubernetes.io/revision"], r.Annotations["deployment.kubernetes.io/revision-history"]
		}
	}
	d, err := e.client.AppsV1().Deployments(ns).Get(context.Background(), app, metav1.GetOptions{})
	if err != nil {
		return "", "", "", err
	}
	return rs, history, d.Annotations["deployment.kubernetes.io/revision"], nil
}

func testKubectlRollingUpdateUndo(t *testing.T, e *ctlEnv, ns string) {
	const app, replicas = "roll", 4
	manifest := strings.Replace(deploymentYAML(app, replicas, "skiff.dev/testapp:v1", `  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
`), "  name: roll\n", "  name: roll\n  annotations: {kubernetes.io/change-cause: create v1}\n", 1)
	e.c.mustStdin(t, manifest, "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, app)
	v1 := e.waitConverged(t, ns, app, replicas)
	hash1 := v1.Labels[appsv1.DefaultDeploymentUniqueLabelKey]

	// Every rollout below keeps maxUnavailable=0: the watcher must never see fewer than 4 Ready pods.
	w := e.watchReady(t, ns, app)

	wantContains(t, "kubectl set image", e.c.mustKubectl(t, "set", "image", "-n", ns, "deployment/"+app, "app=skiff.dev/testapp:v2"),
		"deployment.apps/roll image updated")
	e.c.mustKubectl(t, "annotate", "-n", ns, "--overwrite", "deployment/"+app, "kubernetes.io/change-cause=set image v2")
	e.rolloutOK(t, ns, app)
	v2 := e.waitConverged(t, ns, app, replicas)
	hash2 := v2.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash2 == hash1 {
		t.Fatalf("the new template kept pod-template-hash %s", hash1)
	}
	eventually(t, 30*time.Second, "rollout history with both change causes", func() (bool, string) {
		h := e.rolloutHistory(t, ns, app)
		return slices.Equal(h, []string{"1 create v1", "2 set image v2"}), fmt.Sprint(h)
	})
	wantContains(t, "rollout history --revision=2", e.c.mustKubectl(t, "rollout", "history", "-n", ns, "deployment/"+app, "--revision=2"),
		"skiff.dev/testapp:v2")

	// Undo: the v1 ReplicaSet (same pod-template-hash) comes back as revision 3, remembering revision 1.
	wantContains(t, "kubectl rollout undo", e.c.mustKubectl(t, "rollout", "undo", "-n", ns, "deployment/"+app),
		"deployment.apps/roll rolled back")
	e.rolloutOK(t, ns, app)
	back := e.waitConverged(t, ns, app, replicas)
	if back.UID != v1.UID {
		t.Errorf("undo settled on ReplicaSet %s, want the v1 ReplicaSet %s back", back.Name, v1.Name)
	}
	e.checkRevisions(t, ns, app, hash1, "3", "1", "skiff.dev/testapp:v1")
	eventually(t, 30*time.Second, "rollout history after undo", func() (bool, string) {
		h := e.rolloutHistory(t, ns, app)
		return slices.Equal(h, []string{"2 set image v2", "3 create v1"}), fmt.Sprint(h)
	})

	// Undo to a named revision: v2 again, as revision 4.
	wantContains(t, "kubectl rollout undo --to-revision=2", e.c.mustKubectl(t, "rollout", "undo", "-n", ns, "deployment/"+app, "--to-revision=2"),
		"deployment.apps/roll rolled back")
	e.rolloutOK(t, ns, app)
	if again := e.waitConverged(t, ns, app, replicas); again.UID != v2.UID {
		t.Errorf("undo --to-revision=2 settled on ReplicaSet %s, want %s", again.Name, v2.Name)
	}
	e.checkRevisions(t, ns, app, hash2, "4", "2", "skiff.dev/testapp:v2")
	_, stderr, code := e.c.kubectl(t, "rollout", "undo", "-n", ns, "deployment/"+app, "--to-revision=2")
	wantExit(t, "undo to a revision that was renumbered", code, 1, stderr)
	wantContains(t, "undo to a revision that was renumbered", stderr, "unable to find specified revision 2 in history")

	events, minReady, maxPods, lowest := w.stop()
	if lowest == "" {
		lowest = "the start"
	}
	t.Logf("three rollouts of %d replicas with maxSurge 1, maxUnavailable 0: %d pod events, at least %d Ready (fewest first at %s), at most %d live pods",
		replicas, events, minReady, lowest, maxPods)
	if minReady < replicas {
		t.Errorf("Ready pods dropped to %d during a maxUnavailable=0 rollout (at %s), want at least %d", minReady, lowest, replicas)
	}
	// maxSurge bounds the ReplicaSets' replicas (TestRollingUpdateBoundsOnSimulatedNodes checks that at every
	// ReplicaSet event), not live pods: an old pod may live on for a moment after its ReplicaSet was scaled down.
	if maxPods < replicas+1 {
		t.Errorf("at most %d live pods during the rollouts: the rollout never surged (maxSurge 1)", maxPods)
	}
}

// checkRevisions requires the ReplicaSet with pod-template-hash hash to hold revision rev (having been revision
// prior) and the Deployment to be at rev with image, its live pods all from that ReplicaSet.
func (e *ctlEnv) checkRevisions(t *testing.T, ns, app, hash, rev, prior, image string) {
	t.Helper()
	eventually(t, 30*time.Second, "revision "+rev+" on ReplicaSet "+hash, func() (bool, string) {
		rs, history, d, err := e.revisionOf(ns, app, hash)
		if err != nil {
			return false, err.Error()
		}
		return rs == rev && history == prior && d == rev, fmt.Sprintf("ReplicaSet revision=%q revision-history=%q, Deployment revision=%q", rs, history, d)
	})
	if got := e.get(t, ns, "deployment/"+app, "{.spec.template.spec.containers[0].image}"); got != image {
		t.Errorf("Deployment template image %q, want %q", got, image)
	}
	pods, err := e.livePods(ns, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.hash != hash || p.image != image {
			t.Errorf("pod %s: pod-template-hash %s image %s, want %s %s", p.name, p.hash, p.image, hash, image)
		}
	}
}

func testKubectlProgressDeadline(t *testing.T, e *ctlEnv, ns string) {
	const app = "stuck"
	e.c.mustStdin(t, deploymentYAML(app, 2, "skiff.dev/testapp:v1", "  progressDeadlineSeconds: 3\n"), "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, app)
	old := e.waitConverged(t, ns, app, 2)

	// A new version whose pods never become Ready: they land on the never-ready simulated node.
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"skiff.dev/testapp:never-ready"}],`+
		`"nodeSelector":{"kubernetes.io/hostname":%q},"tolerations":[{"key":%q,"operator":"Exists","effect":"NoSchedule"}]}}}}`,
		e.neverNode, neverReadyTaint)
	e.c.mustKubectl(t, "patch", "-n", ns, "deployment/"+app, "-p", patch)
	_, stderr, code := e.c.kubectl(t, "rollout", "status", "-n", ns, "deployment/"+app, rolloutTimeout)
	wantExit(t, "rollout status of a stuck rollout", code, 1, stderr)
	wantContains(t, "rollout status of a stuck rollout", stderr, fmt.Sprintf("error: deployment %q exceeded its progress deadline", app))
	describe := strings.Join(strings.Fields(e.c.mustKubectl(t, "describe", "-n", ns, "deployment/"+app)), " ")
	wantContains(t, "kubectl describe of a stuck rollout", describe, "Available True MinimumReplicasAvailable Progressing False ProgressDeadlineExceeded")

	progressing, msg := e.condition(ns, app, appsv1.DeploymentProgressing)
	if progressing != "False/ProgressDeadlineExceeded" {
		t.Errorf("Progressing = %s (%q), want False/ProgressDeadlineExceeded", progressing, msg)
	}
	rss, err := e.replicaSets(ns, app)
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 2 {
		t.Fatalf("ReplicaSets: %s, want the old and the stuck one", describeRS(rss))
	}
	stuck := rss[1]
	if want := fmt.Sprintf("ReplicaSet %q has timed out progressing.", stuck.Name); msg != want {
		t.Errorf("Progressing message %q, want %q", msg, want)
	}
	// maxUnavailable 25% of 2 rounds down to 0: the old pods stay and the Deployment stays Available.
	if available, msg := e.condition(ns, app, appsv1.DeploymentAvailable); available != "True/MinimumReplicasAvailable" {
		t.Errorf("Available = %s (%q), want True/MinimumReplicasAvailable", available, msg)
	}
	pods, err := e.livePods(ns, app)
	if err != nil {
		t.Fatal(err)
	}
	var oldReady, stuckRunning int
	for _, p := range pods {
		switch {
		case p.owner == string(old.UID) && p.ready:
			oldReady++
		case p.owner == string(stuck.UID) && !p.ready:
			stuckRunning++
		}
	}
	if oldReady != 2 || stuckRunning != 1 {
		t.Errorf("pods %v: %d old Ready and %d new not Ready, want 2 and 1", pods, oldReady, stuckRunning)
	}
	phase := e.c.mustKubectl(t, "get", "-n", ns, "pods", "-l", "pod-template-hash="+stuck.Labels[appsv1.DefaultDeploymentUniqueLabelKey],
		"-o", "jsonpath={.items[0].status.phase} {.items[0].spec.nodeName}")
	if phase != "Running "+e.neverNode {
		t.Errorf("the stuck pod is %q, want Running on %s", phase, e.neverNode)
	}

	// Scaling in the middle of the rollout spreads the change over both ReplicaSets in proportion (upstream's
	// proportional scaling): 2 old + 1 new of 3 allowed become 3 + 2 of 5 allowed (4 replicas, maxSurge 1).
	e.c.mustKubectl(t, "scale", "-n", ns, "deployment/"+app, "--replicas=4")
	eventually(t, 30*time.Second, "the scale-up spread over the old and the stuck ReplicaSet", func() (bool, string) {
		rss, err := e.replicaSets(ns, app)
		if err != nil {
			return false, err.Error()
		}
		ok := len(rss) == 2 && ptr.Deref(rss[0].Spec.Replicas, 0) == 3 && ptr.Deref(rss[1].Spec.Replicas, 0) == 2
		for _, rs := range rss {
			ok = ok && rs.Annotations["deployment.kubernetes.io/desired-replicas"] == "4" && rs.Annotations["deployment.kubernetes.io/max-replicas"] == "5"
		}
		return ok, describeRS(rss)
	})

	// Rolling back ends the stuck rollout.
	e.c.mustKubectl(t, "rollout", "undo", "-n", ns, "deployment/"+app)
	e.rolloutOK(t, ns, app)
	if rs := e.waitConverged(t, ns, app, 4); rs.UID != old.UID {
		t.Errorf("undo settled on %s, want %s", rs.Name, old.Name)
	}
	eventually(t, 30*time.Second, "Progressing True/NewReplicaSetAvailable after undo", func() (bool, string) {
		got, msg := e.condition(ns, app, appsv1.DeploymentProgressing)
		return got == "True/NewReplicaSetAvailable", got + " " + msg
	})
}

func testKubectlPauseResumeRestart(t *testing.T, e *ctlEnv, ns string) {
	const app = "pause"
	e.c.mustStdin(t, deploymentYAML(app, 2, "skiff.dev/testapp:v1", ""), "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, app)
	v1 := e.waitConverged(t, ns, app, 2)

	wantContains(t, "rollout pause", e.c.mustKubectl(t, "rollout", "pause", "-n", ns, "deployment/"+app), "deployment.apps/pause paused")
	e.c.mustKubectl(t, "set", "image", "-n", ns, "deployment/"+app, "app=skiff.dev/testapp:v2")
	eventually(t, 30*time.Second, "the paused Deployment's change observed", func() (bool, string) {
		gen := e.get(t, ns, "deployment/"+app, "{.metadata.generation} {.status.observedGeneration}")
		f := strings.Fields(gen)
		progressing, msg := e.condition(ns, app, appsv1.DeploymentProgressing)
		return len(f) == 2 && f[0] == f[1] && progressing == "Unknown/DeploymentPaused" && msg == "Deployment is paused", gen + " " + progressing + " " + msg
	})
	// Nothing rolls: the old ReplicaSet keeps every pod and none is up to date.
	d, err := e.client.AppsV1().Deployments(ns).Get(context.Background(), app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.Status; st.Replicas != 2 || st.UpdatedReplicas != 0 || st.AvailableReplicas != 2 {
		t.Errorf("paused Deployment status replicas/updated/available %d/%d/%d, want 2/0/2", st.Replicas, st.UpdatedReplicas, st.AvailableReplicas)
	}
	if rss, err := e.replicaSets(ns, app); err != nil || len(rss) != 1 || ptr.Deref(rss[0].Spec.Replicas, 0) != 2 {
		t.Errorf("ReplicaSets of the paused Deployment: %s (%v), want only %s at 2", describeRS(rss), err, v1.Name)
	}
	_, stderr, code := e.c.kubectl(t, "rollout", "restart", "-n", ns, "deployment/"+app)
	wantExit(t, "rollout restart while paused", code, 1, stderr)
	wantContains(t, "rollout restart while paused", stderr, "can't restart paused deployment (run rollout resume first)")

	wantContains(t, "rollout resume", e.c.mustKubectl(t, "rollout", "resume", "-n", ns, "deployment/"+app), "deployment.apps/pause resumed")
	e.rolloutOK(t, ns, app)
	v2 := e.waitConverged(t, ns, app, 2)
	if v2.UID == v1.UID || v2.Spec.Template.Spec.Containers[0].Image != "skiff.dev/testapp:v2" {
		t.Errorf("after resume the Deployment settled on %s (%s), want a new v2 ReplicaSet", v2.Name, v2.Spec.Template.Spec.Containers[0].Image)
	}

	wantContains(t, "rollout restart", e.c.mustKubectl(t, "rollout", "restart", "-n", ns, "deployment/"+app), "deployment.apps/pause restarted")
	restartedAt := e.get(t, ns, "deployment/"+app, `{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`)
	if _, err := time.Parse(time.RFC3339, restartedAt); err != nil {
		t.Errorf("restartedAt annotation %q: %v", restartedAt, err)
	}
	e.rolloutOK(t, ns, app)
	v3 := e.waitConverged(t, ns, app, 2)
	if v3.UID == v2.UID {
		t.Errorf("rollout restart did not roll: still on %s", v2.Name)
	}
	pods, err := e.livePods(ns, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.restartedAt != restartedAt {
			t.Errorf("pod %s restartedAt %q, want %q", p.name, p.restartedAt, restartedAt)
		}
	}
	if rev := e.get(t, ns, "deployment/"+app, `{.metadata.annotations.deployment\.kubernetes\.io/revision}`); rev != "3" {
		t.Errorf("revision after pause/resume/restart %q, want 3", rev)
	}
}

// ownerState describes an object's deletion-relevant metadata ("deleting finalizers=[...] owners=[...]", or
// "live ..." when it has no deletionTimestamp), or "gone". kind is deployment, replicaset or pod.
func (e *ctlEnv) ownerState(t *testing.T, ns, kind, name string) string {
	t.Helper()
	ctx := context.Background()
	var (
		obj metav1.Object
		err error
	)
	switch kind {
	case "deployment":
		obj, err = e.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	case "replicaset":
		obj, err = e.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
	case "pod":
		obj, err = e.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	default:
		t.Fatalf("ownerState: kind %q", kind)
	}
	if apierrors.IsNotFound(err) {
		return "gone"
	}
	if err != nil {
		return err.Error()
	}
	state := "live"
	if obj.GetDeletionTimestamp() != nil {
		state = "deleting"
	}
	var owners []string
	for _, o := range obj.GetOwnerReferences() {
		owners = append(owners, o.Name)
	}
	return fmt.Sprintf("%s finalizers=%v owners=%v", state, obj.GetFinalizers(), owners)
}

func testKubectlDeleteCascade(t *testing.T, e *ctlEnv, ns string) {
	var manifests []string
	for _, app := range []string{"orphan", "background", "foreground"} {
		manifests = append(manifests, deploymentYAML(app, 2, "skiff.dev/testapp:v1", ""))
	}
	e.c.mustStdin(t, strings.Join(manifests, "---\n"), "apply", "-n", ns, "-f", "-")
	rs := map[string]*appsv1.ReplicaSet{}
	for _, app := range []string{"orphan", "background", "foreground"} {
		e.rolloutOK(t, ns, app)
		rs[app] = e.waitConverged(t, ns, app, 2)
	}
	gone := func(app string) func() (bool, string) {
		return func() (bool, string) {
			rss, err := e.replicaSets(ns, app)
			if err != nil {
				return false, err.Error()
			}
			pods, err := e.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
			if err != nil {
				return false, err.Error()
			}
			return len(rss) == 0 && len(pods.Items) == 0, fmt.Sprintf("%d ReplicaSets, %d pods", len(rss), len(pods.Items))
		}
	}

	// Orphan: the Deployment goes, its ReplicaSet and pods stay, the ReplicaSet without owner.
	wantContains(t, "delete --cascade=orphan", e.c.mustKubectl(t, "delete", "-n", ns, "deployment/orphan", "--cascade=orphan"),
		`deployment.apps "orphan" deleted`)
	if got := e.ownerState(t, ns, "deployment", "orphan"); got != "gone" {
		t.Errorf("orphaned Deployment: %s, want gone", got)
	}
	orphanRS := rs["orphan"].Name
	if got := e.ownerState(t, ns, "replicaset", orphanRS); got != "live finalizers=[] owners=[]" {
		t.Errorf("orphaned ReplicaSet: %q, want no deletion, finalizers or owners", got)
	}

	// Background: the Deployment goes at once, the garbage collector removes the ReplicaSet and pods after.
	e.c.mustKubectl(t, "delete", "-n", ns, "deployment/background", "--cascade=background")
	eventually(t, 30*time.Second, "the background-deleted Deployment's ReplicaSet and pods gone", gone("background"))

	// Foreground: one pod held by a finalizer keeps its ReplicaSet, and so the Deployment, in deletion.
	pods, err := e.livePods(ns, "foreground")
	if err != nil {
		t.Fatal(err)
	}
	held := pods[0].name
	e.c.mustKubectl(t, "patch", "-n", ns, "pod/"+held, "--type=merge", "-p", `{"metadata":{"finalizers":["skiff.dev/hold"]}}`)
	e.c.mustKubectl(t, "delete", "-n", ns, "deployment/foreground", "--cascade=foreground", "--wait=false")
	fgRS := rs["foreground"].Name
	eventually(t, 30*time.Second, "Deployment and ReplicaSet waiting in foreground deletion for the held pod", func() (bool, string) {
		d, r, p := e.ownerState(t, ns, "deployment", "foreground"), e.ownerState(t, ns, "replicaset", fgRS), e.ownerState(t, ns, "pod", held)
		live, err := e.livePods(ns, "foreground")
		if err != nil {
			return false, err.Error()
		}
		return d == "deleting finalizers=[foregroundDeletion] owners=[]" &&
				r == "deleting finalizers=[foregroundDeletion] owners=[foreground]" &&
				p == "deleting finalizers=[skiff.dev/hold] owners=["+fgRS+"]" && len(live) == 0,
			fmt.Sprintf("deployment: %s; replicaset: %s; held pod: %s; %d live pods", d, r, p, len(live))
	})
	e.c.mustKubectl(t, "patch", "-n", ns, "pod/"+held, "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	eventually(t, 30*time.Second, "the foreground-deleted Deployment gone after its dependents", func() (bool, string) {
		ok, state := gone("foreground")()
		d := e.ownerState(t, ns, "deployment", "foreground")
		return ok && d == "gone", state + "; deployment: " + d
	})

	// By now the garbage collector has seen every deletion above: the orphans are still there, untouched.
	if got := e.ownerState(t, ns, "replicaset", orphanRS); got != "live finalizers=[] owners=[]" {
		t.Errorf("orphaned ReplicaSet later: %q, want no deletion, finalizers or owners", got)
	}
	orphans, err := e.livePods(ns, "orphan")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range orphans {
		if p.owner != string(rs["orphan"].UID) || !p.ready {
			t.Errorf("orphaned pod %+v, want Ready and still owned by ReplicaSet %s", p, rs["orphan"].Name)
		}
	}
	if len(orphans) != 2 {
		t.Errorf("%d orphaned pods, want 2", len(orphans))
	}
}

func testKubectlDeleteNamespace(t *testing.T, e *ctlEnv, ns string) {
	objects := deploymentYAML("doomed", 2, "skiff.dev/testapp:v1", "") + `---
apiVersion: v1
kind: Service
metadata: {name: doomed}
spec:
  selector: {app: doomed}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {key: value}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [skiff.dev/hold]}
---
apiVersion: v1
kind: Secret
metadata: {name: password}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: skiff.dev/testapp:v1}]
`
	e.c.mustStdin(t, objects, "apply", "-n", ns, "-f", "-")
	e.rolloutOK(t, ns, "doomed")
	e.waitConverged(t, ns, "doomed", 2)
	eventually(t, 30*time.Second, "endpoints of the Service", func() (bool, string) {
		out := e.get(t, ns, "endpoints/doomed", "{.subsets[*].addresses[*].ip}")
		return len(strings.Fields(out)) == 2, out
	})

	wantContains(t, "kubectl delete namespace", e.c.mustKubectl(t, "delete", "namespace", ns, "--wait=false"),
		fmt.Sprintf("namespace %q deleted", ns))
	if phase := e.get(t, "", "namespace/"+ns, "{.status.phase}"); phase != "Terminating" {
		t.Errorf("namespace phase %q right after delete, want Terminating", phase)
	}
	// (Admission reads the namespace from the watch cache, which may lag the delete by a moment.)
	eventually(t, 30*time.Second, "create in a Terminating namespace refused", func() (bool, string) {
		_, stderr, code := e.c.kubectl(t, "create", "configmap", "late", "-n", ns)
		return code == 1 && strings.Contains(stderr, fmt.Sprintf(`configmaps "late" is forbidden: unable to create new content in namespace %s because it is being terminated`, ns)),
			fmt.Sprintf("exit %d: %s", code, stderr)
	})

	// Everything but the held ConfigMap goes; the namespace says what it is waiting for.
	remaining := func() (map[string]int, error) {
		ctx := context.Background()
		count := map[string]int{}
		var errs []error
		add := func(kind string, n int, err error) {
			errs = append(errs, err)
			if n > 0 {
				count[kind] = n
			}
		}
		d, err := e.client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		add("deployments", len(ptr.Deref(d, appsv1.DeploymentList{}).Items), err)
		rs, err := e.client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		add("replicasets", len(ptr.Deref(rs, appsv1.ReplicaSetList{}).Items), err)
		p, err := e.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		add("pods", len(ptr.Deref(p, corev1.PodList{}).Items), err)
		s, err := e.client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		add("services", len(ptr.Deref(s, corev1.ServiceList{}).Items), err)
		ep, err := e.client.CoreV1().Endpoints(ns).List(ctx, metav1.ListOptions{})
		add("endpoints", len(ptr.Deref(ep, corev1.EndpointsList{}).Items), err)
		es, err := e.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		add("endpointslices", len(ptr.Deref(es, discoveryv1.EndpointSliceList{}).Items), err)
		cm, err := e.client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		add("configmaps", len(ptr.Deref(cm, corev1.ConfigMapList{}).Items), err)
		sec, err := e.client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		add("secrets", len(ptr.Deref(sec, corev1.SecretList{}).Items), err)
		sa, err := e.client.CoreV1().ServiceAccounts(ns).List(ctx, metav1.ListOptions{})
		add("serviceaccounts", len(ptr.Deref(sa, corev1.ServiceAccountList{}).Items), err)
		j, err := e.client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		add("jobs", len(ptr.Deref(j, batchv1.JobList{}).Items), err)
		ev, err := e.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		add("events", len(ptr.Deref(ev, corev1.EventList{}).Items), err)
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		return count, nil
	}
	eventually(t, 60*time.Second, "namespace emptied but for the held ConfigMap", func() (bool, string) {
		left, err := remaining()
		if err != nil {
			return false, err.Error()
		}
		out := e.get(t, "", "namespace/"+ns, `{.status.phase}{range .status.conditions[?(@.status=="True")]}; {.type} {.reason}: {.message}{end}`)
		want := "Terminating; NamespaceContentRemaining SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances" +
			"; NamespaceFinalizersRemaining SomeFinalizersRemain: Some content in the namespace has finalizers remaining: skiff.dev/hold in 1 resource instances"
		return len(left) == 1 && left["configmaps"] == 1 && out == want, fmt.Sprintf("%v; %s", left, out)
	})

	e.c.mustKubectl(t, "patch", "-n", ns, "configmap/held", "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	eventually(t, 60*time.Second, "namespace "+ns+" gone", func() (bool, string) {
		_, stderr, code := e.c.kubectl(t, "get", "namespace", ns)
		return code == 1 && strings.Contains(stderr, fmt.Sprintf(`namespaces %q not found`, ns)), stderr
	})
	left, err := remaining()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("objects left in the deleted namespace %s: %v", ns, left)
	}
	if _, err := e.client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s: %v, want NotFound", ns, err)
	}
}
