package cronjob

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// fixture is a controller over a fake clientset whose informer caches the test fills by hand (never started).
type fixture struct {
	*controllertest.Env
	t *testing.T
	c *Controller
}

func newFixture(t *testing.T, now time.Time, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 100, objs...), t: t}
	c, err := newController(f.Context(clock.NewFake(now)))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

func (f *fixture) sync() controller.Result {
	f.t.Helper()
	f.Client.ClearActions()
	res, err := f.c.sync(context.Background(), "ns/backup")
	if err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	return res
}

// actions lists "verb resource[/sub] [name]" of the writes made.
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.Client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		switch a := a.(type) {
		case interface{ GetName() string }:
			if a.GetName() != "" {
				s += " " + a.GetName()
			}
		}
		if a.GetVerb() == "create" {
			s += " " + a.(interface{ GetObject() runtime.Object }).GetObject().(metav1.Object).GetName()
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) events() []string { return controllertest.Events(f.Recorder) }
func (f *fixture) status() batchv1.CronJobStatus {
	cj, err := f.Client.BatchV1().CronJobs("ns").Get(context.Background(), "backup", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cj.Status
}

func TestSyncCreatesDueJob(t *testing.T) {
	cj := cronJob("0 * * * *", lastScheduled(t0.Add(-time.Hour)))
	f := newFixture(t, t0.Add(2*time.Second), cj)
	res := f.sync()
	if got, want := f.actions(), []string{"create jobs backup-29925240", "update cronjobs/status"}; !reflect.DeepEqual(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	if got, want := f.events(), []string{"Normal SuccessfulCreate Created job backup-29925240"}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	st := f.status()
	if len(st.Active) != 1 || st.Active[0].Name != "backup-29925240" || st.Active[0].Kind != "Job" || st.Active[0].APIVersion != "batch/v1" {
		t.Errorf("active = %+v", st.Active)
	}
	if st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(t0) {
		t.Errorf("lastScheduleTime = %v, want %v", st.LastScheduleTime, t0)
	}
	if want := time.Hour - 2*time.Second + nextScheduleDelta; res.RequeueAfter != want {
		t.Errorf("requeueAfter = %v, want %v", res.RequeueAfter, want)
	}
}

func TestSyncAdoptsExistingJobAfterLostStatus(t *testing.T) {
	cj := cronJob("0 * * * *", lastScheduled(t0.Add(-time.Hour)))
	existing, _ := JobFromTemplate(cj, t0)
	existing.UID = "existing-uid"
	// The Job exists on the server but not yet in the cache: the create fails with AlreadyExists.
	f := newFixture(t, t0.Add(time.Second), cj)
	if _, err := f.Client.BatchV1().Jobs("ns").Create(context.Background(), existing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync()
	if ev := f.events(); len(ev) != 0 {
		t.Errorf("events = %v, want none", ev)
	}
	if st := f.status(); len(st.Active) != 1 || st.Active[0].UID != "existing-uid" || !st.LastScheduleTime.Time.Equal(t0) {
		t.Errorf("status = %+v", st)
	}
}

func TestSyncReplaceAndHistory(t *testing.T) {
	running := job("backup-29925180", t0.Add(-time.Hour))
	old := job("backup-29925000", t0.Add(-4*time.Hour), finished(batchv1.JobFailed, t0))
	newer := job("backup-29925060", t0.Add(-3*time.Hour), finished(batchv1.JobFailed, t0))
	cj := cronJob("0 * * * *", lastScheduled(t0.Add(-time.Hour)), policy(batchv1.ReplaceConcurrent), active(running))
	f := newFixture(t, t0.Add(time.Second), cj, running, old, newer)
	f.sync()
	want := []string{"delete jobs backup-29925000", "delete jobs backup-29925180", "create jobs backup-29925240", "update cronjobs/status"}
	if got := f.actions(); !reflect.DeepEqual(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	ev := strings.Join(f.events(), "\n")
	for _, w := range []string{"Normal SuccessfulDelete Deleted job backup-29925000", "Normal SuccessfulDelete Deleted job backup-29925180", "Normal SuccessfulCreate Created job backup-29925240"} {
		if !strings.Contains(ev, w) {
			t.Errorf("events lack %q:\n%s", w, ev)
		}
	}
	if st := f.status(); len(st.Active) != 1 || st.Active[0].Name != "backup-29925240" {
		t.Errorf("active = %+v", st.Active)
	}
}

func TestSyncDropsActiveJobGoneFromServer(t *testing.T) {
	running := job("backup-29925240", t0)
	cj := cronJob("0 * * * *", lastScheduled(t0), active(running))
	f := newFixture(t, t0.Add(time.Minute), cj)
	f.sync()
	if got := f.events(); !reflect.DeepEqual(got, []string{"Normal MissingJob Active job went missing: backup-29925240"}) {
		t.Errorf("events = %v", got)
	}
	if st := f.status(); len(st.Active) != 0 {
		t.Errorf("active = %+v, want none", st.Active)
	}
}
