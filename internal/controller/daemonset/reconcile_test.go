package daemonset

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const curHash, oldHash = "new", "old"

func newDS() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "ds-uid", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
				MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(0)),
			}},
			RevisionHistoryLimit: ptr.To(int32(10)),
		},
	}
}

func node(name string, opts ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func labelled(k, v string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[k] = v }
}

func tainted(key string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
}

type podOpt func(*corev1.Pod)

// dsPod is a pod of the DaemonSet on node, created age ago, running and ready for an hour unless opts say otherwise.
func dsPod(name, node, hash string, age time.Duration, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-age)),
			Labels: map[string]string{"app": "agent", appsv1.ControllerRevisionHashLabelKey: hash}},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))},
		}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions = nil }
func readyFor(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-d)) }
}
func phase(ph corev1.PodPhase) podOpt {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}
func deleting(p *corev1.Pod) {
	ts := metav1.NewTime(now)
	p.DeletionTimestamp = &ts
}
func unscheduledOn(n string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = ""
		p.Spec.Affinity = ReplaceNodeNameAffinity(nil, n)
	}
}

func podNames(ps []*corev1.Pod) string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestShouldRun(t *testing.T) {
	withSelector := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} }
	withAffinity := func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}}},
		}}}
	}
	tolerating := func(key string, effect corev1.TaintEffect) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
		}
	}
	pinned := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "other" }
	for _, tc := range []struct {
		name      string
		ds        func(*appsv1.DaemonSet)
		node      *corev1.Node
		run, cont bool
	}{
		{"plain node", nil, node("n1"), true, true},
		{"nodeSelector matches", withSelector, node("n1", labelled("role", "edge")), true, true},
		{"nodeSelector does not match", withSelector, node("n1", labelled("role", "core")), false, false},
		{"node affinity matches", withAffinity, node("n1", labelled("zone", "b")), true, true},
		{"node affinity does not match", withAffinity, node("n1", labelled("zone", "c")), false, false},
		{"template pinned elsewhere", pinned, node("n1"), false, false},
		{"untolerated NoSchedule: no new pod, keep old", nil, node("n1", tainted("dedicated", corev1.TaintEffectNoSchedule)), false, true},
		{"untolerated NoExecute: evict", nil, node("n1", tainted("dedicated", corev1.TaintEffectNoExecute)), false, false},
		{"PreferNoSchedule ignored", nil, node("n1", tainted("dedicated", corev1.TaintEffectPreferNoSchedule)), true, true},
		{"tolerated NoSchedule", tolerating("dedicated", corev1.TaintEffectNoSchedule), node("n1", tainted("dedicated", corev1.TaintEffectNoSchedule)), true, true},
		{"not-ready NoExecute tolerated by default", nil, node("n1", tainted(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), true, true},
		{"unreachable NoExecute tolerated by default", nil, node("n1", tainted(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), true, true},
		{"unschedulable tolerated by default", nil, node("n1", tainted(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), true, true},
		{"disk pressure tolerated by default", nil, node("n1", tainted(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"memory pressure tolerated by default", nil, node("n1", tainted(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"pid pressure tolerated by default", nil, node("n1", tainted(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"not-ready NoSchedule is not tolerated", nil, node("n1", tainted(corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule)), false, true},
		{"network-unavailable only with hostNetwork", nil, node("n1", tainted(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), false, true},
		{"network-unavailable with hostNetwork", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = true },
			node("n1", tainted(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newDS()
			if tc.ds != nil {
				tc.ds(ds)
			}
			run, cont := ShouldRun(tc.node, ds)
			if run != tc.run || cont != tc.cont {
				t.Errorf("ShouldRun = %v, %v; want %v, %v", run, cont, tc.run, tc.cont)
			}
		})
	}
}

func TestNewPodTemplate(t *testing.T) {
	ds := newDS()
	ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "3"}
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(5))}}
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{
		NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
		}}},
		PodAntiAffinity: &corev1.PodAntiAffinity{},
	}
	tmpl := NewPodTemplate(ds, "n7", "abc")
	if tmpl.Labels[appsv1.ControllerRevisionHashLabelKey] != "abc" || tmpl.Labels[LabelTemplateGeneration] != "3" || tmpl.Labels["app"] != "agent" {
		t.Errorf("labels %v", tmpl.Labels)
	}
	terms := tmpl.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || fmt.Sprint(terms[0].MatchFields) != "[{metadata.name In [n7]}]" {
		t.Errorf("required node affinity %+v", terms)
	}
	if tmpl.Spec.Affinity.PodAntiAffinity == nil {
		t.Error("other affinity dropped")
	}
	if got := TargetNode(&corev1.Pod{Spec: tmpl.Spec}); got != "n7" {
		t.Errorf("TargetNode = %q", got)
	}
	var keys []string
	for _, tol := range tmpl.Spec.Tolerations {
		keys = append(keys, tol.Key+":"+string(tol.Effect))
		if tol.Key == corev1.TaintNodeNotReady && tol.TolerationSeconds != nil {
			t.Error("the not-ready toleration must be replaced by the daemon one (no tolerationSeconds)")
		}
	}
	want := "node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule"
	if strings.Join(keys, " ") != want {
		t.Errorf("tolerations %v", keys)
	}
	if ds.Spec.Template.Labels[appsv1.ControllerRevisionHashLabelKey] != "" || len(ds.Spec.Template.Spec.Tolerations) != 1 ||
		len(ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions) != 1 {
		t.Error("the DaemonSet's template was modified")
	}
}

func TestReconcileManage(t *testing.T) {
	edge := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} }
	surge := func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	}
	for _, tc := range []struct {
		name           string
		ds             func(*appsv1.DaemonSet)
		nodes          []*corev1.Node
		pods           []*corev1.Pod
		create, delete string
		failed         string
	}{
		{name: "one pod per node", nodes: []*corev1.Node{node("b"), node("a"), node("c")}, create: "[a b c]"},
		{name: "only where missing", nodes: []*corev1.Node{node("a"), node("b")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour)}, create: "[b]"},
		{name: "unscheduled pod counts for its node", nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "", curHash, time.Minute, unscheduledOn("a"))}, create: "[]"},
		{name: "nodeSelector picks nodes", ds: edge, nodes: []*corev1.Node{node("a", labelled("role", "edge")), node("b")}, create: "[a]"},
		{name: "relabelled node loses its pod", ds: edge, nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour)}, create: "[]", delete: "p-a"},
		{name: "NoSchedule taint keeps a running pod", nodes: []*corev1.Node{node("a", tainted("x", corev1.TaintEffectNoSchedule))}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour)}, create: "[]"},
		{name: "NoSchedule taint gets no new pod", nodes: []*corev1.Node{node("a", tainted("x", corev1.TaintEffectNoSchedule))}, create: "[]"},
		{name: "NoExecute taint evicts", nodes: []*corev1.Node{node("a", tainted("x", corev1.TaintEffectNoExecute))}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour)}, create: "[]", delete: "p-a"},
		{name: "extra pods: keep the oldest", nodes: []*corev1.Node{node("a")},
			pods: []*corev1.Pod{dsPod("young", "a", curHash, time.Minute), dsPod("old", "a", curHash, time.Hour), dsPod("mid", "a", curHash, 10*time.Minute)}, create: "[]", delete: "mid,young"},
		{name: "failed pod deleted, replaced later", nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour, phase(corev1.PodFailed))},
			create: "[]", delete: "p-a", failed: "p-a"},
		{name: "succeeded pod deleted", nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour, phase(corev1.PodSucceeded))}, create: "[]", delete: "p-a"},
		{name: "terminating pod: wait", nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour, deleting)}, create: "[]"},
		{name: "terminal and deleted pod is gone", nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour, deleting, phase(corev1.PodFailed))}, create: "[a]"},
		{name: "surge: terminating pod is replaced at once", ds: surge, nodes: []*corev1.Node{node("a")}, pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour, deleting)}, create: "[a]"},
		{name: "surge: old goes once new is available", ds: surge, nodes: []*corev1.Node{node("a")},
			pods: []*corev1.Pod{dsPod("o", "a", oldHash, time.Hour), dsPod("n", "a", curHash, time.Minute)}, create: "[]", delete: "o"},
		{name: "surge: both kept while new is not ready", ds: surge, nodes: []*corev1.Node{node("a")},
			pods: []*corev1.Pod{dsPod("o", "a", oldHash, time.Hour), dsPod("n", "a", curHash, time.Minute, notReady)}, create: "[]"},
		{name: "surge: unready old goes", ds: surge, nodes: []*corev1.Node{node("a")},
			pods: []*corev1.Pod{dsPod("o", "a", oldHash, time.Hour, notReady), dsPod("n", "a", curHash, time.Minute, notReady)}, create: "[]", delete: "o"},
		{name: "unscheduled pod pinned to a vanished node", nodes: []*corev1.Node{node("a")},
			pods: []*corev1.Pod{dsPod("p-a", "a", curHash, time.Hour), dsPod("p-x", "", curHash, time.Hour, unscheduledOn("gone")), dsPod("p-y", "gone", curHash, time.Hour)}, create: "[]", delete: "p-x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newDS()
			if tc.ds != nil {
				tc.ds(ds)
			}
			plan, err := Reconcile(ds, tc.nodes, tc.pods, curHash, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(append([]string{}, plan.Create...)); got != tc.create {
				t.Errorf("create %s, want %s", got, tc.create)
			}
			if got := podNames(plan.Delete); got != tc.delete {
				t.Errorf("delete %q, want %q", got, tc.delete)
			}
			if got := podNames(plan.Failed); got != tc.failed {
				t.Errorf("failed %q, want %q", got, tc.failed)
			}
		})
	}
}

