package kubelet

import (
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Ephemeral containers (kubectl debug) as the kubelet runs them: each is started once in the pod's current sandbox
// when it appears in the spec and is never restarted; one with a targetContainerName joins that container's PID
// namespace. They have no probes, ports or resources (the API server forbids them).

// ephemeralStarts lists the ephemeral containers to start now: those never started, whose target (if any) runs in
// sb. One whose target is not running yet waits for it (its start wakes the worker).
func ephemeralStarts(pod *corev1.Pod, obs *observedPod, sb *observedSandbox) []containerStart {
	var out []containerStart
	for _, ec := range pod.Spec.EphemeralContainers {
		if obs.latest(ec.Name) != nil {
			continue
		}
		s := containerStart{Name: ec.Name, Ephemeral: true}
		if t := ec.TargetContainerName; t != "" {
			l := obs.latest(t)
			if l == nil || l.SandboxID != sb.ID || l.State != stateRunning {
				continue
			}
			s.TargetID = l.ID
		}
		out = append(out, s)
	}
	return out
}

// joinTarget puts a targeted ephemeral container into its target's PID namespace, as kuberuntime does when the pod
// does not already share one.
func joinTarget(cfg *runtimeapi.ContainerConfig, s containerStart) {
	if s.TargetID == "" || cfg.Linux == nil || cfg.Linux.SecurityContext == nil || cfg.Linux.SecurityContext.NamespaceOptions == nil {
		return
	}
	if ns := cfg.Linux.SecurityContext.NamespaceOptions; ns.Pid == runtimeapi.NamespaceMode_CONTAINER {
		ns.Pid, ns.TargetId = runtimeapi.NamespaceMode_TARGET, s.TargetID
	}
}

// ephemeralStatuses builds status.ephemeralContainerStatuses: as for containers under restartPolicy Never (they are
// never restarted), never ready, and without started (the probe manager does not track them).
func ephemeralStatuses(in *statusInput, sandboxID string) []corev1.ContainerStatus {
	if len(in.Pod.Spec.EphemeralContainers) == 0 {
		return nil
	}
	never := *in.Pod
	never.Spec.RestartPolicy = corev1.RestartPolicyNever
	nin := *in
	nin.Pod = &never
	out := make([]corev1.ContainerStatus, 0, len(in.Pod.Spec.EphemeralContainers))
	for _, ec := range in.Pod.Spec.EphemeralContainers {
		cs := containerStatus(&nin, corev1.Container(ec.EphemeralContainerCommon), false, sandboxID, "ContainerCreating")
		cs.Ready, cs.Started = false, nil
		out = append(out, cs)
	}
	return out
}
