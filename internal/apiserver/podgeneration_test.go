package apiserver

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Pods carry metadata.generation as kube-apiserver 1.35's: 1 on create whatever the client sent, one more for each
// spec change and for being marked for graceful deletion, none for metadata-only changes.
func TestPodGeneration(t *testing.T) {
	ts := newTestServer(t)
	gen := func(r result) int64 {
		t.Helper()
		if r.code >= 300 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		var p corev1.Pod
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p.Generation
	}
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","generation":100},"spec":{"containers":[{"name":"c","image":"i:1"}]}}`
	if g := gen(ts.create("/api/v1/namespaces/default/pods", pod)); g != 1 {
		t.Fatalf("generation on create = %d, want 1", g)
	}
	patch := func(body string) result {
		return ts.do("PATCH", "/api/v1/namespaces/default/pods/p", "application/merge-patch+json", "", []byte(body))
	}
	if g := gen(patch(`{"metadata":{"annotations":{"k":"v"}}}`)); g != 1 {
		t.Fatalf("generation after an annotation = %d, want 1", g)
	}
	if g := gen(patch(`{"spec":{"containers":[{"name":"c","image":"i:2"}]}}`)); g != 2 {
		t.Fatalf("generation after an image change = %d, want 2", g)
	}
	if g := gen(patch(`{"metadata":{"generation":7}}`)); g != 2 {
		t.Fatalf("generation after a client set it = %d, want 2", g)
	}
	if r := ts.create("/api/v1/namespaces/default/pods/p/binding", `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}`); r.code != 201 {
		t.Fatalf("bind: %d %s", r.code, r.body)
	}
	if g := gen(ts.do("DELETE", "/api/v1/namespaces/default/pods/p?gracePeriodSeconds=60", "", "", nil)); g != 3 {
		t.Fatalf("generation after a graceful delete = %d, want 3", g)
	}
}

// Replacing a pod's tolerations keeps the default not-ready/unreachable ones (DefaultTolerationSeconds admits
// updates too), so the update is valid and bumps the generation, as the upstream pod-generation spec does.
func TestPodTolerationsReplaced(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.create("/api/v1/namespaces/default/pods", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}`); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r := ts.do("PATCH", "/api/v1/namespaces/default/pods/p", "application/merge-patch+json", "", []byte(`{"spec":{"tolerations":[{"key":"foo","operator":"Equal","value":"bar","effect":"NoSchedule"}]}}`))
	if r.code != 200 {
		t.Fatalf("replace tolerations: %d %s", r.code, r.body)
	}
	var p corev1.Pod
	_ = json.Unmarshal(r.body, &p)
	if len(p.Spec.Tolerations) != 3 || p.Generation != 2 {
		t.Fatalf("tolerations %+v generation %d", p.Spec.Tolerations, p.Generation)
	}
}
