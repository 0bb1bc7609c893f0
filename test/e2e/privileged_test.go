package e2e

// End-to-end test of privileged containers on the kubelet: the sandbox is made privileged when any container is,
// as the kubelet does, so containerd accepts the privileged container (upstream's Job pod-failure-policy fixture).

import (
	"os"
	"strings"
	"testing"
	"time"
)

const privilegedManifest = `
apiVersion: v1
kind: Pod
metadata: {name: privileged}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: setup
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "grep CapEff /proc/self/status > /data/init-caps"]
    securityContext: {privileged: true}
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["pause"]
    securityContext: {privileged: true}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    hostPath: {path: HOSTDIR, type: DirectoryOrCreate}
`

// hostCapEff is the test process's effective capability set (root's full set), which a privileged container gets.
func hostCapEff(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "CapEff:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "CapEff:"))
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return ""
}

func TestKubeletPrivilegedContainer(t *testing.T) {
	kc := startKubeletCluster(t)
	hostDir := t.TempDir()
	kc.apply(t, strings.ReplaceAll(privilegedManifest, "HOSTDIR", hostDir))
	kc.waitReady(t, "privileged", 60*time.Second)

	want := hostCapEff(t)
	out := kc.mustKubectl(t, "exec", "privileged", "-c", "app", "--", "grep", "CapEff", "/proc/self/status")
	if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapEff:")); got != want {
		t.Errorf("privileged container CapEff = %q, want the full set %q", got, want)
	}
	b, err := os.ReadFile(hostDir + "/init-caps")
	if err != nil {
		t.Fatalf("init container output: %v", err)
	}
	if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "CapEff:")); got != want {
		t.Errorf("privileged init container CapEff = %q, want %q", got, want)
	}
}
