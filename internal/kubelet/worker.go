package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podWorker owns one pod: its goroutine (run) is the only one that touches the fields below wake.
type podWorker struct {
	k               *Kubelet
	uid             types.UID
	namespace, name string
	cancel          context.CancelFunc
	wake            chan struct{}
	// refreshVolumes asks the next sync to rewrite configMap/secret/downwardAPI volumes.
	refreshVolumes atomic.Bool
	adopted        bool

	backoff      map[string]*backoffEntry // restart back-off by container name
	imageBackoff map[string]*backoffEntry // pull back-off by image
	probes       map[string]*probeState   // by container ID
	waiting      map[string]waiting       // shell-made waiting reasons by container name
	lastStatus   *corev1.PodStatus
	volumes      map[string]string // volume name → host path
	lastVolSync  time.Time
	lastPod      *corev1.Pod
	pulled       map[string]bool
	messages     map[string]string // termination messages by container ID
	tokens       map[tokenKey]cachedToken
	admission    *podAdmission // decided on the first sync
	seq          uint64        // arrival order (Kubelet.workerSeq); immutable
}

func (w *podWorker) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run syncs the pod whenever it changes, a timer fires, or a probe is due, until the pod is gone.
func (w *podWorker) run(ctx context.Context) {
	for {
		start := w.k.clock.Now()
		next, done := w.sync(ctx)
		w.k.metrics.synced(w, start, done)
		if done || ctx.Err() != nil {
			return
		}
		if next <= 0 || next > 10*time.Second {
			next = 10 * time.Second
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (w *podWorker) event(pod *corev1.Pod, typ, reason, msgFmt string, args ...any) {
	if pod == nil || w.k.recorder == nil {
		return
	}
	w.k.recorder.Eventf(pod, typ, reason, msgFmt, args...)
}

func containerEventRef(pod *corev1.Pod, name string) *corev1.ObjectReference {
	ref := &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1", ResourceVersion: pod.ResourceVersion}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			ref.FieldPath = fmt.Sprintf("spec.containers{%s}", name)
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			ref.FieldPath = fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			ref.FieldPath = fmt.Sprintf("spec.ephemeralContainers{%s}", name)
		}
	}
	return ref
}

func (w *podWorker) cEvent(pod *corev1.Pod, container, typ, reason, msgFmt string, args ...any) {
	if w.k.recorder == nil {
		return
	}
	w.k.recorder.Eventf(containerEventRef(pod, container), typ, reason, msgFmt, args...)
}

// currentPod returns the pod from the informer cache, or nil when it is gone (or replaced by one with another UID).
func (w *podWorker) currentPod() *corev1.Pod {
	if w.k.podLister == nil {
		return nil
	}
	p, err := w.k.podLister.Pods(w.namespace).Get(w.name)
	if err != nil || p.UID != w.uid {
		return nil
	}
	return p
}

// sync does one round: observe, plan, act, probe, report. It returns when to sync again, and done when the pod is
// finished with (deleted and cleaned up).
func (w *podWorker) sync(ctx context.Context) (time.Duration, bool) {
	pod := w.currentPod()
	obs, err := w.k.cri.observe(ctx, w.uid)
	if err != nil {
		if ctx.Err() == nil {
			w.k.log.Warn("observe pod", "pod", w.namespace+"/"+w.name, "err", err)
		}
		return 2 * time.Second, false
	}
	if pod == nil {
		// Gone from the API (force-deleted, or an orphan found at start): stop and remove everything.
		grace := int64(2)
		if w.lastPod != nil {
			grace = gracePeriod(w.lastPod)
		}
		w.killPod(ctx, w.lastPod, &obs, grace)
		w.removeRuntimeState(ctx, &obs)
		w.cleanupHost()
		return 0, true
	}
	w.lastPod = pod
	pod = pod.DeepCopy()
	if w.admission == nil {
		a := w.admit(ctx, pod, &obs)
		w.admission = &a
	}
	if !w.admission.Admit && pod.DeletionTimestamp == nil {
		// Rejected: nothing runs; the pod stays Failed until it is deleted.
		w.reportRejected(ctx, pod)
		return 0, false
	}
	w.fillMessages(pod, &obs)
	now := w.k.clock.Now()

	unhealthy := map[string]string{}
	for id, ps := range w.probes {
		if ps.unhealthy != "" {
			unhealthy[id] = ps.unhealthy
		}
	}
	p := plan(syncInput{Pod: pod, Observed: obs, Now: now, Backoff: w.backoff, Unhealthy: unhealthy})
	acted := false
	var requeue time.Duration = p.RequeueAfter

	if p.KillPod {
		acted = true
		grace := gracePeriod(pod)
		w.killPod(ctx, pod, &obs, grace)
		if p.Finalize {
			w.removeRuntimeState(ctx, &obs)
			w.cleanupHost()
			opts := metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &w.uid}}
			if err := w.k.cs.CoreV1().Pods(w.namespace).Delete(ctx, w.name, opts); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				w.k.log.Warn("delete pod", "pod", w.namespace+"/"+w.name, "err", err)
				return time.Second, false
			}
			w.k.markFinished(w.uid)
			return 0, true
		}
	}
	for k, v := range p.Waiting {
		if _, had := w.waiting[k]; !had || w.waiting[k].Reason != v.Reason {
			w.cEvent(pod, k, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", k, pod.Name, pod.Namespace, pod.UID)
		}
	}
	// Waiting reasons from the core replace those of earlier rounds for the same container.
	for name, wt := range w.waiting {
		if wt.Reason == "CrashLoopBackOff" {
			if _, still := p.Waiting[name]; !still {
				delete(w.waiting, name)
			}
		}
	}
	for k, v := range p.Waiting {
		w.waiting[k] = v
	}

	var sandbox *observedSandbox
	var sandboxConfig *runtimeapi.PodSandboxConfig
	if p.CreateSandbox {
		acted = true
		if err := w.prepareVolumes(ctx, pod); err != nil {
			w.event(pod, corev1.EventTypeWarning, "FailedMount", "%v", err)
			w.reportStatus(ctx, pod, &obs, syncPlan{})
			return 2 * time.Second, false
		}
		sb, cfg, err := w.createSandbox(ctx, pod, p.SandboxAttempt)
		if err != nil {
			w.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
			w.reportStatus(ctx, pod, &obs, syncPlan{})
			return 5 * time.Second, false
		}
		sandbox, sandboxConfig = sb, cfg
		obs.Sandboxes = append([]observedSandbox{*sb}, obs.Sandboxes...)
	} else if sb := obs.sandbox(); sb != nil && sb.Ready {
		sandbox = sb
		if w.refreshVolumes.Swap(false) || now.Sub(w.lastVolSync) > 30*time.Second || w.volumes == nil {
			if err := w.prepareVolumes(ctx, pod); err != nil {
				w.event(pod, corev1.EventTypeWarning, "FailedMount", "%v", err)
			}
		}
	}

	if len(p.Kill) > 0 {
		acted = true
		var wg sync.WaitGroup
		for _, kc := range p.Kill {
			c := findObserved(&obs, kc.ID)
			if c == nil {
				continue
			}
			if kc.Message != "stale sandbox" {
				w.cEvent(pod, kc.Name, corev1.EventTypeNormal, "Killing", "Container %s %s, will be restarted", kc.Name, kc.Message)
			}
			wg.Add(1)
			go func(c observedContainer) {
				defer wg.Done()
				w.killContainer(ctx, pod, c, gracePeriod(pod))
			}(*c)
		}
		wg.Wait()
	}

	if sandbox != nil && len(p.Start) > 0 {
		acted = true
		if sandboxConfig == nil {
			sandboxConfig = w.sandboxConfig(pod, sandbox.Attempt)
		}
		for _, s := range p.Start {
			// A restart moves the back-off on before the attempt, as the kubelet's doBackOff: a restart that fails
			// (a failed postStart hook, a start error) waits like one whose container crashes later.
			if obs.latest(s.Name) != nil {
				w.backoff[s.Name] = ptrTo(backoffNext(w.backoff[s.Name], now))
			}
			if err := w.startContainer(ctx, pod, sandbox, sandboxConfig, s); err != nil {
				if ctx.Err() != nil {
					return 0, false
				}
				w.k.log.Debug("start container", "pod", w.namespace+"/"+w.name, "container", s.Name, "err", err)
				if requeue == 0 || requeue > 2*time.Second {
					requeue = 2 * time.Second
				}
				if s.Init {
					break
				}
				continue
			}
			delete(w.waiting, s.Name)
		}
	}
	if acted {
		if o, err := w.k.cri.observe(ctx, w.uid); err == nil {
			obs = o
			w.fillMessages(pod, &obs)
		}
	}
	// Probes.
	probeNext, changed := w.runProbes(ctx, pod, &obs)
	if changed {
		requeue = 10 * time.Millisecond
	} else if probeNext > 0 && (requeue == 0 || probeNext < requeue) {
		requeue = probeNext
	}
	w.gcContainers(ctx, &obs)
	w.reportStatus(ctx, pod, &obs, p)
	// Exits are noticed by the PLEG (pleg.go), which wakes this worker.
	return requeue, false
}

