package bench

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestScheduleConstraintsValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg     ScheduleConfig
		wantErr string
	}{
		{ScheduleConfig{Constraints: "spread", Workload: "deployment"}, ""},
		{ScheduleConfig{Constraints: "anti-affinity", Nodes: 10, Pods: 200}, ""},
		{ScheduleConfig{Constraints: "anti-affinity", Nodes: 10, Pods: 201}, "do not fit"},
		{ScheduleConfig{Constraints: "anti-affinity", Workload: "deployment"}, "needs --workload pods"},
		{ScheduleConfig{Constraints: "packed"}, `constraints "packed"`},
	} {
		err := tc.cfg.validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: err %v, want %q", tc.cfg, err, tc.wantErr)
		}
	}
}

func TestAntiAffinityPod(t *testing.T) {
	pod := &corev1.Pod{}
	pod.Labels = map[string]string{"app": "x"}
	antiAffinityPod(AntiAffinityGroups+3, pod)
	if pod.Labels["skiff.dev/bench-group"] != "g03" || pod.Labels["app"] != "x" {
		t.Fatalf("labels %v", pod.Labels)
	}
	terms := pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	if len(terms) != 1 || terms[0].TopologyKey != corev1.LabelHostname || terms[0].LabelSelector.MatchLabels["skiff.dev/bench-group"] != "g03" {
		t.Fatalf("anti-affinity %+v", terms)
	}
}
