package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testPod(mut func(p *corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec: corev1.PodSpec{NodeName: "sim-node-00001", Containers: []corev1.Container{
			{Name: "a", Image: "img:a"}, {Name: "b", Image: "img:b"},
		}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable},
	}
	if mut != nil {
		mut(p)
	}
	return p
}

// statusAt is what NextPod writes for a pod first seen at t0 when asked at now.
func statusAt(p *corev1.Pod, now time.Time, d Delays) *corev1.Pod {
	out := p.DeepCopy()
	s := NextPod(p, PodEnv{HostIP: "172.16.0.1", PodIP: "10.244.0.2", Now: now, Delays: d})
	if s.Status == nil {
		panic("no status")
	}
	out.Status = *s.Status
	return out
}

func TestNextPod(t *testing.T) {
	delays := Delays{Start: 2 * time.Second, Ready: 3 * time.Second}
	fresh := testPod(nil)
	pending := statusAt(fresh, t0, delays)
	running := statusAt(pending, t0.Add(2*time.Second), delays)
	ready := statusAt(running, t0.Add(5*time.Second), delays)
	deleting := testPod(func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0} })

	tests := []struct {
		name        string
		pod         *corev1.Pod
		now         time.Time
		delays      Delays
		wantDelete  bool
		wantStage   Stage // StageNew means no status write expected
		wantRequeue time.Duration
	}{
		{name: "no delays: straight to ready", pod: fresh, now: t0, wantStage: StageReady},
		{name: "start delay: pending first", pod: fresh, now: t0, delays: delays, wantStage: StagePending, wantRequeue: 2 * time.Second},
		{name: "pending, not due yet", pod: pending, now: t0.Add(time.Second), delays: delays, wantRequeue: time.Second},
		{name: "pending, due: running", pod: pending, now: t0.Add(2 * time.Second), delays: delays, wantStage: StageRunning, wantRequeue: 3 * time.Second},
		{name: "pending, both due: ready in one write", pod: pending, now: t0.Add(time.Minute), delays: delays, wantStage: StageReady},
		{name: "running, not ready yet", pod: running, now: t0.Add(4 * time.Second), delays: delays, wantRequeue: time.Second},
		{name: "running, due: ready", pod: running, now: t0.Add(5 * time.Second), delays: delays, wantStage: StageReady},
		{name: "ready: nothing to do", pod: ready, now: t0.Add(time.Hour), delays: delays},
		{name: "ready, delays grew: still nothing", pod: ready, now: t0.Add(6 * time.Second), delays: Delays{Start: time.Hour}},
		{name: "deleting: delete", pod: deleting, now: t0, wantDelete: true},
		{name: "deleting a ready pod: delete", pod: func() *corev1.Pod {
			p := ready.DeepCopy()
			p.DeletionTimestamp = &metav1.Time{Time: t0}
			return p
		}(), now: t0, wantDelete: true},
		{name: "succeeded: left alone", pod: testPod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), now: t0},
		{name: "failed: left alone", pod: testPod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), now: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextPod(tt.pod, PodEnv{HostIP: "172.16.0.1", PodIP: "10.244.0.9", Now: tt.now, Delays: tt.delays})
			if got.Delete != tt.wantDelete {
				t.Fatalf("Delete=%v, want %v", got.Delete, tt.wantDelete)
			}
			if got, want := got.RequeueAfter, tt.wantRequeue; got != want {
				t.Errorf("RequeueAfter=%v, want %v", got, want)
			}
			if tt.wantStage == StageNew {
				if got.Status != nil {
					t.Fatalf("unexpected status write to stage %v", StageOf(got.Status))
				}
				return
			}
			if got.Status == nil {
				t.Fatalf("no status written, want stage %v", tt.wantStage)
			}
			if s := StageOf(got.Status); s != tt.wantStage {
				t.Fatalf("stage=%v, want %v", s, tt.wantStage)
			}
		})
	}
}

