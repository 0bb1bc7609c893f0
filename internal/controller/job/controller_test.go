package job

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	core "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 1000, objs...), t: t}
	f.NameGeneratedPods()
	c, err := newController(f.Context(clock.NewFake(now)))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

// actions lists "verb resource[/sub]" of the writes made since the last call.
func (f *fixture) actions() []string {
	out := controllertest.Writes(f.Client.Actions())
	f.Client.ClearActions()
	return out
}

func (f *fixture) events() []string { return controllertest.Events(f.Recorder) }

func selected(j *batchv1.Job) *batchv1.Job {
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(j.UID)}}
	j.Spec.Template.Labels = map[string]string{"batch.kubernetes.io/controller-uid": string(j.UID), "batch.kubernetes.io/job-name": j.Name}
	return j
}

func ownedBy(j *batchv1.Job) podOpt {
	return func(p *corev1.Pod) {
		p.Labels = j.Spec.Template.Labels
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: j.Name, UID: j.UID, Controller: ptr.To(true)}}
	}
}

func TestSyncCreatesTrackedPods(t *testing.T) {
	j := selected(newJob(completionsParallelism(3, 2)))
	f := newFixture(t, j)
	if _, err := f.c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.actions()); got != "[update jobs/status create pods create pods]" {
		t.Fatalf("actions %v", got)
	}
	pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	for _, p := range pods.Items {
		ref := metav1.GetControllerOf(&p)
		if p.GenerateName != "pi-" || ref == nil || ref.UID != j.UID || !*ref.BlockOwnerDeletion || p.Finalizers[0] != TrackingFinalizer {
			t.Errorf("pod %s: ref %+v finalizers %v", p.Name, ref, p.Finalizers)
		}
	}
	if ev := f.events(); len(ev) != 2 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: pi-") {
		t.Errorf("events %q", ev)
	}
	// The cache has not seen the pods: expectations hold back a second round.
	if _, err := f.c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); len(got) != 0 {
		t.Errorf("second sync wrote %v", got)
	}
}

func TestSyncCountsBeforeReleasing(t *testing.T) {
	j := selected(newJob(completionsParallelism(2, 1), started(time.Minute)))
	done := newPod("a", corev1.PodSucceeded, ownedBy(j))
	f := newFixture(t, j, done)
	if _, err := f.c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	// The status names the pod as uncounted before its finalizer goes.
	if got := fmt.Sprint(f.actions()); got != "[update jobs/status create pods patch pods]" {
		t.Fatalf("actions %v", got)
	}
	got, _ := f.Client.BatchV1().Jobs("ns").Get(context.Background(), "pi", metav1.GetOptions{})
	if u := got.Status.UncountedTerminatedPods; u == nil || len(u.Succeeded) != 1 || u.Succeeded[0] != "a" {
		t.Errorf("uncounted %+v", u)
	}
	p, _ := f.Client.CoreV1().Pods("ns").Get(context.Background(), "a", metav1.GetOptions{})
	if len(p.Finalizers) != 0 {
		t.Errorf("finalizers %v", p.Finalizers)
	}
}

func TestSyncReleasesBeforeDeleting(t *testing.T) {
	j := selected(newJob(started(time.Minute), func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) }))
	f := newFixture(t, j, newPod("a", corev1.PodRunning, ownedBy(j)))
	if _, err := f.c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.actions()); got != "[update jobs/status patch pods delete pods]" {
		t.Fatalf("actions %v", got)
	}
	if ev := f.events(); fmt.Sprint(ev) != "[Normal Suspended Job suspended Normal SuccessfulDelete Deleted pod: a]" {
		t.Errorf("events %q", ev)
	}
}

func TestSyncOrphanReleasesFinalizer(t *testing.T) {
	gone := selected(newJob())
	f := newFixture(t, newPod("a", corev1.PodRunning, ownedBy(gone), deleting))
	if err := f.c.syncOrphan(context.Background(), "ns/a"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.actions()); got != "[patch pods]" {
		t.Fatalf("actions %v", got)
	}
}

func TestTTLDeletesExpiredJob(t *testing.T) {
	j := newJob(func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](10) })
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-5 * time.Second))}}
	f := newFixture(t, j)
	res, err := f.c.ttl.sync(context.Background(), "ns/pi")
	if err != nil || res.RequeueAfter != 5*time.Second || len(f.actions()) != 0 {
		t.Fatalf("before expiry: %+v %v", res, err)
	}
	f.c.ttl.clock.(*clock.Fake).Step(5 * time.Second)
	if _, err := f.c.ttl.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	var del core.DeleteAction
	for _, a := range f.Client.Actions() {
		if d, ok := a.(core.DeleteAction); ok {
			del = d
		}
	}
	if del == nil || del.GetName() != "pi" || ptr.Deref(del.GetDeleteOptions().PropagationPolicy, "") != metav1.DeletePropagationBackground {
		t.Fatalf("delete %+v", del)
	}
}

func TestSyncPerIndexReplacementCarriesFailureCount(t *testing.T) {
	j := selected(newJob(perIndexLimit(2), completionsParallelism(1, 1), started(time.Minute)))
	failed := newPod("a", corev1.PodFailed, ownedBy(j), failures("0", "0", ""), exited(1, time.Minute))
	f := newFixture(t, j, failed)
	if _, err := f.c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	// The failed pod keeps its finalizer until the replacement is seen: nothing is patched.
	if got := fmt.Sprint(f.actions()); got != "[update jobs/status create pods]" {
		t.Fatalf("actions %v", got)
	}
	pods, _ := f.Client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	for _, p := range pods.Items {
		if p.Name == "a" {
			continue
		}
		if p.GenerateName != "pi-0-" || p.Annotations[IndexFailureCountKey] != "1" || p.Annotations[CompletionIndexKey] != "0" {
			t.Errorf("replacement %s: generateName %q annotations %v", p.Name, p.GenerateName, p.Annotations)
		}
	}
	if len(pods.Items) != 2 {
		t.Errorf("pods %d, want the failed one and its replacement", len(pods.Items))
	}
}
