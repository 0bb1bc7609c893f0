package daemonset

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	"github.com/skiff-sh/skiff/internal/controller/deployment"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 1000, objs...), t: t}
	f.NameGeneratedPods()
	c, err := newController(f.Context(clock.NewFake(now)))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync() error {
	f.Client.ClearActions()
	_, err := f.c.sync(context.Background(), "ns/agent")
	return err
}

// actions lists "verb resource[/sub]" of the writes made.
func (f *fixture) actions() string {
	return strings.Join(controllertest.Writes(f.Client.Actions()), ", ")
}

func (f *fixture) events() []string { return controllertest.Events(f.Recorder) }
func TestSyncCreatesRevisionAndPods(t *testing.T) {
	ds := newDS()
	f := newFixture(t, ds, node("n1"), node("n2"), node("n3", tainted("x", corev1.TaintEffectNoSchedule)))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); got != "create controllerrevisions, create pods, create pods, update daemonsets/status" {
		t.Fatalf("actions: %s", got)
	}
	hash := deployment.ComputeHash(&ds.Spec.Template, nil)
	rev, err := f.Client.AppsV1().ControllerRevisions("ns").Get(context.Background(), "agent-"+hash, metav1.GetOptions{})
	if err != nil || rev.Revision != 1 || !Match(ds, rev) || metav1.GetControllerOf(rev).UID != ds.UID {
		t.Fatalf("revision %+v (%v)", rev, err)
	}
	pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	var targets []string
	for _, p := range pods.Items {
		targets = append(targets, TargetNode(&p))
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] != hash || p.GenerateName != "agent-" || metav1.GetControllerOf(&p).UID != ds.UID || p.Spec.NodeName != "" {
			t.Errorf("pod %+v", p.ObjectMeta)
		}
	}
	if fmt.Sprint(targets) != "[n1 n2]" {
		t.Errorf("pods for nodes %v", targets)
	}
	if ev := f.events(); len(ev) != 2 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: agent-") {
		t.Errorf("events %v", ev)
	}
	st, _ := f.Client.AppsV1().DaemonSets("ns").Get(context.Background(), "agent", metav1.GetOptions{})
	if st.Status.DesiredNumberScheduled != 2 || st.Status.NumberUnavailable != 2 || st.Status.ObservedGeneration != 2 {
		t.Errorf("status %+v", st.Status)
	}

	// The informer has not shown the pods yet: expectations hold back a second round.
	f.Cache(rev)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); strings.Contains(got, "create") {
		t.Errorf("second sync before the pods were observed: %s", got)
	}
}

func TestSyncRollbackRenumbersRevision(t *testing.T) {
	ds := newDS()
	ref := metav1.NewControllerRef(ds, controllerKind)
	cur, _ := NewRevision(ds, "h1", 1, ref)
	v2 := newDS()
	v2.Spec.Template.Spec.Containers[0].Image = "i2"
	old, _ := NewRevision(v2, "h2", 2, ref)
	f := newFixture(t, ds, cur, old)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Client.AppsV1().ControllerRevisions("ns").Get(context.Background(), "agent-h1", metav1.GetOptions{})
	if got.Revision != 3 {
		t.Errorf("rolled-back revision is %d, want 3; actions %s", got.Revision, f.actions())
	}
}

func TestSyncHashCollision(t *testing.T) {
	ds := newDS()
	hash := deployment.ComputeHash(&ds.Spec.Template, nil)
	other := newDS()
	other.Spec.Template.Spec.Containers[0].Image = "other"
	clash, _ := NewRevision(other, hash, 1, nil)
	clash.OwnerReferences = nil
	clash.Labels = map[string]string{"unrelated": "x"}
	f := newFixture(t, ds, clash, node("n1"))
	err := f.sync()
	if err == nil || !strings.Contains(err.Error(), "collision") {
		t.Fatalf("err %v", err)
	}
	got, _ := f.Client.AppsV1().DaemonSets("ns").Get(context.Background(), "agent", metav1.GetOptions{})
	if ptr.Deref(got.Status.CollisionCount, 0) != 1 {
		t.Errorf("collisionCount %v", got.Status.CollisionCount)
	}
	if strings.Contains(f.actions(), "create pods") {
		t.Error("pods created without a revision")
	}
}

func TestSyncSelectingAll(t *testing.T) {
	ds := newDS()
	ds.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, ds, node("n1"))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); got != "" {
		t.Errorf("actions %s", got)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != "Warning SelectingAll This daemon set is selecting all pods. A non-empty selector is required." {
		t.Errorf("events %v", ev)
	}
}

func TestSyncFailedPod(t *testing.T) {
	ds := newDS()
	hash := deployment.ComputeHash(&ds.Spec.Template, nil)
	p := dsPod("agent-x", "n1", hash, time.Hour, phase(corev1.PodFailed))
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)}
	f := newFixture(t, ds, node("n1"), p)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); got != "create controllerrevisions, delete pods, update daemonsets/status" {
		t.Errorf("actions %s", got)
	}
	ev := strings.Join(f.events(), "\n")
	if !strings.Contains(ev, "Warning FailedDaemonPod Found failed daemon pod ns/agent-x on node n1, will try to kill it") ||
		!strings.Contains(ev, "Normal SuccessfulDelete Deleted pod: agent-x") {
		t.Errorf("events %s", ev)
	}
}

func TestUpdateNodeQueuesOnEligibilityChange(t *testing.T) {
	ds := newDS()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
	f := newFixture(t, ds)
	plain, edge := node("n1"), node("n1", labelled("role", "edge"))
	other := node("n1", labelled("zone", "z"))
	f.c.updateNode(plain, other)
	if f.c.queue.Len() != 0 {
		t.Fatal("label change that does not matter queued the DaemonSet")
	}
	f.c.updateNode(plain, edge)
	if f.c.queue.Len() != 1 {
		t.Fatal("node became eligible: DaemonSet not queued")
	}
}

func TestSyncCreateAndDeleteExpectations(t *testing.T) {
	ds := newDS()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
	hash := deployment.ComputeHash(&ds.Spec.Template, nil)
	p := dsPod("agent-x", "n2", hash, time.Hour)
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)}
	f := newFixture(t, ds, node("n1", labelled("role", "edge")), node("n2"), p)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); got != "create controllerrevisions, create pods, delete pods, update daemonsets/status" {
		t.Fatalf("actions %s", got)
	}
	key := "ns/agent"
	if f.c.satisfied(key) {
		t.Fatal("a creation and a deletion are pending")
	}
	f.c.pods.DeletePod(p)
	if f.c.satisfied(key) {
		t.Fatal("the creation is still pending")
	}
	created, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	f.c.pods.AddPod(&created.Items[0])
	if !f.c.satisfied(key) {
		t.Fatal("both observed")
	}
}
