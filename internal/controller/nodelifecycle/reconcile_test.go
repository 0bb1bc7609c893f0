package nodelifecycle

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

var defaults = func() Options { o := Options{}; _ = o.validate(); return o }()

type nodeOpt func(*corev1.Node)

// mkNode is a node created an hour ago whose kubelet last posted Ready=True (heartbeat an hour ago).
func mkNode(opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "n1-uid", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.NewTime(now.Add(-time.Hour)), LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: metav1.NewTime(now.Add(-time.Hour))},
		}},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func ready(s corev1.ConditionStatus) nodeOpt {
	return func(n *corev1.Node) { n.Status.Conditions[0].Status = s }
}
func noConditions(n *corev1.Node) { n.Status.Conditions = nil }
func created(ago time.Duration) nodeOpt {
	return func(n *corev1.Node) { n.CreationTimestamp = metav1.NewTime(now.Add(-ago)) }
}
func cond(t corev1.NodeConditionType, s corev1.ConditionStatus) nodeOpt {
	return func(n *corev1.Node) {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: t, Status: s})
	}
}
func unschedulable(n *corev1.Node) { n.Spec.Unschedulable = true }
func taints(ts ...string) nodeOpt {
	return func(n *corev1.Node) {
		for _, s := range ts {
			n.Spec.Taints = append(n.Spec.Taints, parseTaint(s))
		}
	}
}

// parseTaint reads "key:Effect" or "key:Effect@-5s" (timeAdded relative to now).
func parseTaint(s string) corev1.Taint {
	s, at, timed := strings.Cut(s, "@")
	key, effect, _ := strings.Cut(s, ":")
	t := corev1.Taint{Key: key, Effect: corev1.TaintEffect(effect)}
	if timed {
		d, err := time.ParseDuration(at)
		if err != nil {
			panic(err)
		}
		t.TimeAdded = ptr.To(metav1.NewTime(now.Add(d)))
	}
	return t
}

func mkLease(renewedAgo time.Duration) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: LeaseNamespace},
		Spec:       coordinationv1.LeaseSpec{RenewTime: ptr.To(metav1.NewMicroTime(now.Add(-renewedAgo)))},
	}
}

type podOpt func(*corev1.Pod)

