package deployment_test

// Integration test: the real `skiff server` (built from ./cmd/skiff, run with --disable-agent so no kubelet runs),
// the ReplicaSet and Deployment controllers in-process, a fake kubelet in the test that marks pods Running and
// Ready, and the real kubectl for rollout status/history/undo, set image, scale, pause/resume and restart.

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	"github.com/skiff-sh/skiff/internal/controller/deployment"
	"github.com/skiff-sh/skiff/internal/controller/manager"
	"github.com/skiff-sh/skiff/internal/controller/replicaset"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

const waitFor = 60 * time.Second

func TestMain(m *testing.M) { controllertest.Main(m) }

// cluster is a running skiff server with our controllers attached.
type cluster struct {
	*controllertest.Server
	t *testing.T
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{Server: controllertest.StartServer(t, controllertest.ServerOptions{QPS: 200, Burst: 400}), t: t}
	if serverRunsControllers() {
		// A second copy in-process would fight the server's over the same objects.
		t.Log("skiff server's controller manager runs the ReplicaSet and Deployment controllers; not starting them in-process")
	} else {
		c.runControllers()
	}
	return c
}

// serverRunsControllers reports whether skiff server (built from this tree) already runs both controllers through
// its controller manager's registry.
func serverRunsControllers() bool {
	n := 0
	for _, r := range manager.Controllers {
		if r.Name == replicaset.Name || r.Name == deployment.Name {
			n++
		}
	}
	return n == 2
}

// runControllers runs the ReplicaSet and Deployment controllers in-process until the test ends.
func (c *cluster) runControllers() {
	t := c.t
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(c.Client, 0)
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.Client.CoreV1().Events("")})
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cc := controller.Context{
		Client: c.Client, Informers: factory, Clock: clock.Real{}, Log: log,
		Recorder: func(component string) record.EventRecorder {
			return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
		},
	}
	rsc, err := replicaset.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deployment.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, ctl := range []controller.Controller{rsc, dc} {
		wg.Go(func() {
			if err := ctl.Run(ctx, 2); err != nil {
				t.Errorf("%s: %v", ctl.Name(), err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		factory.Shutdown()
		broadcaster.Shutdown()
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// kubectl runs the real kubectl against the cluster and returns its combined output.
func (c *cluster) kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return c.Kubectl(ctx, args...)
}

func (c *cluster) mustKubectl(args ...string) string {
	c.t.Helper()
	out, err := c.kubectl(args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cluster) namespace(name string) {
	c.t.Helper()
	if _, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// fakeKubelet stands in for the kubelet this server does not run: it patches every pod of its namespace that
// hold does not hold to phase Running with Ready and ContainersReady conditions, through pods/status.
type fakeKubelet struct {
	client kubernetes.Interface
	ns     string
	mu     sync.Mutex // guards hold
	hold   func(*corev1.Pod) bool
	kick   chan struct{}
	lister func() []*corev1.Pod
}

func (c *cluster) startFakeKubelet(ns string) *fakeKubelet {
	t := c.t
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods()
	k := &fakeKubelet{client: c.Client, ns: ns, kick: make(chan struct{}, 1)}
	k.lister = func() []*corev1.Pod {
		pods, _ := inf.Lister().List(labels.Everything())
		return pods
	}
	poke := func(any) {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }})
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-k.kick:
			}
			for _, p := range k.lister() {
				if p.DeletionTimestamp != nil || isReady(p) || k.holds(p) {
					continue
				}
				k.markReady(ctx, p)
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		factory.Shutdown()
	})
	return k
}

func (k *fakeKubelet) holds(p *corev1.Pod) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hold != nil && k.hold(p)
}

// setHold changes which pods stay not ready, and looks at every pod again.
func (k *fakeKubelet) setHold(hold func(*corev1.Pod) bool) {
	k.mu.Lock()
	k.hold = hold
	k.mu.Unlock()
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

func (k *fakeKubelet) markReady(ctx context.Context, p *corev1.Pod) {
	now := metav1.Now().Rfc3339Copy()
	patch := fmt.Sprintf(`{"status":{"phase":"Running","startTime":%q,"conditions":[`+
		`{"type":"Ready","status":"True","lastTransitionTime":%q},`+
		`{"type":"ContainersReady","status":"True","lastTransitionTime":%q}]}}`,
		now.Format(time.RFC3339), now.Format(time.RFC3339), now.Format(time.RFC3339))
	_, err := k.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil && ctx.Err() == nil {
		// Deleted meanwhile, most likely; the next event retries otherwise.
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func imageOf(t *corev1.PodTemplateSpec) string { return t.Spec.Containers[0].Image }

func newDeployment(ns string, replicas int32, strategy appsv1.DeploymentStrategy) *appsv1.Deployment {
	sel := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
			},
			Strategy: strategy,
		},
	}
}

func rolling(surge, unavail int) appsv1.DeploymentStrategy {
	s, u := intstr.FromInt32(int32(surge)), intstr.FromInt32(int32(unavail))
	return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}
}

