package deployment

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func ip(v int) *intstr.IntOrString     { x := intstr.FromInt32(int32(v)); return &x }
func pct(v string) *intstr.IntOrString { x := intstr.FromString(v); return &x }

// newD is a rolling Deployment "web" with the given size and fenceposts, template image "nginx:1".
func newD(replicas int32, surge, unavail *intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-uid", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
			},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavail},
			},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

func withImage(d *appsv1.Deployment, img string) *appsv1.Deployment {
	d = d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = img
	d.Generation++
	return d
}

// rsOf is a ReplicaSet of d for template image img: revision rev, replicas, all of them available, created age ago.
func rsOf(d *appsv1.Deployment, img string, rev int, replicas, available int32, age time.Duration) *appsv1.ReplicaSet {
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Spec.Containers[0].Image = img
	hash := ComputeHash(tmpl, nil)
	tmpl.Labels = cloneAndAddLabel(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	t := true
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace, UID: types.UID("rs-" + img),
			CreationTimestamp: metav1.NewTime(t0.Add(-age)),
			Labels:            tmpl.Labels,
			Annotations: map[string]string{
				RevisionAnnotation:        strconv.Itoa(rev),
				DesiredReplicasAnnotation: strconv.Itoa(int(*d.Spec.Replicas)),
				MaxReplicasAnnotation:     strconv.Itoa(int(*d.Spec.Replicas + MaxSurge(d))),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &t}},
			Generation:      1,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: cloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template: *tmpl,
		},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: available, AvailableReplicas: available, ObservedGeneration: 1},
	}
}

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavail *intstr.IntOrString
		desired        int32
		wantS, wantU   int32
	}{
		{pct("25%"), pct("25%"), 10, 3, 2}, // surge rounds up, unavailable down
		{pct("25%"), pct("25%"), 4, 1, 1},
		{pct("25%"), pct("25%"), 3, 1, 0},
		{pct("25%"), pct("25%"), 1, 1, 0},
		{pct("1%"), pct("0%"), 2, 1, 0},
		{pct("0%"), pct("1%"), 2, 0, 1}, // both resolve to zero: unavailable 1
		{ip(0), ip(0), 5, 0, 1},
		{nil, nil, 5, 0, 1},
		{ip(2), ip(3), 10, 2, 3},
		{pct("50%"), pct("50%"), 3, 2, 1},
		{pct("30%"), pct("30%"), 10, 3, 3},
		{pct("100%"), pct("0%"), 3, 3, 0},
		{pct("33%"), pct("33%"), 10, 4, 3},
		{ip(1), pct("10%"), 0, 1, 0},
	} {
		s, u, err := ResolveFenceposts(tc.surge, tc.unavail, tc.desired)
		if err != nil {
			t.Fatal(err)
		}
		if s != tc.wantS || u != tc.wantU {
			t.Errorf("ResolveFenceposts(%v, %v, %d) = %d, %d; want %d, %d", tc.surge, tc.unavail, tc.desired, s, u, tc.wantS, tc.wantU)
		}
	}
	if _, _, err := ResolveFenceposts(pct("abc"), nil, 3); err == nil {
		t.Error("bad percent: want error")
	}
}

func TestMaxUnavailable(t *testing.T) {
	d := newD(2, ip(0), ip(5))
	if got := MaxUnavailable(d); got != 2 {
		t.Errorf("clamped to replicas: got %d, want 2", got)
	}
	d = newD(0, ip(1), ip(1))
	if got := MaxUnavailable(d); got != 0 {
		t.Errorf("zero replicas: got %d, want 0", got)
	}
	d = newD(3, ip(1), ip(1))
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if MaxUnavailable(d) != 0 || MaxSurge(d) != 0 {
		t.Error("Recreate has no fenceposts")
	}
}

func TestComputeHash(t *testing.T) {
	d := newD(1, nil, nil)
	h1 := ComputeHash(&d.Spec.Template, nil)
	if h1 != ComputeHash(d.Spec.Template.DeepCopy(), nil) {
		t.Fatal("hash not deterministic")
	}
	if h1 == ComputeHash(&withImage(d, "nginx:2").Spec.Template, nil) {
		t.Error("different templates, same hash")
	}
	h0 := ComputeHash(&d.Spec.Template, ptr.To[int32](0))
	h2 := ComputeHash(&d.Spec.Template, ptr.To[int32](1))
	if h0 == h1 || h0 == h2 {
		t.Errorf("collision count must change the hash: %s %s %s", h1, h0, h2)
	}
	for _, c := range h1 {
		if !strings.ContainsRune("bcdfghjklmnpqrstvwxz2456789", c) {
			t.Errorf("hash %q has %q, outside rand.SafeEncodeString's alphabet", h1, c)
		}
	}
	// As upstream's fnv test: 1000 templates differing in one image tag do not collide.
	seen := map[string]int{}
	for i := range 1000 {
		h := ComputeHash(&withImage(d, fmt.Sprintf("registry/cats:v0.%d.0", i)).Spec.Template, nil)
		if j, ok := seen[h]; ok {
			t.Fatalf("templates %d and %d collide on %s", j, i, h)
		}
		seen[h] = i
	}
}

