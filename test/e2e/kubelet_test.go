package e2e

// End-to-end tests of the kubelet on a real containerd, driven by the real kubectl. They need root and the node's
// packages (containerd, runc, containernetworking-plugins, nftables, busybox-static: `make deps`); without them they
// skip, saying what is missing. One server (with its kubelet and containerd) serves all subtests, which run in
// parallel; the kubelet-restart subtest runs after them.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/images"
	skiffruntime "github.com/skiff-sh/skiff/internal/kubelet/runtime"
	"golang.org/x/net/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// wantsAgent reports whether a server's extra arguments ask for the kubelet (the kubelet tests pass --kubelet-port).
func wantsAgent(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--kubelet-port" || strings.HasPrefix(a, "--kubelet-port=") || a == "--container-runtime-endpoint"
	})
}

// kubeletClusterCIDR keeps the test's pod IPs apart from a cluster run by hand on the same machine.
const kubeletClusterCIDR = "10.199.0.0/16"

// requireNode skips unless the machine can run containerd; it installs the packages when missing (as root).
func requireNode(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kubelet e2e needs root to run containerd")
	}
	if err := skiffruntime.Check(""); err != nil {
		root, rerr := moduleRoot()
		if rerr == nil {
			cmd := exec.Command("bash", filepath.Join(root, "hack", "deps.sh"))
			out, _ := cmd.CombinedOutput()
			t.Logf("hack/deps.sh: %s", lastLine(string(out)))
		}
		if err := skiffruntime.Check(""); err != nil {
			t.Skipf("containerd cannot be installed here: %v", err)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("busybox-static cannot be installed here")
	}
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

// buildImageTarballs builds the pause and test images (static binaries from the repo) into dir.
func buildImageTarballs(t *testing.T, dir string) []string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, p := range []string{"skiff-pause", "skiff-testapp"} {
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(bin, p), "./cmd/"+p)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", p, err, out)
		}
	}
	files, err := images.Build(context.Background(), images.BuildConfig{
		PauseBin: filepath.Join(bin, "skiff-pause"), TestAppBin: filepath.Join(bin, "skiff-testapp"), OutDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// kubeletCluster is a server with its kubelet, the node name and a clientset.
type kubeletCluster struct {
	*cluster
	node string
	cs   kubernetes.Interface
}

func startKubeletCluster(t *testing.T) *kubeletCluster {
	t.Helper()
	requireNode(t)
	tarballs := buildImageTarballs(t, t.TempDir())
	c := startServer(t, "--kubelet-port", "-1", "--cluster-cidr", kubeletClusterCIDR)
	rc, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	kc := &kubeletCluster{cluster: c, cs: cs}
	// Before the server stops: delete every pod through the kubelet (so no container outlives the test), stop the
	// server, and unmount what containerd may have left in the data dir.
	t.Cleanup(func() {
		_, _, _ = c.kubectlWith(t, kubectlOpts{timeout: 90 * time.Second}, "delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--timeout=80s")
		c.stop(t)
		unmountBelow(c.DataDir)
	})
	// The air-gap directory is imported at kubelet start; this first server started before the tarballs were
	// there, so import them by hand (`skiff images import`), as an operator would.
	imgDir := filepath.Join(c.DataDir, "images")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range tarballs {
		dst := filepath.Join(imgDir, filepath.Base(f))
		if err := os.Rename(f, dst); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 60*time.Second, "the node to register and become Ready", func() (bool, string) {
		nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			return false, fmt.Sprint(err)
		}
		n := nodes.Items[0]
		kc.node = n.Name
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue && n.Spec.PodCIDR != "" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("conditions %v podCIDR %q", n.Status.Conditions, n.Spec.PodCIDR)
	})
	for _, f := range tarballs {
		out, err := exec.Command(c.bin, "images", "import", "--data-dir", c.DataDir, filepath.Join(imgDir, filepath.Base(f))).CombinedOutput()
		if err != nil {
			t.Fatalf("skiff images import: %v\n%s", err, out)
		}
	}
	return kc
}

// unmountBelow detaches mounts left under dir (none when every pod was removed).
func unmountBelow(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var ms []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			ms = append(ms, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ms)))
	for _, m := range ms {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// apply creates objects from a manifest, with spec.nodeName set to the node (the scheduler is not needed).
func (kc *kubeletCluster) apply(t *testing.T, manifest string) {
	t.Helper()
	kc.mustStdin(t, strings.ReplaceAll(manifest, "NODE", kc.node), "apply", "-f", "-")
}

func (kc *kubeletCluster) pod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := kc.cs.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return &corev1.Pod{}
	}
	return p
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (kc *kubeletCluster) waitReady(t *testing.T, name string, timeout time.Duration) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	eventually(t, timeout, "pod "+name+" Running and Ready", func() (bool, string) {
		p = kc.pod(t, name)
		if p.Status.Phase == corev1.PodRunning && podReady(p) {
			return true, ""
		}
		ev, _, _ := kc.kubectl(t, "get", "events", "--field-selector", "involvedObject.name="+name, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		return false, fmt.Sprintf("phase %s statuses %+v\nevents:\n%s", p.Status.Phase, p.Status.ContainerStatuses, ev)
	})
	return p
}

