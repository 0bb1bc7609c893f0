package apiserver

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSetTemplateGeneration(t *testing.T) {
	ds := func(image string, ann map[string]string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "d", Annotations: ann},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}}}}
	}
	gen := func(d *appsv1.DaemonSet) string { return d.Annotations[appsv1.DeprecatedTemplateGeneration] }

	created := ds("a", nil)
	setTemplateGeneration(created, nil)
	if gen(created) != "1" {
		t.Fatalf("on create: %q, want 1", gen(created))
	}
	same := ds("a", map[string]string{"other": "x"})
	setTemplateGeneration(same, created)
	if gen(same) != "1" {
		t.Fatalf("update without a template change: %q, want 1 kept", gen(same))
	}
	changed := ds("b", nil)
	setTemplateGeneration(changed, same)
	if gen(changed) != "2" {
		t.Fatalf("update of the template: %q, want 2", gen(changed))
	}
	// A client cannot set it: the stored value wins.
	forged := ds("b", map[string]string{appsv1.DeprecatedTemplateGeneration: "99"})
	setTemplateGeneration(forged, changed)
	if gen(forged) != "2" {
		t.Fatalf("client-set generation: %q, want the stored 2", gen(forged))
	}
}
