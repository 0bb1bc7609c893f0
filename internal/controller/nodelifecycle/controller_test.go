package nodelifecycle

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t   *testing.T
	c   *Controller
	clk *clock.Fake
}

func newFixture(t *testing.T, opts Options, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...), t: t, clk: clock.NewFake(now)}
	c, err := newController(f.Context(f.clk), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync(name string) controller.Result {
	f.t.Helper()
	f.Client.ClearActions()
	res, err := f.c.sync(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// actions lists "verb resource[/sub] name" of the writes made.
func (f *fixture) actions() string {
	var out []string
	for _, a := range f.Client.Actions() {
		var name string
		switch a := a.(type) {
		case interface{ GetName() string }:
			name = a.GetName()
		case interface{ GetObject() runtime.Object }:
			name = a.GetObject().(metav1.Object).GetName()
		}
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		out = append(out, s+" "+name)
	}
	return strings.Join(out, ", ")
}

func (f *fixture) events() []string {
	out := controllertest.Events(f.Recorder)
	sort.Strings(out)
	return out
}

func TestSyncStaleLease(t *testing.T) {
	node := mkNode()
	tolerant, intolerant := mkPod("tolerant"), mkPod("intolerant", tolerations())
	f := newFixture(t, Options{NodeMonitorGracePeriod: 5 * time.Second}, node, mkLease(time.Minute), tolerant, intolerant)
	if res := f.sync("n1"); res.RequeueAfter != 5*time.Second || f.actions() != "" {
		t.Fatalf("first sync: requeue %v, actions %s", res.RequeueAfter, f.actions())
	}
	f.clk.Step(5 * time.Second)
	res := f.sync("n1")
	want := "update nodes/status n1, update nodes n1, update pods/status intolerant, update pods/status tolerant, patch pods/status intolerant, delete pods intolerant"
	if got := f.actions(); got != want {
		t.Fatalf("actions\n got %s\nwant %s", got, want)
	}
	if res.RequeueAfter != 300*time.Second {
		t.Errorf("requeue %v, want the default toleration", res.RequeueAfter)
	}
	n, _ := f.Client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if c := condition(n.Status.Conditions, corev1.NodeReady); c.Status != corev1.ConditionUnknown || c.Reason != ReasonNodeStatusUnknown || c.Message != "Kubelet stopped posting node status." {
		t.Errorf("ready condition %+v", c)
	}
	if got := taintStrings(n.Spec.Taints); got != "[node.kubernetes.io/unreachable:NoExecute@5s node.kubernetes.io/unreachable:NoSchedule@5s]" {
		t.Errorf("taints %s", got)
	}
	p, _ := f.Client.CoreV1().Pods("ns").Get(context.Background(), "tolerant", metav1.GetOptions{})
	if podReady(p).Status != corev1.ConditionFalse {
		t.Errorf("pod still ready: %+v", p.Status.Conditions)
	}
	if _, err := f.Client.CoreV1().Pods("ns").Get(context.Background(), "intolerant", metav1.GetOptions{}); err == nil {
		t.Error("intolerant pod not deleted")
	}
	wantEvents := []string{
		"Normal NodeNotReady Node n1 status is now: NodeNotReady",
		"Normal TaintManagerEviction Marking for deletion Pod ns/intolerant",
		"Warning NodeNotReady Node is not ready",
		"Warning NodeNotReady Node is not ready",
	}
	if got := f.events(); fmt.Sprint(got) != fmt.Sprint(wantEvents) {
		t.Errorf("events\n got %q\nwant %q", got, wantEvents)
	}

	// The caches catch up; the evicted pod is not deleted again while the informer has not seen it go.
	f.Cache(n)
	p.ResourceVersion = "2"
	f.Cache(p)
	if f.sync("n1"); f.actions() != "" {
		t.Errorf("second sync wrote: %s", f.actions())
	}
	if !f.c.evicting[intolerant.UID] {
		t.Error("evicted pod not remembered")
	}
	f.c.deletePod(intolerant)
	if f.c.evicting[intolerant.UID] {
		t.Error("deleted pod still remembered")
	}
}

func TestSyncCordon(t *testing.T) {
	node := mkNode(unschedulable, taints("dedicated:NoSchedule"))
	f := newFixture(t, Options{}, node, mkLease(0))
	f.sync("n1")
	if got := f.actions(); got != "update nodes n1" {
		t.Fatalf("actions %s", got)
	}
	n, _ := f.Client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if got := taintStrings(n.Spec.Taints); got != "[dedicated:NoSchedule node.kubernetes.io/unschedulable:NoSchedule@0s]" {
		t.Errorf("taints %s", got)
	}
	// Uncordon.
	n.Spec.Unschedulable = false
	f.Cache(n)
	f.sync("n1")
	n, _ = f.Client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if got := taintStrings(n.Spec.Taints); got != "[dedicated:NoSchedule]" {
		t.Errorf("taints after uncordon %s", got)
	}
}

func TestSyncDeletedNode(t *testing.T) {
	f := newFixture(t, Options{})
	f.c.observed["gone"] = Observation{Probe: now}
	if res := f.sync("gone"); res.RequeueAfter != 0 || f.actions() != "" {
		t.Fatalf("requeue %v actions %s", res.RequeueAfter, f.actions())
	}
	if _, ok := f.c.observed["gone"]; ok {
		t.Error("observation of a deleted node kept")
	}
}

func TestEventHandlers(t *testing.T) {
	healthy := mkNode()
	sick := mkNode(ready(corev1.ConditionUnknown), func(n *corev1.Node) { n.Name = "n2" })
	f := newFixture(t, Options{}, healthy, sick)
	drain := func() []string {
		var out []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	onHealthy, onSick := mkPod("a"), mkPod("b", func(p *corev1.Pod) { p.Spec.NodeName = "n2" })
	f.c.addPod(onHealthy)
	f.c.addPod(onSick)
	if got := drain(); fmt.Sprint(got) != "[n2]" {
		t.Errorf("pod adds queued %v, want only the not-ready node", got)
	}
	moved := onSick.DeepCopy()
	moved.ResourceVersion = "2"
	moved.Spec.Tolerations = nil
	f.c.updatePod(onSick, moved)
	same := onSick.DeepCopy()
	same.ResourceVersion = "3"
	same.Labels = map[string]string{"x": "y"}
	f.c.updatePod(moved, same.DeepCopy())
	if got := drain(); fmt.Sprint(got) != "[n2]" {
		t.Errorf("pod updates queued %v", got)
	}
	f.c.enqueueLease(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: LeaseNamespace}})
	f.c.enqueueNode(healthy)
	if got := drain(); fmt.Sprint(got) != "[n1]" {
		t.Errorf("lease and node queued %v", got)
	}
}

func TestNewWithRejectsBadOptions(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	_, err := NewWith(Options{NodeMonitorGracePeriod: -1})(controller.Context{
		Client: fake.NewClientset(), Informers: factory, Recorder: func(string) record.EventRecorder { return record.NewFakeRecorder(1) },
	})
	if err == nil {
		t.Fatal("negative grace period accepted")
	}
}