// mkPod is a ready pod on n1 created an hour ago, with the API server's default 300 s tolerations.
func mkPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: corev1.PodSpec{NodeName: "n1", Tolerations: []corev1.Toleration{
			{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func tolerations(ts ...corev1.Toleration) podOpt {
	return func(p *corev1.Pod) { p.Spec.Tolerations = ts }
}
func tolerate(key string, secs *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
}
func podCreated(ago time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now.Add(-ago)) }
}
func deleting(p *corev1.Pod)    { p.DeletionTimestamp = ptr.To(metav1.NewTime(now)) }
func notReadyPod(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }

// seen is an Observation of mkNode's heartbeat and a lease renewal leaseAgo before now, first observed probeAgo
// before now.
func seen(leaseAgo, probeAgo time.Duration) *Observation {
	return &Observation{Ready: true, Heartbeat: now.Add(-time.Hour), LeaseRenew: now.Add(-leaseAgo), Probe: now.Add(-probeAgo)}
}

func taintStrings(ts []corev1.Taint) string {
	var out []string
	for _, t := range ts {
		s := t.Key + ":" + string(t.Effect)
		if t.TimeAdded != nil {
			s += "@" + t.TimeAdded.Sub(now).String()
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func podNames(ps []*corev1.Pod) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return fmt.Sprint(out)
}

func condStrings(cs []corev1.NodeCondition) string {
	if cs == nil {
		return "unchanged"
	}
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
	}
	return fmt.Sprint(out)
}

func TestReconcile(t *testing.T) {
	const unchanged = "unchanged"
	unknown := "[Ready=Unknown(NodeStatusUnknown) MemoryPressure=Unknown(NodeStatusUnknown) DiskPressure=Unknown(NodeStatusNeverUpdated) PIDPressure=Unknown(NodeStatusNeverUpdated)]"
	for _, tc := range []struct {
		name  string
		node  *corev1.Node
		lease *coordinationv1.Lease
		pods  []*corev1.Pod
		last  *Observation
		opts  *Options

		wantConds    string
		wantNotReady bool   // NodeNotReady event
		wantTaints   string // "" means unchanged
		wantMark     string
		wantEvict    string
		wantRequeue  time.Duration
		wantProbe    time.Duration // Observation.Probe relative to now
	}{
		{
			name: "first sight: a full grace period from now",
			node: mkNode(), lease: mkLease(time.Hour),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "lease renewed since the last look: alive",
			node: mkNode(), lease: mkLease(time.Second), last: seen(11*time.Second, 35*time.Second),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "lease unchanged, within the grace period",
			node: mkNode(), lease: mkLease(30 * time.Second), last: seen(30*time.Second, 30*time.Second),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 10 * time.Second, wantProbe: -30 * time.Second,
		},
		{
			name:      "heartbeat posted without a lease counts too",
			node:      mkNode(func(n *corev1.Node) { n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(now.Add(-time.Second)) }),
			last:      seen(time.Hour, time.Hour),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "lease stale for the grace period: Unknown, unreachable taints, pods not ready; default tolerations wait",
			node: mkNode(taints("other:NoSchedule")), lease: mkLease(50 * time.Second), last: seen(50*time.Second, 40*time.Second),
			pods:      []*corev1.Pod{mkPod("tolerant"), mkPod("intolerant", tolerations()), mkPod("already-not-ready", notReadyPod)},
			wantConds: unknown, wantNotReady: true,
			wantTaints: "[node.kubernetes.io/unreachable:NoExecute@0s node.kubernetes.io/unreachable:NoSchedule@0s other:NoSchedule]",
			wantMark:   "[tolerant intolerant]", wantEvict: "[intolerant]", wantRequeue: 300 * time.Second, wantProbe: -40 * time.Second,
		},
		{
			name: "shorter grace period option",
			node: mkNode(), lease: mkLease(6 * time.Second), last: seen(6*time.Second, 5*time.Second),
			opts:      &Options{NodeMonitorGracePeriod: 5 * time.Second, NodeStartupGracePeriod: time.Minute},
			wantConds: unknown, wantNotReady: true,
			wantTaints: "[node.kubernetes.io/unreachable:NoExecute@0s node.kubernetes.io/unreachable:NoSchedule@0s]",
			wantMark:   "[]", wantEvict: "[]", wantProbe: -5 * time.Second,
		},
		{
			name: "already Unknown and tainted: nothing more to write",
			node: mkNode(ready(corev1.ConditionUnknown), cond(corev1.NodeDiskPressure, corev1.ConditionUnknown), cond(corev1.NodePIDPressure, corev1.ConditionUnknown),
				func(n *corev1.Node) { n.Status.Conditions[1].Status = corev1.ConditionUnknown },
				taints("node.kubernetes.io/unreachable:NoSchedule@-10s", "node.kubernetes.io/unreachable:NoExecute@-10s")),
			lease: mkLease(time.Minute), last: seen(time.Minute, time.Minute),
			pods:      []*corev1.Pod{mkPod("a", notReadyPod)},
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 290 * time.Second, wantProbe: -time.Minute,
		},
		{
			name:  "lease renewed but Ready still Unknown: the kubelet has not posted yet, taints stay",
			node:  mkNode(ready(corev1.ConditionUnknown), taints("node.kubernetes.io/unreachable:NoSchedule@-10s", "node.kubernetes.io/unreachable:NoExecute@-10s")),
			lease: mkLease(0), last: seen(time.Minute, time.Minute),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "kubelet posts Ready again: the taints go",
			node: mkNode(func(n *corev1.Node) { n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(now) },
				taints("node.kubernetes.io/unreachable:NoSchedule@-10s", "other:NoExecute", "node.kubernetes.io/unreachable:NoExecute@-10s")),
			lease: mkLease(0), last: seen(time.Minute, time.Minute),
			pods:      []*corev1.Pod{mkPod("a", tolerations(tolerate("other", nil)))},
			wantConds: unchanged, wantTaints: "[other:NoExecute]", wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name:  "Ready=False: not-ready taints replace unreachable ones",
			node:  mkNode(ready(corev1.ConditionFalse), taints("node.kubernetes.io/unreachable:NoExecute@-10s")),
			lease: mkLease(0), last: seen(time.Minute, time.Minute),
			pods:       []*corev1.Pod{mkPod("a")},
			wantConds:  unchanged,
			wantTaints: "[node.kubernetes.io/not-ready:NoExecute@0s node.kubernetes.io/not-ready:NoSchedule@0s]",
			wantMark:   "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "cordoned: unschedulable taint",
			node: mkNode(unschedulable), lease: mkLease(0), last: seen(time.Second, time.Second),
			wantConds: unchanged, wantTaints: "[node.kubernetes.io/unschedulable:NoSchedule@0s]", wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name:  "uncordoned: unschedulable taint removed, foreign taints kept",
			node:  mkNode(taints("node.kubernetes.io/unschedulable:NoSchedule@-1h", "dedicated:NoSchedule", "node.kubernetes.io/unreachable:PreferNoSchedule")),
			lease: mkLease(0), last: seen(time.Second, time.Second),
			wantConds: unchanged, wantTaints: "[dedicated:NoSchedule node.kubernetes.io/unreachable:PreferNoSchedule]", wantMark: "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name: "pressure conditions taint NoSchedule",
			node: mkNode(cond(corev1.NodeDiskPressure, corev1.ConditionTrue), cond(corev1.NodePIDPressure, corev1.ConditionTrue), cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue),
				func(n *corev1.Node) { n.Status.Conditions[1].Status = corev1.ConditionTrue }),
			lease: mkLease(0), last: seen(time.Second, time.Second),
			wantConds:  unchanged,
			wantTaints: "[node.kubernetes.io/disk-pressure:NoSchedule@0s node.kubernetes.io/memory-pressure:NoSchedule@0s node.kubernetes.io/network-unavailable:NoSchedule@0s node.kubernetes.io/pid-pressure:NoSchedule@0s]",
			wantMark:   "[]", wantEvict: "[]", wantRequeue: 40 * time.Second,
		},
		{
			name:      "never posted status, within the startup grace period",
			node:      mkNode(noConditions, created(50*time.Second), taints("node.kubernetes.io/not-ready:NoExecute@-50s")),
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 10 * time.Second, wantProbe: -50 * time.Second,
		},
		{
			name:       "never posted status past the startup grace period",
			node:       mkNode(noConditions, created(61*time.Second)),
			pods:       []*corev1.Pod{mkPod("a")},
			wantConds:  "[Ready=Unknown(NodeStatusNeverUpdated) MemoryPressure=Unknown(NodeStatusNeverUpdated) DiskPressure=Unknown(NodeStatusNeverUpdated) PIDPressure=Unknown(NodeStatusNeverUpdated)]",
			wantTaints: "[node.kubernetes.io/unreachable:NoExecute@0s node.kubernetes.io/unreachable:NoSchedule@0s]",
			wantMark:   "[a]", wantEvict: "[]", wantRequeue: 300 * time.Second, wantProbe: -61 * time.Second,
		},
		{
			name:  "toleration runs out",
			node:  mkNode(ready(corev1.ConditionFalse), taints("node.kubernetes.io/not-ready:NoSchedule@-300s", "node.kubernetes.io/not-ready:NoExecute@-300s")),
			lease: mkLease(0), last: seen(time.Second, time.Second),
			pods: []*corev1.Pod{
				mkPod("expired"),
				mkPod("late-arrival", podCreated(100*time.Second)),
				mkPod("forever", tolerations(tolerate(corev1.TaintNodeNotReady, nil))),
				mkPod("zero", tolerations(tolerate(corev1.TaintNodeNotReady, ptr.To[int64](0)))),
				mkPod("wrong-key", tolerations(tolerate(corev1.TaintNodeUnreachable, nil))),
				mkPod("wildcard", tolerations(corev1.Toleration{Operator: corev1.TolerationOpExists})),
				mkPod("being-deleted", tolerations(), deleting),
			},
			wantConds: unchanged, wantMark: "[]", wantEvict: "[expired zero wrong-key]", wantRequeue: 40 * time.Second,
		},
		{
			name:  "shortest toleration of several taints wins",
			node:  mkNode(ready(corev1.ConditionFalse), taints("node.kubernetes.io/not-ready:NoSchedule@-10s", "node.kubernetes.io/not-ready:NoExecute@-10s", "maintenance:NoExecute@-5s")),
			lease: mkLease(0), last: seen(time.Second, time.Second),
			pods:      []*corev1.Pod{mkPod("a", tolerations(tolerate(corev1.TaintNodeNotReady, ptr.To[int64](300)), tolerate("maintenance", ptr.To[int64](20))))},
			wantConds: unchanged, wantMark: "[]", wantEvict: "[]", wantRequeue: 10 * time.Second,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := defaults
			if tc.opts != nil {
				opts = *tc.opts
			}
			in := Input{Node: tc.node, Lease: tc.lease, Pods: tc.pods, Last: tc.last, Now: now}
			before := tc.node.DeepCopy()
			res := Reconcile(in, opts)
			if got := condStrings(res.Conditions); got != tc.wantConds {
				t.Errorf("conditions %s, want %s", got, tc.wantConds)
			}
			if res.NodeNotReady != tc.wantNotReady {
				t.Errorf("NodeNotReady %v", res.NodeNotReady)
			}
			gotTaints := ""
			if res.TaintsChanged {
				gotTaints = taintStrings(res.Taints)
			}
			if gotTaints != tc.wantTaints {
				t.Errorf("taints %q, want %q", gotTaints, tc.wantTaints)
			}
			if got := podNames(res.MarkNotReady); got != tc.wantMark {
				t.Errorf("mark not ready %s, want %s", got, tc.wantMark)
			}
			if got := podNames(res.Evict); got != tc.wantEvict {
				t.Errorf("evict %s, want %s", got, tc.wantEvict)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeue after %v, want %v", res.RequeueAfter, tc.wantRequeue)
			}
			if got := res.Observation.Probe.Sub(now); got != tc.wantProbe {
				t.Errorf("probe %v, want %v", got, tc.wantProbe)
			}
			if before.String() != tc.node.String() {
				t.Error("input node modified")
			}
		})
	}
}

