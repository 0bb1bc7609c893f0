package cache_test

import (
	"errors"
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
)

func requested(t *testing.T, s *cache.Snapshot, node string) int64 {
	t.Helper()
	ni := s.Get(node)
	if ni == nil {
		t.Fatalf("node %s not in snapshot", node)
	}
	return ni.Requested.MilliCPU
}

func TestAssumeConfirmForget(t *testing.T) {
	c := cache.New()
	c.AddNode(st.Node("n1", "4", "4Gi"))
	snap := cache.NewSnapshot()

	p := st.Pod("p", "1", "", st.On("n1"))
	if err := c.AssumePod(framework.NewPodInfo(p)); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(framework.NewPodInfo(p)); !errors.Is(err, cache.ErrAlreadyInCache) {
		t.Fatalf("second assume: %v, want ErrAlreadyInCache", err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("assumed pod counts: requested %d, want 1000", got)
	}
	if !c.IsAssumed(p) {
		t.Fatal("pod should be assumed")
	}
	// The informer confirms the binding: the pod stays, no longer assumed, counted once.
	c.FinishBinding(p)
	c.AddPod(p)
	if c.IsAssumed(p) {
		t.Fatal("confirmed pod still assumed")
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("after confirmation: requested %d, want 1000", got)
	}
	if err := c.ForgetPod(p); !errors.Is(err, cache.ErrNotAssumed) {
		t.Fatalf("forget confirmed: %v, want ErrNotAssumed", err)
	}

	// A failed binding forgets the assumption.
	q := st.Pod("q", "2", "", st.On("n1"))
	if err := c.AssumePod(framework.NewPodInfo(q)); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 3000 {
		t.Fatalf("two pods: requested %d, want 3000", got)
	}
	if err := c.ForgetPod(q); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("after forget: requested %d, want 1000", got)
	}
	c.RemovePod(p)
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 0 {
		t.Fatalf("after remove: requested %d, want 0", got)
	}
}

func TestConfirmedOnAnotherNode(t *testing.T) {
	c := cache.New()
	c.AddNode(st.Node("n1", "4", "4Gi"))
	c.AddNode(st.Node("n2", "4", "4Gi"))
	p := st.Pod("p", "1", "", st.On("n1"))
	if err := c.AssumePod(framework.NewPodInfo(p)); err != nil {
		t.Fatal(err)
	}
	// Someone else bound it to n2 first: the informer's word wins.
	c.AddPod(st.Pod("p", "1", "", st.On("n2")))
	snap := cache.NewSnapshot()
	c.UpdateSnapshot(snap)
	if requested(t, snap, "n1") != 0 || requested(t, snap, "n2") != 1000 {
		t.Fatalf("n1 %d n2 %d, want 0 and 1000", requested(t, snap, "n1"), requested(t, snap, "n2"))
	}
}

func TestSnapshotIsIncrementalAndIsolated(t *testing.T) {
	c := cache.New()
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(st.Node(n, "4", "4Gi"))
	}
	snap := cache.NewSnapshot()
	c.UpdateSnapshot(snap)
	if got := len(snap.Nodes); got != 3 {
		t.Fatalf("nodes %d, want 3", got)
	}
	before := snap.Get("a")
	untouched := snap.Get("b")
	c.AddPod(st.Pod("p", "1", "", st.On("a")))
	if before.Requested.MilliCPU != 0 {
		t.Fatal("the cache changed a snapshot's NodeInfo")
	}
	c.UpdateSnapshot(snap)
	if snap.Get("a") == before || snap.Get("a").Requested.MilliCPU != 1000 {
		t.Fatal("changed node not refreshed")
	}
	if snap.Get("b") != untouched {
		t.Fatal("unchanged node was cloned again")
	}
	c.RemoveNode(st.Node("b", "4", "4Gi"))
	c.UpdateSnapshot(snap)
	if got := len(snap.Nodes); got != 2 || snap.Get("b") != nil {
		t.Fatalf("after removing b: %d nodes, b=%v", got, snap.Get("b"))
	}
	// A pod on a node the cache has not seen yet is kept and counted once the node arrives.
	c.AddPod(st.Pod("early", "1", "", st.On("d")))
	c.AddNode(st.Node("d", "4", "4Gi"))
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "d"); got != 1000 {
		t.Fatalf("early pod: requested %d, want 1000", got)
	}
	nodes, pods, assumed := c.Counts()
	if nodes != 3 || pods != 2 || assumed != 0 {
		t.Fatalf("counts %d %d %d, want 3 2 0", nodes, pods, assumed)
	}
}