func (c *cluster) create(d *appsv1.Deployment) {
	c.t.Helper()
	if _, err := c.Client.AppsV1().Deployments(d.Namespace).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// waitUntil polls cond until it holds or the deadline passes.
func (c *cluster) waitUntil(what string, cond func() (bool, error)) {
	c.t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, waitFor, true, func(context.Context) (bool, error) {
		ok, err := cond()
		last = err
		return ok, nil
	})
	if err != nil {
		c.t.Fatalf("timed out waiting for %s (last error: %v)", what, last)
	}
}

func (c *cluster) deployment(ns string) *appsv1.Deployment {
	c.t.Helper()
	d, err := c.Client.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

func (c *cluster) replicaSets(ns string) []appsv1.ReplicaSet {
	c.t.Helper()
	l, err := c.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return l.Items
}

// waitComplete waits until the deployment has rolled out image: every replica updated and available, observed.
func (c *cluster) waitComplete(ns, image string) *appsv1.Deployment {
	c.t.Helper()
	var d *appsv1.Deployment
	c.waitUntil(fmt.Sprintf("%s/web to roll out %s", ns, image), func() (bool, error) {
		var err error
		d, err = c.Client.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		n := *d.Spec.Replicas
		st := d.Status
		if imageOf(&d.Spec.Template) != image || st.ObservedGeneration < d.Generation || st.UpdatedReplicas != n || st.Replicas != n || st.AvailableReplicas != n {
			return false, fmt.Errorf("status %+v", st)
		}
		for _, rs := range c.replicaSets(ns) {
			want := int32(0)
			if imageOf(&rs.Spec.Template) == image {
				want = n
			}
			if *rs.Spec.Replicas != want || rs.Status.Replicas != want {
				return false, fmt.Errorf("replica set %s (%s): %d/%d", rs.Name, imageOf(&rs.Spec.Template), rs.Status.Replicas, *rs.Spec.Replicas)
			}
		}
		return true, nil
	})
	return d
}

// podWatcher follows the pods of a namespace from a watch and calls check with the live set after every event.
type podWatcher struct {
	mu         sync.Mutex // guards the fields below
	violations []string
	events     int
	stop       func()
}

func (c *cluster) watchPods(ns string, check func(pods map[string]*corev1.Pod) string) *podWatcher {
	c.t.Helper()
	list, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	pods := map[string]*corev1.Pod{}
	for i := range list.Items {
		pods[list.Items[i].Name] = &list.Items[i]
	}
	w, err := c.Client.CoreV1().Pods(ns).Watch(context.Background(), metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		c.t.Fatal(err)
	}
	pw := &podWatcher{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				pods[p.Name] = p
			case watch.Deleted:
				delete(pods, p.Name)
			}
			v := check(pods)
			pw.mu.Lock()
			pw.events++
			if v != "" {
				pw.violations = append(pw.violations, v)
			}
			pw.mu.Unlock()
		}
	}()
	pw.stop = func() { w.Stop(); <-done }
	return pw
}