func eventMsgs(p Plan) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Message)
	}
	return out
}

func updates(p Plan) map[string]int32 {
	m := map[string]int32{}
	for _, rs := range p.Update {
		m[rs.Name] = *rs.Spec.Replicas
	}
	return m
}

func cond(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	if st == nil {
		return nil
	}
	return GetCondition(*st, t)
}

func TestNewDeploymentCreatesReplicaSet(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "first", corev1.LastAppliedConfigAnnotation: "{}"}
	p := Reconcile(d, nil, nil, t0)
	rs := p.Create
	if rs == nil {
		t.Fatal("no ReplicaSet created")
	}
	hash := ComputeHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash {
		t.Errorf("name %q, want web-%s", rs.Name, hash)
	}
	if got := *rs.Spec.Replicas; got != 3 {
		t.Errorf("replicas %d, want 3 (surge 1 over 0 existing, capped at 3)", got)
	}
	for k, want := range map[string]string{
		RevisionAnnotation: "1", DesiredReplicasAnnotation: "3", MaxReplicasAnnotation: "4", "kubernetes.io/change-cause": "first",
	} {
		if got := rs.Annotations[k]; got != want {
			t.Errorf("annotation %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := rs.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration must not be copied")
	}
	if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Selector.MatchLabels["app"] != "web" {
		t.Errorf("hash label missing: labels %v template %v selector %v", rs.Labels, rs.Spec.Template.Labels, rs.Spec.Selector)
	}
	if _, ok := d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Error("input deployment modified")
	}
	ref := metav1.GetControllerOf(rs)
	if ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" || !*ref.BlockOwnerDeletion {
		t.Errorf("controller ref %+v", ref)
	}
	if got := eventMsgs(p); len(got) != 1 || got[0] != "Scaled up replica set "+rs.Name+" from 0 to 3" {
		t.Errorf("events %q", got)
	}
	if p.Revision != "1" {
		t.Errorf("revision %q, want 1", p.Revision)
	}
	c := cond(p.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != ReasonNewReplicaSet || c.Status != corev1.ConditionTrue || c.Message != fmt.Sprintf("Created new replica set %q", rs.Name) {
		t.Errorf("progressing %+v", c)
	}
	if a := cond(p.Status, appsv1.DeploymentAvailable); a == nil || a.Reason != ReasonMinimumReplicasUnavail || a.Status != corev1.ConditionFalse {
		t.Errorf("available %+v", a)
	}
	if p.Status.ObservedGeneration != 1 || p.Status.UnavailableReplicas != 3 {
		t.Errorf("status %+v", p.Status)
	}
}

