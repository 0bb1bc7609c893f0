package plugins_test

import (
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
)

// nodeInfo builds a NodeInfo with the given bound pods.
func nodeInfo(n *v1.Node, pods ...*v1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(n)
	for _, p := range pods {
		p.Spec.NodeName = n.Name
		ni.AddPod(framework.NewPodInfo(p))
	}
	return ni
}

// verdict renders a status as "ok" or "code: reasons".
func verdict(s *framework.Status) string {
	if s.IsSuccess() {
		return "ok"
	}
	code := map[framework.Code]string{framework.Unschedulable: "Unschedulable", framework.UnschedulableAndUnresolvable: "Unresolvable", framework.Error: "Error"}[s.Code]
	return code + ": " + s.Message()
}

func TestNodeUnschedulable(t *testing.T) {
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		want string
	}{
		{"schedulable node", st.Pod("p", "", ""), st.Node("n", "1", "1Gi"), "ok"},
		{"cordoned node", st.Pod("p", "", ""), st.Node("n", "1", "1Gi", st.Cordoned()), "Unresolvable: node(s) were unschedulable"},
		{"cordoned node, pod tolerates the unschedulable taint", st.Pod("p", "", "", st.Toleration("node.kubernetes.io/unschedulable", v1.TolerationOpExists, "", v1.TaintEffectNoSchedule)),
			st.Node("n", "1", "1Gi", st.Cordoned()), "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(plugins.NodeUnschedulable(tt.pod, nodeInfo(tt.node))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodeName(t *testing.T) {
	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"no nodeName", st.Pod("p", "", ""), "ok"},
		{"this node", st.Pod("p", "", "", st.On("n")), "ok"},
		{"another node", st.Pod("p", "", "", st.On("m")), "Unresolvable: node(s) didn't match the requested node name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(plugins.NodeName(tt.pod, nodeInfo(st.Node("n", "1", "1Gi")))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTaintToleration(t *testing.T) {
	const untolerated = "Unresolvable: node(s) had untolerated taint(s)"
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		want string
	}{
		{"no taints", st.Pod("p", "", ""), st.Node("n", "1", "1Gi"), "ok"},
		{"NoSchedule taint", st.Pod("p", "", ""), st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoSchedule)), untolerated},
		{"NoExecute taint", st.Pod("p", "", ""), st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoExecute)), untolerated},
		{"PreferNoSchedule only scores", st.Pod("p", "", ""), st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectPreferNoSchedule)), "ok"},
		{"tolerated with Equal", st.Pod("p", "", "", st.Toleration("k", v1.TolerationOpEqual, "v", v1.TaintEffectNoSchedule)),
			st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoSchedule)), "ok"},
		{"Equal with another value", st.Pod("p", "", "", st.Toleration("k", v1.TolerationOpEqual, "w", v1.TaintEffectNoSchedule)),
			st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoSchedule)), untolerated},
		{"tolerated with Exists and any effect", st.Pod("p", "", "", st.Toleration("k", v1.TolerationOpExists, "", "")),
			st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoExecute)), "ok"},
		{"empty key with Exists tolerates everything", st.Pod("p", "", "", st.Toleration("", v1.TolerationOpExists, "", "")),
			st.Node("n", "1", "1Gi", st.Taint("a", "1", v1.TaintEffectNoSchedule), st.Taint("b", "", v1.TaintEffectNoExecute)), "ok"},
		{"toleration for the wrong effect", st.Pod("p", "", "", st.Toleration("k", v1.TolerationOpExists, "", v1.TaintEffectNoExecute)),
			st.Node("n", "1", "1Gi", st.Taint("k", "v", v1.TaintEffectNoSchedule)), untolerated},
		{"not-ready node carries the not-ready taint", st.Pod("p", "", ""),
			st.Node("n", "1", "1Gi", st.Taint("node.kubernetes.io/not-ready", "", v1.TaintEffectNoSchedule)), untolerated},
		{"one of two taints untolerated", st.Pod("p", "", "", st.Toleration("a", v1.TolerationOpExists, "", "")),
			st.Node("n", "1", "1Gi", st.Taint("a", "1", v1.TaintEffectNoSchedule), st.Taint("b", "", v1.TaintEffectNoSchedule)), untolerated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(plugins.TaintToleration(tt.pod, nodeInfo(tt.node))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodeAffinity(t *testing.T) {
	const miss = "Unresolvable: node(s) didn't match Pod's node affinity/selector"
	node := st.Node("n", "1", "1Gi", st.Labels("zone", "a", "disk", "ssd", "gen", "5"))
	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"nothing required", st.Pod("p", "", ""), "ok"},
		{"nodeSelector matches", st.Pod("p", "", "", st.NodeSelector("zone", "a", "disk", "ssd")), "ok"},
		{"nodeSelector misses", st.Pod("p", "", "", st.NodeSelector("zone", "b")), miss},
		{"In", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpIn, "a", "b"))), "ok"},
		{"In misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpIn, "b"))), miss},
		{"NotIn", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpNotIn, "b"))), "ok"},
		{"NotIn misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpNotIn, "a"))), miss},
		{"Exists", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("disk", v1.NodeSelectorOpExists))), "ok"},
		{"Exists misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gpu", v1.NodeSelectorOpExists))), miss},
		{"DoesNotExist", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gpu", v1.NodeSelectorOpDoesNotExist))), "ok"},
		{"DoesNotExist misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("disk", v1.NodeSelectorOpDoesNotExist))), miss},
		{"Gt", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpGt, "4"))), "ok"},
		{"Gt misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpGt, "5"))), miss},
		{"Lt", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpLt, "6"))), "ok"},
		{"Lt misses", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpLt, "5"))), miss},
		{"Gt with a non-integer never matches", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("gen", v1.NodeSelectorOpGt, "x"))), miss},
		{"expressions in a term are ANDed", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpIn, "a"), st.Expr("disk", v1.NodeSelectorOpIn, "hdd"))), miss},
		{"terms are ORed", st.Pod("p", "", "", st.RequiredNodeTerm(st.Expr("zone", v1.NodeSelectorOpIn, "b")), st.RequiredNodeTerm(st.Expr("disk", v1.NodeSelectorOpIn, "ssd"))), "ok"},
		{"an empty term matches nothing", st.Pod("p", "", "", st.RequiredNodeTerm()), miss},
		{"nodeSelector and affinity must both match", st.Pod("p", "", "", st.NodeSelector("zone", "b"), st.RequiredNodeTerm(st.Expr("disk", v1.NodeSelectorOpExists))), miss},
		{"matchFields metadata.name", func() *v1.Pod {
			p := st.Pod("p", "", "", st.RequiredNodeTerm())
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields =
				[]v1.NodeSelectorRequirement{st.Expr("metadata.name", v1.NodeSelectorOpIn, "n")}
			return p
		}(), "ok"},
		{"matchFields another name", func() *v1.Pod {
			p := st.Pod("p", "", "", st.RequiredNodeTerm())
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields =
				[]v1.NodeSelectorRequirement{st.Expr("metadata.name", v1.NodeSelectorOpIn, "m")}
			return p
		}(), miss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(plugins.NodeAffinity(plugins.NewRequiredNodeAffinity(tt.pod), nodeInfo(node))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodePorts(t *testing.T) {
	const taken = "Unschedulable: node(s) didn't have free ports for the requested pod ports"
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     string
	}{
		{"no ports", st.Pod("p", "", ""), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, ""))}, "ok"},
		{"free port", st.Pod("p", "", "", st.HostPort(81, v1.ProtocolTCP, "")), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, ""))}, "ok"},
		{"same port", st.Pod("p", "", "", st.HostPort(80, v1.ProtocolTCP, "")), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, ""))}, taken},
		{"same port, other protocol", st.Pod("p", "", "", st.HostPort(80, v1.ProtocolUDP, "")), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, ""))}, "ok"},
		{"same port, different IPs", st.Pod("p", "", "", st.HostPort(80, v1.ProtocolTCP, "10.0.0.1")), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, "10.0.0.2"))}, "ok"},
		{"same port, wildcard against an IP", st.Pod("p", "", "", st.HostPort(80, v1.ProtocolTCP, "")), []*v1.Pod{st.Pod("e", "", "", st.HostPort(80, v1.ProtocolTCP, "10.0.0.2"))}, taken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := nodeInfo(st.Node("n", "1", "1Gi"), tt.existing...)
			if got := verdict(plugins.NodePorts(framework.NewPodInfo(tt.pod), ni)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodeResourcesFit(t *testing.T) {
	tests := []struct {
		name     string
		pod      *v1.Pod
		node     *v1.Node
		existing []*v1.Pod
		want     string
	}{
		{"fits", st.Pod("p", "1", "1Gi"), st.Node("n", "2", "2Gi"), []*v1.Pod{st.Pod("e", "1", "1Gi")}, "ok"},
		{"exactly full", st.Pod("p", "1", "1Gi"), st.Node("n", "2", "2Gi"), []*v1.Pod{st.Pod("e", "1", "1Gi")}, "ok"},
		{"cpu short", st.Pod("p", "1500m", ""), st.Node("n", "2", "2Gi"), []*v1.Pod{st.Pod("e", "1", "")}, "Unschedulable: Insufficient cpu"},
		{"cpu and memory short", st.Pod("p", "2", "2Gi"), st.Node("n", "2", "2Gi"), []*v1.Pod{st.Pod("e", "1", "1Gi")}, "Unschedulable: Insufficient cpu, Insufficient memory"},
		{"more than the whole node: preemption cannot help", st.Pod("p", "3", ""), st.Node("n", "2", "2Gi"), nil, "Unresolvable: Insufficient cpu"},
		{"zero requests always fit the resources", st.Pod("p", "", ""), st.Node("n", "1", "1Gi"), []*v1.Pod{st.Pod("e", "1", "1Gi")}, "ok"},
		{"pod count", st.Pod("p", "", ""), st.Node("n", "1", "1Gi", st.Allocatable(v1.ResourcePods, "1")), []*v1.Pod{st.Pod("e", "", "")}, "Unschedulable: Too many pods"},
		{"ephemeral-storage", st.Pod("p", "", "", st.Request(v1.ResourceEphemeralStorage, "2Gi")), st.Node("n", "1", "1Gi", st.Allocatable(v1.ResourceEphemeralStorage, "3Gi")),
			[]*v1.Pod{st.Pod("e", "", "", st.Request(v1.ResourceEphemeralStorage, "2Gi"))}, "Unschedulable: Insufficient ephemeral-storage"},
		{"extended resource present", st.Pod("p", "", "", st.Request("example.com/gpu", "1")), st.Node("n", "1", "1Gi", st.Allocatable("example.com/gpu", "2")),
			[]*v1.Pod{st.Pod("e", "", "", st.Request("example.com/gpu", "1"))}, "ok"},
		{"extended resource used up", st.Pod("p", "", "", st.Request("example.com/gpu", "1")), st.Node("n", "1", "1Gi", st.Allocatable("example.com/gpu", "1")),
			[]*v1.Pod{st.Pod("e", "", "", st.Request("example.com/gpu", "1"))}, "Unschedulable: Insufficient example.com/gpu"},
		{"extended resource the node lacks", st.Pod("p", "", "", st.Request("example.com/gpu", "1")), st.Node("n", "1", "1Gi"), nil, "Unresolvable: Insufficient example.com/gpu"},
		{"init container larger than the free cpu", st.Pod("p", "100m", "", st.InitContainer("1500m", "", false)), st.Node("n", "2", "2Gi"),
			[]*v1.Pod{st.Pod("e", "1", "")}, "Unschedulable: Insufficient cpu"},
		{"overhead counts", st.Pod("p", "1", "", st.Overhead("500m", "")), st.Node("n", "2", "2Gi"), []*v1.Pod{st.Pod("e", "1", "")}, "Unschedulable: Insufficient cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := nodeInfo(tt.node, tt.existing...)
			if got := verdict(plugins.NodeResourcesFit(framework.NewPodInfo(tt.pod), ni)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

const (
	hostname = "kubernetes.io/hostname"
	zone     = "topology.kubernetes.io/zone"
)

func TestPodTopologySpreadFilter(t *testing.T) {
	const skew = "Unschedulable: node(s) didn't match pod topology spread constraints"
	const missing = "Unresolvable: node(s) didn't match pod topology spread constraints (missing required label)"
	// Zone a has two matching pods, zone b one, zone c none; node "nolabel" has no zone.
	nodes := []*framework.NodeInfo{
		nodeInfo(st.Node("a1", "4", "4Gi", st.Labels(zone, "a")), st.Pod("x1", "", "", st.PodLabels("app", "web")), st.Pod("x2", "", "", st.PodLabels("app", "web"))),
		nodeInfo(st.Node("b1", "4", "4Gi", st.Labels(zone, "b")), st.Pod("x3", "", "", st.PodLabels("app", "web")), st.Pod("o1", "", "", st.PodLabels("app", "db"))),
		nodeInfo(st.Node("c1", "4", "4Gi", st.Labels(zone, "c"))),
		nodeInfo(st.Node("nolabel", "4", "4Gi")),
	}
	web := func(opts ...st.PodOpt) *v1.Pod {
		return st.Pod("p", "", "", append([]st.PodOpt{st.PodLabels("app", "web")}, opts...)...)
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		want map[string]string
	}{
		{"maxSkew 1 over zones: only the empty zone", web(st.Spread(1, zone, v1.DoNotSchedule, "app", "web")),
			map[string]string{"a1": skew, "b1": skew, "c1": "ok", "nolabel": missing}},
		{"maxSkew 2: zone b is fine too", web(st.Spread(2, zone, v1.DoNotSchedule, "app", "web")),
			map[string]string{"a1": skew, "b1": "ok", "c1": "ok", "nolabel": missing}},
		{"ScheduleAnyway does not filter", web(st.Spread(1, zone, v1.ScheduleAnyway, "app", "web")),
			map[string]string{"a1": "ok", "b1": "ok", "c1": "ok", "nolabel": "ok"}},
		{"a pod the selector does not match adds nothing to its domain", st.Pod("p", "", "", st.Spread(2, zone, v1.DoNotSchedule, "app", "web")),
			map[string]string{"a1": "ok", "b1": "ok", "c1": "ok", "nolabel": missing}},
		{"nodes excluded by the pod's node affinity are not domains", web(st.Spread(1, zone, v1.DoNotSchedule, "app", "web"),
			st.RequiredNodeTerm(st.Expr(zone, v1.NodeSelectorOpIn, "a", "b"))),
			map[string]string{"a1": skew, "b1": "ok", "c1": "ok", "nolabel": missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, err := plugins.PreFilterSpread(tt.pod, plugins.NewRequiredNodeAffinity(tt.pod), nodes, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, ni := range nodes {
				if got := verdict(plugins.PodTopologySpread(state, tt.pod, ni)); got != tt.want[ni.Name()] {
					t.Errorf("node %s: got %q, want %q", ni.Name(), got, tt.want[ni.Name()])
				}
			}
		})
	}
}

func TestInterPodAffinityFilter(t *testing.T) {
	const (
		aff      = "Unresolvable: node(s) didn't match pod affinity rules"
		anti     = "Unschedulable: node(s) didn't match pod anti-affinity rules"
		existing = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules"
	)
	build := func(extra ...*v1.Pod) []*framework.NodeInfo {
		n1 := []*v1.Pod{st.Pod("db", "", "", st.PodLabels("app", "db"))}
		n2 := append([]*v1.Pod(nil), extra...)
		return []*framework.NodeInfo{
			nodeInfo(st.Node("n1", "4", "4Gi", st.Labels(zone, "a")), n1...),
			nodeInfo(st.Node("n2", "4", "4Gi", st.Labels(zone, "a")), n2...),
			nodeInfo(st.Node("n3", "4", "4Gi", st.Labels(zone, "b"))),
		}
	}
	tests := []struct {
		name  string
		pod   *v1.Pod
		extra []*v1.Pod
		want  map[string]string
	}{
		{"affinity to db by hostname", st.Pod("p", "", "", st.RequiredAffinity(st.Term("app", "db", hostname))), nil,
			map[string]string{"n1": "ok", "n2": aff, "n3": aff}},
		{"affinity to db by zone", st.Pod("p", "", "", st.RequiredAffinity(st.Term("app", "db", zone))), nil,
			map[string]string{"n1": "ok", "n2": "ok", "n3": aff}},
		{"affinity to nothing existing: the first pod of a self-matching group goes anywhere",
			st.Pod("p", "", "", st.PodLabels("app", "cache"), st.RequiredAffinity(st.Term("app", "cache", zone))), nil,
			map[string]string{"n1": "ok", "n2": "ok", "n3": "ok"}},
		{"affinity to nothing existing, not self-matching", st.Pod("p", "", "", st.RequiredAffinity(st.Term("app", "cache", zone))), nil,
			map[string]string{"n1": aff, "n2": aff, "n3": aff}},
		{"affinity in another namespace does not count", st.Pod("p", "", "", st.Namespace("other"), st.RequiredAffinity(st.Term("app", "db", zone))), nil,
			map[string]string{"n1": aff, "n2": aff, "n3": aff}},
		{"anti-affinity to db by hostname", st.Pod("p", "", "", st.RequiredAntiAffinity(st.Term("app", "db", hostname))), nil,
			map[string]string{"n1": anti, "n2": "ok", "n3": "ok"}},
		{"anti-affinity to db by zone", st.Pod("p", "", "", st.RequiredAntiAffinity(st.Term("app", "db", zone))), nil,
			map[string]string{"n1": anti, "n2": anti, "n3": "ok"}},
		{"an existing pod's anti-affinity keeps the pod out of its zone", st.Pod("p", "", "", st.PodLabels("app", "web")),
			[]*v1.Pod{st.Pod("loner", "", "", st.RequiredAntiAffinity(st.Term("app", "web", zone)))},
			map[string]string{"n1": existing, "n2": existing, "n3": "ok"}},
		{"an existing pod's anti-affinity that does not select the pod", st.Pod("p", "", "", st.PodLabels("app", "api")),
			[]*v1.Pod{st.Pod("loner", "", "", st.RequiredAntiAffinity(st.Term("app", "web", zone)))},
			map[string]string{"n1": "ok", "n2": "ok", "n3": "ok"}},
		{"a node without the topology key fails affinity", st.Pod("p", "", "", st.RequiredAffinity(st.Term("app", "db", "rack"))), nil,
			map[string]string{"n1": aff, "n2": aff, "n3": aff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := build(tt.extra...)
			pi := framework.NewPodInfo(tt.pod)
			state := plugins.PreFilterInterPodAffinity(pi, plugins.AllNodes(nodes), nil)
			for _, ni := range nodes {
				if got := verdict(plugins.InterPodAffinity(state, ni)); got != tt.want[ni.Name()] {
					t.Errorf("node %s: got %q, want %q", ni.Name(), got, tt.want[ni.Name()])
				}
			}
		})
	}
}

// TestCycleStateOrder checks that Filter stops at the first failing rule, in Kubernetes' order, so a node
// is counted once in a FitError.
func TestCycleStateOrder(t *testing.T) {
	node := nodeInfo(st.Node("n", "1", "1Gi", st.Cordoned(), st.Taint("k", "", v1.TaintEffectNoSchedule)))
	pod := framework.NewPodInfo(st.Pod("p", "2", "", st.NodeSelector("x", "y")))
	state := plugins.PreFilter(pod, plugins.AllNodes([]*framework.NodeInfo{node}), nil)
	if got, want := verdict(state.Filter(node)), "Unresolvable: node(s) were unschedulable"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	node = nodeInfo(st.Node("n", "1", "1Gi", st.Taint("k", "", v1.TaintEffectNoSchedule)))
	if got, want := verdict(state.Filter(node)), "Unresolvable: node(s) had untolerated taint(s)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	node = nodeInfo(st.Node("n", "1", "1Gi"))
	if got, want := verdict(state.Filter(node)), "Unresolvable: node(s) didn't match Pod's node affinity/selector"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
