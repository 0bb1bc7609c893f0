package e2e

// Controller-manager evidence on simulated nodes (internal/sim, in this test process) against a real
// `skiff server --disable-agent`: node loss and taint-based eviction with the ReplicaSet recreating pods
// elsewhere, the ServiceLB ingress following the Ready nodes, a rolling update within maxSurge/maxUnavailable,
// the pod GC of pods bound to a node that does not exist, and (SKIFF_BENCH_ROLLOUT=1) a 1,000-replica rollout.
// No kubelet, proxy or DNS runs, so these tests need no machine lock.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/bench"
	"github.com/skiff-sh/skiff/internal/sim"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// simNodes runs n simulated nodes named prefix+"node-NNNNN" until the returned stop is called (or the test
// ends); their leases renew every second and their Ready heartbeat every two. stop returns once the Sim has
// stopped; the nodes stay registered (they go silent, as a dead kubelet).
func simNodes(t *testing.T, rc *rest.Config, prefix string, n int, delays sim.Delays) (names []string, stop func()) {
	t.Helper()
	pods, hb, err := sim.Clients(rc, n, 500)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{
		Client: pods, HeartbeatClient: hb, Nodes: n, NamePrefix: prefix, Delays: delays,
		LeaseInterval: time.Second, StatusInterval: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("sim %s: %v", prefix, err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("sim %s: %v", prefix, err)
	case <-time.After(readyTimeout):
		t.Fatalf("sim %s: nodes not registered within %v", prefix, readyTimeout)
	}
	return s.NodeNames(), stop
}

// restAndClient returns c's admin REST config (for the simulator) and an unthrottled clientset.
func restAndClient(t *testing.T, c *cluster) (*rest.Config, kubernetes.Interface) {
	t.Helper()
	rc, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	return rc, clientFor(t, c, nil)
}

func deploymentOf(name string, replicas int32, tolerations []corev1.Toleration) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:  []corev1.Container{{Name: "app", Image: "skiff.dev/testapp:v1"}},
					Tolerations: tolerations,
				},
			},
		},
	}
}

// readyPodsByNode counts the deployment's Ready pods that are not being deleted, by node.
func readyPodsByNode(ctx context.Context, client kubernetes.Interface, ns, app string) (map[string]int, []corev1.Pod, error) {
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, nil, err
	}
	by := map[string]int{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				by[p.Spec.NodeName]++
			}
		}
	}
	return by, pods.Items, nil
}

func nodeTaints(n *corev1.Node) string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return strings.Join(out, ",")
}

