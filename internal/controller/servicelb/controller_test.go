package servicelb

import (
	"context"
	"log/slog"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	c        *Controller
	recorder *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	c, err := newController(controller.Context{
		Client: f.client, Informers: f.factory, Log: slog.Default(),
		Recorder: func(string) record.EventRecorder { return f.recorder },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	for _, o := range objs {
		f.cache(o)
	}
	return f
}

func (f *fixture) cache(obj runtime.Object) {
	var err error
	switch o := obj.(type) {
	case *corev1.Node:
		err = f.factory.Core().V1().Nodes().Informer().GetIndexer().Update(o)
	case *corev1.Service:
		err = f.factory.Core().V1().Services().Informer().GetIndexer().Update(o)
	}
	if err != nil {
		f.t.Fatal(err)
	}
}

// sync runs one sync and returns the status the controller wrote (nil if none) and the events.
func (f *fixture) sync(key string) (*corev1.Service, []string) {
	f.t.Helper()
	f.client.ClearActions()
	if _, err := f.c.sync(context.Background(), key); err != nil {
		f.t.Fatal(err)
	}
	var written *corev1.Service
	for _, a := range f.client.Actions() {
		if u, ok := a.(k8stesting.UpdateAction); ok {
			if a.GetSubresource() != "status" {
				f.t.Fatalf("wrote %s %s/%s, want only services/status", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
			}
			written = u.GetObject().(*corev1.Service)
		}
	}
	var events []string
	for len(f.recorder.Events) > 0 {
		events = append(events, <-f.recorder.Events)
	}
	return written, events
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
	f.cache(got)
	if again, events := f.sync("default/web"); again != nil || len(events) != 0 {
		t.Errorf("second sync wrote %+v, events %q; want nothing", again, events)
	}

	// A second node joins.
	f.cache(node("b", corev1.ConditionTrue, "I=10.0.0.2"))
	got, _ = f.sync("default/web")
	if got == nil || ips(got.Status.LoadBalancer.Ingress) != "10.0.0.1,10.0.0.2" {
		t.Fatalf("after node b: %+v", got)
	}
	f.cache(got)

	// The Service stops being LoadBalancer: its ingress is cleared.
	np := got.DeepCopy()
	np.Spec.Type = corev1.ServiceTypeNodePort
	f.cache(np)
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
