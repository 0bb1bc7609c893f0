package kubelet

import (
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func testPod(policy corev1.RestartPolicy, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"}, Spec: corev1.PodSpec{RestartPolicy: policy}}
	for _, c := range containers {
		init := strings.HasPrefix(c, "init:")
		c = strings.TrimPrefix(c, "init:")
		ct := corev1.Container{Name: c, Image: "img"}
		if init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, ct)
		} else {
			p.Spec.Containers = append(p.Spec.Containers, ct)
		}
	}
	return p
}

func sandbox(id string, ready bool) observedSandbox {
	return observedSandbox{ID: id, Ready: ready, CreatedAt: t0, IP: "10.42.0.5", IPs: []string{"10.42.0.5"}}
}

func running(id, name string, attempt uint32) observedContainer {
	return observedContainer{ID: id, Name: name, Attempt: attempt, SandboxID: "sb1", State: stateRunning, StartedAt: t0, CreatedAt: t0.Add(time.Duration(attempt) * time.Second)}
}

func exited(id, name string, attempt uint32, code int32, finished time.Time) observedContainer {
	return observedContainer{ID: id, Name: name, Attempt: attempt, SandboxID: "sb1", State: stateExited, ExitCode: code, StartedAt: finished.Add(-time.Second), FinishedAt: finished, CreatedAt: t0.Add(time.Duration(attempt) * time.Second)}
}