func TestNextPodStatusFields(t *testing.T) {
	delays := Delays{Start: 2 * time.Second, Ready: 3 * time.Second}
	pod := testPod(func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "img:init"}}
	})
	pending := statusAt(pod, t0, delays)
	st := pending.Status
	if st.Phase != corev1.PodPending || st.HostIP != "172.16.0.1" || st.PodIP != "10.244.0.2" || st.StartTime == nil || !st.StartTime.Time.Equal(t0) {
		t.Fatalf("pending status: %+v", st)
	}
	if st.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("QOSClass=%q, want the server's Burstable kept", st.QOSClass)
	}
	if len(st.PodIPs) != 1 || st.PodIPs[0].IP != "10.244.0.2" || len(st.HostIPs) != 1 {
		t.Errorf("PodIPs=%v HostIPs=%v", st.PodIPs, st.HostIPs)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Waiting == nil || cs.Ready {
			t.Errorf("pending container %s: %+v", cs.Name, cs)
		}
	}
	if len(st.InitContainerStatuses) != 1 || st.InitContainerStatuses[0].State.Terminated == nil {
		t.Errorf("init containers: %+v", st.InitContainerStatuses)
	}
	wantConds := map[corev1.PodConditionType]corev1.ConditionStatus{
		corev1.PodScheduled: corev1.ConditionTrue, corev1.PodInitialized: corev1.ConditionTrue,
		corev1.ContainersReady: corev1.ConditionFalse, corev1.PodReady: corev1.ConditionFalse,
	}
	checkConds(t, "pending", st.Conditions, wantConds)

	// The IP in the status wins over a different one reserved later.
	later := t0.Add(5 * time.Second)
	s := NextPod(pending, PodEnv{HostIP: "172.16.0.1", PodIP: "10.244.0.77", Now: later, Delays: delays})
	if s.Status == nil {
		t.Fatal("no status at ready time")
	}
	st = *s.Status
	if st.PodIP != "10.244.0.2" {
		t.Errorf("PodIP=%q, want the existing 10.244.0.2", st.PodIP)
	}
	if st.Phase != corev1.PodRunning {
		t.Errorf("Phase=%q, want Running", st.Phase)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started || cs.ContainerID == "" {
			t.Errorf("ready container %s: %+v", cs.Name, cs)
		} else if got, want := cs.State.Running.StartedAt.Time, t0.Add(2*time.Second); !got.Equal(want) {
			t.Errorf("container %s StartedAt=%v, want %v", cs.Name, got, want)
		}
	}
	wantConds[corev1.ContainersReady] = corev1.ConditionTrue
	wantConds[corev1.PodReady] = corev1.ConditionTrue
	checkConds(t, "ready", st.Conditions, wantConds)
	// PodScheduled did not change, so its transition time stays.
	for _, c := range st.Conditions {
		if c.Type == corev1.PodScheduled && !c.LastTransitionTime.Time.Equal(t0) {
			t.Errorf("PodScheduled moved to %v", c.LastTransitionTime)
		}
	}
	if n := len(st.Conditions); n != 5 {
		t.Errorf("%d conditions, want 5 (no duplicates): %+v", n, st.Conditions)
	}
}

func checkConds(t *testing.T, what string, got []corev1.PodCondition, want map[corev1.PodConditionType]corev1.ConditionStatus) {
	t.Helper()
	seen := map[corev1.PodConditionType]bool{}
	for _, c := range got {
		seen[c.Type] = true
		if w, ok := want[c.Type]; ok && c.Status != w {
			t.Errorf("%s: condition %s=%s, want %s", what, c.Type, c.Status, w)
		}
		if c.LastTransitionTime.IsZero() {
			t.Errorf("%s: condition %s has no transition time", what, c.Type)
		}
	}
	for c := range want {
		if !seen[c] {
			t.Errorf("%s: condition %s missing", what, c)
		}
	}
}

func TestStageOf(t *testing.T) {
	start := metav1.NewTime(t0)
	tests := []struct {
		st   corev1.PodStatus
		want Stage
	}{
		{corev1.PodStatus{}, StageNew},
		{corev1.PodStatus{Phase: corev1.PodPending}, StageNew},
		{corev1.PodStatus{Phase: corev1.PodPending, StartTime: &start}, StagePending},
		{corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start}, StageRunning},
		{corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}}, StageRunning},
		{corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}, StageReady},
		{corev1.PodStatus{Phase: corev1.PodSucceeded}, StageDone},
		{corev1.PodStatus{Phase: corev1.PodFailed, StartTime: &start}, StageDone},
	}
	for i, tt := range tests {
		if got := StageOf(&tt.st); got != tt.want {
			t.Errorf("%d: StageOf=%v, want %v", i, got, tt.want)
		}
	}
}
