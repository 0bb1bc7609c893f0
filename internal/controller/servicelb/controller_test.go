package servicelb

import (
	"context"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...), t: t}
	c, err := newController(f.Context(nil))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

// sync runs one sync and returns the status the controller wrote (nil if none) and the events.
func (f *fixture) sync(key string) (*corev1.Service, []string) {
	f.t.Helper()
	f.Client.ClearActions()
	if _, err := f.c.sync(context.Background(), key); err != nil {
		f.t.Fatal(err)
	}
	var written *corev1.Service
	for _, a := range f.Client.Actions() {
		if u, ok := a.(k8stesting.UpdateAction); ok {
			if a.GetSubresource() != "status" {
				f.t.Fatalf("wrote %s %s/%s, want only services/status", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
			}
			written = u.GetObject().(*corev1.Service)
		}
	}
	return written, controllertest.Events(f.Recorder)
}

func TestSync(t *testing.T) {
	lb := svc(corev1.ServiceTypeLoadBalancer, corev1.IPv4Protocol)
	a := node("a", corev1.ConditionTrue, "I=10.0.0.1")
	f := newFixture(t, lb, a)

	got, events := f.sync("default/web")
	if got == nil || ips(got.Status.LoadBalancer.Ingress) != "10.0.0.1" {
		t.Fatalf("status written: %+v, want ingress 10.0.0.1", got)
	}
	want := []string{"Normal EnsuringLoadBalancer Ensuring load balancer", "Normal EnsuredLoadBalancer Ensured load balancer"}
	if len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Errorf("events %q, want %q", events, want)
	}
	if len(lb.Status.LoadBalancer.Ingress) != 0 {
		t.Error("the cached Service was modified")
	}

	// Up to date: nothing written, no events.
	f.Cache(got)
	if again, events := f.sync("default/web"); again != nil || len(events) != 0 {
		t.Errorf("second sync wrote %+v, events %q; want nothing", again, events)
	}

	// A second node joins.
	f.Cache(node("b", corev1.ConditionTrue, "I=10.0.0.2"))
	got, _ = f.sync("default/web")
	if got == nil || ips(got.Status.LoadBalancer.Ingress) != "10.0.0.1,10.0.0.2" {
		t.Fatalf("after node b: %+v", got)
	}
	f.Cache(got)

	// The Service stops being LoadBalancer: its ingress is cleared.
	np := got.DeepCopy()
	np.Spec.Type = corev1.ServiceTypeNodePort
	f.Cache(np)
	got, events = f.sync("default/web")
	if got == nil || len(got.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("NodePort service: %+v, want ingress cleared", got)
	}
	want = []string{"Normal DeletingLoadBalancer Deleting load balancer", "Normal DeletedLoadBalancer Deleted load balancer"}
	if len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Errorf("events %q, want %q", events, want)
	}
}

func TestSyncSkipsOtherClassAndMissing(t *testing.T) {
	other := svc(corev1.ServiceTypeLoadBalancer, corev1.IPv4Protocol)
	other.Spec.LoadBalancerClass = ptr.To("example.com/lb")
	other.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	f := newFixture(t, other, node("a", corev1.ConditionTrue, "I=10.0.0.1"))
	if got, events := f.sync("default/web"); got != nil || len(events) != 0 {
		t.Errorf("other class: wrote %+v, events %q", got, events)
	}
	if got, _ := f.sync("default/missing"); got != nil {
		t.Errorf("missing service: wrote %+v", got)
	}
}

func TestSyncLastNodeGone(t *testing.T) {
	vip := corev1.LoadBalancerIPModeVIP
	lb := svc(corev1.ServiceTypeLoadBalancer, corev1.IPv4Protocol)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.1", IPMode: &vip}}
	f := newFixture(t, lb, node("a", corev1.ConditionUnknown, "I=10.0.0.1"))
	got, events := f.sync("default/web")
	if got == nil || len(got.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("got %+v, want ingress cleared", got)
	}
	if len(events) != 1 || events[0] != "Warning UnAvailableLoadBalancer There are no available nodes for LoadBalancer" {
		t.Errorf("events %q", events)
	}
}

func TestNodeEventsQueueLoadBalancers(t *testing.T) {
	lb := svc(corev1.ServiceTypeLoadBalancer, corev1.IPv4Protocol)
	cip := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "plain"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	f := newFixture(t, lb, cip)
	a := node("a", corev1.ConditionTrue, "I=10.0.0.1")
	same := a.DeepCopy()
	same.ResourceVersion = "2"
	same.Status.Conditions[0].LastHeartbeatTime = metav1.Now()
	f.c.queue = controller.NewQueue[string](Name)
	// A heartbeat changes nothing that matters.
	if nodeView(a) != nodeView(same) {
		t.Fatal("a heartbeat changed the node's view")
	}
	f.c.enqueueLoadBalancers()
	if n := f.c.queue.Len(); n != 1 {
		t.Fatalf("queued %d services, want only the LoadBalancer one", n)
	}
	notReady := a.DeepCopy()
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	if nodeView(a) == nodeView(notReady) {
		t.Error("a node going NotReady did not change its view")
	}
}
