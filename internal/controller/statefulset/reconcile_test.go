package statefulset

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newSet(replicas int32, policy appsv1.PodManagementPolicyType) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid", Generation: 3},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			ServiceName:         "nginx",
			PodManagementPolicy: policy,
			Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "v1"}}},
			},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(int32(0))}},
		},
	}
}

// pod states for mkPod.
const (
	pending     = "pending"
	ready       = "ready"
	notReady    = "notready"
	failed      = "failed"
	terminating = "terminating"
)

func mkPod(ordinal int, rev, state string) *corev1.Pod {
	name := fmt.Sprintf("web-%d", ordinal)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid"),
			Labels: map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: rev}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	switch state {
	case pending:
		p.Status.Phase = corev1.PodPending
	case failed:
		p.Status.Phase = corev1.PodFailed
	case ready, terminating:
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))}}
		if state == terminating {
			p.DeletionTimestamp = ptr.To(metav1.NewTime(now))
		}
	}
	return p
}

func input(set *appsv1.StatefulSet, cur, upd string, pods ...*corev1.Pod) Input {
	return Input{Set: set, CurrentSet: set, UpdateSet: set, CurrentRevision: cur, UpdateRevision: upd, Pods: pods, Now: now}
}

// summary is the plan as "+web-0@r1 -web-2" (creations with their revision, then deletions).
func summary(p Plan) string {
	var out []string
	for _, c := range p.CreateClaims {
		out = append(out, "+pvc/"+c.Name)
	}
	for _, c := range p.Create {
		out = append(out, "+"+c.Name+"@"+revisionOf(c))
	}
	for _, d := range p.Delete {
		out = append(out, "-"+d.Name)
	}
	return strings.Join(out, " ")
}

