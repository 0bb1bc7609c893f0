package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Delays say how long a simulated pod stays in each stage, measured from the
// startTime the simulator gave it. Zero delays move a pod to Ready in one write.
type Delays struct {
	// Start is how long a pod stays Pending (containers creating) before Running.
	Start time.Duration
	// Ready is how long a Running pod waits before its containers report ready.
	Ready time.Duration
}

// PodEnv is what NextPod needs besides the pod: where it runs and the time.
type PodEnv struct {
	// HostIP is the node's InternalIP.
	HostIP string
	// PodIP is the address reserved for this pod in the node's pod CIDR; an IP
	// already in the pod's status wins.
	PodIP  string
	Now    time.Time
	Delays Delays
}

// Step is what the simulator should do with a pod next.
type Step struct {
	// Delete asks for the pod to be deleted with grace period 0.
	Delete bool
	// Status, if not nil, is the new status to write through pods/status.
	Status *corev1.PodStatus
	// RequeueAfter, if positive, is when the pod must be looked at again
	// (the next stage falls due then).
	RequeueAfter time.Duration
}

// Stage is how far the simulator has taken a pod.
type Stage int

const (
	// StageNew: the simulator has not written the pod's status yet (no startTime).
	StageNew Stage = iota
	// StagePending: accepted by the node, containers being created.
	StagePending
	// StageRunning: containers running, not ready yet.
	StageRunning
	// StageReady: containers running and ready.
	StageReady
	// StageDone: the pod ended (Succeeded or Failed); the simulator leaves it alone.
	StageDone
)

func (s Stage) String() string {
	switch s {
	case StageNew:
		return "New"
	case StagePending:
		return "Pending"
	case StageRunning:
		return "Running"
	case StageReady:
		return "Ready"
	case StageDone:
		return "Done"
	}
	return "Unknown"
}

// StageOf reads how far a pod has got from its status.
func StageOf(st *corev1.PodStatus) Stage {
	switch {
	case st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed:
		return StageDone
	case st.StartTime == nil:
		return StageNew
	case st.Phase == corev1.PodRunning && conditionTrue(st.Conditions, corev1.PodReady):
		return StageReady
	case st.Phase == corev1.PodRunning:
		return StageRunning
	}
	return StagePending
}

// NextPod decides the next step for a pod bound to a simulated node. It is a
// pure function of the pod, the node's addresses and the clock: the stage a pod
// should be in at env.Now is derived from its startTime and the delays, and a
// status is written only when that stage is ahead of the stored one, so calling
// it again for the same state is a no-op (level-triggered).
func NextPod(pod *corev1.Pod, env PodEnv) Step {
	if pod.DeletionTimestamp != nil {
		return Step{Delete: true}
	}
	cur := StageOf(&pod.Status)
	if cur == StageDone || cur == StageReady {
		return Step{}
	}
	start := env.Now
	if pod.Status.StartTime != nil {
		start = pod.Status.StartTime.Time
	}
	runningAt := start.Add(env.Delays.Start)
	readyAt := runningAt.Add(env.Delays.Ready)
	want, next := StageReady, time.Time{}
	switch {
	case env.Now.Before(runningAt):
		want, next = StagePending, runningAt
	case env.Now.Before(readyAt):
		want, next = StageRunning, readyAt
	}
	var requeue time.Duration
	if !next.IsZero() {
		requeue = next.Sub(env.Now)
	}
	if want <= cur {
		return Step{RequeueAfter: requeue}
	}
	return Step{Status: podStatus(pod, want, start, runningAt, env), RequeueAfter: requeue}
}

// podStatus builds the status of pod in stage want (StagePending, StageRunning or StageReady).
func podStatus(pod *corev1.Pod, want Stage, start, runningAt time.Time, env PodEnv) *corev1.PodStatus {
	st := pod.Status.DeepCopy()
	now := metav1.NewTime(env.Now)
	startTime := metav1.NewTime(start)
	st.StartTime = &startTime
	st.HostIP = env.HostIP
	st.HostIPs = []corev1.HostIP{{IP: env.HostIP}}
	if st.PodIP == "" {
		st.PodIP = env.PodIP
	}
	if st.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	running := want >= StageRunning
	ready := want >= StageReady
	if running {
		st.Phase = corev1.PodRunning
	} else {
		st.Phase = corev1.PodPending
	}
	if st.QOSClass == "" {
		st.QOSClass = corev1.PodQOSBestEffort
	}
	readyReason := ""
	if !ready {
		readyReason = "ContainersNotReady"
	}
	conds := []struct {
		t      corev1.PodConditionType
		ok     bool
		reason string
	}{
		{corev1.PodReadyToStartContainers, true, ""},
		{corev1.PodInitialized, true, ""},
		{corev1.ContainersReady, ready, readyReason},
		{corev1.PodReady, ready, readyReason},
		{corev1.PodScheduled, true, ""},
	}
	for _, c := range conds {
		setCondition(st, c.t, c.ok, c.reason, now)
	}

	st.InitContainerStatuses = st.InitContainerStatuses[:0]
	for _, c := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: containerID(pod, c.Name),
			Ready: true, Started: boolPtr(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: startTime, FinishedAt: startTime, ContainerID: containerID(pod, c.Name)}},
		})
	}
	if len(st.InitContainerStatuses) == 0 {
		st.InitContainerStatuses = nil
	}
	st.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: ready, Started: boolPtr(running)}
		if running {
			cs.ImageID = imageID(c.Image)
			cs.ContainerID = containerID(pod, c.Name)
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(runningAt)}
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	return st
}

// setCondition sets condition t, keeping its lastTransitionTime when the status does not change.
func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, ok bool, reason string, now metav1.Time) {
	s := corev1.ConditionFalse
	if ok {
		s = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != s {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = s, reason, ""
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now})
}

func conditionTrue(conds []corev1.PodCondition, t corev1.PodConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func imageID(image string) string { return "skiff-sim://" + image }

func containerID(pod *corev1.Pod, name string) string {
	return "skiff-sim://" + string(pod.UID) + "/" + name
}

func boolPtr(b bool) *bool { return &b }
