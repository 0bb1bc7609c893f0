package statefulset

import (
	"context"
	"strings"
	"testing"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...)}
	c, err := newController(f.Context(clock.NewFake(now)))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) writes() string {
	return strings.Join(controllertest.Writes(f.Client.Actions()), ", ")
}
func TestSyncCreatesRevisionPodsAndStatus(t *testing.T) {
	set := newSet(2, appsv1.ParallelPodManagement)
	f := newFixture(t, set)
	if _, err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	if got, want := f.writes(), "create controllerrevisions, create pods, create pods, update statefulsets/status"; got != want {
		t.Errorf("writes %q, want %q", got, want)
	}
	revs, _ := f.Client.AppsV1().ControllerRevisions("ns").List(context.Background(), metav1.ListOptions{})
	if len(revs.Items) != 1 || revs.Items[0].Revision != 1 {
		t.Fatalf("revisions %+v, want one numbered 1", revs.Items)
	}
	pod, err := f.Client.CoreV1().Pods("ns").Get(context.Background(), "web-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Labels[appsv1.ControllerRevisionHashLabelKey] != revs.Items[0].Name {
		t.Errorf("pod revision label %q, want %q", pod.Labels[appsv1.ControllerRevisionHashLabelKey], revs.Items[0].Name)
	}
	got, _ := f.Client.AppsV1().StatefulSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	st := got.Status
	if st.Replicas != 2 || st.UpdatedReplicas != 2 || st.CurrentRevision != revs.Items[0].Name || st.UpdateRevision != st.CurrentRevision || st.ObservedGeneration != 3 {
		t.Errorf("status %+v", st)
	}
	var events []string
	for len(f.Recorder.Events) > 0 {
		events = append(events, <-f.Recorder.Events)
	}
	for _, want := range []string{"Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful", "Normal SuccessfulCreate create Pod web-1 in StatefulSet web successful"} {
		if !strings.Contains(strings.Join(events, "\n"), want) {
			t.Errorf("events %q lack %q", events, want)
		}
	}
}

func TestSyncHashCollisionBumpsCollisionCount(t *testing.T) {
	set := newSet(0, appsv1.OrderedReadyPodManagement)
	mine, err := NewRevision(set, 1, new(int32))
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's revision holds the name this template hashes to.
	foreign := mine.DeepCopy()
	foreign.OwnerReferences = nil
	foreign.Data.Raw = []byte(`{"other":true}`)
	f := newFixture(t, set, foreign)
	if _, err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Client.AppsV1().StatefulSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if got.Status.CollisionCount == nil || *got.Status.CollisionCount != 1 || got.Status.UpdateRevision == mine.Name {
		t.Errorf("status %+v, want collisionCount 1 and a revision other than %s", got.Status, mine.Name)
	}
}

func TestSyncNotFound(t *testing.T) {
	f := newFixture(t)
	if _, err := f.c.sync(context.Background(), "ns/gone"); err != nil || f.writes() != "" {
		t.Errorf("sync of a missing set: err %v, writes %q", err, f.writes())
	}
}