func nodesNamed(names ...string) []*corev1.Node {
	var out []*corev1.Node
	for _, n := range names {
		out = append(out, node(n))
	}
	return out
}

func TestReconcileRollingUpdate(t *testing.T) {
	strategy := func(surge, unavailable intstr.IntOrString) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: &surge, MaxUnavailable: &unavailable}
		}
	}
	onDelete := func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	}
	five := nodesNamed("a", "b", "c", "d", "e")
	allOld := []*corev1.Pod{dsPod("a", "a", oldHash, time.Hour), dsPod("b", "b", oldHash, time.Hour), dsPod("c", "c", oldHash, time.Hour),
		dsPod("d", "d", oldHash, time.Hour), dsPod("e", "e", oldHash, time.Hour)}
	with := func(base []*corev1.Pod, extra ...*corev1.Pod) []*corev1.Pod {
		var out []*corev1.Pod
		replaced := map[string]bool{}
		for _, p := range extra {
			replaced[p.Name] = true
			out = append(out, p)
		}
		for _, p := range base {
			if !replaced[p.Name] {
				out = append(out, p)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		ds             func(*appsv1.DaemonSet)
		pods           []*corev1.Pod
		create, delete string
	}{
		{name: "default maxUnavailable 1: one old pod goes", pods: allOld, create: "[]", delete: "a"},
		{name: "maxUnavailable 2", ds: strategy(intstr.FromInt32(0), intstr.FromInt32(2)), pods: allOld, create: "[]", delete: "a,b"},
		{name: "maxUnavailable 30% of 5 rounds up to 2", ds: strategy(intstr.FromInt32(0), intstr.FromString("30%")), pods: allOld, create: "[]", delete: "a,b"},
		{name: "both zero means unavailable 1", ds: strategy(intstr.FromInt32(0), intstr.FromInt32(0)), pods: allOld, create: "[]", delete: "a"},
		{name: "unavailable new pod uses the budget", pods: with(allOld, dsPod("a", "a", curHash, time.Minute, notReady)), create: "[]", delete: ""},
		{name: "available new pod frees the budget", pods: with(allOld, dsPod("a", "a", curHash, time.Minute)), create: "[]", delete: "b"},
		{name: "terminating old pod uses the budget", pods: with(allOld, dsPod("a", "a", oldHash, time.Hour, deleting)), create: "[]", delete: ""},
		{name: "unavailable old pods are replaced regardless", pods: with(allOld, dsPod("c", "c", oldHash, time.Hour, notReady), dsPod("d", "d", oldHash, time.Hour, notReady)),
			create: "[]", delete: "a,c,d"},
		{name: "minReadySeconds: new pod ready 1m of 10m is not available", ds: func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 600 },
			pods: with(allOld, dsPod("a", "a", curHash, time.Minute, readyFor(time.Minute))), create: "[]", delete: ""},
		{name: "template generation label counts as updated", ds: func(ds *appsv1.DaemonSet) {
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "4"}
		}, pods: with(allOld, dsPod("a", "a", oldHash, time.Hour, func(p *corev1.Pod) { p.Labels[LabelTemplateGeneration] = "4" })), create: "[]", delete: "b"},
		{name: "done", pods: []*corev1.Pod{dsPod("a", "a", curHash, time.Hour), dsPod("b", "b", curHash, time.Hour), dsPod("c", "c", curHash, time.Hour),
			dsPod("d", "d", curHash, time.Hour), dsPod("e", "e", curHash, time.Hour)}, create: "[]", delete: ""},
		{name: "OnDelete never replaces", ds: onDelete, pods: allOld, create: "[]", delete: ""},
		{name: "surge 2: two new pods next to old ones", ds: strategy(intstr.FromInt32(2), intstr.FromInt32(0)), pods: allOld, create: "[a b]", delete: ""},
		{name: "surge: new pods not available hold the budget", ds: strategy(intstr.FromInt32(2), intstr.FromInt32(0)),
			pods: with(allOld, dsPod("a2", "a", curHash, time.Minute, notReady), dsPod("b2", "b", curHash, time.Minute, notReady)), create: "[]", delete: ""},
		{name: "surge: available new pod removes the old one", ds: strategy(intstr.FromInt32(2), intstr.FromInt32(0)),
			pods: with(allOld, dsPod("a2", "a", curHash, time.Minute), dsPod("b2", "b", curHash, time.Minute, notReady)), create: "[]", delete: "a"},
		{name: "surge: unavailable old pod gets a new one beyond the budget", ds: strategy(intstr.FromInt32(1), intstr.FromInt32(0)),
			pods: with(allOld, dsPod("a2", "a", curHash, time.Minute, notReady), dsPod("c", "c", oldHash, time.Hour, notReady)), create: "[c]", delete: ""},
		{name: "surge 20% of 5 is 1", ds: strategy(intstr.FromString("20%"), intstr.FromInt32(0)), pods: allOld, create: "[a]", delete: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newDS()
			if tc.ds != nil {
				tc.ds(ds)
			}
			plan, err := Reconcile(ds, five, tc.pods, curHash, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(append([]string{}, plan.Create...)); got != tc.create {
				t.Errorf("create %s, want %s", got, tc.create)
			}
			if got := podNames(plan.Delete); got != tc.delete {
				t.Errorf("delete %q, want %q", got, tc.delete)
			}
		})
	}
}