func startNames(p syncPlan) []string {
	var out []string
	for _, s := range p.Start {
		n := s.Name
		if s.Init {
			n = "init:" + n
		}
		out = append(out, n+"#"+itoa(s.Attempt))
	}
	return out
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

func TestPlan(t *testing.T) {
	deleting := testPod(corev1.RestartPolicyAlways, "app")
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	deadline := func(startedAgo time.Duration, seconds int64) *corev1.Pod {
		p := testPod(corev1.RestartPolicyAlways, "a")
		p.Spec.ActiveDeadlineSeconds = &seconds
		p.Status.StartTime = &metav1.Time{Time: t0.Add(-startedAgo)}
		return p
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		obs       observedPod
		backoff   map[string]*backoffEntry
		unhealthy map[string]string
		// want
		createSandbox, killPod, finalize, failed bool
		start                                    []string
		kill                                     []string
		waiting                                  string // container:reason
		requeue                                  time.Duration
	}{
		{name: "new pod: sandbox and all containers", pod: testPod(corev1.RestartPolicyAlways, "a", "b"),
			createSandbox: true, start: []string{"a#0", "b#0"}},
		{name: "new pod with init: sandbox and first init only", pod: testPod(corev1.RestartPolicyAlways, "init:i1", "init:i2", "a"),
			createSandbox: true, start: []string{"init:i1#0"}},
		{name: "init done in order", pod: testPod(corev1.RestartPolicyAlways, "init:i1", "init:i2", "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "i1", 0, 0, t0)}},
			start: []string{"init:i2#0"}},
		{name: "init running: wait", pod: testPod(corev1.RestartPolicyAlways, "init:i1", "a"),
			obs: observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "i1", 0)}}},
		{name: "inits done: containers", pod: testPod(corev1.RestartPolicyAlways, "init:i1", "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "i1", 0, 0, t0)}},
			start: []string{"a#0"}},
		{name: "failed init under Never fails the pod", pod: testPod(corev1.RestartPolicyNever, "init:i1", "a"),
			obs:    observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "i1", 0, 1, t0)}},
			failed: true, killPod: true},
		{name: "steady state: nothing", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs: observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0)}}},
		{name: "first crash restarts at once", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "a", 0, 1, t0.Add(-time.Second))}},
			start: []string{"a#1"}},
		{name: "crash inside back-off: CrashLoopBackOff and requeue", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs:     observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c2", "a", 1, 1, t0.Add(-3*time.Second))}},
			backoff: map[string]*backoffEntry{"a": {Delay: 10 * time.Second, LastUpdate: t0.Add(-4 * time.Second)}},
			waiting: "a:CrashLoopBackOff", requeue: 7 * time.Second},
		{name: "back-off expired: restart", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs:     observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c2", "a", 1, 1, t0.Add(-11*time.Second))}},
			backoff: map[string]*backoffEntry{"a": {Delay: 10 * time.Second, LastUpdate: t0.Add(-12 * time.Second)}},
			start:   []string{"a#2"}},
		{name: "OnFailure: success is not restarted; pod terminal", pod: testPod(corev1.RestartPolicyOnFailure, "a"),
			obs: observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "a", 0, 0, t0)}},
			// The sandbox of a finished pod is stopped.
			killPod: true},
		{name: "OnFailure: failure is restarted", pod: testPod(corev1.RestartPolicyOnFailure, "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{exited("c1", "a", 0, 2, t0)}},
			start: []string{"a#1"}},
		{name: "Never: exited container stays; dead sandbox not replaced", pod: testPod(corev1.RestartPolicyNever, "a"),
			obs: observedPod{Sandboxes: []observedSandbox{sandbox("sb1", false)}, Containers: []observedContainer{exited("c1", "a", 0, 1, t0)}}},
		{name: "liveness failure kills the container", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs:       observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0)}},
			unhealthy: map[string]string{"c1": "failed liveness probe"},
			kill:      []string{"c1"}},
		{name: "dead sandbox replaced, attempt+1, containers restart", pod: testPod(corev1.RestartPolicyAlways, "a"),
			obs:           observedPod{Sandboxes: []observedSandbox{{ID: "sb1", Attempt: 0, CreatedAt: t0}}, Containers: []observedContainer{exited("c1", "a", 0, 137, t0)}},
			createSandbox: true, killPod: true, start: []string{"a#1"}},
		{name: "ephemeral container starts once beside running containers", pod: withEphemeral(testPod(corev1.RestartPolicyAlways, "a"), "dbg", "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0)}},
			start: []string{"dbg#0"}},
		{name: "exited ephemeral container is never restarted", pod: withEphemeral(testPod(corev1.RestartPolicyAlways, "a"), "dbg", ""),
			obs: observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0), exited("e1", "dbg", 0, 1, t0)}}},
		{name: "ephemeral container starts before initialization; one targeting a container not running waits", pod: withEphemeral(withEphemeral(testPod(corev1.RestartPolicyAlways, "init:i1", "a"), "dbg", ""), "dbg2", "a"),
			obs:   observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "i1", 0)}},
			start: []string{"dbg#0"}},
		{name: "new sandbox: ephemeral containers are not started with it", pod: withEphemeral(testPod(corev1.RestartPolicyAlways, "a"), "dbg", ""),
			createSandbox: true, start: []string{"a#0"}},
		{name: "within activeDeadlineSeconds: requeue at the deadline", pod: deadline(3*time.Second, 5),
			obs:     observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0)}},
			requeue: 2 * time.Second},
		{name: "past activeDeadlineSeconds: killed and failed", pod: deadline(6*time.Second, 5),
			obs:    observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "a", 0)}},
			failed: true, killPod: true},
		{name: "deletion kills and finalizes", pod: deleting,
			obs:     observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{running("c1", "app", 0)}},
			killPod: true, finalize: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(syncInput{Pod: tt.pod, Observed: tt.obs, Now: t0, Backoff: tt.backoff, Unhealthy: tt.unhealthy})
			if p.CreateSandbox != tt.createSandbox || p.KillPod != tt.killPod || p.Finalize != tt.finalize || p.Failed != tt.failed {
				t.Errorf("createSandbox/killPod/finalize/failed = %v/%v/%v/%v, want %v/%v/%v/%v", p.CreateSandbox, p.KillPod, p.Finalize, p.Failed, tt.createSandbox, tt.killPod, tt.finalize, tt.failed)
			}
			if got, want := strings.Join(startNames(p), ","), strings.Join(tt.start, ","); got != want {
				t.Errorf("start = %q, want %q", got, want)
			}
			var kills []string
			for _, k := range p.Kill {
				kills = append(kills, k.ID)
			}
			if got, want := strings.Join(kills, ","), strings.Join(tt.kill, ","); got != want {
				t.Errorf("kill = %q, want %q", got, want)
			}
			var waits []string
			for n, w := range p.Waiting {
				waits = append(waits, n+":"+w.Reason)
			}
			if got := strings.Join(waits, ","); got != tt.waiting {
				t.Errorf("waiting = %q, want %q", got, tt.waiting)
			}
			if p.RequeueAfter != tt.requeue {
				t.Errorf("requeue = %v, want %v", p.RequeueAfter, tt.requeue)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	var e *backoffEntry
	var delays []time.Duration
	now := t0
	for i := 0; i < 8; i++ {
		n := backoffNext(e, now)
		e = &n
		delays = append(delays, e.Delay)
		now = now.Add(e.Delay)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays = %v, want %v", delays, want)
		}
	}
	// Ten minutes without a restart resets it.
	if n := backoffNext(e, now.Add(11*time.Minute)); n.Delay != backoffInitial {
		t.Errorf("after 11 min: delay %v, want %v", n.Delay, backoffInitial)
	}
	if wait, _ := inBackoff(e, now.Add(-time.Second), now); !wait {
		t.Errorf("inBackoff just after a crash = false")
	}
}

