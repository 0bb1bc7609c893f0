package kubelet

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// This file is the pure core of the pod sync: plan(desired pod, observed runtime state, now) → actions. It does no
// I/O and reads no clock; the shell (worker.go) observes the runtime, calls plan, and carries the actions out.

// Container states as observed from the runtime.
const (
	stateCreated = "created"
	stateRunning = "running"
	stateExited  = "exited"
	stateUnknown = "unknown"
)

// Back-off of restarting containers, as the kubelet's: 10 s doubling to 5 min, forgotten after 10 min without restart.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
	backoffReset   = 2 * backoffMax
)

// observedContainer is one container of the pod as the runtime reports it.
type observedContainer struct {
	ID, Name   string
	Attempt    uint32
	SandboxID  string
	State      string
	ExitCode   int32
	Reason     string // runtime's reason (OOMKilled, Error, Completed)
	Message    string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Image      string
	ImageRef   string
	LogPath    string
}

// observedSandbox is one pod sandbox.
type observedSandbox struct {
	ID        string
	Attempt   uint32
	Ready     bool
	CreatedAt time.Time
	IP        string
	IPs       []string
}

// observedPod is everything the runtime knows of a pod; Sandboxes newest first.
type observedPod struct {
	Sandboxes  []observedSandbox
	Containers []observedContainer
}

// sandbox returns the newest sandbox, or nil.
func (o *observedPod) sandbox() *observedSandbox {
	if len(o.Sandboxes) == 0 {
		return nil
	}
	return &o.Sandboxes[0]
}

// history returns the containers named name, newest first.
func (o *observedPod) history(name string) []*observedContainer {
	var out []*observedContainer
	for i := range o.Containers {
		if o.Containers[i].Name == name {
			out = append(out, &o.Containers[i])
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Attempt != out[j].Attempt {
			return out[i].Attempt > out[j].Attempt
		}
		return out[i].CreatedAt.After(out[j].CreatedAt)
	})
	return out
}

func (o *observedPod) latest(name string) *observedContainer {
	if h := o.history(name); len(h) > 0 {
		return h[0]
	}
	return nil
}

func (o *observedPod) running() []*observedContainer {
	var out []*observedContainer
	for i := range o.Containers {
		if c := &o.Containers[i]; c.State == stateRunning || c.State == stateCreated {
			out = append(out, c)
		}
	}
	return out
}

// backoffEntry is the restart back-off of one container name.
type backoffEntry struct {
	Delay      time.Duration
	LastUpdate time.Time
}

// backoffNext returns the entry after a restart at now.
func backoffNext(e *backoffEntry, now time.Time) backoffEntry {
	if e == nil || now.Sub(e.LastUpdate) > backoffReset {
		return backoffEntry{Delay: backoffInitial, LastUpdate: now}
	}
	d := 2 * e.Delay
	if d > backoffMax {
		d = backoffMax
	}
	return backoffEntry{Delay: d, LastUpdate: now}
}

// inBackoff reports whether a container that finished at finished must still wait, and how long.
func inBackoff(e *backoffEntry, finished, now time.Time) (bool, time.Duration) {
	if e == nil || now.Sub(e.LastUpdate) > backoffReset {
		return false, 0
	}
	if left := e.Delay - now.Sub(finished); left > 0 {
		return true, left
	}
	return false, 0
}

// syncInput is what plan decides from.
type syncInput struct {
	Pod      *corev1.Pod
	Observed observedPod
	Now      time.Time
	// Backoff by container name.
	Backoff map[string]*backoffEntry
	// Unhealthy holds IDs of running containers whose liveness or startup probe failed, with the message.
	Unhealthy map[string]string
}

// containerStart asks to create and start one container.
type containerStart struct {
	Name    string
	Init    bool
	Attempt uint32
	// Ephemeral marks an ephemeral container; TargetID is then the ID of the container whose PID namespace it joins.
	Ephemeral bool
	TargetID  string
}

// containerKill asks to stop one running container.
type containerKill struct {
	ID, Name string
	Message  string
}

// waiting is a container's waiting reason decided by the core (CrashLoopBackOff).
type waiting struct{ Reason, Message string }

