package e2e

// End-to-end test of ephemeral containers (`kubectl debug`): the API server's pods/ephemeralcontainers subresource
// and the kubelet starting the container once in the pod's sandbox, in its target's PID namespace, with logs, exec
// and attach by its name, and status.observedGeneration following the generation bump.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const debugTargetManifest = `
apiVersion: v1
kind: Pod
metadata: {name: debug-target}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["pause"]
`

// ephemeralStatus returns the status of the pod's ephemeral container name, or nil.
func ephemeralStatus(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for i := range p.Status.EphemeralContainerStatuses {
		if p.Status.EphemeralContainerStatuses[i].Name == name {
			return &p.Status.EphemeralContainerStatuses[i]
		}
	}
	return nil
}

// waitEphemeral waits until the ephemeral container name's state satisfies ok.
func (kc *kubeletCluster) waitEphemeral(t *testing.T, pod, name, what string, ok func(*corev1.ContainerStatus) bool) *corev1.ContainerStatus {
	t.Helper()
	var st *corev1.ContainerStatus
	eventually(t, 60*time.Second, "ephemeral container "+name+" "+what, func() (bool, string) {
		p := kc.pod(t, pod)
		st = ephemeralStatus(p, name)
		if st != nil && ok(st) {
			return true, ""
		}
		ev, _, _ := kc.kubectl(t, "get", "events", "--field-selector", "involvedObject.name="+pod, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		return false, fmt.Sprintf("ephemeral statuses %+v\nevents:\n%s", p.Status.EphemeralContainerStatuses, ev)
	})
	return st
}

func TestKubeletEphemeralContainers(t *testing.T) {
	kc := startKubeletCluster(t)
	kc.apply(t, debugTargetManifest)
	before := kc.waitReady(t, "debug-target", 60*time.Second)

	kc.mustKubectl(t, "debug", "debug-target", "--image=skiff.local/testapp:dev", "-c", "debugger", "--target=app",
		"--", "sh", "-c", "echo from-debugger; sleep 3600")
	st := kc.waitEphemeral(t, "debug-target", "debugger", "Running", func(s *corev1.ContainerStatus) bool { return s.State.Running != nil })
	if !strings.HasPrefix(st.ContainerID, "containerd://") || st.ImageID == "" || st.Ready {
		t.Errorf("debugger status: containerID %q imageID %q ready %v", st.ContainerID, st.ImageID, st.Ready)
	}

	// The spec change bumped the generation, and the kubelet's status write reports it.
	p := kc.pod(t, "debug-target")
	if p.Generation <= before.Generation {
		t.Errorf("generation %d after kubectl debug, was %d", p.Generation, before.Generation)
	}
	eventually(t, 30*time.Second, "status.observedGeneration = metadata.generation", func() (bool, string) {
		p = kc.pod(t, "debug-target")
		return p.Generation > 0 && p.Status.ObservedGeneration == p.Generation, fmt.Sprintf("generation %d observedGeneration %d", p.Generation, p.Status.ObservedGeneration)
	})

	// Logs and exec by name; ps in the debugger sees the target's process (its PID namespace).
	eventually(t, 20*time.Second, "kubectl logs -c debugger", func() (bool, string) {
		out, errOut, _ := kc.kubectl(t, "logs", "debug-target", "-c", "debugger")
		return strings.Contains(out, "from-debugger"), out + errOut
	})
	ps := kc.mustKubectl(t, "exec", "debug-target", "-c", "debugger", "--", "ps")
	if !strings.Contains(ps, "/agnhost pause") || !strings.Contains(ps, "sleep 3600") {
		t.Errorf("ps in the debugger does not show the target's process:\n%s", ps)
	}

	// An interactive debugger (kubectl debug -i) gets its stdin and output through attach while kubectl keeps stdin
	// open (containerd ends an attach when its stdin closes); it exits and stays terminated.
	bg := kc.startKubectlStdin(t, "42\n", "debug", "-i", "debug-target", "--image=skiff.local/testapp:dev", "-c", "shell", "--",
		"sh", "-c", "read n; i=0; while [ $i -lt 20 ]; do echo attached-$n; sleep 0.5; i=$((i+1)); done; exit 3")
	bg.waitLine(t, 60*time.Second, "the debugger's answer through attach", func(l string) bool { return l == "attached-42" })
	bg.stop()
	st = kc.waitEphemeral(t, "debug-target", "shell", "Terminated", func(s *corev1.ContainerStatus) bool { return s.State.Terminated != nil })
	if st.State.Terminated.ExitCode != 3 || st.RestartCount != 0 {
		t.Errorf("shell: terminated %+v restartCount %d", st.State.Terminated, st.RestartCount)
	}

	// An existing ephemeral container cannot be changed (as kube-apiserver words it).
	_, errOut, code := kc.kubectl(t, "patch", "pod", "debug-target", "--subresource=ephemeralcontainers", "--type=strategic",
		"-p", `{"spec":{"ephemeralContainers":[{"name":"debugger","image":"skiff.local/testapp:v2"}]}}`)
	if code == 0 || !strings.Contains(errOut, `existing ephemeral containers "debugger" may not be changed`) {
		t.Errorf("changing the debugger: exit %d: %s", code, errOut)
	}

	// Never restarted: the shell stays terminated with restartCount 0 and the pod keeps running.
	p = kc.pod(t, "debug-target")
	if s := ephemeralStatus(p, "shell"); s == nil || s.State.Terminated == nil || s.RestartCount != 0 || p.Status.Phase != corev1.PodRunning {
		t.Errorf("after exit: phase %s shell %+v", p.Status.Phase, s)
	}
}

// startKubectlStdin is startKubectl with in written to kubectl's standard input, which stays open until stop.
func (kc *kubeletCluster) startKubectlStdin(t *testing.T, in string, args ...string) *bgKubectl {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	cmd := kc.kubectlCmd(ctx, kubectlOpts{}, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	b := &bgKubectl{cmd: cmd, cancel: cancel, lines: make(chan string, 100), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, in); err != nil {
		t.Errorf("kubectl stdin: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		close(b.lines)
		_ = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.stop)
	return b
}
