package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/scheduler/queue"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newQueue() (*queue.Queue, *clock.Fake) {
	fc := clock.NewFake(t0)
	return queue.New(queue.Config{Clock: fc}), fc
}

func pop(t *testing.T, q *queue.Queue) *queue.QueuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := q.Pop(ctx)
	if p == nil {
		t.Fatal("Pop returned nothing")
	}
	return p
}

func TestOrderPriorityThenAge(t *testing.T) {
	q, fc := newQueue()
	q.Add(st.Pod("old-low", "", ""))
	fc.Step(time.Second)
	q.Add(st.Pod("new-high", "", "", st.Priority(100)))
	fc.Step(time.Second)
	q.Add(st.Pod("newer-low", "", ""))
	q.Add(st.Pod("critical", "", "", func(p *v1.Pod) { p.Spec.Priority = nil; p.Spec.PriorityClassName = "system-node-critical" }))
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, pop(t, q).Pod.Name)
	}
	want := []string{"critical", "new-high", "old-low", "newer-low"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestBackoffDurations(t *testing.T) {
	q, _ := newQueue()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := q.BackoffDuration(i + 1); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
}

func TestUnschedulableWaitsForARelevantEvent(t *testing.T) {
	q, fc := newQueue()
	q.Add(st.Pod("p", "", ""))
	p := pop(t, q)
	cycle := q.Cycle()
	q.AddUnschedulable(p, sets.New("NodeResourcesFit"), cycle)
	if got := q.Where(p.Pod); got != "unschedulable" {
		t.Fatalf("where = %q, want unschedulable", got)
	}
	// No polling: time alone (short of 5 minutes) does not move it.
	fc.Step(time.Minute)
	q.Flush()
	if got := q.Where(p.Pod); got != "unschedulable" {
		t.Fatalf("after a minute: %q, want unschedulable", got)
	}
	// An event that cannot help (a pod was added) leaves it.
	q.MoveOnEvent(sets.New("InterPodAffinity", "PodTopologySpread"))
	if got := q.Where(p.Pod); got != "unschedulable" {
		t.Fatalf("after an irrelevant event: %q, want unschedulable", got)
	}
	// A pod deleted frees resources: it moves (its back-off of 1 s has long expired).
	q.MoveOnEvent(sets.New("NodeResourcesFit", "NodePorts"))
	if got := q.Where(p.Pod); got != "active" {
		t.Fatalf("after a relevant event: %q, want active", got)
	}
}

func TestMovedWhileBackingOffGoesToBackoff(t *testing.T) {
	q, fc := newQueue()
	q.Add(st.Pod("p", "", ""))
	p := pop(t, q)
	q.AddUnschedulable(p, sets.New("TaintToleration"), q.Cycle())
	q.MoveOnEvent(nil)
	if got := q.Where(p.Pod); got != "backoff" {
		t.Fatalf("where = %q, want backoff", got)
	}
	fc.Step(999 * time.Millisecond)
	q.Flush()
	if got := q.Where(p.Pod); got != "backoff" {
		t.Fatalf("before 1 s: %q, want backoff", got)
	}
	fc.Step(time.Millisecond)
	q.Flush()
	if got := q.Where(p.Pod); got != "active" {
		t.Fatalf("after 1 s: %q, want active", got)
	}
}

func TestEventDuringFlightSendsToBackoff(t *testing.T) {
	q, _ := newQueue()
	q.Add(st.Pod("p", "", ""))
	p := pop(t, q)
	cycle := q.Cycle()
	q.MoveOnEvent(sets.New("NodeResourcesFit")) // a pod was deleted while p was being scheduled
	q.AddUnschedulable(p, sets.New("NodeResourcesFit"), cycle)
	if got := q.Where(p.Pod); got != "backoff" {
		t.Fatalf("where = %q, want backoff (the event may have been the one it needed)", got)
	}
}

func TestFiveMinuteFlush(t *testing.T) {
	q, fc := newQueue()
	q.Add(st.Pod("p", "", ""))
	p := pop(t, q)
	q.AddUnschedulable(p, sets.New("NodeAffinity"), q.Cycle())
	fc.Step(5*time.Minute + time.Second)
	q.Flush()
	if got := q.Where(p.Pod); got != "active" {
		t.Fatalf("after 5 minutes: %q, want active", got)
	}
}

func TestStatusOnlyUpdateStaysPut(t *testing.T) {
	q, _ := newQueue()
	q.Add(st.Pod("p", "", ""))
	p := pop(t, q)
	q.AddUnschedulable(p, sets.New("NodeAffinity"), q.Cycle())
	// The scheduler's own PodScheduled=False condition comes back as an update.
	upd := p.Pod.DeepCopy()
	upd.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse}}
	q.Update(p.Pod, upd)
	if got := q.Where(upd); got != "unschedulable" {
		t.Fatalf("after a status update: %q, want unschedulable", got)
	}
	// A spec change (the user fixed the nodeSelector) is worth another try.
	upd2 := upd.DeepCopy()
	upd2.Spec.NodeSelector = map[string]string{"a": "b"}
	q.Update(upd, upd2)
	if got := q.Where(upd2); got != "backoff" && got != "active" {
		t.Fatalf("after a spec update: %q, want backoff or active", got)
	}
}

func TestGatedAndDeleted(t *testing.T) {
	q, _ := newQueue()
	gated := st.Pod("g", "", "", func(p *v1.Pod) { p.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "wait"}} })
	q.Add(gated)
	if got := q.Where(gated); got != "gated" {
		t.Fatalf("where = %q, want gated", got)
	}
	open := gated.DeepCopy()
	open.Spec.SchedulingGates = nil
	q.Update(gated, open)
	if got := q.Where(open); got != "active" {
		t.Fatalf("after removing the gates: %q, want active", got)
	}
	p := pop(t, q)
	q.Delete(p.Pod) // deleted while in flight
	q.AddUnschedulable(p, sets.New("NodeAffinity"), q.Cycle())
	if got := q.Where(p.Pod); got != "" {
		t.Fatalf("deleted pod is %q, want gone", got)
	}
}

func TestPopEndsWithContext(t *testing.T) {
	q, _ := newQueue()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *queue.QueuedPod)
	go func() { done <- q.Pop(ctx) }()
	cancel()
	select {
	case p := <-done:
		if p != nil {
			t.Fatalf("Pop = %v, want nil", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop did not return after cancel")
	}
}