func TestRollingStep(t *testing.T) {
	type want struct {
		create  int32 // -1: no create
		updates map[string]int32
		events  []string
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		rss  func(d *appsv1.Deployment) []*appsv1.ReplicaSet
		want want
	}{
		{
			name: "10 replicas 25%/25%: new gets 3, old goes to 8",
			d:    withImage(newD(10, pct("25%"), pct("25%")), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 10, 10, time.Hour)}
			},
			want: want{create: 3, updates: map[string]int32{"old": 8}, events: []string{
				"Scaled up replica set NEW from 0 to 3", "Scaled down replica set OLD from 10 to 8"}},
		},
		{
			name: "surge 0 unavailable 1: new starts at 0, old goes down by 1",
			d:    withImage(newD(3, ip(0), ip(1)), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 3, 3, time.Hour)}
			},
			want: want{create: 0, updates: map[string]int32{"old": 2}, events: []string{"Scaled down replica set OLD from 3 to 2"}},
		},
		{
			name: "surge 1 unavailable 0: new gets 1, old stays",
			d:    withImage(newD(3, ip(1), ip(0)), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 3, 3, time.Hour)}
			},
			want: want{create: 1, updates: map[string]int32{}, events: []string{"Scaled up replica set NEW from 0 to 1"}},
		},
		{
			name: "both percentages round to zero: unavailable 1",
			d:    withImage(newD(2, pct("0%"), pct("10%")), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 2, 2, time.Hour)}
			},
			want: want{create: 0, updates: map[string]int32{"old": 1}, events: []string{"Scaled down replica set OLD from 2 to 1"}},
		},
		{
			name: "new pods unavailable: old is not scaled down",
			d:    withImage(newD(3, ip(1), ip(0)), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 3, 3, time.Hour), rsOf(d, "nginx:2", 2, 1, 0, time.Minute)}
			},
			want: want{create: -1, updates: map[string]int32{}},
		},
		{
			name: "new pod available: old scaled down by one",
			d:    withImage(newD(3, ip(1), ip(0)), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 3, 3, time.Hour), rsOf(d, "nginx:2", 2, 1, 1, time.Minute)}
			},
			want: want{create: -1, updates: map[string]int32{"old": 2}, events: []string{"Scaled down replica set OLD from 3 to 2"}},
		},
		{
			name: "old ReplicaSet with unhealthy pods: those go first, beyond the unavailable budget",
			d:    withImage(newD(4, ip(0), ip(1)), "nginx:2"),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:1", 1, 4, 2, time.Hour), rsOf(d, "nginx:2", 2, 0, 0, time.Minute)}
			},
			// maxScaledDown = 4 - 3 - 0 = 1: one unhealthy pod cleaned up; availability 2 <= 3 so nothing more.
			want: want{create: -1, updates: map[string]int32{"old": 3}, events: []string{"Scaled down replica set OLD from 4 to 3"}},
		},
		{
			name: "new ReplicaSet larger than desired is scaled down",
			d:    newD(2, ip(1), ip(0)),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
				return []*appsv1.ReplicaSet{rs}
			},
			want: want{create: -1, updates: map[string]int32{"new": 2}, events: []string{"Scaled down replica set NEW from 3 to 2"}},
		},
		{
			name: "complete rollout: nothing to do",
			d:    newD(3, ip(1), ip(0)),
			rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
				return []*appsv1.ReplicaSet{rsOf(d, "nginx:0", 1, 0, 0, 2*time.Hour), rsOf(d, "nginx:1", 2, 3, 3, time.Hour)}
			},
			want: want{create: -1, updates: map[string]int32{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rss := tc.rss(tc.d)
			p := Reconcile(tc.d, rss, nil, t0)
			newName := "web-" + ComputeHash(&tc.d.Spec.Template, nil)
			oldName := ""
			for _, rs := range rss {
				if rs.Name != newName {
					oldName = rs.Name
				}
			}
			switch {
			case tc.want.create < 0 && p.Create != nil:
				t.Errorf("unexpected create %s", p.Create.Name)
			case tc.want.create >= 0 && p.Create == nil:
				t.Errorf("no create")
			case tc.want.create >= 0 && *p.Create.Spec.Replicas != tc.want.create:
				t.Errorf("created with %d replicas, want %d", *p.Create.Spec.Replicas, tc.want.create)
			}
			got := updates(p)
			want := map[string]int32{}
			for k, v := range tc.want.updates {
				if k == "old" {
					want[oldName] = v
				} else {
					want[newName] = v
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("updates %v, want %v", got, want)
			}
			var wantEv []string
			for _, e := range tc.want.events {
				wantEv = append(wantEv, strings.NewReplacer("NEW", newName, "OLD", oldName).Replace(e))
			}
			if fmt.Sprint(eventMsgs(p)) != fmt.Sprint(wantEv) {
				t.Errorf("events %q, want %q", eventMsgs(p), wantEv)
			}
			for _, rs := range rss {
				if rs.Status.ObservedGeneration != 1 || rs.Generation != 1 {
					t.Error("input modified")
				}
			}
		})
	}
}

// world is a tiny simulation of the API server plus a ReplicaSet controller and kubelet: a ReplicaSet scaled up
// gets unavailable pods at once and they become available one tick later; scaled down, pods go at once.
type world struct {
	t     *testing.T
	d     *appsv1.Deployment
	rss   []*appsv1.ReplicaSet
	now   time.Time
	n     int
	ready func(rs *appsv1.ReplicaSet) bool // whether pods of rs ever become available
}

func (w *world) step() Plan {
	w.t.Helper()
	p := Reconcile(w.d, w.rss, nil, w.now)
	if rs := p.Create; rs != nil {
		rs = rs.DeepCopy()
		w.n++
		rs.UID = types.UID(fmt.Sprintf("uid-%d", w.n))
		rs.CreationTimestamp = metav1.NewTime(w.now)
		rs.Generation = 1
		w.rss = append(w.rss, rs)
	}
	for _, u := range p.Update {
		for i, rs := range w.rss {
			if rs.Name == u.Name {
				c := u.DeepCopy()
				c.Generation = rs.Generation + 1
				c.Status = rs.Status
				w.rss[i] = c
			}
		}
	}
	for _, del := range p.Delete {
		for i, rs := range w.rss {
			if rs.Name == del.Name {
				w.rss = append(w.rss[:i], w.rss[i+1:]...)
				break
			}
		}
	}
	if p.Status != nil {
		w.d.Status = *p.Status
	}
	if p.Revision != "" {
		if w.d.Annotations == nil {
			w.d.Annotations = map[string]string{}
		}
		w.d.Annotations[RevisionAnnotation] = p.Revision
	}
	return p
}

// tick runs the ReplicaSet controller and the kubelet once.
func (w *world) tick() {
	w.now = w.now.Add(time.Second)
	for _, rs := range w.rss {
		spec := *rs.Spec.Replicas
		st := &rs.Status
		switch {
		case spec > st.Replicas:
			st.Replicas = spec
		case spec < st.Replicas:
			st.Replicas = spec
			st.AvailableReplicas = min(st.AvailableReplicas, spec)
		case st.AvailableReplicas < st.Replicas && (w.ready == nil || w.ready(rs)):
			st.AvailableReplicas = st.Replicas
		}
		st.ReadyReplicas = st.AvailableReplicas
		st.ObservedGeneration = rs.Generation
	}
}