func TestReconcileBurst(t *testing.T) {
	var nodes []*corev1.Node
	for i := range BurstReplicas + 10 {
		nodes = append(nodes, node(fmt.Sprintf("n%04d", i)))
	}
	plan, err := Reconcile(newDS(), nodes, nil, curHash, now)
	if err != nil || len(plan.Create) != BurstReplicas || plan.Create[0] != "n0000" {
		t.Fatalf("create %d (err %v), want %d", len(plan.Create), err, BurstReplicas)
	}
}

func TestCalculateStatus(t *testing.T) {
	ds := newDS()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
	ds.Spec.MinReadySeconds = 60
	ds.Status.CollisionCount = ptr.To(int32(1))
	edge := labelled("role", "edge")
	nodes := []*corev1.Node{node("a", edge), node("b", edge), node("c", edge), node("d", edge), node("x"), node("y")}
	pods := []*corev1.Pod{
		dsPod("a", "a", curHash, time.Hour),                                       // updated, available
		dsPod("b", "b", oldHash, time.Hour),                                       // old, available
		dsPod("c", "c", curHash, time.Minute, readyFor(10*time.Second)),           // not yet available
		dsPod("x", "x", curHash, time.Hour),                                       // misscheduled
		dsPod("y", "y", curHash, time.Hour, deleting, phase(corev1.PodSucceeded)), // gone
	}
	st := CalculateStatus(ds, nodes, pods, curHash, now)
	got := fmt.Sprintf("desired=%d current=%d misscheduled=%d ready=%d available=%d unavailable=%d updated=%d collisions=%d",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled, st.NumberReady, st.NumberAvailable,
		st.NumberUnavailable, st.UpdatedNumberScheduled, *st.CollisionCount)
	if want := "desired=4 current=3 misscheduled=1 ready=3 available=2 unavailable=2 updated=2 collisions=1"; got != want {
		t.Errorf("status %s\n want %s", got, want)
	}
	if !UpdateNeeded(ds, st) {
		t.Error("changed status must be written")
	}
	ds.Status = st
	ds.Status.ObservedGeneration = ds.Generation
	if UpdateNeeded(ds, st) {
		t.Error("unchanged status written")
	}
	ds.Generation++
	if !UpdateNeeded(ds, st) {
		t.Error("new generation not observed")
	}
	if d := MinReadyRequeue(ds, st); d != time.Minute {
		t.Errorf("requeue %v", d)
	}
}

