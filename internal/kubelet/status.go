package kubelet

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statusInput is what buildStatus derives the pod status from (pure: no I/O, no clock).
type statusInput struct {
	Pod      *corev1.Pod
	Observed observedPod
	Now      time.Time
	HostIP   string
	// Waiting reasons by container name (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, CreateContainerConfigError...).
	Waiting map[string]waiting
	// Ready and Started by container ID (probe results); a container without probes is ready once running.
	Ready   map[string]bool
	Started map[string]bool
	// Failed marks a pod that can never run again; Message explains it.
	Failed bool
	// Terminating is set while the pod is being deleted.
	Terminating bool
}

const containerIDPrefix = "containerd://"

func metaTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func terminatedOf(c *observedContainer) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = "Error"
		if c.ExitCode == 0 {
			reason = "Completed"
		}
	}
	t := &corev1.ContainerStateTerminated{
		ExitCode: c.ExitCode, Reason: reason, Message: c.Message, ContainerID: containerIDPrefix + c.ID,
	}
	if s := metaTime(c.StartedAt); s != nil {
		t.StartedAt = *s
	}
	if f := metaTime(c.FinishedAt); f != nil {
		t.FinishedAt = *f
	}
	return t
}

// containerStatus builds the status of one spec container.
func containerStatus(in *statusInput, spec corev1.Container, init bool, sandboxID string, pendingReason string) corev1.ContainerStatus {
	hist := in.Observed.history(spec.Name)
	st := corev1.ContainerStatus{Name: spec.Name, Image: spec.Image}
	if len(hist) == 0 {
		reason := pendingReason
		w, ok := in.Waiting[spec.Name]
		if ok {
			reason = w.Reason
		}
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: w.Message}
		return st
	}
	cur := hist[0]
	st.RestartCount = int32(cur.Attempt)
	st.ContainerID = containerIDPrefix + cur.ID
	st.ImageID = cur.ImageRef
	if cur.Image != "" && !strings.HasPrefix(cur.Image, "sha256:") {
		st.Image = cur.Image
	}
	w, hasWaiting := in.Waiting[spec.Name]
	switch cur.State {
	case stateRunning:
		st.State.Running = &corev1.ContainerStateRunning{}
		if s := metaTime(cur.StartedAt); s != nil {
			st.State.Running.StartedAt = *s
		}
		started := in.Started[cur.ID]
		st.Started = &started
		st.Ready = in.Ready[cur.ID] && started && !in.Terminating
		if len(hist) > 1 && hist[1].State == stateExited {
			st.LastTerminationState.Terminated = terminatedOf(hist[1])
		}
	case stateCreated:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		f := false
		st.Started = &f
	default:
		f := false
		st.Started = &f
		if hasWaiting {
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
			st.LastTerminationState.Terminated = terminatedOf(cur)
		} else if restartsNow(in.Pod, cur, init) && !in.Terminating && !in.Failed && cur.SandboxID == sandboxID {
			// Restarting right away: kubelet shows the previous run as lastState while the new one is created.
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			st.LastTerminationState.Terminated = terminatedOf(cur)
		} else {
			st.State.Terminated = terminatedOf(cur)
			if len(hist) > 1 && hist[1].State == stateExited {
				st.LastTerminationState.Terminated = terminatedOf(hist[1])
			}
		}
		if init && cur.State == stateExited && cur.ExitCode == 0 {
			st.Ready = true
		}
	}
	return st
}

func restartsNow(pod *corev1.Pod, c *observedContainer, init bool) bool {
	if init && c.ExitCode == 0 {
		return false
	}
	return shouldRestart(pod.Spec.RestartPolicy, c)
}