func ptrTo[T any](v T) *T { return &v }

func findObserved(obs *observedPod, id string) *observedContainer {
	for i := range obs.Containers {
		if obs.Containers[i].ID == id {
			return &obs.Containers[i]
		}
	}
	return nil
}

// gracePeriod is the pod's termination grace period in seconds.
func gracePeriod(pod *corev1.Pod) int64 {
	if pod == nil {
		return 2
	}
	if pod.DeletionGracePeriodSeconds != nil {
		return *pod.DeletionGracePeriodSeconds
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

// reportStatus writes pods/status when it changed; p's Failed, FailReason and FailMessage make the pod Failed.
func (w *podWorker) reportStatus(ctx context.Context, pod *corev1.Pod, obs *observedPod, p syncPlan) {
	failed := p.Failed
	ready, started := map[string]bool{}, map[string]bool{}
	for _, c := range obs.Containers {
		ps := w.probes[c.ID]
		spec := findSpec(pod, c.Name)
		if spec == nil {
			continue
		}
		started[c.ID] = spec.StartupProbe == nil || (ps != nil && ps.startupDone)
		ready[c.ID] = started[c.ID] && (spec.ReadinessProbe == nil || (ps != nil && ps.ready))
	}
	waitingReasons := map[string]waiting{}
	for k, v := range w.waiting {
		waitingReasons[k] = v
	}
	st := buildStatus(statusInput{
		Pod: pod, Observed: *obs, Now: w.k.clock.Now(), HostIP: w.k.cfg.Address, Waiting: waitingReasons,
		Ready: ready, Started: started, Failed: failed, Terminating: pod.DeletionTimestamp != nil,
	})
	if failed {
		st.Reason, st.Message = p.FailReason, p.FailMessage
	}
	if w.lastStatus != nil && equality.Semantic.DeepEqual(*w.lastStatus, st) && equality.Semantic.DeepEqual(pod.Status, st) {
		return
	}
	if equality.Semantic.DeepEqual(pod.Status, st) {
		w.lastStatus = &st
		return
	}
	for i := 0; i < 5; i++ {
		cur := pod
		if i > 0 {
			got, err := w.k.cs.CoreV1().Pods(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
			if err != nil || got.UID != w.uid {
				return
			}
			cur = got
			// Keep the conditions others own and the first start time.
			st = mergeForeign(cur.Status, st)
		}
		cur = cur.DeepCopy()
		cur.Status = st
		out, err := w.k.cs.CoreV1().Pods(w.namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			w.lastStatus = &out.Status
			return
		}
		if !apierrors.IsConflict(err) {
			if ctx.Err() == nil && !apierrors.IsNotFound(err) {
				w.k.log.Warn("update pod status", "pod", w.namespace+"/"+w.name, "err", err)
			}
			return
		}
	}
}

func mergeForeign(cur, st corev1.PodStatus) corev1.PodStatus {
	if cur.StartTime != nil {
		st.StartTime = cur.StartTime
	}
	own := map[corev1.PodConditionType]bool{corev1.PodReadyToStartContainers: true, corev1.PodInitialized: true, corev1.ContainersReady: true, corev1.PodReady: true, corev1.PodScheduled: true}
	var conds []corev1.PodCondition
	for _, c := range st.Conditions {
		if own[c.Type] {
			conds = append(conds, c)
		}
	}
	for _, c := range cur.Conditions {
		if !own[c.Type] {
			conds = append(conds, c)
		}
	}
	st.Conditions = conds
	return st
}

func findSpec(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if pod.Spec.EphemeralContainers[i].Name == name {
			return (*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		}
	}
	return nil
}

// killPod stops every running container (preStop, SIGTERM, SIGKILL after the grace period) and then the sandboxes.
func (w *podWorker) killPod(ctx context.Context, pod *corev1.Pod, obs *observedPod, grace int64) {
	var wg sync.WaitGroup
	for _, c := range obs.Containers {
		if c.State != stateRunning && c.State != stateCreated {
			continue
		}
		if pod != nil {
			w.cEvent(pod, c.Name, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
		}
		wg.Add(1)
		go func(c observedContainer) {
			defer wg.Done()
			w.killContainer(ctx, pod, c, grace)
		}(c)
	}
	wg.Wait()
	for _, sb := range obs.Sandboxes {
		if sb.Ready {
			if _, err := w.k.cri.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.ID}); err != nil && ctx.Err() == nil {
				w.k.log.Warn("stop sandbox", "pod", w.namespace+"/"+w.name, "err", err)
			}
			w.k.cri.forget(sb.ID)
		}
	}
}

// killContainer runs the preStop hook, then stops the container with what is left of the grace period.
func (w *podWorker) killContainer(ctx context.Context, pod *corev1.Pod, c observedContainer, grace int64) {
	start := w.k.clock.Now()
	if pod != nil {
		if spec := findSpec(pod, c.Name); spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && c.State == stateRunning {
			hctx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
			if msg, err := w.runHandler(hctx, pod, spec, c.ID, spec.Lifecycle.PreStop); err != nil {
				w.cEvent(pod, c.Name, corev1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %v %s", err, msg)
			}
			cancel()
		}
	}
	left := grace - int64(w.k.clock.Since(start).Seconds())
	if left < 2 && grace >= 2 {
		left = 2 // the kubelet gives at least 2 s after preStop
	}
	if left < 0 {
		left = 0
	}
	if _, err := w.k.cri.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.ID, Timeout: left}); err != nil && ctx.Err() == nil {
		w.k.log.Warn("stop container", "container", c.ID, "err", err)
	}
	delete(w.probes, c.ID)
}

// removeRuntimeState removes the pod's sandboxes (and with them their containers) from the runtime.
func (w *podWorker) removeRuntimeState(ctx context.Context, obs *observedPod) {
	for _, c := range obs.Containers {
		_, _ = w.k.cri.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.ID})
		w.k.cri.forget(c.ID)
	}
	for _, sb := range obs.Sandboxes {
		if _, err := w.k.cri.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.ID}); err != nil && ctx.Err() == nil {
			w.k.log.Warn("remove sandbox", "pod", w.namespace+"/"+w.name, "err", err)
		}
		w.k.cri.forget(sb.ID)
	}
}