// syncPlan is what to do, in this order: KillPod, CreateSandbox, Kill, Start.
type syncPlan struct {
	// KillPod stops every container and the sandbox (deletion, terminal pod, or a sandbox to replace).
	KillPod bool
	// Finalize removes the pod's runtime state and the API object once everything is stopped (deletion).
	Finalize bool
	// CreateSandbox creates a new sandbox with SandboxAttempt.
	CreateSandbox  bool
	SandboxAttempt uint32
	Kill           []containerKill
	Start          []containerStart
	Waiting        map[string]waiting
	// RequeueAfter asks for another sync after this long (back-off expiring); 0 means none needed.
	RequeueAfter time.Duration
	// Failed is set when the pod can never run again (restartPolicy Never and a failed init container, or its
	// activeDeadlineSeconds passed); FailReason and FailMessage are the pod status's reason and message.
	Failed                  bool
	FailReason, FailMessage string
}

// activeDeadline reports whether the pod has been active on the node (since status.startTime) for its
// activeDeadlineSeconds, or else how long until it will have.
func activeDeadline(pod *corev1.Pod, now time.Time) (exceeded bool, left time.Duration) {
	if pod.Spec.ActiveDeadlineSeconds == nil || pod.Status.StartTime == nil {
		return false, 0
	}
	left = pod.Status.StartTime.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second).Sub(now)
	return left <= 0, left
}

func shouldRestart(policy corev1.RestartPolicy, c *observedContainer) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.ExitCode != 0
	}
	return true
}

// podTerminal reports whether every container has exited and none will be restarted.
func podTerminal(pod *corev1.Pod, obs *observedPod) bool {
	if len(pod.Spec.Containers) == 0 {
		return false
	}
	for _, c := range pod.Spec.Containers {
		l := obs.latest(c.Name)
		if l == nil || l.State == stateRunning || l.State == stateCreated {
			return false
		}
		if shouldRestart(pod.Spec.RestartPolicy, l) {
			return false
		}
	}
	return true
}

// initFailedForGood reports whether an init container failed under restartPolicy Never.
func initFailedForGood(pod *corev1.Pod, obs *observedPod) bool {
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		return false
	}
	for _, c := range pod.Spec.InitContainers {
		if l := obs.latest(c.Name); l != nil && l.State == stateExited && l.ExitCode != 0 && !isSidecar(c) {
			return true
		}
	}
	return false
}

func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// plan computes the actions that bring the runtime towards the pod's spec. A pod past its activeDeadlineSeconds is
// stopped and failed (the kubelet's activeDeadlineHandler), whatever its restartPolicy.
func plan(in syncInput) syncPlan {
	if in.Pod.DeletionTimestamp == nil {
		exceeded, left := activeDeadline(in.Pod, in.Now)
		if exceeded {
			obs, sb := &in.Observed, in.Observed.sandbox()
			return syncPlan{
				Waiting: map[string]waiting{}, Failed: true, FailReason: "DeadlineExceeded",
				FailMessage: "Pod was active on the node longer than the specified deadline",
				KillPod:     len(obs.running()) > 0 || (sb != nil && sb.Ready),
			}
		}
		p := planRuntime(in)
		if left > 0 && (p.RequeueAfter == 0 || left < p.RequeueAfter) {
			p.RequeueAfter = left
		}
		return p
	}
	return planRuntime(in)
}

