package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
)

func TestApplyRuntimeClass(t *testing.T) {
	fixed := corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("100m")}
	other := corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("200m")}
	tol := corev1.Toleration{Key: "sandboxed", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	rc := &nodev1.RuntimeClass{
		Handler:    "runc",
		Overhead:   &nodev1.Overhead{PodFixed: fixed},
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"sandbox": "yes"}, Tolerations: []corev1.Toleration{tol}},
	}
	for _, tc := range []struct {
		name    string
		pod     corev1.PodSpec
		rc      *nodev1.RuntimeClass
		wantErr string
		check   func(t *testing.T, s corev1.PodSpec)
	}{
		{name: "no class", pod: corev1.PodSpec{}},
		{name: "overhead without class", pod: corev1.PodSpec{Overhead: fixed}, wantErr: "pod rejected: Pod Overhead set without corresponding RuntimeClass"},
		{name: "overhead the class does not define", pod: corev1.PodSpec{Overhead: fixed}, rc: &nodev1.RuntimeClass{Handler: "runc"},
			wantErr: "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"},
		{name: "overhead that differs", pod: corev1.PodSpec{Overhead: other}, rc: rc, wantErr: "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"},
		{name: "nodeSelector conflict", pod: corev1.PodSpec{NodeSelector: map[string]string{"sandbox": "no"}}, rc: rc,
			wantErr: "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no"},
		{name: "applied", pod: corev1.PodSpec{NodeSelector: map[string]string{"zone": "a"}, Tolerations: []corev1.Toleration{tol}}, rc: rc,
			check: func(t *testing.T, s corev1.PodSpec) {
				if s.Overhead.Cpu().MilliValue() != 100 || s.NodeSelector["sandbox"] != "yes" || s.NodeSelector["zone"] != "a" || len(s.Tolerations) != 1 {
					t.Fatalf("spec after admission: overhead %v nodeSelector %v tolerations %v", s.Overhead, s.NodeSelector, s.Tolerations)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: tc.pod}
			err := applyRuntimeClass(pod, tc.rc)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, pod.Spec)
			}
		})
	}
}

func TestPodWithMissingRuntimeClassIsForbidden(t *testing.T) {
	ts := newTestServer(t)
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"runtimeClassName":"gone","containers":[{"name":"c","image":"i"}]}}`
	r := ts.create("/api/v1/namespaces/default/pods?dryRun=All", pod)
	var st struct {
		Reason, Message string
	}
	_ = json.Unmarshal(r.body, &st)
	if r.code != 403 || st.Reason != "Forbidden" || st.Message != `pods "p" is forbidden: pod rejected: RuntimeClass "gone" not found` {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	rc := `{"apiVersion":"node.k8s.io/v1","kind":"RuntimeClass","metadata":{"name":"gone"},"handler":"runc","overhead":{"podFixed":{"memory":"10Mi"}}}`
	if r := ts.create("/apis/node.k8s.io/v1/runtimeclasses", rc); r.code != 201 {
		t.Fatalf("create runtimeclass: %d %s", r.code, r.body)
	}
	r = ts.create("/api/v1/namespaces/default/pods", pod)
	if r.code != 201 || !strings.Contains(string(r.body), `"overhead":{"memory":"10Mi"}`) {
		t.Fatalf("create with the class: %d %s", r.code, r.body)
	}
	var p corev1.Pod
	_ = json.Unmarshal(r.body, &p)
	if p.Generation != 1 {
		t.Fatalf("a new pod's generation = %d, want 1", p.Generation)
	}
}
