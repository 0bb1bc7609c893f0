package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/scheduler"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestBindsAndExplains(t *testing.T) {
	h := newHarness(t,
		st.Node("n1", "2", "4Gi"), st.Node("n2", "2", "4Gi"),
		st.Node("tainted", "8", "8Gi", st.Taint("dedicated", "gpu", v1.TaintEffectNoSchedule)))
	h.start(scheduler.Config{})
	h.create(st.Pod("small", "1", "1Gi"), st.Pod("huge", "3", "1Gi"))

	if node := h.waitBound("small"); node != "n1" && node != "n2" {
		t.Fatalf("small on %q, want n1 or n2", node)
	}
	if got, want := h.waitEvent("small", "Scheduled"), "Successfully assigned default/small to "+h.pod("small").Spec.NodeName; got != want {
		t.Errorf("Scheduled event %q, want %q", got, want)
	}
	const want = "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if got := h.waitEvent("huge", "FailedScheduling"); got != want {
		t.Errorf("FailedScheduling event\n got %q\nwant %q", got, want)
	}
	eventually(t, "PodScheduled=False on huge", func() bool {
		for _, c := range h.pod("huge").Status.Conditions {
			if c.Type == v1.PodScheduled {
				return c.Status == v1.ConditionFalse && c.Reason == "Unschedulable" && c.Message == want
			}
		}
		return false
	})
	if n := h.pod("huge").Spec.NodeName; n != "" {
		t.Fatalf("huge bound to %s", n)
	}
}

func TestAffinityMessage(t *testing.T) {
	h := newHarness(t,
		st.Node("n1", "2", "4Gi"), st.Node("n2", "2", "4Gi"),
		st.Node("tainted", "8", "8Gi", st.Taint("dedicated", "gpu", v1.TaintEffectNoSchedule)))
	h.start(scheduler.Config{})
	h.create(st.Pod("picky", "", "", st.NodeSelector("disk", "ssd")))
	const want = "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if got := h.waitEvent("picky", "FailedScheduling"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// The fix arrives as a node update: the pod is retried on that event, not by polling.
	n := st.Node("n2", "2", "4Gi", st.Labels("disk", "ssd"))
	n.ResourceVersion = ""
	if _, err := h.client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if node := h.waitBound("picky"); node != "n2" {
		t.Fatalf("picky on %s, want n2", node)
	}
}

func TestNoNodes(t *testing.T) {
	h := newHarness(t)
	h.start(scheduler.Config{})
	h.create(st.Pod("p", "", ""))
	if got, want := h.waitEvent("p", "FailedScheduling"), "no nodes available to schedule pods"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	h.create(st.Node("late", "1", "1Gi"))
	if node := h.waitBound("p"); node != "late" {
		t.Fatalf("on %s, want late", node)
	}
}

// TestBindingIsAsynchronous holds the first binding call until the second pod has been placed too: the
// cache's assumption makes the second pod see the first one's cpu and go to the other node.
func TestBindingIsAsynchronous(t *testing.T) {
	h := newHarness(t, st.Node("n1", "2", "4Gi"), st.Node("n2", "2", "4Gi"),
		st.Pod("first", "1500m", "", st.Priority(10)), st.Pod("second", "1500m", ""))
	held := false
	h.bindHook = func(pod, node string) error {
		if held {
			return nil
		}
		held = true
		// The fake client is locked while this runs, so poll the cache rather than the API.
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, _, assumed := h.sched.Cache.Counts(); assumed == 2 {
				return nil
			}
			if time.Now().After(deadline) {
				n, p, a := h.sched.Cache.Counts()
				return fmt.Errorf("second pod was not placed while the first binding was in flight: cache %d %d %d queue %+v", n, p, a, h.sched.Queue.Stats())
			}
			time.Sleep(time.Millisecond)
		}
	}
	h.start(scheduler.Config{})
	a, b := h.waitBound("first"), h.waitBound("second")
	if a == b {
		t.Fatalf("both pods on %s: the second was placed without counting the first", a)
	}
	if h.events.find("first", "FailedScheduling")+h.events.find("second", "FailedScheduling") != "" {
		t.Fatalf("a binding failed: %s", h.events)
	}
}

