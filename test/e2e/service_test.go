package e2e

// Acceptance of Services end to end (issue 6): a Deployment behind a Service reached by name from a pod and by
// ClusterIP and NodePort from the host, readiness deciding who gets traffic, and zero failed requests while pods
// are deleted, rolled to a new image and scaled down. Real kubectl, containerd, nftables and cluster DNS; needs
// root and nft (skips without them) and runs under the machine-wide e2e lock.
//
// The load loop opens a fresh TCP connection for every request (no keep-alive). That is what a connection-based
// balancer such as kube-proxy balances, and it is the strict case: every request goes through the Service's DNAT
// rules again, so a backend that is still in the rules after it stopped listening shows up as a failed request.
// (With keep-alive, a client stays on its backend until the backend closes the connection, and a well-behaved
// client such as Go's transport retries an idempotent request on a connection closed under it.)

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-sh/skiff/internal/images"
)

// serviceManifest is the Deployment web (3 replicas, rolled one surge pod at a time, never below 3 available,
// readiness on /healthz, a preStop sleep so that the endpoint is gone before the app stops listening), its
// NodePort Service, two standalone pods behind the Service nr whose readiness is the file /tmp/ready, and a client
// pod.
const serviceManifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 15
      containers:
      - name: app
        image: skiff.local/testapp:dev
        imagePullPolicy: Never
        args: ["netexec", "--http-port=8080"]
        ports: [{containerPort: 8080, name: http}]
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
        lifecycle:
          preStop:
            exec: {command: ["sleep", "5"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: nr}
spec:
  selector: {app: nr}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["pause"]
`

// notReadyPod is a testapp pod labelled app=nr that is ready while /tmp/ready exists; %s is its name.
const notReadyPod = `
apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: nr}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    command: ["sh", "-c", "touch /tmp/ready && exec /agnhost netexec --http-port=8080"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
`

// freshClient sends every request on a new connection.
var freshClient = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// fetch GETs url on a fresh connection and returns the body of a 200 answer.
func fetch(url string) (string, error) {
	resp, err := freshClient.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %q", resp.StatusCode, b)
	}
	return string(b), nil
}

// loadLoop sends paced requests to a URL from several goroutines until stopped, counting answers per backend.
type loadLoop struct {
	url   string
	valid func(body string) bool
	stop  chan struct{}
	wg    sync.WaitGroup
	began time.Time

	ok, failed atomic.Int64
	mu         sync.Mutex // guards the fields below
	failures   []string   // the first few failures
	backends   map[string]int
}

// loadResult is what a stopped loadLoop measured.
type loadResult struct {
	Requests, Failed int64
	Took             time.Duration
	Backends         map[string]int
	Failures         []string
}

// String is a one-line summary for the test log.
func (r loadResult) String() string {
	return fmt.Sprintf("%d requests in %v (%.0f/s), %d failed; per backend %v",
		r.Requests, r.Took.Round(time.Millisecond), float64(r.Requests)/r.Took.Seconds(), r.Failed, r.Backends)
}

// startLoad sends rate requests/s in total to url from workers goroutines; a request fails unless it answers 200
// with a body that valid accepts.
func startLoad(url string, rate, workers int, valid func(string) bool) *loadLoop {
	l := &loadLoop{url: url, valid: valid, stop: make(chan struct{}), began: time.Now(), backends: map[string]int{}}
	period := time.Second * time.Duration(workers) / time.Duration(rate)
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			// Stagger the workers over one period so that the requests are spread evenly.
			select {
			case <-time.After(period * time.Duration(w) / time.Duration(workers)):
			case <-l.stop:
				return
			}
			tick := time.NewTicker(period)
			defer tick.Stop()
			for {
				l.once()
				select {
				case <-tick.C:
				case <-l.stop:
					return
				}
			}
		}()
	}
	return l
}

func (l *loadLoop) once() {
	body, err := fetch(l.url)
	if err == nil && !l.valid(body) {
		err = fmt.Errorf("unexpected body %q", body)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed.Add(1)
		if len(l.failures) < 10 {
			l.failures = append(l.failures, fmt.Sprintf("%s: %v", time.Since(l.began).Round(time.Millisecond), err))
		}
		return
	}
	l.ok.Add(1)
	l.backends[body]++
}

// Stop ends the loop, waits for requests in flight and returns the figures.
func (l *loadLoop) Stop() loadResult {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return loadResult{
		Requests: l.ok.Load() + l.failed.Load(), Failed: l.failed.Load(), Took: time.Since(l.began),
		Backends: l.backends, Failures: l.failures,
	}
}

// requireNoFailures fails the test when the load saw a failed request, or too few requests to mean anything.
func requireNoFailures(t *testing.T, what string, r loadResult) {
	t.Helper()
	t.Logf("%s: %s", what, r)
	if r.Failed > 0 {
		t.Errorf("%s: %d of %d requests failed; first failures:\n\t%s", what, r.Failed, r.Requests, strings.Join(r.Failures, "\n\t"))
	}
	if r.Requests < 50 {
		t.Errorf("%s: only %d requests were sent", what, r.Requests)
	}
}

// measureRate sends requests back to back from workers goroutines for d and returns the rate and the failures.
func measureRate(url string, workers int, d time.Duration) (perSecond float64, failed int64) {
	var n, bad atomic.Int64
	deadline := time.Now().Add(d)
	began := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := fetch(url); err != nil {
					bad.Add(1)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(began).Seconds(), bad.Load()
}

// sample sends n requests to url and counts the answers per backend; any failure is returned as an error.
func sample(url string, n int) (map[string]int, error) {
	seen := map[string]int{}
	for range n {
		body, err := fetch(url)
		if err != nil {
			return seen, err
		}
		seen[body]++
	}
	return seen, nil
}

// webPods lists the Deployment's pods: all of them, and the names of the ready ones not being deleted.
func (kc *kubeletCluster) webPods(t *testing.T) (all []corev1.Pod, ready []string) {
	t.Helper()
	pods, err := kc.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			ready = append(ready, p.Name)
		}
	}
	sort.Strings(ready)
	return pods.Items, ready
}

// waitWebPods waits until the Deployment has exactly n pods, all ready, none terminating, all running image, and
// returns their names.
func (kc *kubeletCluster) waitWebPods(t *testing.T, n int, image string, timeout time.Duration) []string {
	t.Helper()
	var ready []string
	eventually(t, timeout, fmt.Sprintf("%d ready web pods of %s and no others", n, image), func() (bool, string) {
		var all []corev1.Pod
		all, ready = kc.webPods(t)
		var state []string
		for _, p := range all {
			state = append(state, fmt.Sprintf("%s(%s ready=%v deleting=%v %s)", p.Name, p.Status.Phase, podReady(&p), p.DeletionTimestamp != nil, p.Spec.Containers[0].Image))
			if p.Spec.Containers[0].Image != image {
				return false, strings.Join(state, " ")
			}
		}
		return len(all) == n && len(ready) == n, strings.Join(state, " ")
	})
	return ready
}

func TestService(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("service e2e needs root (containerd, nftables)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("service e2e needs the nft command (package nftables)")
	}
	bin := skiffBinary(t)
	// Registered first, so it runs last: remove the proxy's table once the server has stopped.
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "proxy", "--cleanup").CombinedOutput(); err != nil {
			t.Errorf("skiff proxy --cleanup: %v\n%s", err, out)
		}
	})
	kc := startKubeletCluster(t)
	kc.apply(t, serviceManifest+"---"+fmt.Sprintf(notReadyPod, "nr-a")+"---"+fmt.Sprintf(notReadyPod, "nr-b"))
	ctx := context.Background()
	kc.mustKubectlWith(t, 100*time.Second, "rollout", "status", "deployment/web", "--timeout=90s")
	webNames := kc.waitWebPods(t, 3, images.TestAppImage, 60*time.Second)
	for _, n := range []string{"client", "nr-a", "nr-b"} {
		kc.waitReady(t, n, 60*time.Second)
	}
	svc, err := kc.cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nr, err := kc.cs.CoreV1().Services("default").Get(ctx, "nr", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node, err := kc.cs.CoreV1().Nodes().Get(ctx, kc.node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var nodeIP string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			nodeIP = a.Address
		}
	}
	if nodeIP == "" || svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 || nr.Spec.ClusterIP == "" {
		t.Fatalf("node IP %q, web clusterIP %q nodePort %d, nr clusterIP %q", nodeIP, svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort, nr.Spec.ClusterIP)
	}
	vip := "http://" + net.JoinHostPort(svc.Spec.ClusterIP, "80") + "/hostname"
	nodePort := "http://" + net.JoinHostPort(nodeIP, strconv.Itoa(int(svc.Spec.Ports[0].NodePort))) + "/hostname"
	nrVIP := "http://" + net.JoinHostPort(nr.Spec.ClusterIP, "80") + "/hostname"
	isWeb := func(body string) bool { return strings.HasPrefix(body, "web-") }

	// allOf polls url until n requests in a row answer and every one of want answered at least once.
	allOf := func(t *testing.T, url string, n int, want []string) map[string]int {
		t.Helper()
		var seen map[string]int
		eventually(t, 30*time.Second, fmt.Sprintf("%s to answer from exactly %v", url, want), func() (bool, string) {
			var err error
			seen, err = sample(url, n)
			if err != nil {
				return false, err.Error()
			}
			var got []string
			for b := range seen {
				got = append(got, b)
			}
			sort.Strings(got)
			return slices.Equal(got, want), fmt.Sprint(seen)
		})
		return seen
	}

	t.Run("Reach", func(t *testing.T) {
		seen := allOf(t, vip, 30, webNames)
		t.Logf("30 requests to ClusterIP %s: %v", vip, seen)
		seen = allOf(t, nodePort, 30, webNames)
		t.Logf("30 requests to NodePort %s: %v", nodePort, seen)
		// From a pod, by the Service's DNS name (cluster DNS in the pod's resolv.conf), with busybox wget.
		script := "for i in $(seq 30); do timeout 5 wget -qO- http://web.default.svc.cluster.local/hostname || echo FAIL; echo; done"
		var out string
		eventually(t, 30*time.Second, "the client pod to reach all 3 pods through web.default.svc.cluster.local", func() (bool, string) {
			out, _, _ = kc.kubectl(t, "exec", "client", "--", "sh", "-c", script)
			lines := strings.Fields(out)
			if len(lines) != 30 {
				return false, out
			}
			counts := map[string]int{}
			for _, l := range lines {
				if !slices.Contains(webNames, l) {
					return false, out
				}
				counts[l]++
			}
			return len(counts) == 3, fmt.Sprint(counts)
		})
		t.Logf("from the client pod through http://web.default.svc.cluster.local: %q", strings.Join(strings.Fields(out), " "))
	})

	t.Run("ThroughputVIPvsPodIP", func(t *testing.T) {
		p := kc.pod(t, webNames[0])
		podURL := "http://" + net.JoinHostPort(p.Status.PodIP, "8080") + "/hostname"
		viaVIP, badVIP := measureRate(vip, 4, 2*time.Second)
		direct, badPod := measureRate(podURL, 4, 2*time.Second)
		t.Logf("fresh-connection GETs, 4 workers, 2 s each: ClusterIP %.0f req/s (%d failed), pod IP %.0f req/s (%d failed)", viaVIP, badVIP, direct, badPod)
		if badVIP+badPod > 0 {
			t.Errorf("%d requests through the VIP and %d to the pod IP failed", badVIP, badPod)
		}
	})

	t.Run("NotReadyGetsNoTraffic", func(t *testing.T) {
		allOf(t, nrVIP, 20, []string{"nr-a", "nr-b"})
		kc.mustKubectl(t, "exec", "nr-b", "--", "rm", "/tmp/ready")
		eventually(t, 30*time.Second, "nr-b not Ready", func() (bool, string) {
			p := kc.pod(t, "nr-b")
			return !podReady(p), fmt.Sprint(p.Status.Conditions)
		})
		seen := allOf(t, nrVIP, 20, []string{"nr-a"})
		// nr-b is alive and answers on its own IP; the Service just does not send it anything.
		p := kc.pod(t, "nr-b")
		if body, err := fetch("http://" + net.JoinHostPort(p.Status.PodIP, "8080") + "/hostname"); err != nil || body != "nr-b" {
			t.Fatalf("nr-b on its pod IP: %q %v", body, err)
		}
		seen2, err := sample(nrVIP, 40)
		if err != nil || seen2["nr-a"] != 40 {
			t.Fatalf("40 more requests while nr-b is not ready: %v %v", seen2, err)
		}
		t.Logf("nr-b not ready: %d then 40 requests through %s all went to nr-a (%v, %v)", 20, nrVIP, seen, seen2)

		// No ready endpoint at all: the connection is refused at once (the endpoints exist, but none is ready).
		kc.mustKubectl(t, "exec", "nr-a", "--", "rm", "/tmp/ready")
		addr := net.JoinHostPort(nr.Spec.ClusterIP, "80")
		var last error
		eventually(t, 30*time.Second, "dial "+addr+" to be refused", func() (bool, string) {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err == nil {
				c.Close()
				return false, "connected"
			}
			last = err
			return errors.Is(err, syscall.ECONNREFUSED), err.Error()
		})
		t.Logf("no ready endpoints: dial %s: %v", addr, last)

		// Ready again: traffic comes back to both.
		kc.mustKubectl(t, "exec", "nr-a", "--", "touch", "/tmp/ready")
		kc.mustKubectl(t, "exec", "nr-b", "--", "touch", "/tmp/ready")
		allOf(t, nrVIP, 20, []string{"nr-a", "nr-b"})
	})

	t.Run("ZeroDowntime", func(t *testing.T) {
		const rate, workers = 100, 4
		t.Run("DeletePod", func(t *testing.T) {
			victim := webNames[1]
			load := startLoad(vip, rate, workers, isWeb)
			kc.mustKubectl(t, "delete", "pod", victim, "--wait=false")
			eventually(t, 60*time.Second, victim+" gone", func() (bool, string) {
				_, err := kc.cs.CoreV1().Pods("default").Get(ctx, victim, metav1.GetOptions{})
				return err != nil, fmt.Sprint(err)
			})
			webNames = kc.waitWebPods(t, 3, images.TestAppImage, 60*time.Second)
			requireNoFailures(t, "load during the delete of "+victim+" until it was gone and replaced", load.Stop())
		})
		t.Run("RollingUpdate", func(t *testing.T) {
			load := startLoad(vip, rate, workers, isWeb)
			began := time.Now()
			kc.mustKubectl(t, "set", "image", "deployment/web", "app="+images.TestAppImageV2)
			kc.mustKubectlWith(t, 130*time.Second, "rollout", "status", "deployment/web", "--timeout=120s")
			rollout := time.Since(began)
			// Keep the load on until the old pods have finished terminating (preStop, SIGTERM, exit).
			webNames = kc.waitWebPods(t, 3, images.TestAppImageV2, 60*time.Second)
			all := time.Since(began)
			r := load.Stop()
			t.Logf("set image -> rollout status returned after %v; old pods gone after %v", rollout.Round(time.Millisecond), all.Round(time.Millisecond))
			requireNoFailures(t, "load during kubectl set image and rollout", r)
			var toNew int
			for _, n := range webNames {
				toNew += r.Backends[n]
			}
			if toNew == 0 {
				t.Errorf("no request reached a new pod %v: %v", webNames, r.Backends)
			}
		})
		t.Run("ScaleDown", func(t *testing.T) {
			load := startLoad(vip, rate, workers, isWeb)
			began := time.Now()
			kc.mustKubectl(t, "scale", "deployment/web", "--replicas=1")
			webNames = kc.waitWebPods(t, 1, images.TestAppImageV2, 60*time.Second)
			t.Logf("scale to 1: the 2 other pods gone after %v", time.Since(began).Round(time.Millisecond))
			requireNoFailures(t, "load during kubectl scale --replicas=1", load.Stop())
		})
	})
}

// mustKubectlWith is mustKubectl with a longer timeout (for commands that wait, such as rollout status).
func (kc *kubeletCluster) mustKubectlWith(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, errOut, code := kc.kubectlWith(t, kubectlOpts{timeout: timeout}, args...)
	if code != 0 {
		t.Fatalf("kubectl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