// httpGet fetches url and returns the status code and body.
func httpGet(url string) (int, string, error) {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// requireHTTP polls url until it answers 200 with exactly want.
func requireHTTP(t *testing.T, url, want string) {
	t.Helper()
	eventually(t, 20*time.Second, "GET "+url+" = 200 "+want, func() (bool, string) {
		code, body, err := httpGet(url)
		return err == nil && code == 200 && body == want, fmt.Sprintf("code %d body %q err %v", code, body, err)
	})
}

const webManifest = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080, name: http}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
`

func TestKubelet(t *testing.T) {
	kc := startKubeletCluster(t)
	kc.apply(t, webManifest)
	web := kc.waitReady(t, "web", 60*time.Second)

	t.Run("pods", func(t *testing.T) {
		t.Run("HTTPOnPodIP", func(t *testing.T) {
			t.Parallel()
			if web.Status.PodIP == "" || !strings.HasPrefix(web.Status.PodIP, "10.199.") {
				t.Fatalf("podIP %q not in the node's podCIDR", web.Status.PodIP)
			}
			requireHTTP(t, "http://"+web.Status.PodIP+":8080/echo?msg=hello-skiff", "hello-skiff")
			requireHTTP(t, "http://"+web.Status.PodIP+":8080/hostname", "web")
			if web.Status.HostIP == "" || web.Status.StartTime == nil || web.Status.QOSClass != corev1.PodQOSBestEffort {
				t.Errorf("status lacks hostIP/startTime/qosClass: %+v", web.Status)
			}
			cs := web.Status.ContainerStatuses
			if len(cs) != 1 || !cs[0].Ready || cs[0].State.Running == nil || !strings.HasPrefix(cs[0].ContainerID, "containerd://") || cs[0].ImageID == "" {
				t.Errorf("containerStatuses = %+v", cs)
			}
		})
		t.Run("LogsFollow", func(t *testing.T) {
			t.Parallel()
			bg := kc.startKubectl(t, "logs", "-f", "web", "-c", "app", "--timestamps")
			bg.waitLine(t, 20*time.Second, "the start line", func(l string) bool { return strings.Contains(l, "Started HTTP server") })
			requireHTTP(t, "http://"+web.Status.PodIP+":8080/echo?msg=followed-line", "followed-line")
			l := bg.waitLine(t, 20*time.Second, "the logged request", func(l string) bool { return strings.Contains(l, "msg=followed-line") })
			if _, err := time.Parse(time.RFC3339Nano, strings.Fields(l)[0]); err != nil {
				t.Errorf("--timestamps line %q: %v", l, err)
			}
			out := kc.mustKubectl(t, "logs", "web", "--tail=1")
			if strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Errorf("logs --tail=1 gave %q", out)
			}
		})
		t.Run("LogsWebSocket", func(t *testing.T) {
			t.Parallel()
			// kube-apiserver streams pods/log over a WebSocket when asked (binary.k8s.io), as the upstream
			// conformance spec "should support retrieving logs from the container over websockets" reads it.
			cfg, err := kc.RESTConfig()
			if err != nil {
				t.Fatal(err)
			}
			tlsCfg, err := rest.TLSConfigFor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(cfg.Host)
			wsURL := "wss://" + u.Host + "/api/v1/namespaces/default/pods/web/log?container=app"
			wc, err := websocket.NewConfig(wsURL, "https://"+u.Host)
			if err != nil {
				t.Fatal(err)
			}
			wc.TlsConfig = tlsCfg
			wc.Protocol = []string{"binary.k8s.io"}
			ws, err := websocket.DialConfig(wc)
			if err != nil {
				t.Fatalf("websocket: %v", err)
			}
			defer ws.Close()
			var got strings.Builder
			for {
				var msg []byte
				if err := websocket.Message.Receive(ws, &msg); err != nil {
					if err != io.EOF {
						t.Fatalf("after %q: %v", got.String(), err)
					}
					break
				}
				got.Write(msg)
			}
			if !strings.Contains(got.String(), "Started HTTP server") {
				t.Fatalf("the log over the websocket is %q", got.String())
			}
		})
		t.Run("Exec", func(t *testing.T) {
			t.Parallel()
			out := kc.mustKubectl(t, "exec", "web", "--", "sh", "-c", "echo $((6*7)) $(hostname)")
			if strings.TrimSpace(out) != "42 web" {
				t.Fatalf("exec printed %q", out)
			}
			_, _, code := kc.kubectl(t, "exec", "web", "--", "sh", "-c", "exit 7")
			if code == 0 {
				t.Errorf("exec of a failing command exited 0")
			}
			// -it through a pty.
			cmd := exec.Command("script", "-qec", fmt.Sprintf("kubectl --kubeconfig %s --cache-dir %s exec -it web -- sh -c 'tty; echo pty-ok'", kc.Kubeconfig, kc.cacheDir), "/dev/null")
			b, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(b), "/dev/pts/") || !strings.Contains(string(b), "pty-ok") {
				t.Fatalf("exec -it: %v: %q", err, b)
			}
		})
		t.Run("Attach", func(t *testing.T) {
			t.Parallel()
			bg := kc.startKubectl(t, "attach", "web", "-c", "app")
			eventually(t, 20*time.Second, "attached output", func() (bool, string) {
				requireHTTP(t, "http://"+web.Status.PodIP+":8080/echo?msg=attached-line", "attached-line")
				select {
				case l, ok := <-bg.lines:
					return ok && strings.Contains(l, "msg=attached-line"), l
				case <-time.After(500 * time.Millisecond):
					return false, "no line yet; stderr: " + bg.stderr.String()
				}
			})
		})
		t.Run("PortForward", func(t *testing.T) {
			t.Parallel()
			port := freePort(t)
			bg := kc.startKubectl(t, "port-forward", "pod/web", fmt.Sprintf("%d:8080", port))
			bg.waitLine(t, 20*time.Second, "Forwarding from", func(l string) bool { return strings.Contains(l, "Forwarding from") })
			requireHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/echo?msg=forwarded", port), "forwarded")
		})
		t.Run("Top", func(t *testing.T) {
			t.Parallel()
			eventually(t, 30*time.Second, "kubectl top pod and node", func() (bool, string) {
				pods, perr, pcode := kc.kubectl(t, "top", "pod", "web")
				nodes, nerr, ncode := kc.kubectl(t, "top", "node")
				ok := pcode == 0 && ncode == 0 && strings.Contains(pods, "web") && strings.Contains(pods, "Mi") &&
					strings.Contains(nodes, kc.node) && strings.Contains(nodes, "%")
				return ok, pods + perr + nodes + nerr
			})
		})
		t.Run("CrashLoopBackOff", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "echo crashing; exit 3"]
`)
			seenBackoff := false
			eventually(t, 60*time.Second, "restartCount >= 2 and CrashLoopBackOff", func() (bool, string) {
				p := kc.pod(t, "crash")
				if len(p.Status.ContainerStatuses) == 0 {
					return false, "no status"
				}
				s := p.Status.ContainerStatuses[0]
				if s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" {
					seenBackoff = true
				}
				last := s.LastTerminationState.Terminated
				return seenBackoff && s.RestartCount >= 2 && last != nil && last.ExitCode == 3 && last.Reason == "Error",
					fmt.Sprintf("restarts %d state %+v last %+v", s.RestartCount, s.State, last)
			})
			out := kc.mustKubectl(t, "logs", "crash", "--previous")
			if !strings.Contains(out, "crashing") {
				t.Errorf("logs --previous = %q", out)
			}
			ev := kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=crash", "-o", "jsonpath={.items[*].reason}")
			if !strings.Contains(ev, "BackOff") {
				t.Errorf("no BackOff event: %s", ev)
			}
		})
		t.Run("FailedPostStartHookBacksOff", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: poststart-fails}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    args: ["pause"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "exit 1"]}