func TestFailedBindingIsRetried(t *testing.T) {
	h := newHarness(t, st.Node("n1", "2", "4Gi"))
	var mu sync.Mutex
	fails := 1
	h.bindHook = func(pod, node string) error {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return apierrors.NewInternalError(errors.New("etcd hiccup"))
		}
		return nil
	}
	h.start(scheduler.Config{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	h.create(st.Pod("p", "1", ""))
	if node := h.waitBound("p"); node != "n1" {
		t.Fatalf("on %s", node)
	}
	if msg := h.events.find("p", "FailedScheduling"); !strings.Contains(msg, "Binding rejected") {
		t.Errorf("FailedScheduling event %q, want a Binding rejected message", msg)
	}
	eventually(t, "assumption cleared", func() bool { _, pods, a := h.sched.Cache.Counts(); return a == 0 && pods == 1 })
}

func TestPreemption(t *testing.T) {
	h := newHarness(t, st.Node("n1", "2", "4Gi"), st.Node("n2", "2", "4Gi"))
	h.start(scheduler.Config{})
	victim := st.Pod("low", "1500m", "", st.Priority(1))
	keeper := st.Pod("mid", "1500m", "", st.Priority(50))
	h.create(victim, keeper)
	lowNode, midNode := h.waitBound("low"), h.waitBound("mid")
	if lowNode == midNode {
		t.Fatalf("both on %s", lowNode)
	}
	h.create(st.Pod("high", "1500m", "", st.Priority(100)))
	// The lowest-priority pod is the victim; the preemptor is nominated to its node.
	eventually(t, "victim deleted", func() bool {
		_, err := h.client.CoreV1().Pods("default").Get(context.Background(), "low", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if node := h.waitBound("high"); node != lowNode {
		t.Fatalf("high on %s, want the victim's node %s", node, lowNode)
	}
	if msg := h.events.find("low", "Preempted"); !strings.Contains(msg, "Preempted by pod uid-high on node "+lowNode) {
		t.Errorf("Preempted event %q", msg)
	}
	if got := h.pod("mid").Spec.NodeName; got != midNode {
		t.Errorf("mid moved to %s", got)
	}
}

func TestPreemptionNotHelpful(t *testing.T) {
	h := newHarness(t, st.Node("n1", "2", "4Gi"))
	h.start(scheduler.Config{})
	h.create(st.Pod("same", "1500m", "", st.Priority(100)))
	h.waitBound("same")
	h.create(st.Pod("peer", "1500m", "", st.Priority(100)), st.Pod("never", "1500m", "", st.Priority(1000), st.PreemptNever()))
	if got, want := h.waitEvent("peer", "FailedScheduling"), "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := h.waitEvent("never", "FailedScheduling"), "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestRestartLosesAndDuplicatesNothing stops the scheduler in the middle of a batch and starts a new one:
// every pod ends bound exactly once.
func TestRestartLosesAndDuplicatesNothing(t *testing.T) {
	var objs []runtime.Object
	for i := 0; i < 10; i++ {
		objs = append(objs, st.Node(nodeName(i), "8", "16Gi"))
	}
	h := newHarness(t, objs...)
	var pods []*v1.Pod
	for i := 0; i < 300; i++ {
		pods = append(pods, st.Pod(podName(i), "100m", "100Mi"))
	}
	h.start(scheduler.Config{})
	for _, p := range pods {
		h.create(p)
	}
	eventually(t, "some pods bound", func() bool { return h.sched.Stats().Scheduled >= 50 })
	h.stop()
	h.start(scheduler.Config{Seed: 2})
	for _, p := range pods {
		h.waitBound(p.Name)
	}
	for _, p := range pods {
		if n := h.bindCount(p.Name); n != 1 {
			t.Errorf("%s bound %d times", p.Name, n)
		}
	}
}

func nodeName(i int) string { return "node-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) }
func podName(i int) string {
	return "pod-" + strings.ToLower(string(rune('a'+i%26))+string(rune('a'+(i/26)%26))+string(rune('a'+i/676)))
}