func TestReconcile(t *testing.T) {
	par := appsv1.ParallelPodManagement
	ord := appsv1.OrderedReadyPodManagement
	withPartition := func(s *appsv1.StatefulSet, n int32) *appsv1.StatefulSet {
		s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(n)
		return s
	}
	onDelete := func(s *appsv1.StatefulSet) *appsv1.StatefulSet {
		s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		return s
	}
	for _, tc := range []struct {
		name     string
		in       Input
		want     string
		replicas int32 // status.replicas
		current  string
	}{
		{name: "ordered creates ordinal 0 first", in: input(newSet(3, ord), "r1", "r1"), want: "+web-0@r1", replicas: 1, current: "r1"},
		{name: "ordered waits for a pending pod", in: input(newSet(3, ord), "r1", "r1", mkPod(0, "r1", pending)), want: "", replicas: 1},
		{name: "ordered waits for a not-ready pod", in: input(newSet(3, ord), "r1", "r1", mkPod(0, "r1", notReady)), want: "", replicas: 1},
		{name: "ordered creates the next once ready", in: input(newSet(3, ord), "r1", "r1", mkPod(0, "r1", ready)), want: "+web-1@r1", replicas: 2},
		{name: "ordered fills a gap before going on", in: input(newSet(3, ord), "r1", "r1", mkPod(0, "r1", ready), mkPod(2, "r1", ready)), want: "+web-1@r1", replicas: 3},
		{name: "parallel creates all at once", in: input(newSet(3, par), "r1", "r1", mkPod(1, "r1", pending)), want: "+web-0@r1 +web-2@r1", replicas: 3},
		{name: "ordered scales down highest first, one at a time",
			in:   input(newSet(1, ord), "r1", "r1", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r1", ready)),
			want: "-web-2", replicas: 3},
		{name: "ordered scale-down waits for a terminating pod",
			in:   input(newSet(1, ord), "r1", "r1", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r1", terminating)),
			want: "", replicas: 3},
		{name: "ordered scale-down waits for unhealthy replicas",
			in:   input(newSet(1, ord), "r1", "r1", mkPod(0, "r1", notReady), mkPod(1, "r1", ready)),
			want: "", replicas: 2},
		{name: "parallel scales down all at once",
			in:   input(newSet(1, par), "r1", "r1", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r1", terminating)),
			want: "-web-1", replicas: 3},
		{name: "a failed pod is deleted for recreation", in: input(newSet(2, ord), "r1", "r1", mkPod(0, "r1", failed), mkPod(1, "r1", ready)),
			want: "-web-0", replicas: 1},
		{name: "rolling update replaces the highest ordinal first",
			in:   input(newSet(3, ord), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r1", ready)),
			want: "-web-2", replicas: 3, current: "r1"},
		{name: "rolling update recreates at the update revision",
			in:   input(newSet(3, ord), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready)),
			want: "+web-2@r2", replicas: 3, current: "r1"},
		{name: "rolling update waits for the new pod to be ready",
			in:   input(newSet(3, ord), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r2", notReady)),
			want: "", replicas: 3, current: "r1"},
		{name: "rolling update goes on down",
			in:   input(newSet(3, ord), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r2", ready)),
			want: "-web-1", replicas: 3, current: "r1"},
		{name: "rolling update of parallel sets is one by one",
			in:   input(newSet(3, par), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r1", ready)),
			want: "-web-2", replicas: 3, current: "r1"},
		{name: "partition keeps lower ordinals",
			in:   input(withPartition(newSet(3, ord), 2), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready), mkPod(2, "r2", ready)),
			want: "", replicas: 3, current: "r1"},
		{name: "below the partition pods are created at the current revision",
			in:   input(withPartition(newSet(3, ord), 2), "r1", "r2", mkPod(0, "r1", ready)),
			want: "+web-1@r1", replicas: 2, current: "r1"},
		{name: "OnDelete never deletes for an update",
			in:   input(onDelete(newSet(2, ord)), "r1", "r2", mkPod(0, "r1", ready), mkPod(1, "r1", ready)),
			want: "", replicas: 2, current: "r1"},
		{name: "update complete makes it current",
			in:   input(newSet(2, ord), "r1", "r2", mkPod(0, "r2", ready), mkPod(1, "r2", ready)),
			want: "", replicas: 2, current: "r2"},
		{name: "pods of other names are ignored",
			in: input(newSet(1, ord), "r1", "r1", mkPod(0, "r1", ready),
				&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "webby-0", Namespace: "ns"}}),
			want: "", replicas: 1, current: "r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Reconcile(tc.in)
			if got := summary(p); got != tc.want {
				t.Errorf("plan = %q, want %q", got, tc.want)
			}
			if p.Status.Replicas != tc.replicas {
				t.Errorf("status.replicas = %d, want %d", p.Status.Replicas, tc.replicas)
			}
			if tc.current != "" && p.Status.CurrentRevision != tc.current {
				t.Errorf("status.currentRevision = %q, want %q", p.Status.CurrentRevision, tc.current)
			}
			if p.Status.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d, want 3", p.Status.ObservedGeneration)
			}
		})
	}
}

func TestReconcileStatusCounts(t *testing.T) {
	set := newSet(3, appsv1.OrderedReadyPodManagement)
	set.Spec.MinReadySeconds = 120
	young := mkPod(2, "r2", ready)
	young.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-30 * time.Second))
	old := mkPod(0, "r1", ready)
	old.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-time.Hour))
	p := Reconcile(input(set, "r1", "r2", old, mkPod(1, "r1", notReady), young))
	st := p.Status
	got := fmt.Sprintf("replicas=%d ready=%d available=%d current=%d updated=%d cur=%s upd=%s",
		st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.CurrentReplicas, st.UpdatedReplicas, st.CurrentRevision, st.UpdateRevision)
	want := "replicas=3 ready=2 available=1 current=2 updated=1 cur=r1 upd=r2"
	if got != want {
		t.Errorf("status %s, want %s", got, want)
	}
	if want := 91 * time.Second; p.RequeueAfter != want {
		t.Errorf("RequeueAfter = %v, want %v", p.RequeueAfter, want)
	}
	if summary(p) != "" {
		t.Errorf("plan = %q, want nothing while web-1 is not ready", summary(p))
	}
}