// planRuntime is plan for a pod within its deadline.
func planRuntime(in syncInput) syncPlan {
	pod, obs := in.Pod, &in.Observed
	p := syncPlan{Waiting: map[string]waiting{}}
	sb := obs.sandbox()

	if pod.DeletionTimestamp != nil {
		p.KillPod, p.Finalize = true, true
		return p
	}
	if initFailedForGood(pod, obs) {
		p.Failed, p.FailMessage = true, "init container failed and the pod's restartPolicy is Never"
		p.KillPod = len(obs.running()) > 0 || (sb != nil && sb.Ready)
		return p
	}
	if podTerminal(pod, obs) {
		p.KillPod = len(obs.running()) > 0 || (sb != nil && sb.Ready)
		return p
	}
	if sb == nil || !sb.Ready {
		// A pod that never restarts and already ran does not get a new sandbox.
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever && len(obs.Containers) > 0 {
			p.KillPod = len(obs.running()) > 0
			return p
		}
		p.KillPod = sb != nil || len(obs.running()) > 0
		p.CreateSandbox = true
		if sb != nil {
			p.SandboxAttempt = sb.Attempt + 1
		}
		// Init containers run again in a new sandbox.
		if len(pod.Spec.InitContainers) > 0 {
			c := pod.Spec.InitContainers[0]
			p.Start = append(p.Start, containerStart{Name: c.Name, Init: true, Attempt: nextAttempt(obs, c.Name)})
			return p
		}
		for _, c := range pod.Spec.Containers {
			p.Start = append(p.Start, p.startOrBackoff(in, c.Name, false, obs.latest(c.Name))...)
		}
		return p
	}

	// Liveness and startup failures kill the container; the next sync restarts it.
	for _, c := range obs.running() {
		if msg, bad := in.Unhealthy[c.ID]; bad && c.SandboxID == sb.ID {
			p.Kill = append(p.Kill, containerKill{ID: c.ID, Name: c.Name, Message: msg})
		}
	}
	// Containers running in an older sandbox are stale.
	for _, c := range obs.running() {
		if c.SandboxID != sb.ID {
			p.Kill = append(p.Kill, containerKill{ID: c.ID, Name: c.Name, Message: "stale sandbox"})
		}
	}

	// Ephemeral containers start once, even before the pod is initialized (as the kubelet's computePodActions).
	p.Start = append(p.Start, ephemeralStarts(pod, obs, sb)...)

	// Init containers, in order, until one is not done. A pod whose regular containers already started is initialized.
	initialized := true
	started := false
	for _, c := range pod.Spec.Containers {
		if l := obs.latest(c.Name); l != nil && l.SandboxID == sb.ID {
			started = true
		}
	}
	if !started {
		for _, c := range pod.Spec.InitContainers {
			l := obs.latest(c.Name)
			if l != nil && l.SandboxID != sb.ID {
				l = nil
			}
			if isSidecar(c) {
				if l == nil || (l.State != stateRunning && l.State != stateCreated) {
					p.Start = append(p.Start, p.startOrBackoff(in, c.Name, true, l)...)
					initialized = false
					break
				}
				continue
			}
			if l == nil {
				p.Start = append(p.Start, containerStart{Name: c.Name, Init: true, Attempt: nextAttempt(obs, c.Name)})
				initialized = false
				break
			}
			if l.State == stateRunning || l.State == stateCreated {
				initialized = false
				break
			}
			if l.ExitCode == 0 {
				continue
			}
			p.Start = append(p.Start, p.startOrBackoff(in, c.Name, true, l)...)
			initialized = false
			break
		}
	}
	if !initialized {
		return p
	}
	killing := map[string]bool{}
	for _, k := range p.Kill {
		killing[k.ID] = true
	}
	for _, c := range pod.Spec.Containers {
		l := obs.latest(c.Name)
		switch {
		case l == nil:
			p.Start = append(p.Start, containerStart{Name: c.Name, Attempt: 0})
		case killing[l.ID]:
		case (l.State == stateRunning || l.State == stateCreated) && l.SandboxID == sb.ID:
		case l.State == stateRunning || l.State == stateCreated:
			// Running in an old sandbox: being killed above; start anew after.
		default:
			if shouldRestart(pod.Spec.RestartPolicy, l) {
				p.Start = append(p.Start, p.startOrBackoff(in, c.Name, false, l)...)
			}
		}
	}
	return p
}

// startOrBackoff starts the container unless its back-off has not expired, in which case it records
// CrashLoopBackOff and when to look again.
func (p *syncPlan) startOrBackoff(in syncInput, name string, init bool, last *observedContainer) []containerStart {
	if last != nil && last.State == stateExited {
		if wait, left := inBackoff(in.Backoff[name], last.FinishedAt, in.Now); wait {
			p.Waiting[name] = waiting{Reason: "CrashLoopBackOff", Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
				in.Backoff[name].Delay, name, in.Pod.Name, in.Pod.Namespace, in.Pod.UID)}
			if p.RequeueAfter == 0 || left < p.RequeueAfter {
				p.RequeueAfter = left
			}
			return nil
		}
	}
	return []containerStart{{Name: name, Init: init, Attempt: nextAttempt(&in.Observed, name)}}
}

func nextAttempt(obs *observedPod, name string) uint32 {
	if l := obs.latest(name); l != nil {
		return l.Attempt + 1
	}
	return 0
}
