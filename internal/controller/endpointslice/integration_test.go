package endpointslice_test

// Integration test of the EndpointSlice, Endpoints and node lifecycle controllers: the real `skiff server` (built
// from ./cmd/skiff, or $SKIFF_BIN) run with --disable-agent and a 5 s --node-monitor-grace-period, whose controller
// manager runs the three controllers from its registry. No kubelet runs: the test's fakeKubelet registers two
// Nodes, renews their Leases and writes pod status (IPs, readiness), and stops doing so for one node to play a
// node that went away. Waits poll with deadlines; nothing sleeps for a fixed time.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	"github.com/skiff-sh/skiff/internal/controller/endpoints"
	"github.com/skiff-sh/skiff/internal/controller/endpointslice"
	"github.com/skiff-sh/skiff/internal/controller/manager"
	"github.com/skiff-sh/skiff/internal/controller/nodelifecycle"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const waitFor = 60 * time.Second

func TestMain(m *testing.M) { controllertest.Main(m) }

type cluster struct {
	*controllertest.Server
	t *testing.T
}

// startServer runs `skiff server` until the test ends and waits for /readyz.
func startServer(t *testing.T, args ...string) *cluster {
	t.Helper()
	return &cluster{Server: controllertest.StartServer(t, controllertest.ServerOptions{Args: args}), t: t}
}

// kubectl runs the real kubectl against the cluster.
func (c *cluster) kubectl(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := c.Kubectl(ctx, args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually polls cond until it holds or waitFor passes; cond's last error and description are reported.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, string, error)) {
	t.Helper()
	var last string
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, waitFor, true, func(ctx context.Context) (bool, error) {
		ok, state, err := cond(ctx)
		last, lastErr = state, err
		return err == nil && ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %v; last seen: %s (error %v)", what, waitFor, last, lastErr)
	}
}

// fakeKubelet stands in for the kubelets of simulated nodes (there are no machines behind them): it registers
// Nodes with a Ready condition, renews their Leases every second, posts Ready again when the node lifecycle
// controller has marked a live node otherwise, and writes pod status. Stop makes one node go silent.
type fakeKubelet struct {
	t      *testing.T
	client kubernetes.Interface
	mu     sync.Mutex // guards alive
	alive  map[string]bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newFakeKubelet(t *testing.T, client kubernetes.Interface) *fakeKubelet {
	ctx, cancel := context.WithCancel(context.Background())
	k := &fakeKubelet{t: t, client: client, alive: map[string]bool{}, cancel: cancel}
	k.wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, n := range k.liveNodes() {
				k.heartbeat(ctx, n)
			}
		}
	})
	t.Cleanup(func() { cancel(); k.wg.Wait() })
	return k
}

func (k *fakeKubelet) liveNodes() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for n, ok := range k.alive {
		if ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (k *fakeKubelet) setAlive(node string, alive bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.alive[node] = alive
}

func readyCondition(now metav1.Time) corev1.NodeCondition {
	return corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "fake kubelet of the integration test is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
}

// register creates a Ready node in zone and its Lease, and starts heartbeating for it.
func (k *fakeKubelet) register(name, zone string) {
	t := k.t
	t.Helper()
	ctx := context.Background()
	now := metav1.Now()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone, "skiff.test/fake-kubelet": "true"}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{readyCondition(now)}},
	}
	if _, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nodelifecycle.LeaseNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: ptr.To(metav1.NewMicroTime(now.Time))},
	}
	if _, err := k.client.CoordinationV1().Leases(nodelifecycle.LeaseNamespace).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k.setAlive(name, true)
}

// heartbeat renews node's Lease and, if the node is not Ready, posts Ready (as a kubelet's status loop would).
func (k *fakeKubelet) heartbeat(ctx context.Context, name string) {
	leases := k.client.CoordinationV1().Leases(nodelifecycle.LeaseNamespace)
	if l, err := leases.Get(ctx, name, metav1.GetOptions{}); err == nil {
		l.Spec.RenewTime = ptr.To(metav1.NowMicro())
		_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	n, err := k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return
	}
	for i, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue {
			n.Status.Conditions[i] = readyCondition(metav1.Now())
			_, _ = k.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		}
	}
}