func TestNewPodIdentity(t *testing.T) {
	set := newSet(3, appsv1.ParallelPodManagement)
	set.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "www"}}}
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "www"}, {Name: "cfg"}}
	p := Reconcile(input(set, "r1", "r1"))
	if got, want := summary(p), "+pvc/www-web-5 +pvc/www-web-6 +pvc/www-web-7 +web-5@r1 +web-6@r1 +web-7@r1"; got != want {
		t.Fatalf("plan = %q, want %q", got, want)
	}
	pod := p.Create[1]
	checks := map[string][2]string{
		"hostname":  {pod.Spec.Hostname, "web-6"},
		"subdomain": {pod.Spec.Subdomain, "nginx"},
		"pod-name":  {pod.Labels[PodNameLabel], "web-6"},
		"pod-index": {pod.Labels[PodIndexLabel], "6"},
		"owner":     {string(pod.OwnerReferences[0].UID), "set-uid"},
		"volumes":   {fmt.Sprintf("%d %s %s", len(pod.Spec.Volumes), pod.Spec.Volumes[0].Name, pod.Spec.Volumes[1].PersistentVolumeClaim.ClaimName), "2 cfg www-web-6"},
		"claim sel": {p.CreateClaims[0].Labels["app"], "web"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
	if len(p.CreateClaims[0].OwnerReferences) != 0 {
		t.Errorf("claim owners %v, want none under the Retain policy", p.CreateClaims[0].OwnerReferences)
	}
}

func TestRetentionPolicy(t *testing.T) {
	claim := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	}
	owners := func(c *corev1.PersistentVolumeClaim) string {
		var out []string
		for _, r := range c.OwnerReferences {
			out = append(out, r.Kind+"/"+r.Name)
		}
		return strings.Join(out, ",")
	}
	del, keep := appsv1.DeletePersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	for _, tc := range []struct {
		whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType
		want                    string // owners of data-web-0 (kept) and data-web-1 (scaled down), "-" for no update
	}{
		{keep, keep, "- -"},
		{del, keep, "StatefulSet/web StatefulSet/web"},
		{keep, del, "- Pod/web-1"},
		{del, del, "StatefulSet/web Pod/web-1"},
	} {
		set := newSet(1, appsv1.OrderedReadyPodManagement)
		set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
		set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: tc.whenDeleted, WhenScaled: tc.whenScaled}
		in := input(set, "r1", "r1", mkPod(0, "r1", ready), mkPod(1, "r1", ready))
		in.Claims = map[string]*corev1.PersistentVolumeClaim{"data-web-0": claim("data-web-0"), "data-web-1": claim("data-web-1")}
		p := Reconcile(in)
		got := map[string]string{"data-web-0": "-", "data-web-1": "-"}
		for _, c := range p.UpdateClaims {
			got[c.Name] = owners(c)
		}
		if g := got["data-web-0"] + " " + got["data-web-1"]; g != tc.want {
			t.Errorf("whenDeleted=%s whenScaled=%s: owners %q, want %q", tc.whenDeleted, tc.whenScaled, g, tc.want)
		}
		if summary(p) != "-web-1" {
			t.Errorf("plan %q, want -web-1", summary(p))
		}
	}
}

func TestParentAndOrdinal(t *testing.T) {
	for name, want := range map[string]string{"web-0": "web 0", "my-db-12": "my-db 12", "web": " -1", "web-x": " -1"} {
		p, o := ParentAndOrdinal(name)
		if got := fmt.Sprint(p, " ", o); got != want {
			t.Errorf("ParentAndOrdinal(%q) = %q, want %q", name, got, want)
		}
	}
}