// buildStatus computes the pod status as Kubernetes shows it.
func buildStatus(in statusInput) corev1.PodStatus {
	pod := in.Pod
	old := pod.Status
	st := corev1.PodStatus{
		HostIP:            in.HostIP,
		StartTime:         old.StartTime,
		QOSClass:          qosClass(pod),
		NominatedNodeName: old.NominatedNodeName,
		// The generation this status was computed from (PodObservedGenerationTracking).
		ObservedGeneration: pod.Generation,
	}
	if in.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: in.HostIP}}
	}
	if st.StartTime == nil {
		st.StartTime = metaTime(in.Now)
	}
	sb := in.Observed.sandbox()
	sandboxID := ""
	if sb != nil {
		sandboxID = sb.ID
		if sb.Ready || in.Terminating {
			st.PodIP = sb.IP
			for _, ip := range sb.IPs {
				st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
			}
		}
	}
	if pod.Spec.HostNetwork {
		st.PodIP, st.PodIPs = in.HostIP, []corev1.PodIP{{IP: in.HostIP}}
	}

	// Init containers.
	initDone := true
	var pendingInit []string
	regularStarted := false
	for _, c := range pod.Spec.Containers {
		if len(in.Observed.history(c.Name)) > 0 {
			regularStarted = true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		cs := containerStatus(&in, c, true, sandboxID, "PodInitializing")
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		done := cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		if isSidecar(c) {
			done = cs.State.Running != nil && cs.Started != nil && *cs.Started
		}
		if !done && !regularStarted {
			initDone = false
			pendingInit = append(pendingInit, c.Name)
		}
	}
	if len(st.InitContainerStatuses) > 0 && !initDone {
		for i := range st.InitContainerStatuses {
			if w := st.InitContainerStatuses[i].State.Waiting; w != nil && w.Reason == "PodInitializing" {
				w.Reason = "PodInitializing"
			}
		}
	}
	pending := "ContainerCreating"
	if !initDone {
		pending = "PodInitializing"
	}
	var notReady []string
	for _, c := range pod.Spec.Containers {
		cs := containerStatus(&in, c, false, sandboxID, pending)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			notReady = append(notReady, c.Name)
		}
	}
	st.EphemeralContainerStatuses = ephemeralStatuses(&in, sandboxID)
	st.Phase = podPhase(pod, &in, st.InitContainerStatuses, st.ContainerStatuses, initDone)
	if in.Failed {
		st.Phase = corev1.PodFailed
	}

	// Conditions, keeping transition times of unchanged ones.
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
			reason, msg = "", ""
		}
		c := corev1.PodCondition{Type: t, ObservedGeneration: pod.Generation, Status: s, Reason: reason, Message: msg, LastTransitionTime: *metaTime(in.Now)}
		for _, o := range old.Conditions {
			if o.Type == t && o.Status == s {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	cond(corev1.PodReadyToStartContainers, sb != nil && sb.Ready, "", "")
	if initDone {
		cond(corev1.PodInitialized, true, "", "")
	} else {
		cond(corev1.PodInitialized, false, "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pendingInit, " ")))
	}
	switch {
	case terminal:
		cond(corev1.ContainersReady, false, "PodCompleted", "")
		cond(corev1.PodReady, false, "PodCompleted", "")
	case len(notReady) > 0:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
		cond(corev1.ContainersReady, false, "ContainersNotReady", msg)
		cond(corev1.PodReady, false, "ContainersNotReady", msg)
	default:
		cond(corev1.ContainersReady, true, "", "")
		gatesOK, missing := readinessGates(pod)
		if gatesOK {
			cond(corev1.PodReady, true, "", "")
		} else {
			cond(corev1.PodReady, false, "ReadinessGatesNotReady", fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", missing))
		}
	}
	scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: *metaTime(in.Now)}
	for _, o := range old.Conditions {
		if o.Type == corev1.PodScheduled {
			scheduled = o
		}
	}
	st.Conditions = append(st.Conditions, scheduled)
	// Conditions written by others (readiness gates, DisruptionTarget) are kept.
	for _, o := range old.Conditions {
		switch o.Type {
		case corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled:
		default:
			st.Conditions = append(st.Conditions, o)
		}
	}
	return st
}

func readinessGates(pod *corev1.Pod) (bool, string) {
	for _, g := range pod.Spec.ReadinessGates {
		found := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType {
				found = true
				if c.Status != corev1.ConditionTrue {
					return false, string(g.ConditionType)
				}
			}
		}
		if !found {
			return false, string(g.ConditionType)
		}
	}
	return true, ""
}

// podPhase follows the kubelet's getPhase.
func podPhase(pod *corev1.Pod, in *statusInput, inits, statuses []corev1.ContainerStatus, initDone bool) corev1.PodPhase {
	if !initDone {
		// A failed init container under restartPolicy Never fails the pod.
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			for _, s := range inits {
				if s.State.Terminated != nil && s.State.Terminated.ExitCode != 0 {
					return corev1.PodFailed
				}
			}
		}
		return corev1.PodPending
	}
	var running, waitingN, stopped, succeeded, unknown int
	for _, s := range statuses {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil:
			stopped++
			if s.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waitingN++
			}
		default:
			unknown++
		}
	}
	switch {
	case waitingN > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if in.Terminating {
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
		switch pod.Spec.RestartPolicy {
		case corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodRunning
		default:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
	}
	return corev1.PodPending
}

// qosClass follows Kubernetes' GetPodQOS for cpu and memory.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	all := append(append([]corev1.Container(nil), pod.Spec.Containers...), pod.Spec.InitContainers...)
	for _, c := range all {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := c.Resources.Requests[name]; ok && !q.IsZero() {
				add(requests, name, q)
			}
			if q, ok := c.Resources.Limits[name]; ok && !q.IsZero() {
				add(limits, name, q)
			}
		}
		lc, lm := c.Resources.Limits[corev1.ResourceCPU], c.Resources.Limits[corev1.ResourceMemory]
		if lc.IsZero() || lm.IsZero() {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, r := range requests {
			if l, ok := limits[name]; !ok || l.Cmp(r) != 0 {
				guaranteed = false
			}
		}
	}
	if guaranteed && len(limits) == 2 {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func add(l corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	if cur, ok := l[name]; ok {
		cur.Add(q)
		l[name] = cur
	} else {
		l[name] = q.DeepCopy()
	}
}

// sortedKeys is a helper for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
