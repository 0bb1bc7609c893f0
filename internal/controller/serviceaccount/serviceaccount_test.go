package serviceaccount

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

type fixture struct {
	client *fake.Clientset
	c      *Controller
}

// newFixture preloads the clientset and the informer caches with objs, as sample-controller's tests do.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	inf := informers.NewSharedInformerFactory(client, 0)
	c, err := newController(controller.Context{
		Client: client, Informers: inf, Clock: clock.NewFake(time.Unix(0, 0)),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Namespace:
			err = inf.Core().V1().Namespaces().Informer().GetIndexer().Add(o)
		case *corev1.ServiceAccount:
			err = inf.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	client.ClearActions()
	return &fixture{client: client, c: c}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

func TestSync(t *testing.T) {
	ts := metav1.NewTime(time.Unix(100, 0))
	deleting := namespace("gone")
	deleting.DeletionTimestamp = &ts
	terminating := namespace("term")
	terminating.Status.Phase = corev1.NamespaceTerminating
	existing := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "has"}}
	other := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: "new"}}

	for _, tc := range []struct {
		name   string
		key    string
		create bool
	}{
		{name: "creates the default account in a new namespace", key: "new", create: true},
		{name: "leaves an existing default account", key: "has"},
		{name: "skips a namespace being deleted", key: "gone"},
		{name: "skips a terminating namespace", key: "term"},
		{name: "skips a missing namespace", key: "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, namespace("new"), namespace("has"), deleting, terminating, existing, other)
			res, err := f.c.sync(context.Background(), tc.key)
			if err != nil || res != (controller.Result{}) {
				t.Fatalf("sync = %v, %v; want zero, nil", res, err)
			}
			actions := f.client.Actions()
			if !tc.create {
				if len(actions) != 0 {
					t.Fatalf("actions = %v, want none", actions)
				}
				return
			}
			if len(actions) != 1 || !actions[0].Matches("create", "serviceaccounts") || actions[0].GetNamespace() != tc.key {
				t.Fatalf("actions = %v, want one create of serviceaccounts in %s", actions, tc.key)
			}
			sa := actions[0].(core.CreateAction).GetObject().(*corev1.ServiceAccount)
			if sa.Name != "default" || sa.Namespace != tc.key {
				t.Errorf("created %s/%s, want %s/default", sa.Namespace, sa.Name, tc.key)
			}
		})
	}
}

func TestSyncAbsorbsAlreadyExistsAndTerminating(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"stale cache", apierrors.NewAlreadyExists(schema.GroupResource{Resource: "serviceaccounts"}, "default")},
		{"namespace started terminating", func() error {
			e := apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, "default", nil)
			e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{Type: corev1.NamespaceTerminatingCause})
			return e
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, namespace("new"))
			f.client.PrependReactor("create", "serviceaccounts", func(core.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			if _, err := f.c.sync(context.Background(), "new"); err != nil {
				t.Fatalf("sync = %v, want nil", err)
			}
		})
	}
	f := newFixture(t, namespace("new"))
	f.client.PrependReactor("create", "serviceaccounts", func(core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(io.ErrUnexpectedEOF)
	})
	if _, err := f.c.sync(context.Background(), "new"); err == nil {
		t.Fatal("sync succeeded on a server error, want an error to retry")
	}
}

func TestDeletedDefaultAccountRequeuesNamespace(t *testing.T) {
	f := newFixture(t, namespace("ns"))
	f.c.serviceAccountDeleted(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: "ns"}})
	if n := f.c.queue.Len(); n != 0 {
		t.Fatalf("queue length %d after deleting another account, want 0", n)
	}
	f.c.serviceAccountDeleted(cacheTombstone(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "ns"}}))
	if n := f.c.queue.Len(); n != 1 {
		t.Fatalf("queue length %d after deleting default, want 1", n)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for f.c.queue.Len() > 0 {
		controller.ProcessNext(context.Background(), log, f.c.queue, f.c.sync)
	}
	if a := f.client.Actions(); len(a) != 1 || !a[0].Matches("create", "serviceaccounts") {
		t.Fatalf("actions = %v, want the default account recreated", a)
	}
}

func cacheTombstone(obj runtime.Object) any {
	return cache.DeletedFinalStateUnknown{Key: "ns/default", Obj: obj}
}
