package plugins_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestCounterMatchesNaiveCounting checks the memoized counting against counting every pod every time,
// while pods come and go on random nodes between cycles.
func TestCounterMatchesNaiveCounting(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	c := cache.New()
	nodes := 20
	for i := 0; i < nodes; i++ {
		c.AddNode(st.Node(fmt.Sprint("n", i), "64", "64Gi", st.Labels(zone, fmt.Sprint("z", i%4))))
	}
	snap := cache.NewSnapshot()
	counter := plugins.NewCounter()
	var live []*v1.Pod
	apps := []string{"a", "b", "c"}
	withExisting := 0 // cycles where existing pods' anti-affinity selected the incoming pod
	for cycle := 0; cycle < 300; cycle++ {
		for k := rng.Intn(4); k > 0; k-- {
			if len(live) > 0 && rng.Intn(3) == 0 {
				i := rng.Intn(len(live))
				c.RemovePod(live[i])
				live = append(live[:i], live[i+1:]...)
				continue
			}
			opts := []st.PodOpt{st.On(fmt.Sprint("n", rng.Intn(20))), st.PodLabels("app", apps[rng.Intn(3)])}
			if rng.Intn(3) == 0 { // some existing pods repel others
				opts = append(opts, st.RequiredAntiAffinity(st.Term("app", apps[rng.Intn(3)], []string{zone, hostname}[rng.Intn(2)])))
			}
			p := st.Pod(fmt.Sprint("p", cycle, "-", k), "", "", opts...)
			p.UID = types.UID(p.Name)
			c.AddPod(p)
			live = append(live, p)
		}
		// Nodes come and go too, so positions in the node list shift (the memo by position must notice).
		if cycle%25 == 24 {
			n := fmt.Sprint("n", nodes)
			nodes++
			c.AddNode(st.Node(n, "64", "64Gi", st.Labels(zone, fmt.Sprint("z", nodes%4))))
			if victim := fmt.Sprint("n", rng.Intn(nodes)); victim != n {
				kept := live[:0]
				for _, p := range live {
					if p.Spec.NodeName == victim {
						c.RemovePod(p)
					} else {
						kept = append(kept, p)
					}
				}
				live = kept
				c.RemoveNode(st.Node(victim, "64", "64Gi"))
			}
		}
		// A node's labels change now and then (a new Node object under the same name and position).
		if cycle%10 == 5 {
			n := fmt.Sprint("n", rng.Intn(nodes))
			if ni := snap.Get(n); ni != nil {
				c.UpdateNode(ni.Node, st.Node(n, "64", "64Gi", st.Labels(zone, fmt.Sprint("z", rng.Intn(5)))))
			}
		}
		c.UpdateSnapshot(snap)
		counter.NextCycle()
		app := apps[rng.Intn(3)]
		opts := []st.PodOpt{st.PodLabels("app", app),
			st.Spread(1, hostname, v1.DoNotSchedule, "app", app), st.Spread(1, zone, v1.DoNotSchedule, "app", app),
			st.RequiredAntiAffinity(st.Term("app", app, zone)), st.Spread(2, zone, v1.ScheduleAnyway, "app", app)}
		if rng.Intn(2) == 0 { // node affinity decides which nodes the spread counts
			opts = append(opts, st.NodeSelector(zone, fmt.Sprint("z", rng.Intn(4))))
		}
		pod := framework.NewPodInfo(st.Pod("x", "", "", opts...))
		req := plugins.NewRequiredNodeAffinity(pod.Pod)
		memo, err := plugins.PreFilterSpread(pod.Pod, req, snap.Nodes, counter)
		if err != nil {
			t.Fatal(err)
		}
		naive, _ := plugins.PreFilterSpread(pod.Pod, req, snap.Nodes, nil)
		if !reflect.DeepEqual(memo.Counts, naive.Counts) {
			t.Fatalf("cycle %d: spread counts %v, naive %v", cycle, memo.Counts, naive.Counts)
		}
		memoScore, err := plugins.PreScoreSpread(pod.Pod, nil, req, snap.Nodes, snap.Nodes, counter)
		if err != nil {
			t.Fatal(err)
		}
		naiveScore, _ := plugins.PreScoreSpread(pod.Pod, nil, req, snap.Nodes, snap.Nodes, nil)
		if !reflect.DeepEqual(memoScore.Counts, naiveScore.Counts) {
			t.Fatalf("cycle %d: spread score counts %v, naive %v", cycle, memoScore.Counts, naiveScore.Counts)
		}
		all := plugins.AllNodes(snap.Nodes)
		naiveIP := plugins.PreFilterInterPodAffinity(pod, all, nil)
		// The scheduler's own lists, which change as pods with affinity terms come and go.
		listed := plugins.Nodes{All: snap.Nodes, WithAffinity: snap.WithAffinity, WithRequiredAntiAffinity: snap.WithRequiredAntiAffinity, Counter: counter}
		memoIP := plugins.PreFilterInterPodAffinity(pod, listed, nil)
		if !reflect.DeepEqual(memoIP.AntiAffinity, naiveIP.AntiAffinity) {
			t.Fatalf("cycle %d: anti-affinity counts %v, naive %v", cycle, memoIP.AntiAffinity, naiveIP.AntiAffinity)
		}
		if !reflect.DeepEqual(memoIP.ExistingAntiAffinity, naiveIP.ExistingAntiAffinity) {
			t.Fatalf("cycle %d: existing pods' anti-affinity counts %v, naive %v", cycle, memoIP.ExistingAntiAffinity, naiveIP.ExistingAntiAffinity)
		}
		if len(naiveIP.ExistingAntiAffinity) > 0 {
			withExisting++
		}
		// The same memo asked with the nodes in another order (as a caller with its own list would) stays right.
		reversed := make([]*framework.NodeInfo, len(snap.Nodes))
		for i, ni := range snap.Nodes {
			reversed[len(reversed)-1-i] = ni
		}
		if rev, _ := plugins.PreFilterSpread(pod.Pod, req, reversed, counter); !reflect.DeepEqual(rev.Counts, naive.Counts) {
			t.Fatalf("cycle %d: spread counts over reversed nodes %v, naive %v", cycle, rev.Counts, naive.Counts)
		}
	}
	if withExisting < 50 {
		t.Errorf("only %d cycles had existing anti-affinity to compare", withExisting)
	}
}