func TestHistory(t *testing.T) {
	ds := newDS()
	ds.Annotations = map[string]string{"kubernetes.io/change-cause": "v1"}
	rev1, err := NewRevision(ds, "h1", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rev1.Name != "agent-h1" || rev1.Labels[appsv1.ControllerRevisionHashLabelKey] != "h1" || rev1.Labels["app"] != "agent" ||
		rev1.Annotations["kubernetes.io/change-cause"] != "v1" || rev1.Revision != 1 {
		t.Errorf("revision %+v", rev1.ObjectMeta)
	}
	var data map[string]map[string]map[string]any
	if err := json.Unmarshal(rev1.Data.Raw, &data); err != nil || data["spec"]["template"]["$patch"] != "replace" {
		t.Fatalf("data %s (%v)", rev1.Data.Raw, err)
	}
	if !Match(ds, rev1) {
		t.Fatal("revision of the current template does not match")
	}
	v2 := newDS()
	v2.Spec.Template.Spec.Containers[0].Image = "i2"
	v2.Spec.Template.Labels["extra"] = "x"
	rev2, _ := NewRevision(v2, "h2", 2, nil)
	if Match(ds, rev2) || !Match(v2, rev2) {
		t.Fatal("match by template")
	}

	// The patch rolls a DaemonSet back to the recorded template, as `kubectl rollout undo` does.
	cur, _ := json.Marshal(v2)
	rolled, err := strategicpatch.StrategicMergePatch(cur, rev1.Data.Raw, &appsv1.DaemonSet{})
	if err != nil {
		t.Fatal(err)
	}
	var back appsv1.DaemonSet
	if err := json.Unmarshal(rolled, &back); err != nil {
		t.Fatal(err)
	}
	if back.Spec.Template.Spec.Containers[0].Image != "i" || back.Spec.Template.Labels["extra"] != "" || !Match(&back, rev1) {
		t.Errorf("rolled back template %+v", back.Spec.Template)
	}

	dup := rev1.DeepCopy()
	dup.Name, dup.Revision = "agent-dup", 3
	h := SplitHistory(ds, []*appsv1.ControllerRevision{rev2, rev1, dup})
	if len(h.Current) != 2 || h.Current[0].Name != "agent-dup" || len(h.Old) != 1 || h.Next != 3 {
		t.Errorf("split %+v", h)
	}
	// A rollback: the current template's revision is older than the newest old one.
	h = SplitHistory(ds, []*appsv1.ControllerRevision{rev1, rev2})
	if len(h.Current) != 1 || h.Current[0].Revision != 1 || h.Next != 3 {
		t.Errorf("rollback split %+v", h)
	}
}

func TestHistoryToDelete(t *testing.T) {
	ds := newDS()
	ds.Spec.RevisionHistoryLimit = ptr.To(int32(2))
	var old []*appsv1.ControllerRevision
	for i := 5; i >= 1; i-- {
		old = append(old, &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: fmt.Sprintf("h%d", i)}},
			Revision:   int64(i),
		})
	}
	pods := []*corev1.Pod{dsPod("p", "a", "h1", time.Hour)}
	var got []string
	for _, r := range HistoryToDelete(ds, old, pods) {
		got = append(got, r.Name)
	}
	if fmt.Sprint(got) != "[r2 r3 r4]" {
		t.Errorf("delete %v, want [r2 r3 r4] (r1 runs a pod, r5 is within the limit)", got)
	}
	ds.Spec.RevisionHistoryLimit = ptr.To(int32(10))
	if len(HistoryToDelete(ds, old, nil)) != 0 {
		t.Error("within the limit")
	}
}

// BenchmarkReconcile is one sync's decision for a DaemonSet mid-rollout on 1,000 nodes.
func BenchmarkReconcile(b *testing.B) {
	ds := newDS()
	ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("10%"))
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range 1000 {
		n := fmt.Sprintf("n%04d", i)
		nodes = append(nodes, node(n))
		h := oldHash
		if i%2 == 0 {
			h = curHash
		}
		pods = append(pods, dsPod("p-"+n, n, h, time.Hour))
	}
	b.ReportAllocs()
	for b.Loop() {
		plan, err := Reconcile(ds, nodes, pods, curHash, now)
		if err != nil || len(plan.Delete) != 100 {
			b.Fatalf("plan %d deletions, err %v", len(plan.Delete), err)
		}
		_ = CalculateStatus(ds, nodes, pods, curHash, now)
	}
}
