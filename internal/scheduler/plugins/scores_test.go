package plugins_test

import (
	"reflect"
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestLeastAllocated(t *testing.T) {
	tests := []struct {
		name     string
		pod      *v1.Pod
		node     *v1.Node
		existing []*v1.Pod
		want     int64
	}{
		// cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 → (25+50)/2 = 37
		{"half-weighted cpu and memory", st.Pod("p", "3", "5000"), st.Node("n", "4", "10000"), nil, 37},
		{"empty node, empty pod: non-zero defaults count", st.Pod("p", "", ""), st.Node("n", "1", "1Gi"), nil, (90 + 80) / 2},
		{"existing pods count", st.Pod("p", "1", "1Gi"), st.Node("n", "4", "4Gi"), []*v1.Pod{st.Pod("e", "1", "1Gi")}, 50},
		{"over-committed resource scores 0", st.Pod("p", "5", "1Gi"), st.Node("n", "4", "4Gi"), nil, (0 + 75) / 2},
		{"no allocatable scores 0", st.Pod("p", "1", "1Gi"), st.Node("n", "0", "0"), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plugins.LeastAllocated(framework.NewPodInfo(tt.pod), nodeInfo(tt.node, tt.existing...)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBalancedAllocation(t *testing.T) {
	tests := []struct {
		name     string
		pod      *v1.Pod
		node     *v1.Node
		existing []*v1.Pod
		want     int64
	}{
		{"equal shares are perfectly balanced", st.Pod("p", "2", "2Gi"), st.Node("n", "4", "4Gi"), nil, 100},
		// cpu 3/4 = 0.75, memory 0.5 → std 0.125 → 87
		{"unequal shares", st.Pod("p", "3", "5000"), st.Node("n", "4", "10000"), nil, 87},
		// cpu 1, memory 0 → std 0.5 → 50
		{"all cpu, no memory", st.Pod("p", "4", "1"), st.Node("n", "4", "4Gi"), nil, 50},
		{"fractions cap at 1", st.Pod("p", "8", "4Gi"), st.Node("n", "4", "4Gi"), nil, 100},
		{"best-effort pods are not scored", st.Pod("p", "", ""), st.Node("n", "4", "4Gi"), nil, 0},
		{"existing requests count", st.Pod("p", "1", ""), st.Node("n", "4", "4Gi"), []*v1.Pod{st.Pod("e", "", "2Gi")}, 87},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plugins.BalancedAllocation(framework.NewPodInfo(tt.pod), nodeInfo(tt.node, tt.existing...)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTaintTolerationScore(t *testing.T) {
	pod := st.Pod("p", "", "", st.Toleration("ok", v1.TolerationOpExists, "", v1.TaintEffectPreferNoSchedule),
		st.Toleration("nosched", v1.TolerationOpExists, "", v1.TaintEffectNoSchedule))
	nodes := []*v1.Node{
		st.Node("clean", "1", "1Gi"),
		st.Node("tolerated", "1", "1Gi", st.Taint("ok", "", v1.TaintEffectPreferNoSchedule)),
		st.Node("one", "1", "1Gi", st.Taint("bad", "", v1.TaintEffectPreferNoSchedule)),
		// A toleration for NoSchedule does not tolerate a PreferNoSchedule taint of the same key.
		st.Node("two", "1", "1Gi", st.Taint("bad", "", v1.TaintEffectPreferNoSchedule), st.Taint("nosched", "", v1.TaintEffectPreferNoSchedule)),
	}
	var scores []int64
	for _, n := range nodes {
		scores = append(scores, plugins.TaintTolerationScore(pod, nodeInfo(n)))
	}
	if want := []int64{0, 0, 1, 2}; !reflect.DeepEqual(scores, want) {
		t.Fatalf("raw = %v, want %v", scores, want)
	}
	plugins.NormalizeReverse(scores)
	if want := []int64{100, 100, 50, 0}; !reflect.DeepEqual(scores, want) {
		t.Fatalf("normalized = %v, want %v", scores, want)
	}
	zero := []int64{0, 0}
	plugins.NormalizeReverse(zero)
	if want := []int64{100, 100}; !reflect.DeepEqual(zero, want) {
		t.Fatalf("normalized zeros = %v, want %v", zero, want)
	}
}

func TestNodeAffinityScore(t *testing.T) {
	pod := st.Pod("p", "", "", st.PreferredNodeTerm(2, st.Expr("disk", v1.NodeSelectorOpIn, "ssd")),
		st.PreferredNodeTerm(8, st.Expr("zone", v1.NodeSelectorOpIn, "a")))
	pref := plugins.NewPreferredNodeAffinity(pod)
	nodes := []*v1.Node{
		st.Node("none", "1", "1Gi"),
		st.Node("ssd", "1", "1Gi", st.Labels("disk", "ssd")),
		st.Node("zone", "1", "1Gi", st.Labels("zone", "a")),
		st.Node("both", "1", "1Gi", st.Labels("disk", "ssd", "zone", "a")),
	}
	var scores []int64
	for _, n := range nodes {
		scores = append(scores, plugins.NodeAffinityScore(pref, nodeInfo(n)))
	}
	if want := []int64{0, 2, 8, 10}; !reflect.DeepEqual(scores, want) {
		t.Fatalf("raw = %v, want %v", scores, want)
	}
	plugins.Normalize(scores)
	if want := []int64{0, 20, 80, 100}; !reflect.DeepEqual(scores, want) {
		t.Fatalf("normalized = %v, want %v", scores, want)
	}
}

func TestSpreadScore(t *testing.T) {
	web := func(name string) *v1.Pod { return st.Pod(name, "", "", st.PodLabels("app", "web")) }
	nodes := []*framework.NodeInfo{
		nodeInfo(st.Node("a1", "4", "4Gi", st.Labels(zone, "a")), web("w1"), web("w2")),
		nodeInfo(st.Node("a2", "4", "4Gi", st.Labels(zone, "a"))),
		nodeInfo(st.Node("b1", "4", "4Gi", st.Labels(zone, "b")), web("w3")),
		nodeInfo(st.Node("b2", "4", "4Gi", st.Labels(zone, "b"))),
	}
	t.Run("ScheduleAnyway over hostnames prefers the emptiest nodes", func(t *testing.T) {
		pod := st.Pod("p", "", "", st.PodLabels("app", "web"), st.Spread(1, hostname, v1.ScheduleAnyway, "app", "web"))
		s, err := plugins.PreScoreSpread(pod, nil, plugins.NewRequiredNodeAffinity(pod), nodes, nodes, nil)
		if err != nil || s == nil {
			t.Fatalf("state %v, err %v", s, err)
		}
		var scores []int64
		for _, ni := range nodes {
			scores = append(scores, plugins.SpreadScore(s, pod, ni))
		}
		// weight log(4+2)=1.79: a1 2 pods → round(3.58)=4, b1 1 pod → round(1.79)=2, empty → 0.
		if want := []int64{4, 0, 2, 0}; !reflect.DeepEqual(scores, want) {
			t.Fatalf("raw = %v, want %v", scores, want)
		}
		plugins.NormalizeSpread(s, nodes, scores)
		// 100*(max+min-s)/max with max 4, min 0.
		if want := []int64{0, 100, 50, 100}; !reflect.DeepEqual(scores, want) {
			t.Fatalf("normalized = %v, want %v", scores, want)
		}
	})
	t.Run("system default constraints spread a ReplicaSet over nodes and zones", func(t *testing.T) {
		pod := web("p")
		defaults := plugins.DefaultSpreadConstraints(labels.SelectorFromSet(labels.Set{"app": "web"}))
		s, err := plugins.PreScoreSpread(pod, defaults, plugins.NewRequiredNodeAffinity(pod), nodes, nodes, nil)
		if err != nil || s == nil {
			t.Fatalf("state %v, err %v", s, err)
		}
		var scores []int64
		for _, ni := range nodes {
			scores = append(scores, plugins.SpreadScore(s, pod, ni))
		}
		plugins.NormalizeSpread(s, nodes, scores)
		// The empty node of the emptier zone (b2) must win; a1 (2 pods, fuller zone) must lose.
		best, worst := 0, 0
		for i := range scores {
			if scores[i] > scores[best] {
				best = i
			}
			if scores[i] < scores[worst] {
				worst = i
			}
		}
		if nodes[best].Name() != "b2" || nodes[worst].Name() != "a1" {
			t.Fatalf("scores %v: best %s worst %s, want b2 and a1", scores, nodes[best].Name(), nodes[worst].Name())
		}
	})
	t.Run("no constraints and no owner: nothing to score", func(t *testing.T) {
		pod := st.Pod("p", "", "")
		s, err := plugins.PreScoreSpread(pod, plugins.DefaultSpreadConstraints(labels.NewSelector()), nil, nodes, nodes, nil)
		if err != nil || s != nil {
			t.Fatalf("state %v, err %v; want nil", s, err)
		}
	})
}

func TestInterPodAffinityScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		nodeInfo(st.Node("n1", "4", "4Gi", st.Labels(zone, "a")), st.Pod("db", "", "", st.PodLabels("app", "db"))),
		nodeInfo(st.Node("n2", "4", "4Gi", st.Labels(zone, "a"))),
		nodeInfo(st.Node("n3", "4", "4Gi", st.Labels(zone, "b")), st.Pod("cache", "", "", st.PodLabels("app", "cache"))),
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		want []int64
	}{
		{"preferred affinity to db by zone", st.Pod("p", "", "", st.PreferredAffinity(5, st.Term("app", "db", zone))), []int64{100, 100, 0}},
		{"preferred affinity to db by hostname", st.Pod("p", "", "", st.PreferredAffinity(5, st.Term("app", "db", hostname))), []int64{100, 0, 0}},
		{"preferred anti-affinity to db by zone", st.Pod("p", "", "", st.PreferredAntiAffinity(5, st.Term("app", "db", zone))), []int64{0, 0, 100}},
		{"affinity and anti-affinity mix", st.Pod("p", "", "", st.PreferredAffinity(10, st.Term("app", "cache", zone)),
			st.PreferredAntiAffinity(5, st.Term("app", "db", zone))), []int64{0, 0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plugins.PreScoreInterPodAffinity(framework.NewPodInfo(tt.pod), plugins.AllNodes(nodes), nil)
			var scores []int64
			for _, ni := range nodes {
				scores = append(scores, plugins.InterPodAffinityScore(s, ni))
			}
			plugins.NormalizeMinMax(scores)
			if !reflect.DeepEqual(scores, tt.want) {
				t.Errorf("got %v, want %v", scores, tt.want)
			}
		})
	}
	t.Run("an existing pod's preferred affinity pulls the pod", func(t *testing.T) {
		ns := []*framework.NodeInfo{
			nodeInfo(st.Node("n1", "4", "4Gi", st.Labels(zone, "a")), st.Pod("fan", "", "", st.PreferredAffinity(3, st.Term("app", "web", zone)))),
			nodeInfo(st.Node("n2", "4", "4Gi", st.Labels(zone, "b"))),
		}
		s := plugins.PreScoreInterPodAffinity(framework.NewPodInfo(st.Pod("p", "", "", st.PodLabels("app", "web"))), plugins.AllNodes(ns), nil)
		scores := []int64{plugins.InterPodAffinityScore(s, ns[0]), plugins.InterPodAffinityScore(s, ns[1])}
		if want := []int64{3, 0}; !reflect.DeepEqual(scores, want) {
			t.Errorf("got %v, want %v", scores, want)
		}
	})
	t.Run("nobody has affinity: nothing to score", func(t *testing.T) {
		if s := plugins.PreScoreInterPodAffinity(framework.NewPodInfo(st.Pod("p", "", "")), plugins.AllNodes(nodes), nil); s != nil {
			t.Errorf("state = %v, want nil", s)
		}
	})
}

func TestImageLocality(t *testing.T) {
	const mb = 1024 * 1024
	pod := st.Pod("p", "", "")
	pod.Spec.Containers[0].Image = "big:1"
	nodes := []*v1.Node{
		st.Node("without", "1", "1Gi"),
		st.Node("with", "1", "1Gi", st.Images("big:1", 500*mb)),
		st.Node("small", "1", "1Gi", st.Images("big:1", 10*mb)),
	}
	count := func(string) int { return 2 }
	var scores []int64
	for _, n := range nodes {
		scores = append(scores, plugins.ImageLocality(pod, nodeInfo(n), count, 4))
	}
	// with: 500MB * 2/4 = 250MB → 100*(250-23)/(1000-23) = 23; small: below the 23 MB floor → 0.
	if want := []int64{0, 23, 0}; !reflect.DeepEqual(scores, want) {
		t.Errorf("got %v, want %v", scores, want)
	}
}