func (pw *podWatcher) finish(t *testing.T) {
	t.Helper()
	pw.stop()
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if len(pw.violations) > 0 {
		t.Errorf("%d violations, first: %s", len(pw.violations), pw.violations[0])
	}
	if pw.events == 0 {
		t.Error("the pod watch saw no events: nothing was checked")
	}
}

func countPods(pods map[string]*corev1.Pod) (total, ready int, images map[string]int) {
	images = map[string]int{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		total++
		if isReady(p) {
			ready++
		}
		images[p.Spec.Containers[0].Image]++
	}
	return
}

func TestDeploymentAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts skiff server")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	c := startCluster(t)

	t.Run("reaches available and kubectl rollout status", func(t *testing.T) {
		c := *c
		c.t = t
		ns := "available"
		c.namespace(ns)
		c.startFakeKubelet(ns)
		c.create(newDeployment(ns, 3, rolling(1, 0)))
		out := c.mustKubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
		if !strings.Contains(out, `deployment "web" successfully rolled out`) {
			t.Errorf("rollout status: %s", out)
		}
		d := c.waitComplete(ns, "nginx:1")
		if d.Annotations[deployment.RevisionAnnotation] != "1" {
			t.Errorf("deployment revision %q", d.Annotations[deployment.RevisionAnnotation])
		}
		if a := deployment.GetCondition(d.Status, appsv1.DeploymentAvailable); a == nil || a.Status != corev1.ConditionTrue || a.Reason != "MinimumReplicasAvailable" {
			t.Errorf("available %+v", a)
		}
		if p := deployment.GetCondition(d.Status, appsv1.DeploymentProgressing); p == nil || p.Reason != "NewReplicaSetAvailable" {
			t.Errorf("progressing %+v", p)
		}
		rss := c.replicaSets(ns)
		if len(rss) != 1 {
			t.Fatalf("%d replica sets", len(rss))
		}
		rs := rss[0]
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		if rs.Name != "web-"+hash || rs.Annotations[deployment.RevisionAnnotation] != "1" || rs.Annotations[deployment.DesiredReplicasAnnotation] != "3" ||
			rs.Annotations[deployment.MaxReplicasAnnotation] != "4" {
			t.Errorf("replica set %s labels %v annotations %v", rs.Name, rs.Labels, rs.Annotations)
		}
		if ref := metav1.GetControllerOf(&rs); ref == nil || ref.UID != d.UID || !*ref.BlockOwnerDeletion {
			t.Errorf("replica set owner %+v", ref)
		}
		if rs.Status.ObservedGeneration != rs.Generation || rs.Status.ReadyReplicas != 3 || rs.Status.AvailableReplicas != 3 || rs.Status.FullyLabeledReplicas != 3 {
			t.Errorf("replica set status %+v", rs.Status)
		}
		pods, _ := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		for _, p := range pods.Items {
			ref := metav1.GetControllerOf(&p)
			if ref == nil || ref.UID != rs.UID || !*ref.BlockOwnerDeletion || p.GenerateName != rs.Name+"-" || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
				t.Errorf("pod %s: generateName %q owner %+v labels %v", p.Name, p.GenerateName, ref, p.Labels)
			}
		}
		want := fmt.Sprintf("Scaled up replica set %s from 0 to 3", rs.Name)
		c.waitUntil("ScalingReplicaSet event", func() (bool, error) {
			evs, err := c.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			var created int
			found := false
			for _, e := range evs.Items {
				found = found || (e.Reason == "ScalingReplicaSet" && e.Message == want && e.InvolvedObject.Kind == "Deployment" && e.Source.Component == "deployment-controller")
				if e.Reason == "SuccessfulCreate" && e.InvolvedObject.Name == rs.Name {
					created += int(e.Count)
				}
			}
			return found && created == 3, fmt.Errorf("events %d", len(evs.Items))
		})
	})

	t.Run("rolling update respects maxSurge and maxUnavailable; history; undo reuses the old ReplicaSet", func(t *testing.T) {
		c := *c
		c.t = t
		ns := "rolling"
		c.namespace(ns)
		c.startFakeKubelet(ns)
		const replicas, surge, unavail = 4, 1, 1
		c.create(newDeployment(ns, replicas, rolling(surge, unavail)))
		c.waitComplete(ns, "nginx:1")
		first := c.replicaSets(ns)[0].Name

		// What Kubernetes bounds: the ReplicaSets' replicas (maxSurge) and the Ready pods (maxUnavailable). Live pods
		// may exceed the surge for a moment while the ReplicaSet controller has yet to delete an old one.
		check := func(pods map[string]*corev1.Pod) string {
			_, ready, _ := countPods(pods)
			var wanted int32
			if l, err := c.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{}); err == nil {
				for _, rs := range l.Items {
					wanted += *rs.Spec.Replicas
				}
			}
			if wanted > replicas+surge || ready < replicas-unavail {
				return fmt.Sprintf("%d replicas wanted (max %d), %d ready (min %d)", wanted, replicas+surge, ready, replicas-unavail)
			}
			return ""
		}
		pw := c.watchPods(ns, check)
		c.mustKubectl("set", "image", "deploy/web", "c=nginx:2", "-n", ns)
		c.mustKubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
		d := c.waitComplete(ns, "nginx:2")
		pw.finish(t)
		if d.Annotations[deployment.RevisionAnnotation] != "2" || len(c.replicaSets(ns)) != 2 {
			t.Errorf("after set image: revision %q, %d replica sets", d.Annotations[deployment.RevisionAnnotation], len(c.replicaSets(ns)))
		}

		out := c.mustKubectl("rollout", "history", "deploy/web", "-n", ns)
		if !hasRevisionLines(out, "1", "2") {
			t.Errorf("rollout history:\n%s", out)
		}

		pw = c.watchPods(ns, check)
		c.mustKubectl("rollout", "undo", "deploy/web", "-n", ns, "--to-revision=1")
		c.mustKubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
		d = c.waitComplete(ns, "nginx:1")
		pw.finish(t)
		rss := c.replicaSets(ns)
		if len(rss) != 2 {
			t.Fatalf("undo created a replica set: %d", len(rss))
		}
		for _, rs := range rss {
			if rs.Name == first && (rs.Annotations[deployment.RevisionAnnotation] != "3" || rs.Annotations[deployment.RevisionHistoryAnnotation] != "1") {
				t.Errorf("reused replica set annotations %v", rs.Annotations)
			}
		}
		if d.Annotations[deployment.RevisionAnnotation] != "3" {
			t.Errorf("deployment revision %q", d.Annotations[deployment.RevisionAnnotation])
		}
		out = c.mustKubectl("rollout", "history", "deploy/web", "-n", ns)
		if !hasRevisionLines(out, "2", "3") || hasRevisionLines(out, "1") {
			t.Errorf("rollout history after undo:\n%s", out)
		}
		// Plain undo goes back to the previous revision (2 → becomes 4).
		c.mustKubectl("rollout", "undo", "deploy/web", "-n", ns)
		c.waitComplete(ns, "nginx:2")
		out = c.mustKubectl("rollout", "history", "deploy/web", "-n", ns, "--revision=4")
		if !strings.Contains(out, "nginx:2") {
			t.Errorf("rollout history --revision=4:\n%s", out)
		}
	})

	t.Run("scaling during a rollout is proportional", func(t *testing.T) {
		c := *c
		c.t = t
		ns := "proportional"
		c.namespace(ns)
		k := c.startFakeKubelet(ns)
		c.create(newDeployment(ns, 4, rolling(1, 0)))
		c.waitComplete(ns, "nginx:1")
		// New pods stay not ready: the rollout stalls at old 4, new 1.
		k.setHold(func(p *corev1.Pod) bool { return p.Spec.Containers[0].Image == "nginx:2" })
		c.mustKubectl("set", "image", "deploy/web", "c=nginx:2", "-n", ns)
		sizes := func(old, nw int32, desired string) func() (bool, error) {
			return func() (bool, error) {
				got := map[string]string{}
				ok := true
				for _, rs := range c.replicaSets(ns) {
					got[imageOf(&rs.Spec.Template)] = fmt.Sprintf("%d/%s", *rs.Spec.Replicas, rs.Annotations[deployment.DesiredReplicasAnnotation])
				}
				ok = got["nginx:1"] == fmt.Sprintf("%d/%s", old, desired) && got["nginx:2"] == fmt.Sprintf("%d/%s", nw, desired)
				return ok, fmt.Errorf("replica sets %v", got)
			}
		}
		c.waitUntil("stalled rollout old 4 new 1", sizes(4, 1, "4"))
		// 8 replicas, surge 1: 9 allowed, 4 to add; old gets round(4*9/5)-4 = 3, new round(1*9/5)-1 = 1.
		c.mustKubectl("scale", "deploy/web", "--replicas=8", "-n", ns)
		c.waitUntil("proportional scale old 7 new 2", sizes(7, 2, "8"))
		k.setHold(nil)
		c.waitComplete(ns, "nginx:2")
	})

	t.Run("Recreate kills old pods before creating new ones", func(t *testing.T) {
		c := *c
		c.t = t
		ns := "recreate"
		c.namespace(ns)
		c.startFakeKubelet(ns)
		c.create(newDeployment(ns, 3, appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}))
		c.waitComplete(ns, "nginx:1")
		pw := c.watchPods(ns, func(pods map[string]*corev1.Pod) string {
			_, _, images := countPods(pods)
			if images["nginx:1"] > 0 && images["nginx:2"] > 0 {
				return fmt.Sprintf("old and new pods at once: %v", images)
			}
			return ""
		})
		c.mustKubectl("set", "image", "deploy/web", "c=nginx:2", "-n", ns)
		c.waitComplete(ns, "nginx:2")
		pw.finish(t)
	})

	t.Run("paused deployment does not roll but scales; resume and restart roll", func(t *testing.T) {
		c := *c
		c.t = t
		ns := "paused"
		c.namespace(ns)
		c.startFakeKubelet(ns)
		c.create(newDeployment(ns, 2, rolling(1, 0)))
		c.waitComplete(ns, "nginx:1")
		c.mustKubectl("rollout", "pause", "deploy/web", "-n", ns)
		c.mustKubectl("set", "image", "deploy/web", "c=nginx:2", "-n", ns)
		c.mustKubectl("scale", "deploy/web", "--replicas=3", "-n", ns)
		c.waitUntil("paused deployment observed and scaled", func() (bool, error) {
			d := c.deployment(ns)
			p := deployment.GetCondition(d.Status, appsv1.DeploymentProgressing)
			rss := c.replicaSets(ns)
			ok := d.Status.ObservedGeneration >= d.Generation && p != nil && p.Reason == "DeploymentPaused" &&
				len(rss) == 1 && *rss[0].Spec.Replicas == 3 && rss[0].Status.AvailableReplicas == 3
			return ok, fmt.Errorf("observed %d/%d progressing %+v, %d replica sets", d.Status.ObservedGeneration, d.Generation, p, len(rss))
		})
		if rss := c.replicaSets(ns); imageOf(&rss[0].Spec.Template) != "nginx:1" {
			t.Fatalf("paused deployment rolled out %s", imageOf(&rss[0].Spec.Template))
		}
		c.mustKubectl("rollout", "resume", "deploy/web", "-n", ns)
		c.mustKubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
		c.waitComplete(ns, "nginx:2")

		c.mustKubectl("rollout", "restart", "deploy/web", "-n", ns)
		c.mustKubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
		c.waitUntil("restart rolled to a third replica set", func() (bool, error) {
			d := c.deployment(ns)
			return d.Annotations[deployment.RevisionAnnotation] == "3" && d.Status.UpdatedReplicas == 3 && d.Status.AvailableReplicas == 3 && d.Status.Replicas == 3,
				fmt.Errorf("status %+v", d.Status)
		})
		if n := len(c.replicaSets(ns)); n != 3 {
			t.Errorf("%d replica sets after restart", n)
		}
	})
}

// hasRevisionLines reports whether kubectl rollout history output lists every given revision.
func hasRevisionLines(out string, revs ...string) bool {
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			seen[f[0]] = true
		}
	}
	for _, r := range revs {
		if !seen[r] {
			return false
		}
	}
	return true
}