`)
			// A failed postStart hook kills the container; its restarts back off as a crash's do.
			eventually(t, 60*time.Second, "CrashLoopBackOff after a failed postStart hook", func() (bool, string) {
				p := kc.pod(t, "poststart-fails")
				if len(p.Status.ContainerStatuses) == 0 {
					return false, "no status"
				}
				s := p.Status.ContainerStatuses[0]
				if s.RestartCount > 4 {
					t.Fatalf("restarted %d times without back-off", s.RestartCount)
				}
				return s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff", fmt.Sprintf("restarts %d state %+v", s.RestartCount, s.State)
			})
			ev := kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=poststart-fails", "-o", "jsonpath={.items[*].reason}")
			if !strings.Contains(ev, "FailedPostStartHook") {
				t.Errorf("no FailedPostStartHook event: %s", ev)
			}
		})
		t.Run("AdmissionRejectsTakenHostPort", func(t *testing.T) {
			t.Parallel()
			// A pod bound straight to the node (no scheduler) whose host port another pod holds is rejected by the
			// kubelet, as upstream's: Failed, reason NodePorts, never started.
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: hostport-first}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    args: ["pause"]
    ports: [{containerPort: 8080, hostPort: 18931}]
`)
			eventually(t, 60*time.Second, "the first pod running", func() (bool, string) {
				p := kc.pod(t, "hostport-first")
				return p.Status.Phase == corev1.PodRunning, string(p.Status.Phase)
			})
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: hostport-second}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    args: ["pause"]
    ports: [{containerPort: 8080, hostPort: 18931}]
