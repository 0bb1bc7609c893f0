package scheduler_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/scheduler"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// The integration tests run the real `skiff server` (with its registered scheduler component, and no
// kubelet: --disable-agent), create plain Node objects with allocatable and a Ready condition, and watch
// placements through the real kubectl. The binary is $SKIFF_BIN or is built once per test process.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func skiffBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("SKIFF_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "skiff-sched-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "skiff")
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/skiff")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// server is one `skiff server` child process; its helpers fail s.t (see on).
type server struct {
	t          *testing.T
	dir        string
	kubeconfig string
	cacheDir   string
	client     *kubernetes.Clientset
	config     *rest.Config
}

func startServer(t *testing.T) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real server")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	bin := skiffBinary(t)
	s := &server{t: t, dir: t.TempDir(), cacheDir: filepath.Join(t.TempDir(), "kube-cache")}
	s.kubeconfig = filepath.Join(s.dir, "admin.kubeconfig")
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		logf, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("server-%d.log", attempt)))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "server", "--data-dir", s.dir, "--port", strconv.Itoa(port), "--disable-agent")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			if t.Failed() {
				data, _ := os.ReadFile(logf.Name())
				if len(data) > 4000 {
					data = data[len(data)-4000:]
				}
				t.Logf("server log tail:\n%s", data)
			}
		})
		if lastErr = s.waitReady(exited); lastErr == nil {
			return s
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	t.Fatalf("server not ready: %v", lastErr)
	return nil
}

// on returns a view of s whose helpers fail t (a subtest).
func (s *server) on(t *testing.T) *server {
	c := *s
	c.t = t
	return &c
}