func TestBuildStatus(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, "a")
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	obs := observedPod{Sandboxes: []observedSandbox{sandbox("sb1", true)}, Containers: []observedContainer{
		running("c2", "a", 1),
		exited("c1", "a", 0, 3, t0.Add(-time.Minute)),
	}}
	st := buildStatus(statusInput{Pod: pod, Observed: obs, Now: t0, HostIP: "192.0.2.2", Ready: map[string]bool{"c2": true}, Started: map[string]bool{"c2": true}})
	if st.Phase != corev1.PodRunning || st.PodIP != "10.42.0.5" || st.HostIP != "192.0.2.2" || st.QOSClass != corev1.PodQOSGuaranteed {
		t.Fatalf("phase/podIP/hostIP/qos = %s/%s/%s/%s", st.Phase, st.PodIP, st.HostIP, st.QOSClass)
	}
	cs := st.ContainerStatuses[0]
	if !cs.Ready || cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 || cs.LastTerminationState.Terminated.Reason != "Error" {
		t.Fatalf("container status %+v", cs)
	}
	cond := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range st.Conditions {
		cond[c.Type] = c.Status
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady, corev1.PodInitialized, corev1.PodScheduled, corev1.PodReadyToStartContainers} {
		if cond[ct] != corev1.ConditionTrue {
			t.Errorf("condition %s = %s", ct, cond[ct])
		}
	}

	// CrashLoopBackOff: waiting with the last run as lastState; phase stays Running under Always.
	obs2 := observedPod{Sandboxes: obs.Sandboxes, Containers: []observedContainer{exited("c3", "a", 2, 1, t0)}}
	st = buildStatus(statusInput{Pod: pod, Observed: obs2, Now: t0, Waiting: map[string]waiting{"a": {Reason: "CrashLoopBackOff", Message: "back-off"}}})
	cs = st.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.LastTerminationState.Terminated == nil || st.Phase != corev1.PodRunning {
		t.Fatalf("crash loop status: phase %s %+v", st.Phase, cs)
	}

	// OOMKilled under Never: terminated, phase Failed, not ready.
	never := testPod(corev1.RestartPolicyNever, "a")
	oom := exited("c1", "a", 0, 137, t0)
	oom.Reason = "OOMKilled"
	st = buildStatus(statusInput{Pod: never, Observed: observedPod{Sandboxes: obs.Sandboxes, Containers: []observedContainer{oom}}, Now: t0})
	if st.Phase != corev1.PodFailed || st.ContainerStatuses[0].State.Terminated == nil || st.ContainerStatuses[0].State.Terminated.Reason != "OOMKilled" {
		t.Fatalf("OOM: phase %s %+v", st.Phase, st.ContainerStatuses[0])
	}
	// Nothing yet: Pending, ContainerCreating.
	st = buildStatus(statusInput{Pod: never, Now: t0})
	if st.Phase != corev1.PodPending || st.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating" {
		t.Fatalf("new pod: phase %s %+v", st.Phase, st.ContainerStatuses[0])
	}
}