func (w *world) totals() (specSum, available int32) {
	for _, rs := range w.rss {
		specSum += *rs.Spec.Replicas
		available += rs.Status.AvailableReplicas
	}
	return
}

// settle alternates controller and world until the Deployment is complete; check runs after every step.
func (w *world) settle(check func()) {
	w.t.Helper()
	for i := 0; i < 500; i++ {
		w.step()
		check()
		w.tick()
		check()
		st := w.d.Status
		if st.ObservedGeneration >= w.d.Generation && st.UpdatedReplicas == *w.d.Spec.Replicas &&
			st.Replicas == *w.d.Spec.Replicas && st.AvailableReplicas == *w.d.Spec.Replicas {
			// one more round so that clean-up and conditions settle
			w.step()
			w.tick()
			w.step()
			return
		}
	}
	w.t.Fatalf("did not settle: status %+v", w.d.Status)
}

func TestRolloutRespectsFenceposts(t *testing.T) {
	var cases []struct {
		replicas       int32
		surge, unavail *intstr.IntOrString
	}
	for _, r := range []int32{1, 2, 3, 5, 10} {
		for _, f := range [][2]*intstr.IntOrString{
			{pct("25%"), pct("25%")}, {ip(1), ip(0)}, {ip(0), ip(1)}, {ip(2), ip(2)}, {pct("50%"), pct("0%")},
			{pct("0%"), pct("30%")}, {pct("100%"), pct("100%")}, {ip(0), pct("1%")},
		} {
			cases = append(cases, struct {
				replicas       int32
				surge, unavail *intstr.IntOrString
			}{r, f[0], f[1]})
		}
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-%s-%s", tc.replicas, tc.surge.String(), tc.unavail.String()), func(t *testing.T) {
			w := &world{t: t, d: newD(tc.replicas, tc.surge, tc.unavail), now: t0}
			w.settle(func() {})
			surge, unavail, _ := ResolveFenceposts(tc.surge, tc.unavail, tc.replicas)
			w.d = withImage(w.d, "nginx:2")
			w.settle(func() {
				spec, avail := w.totals()
				if spec > tc.replicas+surge {
					t.Fatalf("%d pods wanted, more than %d+%d", spec, tc.replicas, surge)
				}
				if avail < tc.replicas-min(unavail, tc.replicas) {
					t.Fatalf("%d available, fewer than %d-%d", avail, tc.replicas, unavail)
				}
			})
			if len(w.rss) != 2 {
				t.Fatalf("%d ReplicaSets, want 2", len(w.rss))
			}
			for _, rs := range w.rss {
				want := int32(0)
				if rs.Spec.Template.Spec.Containers[0].Image == "nginx:2" {
					want = tc.replicas
					if rs.Annotations[RevisionAnnotation] != "2" {
						t.Errorf("new revision %q", rs.Annotations[RevisionAnnotation])
					}
				}
				if *rs.Spec.Replicas != want {
					t.Errorf("%s has %d replicas, want %d", rs.Spec.Template.Spec.Containers[0].Image, *rs.Spec.Replicas, want)
				}
			}
			if w.d.Annotations[RevisionAnnotation] != "2" {
				t.Errorf("deployment revision %q", w.d.Annotations[RevisionAnnotation])
			}
			if c := GetCondition(w.d.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable {
				t.Errorf("progressing %+v", c)
			}
			if c := GetCondition(w.d.Status, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue {
				t.Errorf("available %+v", c)
			}
		})
	}
}

func TestRollbackReusesOldReplicaSet(t *testing.T) {
	w := &world{t: t, d: newD(3, pct("25%"), pct("25%")), now: t0}
	w.settle(func() {})
	first := w.rss[0].Name
	w.d = withImage(w.d, "nginx:2")
	w.settle(func() {})
	// kubectl rollout undo: the template goes back to revision 1's.
	w.d = withImage(w.d, "nginx:1")
	p := w.step()
	if p.Create != nil {
		t.Fatalf("rollback created %s instead of reusing %s", p.Create.Name, first)
	}
	var rs1 *appsv1.ReplicaSet
	for _, rs := range w.rss {
		if rs.Name == first {
			rs1 = rs
		}
	}
	if rs1.Annotations[RevisionAnnotation] != "3" || rs1.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Errorf("rolled-back ReplicaSet annotations %v", rs1.Annotations)
	}
	if p.Revision != "3" {
		t.Errorf("deployment revision %q, want 3", p.Revision)
	}
	w.settle(func() {})
	if len(w.rss) != 2 {
		t.Errorf("%d ReplicaSets", len(w.rss))
	}
	// And forward again, then back again: history grows.
	w.d = withImage(w.d, "nginx:2")
	w.settle(func() {})
	w.d = withImage(w.d, "nginx:1")
	w.settle(func() {})
	for _, rs := range w.rss {
		if rs.Name == first && (rs.Annotations[RevisionAnnotation] != "5" || rs.Annotations[RevisionHistoryAnnotation] != "1,3") {
			t.Errorf("after second rollback: %v", rs.Annotations)
		}
	}
}