func nodeReady(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func ingressIPs(s *corev1.Service) string {
	var out []string
	for _, i := range s.Status.LoadBalancer.Ingress {
		mode := ""
		if i.IPMode != nil {
			mode = string(*i.IPMode)
		}
		out = append(out, i.IP+"/"+mode)
	}
	return strings.Join(out, ",")
}

// TestNodeLossOnSimulatedNodes stops one of three simulated nodes: after the grace period it is Unknown and
// tainted unreachable, its pods are evicted once their 2 s toleration runs out and the ReplicaSet recreates them
// on the other nodes; the LoadBalancer Service drops its address. When the node comes back it loses the taints
// and gets its address back.
func TestNodeLossOnSimulatedNodes(t *testing.T) {
	c := startServer(t, "--node-monitor-grace-period", "4s")
	rc, client := restAndClient(t, c)
	ctx := context.Background()
	const ns = "default"

	live, _ := simNodes(t, rc, "live-", 2, sim.Delays{})
	lost, stopLost := simNodes(t, rc, "lost-", 1, sim.Delays{})
	victim := lost[0]
	all := append(append([]string(nil), live...), victim)
	// Every Sim numbers its node addresses from 172.16.0.1: give the victim its own, so the ingress tells it apart.
	// (The simulator's next heartbeat conflicts, re-reads the node and keeps it.)
	readdress := func() {
		t.Helper()
		patch := fmt.Sprintf(`{"status":{"addresses":[{"type":"InternalIP","address":"172.31.0.1"},{"type":"Hostname","address":%q}]}}`, victim)
		if _, err := client.CoreV1().Nodes().Patch(ctx, victim, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
	}
	readdress()

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodeIPs := func(names ...string) string {
		var ips []string
		for _, n := range names {
			node, err := client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range node.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					ips = append(ips, a.Address+"/VIP")
				}
			}
		}
		sort.Strings(ips)
		return strings.Join(ips, ",")
	}
	waitIngress := func(want string) {
		t.Helper()
		eventually(t, 30*time.Second, "LoadBalancer ingress "+want, func() (bool, string) {
			s, err := client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return ingressIPs(s) == want, ingressIPs(s)
		})
	}
	waitIngress(nodeIPs(all...))

	const replicas = 9
	tol := []corev1.Toleration{
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](2)},
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](2)},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, deploymentOf("web", replicas, tol), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var onVictim []corev1.Pod
	eventually(t, 60*time.Second, "9 Ready pods, some on "+victim, func() (bool, string) {
		by, pods, err := readyPodsByNode(ctx, client, ns, "web")
		if err != nil {
			return false, err.Error()
		}
		total := 0
		for _, n := range by {
			total += n
		}
		onVictim = onVictim[:0]
		for _, p := range pods {
			if p.Spec.NodeName == victim {
				onVictim = append(onVictim, p)
			}
		}
		return total == replicas && by[victim] > 0, fmt.Sprint(by)
	})

	stopped := time.Now()
	stopLost()
	eventually(t, 30*time.Second, victim+" Unknown and tainted unreachable", func() (bool, string) {
		n, err := client.CoreV1().Nodes().Get(ctx, victim, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		taints := nodeTaints(n)
		return nodeReady(n) == corev1.ConditionUnknown &&
			strings.Contains(taints, corev1.TaintNodeUnreachable+":NoExecute") &&
			strings.Contains(taints, corev1.TaintNodeUnreachable+":NoSchedule"), string(nodeReady(n)) + " " + taints
	})
	t.Logf("%s Unknown and tainted %v after its simulator stopped (grace 4s)", victim, time.Since(stopped).Round(100*time.Millisecond))
	waitIngress(nodeIPs(live...))

	eventually(t, 60*time.Second, "the pods of "+victim+" evicted and recreated on the live nodes", func() (bool, string) {
		for _, p := range onVictim {
			cur, err := client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return false, err.Error()
			}
			if cur.DeletionTimestamp == nil {
				return false, p.Name + " not evicted yet"
			}
		}
		by, _, err := readyPodsByNode(ctx, client, ns, "web")
		if err != nil {
			return false, err.Error()
		}
		return by[live[0]]+by[live[1]] == replicas && by[victim] == 0, fmt.Sprint(by)
	})
	for _, p := range onVictim {
		cur, err := client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		var reason string
		for _, c := range cur.Status.Conditions {
			if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
				reason = c.Reason
			}
		}
		if reason != "DeletionByTaintManager" {
			t.Errorf("evicted pod %s: DisruptionTarget reason %q, want DeletionByTaintManager", p.Name, reason)
		}
	}

	// The node comes back: Ready again, no taints, and its address is back in the ingress.
	simNodes(t, rc, "lost-", 1, sim.Delays{})
	readdress()
	eventually(t, 30*time.Second, victim+" Ready without taints", func() (bool, string) {
		n, err := client.CoreV1().Nodes().Get(ctx, victim, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return nodeReady(n) == corev1.ConditionTrue && len(n.Spec.Taints) == 0, string(nodeReady(n)) + " " + nodeTaints(n)
	})
	waitIngress(nodeIPs(all...))

	// Not a LoadBalancer any more: the ingress is cleared.
	cur, err := client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Type = corev1.ServiceTypeClusterIP
	cur.Spec.ExternalTrafficPolicy = ""
	cur.Spec.AllocateLoadBalancerNodePorts = nil
	for i := range cur.Spec.Ports {
		cur.Spec.Ports[i].NodePort = 0
	}
	if _, err := client.CoreV1().Services(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress("")
}

// rsState is what the rollout watcher keeps of one ReplicaSet.
type rsState struct{ spec, replicas, available int32 }

// watchRollout follows the ReplicaSets of app from rv and calls check after every event with the latest state of
// each; it returns a stop function that waits for the watcher.
func watchRollout(t *testing.T, client kubernetes.Interface, ns, app string, check func(map[types.UID]rsState)) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	list, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	state := map[types.UID]rsState{}
	for _, rs := range list.Items {
		state[rs.UID] = rsState{ptr.Deref(rs.Spec.Replicas, 0), rs.Status.Replicas, rs.Status.AvailableReplicas}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchFrom(ctx, t, list.ResourceVersion, func(opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = "app=" + app
			return client.AppsV1().ReplicaSets(ns).Watch(ctx, opts)
		}, func(ev watch.Event) {
			rs, ok := ev.Object.(*appsv1.ReplicaSet)
			if !ok {
				return
			}
			if ev.Type == watch.Deleted {
				delete(state, rs.UID)
			} else {
				state[rs.UID] = rsState{ptr.Deref(rs.Spec.Replicas, 0), rs.Status.Replicas, rs.Status.AvailableReplicas}
			}
			check(state)
		})
	}()
	return func() { cancel(); <-done }
}