func (s *server) waitReady(exited chan struct{}) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("server exited")
		default:
		}
		if _, err := os.Stat(s.kubeconfig); err == nil {
			cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
			if err == nil {
				cfg.QPS, cfg.Burst = 500, 1000
				hc, err := rest.HTTPClientFor(cfg)
				if err == nil {
					resp, err := hc.Get(cfg.Host + "/readyz")
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							s.config = cfg
							s.client = kubernetes.NewForConfigOrDie(cfg)
							return nil
						}
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no /readyz within 90s")
}

// kubectl runs the real kubectl against the server and returns its stdout.
func (s *server) kubectl(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", s.kubeconfig, "--cache-dir", s.cacheDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// wide returns pod name -> NODE column of `kubectl get pods -o wide` in ns ("<none>" when pending).
func (s *server) wide(ns string) map[string]string {
	s.t.Helper()
	out := s.kubectl("get", "pods", "-o", "wide", "-n", ns)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	res := map[string]string{}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "NAME") {
		return res
	}
	header := strings.Fields(lines[0])
	col := -1
	for i, h := range header {
		if h == "NODE" {
			col = i // the first; "NOMINATED NODE" comes later
			break
		}
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if col >= 0 && len(f) > col {
			res[f[0]] = f[col]
		}
	}
	return res
}

// waitNode polls `kubectl get pods -o wide` until pod shows a node for which ok holds.
func (s *server) waitNode(ns, pod string, ok func(node string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		node := s.wide(ns)[pod]
		if node != "" && node != "<none>" && ok(node) {
			return node
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("pod %s/%s: NODE %q after 60s\n%s", ns, pod, node, s.kubectl("get", "events", "-n", ns))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func anyNode(string) bool { return true }

// waitEvent polls `kubectl get events` for an event about pod with reason and returns its message.
func (s *server) waitEvent(ns, pod, reason string) string {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := s.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name="+pod+",reason="+reason,
			"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
		if msgs := strings.Split(strings.TrimSpace(out), "\n"); msgs[len(msgs)-1] != "" {
			return msgs[len(msgs)-1]
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s event for %s/%s after 60s\n%s", reason, ns, pod, s.kubectl("get", "events", "-n", ns))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *server) createNode(n *v1.Node) {
	s.t.Helper()
	if _, err := s.client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) createPod(p *v1.Pod) {
	s.t.Helper()
	p = p.DeepCopy()
	p.UID = ""
	if p.Spec.Priority != nil && *p.Spec.Priority == 0 {
		p.Spec.Priority = nil
	}
	if p.Spec.Priority != nil && p.Spec.PriorityClassName == "" {
		// The Priority admission step computes spec.priority from a PriorityClass and refuses any other value.
		pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("priority-", *p.Spec.Priority)}, Value: *p.Spec.Priority}
		if _, err := s.client.SchedulingV1().PriorityClasses().Create(context.Background(), pc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			s.t.Fatal(err)
		}
		p.Spec.PriorityClassName, p.Spec.Priority = pc.Name, nil
	}
	if len(p.Labels) == 0 {
		p.Labels = nil
	}
	zero := int64(0)
	p.Spec.TerminationGracePeriodSeconds = &zero
	if _, err := s.client.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) namespace(name string) string {
	s.t.Helper()
	if _, err := s.client.CoreV1().Namespaces().Create(context.Background(), &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	return name
}

// TestIntegrationPlacementRules checks each placement rule against the real server and kubectl, on three
// nodes: a and b (2 cpu, zones z1 and z2; a has disk=ssd) and c (8 cpu, tainted dedicated=gpu:NoSchedule).
func TestIntegrationPlacementRules(t *testing.T) {
	s := startServer(t)
	s.createNode(st.Node("a", "2", "4Gi", st.Labels("topology.kubernetes.io/zone", "z1", "disk", "ssd", "gen", "3")))
	s.createNode(st.Node("b", "2", "4Gi", st.Labels("topology.kubernetes.io/zone", "z2", "gen", "5")))
	s.createNode(st.Node("c", "8", "8Gi", st.Labels("topology.kubernetes.io/zone", "z3"), st.Taint("dedicated", "gpu", v1.TaintEffectNoSchedule)))
	inNS := func(ns string) st.PodOpt { return st.Namespace(ns) }
	not := func(bad ...string) func(string) bool {
		return func(n string) bool {
			for _, b := range bad {
				if n == b {
					return false
				}
			}
			return true
		}
	}
	is := func(want string) func(string) bool { return func(n string) bool { return n == want } }

	top := s
	t.Run("basic pod is bound with a Scheduled event", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("basic")
		s.createPod(st.Pod("web", "100m", "64Mi", inNS(ns)))
		node := s.waitNode(ns, "web", not("c"))
		if got, want := s.waitEvent(ns, "web", "Scheduled"), "Successfully assigned basic/web to "+node; got != want {
			t.Errorf("event %q, want %q", got, want)
		}
	})
	t.Run("too big: FailedScheduling and PodScheduled=False in Kubernetes' words", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("big")
		s.createPod(st.Pod("huge", "3", "64Mi", inNS(ns)))
		const want = "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
		if got := s.waitEvent(ns, "huge", "FailedScheduling"); got != want {
			t.Errorf("event\n got %q\nwant %q", got, want)
		}
		cond := s.kubectl("get", "pod", "huge", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}: {.status.conditions[?(@.type=="PodScheduled")].message}`)
		if cond != "Unschedulable: "+want {
			t.Errorf("condition %q", cond)
		}
		if node := s.wide(ns)["huge"]; node != "<none>" {
			t.Errorf("huge on %s", node)
		}
	})
	t.Run("nodeSelector, and a retry when a node gets the label", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("selector")
		s.createPod(st.Pod("ssd", "100m", "", inNS(ns), st.NodeSelector("disk", "ssd")))
		s.waitNode(ns, "ssd", is("a"))
		s.createPod(st.Pod("nvme", "100m", "", inNS(ns), st.NodeSelector("disk", "nvme")))
		const want = "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
		if got := s.waitEvent(ns, "nvme", "FailedScheduling"); got != want {
			t.Errorf("event\n got %q\nwant %q", got, want)
		}
		s.kubectl("label", "node", "b", "disk=nvme")
		s.waitNode(ns, "nvme", is("b"))
	})
	t.Run("node affinity operators", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("affinity")
		s.createPod(st.Pod("gt", "100m", "", inNS(ns), st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpGt, "4"))))
		s.createPod(st.Pod("lt", "100m", "", inNS(ns), st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpLt, "4"))))
		s.createPod(st.Pod("notin", "100m", "", inNS(ns), st.RequiredNodeTerm(st.Expr("topology.kubernetes.io/zone", v1.NodeSelectorOpNotIn, "z1"))))
		s.createPod(st.Pod("dne", "100m", "", inNS(ns), st.RequiredNodeTerm(st.Expr("disk", v1.NodeSelectorOpDoesNotExist))))
		s.waitNode(ns, "gt", is("b"))
		s.waitNode(ns, "lt", is("a"))
		s.waitNode(ns, "notin", is("b"))
		// b got disk=nvme above, c is tainted: nothing left.
		if got := s.waitEvent(ns, "dne", "FailedScheduling"); !strings.Contains(got, "2 node(s) didn't match Pod's node affinity/selector") {
			t.Errorf("event %q", got)
		}
	})
	t.Run("tolerations let a pod onto the tainted node", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("taints")
		s.createPod(st.Pod("gpu", "100m", "", inNS(ns), st.NodeSelector("topology.kubernetes.io/zone", "z3"),
			st.Toleration("dedicated", v1.TolerationOpEqual, "gpu", v1.TaintEffectNoSchedule)))
		s.waitNode(ns, "gpu", is("c"))
	})
	t.Run("host ports", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("ports")
		s.createPod(st.Pod("p1", "", "", inNS(ns), st.NodeSelector("disk", "ssd"), st.HostPort(8080, v1.ProtocolTCP, "")))
		s.waitNode(ns, "p1", is("a"))
		s.createPod(st.Pod("p2", "", "", inNS(ns), st.NodeSelector("disk", "ssd"), st.HostPort(8080, v1.ProtocolTCP, "")))
		const want = "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
		if got := s.waitEvent(ns, "p2", "FailedScheduling"); got != want {
			t.Errorf("event\n got %q\nwant %q", got, want)
		}
	})
	t.Run("inter-pod affinity and anti-affinity", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("interpod")
		s.createPod(st.Pod("db", "100m", "", inNS(ns), st.PodLabels("app", "db"), st.NodeSelector("topology.kubernetes.io/zone", "z2")))
		s.waitNode(ns, "db", is("b"))
		s.createPod(st.Pod("near", "100m", "", inNS(ns), st.RequiredAffinity(st.Term("app", "db", "topology.kubernetes.io/zone"))))
		s.waitNode(ns, "near", is("b"))
		s.createPod(st.Pod("far", "100m", "", inNS(ns), st.RequiredAntiAffinity(st.Term("app", "db", "kubernetes.io/hostname"))))
		s.waitNode(ns, "far", is("a"))
		for _, n := range []string{"r1", "r2", "r3"} {
			s.createPod(st.Pod(n, "100m", "", inNS(ns), st.PodLabels("app", "r"), st.RequiredAntiAffinity(st.Term("app", "r", "kubernetes.io/hostname"))))
		}
		nodes := map[string]bool{}
		pending := ""
		deadline := time.Now().Add(60 * time.Second)
		for len(nodes) < 2 || pending == "" {
			nodes, pending = map[string]bool{}, ""
			for _, n := range []string{"r1", "r2", "r3"} {
				switch node := s.wide(ns)[n]; node {
				case "<none>", "":
					pending = n
				default:
					nodes[node] = true
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("replicas: %v pending %q", nodes, pending)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got := s.waitEvent(ns, pending, "FailedScheduling"); !strings.Contains(got, "2 node(s) didn't match pod anti-affinity rules") {
			t.Errorf("event %q", got)
		}
	})
	t.Run("topology spread DoNotSchedule", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("spread")
		zones := map[string]int{}
		for i := 0; i < 4; i++ {
			name := fmt.Sprint("s", i)
			s.createPod(st.Pod(name, "10m", "", inNS(ns), st.PodLabels("app", "s"),
				st.Spread(1, "topology.kubernetes.io/zone", v1.DoNotSchedule, "app", "s"),
				st.RequiredNodeTerm(st.Expr("topology.kubernetes.io/zone", v1.NodeSelectorOpIn, "z1", "z2"))))
			zones[s.waitNode(ns, name, anyNode)]++
		}
		if zones["a"] != 2 || zones["b"] != 2 {
			t.Errorf("spread %v, want 2 and 2", zones)
		}
	})
	t.Run("cordon", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("cordon")
		s.kubectl("cordon", "a")
		s.createPod(st.Pod("c1", "10m", "", inNS(ns), st.NodeSelector("disk", "ssd")))
		if got := s.waitEvent(ns, "c1", "FailedScheduling"); !strings.Contains(got, "1 node(s) were unschedulable") {
			t.Errorf("event %q", got)
		}
		s.kubectl("uncordon", "a")
		s.waitNode(ns, "c1", is("a"))
	})
	t.Run("preemption evicts a lower-priority pod", func(t *testing.T) {
		s := top.on(t)
		ns := s.namespace("preempt")
		s.createPod(st.Pod("low", "1", "", inNS(ns), st.NodeSelector("disk", "ssd")))
		s.waitNode(ns, "low", is("a"))
		s.createPod(st.Pod("high", "1500m", "", inNS(ns), st.NodeSelector("disk", "ssd"), st.Priority(1000)))
		if got := s.waitEvent(ns, "low", "Preempted"); !strings.HasSuffix(got, "on node a") {
			t.Errorf("Preempted event %q", got)
		}
		s.waitNode(ns, "high", is("a"))
		if _, ok := s.wide(ns)["low"]; ok {
			t.Errorf("victim still listed:\n%s", s.kubectl("get", "pods", "-o", "wide", "-n", ns))
		}
	})
}

// TestIntegrationRestart runs a scheduler in-process against the real server (with its own schedulerName,
// so the server's own scheduler leaves these pods alone), stops it in the middle of 200 pods and starts
// another: every pod ends bound, and every pod was bound by exactly one successful pods/binding call.
func TestIntegrationRestart(t *testing.T) {
	s := startServer(t)
	for i := 0; i < 5; i++ {
		s.createNode(st.Node(fmt.Sprint("n", i), "64", "64Gi"))
	}
	var mu sync.Mutex
	binds := map[string]int{}     // 201 responses to pods/binding, per pod
	conflicts := map[string]int{} // 409 responses: a second binding of a bound pod
	cfg := rest.CopyConfig(s.config)
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/binding") {
				parts := strings.Split(r.URL.Path, "/")
				mu.Lock()
				switch resp.StatusCode {
				case http.StatusCreated:
					binds[parts[len(parts)-2]]++
				case http.StatusConflict:
					conflicts[parts[len(parts)-2]]++
				}
				mu.Unlock()
			}
			return resp, err
		})
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	const n = 200
	for i := 0; i < n; i++ {
		p := st.Pod(fmt.Sprintf("p%03d", i), "10m", "10Mi")
		p.Spec.SchedulerName = "restart-test"
		s.createPod(p)
	}
	run := func(seed int64) (*scheduler.Scheduler, context.CancelFunc, chan struct{}) {
		sched, err := scheduler.New(scheduler.Config{Client: client, SchedulerName: "restart-test", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = sched.Start(ctx) }()
		return sched, cancel, done
	}
	sched, cancel, done := run(1)
	eventually(t, "some pods bound", func() bool { return sched.Stats().Scheduled >= 20 })
	cancel()
	<-done
	first := sched.Stats().Scheduled
	sched, cancel, done = run(2)
	defer func() { cancel(); <-done }()
	eventually(t, "all pods bound", func() bool {
		list, err := s.client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		bound := 0
		for _, p := range list.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == n
	})
	mu.Lock()
	defer mu.Unlock()
	if len(binds) != n {
		t.Errorf("%d pods bound through pods/binding, want %d", len(binds), n)
	}
	for pod, c := range binds {
		if c != 1 {
			t.Errorf("%s bound %d times", pod, c)
		}
	}
	if len(conflicts) > 0 {
		t.Errorf("pods bound twice (409 on a second binding): %v", conflicts)
	}
	t.Logf("first scheduler bound %d pods before it was stopped; the second bound the rest (%d)", first, sched.Stats().Scheduled)
	if out := s.kubectl("get", "pods", "-o", "wide"); strings.Count(out, "<none>   <none>") > 0 {
		t.Errorf("pending pods left:\n%s", out)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestIntegrationLeaderElection runs two in-process schedulers on one Lease: one binds, and when it stops
// the other takes over.
func TestIntegrationLeaderElection(t *testing.T) {
	s := startServer(t)
	s.createNode(st.Node("n0", "64", "64Gi"))
	le := scheduler.LeaderConfig{Name: "le-test", LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond}
	run := func(id string) (context.CancelFunc, chan struct{}) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		cfg := le
		cfg.Identity = id
		go func() {
			defer close(done)
			if err := scheduler.RunWithLeaderElection(ctx, s.client, cfg, scheduler.Config{Client: s.client, SchedulerName: "le-test"}); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}()
		return cancel, done
	}
	cancelA, doneA := run("a")
	cancelB, doneB := run("b")
	defer func() { cancelB(); <-doneB }()
	holder := func() string {
		l, err := s.client.CoordinationV1().Leases("kube-system").Get(context.Background(), "le-test", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	eventually(t, "a leader", func() bool { return holder() != "" })
	first := holder()
	pod := func(name string) {
		p := st.Pod(name, "10m", "")
		p.Spec.SchedulerName = "le-test"
		s.createPod(p)
	}
	pod("one")
	s.waitNode("default", "one", anyNode)
	// Stop the leader (its Lease is released); the other campaigns and schedules the next pod.
	if first == "a" {
		cancelA()
		<-doneA
	} else {
		cancelB()
		<-doneB
		cancelB, doneB = cancelA, doneA
	}
	eventually(t, "a new leader", func() bool { h := holder(); return h != "" && h != first })
	pod("two")
	s.waitNode("default", "two", anyNode)
}