func TestRevisionHistoryAnnotationBounded(t *testing.T) {
	d := newD(1, ip(1), ip(0))
	rs := rsOf(d, "nginx:1", 1, 1, 1, time.Hour)
	rs.Annotations[RevisionHistoryAnnotation] = strings.Repeat("9,", 999) + "9" // 1999 chars
	if !setNewRSAnnotations(d, rs, "2", true) {
		t.Fatal("no change")
	}
	h := rs.Annotations[RevisionHistoryAnnotation]
	if len(h) > maxRevHistoryLengthInChars || !strings.HasSuffix(h, ",1") {
		t.Errorf("history len %d suffix %q", len(h), h[len(h)-4:])
	}
}

func TestProportionalScaling(t *testing.T) {
	for _, tc := range []struct {
		name             string
		from, to         int32
		old, new         int32 // replicas before
		wantOld, wantNew int32
		wantEvents       []string
	}{
		{"up 10 to 20 mid-rollout", 10, 20, 8, 5, 15, 10, []string{"Scaled up replica set OLD from 8 to 15", "Scaled up replica set NEW from 5 to 10"}},
		{"down 10 to 5 mid-rollout", 10, 5, 8, 5, 4, 3, []string{"Scaled down replica set OLD from 8 to 4", "Scaled down replica set NEW from 5 to 3"}},
		{"down to zero", 10, 0, 8, 5, 0, 0, []string{"Scaled down replica set OLD from 8 to 0", "Scaled down replica set NEW from 5 to 0"}},
		{"up 10 to 11: leftover to the largest", 10, 11, 8, 5, 9, 5, []string{"Scaled up replica set OLD from 8 to 9"}},
		{"equal sizes scaling up favours the newer", 10, 12, 6, 6, 7, 8, []string{"Scaled up replica set NEW from 6 to 8", "Scaled up replica set OLD from 6 to 7"}},
		{"equal sizes scaling down goes older first", 10, 8, 6, 6, 5, 5, []string{"Scaled down replica set OLD from 6 to 5", "Scaled down replica set NEW from 6 to 5"}},
		{"down 10 to 9: leftover from the largest", 10, 9, 8, 5, 7, 5, []string{"Scaled down replica set OLD from 8 to 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := newD(tc.from, pct("25%"), pct("25%"))
			old := rsOf(base, "nginx:1", 1, tc.old, tc.old, time.Hour)
			nw := rsOf(base, "nginx:2", 2, tc.new, 0, time.Minute)
			d := withImage(base, "nginx:2")
			d.Spec.Replicas = ptr.To(tc.to)
			d.Status.Replicas = tc.old + tc.new
			p := Reconcile(d, []*appsv1.ReplicaSet{old, nw}, nil, t0)
			got := updates(p)
			if got[old.Name] != tc.wantOld || got[nw.Name] != tc.wantNew {
				t.Errorf("old %d new %d, want %d %d (updates %v)", got[old.Name], got[nw.Name], tc.wantOld, tc.wantNew, got)
			}
			var want []string
			for _, e := range tc.wantEvents {
				want = append(want, strings.NewReplacer("OLD", old.Name, "NEW", nw.Name).Replace(e))
			}
			if fmt.Sprint(eventMsgs(p)) != fmt.Sprint(want) {
				t.Errorf("events %q, want %q", eventMsgs(p), want)
			}
			maxR := strconv.Itoa(int(tc.to + MaxSurge(d)))
			for _, rs := range p.Update {
				if rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(tc.to)) || rs.Annotations[MaxReplicasAnnotation] != maxR {
					t.Errorf("%s annotations %v", rs.Name, rs.Annotations)
				}
			}
			if p.Create != nil {
				t.Error("a scaling event must not create a ReplicaSet")
			}
		})
	}
}

func TestScaleSingleActive(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
	d.Spec.Replicas = ptr.To[int32](5)
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if got := updates(p)[rs.Name]; got != 5 {
		t.Errorf("replicas %d, want 5", got)
	}
	if got := eventMsgs(p); len(got) != 1 || got[0] != "Scaled up replica set "+rs.Name+" from 3 to 5" {
		t.Errorf("events %q", got)
	}
	if p.Update[0].Annotations[DesiredReplicasAnnotation] != "5" || p.Update[0].Annotations[MaxReplicasAnnotation] != "7" {
		t.Errorf("annotations %v", p.Update[0].Annotations)
	}
}

func TestSaturatedNewScalesOldToZero(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	old := rsOf(d, "nginx:0", 1, 1, 1, 2*time.Hour)
	old.Annotations[DesiredReplicasAnnotation] = "2"
	nw := rsOf(d, "nginx:1", 2, 3, 3, time.Hour)
	p := Reconcile(d, []*appsv1.ReplicaSet{old, nw}, nil, t0)
	if got := updates(p); got[old.Name] != 0 || len(got) != 1 {
		t.Errorf("updates %v", got)
	}
}

