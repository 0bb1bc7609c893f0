package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// withEphemeral adds an ephemeral container name (targeting target, if set) to pod.
func withEphemeral(pod *corev1.Pod, name, target string) *corev1.Pod {
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: "busybox"},
		TargetContainerName:      target,
	})
	return pod
}

func TestEphemeralStartTarget(t *testing.T) {
	pod := withEphemeral(withEphemeral(testPod(corev1.RestartPolicyAlways, "a", "b"), "dbg", "b"), "plain", "")
	obs := observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0), running("c2", "b", 0)}}
	p := plan(syncInput{Pod: pod, Observed: obs, Now: t0})
	got := map[string]containerStart{}
	for _, s := range p.Start {
		got[s.Name] = s
	}
	if s := got["dbg"]; !s.Ephemeral || s.TargetID != "c2" || s.Init {
		t.Errorf("dbg start = %+v, want ephemeral with target c2", s)
	}
	if s := got["plain"]; !s.Ephemeral || s.TargetID != "" {
		t.Errorf("plain start = %+v, want ephemeral without target", s)
	}
	if len(p.Start) != 2 {
		t.Errorf("start = %v", startNames(p))
	}
}

func TestJoinTarget(t *testing.T) {
	cfg := func(mode runtimeapi.NamespaceMode) *runtimeapi.ContainerConfig {
		return &runtimeapi.ContainerConfig{Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Pid: mode},
		}}}
	}
	c := cfg(runtimeapi.NamespaceMode_CONTAINER)
	joinTarget(c, containerStart{Name: "dbg", Ephemeral: true, TargetID: "c2"})
	if ns := c.Linux.SecurityContext.NamespaceOptions; ns.Pid != runtimeapi.NamespaceMode_TARGET || ns.TargetId != "c2" {
		t.Errorf("targeted: %v", ns)
	}
	// A pod that shares its PID namespace (or the host's) keeps it.
	c = cfg(runtimeapi.NamespaceMode_POD)
	joinTarget(c, containerStart{Name: "dbg", Ephemeral: true, TargetID: "c2"})
	if ns := c.Linux.SecurityContext.NamespaceOptions; ns.Pid != runtimeapi.NamespaceMode_POD || ns.TargetId != "" {
		t.Errorf("shared pid: %v", ns)
	}
	c = cfg(runtimeapi.NamespaceMode_CONTAINER)
	joinTarget(c, containerStart{Name: "dbg", Ephemeral: true})
	if ns := c.Linux.SecurityContext.NamespaceOptions; ns.Pid != runtimeapi.NamespaceMode_CONTAINER {
		t.Errorf("untargeted: %v", ns)
	}
}

func TestEphemeralStatuses(t *testing.T) {
	pod := withEphemeral(withEphemeral(withEphemeral(testPod(corev1.RestartPolicyAlways, "a"), "run", "a"), "done", ""), "new", "")
	pod.Generation = 3
	run := running("e1", "run", 0)
	run.ImageRef = "sha256:abc"
	obs := observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{
		running("c1", "a", 0), run, exited("e2", "done", 0, 0, t0),
	}}
	st := buildStatus(statusInput{Pod: pod, Observed: obs, Now: t0, Ready: map[string]bool{"c1": true, "e1": true}, Started: map[string]bool{"c1": true, "e1": true}})
	if st.ObservedGeneration != 3 {
		t.Errorf("observedGeneration = %d, want 3", st.ObservedGeneration)
	}
	for _, c := range st.Conditions {
		if c.Type != corev1.PodScheduled && c.ObservedGeneration != 3 {
			t.Errorf("condition %s observedGeneration = %d, want 3", c.Type, c.ObservedGeneration)
		}
	}
	if len(st.EphemeralContainerStatuses) != 3 {
		t.Fatalf("ephemeralContainerStatuses = %+v", st.EphemeralContainerStatuses)
	}
	r, d, n := st.EphemeralContainerStatuses[0], st.EphemeralContainerStatuses[1], st.EphemeralContainerStatuses[2]
	if r.Name != "run" || r.State.Running == nil || r.ContainerID != "containerd://e1" || r.ImageID != "sha256:abc" || r.Ready || r.Started != nil {
		t.Errorf("running: %+v", r)
	}
	// Exited under restartPolicy Always: terminated for good, not "restarting".
	if d.Name != "done" || d.State.Terminated == nil || d.State.Terminated.Reason != "Completed" || d.State.Waiting != nil {
		t.Errorf("exited: %+v", d)
	}
	if n.Name != "new" || n.State.Waiting == nil || n.State.Waiting.Reason != "ContainerCreating" {
		t.Errorf("not started: %+v", n)
	}
	if st.Phase != corev1.PodRunning || len(st.ContainerStatuses) != 1 {
		t.Errorf("phase %s, %d container statuses", st.Phase, len(st.ContainerStatuses))
	}
	ref := containerEventRef(pod, "run")
	if ref.FieldPath != "spec.ephemeralContainers{run}" {
		t.Errorf("event fieldPath = %q", ref.FieldPath)
	}
	if findSpec(pod, "done") == nil {
		t.Error("findSpec does not find ephemeral containers")
	}
}