// runPod writes the status a kubelet would for a started pod: Running, the given IP, Ready as given.
func (k *fakeKubelet) runPod(ns, name, ip string, ready bool) {
	t := k.t
	t.Helper()
	status := "False"
	if ready {
		status = "True"
	}
	now := time.Now().UTC().Format(time.RFC3339)
	patch := fmt.Sprintf(`{"status":{"phase":"Running","podIP":%q,"podIPs":[{"ip":%q}],"startTime":%q,"conditions":[`+
		`{"type":"Ready","status":%q,"lastTransitionTime":%q},{"type":"ContainersReady","status":%q,"lastTransitionTime":%q}]}}`,
		ip, ip, now, status, now, status, now)
	if _, err := k.client.CoreV1().Pods(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
}

func serverRunsControllers() bool {
	want := map[string]bool{endpointslice.Name: true, endpoints.Name: true, nodelifecycle.Name: true}
	for _, r := range manager.Controllers {
		delete(want, r.Name)
	}
	return len(want) == 0
}

// podOn is a pod of app web bound to node (no scheduler involved) serving its container port "http" on port,
// tolerating not-ready and unreachable for 1 s only, so that eviction follows quickly.
func podOn(ns, name, node string, port int32) *corev1.Pod {
	tolerate := func(key string) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](1)}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{Name: "web", Image: "registry.invalid/web:1",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}}}},
			Tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeNotReady), tolerate(corev1.TaintNodeUnreachable)},
		},
	}
}

// endpointState renders a Service's slices as sorted "ip:port ready/serving/terminating node zone" entries.
func endpointState(ctx context.Context, client kubernetes.Interface, ns, svc string) (string, []discoveryv1.EndpointSlice, error) {
	list, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return "", nil, err
	}
	var out []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			var ports []string
			for _, p := range s.Ports {
				ports = append(ports, strconv.Itoa(int(ptr.Deref(p.Port, 0))))
			}
			c := e.Conditions
			out = append(out, fmt.Sprintf("%s:%s %v/%v/%v %s %s", strings.Join(e.Addresses, "+"), strings.Join(ports, "+"),
				ptr.Deref(c.Ready, false), ptr.Deref(c.Serving, false), ptr.Deref(c.Terminating, false), ptr.Deref(e.NodeName, ""), ptr.Deref(e.Zone, "")))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; "), list.Items, nil
}

func nodeState(n *corev1.Node) string {
	var ready string
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = fmt.Sprintf("Ready=%s(%s: %s)", c.Status, c.Reason, c.Message)
		}
	}
	var taints []string
	for _, t := range n.Spec.Taints {
		taints = append(taints, t.Key+":"+string(t.Effect))
	}
	sort.Strings(taints)
	return ready + " taints " + fmt.Sprint(taints)
}

func TestEndpointsAndNodeLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	if !serverRunsControllers() {
		t.Skip("the manager's registry lacks the endpointslice, endpoints or nodelifecycle controller")
	}
	c := startServer(t, "--node-monitor-grace-period", "5s")
	client := c.Client
	ctx := context.Background()
	const ns = "web-it"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubelet := newFakeKubelet(t, client)
	kubelet.register("it-node-a", "zone-a")
	kubelet.register("it-node-b", "zone-b")

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}}},
	}
	svc, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{
		podOn(ns, "ready-a", "it-node-a", 8080),
		podOn(ns, "unready-a", "it-node-a", 8080),
		podOn(ns, "ready-b", "it-node-b", 9090), // the same port name resolves to another number
		podOn(ns, "pending-a", "it-node-a", 8080),
	} {
		if _, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubelet.runPod(ns, "ready-a", "10.42.0.11", true)
	kubelet.runPod(ns, "unready-a", "10.42.0.12", false)
	kubelet.runPod(ns, "ready-b", "10.42.1.11", true)

	t.Run("endpoint slices", func(t *testing.T) {
		want := "10.42.0.11:8080 true/true/false it-node-a zone-a; 10.42.0.12:8080 false/false/false it-node-a zone-a; 10.42.1.11:9090 true/true/false it-node-b zone-b"
		var slices []discoveryv1.EndpointSlice
		eventually(t, "slices of the ready, not-ready and other-port pods", func(ctx context.Context) (bool, string, error) {
			got, items, err := endpointState(ctx, client, ns, "web")
			slices = items
			return got == want, got, err
		})
		if len(slices) != 2 {
			t.Fatalf("%d slices, want one per port resolution", len(slices))
		}
		for _, s := range slices {
			ref := metav1.GetControllerOf(&s)
			if !strings.HasPrefix(s.Name, "web-") || s.Labels[discoveryv1.LabelManagedBy] != endpointslice.ControllerName ||
				ref == nil || ref.UID != svc.UID || ref.Kind != "Service" || s.AddressType != discoveryv1.AddressTypeIPv4 {
				t.Errorf("slice %s: labels %v owner %+v type %s", s.Name, s.Labels, ref, s.AddressType)
			}
			for _, e := range s.Endpoints {
				if e.TargetRef == nil || e.TargetRef.Kind != "Pod" || e.TargetRef.UID == "" {
					t.Errorf("slice %s: endpoint without a pod reference: %+v", s.Name, e)
				}
			}
		}
	})

	t.Run("endpoints for older clients", func(t *testing.T) {
		eventually(t, "Endpoints object", func(ctx context.Context) (bool, string, error) {
			ep, err := client.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			var ready, notReady []string
			for _, s := range ep.Subsets {
				for _, a := range s.Addresses {
					ready = append(ready, fmt.Sprintf("%s:%d", a.IP, s.Ports[0].Port))
				}
				for _, a := range s.NotReadyAddresses {
					notReady = append(notReady, a.IP)
				}
			}
			sort.Strings(ready)
			got := fmt.Sprint(ready, notReady)
			return got == "[10.42.0.11:8080 10.42.1.11:9090] [10.42.0.12]", got, nil
		})
		out := c.kubectl("get", "endpoints", "web", "-n", ns)
		if !strings.Contains(out, "10.42.0.11:8080") || !strings.Contains(out, "10.42.1.11:9090") || strings.Contains(out, "10.42.0.12") {
			t.Errorf("kubectl get endpoints:\n%s", out)
		}
		// The API server's own Endpoints are left as it wrote them.
		if ep, err := client.CoreV1().Endpoints("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil && ep.Labels[discoveryv1.LabelSkipMirror] != "true" {
			t.Errorf("kubernetes Endpoints rewritten: %+v", ep.ObjectMeta)
		}
	})

	t.Run("stale lease: unreachable, tainted, pods evicted", func(t *testing.T) {
		kubelet.setAlive("it-node-b", false)
		eventually(t, "it-node-b Unknown and tainted unreachable", func(ctx context.Context) (bool, string, error) {
			n, err := client.CoreV1().Nodes().Get(ctx, "it-node-b", metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			got := nodeState(n)
			return got == "Ready=Unknown(NodeStatusUnknown: Kubelet stopped posting node status.) taints [node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule]", got, nil
		})
		eventually(t, "ready-b evicted", func(ctx context.Context) (bool, string, error) {
			p, err := client.CoreV1().Pods(ns).Get(ctx, "ready-b", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, "gone", nil
			}
			if err != nil {
				return false, "", err
			}
			return p.DeletionTimestamp != nil, fmt.Sprintf("deletionTimestamp %v conditions %+v", p.DeletionTimestamp, p.Status.Conditions), nil
		})
		eventually(t, "TaintManagerEviction event", func(ctx context.Context) (bool, string, error) {
			evs, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=ready-b"})
			if err != nil {
				return false, "", err
			}
			var seen []string
			for _, e := range evs.Items {
				seen = append(seen, e.Reason+": "+e.Message)
				if e.Reason == nodelifecycle.EventTaintManagerEviction && e.Message == "Marking for deletion Pod "+ns+"/ready-b" {
					return true, "", nil
				}
			}
			return false, fmt.Sprint(seen), nil
		})
		eventually(t, "the evicted pod leaves the Endpoints and is terminating in its slice", func(ctx context.Context) (bool, string, error) {
			got, _, err := endpointState(ctx, client, ns, "web")
			if err != nil || !strings.Contains(got, "10.42.1.11:9090 false/false/true it-node-b zone-b") {
				return false, got, err
			}
			ep, err := client.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, got, err
			}
			for _, s := range ep.Subsets {
				for _, a := range append(s.Addresses, s.NotReadyAddresses...) {
					if a.IP == "10.42.1.11" {
						return false, "Endpoints still lists 10.42.1.11", nil
					}
				}
			}
			return true, got, nil
		})
		// The node that kept its lease is untouched.
		n, err := client.CoreV1().Nodes().Get(ctx, "it-node-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := nodeState(n); !strings.HasPrefix(got, "Ready=True") || strings.Contains(got, "node.kubernetes.io") {
			t.Errorf("healthy node: %s", got)
		}
		if p, err := client.CoreV1().Pods(ns).Get(ctx, "ready-a", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
			t.Errorf("pod on the healthy node: %v %v", err, p.DeletionTimestamp)
		}
	})

	t.Run("lease renewed: taints removed", func(t *testing.T) {
		kubelet.setAlive("it-node-b", true)
		eventually(t, "it-node-b Ready and untainted", func(ctx context.Context) (bool, string, error) {
			n, err := client.CoreV1().Nodes().Get(ctx, "it-node-b", metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			got := nodeState(n)
			return strings.HasPrefix(got, "Ready=True") && strings.HasSuffix(got, "taints []"), got, nil
		})
	})

	t.Run("cordon", func(t *testing.T) {
		c.kubectl("cordon", "it-node-a")
		taintsOf := func(ctx context.Context) (string, error) {
			n, err := client.CoreV1().Nodes().Get(ctx, "it-node-a", metav1.GetOptions{})
			if err != nil {
				return "", err
			}
			return nodeState(n), nil
		}
		eventually(t, "unschedulable taint", func(ctx context.Context) (bool, string, error) {
			got, err := taintsOf(ctx)
			return strings.HasSuffix(got, "taints [node.kubernetes.io/unschedulable:NoSchedule]"), got, err
		})
		c.kubectl("uncordon", "it-node-a")
		eventually(t, "unschedulable taint removed", func(ctx context.Context) (bool, string, error) {
			got, err := taintsOf(ctx)
			return strings.HasSuffix(got, "taints []"), got, err
		})
	})
}
