package resourcequota

import (
	"context"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/admission/quota"
	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func testPod(name string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: rl("cpu", cpu)}}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

type fixture struct {
	env *controllertest.Env
	c   *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	env := controllertest.NewEnv(t, 10, objs...)
	c, err := newController(env.Context(clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	env.Cache(objs...)
	return &fixture{env: env, c: c}
}

func TestSyncComputesStatus(t *testing.T) {
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
		Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "5", "requests.cpu", "2", "configmaps", "3", "resourcequotas", "1")}}
	f := newFixture(t, rq,
		testPod("running", corev1.PodRunning, "500m"), testPod("done", corev1.PodSucceeded, "1"),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other-ns", Namespace: "other"}},
	)
	res, err := f.c.sync(context.Background(), "ns/q")
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != ResyncPeriod {
		t.Errorf("RequeueAfter = %v, want the resync period %v", res.RequeueAfter, ResyncPeriod)
	}
	if got := controllertest.Writes(f.env.Client.Actions()); len(got) != 1 || got[0] != "update resourcequotas/status" {
		t.Fatalf("writes = %v, want one status update", got)
	}
	got, err := f.env.Client.CoreV1().ResourceQuotas("ns").Get(context.Background(), "q", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !quota.Equal(got.Status.Hard, rq.Spec.Hard) {
		t.Errorf("status.hard = %v, want spec.hard %v", got.Status.Hard, rq.Spec.Hard)
	}
	if want := rl("pods", "1", "requests.cpu", "500m", "configmaps", "1", "resourcequotas", "1"); !quota.Equal(got.Status.Used, want) {
		t.Errorf("status.used = %v, want %v", got.Status.Used, want)
	}

	// Current status: no write.
	f.env.Cache(got)
	f.env.Client.ClearActions()
	if _, err := f.c.sync(context.Background(), "ns/q"); err != nil {
		t.Fatal(err)
	}
	if w := controllertest.Writes(f.env.Client.Actions()); len(w) != 0 {
		t.Errorf("writes = %v, want none for a current status", w)
	}
}

func TestSyncMissingQuota(t *testing.T) {
	f := newFixture(t)
	if _, err := f.c.sync(context.Background(), "ns/gone"); err != nil {
		t.Fatalf("sync of a deleted quota: %v", err)
	}
}

func TestHandlers(t *testing.T) {
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"}, Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "5")}}
	f := newFixture(t, rq)
	drain := func() int {
		n := f.c.queue.Len()
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
		}
		return n
	}
	statusOnly := rq.DeepCopy()
	statusOnly.Status.Hard = rl("pods", "1")
	f.c.quotaUpdated(rq, statusOnly)
	if n := drain(); n != 0 {
		t.Errorf("a status-only change enqueued %d keys, want 0", n)
	}
	specChanged := rq.DeepCopy()
	specChanged.Spec.Hard = rl("pods", "6")
	f.c.quotaUpdated(rq, specChanged)
	if n := drain(); n != 1 {
		t.Errorf("a spec.hard change enqueued %d keys, want 1", n)
	}
	f.c.podUpdated(testPod("p", corev1.PodRunning, "1"), testPod("p", corev1.PodSucceeded, "1"))
	if n := drain(); n != 1 {
		t.Errorf("a pod turning terminal enqueued %d keys, want 1", n)
	}
	f.c.podUpdated(testPod("p", corev1.PodPending, "1"), testPod("p", corev1.PodRunning, "1"))
	if n := drain(); n != 0 {
		t.Errorf("a pod starting enqueued %d keys, want 0", n)
	}
	f.c.released(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}})
	if n := drain(); n != 1 {
		t.Errorf("a deleted secret enqueued %d keys, want 1", n)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}
	np := svc.DeepCopy()
	np.Spec.Type = corev1.ServiceTypeNodePort
	f.c.usageUpdated(quota.Services)(svc, np)
	if n := drain(); n != 1 {
		t.Errorf("a service turning NodePort enqueued %d keys, want 1", n)
	}
}