func TestHistoryCleanup(t *testing.T) {
	d := newD(2, ip(1), ip(0))
	d.Spec.RevisionHistoryLimit = ptr.To[int32](2)
	var rss []*appsv1.ReplicaSet
	for i := 1; i <= 5; i++ {
		rss = append(rss, rsOf(d, fmt.Sprintf("nginx:old%d", i), i, 0, 0, time.Duration(10-i)*time.Hour))
	}
	busy := rsOf(d, "nginx:busy", 0, 0, 0, 20*time.Hour) // revision 0, oldest, but still has a pod terminating
	busy.Status.Replicas = 1
	unobserved := rsOf(d, "nginx:unobserved", 0, 0, 0, 21*time.Hour)
	unobserved.Generation = 2
	rss = append(rss, busy, unobserved, rsOf(d, "nginx:1", 6, 2, 2, time.Minute))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}
	p := Reconcile(d, rss, nil, t0)
	var got []string
	for _, rs := range p.Delete {
		got = append(got, rs.Spec.Template.Spec.Containers[0].Image)
	}
	// 7 old, limit 2: the 5 lowest revisions are candidates (busy, unobserved, old1..3); busy and unobserved are kept.
	if fmt.Sprint(got) != "[nginx:old1 nginx:old2 nginx:old3]" {
		t.Errorf("deleted %v", got)
	}
	// Not complete yet: no clean-up.
	d.Status.AvailableReplicas = 1
	if p := Reconcile(d, rss, nil, t0); len(p.Delete) != 0 {
		t.Errorf("clean-up before complete: %d", len(p.Delete))
	}
	// Unlimited history.
	d.Status.AvailableReplicas = 2
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1<<31 - 1)
	if p := Reconcile(d, rss, nil, t0); len(p.Delete) != 0 {
		t.Errorf("clean-up with MaxInt32 limit: %d", len(p.Delete))
	}
}

