package endpoints

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	core "k8s.io/client-go/testing"
)

// fixture is a controller over a fake clientset (which hands out increasing resourceVersions for Endpoints) whose
// informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...), t: t}
	var rv atomic.Int64
	stamp := func(a core.Action) (bool, runtime.Object, error) {
		var obj runtime.Object
		if w, ok := a.(interface{ GetObject() runtime.Object }); ok { // create and update
			obj = w.GetObject()
		}
		if ep, ok := obj.(*corev1.Endpoints); ok {
			ep.ResourceVersion = strconv.FormatInt(rv.Add(1), 10)
		}
		return false, nil, nil
	}
	f.Client.PrependReactor("create", "endpoints", stamp)
	f.Client.PrependReactor("update", "endpoints", stamp)
	c, err := newController(f.Context(nil))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync(key string) error {
	f.Client.ClearActions()
	_, err := f.c.sync(context.Background(), key)
	return err
}

func (f *fixture) writes() string {
	var out []string
	for _, a := range f.Client.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			out = append(out, v+" "+a.GetResource().Resource)
		}
	}
	return strings.Join(out, ", ")
}

func (f *fixture) stored(ns, name string) *corev1.Endpoints {
	ep, err := f.Client.CoreV1().Endpoints(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ep
}

func TestSyncCreatesAndUpdates(t *testing.T) {
	a, b := mkPod("a", "10.42.0.1"), mkPod("b", "10.42.0.2", notReady)
	f := newFixture(t, mkService(), a, b)
	if err := f.sync("ns/web"); err != nil || f.writes() != "create endpoints" {
		t.Fatalf("err %v writes %s", err, f.writes())
	}
	if got := describe(f.stored("ns", "web").Subsets); got != "{10.42.0.1(a);10.42.0.2(b);http=8080}" {
		t.Errorf("subsets %s", got)
	}
	// Not in the cache yet: no second create.
	if err := f.sync("ns/web"); !errors.Is(err, ErrStaleCache) || f.writes() != "" {
		t.Fatalf("lagging cache: err %v writes %s", err, f.writes())
	}
	f.Cache(f.stored("ns", "web"))
	if err := f.sync("ns/web"); err != nil || f.writes() != "" {
		t.Fatalf("steady: err %v writes %s", err, f.writes())
	}
	b2 := b.DeepCopy()
	b2.Status.Conditions[0].Status = corev1.ConditionTrue
	f.Cache(b2)
	if err := f.sync("ns/web"); err != nil || f.writes() != "update endpoints" {
		t.Fatalf("pod ready: err %v writes %s", err, f.writes())
	}
	if got := describe(f.stored("ns", "web").Subsets); got != "{10.42.0.1(a),10.42.0.2(b);;http=8080}" {
		t.Errorf("subsets %s", got)
	}
	// The cache still shows the version just replaced.
	if err := f.sync("ns/web"); !errors.Is(err, ErrStaleCache) {
		t.Fatalf("lagging cache after update: %v", err)
	}
}

func TestSyncDeletesEndpointsOfDeletedService(t *testing.T) {
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
	lock := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "lock", Namespace: "ns", Annotations: map[string]string{leaderAnnotation: "{}"}}}
	f := newFixture(t, ep, lock)
	f.c.queueLeftovers()
	if n := f.c.queue.Len(); n != 1 {
		t.Fatalf("%d leftovers queued, want 1 (the lock is kept)", n)
	}
	if err := f.sync("ns/web"); err != nil || f.writes() != "delete endpoints" {
		t.Fatalf("err %v writes %s", err, f.writes())
	}
	if err := f.sync("ns/web"); err != nil {
		t.Fatalf("already gone: %v", err)
	}
}

func TestSyncLeavesOthersAlone(t *testing.T) {
	apiserver := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}}}}}
	manual := mkService(func(s *corev1.Service) { s.Name, s.Spec.Selector = "manual", nil })
	external := mkService(func(s *corev1.Service) { s.Name, s.Spec.Type = "external", corev1.ServiceTypeExternalName })
	f := newFixture(t, apiserver, manual, external, mkPod("a", "10.42.0.1"))
	for _, key := range []string{"default/kubernetes", "ns/manual", "ns/external"} {
		if err := f.sync(key); err != nil || f.writes() != "" {
			t.Errorf("%s: err %v writes %s", key, err, f.writes())
		}
	}
	f.c.queueLeftovers()
	for f.c.queue.Len() > 0 {
		k, _ := f.c.queue.Get()
		f.c.queue.Done(k)
		if err := f.sync(k); err != nil || f.writes() != "" {
			t.Errorf("leftover %s: err %v writes %s", k, err, f.writes())
		}
	}
}

func TestSyncReportsFailures(t *testing.T) {
	f := newFixture(t, mkService(), mkPod("a", "10.42.0.1"))
	f.Client.PrependReactor("create", "endpoints", func(core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("endpoints"), "web", errors.New("nope"))
	})
	if err := f.sync("ns/web"); err == nil {
		t.Fatal("want error")
	}
	select {
	case e := <-f.Recorder.Events:
		if !strings.HasPrefix(e, "Warning FailedToCreateEndpoint Failed to create endpoint for service ns/web: ") {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no event")
	}
}
