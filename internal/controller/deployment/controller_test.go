package deployment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	core "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

type fixture struct {
	*controllertest.Env
	res controller.Result
	c   *Controller
}

func newFixture(objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(panicTB{}, 1000, objs...)}
	c, err := newController(f.Context(clock.NewFake(t0)))
	if err != nil {
		panic(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

// panicTB fails a fixture built outside a test by panicking.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                   {}
func (panicTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func (f *fixture) sync() error {
	f.Client.ClearActions()
	res, err := f.c.sync(context.Background(), "default/web")
	f.res = res
	return err
}

func (f *fixture) actions() []string { return controllertest.Writes(f.Client.Actions()) }

func (f *fixture) events() []string { return controllertest.Events(f.Recorder) }
func TestControllerCreatesReplicaSet(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	f := newFixture(d)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.actions()); got != "[create replicasets update deployments/status]" {
		t.Fatalf("actions %s", got)
	}
	// The revision annotation travels with the status write (it must not bump the generation).
	dd, _ := f.Client.AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	if dd.Annotations[RevisionAnnotation] != "1" || dd.Status.ObservedGeneration != dd.Generation {
		t.Fatalf("after the first sync: annotations %v, status %+v", dd.Annotations, dd.Status)
	}
	rss, _ := f.Client.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	if len(rss.Items) != 1 || *rss.Items[0].Spec.Replicas != 3 {
		t.Fatalf("replica sets %+v", rss.Items)
	}
	name := rss.Items[0].Name
	if ev := f.events(); len(ev) != 1 || ev[0] != "Normal ScalingReplicaSet Scaled up replica set "+name+" from 0 to 3" {
		t.Errorf("events %q", ev)
	}
	got, _ := f.Client.AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	if got.Annotations[RevisionAnnotation] != "1" || got.Status.ObservedGeneration != 1 {
		t.Errorf("deployment annotations %v status %+v", got.Annotations, got.Status)
	}
}

func TestControllerHashCollision(t *testing.T) {
	d := newD(1, pct("25%"), pct("25%"))
	squatter := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-" + ComputeHash(&d.Spec.Template, nil), Namespace: "default", UID: "other"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}}
	f := newFixture(d)
	_, _ = f.Client.AppsV1().ReplicaSets("default").Create(context.Background(), squatter, metav1.CreateOptions{})
	err := f.sync()
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("err %v", err)
	}
	got, _ := f.Client.AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	if got.Status.CollisionCount == nil || *got.Status.CollisionCount != 1 {
		t.Fatalf("collisionCount %v", got.Status.CollisionCount)
	}
	// Next sync (cache caught up) uses another name.
	f.Cache(got)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	rss, _ := f.Client.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	if len(rss.Items) != 2 {
		t.Errorf("%d replica sets", len(rss.Items))
	}
}

func TestControllerAlreadyExistsOurs(t *testing.T) {
	d := newD(1, pct("25%"), pct("25%"))
	f := newFixture(d)
	plan := Reconcile(d, nil, nil, t0)
	ours := plan.Create.DeepCopy()
	ours.UID = "ours"
	_, _ = f.Client.AppsV1().ReplicaSets("default").Create(context.Background(), ours, metav1.CreateOptions{})
	if err := f.sync(); err != nil {
		t.Fatalf("lagging cache is not an error: %v", err)
	}
	if f.res.RequeueAfter <= 0 {
		t.Error("not requeued")
	}
	got, _ := f.Client.AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	if got.Status.CollisionCount != nil {
		t.Error("no collision")
	}
}

func TestControllerCreateError(t *testing.T) {
	d := newD(1, pct("25%"), pct("25%"))
	f := newFixture(d)
	f.Client.PrependReactor("create", "replicasets", func(core.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(appsv1.Resource("replicasets"), "", errors.New("quota"))
	})
	if err := f.sync(); err == nil {
		t.Fatal("want error")
	}
	got, _ := f.Client.AppsV1().Deployments("default").Get(context.Background(), "web", metav1.GetOptions{})
	c := GetCondition(got.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonFailedRSCreate || !strings.HasPrefix(c.Message, "Failed to create new replica set") {
		t.Errorf("progressing %+v", c)
	}
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning ReplicaSetCreateError Failed to create new replica set") {
		t.Errorf("events %q", ev)
	}
}

func TestControllerAdoptsOrphanReplicaSet(t *testing.T) {
	d := newD(2, ip(1), ip(0))
	rs := rsOf(d, "nginx:1", 1, 2, 2, time.Hour)
	rs.OwnerReferences = nil
	f := newFixture(d, rs)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Client.AppsV1().ReplicaSets("default").Get(context.Background(), rs.Name, metav1.GetOptions{})
	if ref := metav1.GetControllerOf(got); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Fatalf("not adopted: %+v", got.OwnerReferences)
	}
	for _, a := range f.actions() {
		if a == "create replicasets" {
			t.Error("created a new ReplicaSet instead of adopting the matching one")
		}
	}
}

func TestControllerCleansUpHistory(t *testing.T) {
	d := newD(1, ip(1), ip(0))
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	objs := []runtime.Object{d, rsOf(d, "nginx:1", 3, 1, 1, time.Minute)}
	for i := 1; i <= 2; i++ {
		objs = append(objs, rsOf(d, fmt.Sprintf("nginx:old%d", i), i, 0, 0, time.Duration(10-i)*time.Hour))
	}
	f := newFixture(objs...)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.Client.Actions() {
		if del, ok := a.(core.DeleteAction); ok {
			deleted = append(deleted, del.GetName())
		}
	}
	if want := rsOf(d, "nginx:old1", 1, 0, 0, 0).Name; fmt.Sprint(deleted) != "["+want+"]" {
		t.Errorf("deleted %v, want [%s]", deleted, want)
	}
}

func TestControllerSelectingAll(t *testing.T) {
	d := newD(1, nil, nil)
	d.Spec.Selector = &metav1.LabelSelector{}
	d.Generation = 3
	other := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default", UID: "x"}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1)}}
	f := newFixture(d, other)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.actions()) != "[update deployments/status]" {
		t.Errorf("actions %v (must not adopt everything)", f.actions())
	}
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning SelectingAll") {
		t.Errorf("events %q", ev)
	}
}

func TestControllerHandlers(t *testing.T) {
	d := newD(1, nil, nil)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	rs := rsOf(d, "nginx:1", 1, 1, 1, time.Hour)
	f := newFixture(d, rs)
	drain := func() []string {
		var keys []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			keys = append(keys, k)
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
		}
		return keys
	}
	f.c.addRS(rs)
	if k := drain(); fmt.Sprint(k) != "[default/web]" {
		t.Errorf("owned rs add: %v", k)
	}
	orphan := rs.DeepCopy()
	orphan.OwnerReferences = nil
	f.c.addRS(orphan)
	if k := drain(); fmt.Sprint(k) != "[default/web]" {
		t.Errorf("orphan rs add: %v", k)
	}
	cur := rs.DeepCopy()
	cur.ResourceVersion = "9"
	f.c.updateRS(rs, cur)
	if k := drain(); fmt.Sprint(k) != "[default/web]" {
		t.Errorf("rs update: %v", k)
	}
	f.c.deleteRS(rs)
	if k := drain(); fmt.Sprint(k) != "[default/web]" {
		t.Errorf("rs delete: %v", k)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}}}
	f.c.deletePod(pod)
	if k := drain(); fmt.Sprint(k) != "[default/web]" {
		t.Errorf("recreate pod delete: %v", k)
	}
	if f.c.Name() != "deployment" {
		t.Error("name")
	}
}