func TestPaused(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
	d.Spec.Paused = true
	d = withImage(d, "nginx:2")
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if p.Create != nil || len(p.Update) != 0 {
		t.Fatalf("paused deployment rolled: create %v updates %v", p.Create, updates(p))
	}
	c := cond(p.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != ReasonPaused || c.Status != corev1.ConditionUnknown {
		t.Errorf("progressing %+v", c)
	}
	if p.Status.ObservedGeneration != d.Generation {
		t.Errorf("observedGeneration %d, want %d", p.Status.ObservedGeneration, d.Generation)
	}
	// Scaling still works while paused.
	d.Status = *p.Status
	d.Spec.Replicas = ptr.To[int32](5)
	p = Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if got := updates(p)[rs.Name]; got != 5 || p.Create != nil {
		t.Errorf("paused scale: updates %v create %v", updates(p), p.Create)
	}
	// Resume: condition flips to DeploymentResumed and the rollout starts.
	d.Spec.Paused = false
	d.Spec.Replicas = ptr.To[int32](3)
	p = Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if p.Create == nil {
		t.Fatal("resumed deployment did not roll")
	}
	if c := cond(p.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewReplicaSet {
		t.Errorf("progressing after resume %+v", c)
	}
}

func TestResumedCondition(t *testing.T) {
	d := newD(3, pct("25%"), pct("25%"))
	rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3,
		Conditions: []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", t0.Add(-time.Hour))}}
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	// Resumed first, then (complete) NewReplicaSetAvailable in the same sync.
	if c := cond(p.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable {
		t.Errorf("progressing %+v", c)
	}
}

func TestRecreate(t *testing.T) {
	base := newD(3, nil, nil)
	base.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	old := rsOf(base, "nginx:1", 1, 3, 3, time.Hour)
	d := withImage(base, "nginx:2")

	p := Reconcile(d, []*appsv1.ReplicaSet{old}, nil, t0)
	if p.Create != nil || updates(p)[old.Name] != 0 || len(p.Update) != 1 {
		t.Fatalf("step 1: create %v updates %v", p.Create, updates(p))
	}
	if got := eventMsgs(p); len(got) != 1 || got[0] != "Scaled down replica set "+old.Name+" from 3 to 0" {
		t.Errorf("events %q", got)
	}

	// Scaled to zero but pods still reported: wait.
	old0 := old.DeepCopy()
	old0.Spec.Replicas = ptr.To[int32](0)
	if p := Reconcile(d, []*appsv1.ReplicaSet{old0}, nil, t0); p.Create != nil || len(p.Update) != 0 {
		t.Fatalf("created while old pods are reported")
	}
	// Status says zero but a pod is still running (terminating, say): wait.
	old0.Status = appsv1.ReplicaSetStatus{ObservedGeneration: 1}
	running := map[types.UID][]*corev1.Pod{old0.UID: {{Status: corev1.PodStatus{Phase: corev1.PodRunning}}}}
	if p := Reconcile(d, []*appsv1.ReplicaSet{old0}, running, t0); p.Create != nil {
		t.Fatalf("created while an old pod runs")
	}
	// Only terminal pods left: go.
	done := map[types.UID][]*corev1.Pod{old0.UID: {{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}}}
	p = Reconcile(d, []*appsv1.ReplicaSet{old0}, done, t0)
	if p.Create == nil || *p.Create.Spec.Replicas != 3 {
		t.Fatalf("new ReplicaSet not created at full size: %+v", p.Create)
	}
	if p.Create.Annotations[MaxReplicasAnnotation] != "3" {
		t.Errorf("max-replicas %q (Recreate has no surge)", p.Create.Annotations[MaxReplicasAnnotation])
	}
}

func TestRecreateSimulated(t *testing.T) {
	d := newD(4, nil, nil)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	w := &world{t: t, d: d, now: t0}
	w.settle(func() {})
	w.d = withImage(w.d, "nginx:2")
	w.settle(func() {
		var oldPods, newPods int32
		for _, rs := range w.rss {
			if rs.Spec.Template.Spec.Containers[0].Image == "nginx:2" {
				newPods += rs.Status.Replicas
			} else {
				oldPods += rs.Status.Replicas
			}
		}
		if oldPods > 0 && newPods > 0 {
			t.Fatalf("old (%d) and new (%d) pods at once", oldPods, newPods)
		}
	})
}

func TestProgressDeadline(t *testing.T) {
	base := newD(3, ip(1), ip(0))
	old := rsOf(base, "nginx:1", 1, 3, 3, time.Hour)
	d := withImage(base, "nginx:2")
	nw := rsOf(d, "nginx:2", 2, 1, 0, 20*time.Minute)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3, ReadyReplicas: 3,
		UnavailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumReplicasAvail, "Deployment has minimum availability.", t0.Add(-time.Hour)),
			newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, "x", t0.Add(-5*time.Minute)),
		}}
	rss := []*appsv1.ReplicaSet{old, nw}

	// Within the deadline, no progress: nothing written, requeue at lastUpdate+600s+1s.
	p := Reconcile(d, rss, nil, t0)
	if p.Status != nil {
		t.Errorf("status written without change: %+v", p.Status)
	}
	if want := 5*time.Minute + time.Second; p.RequeueAfter != want {
		t.Errorf("requeue %v, want %v", p.RequeueAfter, want)
	}
	// Past the deadline: Progressing=False ProgressDeadlineExceeded.
	p = Reconcile(d, rss, nil, t0.Add(6*time.Minute))
	c := cond(p.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonTimedOut || c.Message != fmt.Sprintf("ReplicaSet %q has timed out progressing.", nw.Name) {
		t.Fatalf("progressing %+v", c)
	}
	// Timed out stays timed out (no requeue) until progress is made.
	d.Status = *p.Status
	p = Reconcile(d, rss, nil, t0.Add(7*time.Minute))
	if p.Status != nil || p.RequeueAfter != 0 {
		t.Errorf("after timeout: status %v requeue %v", p.Status, p.RequeueAfter)
	}
	// Progress (the new pod became available) flips it back to ReplicaSetUpdated.
	nw2 := nw.DeepCopy()
	nw2.Status.AvailableReplicas, nw2.Status.ReadyReplicas = 1, 1
	p = Reconcile(d, []*appsv1.ReplicaSet{old, nw2}, nil, t0.Add(8*time.Minute))
	if c := cond(p.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonReplicaSetUpdated || c.Status != corev1.ConditionTrue ||
		!c.LastUpdateTime.Equal(&metav1.Time{Time: t0.Add(8 * time.Minute)}) {
		t.Errorf("after progress %+v", c)
	}
	// No deadline: no Progressing condition at all.
	d.Spec.ProgressDeadlineSeconds = nil
	p = Reconcile(d, rss, nil, t0)
	if c := cond(p.Status, appsv1.DeploymentProgressing); c != nil {
		t.Errorf("progressing without deadline %+v", c)
	}
}

func TestProgressRefreshKeepsTransitionTime(t *testing.T) {
	base := newD(3, ip(1), ip(0))
	old := rsOf(base, "nginx:1", 1, 3, 3, time.Hour)
	d := withImage(base, "nginx:2")
	nw := rsOf(d, "nginx:2", 2, 1, 1, time.Minute)
	created := t0.Add(-time.Minute)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3,
		Conditions: []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSet, "x", created)}}
	p := Reconcile(d, []*appsv1.ReplicaSet{old, nw}, nil, t0)
	c := cond(p.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != ReasonReplicaSetUpdated || !c.LastTransitionTime.Time.Equal(created) || !c.LastUpdateTime.Time.Equal(t0) {
		t.Errorf("progressing %+v", c)
	}
}

func TestReplicaFailurePromoted(t *testing.T) {
	d := newD(3, ip(1), ip(0))
	rs := rsOf(d, "nginx:1", 1, 3, 2, time.Hour)
	rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "quota"}}
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if c := cond(p.Status, appsv1.DeploymentReplicaFailure); c == nil || c.Reason != "FailedCreate" || c.Message != "quota" {
		t.Errorf("replica failure %+v", c)
	}
}

