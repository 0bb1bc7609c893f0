package statefulset

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestResolveRevisions(t *testing.T) {
	v1 := newSet(2, appsv1.OrderedReadyPodManagement)
	r1, err := NewRevision(v1, 1, ptr.To(int32(0)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r1.Name, "web-") || r1.Labels[appsv1.ControllerRevisionHashLabelKey] != strings.TrimPrefix(r1.Name, "web-") {
		t.Errorf("revision %s labels %v: want web-<hash> with the hash label", r1.Name, r1.Labels)
	}
	if !strings.Contains(string(r1.Data.Raw), `"$patch":"replace"`) {
		t.Errorf("revision data %s lacks the replace directive", r1.Data.Raw)
	}
	v2 := v1.DeepCopy()
	v2.Spec.Template.Spec.Containers[0].Image = "v2"
	v2.Status.CurrentRevision = r1.Name
	r2, _ := NewRevision(v2, 2, ptr.To(int32(0)))
	if r2.Name == r1.Name {
		t.Fatalf("different templates hash alike: %s", r1.Name)
	}
	if other, _ := NewRevision(v1, 1, ptr.To(int32(1))); other.Name == r1.Name {
		t.Errorf("collisionCount does not change the hash")
	}

	for _, tc := range []struct {
		name string
		set  *appsv1.StatefulSet
		revs []*appsv1.ControllerRevision
		want string // "update@revision current [create|renumber]"
	}{
		{name: "first revision", set: v1, want: r1.Name + "@1 " + r1.Name + " create"},
		{name: "unchanged template reuses the last", set: v1, revs: []*appsv1.ControllerRevision{r1}, want: r1.Name + "@1 " + r1.Name},
		{name: "new template makes revision 2", set: v2, revs: []*appsv1.ControllerRevision{r1}, want: r2.Name + "@2 " + r1.Name + " create"},
		{name: "rollback renumbers the old revision", set: func() *appsv1.StatefulSet {
			s := v1.DeepCopy()
			s.Status.CurrentRevision = r2.Name
			return s
		}(), revs: []*appsv1.ControllerRevision{r1, r2}, want: r1.Name + "@3 " + r2.Name + " renumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ResolveRevisions(tc.set, tc.revs)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Update.Name + "@" + string(rune('0'+p.Update.Revision)) + " " + p.Current.Name
			if p.Create {
				got += " create"
			}
			if p.Renumber {
				got += " renumber"
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	back, err := ApplyRevision(v2, r1)
	if err != nil {
		t.Fatal(err)
	}
	if img := back.Spec.Template.Spec.Containers[0].Image; img != "v1" {
		t.Errorf("ApplyRevision image %q, want v1", img)
	}
}

func TestHistoryToDelete(t *testing.T) {
	set := newSet(1, appsv1.OrderedReadyPodManagement)
	set.Spec.RevisionHistoryLimit = ptr.To(int32(1))
	var revs []*appsv1.ControllerRevision
	for i := range 4 {
		s := set.DeepCopy()
		s.Spec.Template.Spec.Containers[0].Image = string(rune('a' + i))
		r, _ := NewRevision(s, int64(i+1), nil)
		revs = append(revs, r)
	}
	// revs[3] is current and update, revs[0] runs a pod: of revs[1], revs[2] one is kept (the newer).
	got := HistoryToDelete(set, revs, []*corev1.Pod{mkPod(0, revs[0].Name, ready)}, revs[3].Name, revs[3].Name)
	if len(got) != 1 || got[0].Name != revs[1].Name {
		t.Errorf("HistoryToDelete = %v, want [%s]", got, revs[1].Name)
	}
}