`)
			eventually(t, 60*time.Second, "the second pod rejected", func() (bool, string) {
				p := kc.pod(t, "hostport-second")
				return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "NodePorts" &&
						p.Status.Message == "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
					fmt.Sprintf("%s %s %s", p.Status.Phase, p.Status.Reason, p.Status.Message)
			})
			if p := kc.pod(t, "hostport-second"); len(p.Status.ContainerStatuses) != 0 {
				t.Errorf("the rejected pod ran: %+v", p.Status.ContainerStatuses)
			}
			if p := kc.pod(t, "hostport-first"); p.Status.Phase != corev1.PodRunning {
				t.Errorf("the first pod: %s", p.Status.Phase)
			}
		})
		t.Run("SubPathExpr", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: subpath-expr}
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "echo written > /logs/out && ls /data/subpath-expr"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts:
    - {name: w, mountPath: /logs, subPathExpr: "$(POD_NAME)"}
    - {name: w, mountPath: /data}
  volumes:
  - {name: w, emptyDir: {}}
---
apiVersion: v1
kind: Pod
metadata: {name: subpath-expr-backstep}
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "true"]
    env:
    - {name: POD_NAME, value: ".."}
    volumeMounts:
    - {name: w, mountPath: /logs, subPathExpr: "$(POD_NAME)"}
  volumes:
  - {name: w, emptyDir: {}}
`)
			eventually(t, 60*time.Second, "the pod writing through its expanded subPath succeeds", func() (bool, string) {
				p := kc.pod(t, "subpath-expr")
				return p.Status.Phase == corev1.PodSucceeded, string(p.Status.Phase)
			})
			if out := kc.mustKubectl(t, "logs", "subpath-expr"); strings.TrimSpace(out) != "out" {
				t.Errorf("the volume's subpath-expr directory lists %q, want out", out)
			}
			eventually(t, 60*time.Second, "CreateContainerConfigError for a subPathExpr expanding to ..", func() (bool, string) {
				p := kc.pod(t, "subpath-expr-backstep")
				if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
					return false, fmt.Sprintf("%+v", p.Status.ContainerStatuses)
				}
				w := p.Status.ContainerStatuses[0].State.Waiting
				return w.Reason == "CreateContainerConfigError" && strings.Contains(w.Message, "must not contain '..'"), fmt.Sprintf("%+v", w)
			})
		})
		t.Run("LivenessRestarts", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
`)
			eventually(t, 60*time.Second, "a liveness restart", func() (bool, string) {
				p := kc.pod(t, "liveness")
				if len(p.Status.ContainerStatuses) == 0 {
					return false, "no status"
				}
				return p.Status.ContainerStatuses[0].RestartCount >= 1, fmt.Sprintf("%+v", p.Status.ContainerStatuses[0])
			})
			ev := kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=liveness", "-o", "jsonpath={range .items[*]}{.reason}:{.message}{\"\\n\"}{end}")
			if !strings.Contains(ev, "Unhealthy:Liveness probe failed") || !strings.Contains(ev, "failed liveness probe, will be restarted") {
				t.Errorf("events lack Unhealthy/Killing: %s", ev)
			}
		})
		t.Run("ReadinessGatesReady", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: readiness}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    args: ["pause"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
`)
			eventually(t, 60*time.Second, "running, probed and not ready", func() (bool, string) {
				p := kc.pod(t, "readiness")
				ok := p.Status.Phase == corev1.PodRunning && !podReady(p)
				if ok {
					ev := kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=readiness", "-o", "jsonpath={.items[*].reason}")
					ok = strings.Contains(ev, "Unhealthy")
				}
				return ok, fmt.Sprintf("phase %s ready %v", p.Status.Phase, podReady(p))
			})
			kc.mustKubectl(t, "exec", "readiness", "--", "touch", "/tmp/ready")
			eventually(t, 20*time.Second, "Ready after the probe passes", func() (bool, string) {
				p := kc.pod(t, "readiness")
				return podReady(p), fmt.Sprintf("%+v", p.Status.Conditions)
			})
		})
		t.Run("ConfigMapSecret", func(t *testing.T) {
			t.Parallel()
			kc.mustKubectl(t, "create", "configmap", "cfg", "--from-literal=greeting=hello")
			kc.mustKubectl(t, "create", "secret", "generic", "sec", "--from-literal=password=s3cret")
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: cfgpod, labels: {tier: test}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/testapp:dev
    args: ["pause"]
    resources: {limits: {memory: 64Mi, cpu: 200m}}
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: sec, key: password}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: BOTH, value: "$(GREETING)-$(POD)"}
    envFrom:
    - {configMapRef: {name: cfg}, prefix: CM_}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: sec, mountPath: /etc/sec}
    - {name: info, mountPath: /etc/info}
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
`)
			kc.waitReady(t, "cfgpod", 60*time.Second)
			out := kc.mustKubectl(t, "exec", "cfgpod", "--", "sh", "-c", `echo "$GREETING $PASSWORD $POD $MEM_MI $BOTH $CM_greeting"; cat /etc/cfg/greeting /etc/sec/password; echo; cat /etc/info/labels`)
			want := "hello s3cret cfgpod 64 hello-cfgpod hello\nhellos3cret\ntier=\"test\""
			if strings.TrimSpace(out) != want {
				t.Fatalf("inside the pod:\n%s\nwant:\n%s", out, want)
			}
			if q := kc.pod(t, "cfgpod").Status.QOSClass; q != corev1.PodQOSGuaranteed {
				t.Errorf("qosClass %s, want Guaranteed", q)
			}
			kc.mustKubectl(t, "patch", "configmap", "cfg", "-p", `{"data":{"greeting":"updated"}}`)
			eventually(t, 60*time.Second, "the updated configMap in the mounted file", func() (bool, string) {
				out, _, _ := kc.kubectl(t, "exec", "cfgpod", "--", "cat", "/etc/cfg/greeting")
				return out == "updated", out
			})
		})
		t.Run("OOMKilled", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: hog
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "x=a; while true; do x=$x$x; done"]
    resources: {limits: {memory: 24Mi}}
`)
			eventually(t, 60*time.Second, "OOMKilled", func() (bool, string) {
				p := kc.pod(t, "hog")
				if len(p.Status.ContainerStatuses) == 0 {
					return false, "no status"
				}
				term := p.Status.ContainerStatuses[0].State.Terminated
				return term != nil && term.Reason == "OOMKilled" && term.ExitCode == 137 && p.Status.Phase == corev1.PodFailed,
					fmt.Sprintf("phase %s state %+v", p.Status.Phase, p.Status.ContainerStatuses[0].State)
			})
		})
		t.Run("PreStopAndGrace", func(t *testing.T) {
			t.Parallel()
			shared := t.TempDir()
			kc.apply(t, strings.ReplaceAll(`
apiVersion: v1
kind: Pod
metadata: {name: prestop}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 20
  volumes: [{name: shared, hostPath: {path: SHARED, type: Directory}}]
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "trap 'echo TERM >> /shared/log; exit 0' TERM; echo started >> /shared/log; while true; do sleep 0.2; done"]
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> /shared/log"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]
`, "SHARED", shared))
			kc.waitReady(t, "prestop", 60*time.Second)
			kc.waitReady(t, "stubborn", 60*time.Second)
			kc.mustKubectl(t, "delete", "pod", "prestop", "--timeout=60s")
			b, _ := os.ReadFile(filepath.Join(shared, "log"))
			if got := strings.Fields(string(b)); !slices.Equal(got, []string{"started", "prestop", "TERM"}) {
				t.Errorf("order inside the container: %q, want started, prestop, TERM", got)
			}
			start := time.Now()
			kc.mustKubectl(t, "delete", "pod", "stubborn", "--timeout=60s")
			if d := time.Since(start); d < 2500*time.Millisecond || d > 15*time.Second {
				t.Errorf("a container ignoring SIGTERM with a 3 s grace period was gone after %v", d)
			}
			if _, err := kc.cs.CoreV1().Pods("default").Get(context.Background(), "stubborn", metav1.GetOptions{}); err == nil {
				t.Errorf("pod still in the API after kubectl delete returned")
			}
		})
		t.Run("MissingImage", func(t *testing.T) {
			t.Parallel()
			kc.apply(t, `
apiVersion: v1
kind: Pod
metadata: {name: missing}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff.local/does-not-exist:v1
`)
			eventually(t, 60*time.Second, "ImagePullBackOff after ErrImagePull", func() (bool, string) {
				p := kc.pod(t, "missing")
				if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
					return false, "no waiting state"
				}
				reason := p.Status.ContainerStatuses[0].State.Waiting.Reason
				ev := kc.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=missing", "-o", "jsonpath={range .items[*]}{.reason}:{.message}{\"\\n\"}{end}")
				return reason == "ImagePullBackOff" && strings.Contains(ev, "Error: ErrImagePull") && strings.Contains(ev, "Failed to pull image"), reason + "\n" + ev
			})
		})
	})

	t.Run("RestartAdoptsPods", func(t *testing.T) {
		before := kc.pod(t, "web").Status.ContainerStatuses
		if len(before) != 1 {
			t.Fatalf("web statuses %+v", before)
		}
		restartedAt := time.Now()
		kc.restart(t)
		// The kubelet has resynced once its lease is renewed after the restart (workers start before).
		eventually(t, 60*time.Second, "the node lease renewed after the restart", func() (bool, string) {
			l, err := kc.cs.CoordinationV1().Leases("kube-node-lease").Get(context.Background(), kc.node, metav1.GetOptions{})
			if err != nil || l.Spec.RenewTime == nil {
				return false, fmt.Sprint(err)
			}
			return l.Spec.RenewTime.After(restartedAt), l.Spec.RenewTime.String()
		})
		// DATA/images was imported before (by `skiff images import`): the kubelet finds its images in containerd under
		// the same IDs and does not import them again.
		if logs := kc.Logs(); !strings.Contains(logs, "air-gap images already present") {
			t.Errorf("the kubelet did not look at DATA/images at start, or did not find its images present")
		}
		after := kc.waitReady(t, "web", 30*time.Second).Status.ContainerStatuses
		if after[0].ContainerID != before[0].ContainerID || after[0].RestartCount != before[0].RestartCount {
			t.Fatalf("container restarted: before %s/%d after %s/%d", before[0].ContainerID, before[0].RestartCount, after[0].ContainerID, after[0].RestartCount)
		}
		requireHTTP(t, "http://"+kc.pod(t, "web").Status.PodIP+":8080/echo?msg=still-here", "still-here")
	})
}

