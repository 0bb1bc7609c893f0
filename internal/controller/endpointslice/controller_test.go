package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	core "k8s.io/client-go/testing"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started). The
// clientset names generated slices and hands out increasing resourceVersions, as the API server does.
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...), t: t}
	var rv atomic.Int64
	rv.Store(100)
	stamp := func(a core.Action) (bool, runtime.Object, error) {
		var obj runtime.Object
		if w, ok := a.(interface{ GetObject() runtime.Object }); ok { // create and update
			obj = w.GetObject()
		}
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
			n := rv.Add(1)
			if s.Name == "" {
				s.Name = fmt.Sprintf("%s%d", s.GenerateName, n)
				s.UID = types.UID("uid-" + s.Name)
			}
			s.ResourceVersion = strconv.FormatInt(n, 10)
		}
		return false, nil, nil
	}
	f.Client.PrependReactor("create", "endpointslices", stamp)
	f.Client.PrependReactor("update", "endpointslices", stamp)
	c, err := newController(f.Context(nil))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

// catchUp copies every slice from the fake server into the informer cache.
func (f *fixture) catchUp() {
	list, err := f.Client.DiscoveryV1().EndpointSlices("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	idx := f.Factory.Discovery().V1().EndpointSlices().Informer().GetIndexer()
	for _, o := range idx.List() {
		_ = idx.Delete(o)
	}
	for i := range list.Items {
		f.Cache(&list.Items[i])
	}
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

func (f *fixture) slices() []*discoveryv1.EndpointSlice {
	list, _ := f.Client.DiscoveryV1().EndpointSlices("ns").List(context.Background(), metav1.ListOptions{})
	var out []*discoveryv1.EndpointSlice
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out
}

func objects(svc *corev1.Service, pods ...*corev1.Pod) []runtime.Object {
	out := []runtime.Object{svc, nodes["n1"], nodes["n2"]}
	for _, p := range pods {
		out = append(out, p)
	}
	return out
}

func TestSyncWritesSlicesOnce(t *testing.T) {
	a, b := mkPod("a", "10.42.0.1"), mkPod("b", "10.42.1.1", onNode("n2"), port(9090), notReady)
	f := newFixture(t, objects(mkService(), a, b)...)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); got != "create endpointslices, create endpointslices" {
		t.Fatalf("writes %s", got)
	}
	want := "web-101IPv4[http=8080]{10.42.0.1:true/true/false@n1/zone-a} web-102IPv4[http=9090]{10.42.1.1:false/false/false@n2}"
	if got := describe(f.slices()); got != want {
		t.Fatalf("slices\n got %s\nwant %s", got, want)
	}
	// The cache has not seen the slices yet: no second round of creations.
	if err := f.sync("ns/web"); !errors.Is(err, ErrStaleCache) || f.writes() != "" {
		t.Fatalf("lagging cache: err %v writes %s", err, f.writes())
	}
	f.catchUp()
	if err := f.sync("ns/web"); err != nil || f.writes() != "" {
		t.Fatalf("steady state: err %v writes %s", err, f.writes())
	}
	// b becomes ready: one update, and the informer's report of it needs no sync.
	b2 := b.DeepCopy()
	b2.ResourceVersion = "2"
	b2.Status.Conditions[0].Status = corev1.ConditionTrue
	f.Cache(b2)
	f.c.queue.Add("ns/web")
	for f.c.queue.Len() > 0 {
		controller.ProcessNext(context.Background(), slog.Default(), f.c.queue, f.c.sync)
	}
	if got := f.writes(); got != "update endpointslices" {
		t.Fatalf("writes %s", got)
	}
	for _, s := range f.slices() {
		if s.Endpoints[0].Addresses[0] == "10.42.1.1" { // the updated one
			f.c.sliceChanged(s)
		}
	}
	if n := f.c.queue.Len(); n != 0 {
		t.Errorf("own writes queued the Service %d times", n)
	}
	// Someone else edits a slice: the Service is queued.
	other := f.slices()[0].DeepCopy()
	other.ResourceVersion = "999"
	f.c.sliceChanged(other)
	if n := f.c.queue.Len(); n != 1 {
		t.Errorf("foreign edit queued %d keys", n)
	}
}

func TestSyncLeavesSelectorlessServicesAlone(t *testing.T) {
	for _, svc := range []*corev1.Service{
		mkService(func(s *corev1.Service) { s.Spec.Selector = nil }),
		mkService(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }),
	} {
		f := newFixture(t, objects(svc, mkPod("a", "10.42.0.1"))...)
		if err := f.sync("ns/web"); err != nil || f.writes() != "" {
			t.Errorf("err %v writes %s", err, f.writes())
		}
	}
	f := newFixture(t)
	if err := f.sync("ns/gone"); err != nil || f.writes() != "" {
		t.Errorf("missing Service: err %v writes %s", err, f.writes())
	}
}

func TestSyncReportsFailures(t *testing.T) {
	f := newFixture(t, objects(mkService(), mkPod("a", "10.42.0.1"))...)
	f.Client.PrependReactor("create", "endpointslices", func(core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(discoveryv1.Resource("endpointslices"), "", errors.New("quota"))
	})
	if err := f.sync("ns/web"); err == nil {
		t.Fatal("want error")
	}
	select {
	case e := <-f.Recorder.Events:
		if !strings.HasPrefix(e, "Warning FailedToUpdateEndpointSlices Error updating Endpoint Slices for Service ns/web: ") {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no event")
	}
}

func TestSyncRetriesMissingNode(t *testing.T) {
	f := newFixture(t, objects(mkService(), mkPod("a", "10.42.0.1", onNode("n9")))...)
	if err := f.sync("ns/web"); err == nil || !strings.Contains(err.Error(), "n9") {
		t.Fatalf("err %v", err)
	}
	if got := f.writes(); got != "create endpointslices" {
		t.Errorf("writes %s (the placeholder)", got)
	}
}

func TestPodAndNodeHandlers(t *testing.T) {
	svc := mkService()
	other := mkService(func(s *corev1.Service) { s.Name, s.Spec.Selector = "other", map[string]string{"app": "other"} })
	a := mkPod("a", "10.42.0.1")
	f := newFixture(t, objects(svc, a)...)
	f.Cache(other)
	drain := func() string {
		var out []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			out = append(out, k)
		}
		sort.Strings(out)
		return fmt.Sprint(out)
	}
	cur := a.DeepCopy()
	cur.ResourceVersion = "2"
	cur.Annotations = map[string]string{"x": "y"}
	f.c.podUpdated(a, cur)
	if got := drain(); got != "[]" {
		t.Errorf("irrelevant change queued %s", got)
	}
	moved := cur.DeepCopy()
	moved.ResourceVersion = "3"
	moved.Labels = map[string]string{"app": "other"}
	f.c.podUpdated(cur, moved)
	if got := drain(); got != "[ns/other ns/web]" {
		t.Errorf("relabelled pod queued %s", got)
	}
	notReadyNow := cur.DeepCopy()
	notReadyNow.ResourceVersion = "4"
	notReady(notReadyNow)
	f.c.podUpdated(cur, notReadyNow)
	if got := drain(); got != "[ns/web]" {
		t.Errorf("readiness change queued %s", got)
	}
	f.c.nodeChanged(nodes["n1"])
	if got := drain(); got != "[ns/web]" {
		t.Errorf("node change queued %s", got)
	}
}