// watchFrom delivers the events after resourceVersion rv to handle until ctx ends, watching again from the last
// seen resourceVersion whenever the server closes the watch (it ends every watch after a timeout).
func watchFrom(ctx context.Context, t *testing.T, rv string, start func(metav1.ListOptions) (watch.Interface, error), handle func(watch.Event)) {
	for ctx.Err() == nil {
		w, err := start(metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("watch: %v", err)
			}
			return
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				if ctx.Err() != nil {
					break
				}
				t.Errorf("watch error: %v", apierrors.FromObject(ev.Object))
				w.Stop()
				return
			}
			if m, ok := ev.Object.(metav1.Object); ok {
				rv = m.GetResourceVersion()
			}
			if ev.Type != watch.Bookmark {
				handle(ev)
			}
		}
		w.Stop()
	}
}

// TestRollingUpdateBoundsOnSimulatedNodes sets a new image on a 12-replica Deployment (maxSurge 3,
// maxUnavailable 2) on 4 simulated nodes whose pods take a moment to become Ready, and checks at every
// ReplicaSet event that the ReplicaSets together never want more than 15 pods nor have fewer than 10 available.
func TestRollingUpdateBoundsOnSimulatedNodes(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	ctx := context.Background()
	const ns, app, replicas, surge, unavailable = "default", "roll", 12, 3, 2
	simNodes(t, rc, "roll-", 4, sim.Delays{Start: 100 * time.Millisecond, Ready: 300 * time.Millisecond})

	d := deploymentOf(app, replicas, nil)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
		MaxSurge: ptr.To(intstr.FromInt32(surge)), MaxUnavailable: ptr.To(intstr.FromInt32(unavailable)),
	}}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.mustKubectl(t, "rollout", "status", "deployment/"+app, "--timeout=60s")

	var (
		mu                     sync.Mutex
		events, maxSpec, minAv = 0, int32(0), int32(replicas)
		violations             []string
	)
	stop := watchRollout(t, client, ns, app, func(state map[types.UID]rsState) {
		var spec, avail int32
		for _, s := range state {
			spec += s.spec
			avail += s.available
		}
		mu.Lock()
		defer mu.Unlock()
		events++
		maxSpec, minAv = max(maxSpec, spec), min(minAv, avail)
		if spec > replicas+surge || avail < replicas-unavailable {
			violations = append(violations, fmt.Sprintf("event %d: %d pods wanted (max %d), %d available (min %d)", events, spec, replicas+surge, avail, replicas-unavailable))
		}
	})
	began := time.Now()
	c.mustKubectl(t, "set", "image", "deployment/"+app, "app=skiff.dev/testapp:v2")
	c.mustKubectl(t, "rollout", "status", "deployment/"+app, "--timeout=90s")
	took := time.Since(began)

	eventually(t, 30*time.Second, "old ReplicaSet at 0 and the new one fully available", func() (bool, string) {
		rss, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err.Error()
		}
		var got []string
		ok := len(rss.Items) == 2
		for _, rs := range rss.Items {
			img := rs.Spec.Template.Spec.Containers[0].Image
			got = append(got, fmt.Sprintf("%s spec=%d replicas=%d available=%d", img, ptr.Deref(rs.Spec.Replicas, 0), rs.Status.Replicas, rs.Status.AvailableReplicas))
			want := int32(0)
			if strings.HasSuffix(img, ":v2") {
				want = replicas
			}
			ok = ok && ptr.Deref(rs.Spec.Replicas, 0) == want && rs.Status.Replicas == want && rs.Status.AvailableReplicas == want
		}
		return ok, strings.Join(got, "; ")
	})
	stop()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("rollout of %d replicas took %v; %d ReplicaSet events; at most %d pods wanted, at least %d available", replicas, took.Round(10*time.Millisecond), events, maxSpec, minAv)
	for _, v := range violations {
		t.Error(v)
	}
	if maxSpec <= replicas {
		t.Errorf("the rollout never surged (at most %d pods wanted)", maxSpec)
	}
}