// TestKubeletPodStartupLatency measures create → Running and create → Ready over N pods (SKIFF_KUBELET_BENCH_PODS,
// default 10) with the image present, against the raw CRI floor (RunPodSandbox + CreateContainer + StartContainer
// on the same containerd) measured in the same run. It prints the figures; it fails only if pods do not start.
func TestKubeletPodStartupLatency(t *testing.T) {
	n := 10
	if v, err := strconv.Atoi(os.Getenv("SKIFF_KUBELET_BENCH_PODS")); err == nil && v > 0 {
		n = v
	}
	kc := startKubeletCluster(t)
	ctx := context.Background()
	pods := kc.cs.CoreV1().Pods("default")
	var running, ready, floor []time.Duration
	floorOnce := criFloor(t, filepath.Join(kc.DataDir, "containerd", "containerd.sock"))
	for i := 0; i < n; i++ {
		// Interleaved, so that the floor and the pods see the same machine load.
		floor = append(floor, floorOnce(i))
		name := fmt.Sprintf("bench-%03d", i)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{NodeName: kc.node, TerminationGracePeriodSeconds: new(int64), Containers: []corev1.Container{{
				Name: "app", Image: images.TestAppImage, Args: []string{"pause"}, ImagePullPolicy: corev1.PullIfNotPresent,
			}}},
		}
		w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var tRun time.Duration
		deadline := time.After(60 * time.Second)
	loop:
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatalf("watch of %s ended", name)
				}
				p, ok := ev.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				if tRun == 0 && p.Status.Phase == corev1.PodRunning {
					tRun = time.Since(start)
				}
				if podReady(p) {
					if tRun == 0 {
						tRun = time.Since(start)
					}
					running, ready = append(running, tRun), append(ready, time.Since(start))
					break loop
				}
			case <-deadline:
				t.Fatalf("pod %s not ready within 60s", name)
			}
		}
		w.Stop()
	}
	t.Logf("pod startup over %d pods (ms): create→Running p50 %.0f p99 %.0f; create→Ready p50 %.0f p99 %.0f; raw CRI floor (sandbox+create+start) p50 %.0f p99 %.0f",
		n, pct(running, 50), pct(running, 99), pct(ready, 50), pct(ready, 99), pct(floor, 50), pct(floor, 99))
	fmt.Printf("BENCH kubelet pod startup n=%d create->Running p50=%.0fms p99=%.0fms create->Ready p50=%.0fms p99=%.0fms cri-floor p50=%.0fms p99=%.0fms ratio-p99=%.2f\n",
		n, pct(running, 50), pct(running, 99), pct(ready, 50), pct(ready, 99), pct(floor, 50), pct(floor, 99), pct(ready, 99)/pct(floor, 99))
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return float64(s[i-1].Microseconds()) / 1000
}