// cleanupHost removes the pod's volumes, logs and cgroups from the host.
func (w *podWorker) cleanupHost() {
	dir := w.k.podDir(w.uid)
	unmountUnder(dir)
	if err := os.RemoveAll(dir); err != nil {
		w.k.log.Warn("remove pod dir", "dir", dir, "err", err)
	}
	if w.namespace != "" {
		_ = os.RemoveAll(filepath.Join(w.k.logsDir, fmt.Sprintf("%s_%s_%s", w.namespace, w.name, w.uid)))
	}
	removePodCgroups(w.k.cfg.CgroupRoot, string(w.uid))
}

// gcContainers removes exited containers beyond the two newest per name (the newest is kept for --previous).
func (w *podWorker) gcContainers(ctx context.Context, obs *observedPod) {
	seen := map[string]int{}
	for _, name := range containerNames(obs) {
		for _, c := range obs.history(name) {
			seen[name]++
			if seen[name] > 2 && c.State == stateExited {
				if _, err := w.k.cri.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.ID}); err == nil {
					w.k.cri.forget(c.ID)
				}
			}
		}
	}
	// Dead sandboxes other than the newest.
	for i, sb := range obs.Sandboxes {
		if i > 0 && !sb.Ready {
			used := false
			for _, c := range obs.Containers {
				if c.SandboxID == sb.ID && seen[c.Name] <= 2 {
					used = true
				}
			}
			if !used {
				_, _ = w.k.cri.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.ID})
			}
		}
	}
}

