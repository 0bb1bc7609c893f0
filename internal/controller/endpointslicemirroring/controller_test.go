package endpointslicemirroring

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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
		if s, ok := a.(interface{ GetObject() runtime.Object }).GetObject().(*discoveryv1.EndpointSlice); ok {
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

func (f *fixture) sync(key string) ([]string, error) {
	f.Client.ClearActions()
	_, err := f.c.sync(context.Background(), key)
	return controllertest.Writes(f.Client.Actions()), err
}

func TestSync(t *testing.T) {
	eps := epsOf(corev1.EndpointSubset{Addresses: addrs("10.1.2.3"), Ports: []corev1.EndpointPort{port("sql", 5432)}})
	f := newFixture(t, svcWithout(), eps)
	key := ns + "/ext"

	writes, err := f.sync(key)
	if err != nil || !reflect.DeepEqual(writes, []string{"create endpointslices"}) {
		t.Fatalf("first sync: writes %q, err %v; want one creation", writes, err)
	}
	// The cache has not seen the creation: the sync waits rather than create a duplicate.
	if writes, err := f.sync(key); !errors.Is(err, ErrStaleCache) || len(writes) != 0 {
		t.Fatalf("sync on a stale cache: writes %q, err %v; want ErrStaleCache and no write", writes, err)
	}
	f.catchUp()
	if writes, err := f.sync(key); err != nil || len(writes) != 0 {
		t.Fatalf("sync when up to date: writes %q, err %v; want none", writes, err)
	}
	// The Service gains a selector: the mirrored slice goes.
	f.Cache(svcWith())
	if writes, err := f.sync(key); err != nil || !reflect.DeepEqual(writes, []string{"delete endpointslices"}) {
		t.Fatalf("selector added: writes %q, err %v; want one deletion", writes, err)
	}
	if events := controllertest.Events(f.Recorder); len(events) != 0 {
		t.Errorf("events %q, want none", events)
	}
}

func TestSyncEvents(t *testing.T) {
	eps := epsOf(corev1.EndpointSubset{Addresses: addrs("10.1.2.3", "10.1.2.4", "0bad", "10.1.2.5"), Ports: []corev1.EndpointPort{port("sql", 5432)}})
	f := newFixture(t, svcWithout(), eps)
	f.c.maxPerSubset = 2
	if _, err := f.sync(ns + "/ext"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Warning InvalidIPAddress Skipped 1 invalid IP addresses when mirroring to EndpointSlices",
		"Warning TooManyAddressesToMirror A max of 2 addresses can be mirrored to EndpointSlices per Endpoints subset. 2 addresses were skipped",
	}
	if got := controllertest.Events(f.Recorder); !reflect.DeepEqual(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
}

func TestSyncEndpointsGone(t *testing.T) {
	eps := epsOf(corev1.EndpointSubset{Addresses: addrs("10.1.2.3"), Ports: []corev1.EndpointPort{port("sql", 5432)}})
	f := newFixture(t, svcWithout(), eps)
	key := ns + "/ext"
	if _, err := f.sync(key); err != nil {
		t.Fatal(err)
	}
	f.catchUp()
	if err := f.Factory.Core().V1().Endpoints().Informer().GetIndexer().Delete(eps); err != nil {
		t.Fatal(err)
	}
	if writes, err := f.sync(key); err != nil || !reflect.DeepEqual(writes, []string{"delete endpointslices"}) {
		t.Fatalf("Endpoints gone: writes %q, err %v; want one deletion", writes, err)
	}
}