// TestLeaseStopsAndReturns walks one node through a stale lease and back with a fake clock, feeding each sync's
// writes and Observation into the next, as the shell does.
func TestLeaseStopsAndReturns(t *testing.T) {
	opts := Options{NodeMonitorGracePeriod: 5 * time.Second, NodeStartupGracePeriod: time.Minute}
	clk := now
	node := mkNode()
	lease := mkLease(0)
	pods := []*corev1.Pod{mkPod("p", tolerations(tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](1)), tolerate(corev1.TaintNodeNotReady, ptr.To[int64](1))))}
	var last *Observation
	step := func(d time.Duration) Result {
		clk = clk.Add(d)
		res := Reconcile(Input{Node: node, Lease: lease, Pods: pods, Last: last, Now: clk}, opts)
		node = node.DeepCopy()
		if res.Conditions != nil {
			node.Status.Conditions = res.Conditions
		}
		if res.TaintsChanged {
			node.Spec.Taints = res.Taints
		}
		last = &res.Observation
		return res
	}
	if res := step(0); res.RequeueAfter != 5*time.Second || res.Conditions != nil {
		t.Fatalf("healthy: %+v", res)
	}
	// Renewals every 2 s keep it alive.
	for i := 0; i < 5; i++ {
		lease = lease.DeepCopy()
		lease.Spec.RenewTime = ptr.To(metav1.NewMicroTime(clk.Add(2 * time.Second)))
		if res := step(2 * time.Second); res.Conditions != nil || res.TaintsChanged {
			t.Fatalf("renewing node marked: %+v", res)
		}
	}
	// The lease stops: nothing until the grace period has passed since the last renewal was seen.
	if res := step(4 * time.Second); res.Conditions != nil || res.RequeueAfter != time.Second {
		t.Fatalf("before the deadline: %+v", res)
	}
	res := step(time.Second)
	if condition(res.Conditions, corev1.NodeReady).Status != corev1.ConditionUnknown || !res.TaintsChanged || len(res.Evict) != 0 || res.RequeueAfter != time.Second {
		t.Fatalf("at the deadline: conditions %s taints %s evict %s requeue %v", condStrings(res.Conditions), taintStrings(res.Taints), podNames(res.Evict), res.RequeueAfter)
	}
	if res := step(500 * time.Millisecond); len(res.Evict) != 0 || res.Conditions != nil || res.TaintsChanged || res.RequeueAfter != 500*time.Millisecond {
		t.Fatalf("toleration not yet out: %+v", res)
	}
	if res := step(500 * time.Millisecond); podNames(res.Evict) != "[p]" {
		t.Fatalf("toleration out: evict %s", podNames(res.Evict))
	}
	pods = nil
	// Back: the lease is renewed and the kubelet posts Ready.
	lease = lease.DeepCopy()
	lease.Spec.RenewTime = ptr.To(metav1.NewMicroTime(clk.Add(time.Second)))
	node.Status.Conditions[0] = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.NewTime(clk.Add(time.Second))}
	if res := step(time.Second); !res.TaintsChanged || len(res.Taints) != 0 || res.RequeueAfter != 5*time.Second {
		t.Fatalf("returning node: taints %s requeue %v", taintStrings(res.Taints), res.RequeueAfter)
	}
}

