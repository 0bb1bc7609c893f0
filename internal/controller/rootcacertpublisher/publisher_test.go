package rootcacertpublisher

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

func newTestController(t *testing.T, objs ...runtime.Object) (*controllertest.Env, *Controller) {
	t.Helper()
	env := controllertest.NewEnv(t, 0, objs...)
	cc := env.Context(nil)
	cc.RootCA = []byte(ca)
	cc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := newController(cc)
	if err != nil {
		t.Fatal(err)
	}
	env.Cache(objs...)
	env.Client.ClearActions()
	return env, c
}

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
}

func rootCM(ns string, data map[string]string, annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: ns, Annotations: annotations, Labels: map[string]string{"keep": "me"}},
		Data:       data,
	}
}

func TestSync(t *testing.T) {
	desc := map[string]string{DescriptionAnnotation: Description}
	good := map[string]string{DataKey: ca}
	deleting := namespace("ns", corev1.NamespaceActive)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Unix(100, 0)}
	for _, tc := range []struct {
		name   string
		objs   []runtime.Object
		writes []string
		// wantAnnotations are the annotations the written ConfigMap must carry (for a create or update).
		wantAnnotations map[string]string
	}{
		{name: "creates the ConfigMap in a new namespace", objs: []runtime.Object{namespace("ns", corev1.NamespaceActive)},
			writes: []string{"create configmaps"}, wantAnnotations: desc},
		{name: "creates it when the namespace is not cached yet", writes: []string{"create configmaps"}, wantAnnotations: desc},
		{name: "leaves a correct ConfigMap", objs: []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", good, desc)}},
		{name: "restores an edited ca.crt", objs: []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", map[string]string{DataKey: "x"}, desc)},
			writes: []string{"update configmaps"}, wantAnnotations: desc},
		{name: "drops keys added to data", objs: []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", map[string]string{DataKey: ca, "extra": "y"}, desc)},
			writes: []string{"update configmaps"}, wantAnnotations: desc},
		{name: "restores emptied data", objs: []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", nil, desc)},
			writes: []string{"update configmaps"}, wantAnnotations: desc},
		{name: "restores a removed description and keeps other annotations",
			objs:   []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", good, map[string]string{"a": "b"})},
			writes: []string{"update configmaps"}, wantAnnotations: map[string]string{"a": "b", DescriptionAnnotation: Description}},
		{name: "accepts a description with other text, as upstream",
			objs: []runtime.Object{namespace("ns", corev1.NamespaceActive), rootCM("ns", good, map[string]string{DescriptionAnnotation: "mine"})}},
		{name: "skips a terminating namespace", objs: []runtime.Object{namespace("ns", corev1.NamespaceTerminating)}},
		{name: "skips a namespace being deleted", objs: []runtime.Object{deleting, rootCM("ns", map[string]string{DataKey: "x"}, nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, c := newTestController(t, tc.objs...)
			res, err := c.sync(context.Background(), "ns")
			if err != nil || res != (controller.Result{}) {
				t.Fatalf("sync = %v, %v; want zero, nil", res, err)
			}
			actions := env.Client.Actions()
			if got := controllertest.Writes(actions); !slices.Equal(got, tc.writes) {
				t.Fatalf("writes = %v, want %v", got, tc.writes)
			}
			if len(tc.writes) == 0 {
				return
			}
			if ns := actions[0].GetNamespace(); ns != "ns" {
				t.Errorf("wrote in namespace %q, want ns", ns)
			}
			cm := actions[0].(interface{ GetObject() runtime.Object }).GetObject().(*corev1.ConfigMap)
			if cm.Name != ConfigMapName || !maps.Equal(cm.Data, map[string]string{DataKey: ca}) {
				t.Errorf("wrote %s with data %v, want %s with exactly ca.crt", cm.Name, cm.Data, ConfigMapName)
			}
			if !maps.Equal(cm.Annotations, tc.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", cm.Annotations, tc.wantAnnotations)
			}
			if tc.writes[0] == "update configmaps" && cm.Labels["keep"] != "me" {
				t.Errorf("update dropped the labels: %v", cm.Labels)
			}
		})
	}
}

func TestSyncDoesNotChangeTheCache(t *testing.T) {
	cached := rootCM("ns", map[string]string{DataKey: "x"}, nil)
	_, c := newTestController(t, namespace("ns", corev1.NamespaceActive), cached)
	if _, err := c.sync(context.Background(), "ns"); err != nil {
		t.Fatal(err)
	}
	if cached.Data[DataKey] != "x" || cached.Annotations != nil {
		t.Errorf("sync modified the cached object: %+v", cached)
	}
}

func TestCreateErrors(t *testing.T) {
	terminating := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, ConfigMapName, nil)
	terminating.ErrStatus.Details.Causes = append(terminating.ErrStatus.Details.Causes, metav1.StatusCause{Type: corev1.NamespaceTerminatingCause})
	for _, tc := range []struct {
		name    string
		err     error
		wantErr bool
	}{
		{name: "namespace gone", err: apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "ns")},
		{name: "namespace terminating", err: terminating},
		{name: "stale cache is retried", err: apierrors.NewAlreadyExists(schema.GroupResource{Resource: "configmaps"}, ConfigMapName), wantErr: true},
		{name: "server error is retried", err: apierrors.NewInternalError(io.ErrUnexpectedEOF), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, c := newTestController(t, namespace("ns", corev1.NamespaceActive))
			env.Client.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			_, err := c.sync(context.Background(), "ns")
			if (err != nil) != tc.wantErr {
				t.Fatalf("sync = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestEventsQueueTheNamespace(t *testing.T) {
	_, c := newTestController(t)
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "a"}}
	for _, tc := range []struct {
		name  string
		event func()
		want  []string
	}{
		{name: "namespace added", event: func() { c.namespaceAdded(namespace("a", corev1.NamespaceActive)) }, want: []string{"a"}},
		{name: "active namespace updated", event: func() {
			c.namespaceUpdated(namespace("a", corev1.NamespaceActive), namespace("a", corev1.NamespaceActive))
		}, want: []string{"a"}},
		{name: "terminating namespace updated", event: func() {
			c.namespaceUpdated(namespace("a", corev1.NamespaceActive), namespace("a", corev1.NamespaceTerminating))
		}},
		{name: "kube-root-ca.crt updated", event: func() { c.configMapChanged(rootCM("b", nil, nil)) }, want: []string{"b"}},
		{name: "kube-root-ca.crt deleted (tombstone)", event: func() {
			c.configMapChanged(cache.DeletedFinalStateUnknown{Key: "c/" + ConfigMapName, Obj: rootCM("c", nil, nil)})
		}, want: []string{"c"}},
		{name: "another ConfigMap changed", event: func() { c.configMapChanged(other) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.event()
			var got []string
			for c.queue.Len() > 0 {
				k, _ := c.queue.Get()
				c.queue.Done(k)
				c.queue.Forget(k)
				got = append(got, k)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("queued %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDeletedConfigMapIsRecreated(t *testing.T) {
	env, c := newTestController(t, namespace("ns", corev1.NamespaceActive))
	c.configMapChanged(rootCM("ns", map[string]string{DataKey: ca}, nil))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for c.queue.Len() > 0 {
		controller.ProcessNext(context.Background(), log, c.queue, c.sync)
	}
	cm, err := env.Client.CoreV1().ConfigMaps("ns").Get(context.Background(), ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("kube-root-ca.crt not recreated: %v", err)
	}
	if cm.Data[DataKey] != ca || cm.Annotations[DescriptionAnnotation] != Description {
		t.Errorf("recreated %+v", cm)
	}
}

func TestRunWithoutCAPublishesNothing(t *testing.T) {
	env := controllertest.NewEnv(t, 0, namespace("ns", corev1.NamespaceActive))
	cc := env.Context(nil)
	cc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := newController(cc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	env.Factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 1) }()
	env.Factory.WaitForCacheSync(ctx.Done())
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx ended")
	}
	env.Factory.Shutdown()
	if w := controllertest.Writes(env.Client.Actions()); len(w) != 0 {
		t.Errorf("writes = %v, want none without a CA", w)
	}
}

func TestRunPublishesInEveryNamespace(t *testing.T) {
	env := controllertest.NewEnv(t, 0, namespace("a", corev1.NamespaceActive), namespace("b", corev1.NamespaceActive))
	cc := env.Context(nil)
	cc.RootCA = []byte(ca)
	cc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := newController(cc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.Factory.Start(ctx.Done())
	defer env.Factory.Shutdown()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 2) }()
	for _, ns := range []string{"a", "b"} {
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, ConfigMapName, metav1.GetOptions{})
			return err == nil && cm.Data[DataKey] == ca, nil
		})
		if err != nil {
			t.Fatalf("%s/%s not published: %v", ns, ConfigMapName, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