// TestPodGCOrphaned creates a pod bound to a node that does not exist: after the 40 s quarantine the pod GC marks
// it Failed with DisruptionTarget (DeletionByPodGC) and deletes it.
func TestPodGCOrphaned(t *testing.T) {
	c := startServer(t)
	client := clientFor(t, c, nil)
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orphan"},
		Spec:       corev1.PodSpec{NodeName: "no-such-node", Containers: []corev1.Container{{Name: "app", Image: "skiff.dev/testapp:v1"}}},
	}
	created, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var failed *corev1.Pod
	deleted := false
	watchFrom(wctx, t, created.ResourceVersion, func(opts metav1.ListOptions) (watch.Interface, error) {
		opts.FieldSelector = "metadata.name=orphan"
		return client.CoreV1().Pods("default").Watch(wctx, opts)
	}, func(ev watch.Event) {
		if p, _ := ev.Object.(*corev1.Pod); p != nil && p.Status.Phase == corev1.PodFailed && failed == nil {
			failed = p
		}
		if ev.Type == watch.Deleted {
			deleted = true
			cancel()
		}
	})
	if !deleted {
		t.Fatal("orphaned pod not deleted within 90s")
	}
	if failed == nil {
		t.Fatal("the pod was deleted without being marked Failed first")
	}
	var cond *corev1.PodCondition
	for i, c := range failed.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			cond = &failed.Status.Conditions[i]
		}
	}
	if cond == nil || cond.Status != corev1.ConditionTrue || cond.Reason != "DeletionByPodGC" || cond.Message != "PodGC: node no longer exists" {
		t.Errorf("DisruptionTarget condition %+v, want True DeletionByPodGC \"PodGC: node no longer exists\"", cond)
	}
	t.Logf("orphaned pod collected %v after creation", time.Since(created.CreationTimestamp.Time).Round(time.Second))
}

// TestRolloutBenchmark (SKIFF_BENCH_ROLLOUT=1; SKIFF_BENCH_NODES, default 100, and SKIFF_BENCH_REPLICAS, default
// 1000) measures a rolling update with the default 25%/25% from `kubectl set image` until the new ReplicaSet is
// fully available and the old one at 0, on simulated nodes whose pods become Ready at once, and reports the
// server's peak RSS.
func TestRolloutBenchmark(t *testing.T) {
	if os.Getenv("SKIFF_BENCH_ROLLOUT") == "" {
		t.Skip("set SKIFF_BENCH_ROLLOUT=1 to run")
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	nodes, replicas := envInt("SKIFF_BENCH_NODES", 100), int32(envInt("SKIFF_BENCH_REPLICAS", 1000))
	c := startServer(t)
	rc, client := restAndClient(t, c)
	ctx := context.Background()
	simNodes(t, rc, "bench-", nodes, sim.Delays{})

	if _, err := client.AppsV1().Deployments("default").Create(ctx, deploymentOf("bench", replicas, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	done := func(image string) (bool, string) {
		rss, err := client.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=bench"})
		if err != nil {
			return false, err.Error()
		}
		ok := true
		var got []string
		for _, rs := range rss.Items {
			want := int32(0)
			if rs.Spec.Template.Spec.Containers[0].Image == image {
				want = replicas
			}
			got = append(got, fmt.Sprintf("%s %d/%d/%d", rs.Spec.Template.Spec.Containers[0].Image, ptr.Deref(rs.Spec.Replicas, 0), rs.Status.Replicas, rs.Status.AvailableReplicas))
			ok = ok && ptr.Deref(rs.Spec.Replicas, 0) == want && rs.Status.Replicas == want && rs.Status.AvailableReplicas == want
		}
		return ok && len(rss.Items) > 0, strings.Join(got, "; ")
	}
	eventually(t, 10*time.Minute, "initial rollout", func() (bool, string) { return done("skiff.dev/testapp:v1") })
	t.Logf("initial %d replicas available after %v", replicas, time.Since(began).Round(10*time.Millisecond))
	before, _ := bench.ReadMemory(c.PID)

	began = time.Now()
	c.mustKubectl(t, "set", "image", "deployment/bench", "app=skiff.dev/testapp:v2")
	eventually(t, 10*time.Minute, "rollout to v2", func() (bool, string) { return done("skiff.dev/testapp:v2") })
	took := time.Since(began)
	after, err := bench.ReadMemory(c.PID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BENCH rollout replicas=%d nodes=%d duration=%v server RSS before=%dMiB after=%dMiB peak(VmHWM)=%dMiB",
		replicas, nodes, took.Round(10*time.Millisecond), before.RSS>>20, after.RSS>>20, after.HWM>>20)
}