func containerNames(obs *observedPod) []string {
	m := map[string]bool{}
	for _, c := range obs.Containers {
		m[c.Name] = true
	}
	return sortedKeys(m)
}

// errImage marks image errors already turned into a waiting reason and an event.
var errImage = errors.New("image")

func trimErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, "desc = "); i >= 0 {
		s = s[i+len("desc = "):]
	}
	return s
}

// fillMessages sets the termination message of exited containers: what they wrote to terminationMessagePath, or
// with FallbackToLogsOnError the end of their log when they failed.
func (w *podWorker) fillMessages(pod *corev1.Pod, obs *observedPod) {
	if w.messages == nil {
		w.messages = map[string]string{}
	}
	for i := range obs.Containers {
		c := &obs.Containers[i]
		if c.State != stateExited || c.Message != "" {
			continue
		}
		msg, ok := w.messages[c.ID]
		if !ok {
			msg = w.k.terminationMessage(string(w.uid), c.Name, c.Attempt)
			if spec := findSpec(pod, c.Name); msg == "" && spec != nil && c.ExitCode != 0 &&
				spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError && c.LogPath != "" {
				msg = logTail(c.LogPath, 80, 2048)
			}
			w.messages[c.ID] = msg
		}
		c.Message = msg
	}
}
