package podgc

import (
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// pod builds a pod created age before now; spec is "node phase [deleting] [evicted]".
func pod(name string, age time.Duration, node string, phase corev1.PodPhase, flags ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: phase},
	}
	for _, f := range flags {
		switch f {
		case "deleting":
			t := metav1.NewTime(now.Add(-time.Second))
			p.DeletionTimestamp = &t
		case "evicted":
			p.Status.Reason = "Evicted"
		}
	}
	return p
}

func node(name string, ready corev1.ConditionStatus, taints ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}
	for _, k := range taints {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoExecute})
	}
	return n
}

// summary renders a Plan's deletions as "reason:pod" in order, orphans as "orphaned@node:pod" sorted.
func summary(p Plan) string {
	var out []string
	for _, d := range p.Delete {
		out = append(out, string(d.Reason)+":"+d.Pod.Name)
	}
	var orphans []string
	for n, ds := range p.Orphaned {
		for _, d := range ds {
			orphans = append(orphans, "orphaned@"+n+":"+d.Pod.Name)
		}
	}
	sort.Strings(orphans)
	return strings.Join(append(out, orphans...), " ")
}

func TestReconcile(t *testing.T) {
	ready := node("ready", corev1.ConditionTrue)
	oos := node("oos", corev1.ConditionFalse, corev1.TaintNodeOutOfService)
	oosReady := node("oos-ready", corev1.ConditionTrue, corev1.TaintNodeOutOfService)
	notReady := node("down", corev1.ConditionUnknown, corev1.TaintNodeUnreachable)
	nodes := []*corev1.Node{ready, oos, oosReady, notReady}

	tests := []struct {
		name       string
		pods       []*corev1.Pod
		threshold  int
		missing    map[string]time.Time
		want       string
		requeue    time.Duration
		quarantine []string
	}{
		{name: "nothing to do", pods: []*corev1.Pod{pod("a", time.Hour, "ready", corev1.PodRunning), pod("b", time.Hour, "ready", corev1.PodSucceeded)},
			threshold: 5, want: "", requeue: DefaultCheckPeriod},
		{name: "terminated over threshold: evicted first, then oldest, names break ties",
			pods: []*corev1.Pod{
				pod("old", 3*time.Hour, "ready", corev1.PodSucceeded),
				pod("new", time.Hour, "ready", corev1.PodFailed),
				pod("evicted", time.Minute, "ready", corev1.PodFailed, "evicted"),
				pod("tie-b", 2*time.Hour, "ready", corev1.PodSucceeded),
				pod("tie-a", 2*time.Hour, "ready", corev1.PodSucceeded),
				pod("running", 5*time.Hour, "ready", corev1.PodRunning),
			},
			threshold: 2, want: "terminated:evicted terminated:old terminated:tie-a", requeue: DefaultCheckPeriod},
		{name: "threshold 0 turns terminated collection off",
			pods:      []*corev1.Pod{pod("a", time.Hour, "ready", corev1.PodSucceeded)},
			threshold: 0, want: "", requeue: DefaultCheckPeriod},
		{name: "terminating pods on a not-ready out-of-service node only",
			pods: []*corev1.Pod{
				pod("a", time.Hour, "oos", corev1.PodRunning, "deleting"),
				pod("b", time.Hour, "oos", corev1.PodRunning),
				pod("c", time.Hour, "oos-ready", corev1.PodRunning, "deleting"),
				pod("d", time.Hour, "down", corev1.PodRunning, "deleting"),
			},
			want: "out-of-service:a", requeue: DefaultCheckPeriod},
		{name: "unscheduled terminating", pods: []*corev1.Pod{pod("a", time.Hour, "", corev1.PodPending, "deleting"), pod("b", time.Hour, "", corev1.PodPending)},
			want: "unscheduled:a", requeue: DefaultCheckPeriod},
		{name: "node newly missing: quarantined, requeued at the end of the quarantine if sooner",
			pods: []*corev1.Pod{pod("a", time.Hour, "gone", corev1.PodRunning)},
			want: "", requeue: DefaultCheckPeriod, quarantine: []string{"gone"}},
		{name: "quarantine running",
			pods:    []*corev1.Pod{pod("a", time.Hour, "gone", corev1.PodRunning)},
			missing: map[string]time.Time{"gone": now.Add(-35 * time.Second)},
			want:    "", requeue: 5 * time.Second, quarantine: []string{"gone"}},
		{name: "quarantine over: orphans handed over for confirmation",
			pods:    []*corev1.Pod{pod("a", time.Hour, "gone", corev1.PodRunning), pod("b", time.Hour, "gone", corev1.PodPending), pod("c", time.Hour, "ready", corev1.PodRunning)},
			missing: map[string]time.Time{"gone": now.Add(-DefaultQuarantineTime)},
			want:    "orphaned@gone:a orphaned@gone:b", requeue: DefaultCheckPeriod, quarantine: []string{"gone"}},
		{name: "a node back in the cache leaves quarantine",
			pods:    []*corev1.Pod{pod("a", time.Hour, "ready", corev1.PodRunning)},
			missing: map[string]time.Time{"ready": now.Add(-time.Hour)},
			want:    "", requeue: DefaultCheckPeriod},
		{name: "a pod is planned once",
			pods:    []*corev1.Pod{pod("a", time.Hour, "gone", corev1.PodFailed), pod("b", time.Hour, "gone", corev1.PodRunning)},
			missing: map[string]time.Time{"gone": now.Add(-time.Hour)},
			want:    "orphaned@gone:a orphaned@gone:b", requeue: DefaultCheckPeriod, quarantine: []string{"gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := Reconcile(Input{Pods: tt.pods, Nodes: nodes, Missing: tt.missing, Now: now}, Options{TerminatedPodThreshold: tt.threshold})
			if got := summary(plan); got != tt.want {
				t.Errorf("plan %q, want %q", got, tt.want)
			}
			if plan.RequeueAfter != tt.requeue {
				t.Errorf("RequeueAfter %v, want %v", plan.RequeueAfter, tt.requeue)
			}
			var q []string
			for n := range plan.Missing {
				q = append(q, n)
			}
			sort.Strings(q)
			if strings.Join(q, ",") != strings.Join(tt.quarantine, ",") {
				t.Errorf("quarantined %v, want %v", q, tt.quarantine)
			}
			for _, ds := range plan.Orphaned {
				for _, d := range ds {
					c := d.Condition
					if c == nil || c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue || c.Reason != "DeletionByPodGC" || c.Message != "PodGC: node no longer exists" {
						t.Errorf("orphan %s condition %+v", d.Pod.Name, c)
					}
				}
			}
			for _, d := range plan.Delete {
				if d.Condition != nil {
					t.Errorf("%s %s has a condition, upstream sets one only for orphans", d.Reason, d.Pod.Name)
				}
			}
		})
	}
}

func TestReconcileBothTerminatedAndOrphaned(t *testing.T) {
	// Over the threshold and orphaned: collected once, in the earlier bucket (terminated).
	pods := []*corev1.Pod{
		pod("a", time.Hour, "gone", corev1.PodFailed),
		pod("b", 2*time.Hour, "ready", corev1.PodFailed),
		pod("c", 30*time.Minute, "ready", corev1.PodFailed),
	}
	in := Input{Pods: pods, Nodes: []*corev1.Node{node("ready", corev1.ConditionTrue)}, Missing: map[string]time.Time{"gone": now.Add(-time.Hour)}, Now: now}
	if got := summary(Reconcile(in, Options{TerminatedPodThreshold: 1})); got != "terminated:b terminated:a" {
		t.Errorf("plan %q, want terminated:b terminated:a", got)
	}
}