// criFloor returns a function that runs one pod directly through the CRI (sandbox, create, start; then removes it)
// and returns how long sandbox+create+start took.
func criFloor(t *testing.T, socket string) func(i int) time.Duration {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	ctx := context.Background()
	logDir := t.TempDir()
	return func(i int) time.Duration {
		uid := fmt.Sprintf("cri-floor-%d-%d", time.Now().UnixNano(), i)
		sbCfg := &runtimeapi.PodSandboxConfig{
			Metadata:     &runtimeapi.PodSandboxMetadata{Name: uid, Namespace: "cri-floor", Uid: uid},
			Hostname:     "floor",
			LogDirectory: logDir,
			Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: "/kubepods/pod" + uid},
		}
		start := time.Now()
		sb, err := rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
		if err != nil {
			t.Fatalf("RunPodSandbox: %v", err)
		}
		defer func() {
			_, _ = rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId})
			_, _ = rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId})
			for _, d := range []string{"cpu", "memory", "pids", "cpuacct", "blkio", "devices", "freezer", "cpuset", "systemd"} {
				_ = os.Remove(filepath.Join("/sys/fs/cgroup", d, "kubepods", "pod"+uid))
			}
		}()
		c, err := rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, SandboxConfig: sbCfg, Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"}, Image: &runtimeapi.ImageSpec{Image: images.TestAppImage},
			Args: []string{"pause"}, LogPath: fmt.Sprintf("%s.log", uid),
		}})
		if err != nil {
			t.Fatalf("CreateContainer: %v", err)
		}
		if _, err := rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.ContainerId}); err != nil {
			t.Fatalf("StartContainer: %v", err)
		}
		return time.Since(start)
	}
}