func TestQOSClass(t *testing.T) {
	mk := func(req, lim corev1.ResourceList) *corev1.Pod {
		p := testPod(corev1.RestartPolicyAlways, "a")
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: req, Limits: lim}
		return p
	}
	rl := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	for _, tt := range []struct {
		pod  *corev1.Pod
		want corev1.PodQOSClass
	}{
		{mk(nil, nil), corev1.PodQOSBestEffort},
		{mk(rl("1", "1Gi"), rl("1", "1Gi")), corev1.PodQOSGuaranteed},
		{mk(nil, rl("1", "1Gi")), corev1.PodQOSGuaranteed},
		{mk(rl("500m", ""), nil), corev1.PodQOSBurstable},
		{mk(rl("500m", "1Gi"), rl("1", "1Gi")), corev1.PodQOSBurstable},
	} {
		if got := qosClass(tt.pod); got != tt.want {
			t.Errorf("qosClass(%v/%v) = %s, want %s", tt.pod.Spec.Containers[0].Resources.Requests, tt.pod.Spec.Containers[0].Resources.Limits, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "B": "y"}
	for in, want := range map[string]string{
		"$(A)-$(B)": "x-y", "$$(A)": "$(A)", "$(C)": "$(C)", "plain": "plain", "$(A": "$(A", "a$b": "a$b",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinuxResources(t *testing.T) {
	c := &corev1.Container{Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}
	r := linuxResources(c)
	if r.CpuShares != 256 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || r.MemoryLimitInBytes != 64<<20 {
		t.Fatalf("resources = %+v", r)
	}
	if r := linuxResources(&corev1.Container{}); r.CpuShares != 2 || r.CpuQuota != 0 || r.MemoryLimitInBytes != 0 {
		t.Fatalf("best effort = %+v", r)
	}
}

func TestParseCRILine(t *testing.T) {
	l, ok := parseCRILine([]byte("2025-01-01T00:00:00.123456789Z stdout F hello world"))
	if !ok || l.stream != "stdout" || l.partial || string(l.content) != "hello world" {
		t.Fatalf("parsed %+v ok=%v", l, ok)
	}
	l, ok = parseCRILine([]byte("2025-01-01T00:00:00Z stderr P part"))
	if !ok || !l.partial || string(l.content) != "part" {
		t.Fatalf("partial %+v", l)
	}
}

func TestCNIConfig(t *testing.T) {
	b, err := cniConfig("10.42.3.0/24", "/d/ipam")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"type": "bridge"`, `"bridge": "sk0a2a03"`, `"subnet": "10.42.3.0/24"`, `"type": "portmap"`, `"portMappings": true`, `"dataDir": "/d/ipam"`} {
		if !strings.Contains(s, want) {
			t.Errorf("conflist lacks %s:\n%s", want, s)
		}
	}
}

func TestPlanActiveDeadlineReason(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, "a")
	five := int64(5)
	pod.Spec.ActiveDeadlineSeconds = &five
	pod.Status.StartTime = &metav1.Time{Time: t0.Add(-5 * time.Second)}
	p := plan(syncInput{Pod: pod, Now: t0})
	if !p.Failed || p.FailReason != "DeadlineExceeded" || p.FailMessage != "Pod was active on the node longer than the specified deadline" {
		t.Fatalf("plan = %+v", p)
	}
}
