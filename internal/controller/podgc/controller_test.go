package podgc

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

type fixture struct {
	*controllertest.Env
	t   *testing.T
	c   *Controller
	clk *clock.Fake
}

func newFixture(t *testing.T, opts Options, objs ...runtime.Object) *fixture {
	f := &fixture{Env: controllertest.NewEnv(t, 10, objs...), t: t, clk: clock.NewFake(now)}
	c, err := newController(f.Context(f.clk), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.Cache(objs...)
	return f
}

// sync runs one scan and returns its writes as "verb resource[/sub] name [patch]", sorted.
func (f *fixture) sync() (controller.Result, []string) {
	f.t.Helper()
	f.Client.ClearActions()
	res, err := f.c.sync(context.Background(), Name)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, a := range f.Client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		switch a := a.(type) {
		case k8stesting.PatchAction:
			s += " " + a.GetName() + " " + string(a.GetPatch())
		case k8stesting.DeleteAction:
			s += " " + a.GetName()
			if g := a.GetDeleteOptions().GracePeriodSeconds; g == nil || *g != 0 {
				f.t.Errorf("delete %s without grace period 0", a.GetName())
			}
			if p := a.GetDeleteOptions().Preconditions; p == nil || p.UID == nil || string(*p.UID) != "uid-"+a.GetName() {
				f.t.Errorf("delete %s without its UID as precondition", a.GetName())
			}
		case k8stesting.GetAction:
			s += " " + a.GetName()
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return res, out
}

func TestSyncOrphanedAfterQuarantine(t *testing.T) {
	orphan := pod("orphan", time.Hour, "gone", corev1.PodRunning)
	done := pod("done", time.Hour, "gone", corev1.PodSucceeded)
	f := newFixture(t, Options{}, orphan, done, node("ready", corev1.ConditionTrue))

	res, acts := f.sync()
	if len(acts) != 0 || res.RequeueAfter != DefaultCheckPeriod {
		t.Fatalf("first scan: %q, requeue %v; want nothing yet", acts, res.RequeueAfter)
	}
	f.clk.Step(30 * time.Second)
	if res, acts = f.sync(); len(acts) != 0 || res.RequeueAfter != 10*time.Second {
		t.Fatalf("in quarantine: %q, requeue %v; want nothing, requeue 10s", acts, res.RequeueAfter)
	}
	f.clk.Step(10 * time.Second)
	_, acts = f.sync()
	cond := `"conditions":[{"type":"DisruptionTarget","status":"True","reason":"DeletionByPodGC","message":"PodGC: node no longer exists","lastTransitionTime":"2025-01-01T12:00:40Z"}]`
	want := []string{
		"delete pods done",
		"delete pods orphan",
		"get nodes gone",
		`patch pods/status orphan {"status":{"phase":"Failed",` + cond + `}}`,
	}
	if strings.Join(acts, "\n") != strings.Join(want, "\n") {
		t.Errorf("after quarantine:\n%s\nwant:\n%s", strings.Join(acts, "\n"), strings.Join(want, "\n"))
	}
}

func TestSyncOrphanNodeStillExists(t *testing.T) {
	// The node exists on the server though the cache lacks it: its pods stay, and it is quarantined again.
	f := newFixture(t, Options{QuarantineTime: time.Second}, pod("a", time.Hour, "late", corev1.PodRunning))
	if err := f.Client.Tracker().Add(node("late", corev1.ConditionTrue)); err != nil {
		t.Fatal(err)
	}
	f.sync()
	f.clk.Step(time.Second)
	if _, acts := f.sync(); strings.Join(acts, ",") != "get nodes late" {
		t.Fatalf("writes %q, want only the confirming read", acts)
	}
	if res, acts := f.sync(); len(acts) != 0 || res.RequeueAfter != time.Second {
		t.Errorf("after the node was found: %q, requeue %v; want a new quarantine", acts, res.RequeueAfter)
	}
}

func TestSyncTerminatedAndUnscheduled(t *testing.T) {
	f := newFixture(t, Options{TerminatedPodThreshold: 1},
		pod("old", 2*time.Hour, "ready", corev1.PodSucceeded),
		pod("young", time.Hour, "ready", corev1.PodFailed),
		pod("pending", time.Hour, "", corev1.PodPending, "deleting"),
		node("ready", corev1.ConditionTrue))
	_, acts := f.sync()
	want := []string{"delete pods old", "delete pods pending", `patch pods/status pending {"status":{"phase":"Failed"}}`}
	if strings.Join(acts, "\n") != strings.Join(want, "\n") {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(acts, "\n"), strings.Join(want, "\n"))
	}
}

func TestNewWithRejectsNegativePeriods(t *testing.T) {
	if _, err := NewWith(Options{CheckPeriod: -time.Second})(controller.Context{}); err == nil {
		t.Error("negative CheckPeriod accepted")
	}
}