// TestUntimedTaint: a NoExecute taint without timeAdded counts from when the controller first saw it.
func TestUntimedTaint(t *testing.T) {
	node := mkNode(taints("maintenance:NoExecute"))
	pods := []*corev1.Pod{mkPod("a", tolerations(tolerate("maintenance", ptr.To[int64](60))))}
	res := Reconcile(Input{Node: node, Lease: mkLease(0), Pods: pods, Now: now}, defaults)
	if len(res.Evict) != 0 || res.RequeueAfter != 40*time.Second || !res.Observation.UntimedTaints["maintenance:NoExecute"].Equal(now) {
		t.Fatalf("first sight: %+v", res)
	}
	last := res.Observation
	res = Reconcile(Input{Node: node, Lease: mkLease(-59 * time.Second), Pods: pods, Last: &last, Now: now.Add(59 * time.Second)}, defaults)
	if len(res.Evict) != 0 || res.TaintsChanged || res.RequeueAfter != time.Second {
		t.Fatalf("59 s later: evict %s requeue %v", podNames(res.Evict), res.RequeueAfter)
	}
	last = res.Observation
	res = Reconcile(Input{Node: node, Lease: mkLease(-60 * time.Second), Pods: pods, Last: &last, Now: now.Add(60 * time.Second)}, defaults)
	if podNames(res.Evict) != "[a]" {
		t.Fatalf("60 s later: evict %s", podNames(res.Evict))
	}
	// The taint goes: forgotten.
	last = res.Observation
	res = Reconcile(Input{Node: mkNode(), Lease: mkLease(-61 * time.Second), Pods: pods, Last: &last, Now: now.Add(61 * time.Second)}, defaults)
	if res.Observation.UntimedTaints != nil {
		t.Errorf("untimed taints kept: %v", res.Observation.UntimedTaints)
	}
}

func TestOptionsValidate(t *testing.T) {
	var o Options
	if err := o.validate(); err != nil || o.NodeMonitorGracePeriod != 40*time.Second || o.NodeStartupGracePeriod != time.Minute {
		t.Errorf("defaults %+v %v", o, err)
	}
	o = Options{NodeMonitorGracePeriod: -time.Second}
	if err := o.validate(); err == nil {
		t.Error("negative grace period accepted")
	}
}

func TestMinTolerationTime(t *testing.T) {
	for _, tc := range []struct {
		secs []*int64
		want time.Duration
	}{
		{nil, 0},
		{[]*int64{nil}, -1},
		{[]*int64{nil, ptr.To[int64](30)}, 30 * time.Second},
		{[]*int64{ptr.To[int64](300), ptr.To[int64](30)}, 30 * time.Second},
		{[]*int64{ptr.To[int64](300), ptr.To[int64](-5)}, 0},
	} {
		var ts []corev1.Toleration
		for _, s := range tc.secs {
			ts = append(ts, corev1.Toleration{TolerationSeconds: s})
		}
		if got := minTolerationTime(ts); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.secs, got, tc.want)
		}
	}
}