func TestAvailableCondition(t *testing.T) {
	d := newD(4, ip(1), ip(1))
	rs := rsOf(d, "nginx:1", 1, 4, 3, time.Hour)
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if c := cond(p.Status, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("3 of 4 with maxUnavailable 1: %+v", c)
	}
	rs.Status.AvailableReplicas = 2
	p = Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if c := cond(p.Status, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumReplicasUnavail {
		t.Errorf("2 of 4: %+v", c)
	}
	if p.Status.UnavailableReplicas != 2 || p.Status.AvailableReplicas != 2 || p.Status.Replicas != 4 || p.Status.UpdatedReplicas != 4 {
		t.Errorf("status %+v", p.Status)
	}
}

func TestSelectingAll(t *testing.T) {
	d := newD(3, nil, nil)
	d.Spec.Selector = &metav1.LabelSelector{}
	p := Reconcile(d, nil, nil, t0)
	if p.Create != nil || len(p.Events) != 1 || p.Events[0].Reason != EventSelectingAll || p.Events[0].Type != corev1.EventTypeWarning {
		t.Errorf("plan %+v", p)
	}
	if p.Status == nil || p.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", p.Status)
	}
}

func TestExistingNewReplicaSetSync(t *testing.T) {
	d := newD(3, ip(1), ip(0))
	rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
	d.Spec.MinReadySeconds = 5
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "kubectl set image", RevisionAnnotation: "1"}
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if len(p.Update) != 1 || p.Update[0].Spec.MinReadySeconds != 5 || p.Update[0].Annotations["kubernetes.io/change-cause"] != "kubectl set image" {
		t.Fatalf("updates %+v", p.Update)
	}
	if rs.Spec.MinReadySeconds != 0 || rs.Annotations["kubernetes.io/change-cause"] != "" {
		t.Error("input modified")
	}
	if p.Revision != "" {
		t.Errorf("revision unchanged, got %q", p.Revision)
	}
	if c := cond(p.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable {
		t.Errorf("progressing %+v", c)
	}
}

func TestCollisionCountChangesName(t *testing.T) {
	d := newD(1, nil, nil)
	p1 := Reconcile(d, nil, nil, t0)
	d.Status.CollisionCount = ptr.To[int32](1)
	p2 := Reconcile(d, nil, nil, t0)
	if p1.Create.Name == p2.Create.Name {
		t.Error("collisionCount did not change the name")
	}
	if p2.Status.CollisionCount == nil || *p2.Status.CollisionCount != 1 {
		t.Error("collisionCount lost from status")
	}
}

func TestDeletingDeploymentOnlyStatus(t *testing.T) {
	d := withImage(newD(3, ip(1), ip(0)), "nginx:2")
	now := metav1.NewTime(t0)
	d.DeletionTimestamp = &now
	rs := rsOf(d, "nginx:1", 1, 3, 3, time.Hour)
	p := Reconcile(d, []*appsv1.ReplicaSet{rs}, nil, t0)
	if p.Create != nil || len(p.Update) != 0 || len(p.Delete) != 0 {
		t.Errorf("deleting deployment acted: %+v", p)
	}
	if p.Status == nil || p.Status.Replicas != 3 || p.Status.UpdatedReplicas != 0 {
		t.Errorf("status %+v", p.Status)
	}
}

func TestDefaultsWhenUnset(t *testing.T) {
	d := newD(1, nil, nil)
	d.Spec.Replicas = nil
	d.Spec.Strategy = appsv1.DeploymentStrategy{}
	p := Reconcile(d, nil, nil, t0)
	if p.Create == nil || *p.Create.Spec.Replicas != 1 || p.Create.Annotations[MaxReplicasAnnotation] != "2" {
		t.Errorf("create %+v", p.Create)
	}
}

func TestSortHelpers(t *testing.T) {
	d := newD(1, nil, nil)
	a := rsOf(d, "a", 1, 2, 2, 3*time.Hour)
	b := rsOf(d, "b", 3, 2, 2, 2*time.Hour)
	c := rsOf(d, "c", 2, 5, 5, time.Hour)
	l := []*appsv1.ReplicaSet{b, c, a}
	bySizeNewer(l)
	if l[0] != c || l[1] != b || l[2] != a {
		t.Errorf("bySizeNewer: %s %s %s", l[0].UID, l[1].UID, l[2].UID)
	}
	bySizeOlder(l)
	if l[0] != c || l[1] != a || l[2] != b {
		t.Errorf("bySizeOlder: %s %s %s", l[0].UID, l[1].UID, l[2].UID)
	}
	byRevision(l)
	if l[0] != a || l[1] != c || l[2] != b {
		t.Errorf("byRevision: %s %s %s", l[0].UID, l[1].UID, l[2].UID)
	}
	if got := activeOrLatest(nil, []*appsv1.ReplicaSet{rsOf(d, "x", 1, 0, 0, time.Hour), rsOf(d, "y", 2, 0, 0, time.Minute)}); got == nil || got.UID != "rs-y" {
		t.Errorf("activeOrLatest with none active: %v", got)
	}
}
