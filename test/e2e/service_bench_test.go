package e2e

// Benchmark of issue 6: the time from an endpoint becoming ready to traffic reaching it through its Service's
// ClusterIP, on a real cluster (kubelet, controllers, proxy on nftables). It runs only with SKIFF_BENCH_SERVICE=1
// (CI skips it), as root, under the machine-wide e2e lock:
//
//	make && SKIFF_BENCH_SERVICE=1 SKIFF_BIN=$PWD/bin/skiff flock /tmp/skiff-e2e.lock \
//	    go test ./test/e2e -run TestBenchServiceEndpointReady -v -timeout 15m
//
// One pod behind a Service is made ready (its readiness probe, an exec of `cat /tmp/ready` every second, starts to
// succeed once the file exists) while a prober on the host opens a fresh connection to the ClusterIP every
// millisecond or so. Each round records, on the host's clock: the pod's Ready condition turning True (seen on a
// watch of the pod), the EndpointSlice listing the endpoint ready (a watch), the ClusterIP's element added to the
// proxy's verdict map service-ips (printed by `nft monitor` when the transaction commits), and the prober's first
// answer from the pod. The pod is then made not ready again (and the ClusterIP back in no-endpoints) for the next round.

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// benchReadyManifest is the Service bready over the pod bready-0, ready while /tmp/ready exists.
const benchReadyManifest = `
apiVersion: v1
kind: Service
metadata: {name: bready}
spec:
  selector: {app: bready}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: bready-0, labels: {app: bready}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
      successThreshold: 1
`

// readyRound is one round's instants, on the host's monotonic clock.
type readyRound struct {
	podReady, sliceReady, nftMapped, firstAnswer time.Time
}

func TestBenchServiceEndpointReady(t *testing.T) {
	if os.Getenv("SKIFF_BENCH_SERVICE") != "1" {
		t.Skip("set SKIFF_BENCH_SERVICE=1 to run the endpoint-ready → traffic benchmark")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (containerd, nftables)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft command (package nftables)")
	}
	bin := skiffBinary(t)
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "proxy", "--cleanup").CombinedOutput(); err != nil {
			t.Errorf("skiff proxy --cleanup: %v\n%s", err, out)
		}
	})
	kc := startKubeletCluster(t)
	kc.apply(t, benchReadyManifest)
	ctx := context.Background()
	eventually(t, 60*time.Second, "pod bready-0 running", func() (bool, string) {
		p := kc.pod(t, "bready-0")
		return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "", string(p.Status.Phase)
	})
	svc, err := kc.cs.CoreV1().Services("default").Get(ctx, "bready", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mapKey := svc.Spec.ClusterIP + " . tcp . 80 "
	inMap := func(m string) bool {
		out, err := exec.Command("nft", "list", "map", "ip", "skiff", m).Output()
		return err == nil && strings.Contains(string(out), mapKey)
	}
	// `nft monitor` prints each element as its transaction commits: the instant the proxy's rule takes effect.
	mapped := watchNFTElements(t, "add element ip skiff service-ips { "+mapKey)
	url := "http://" + net.JoinHostPort(svc.Spec.ClusterIP, "80") + "/hostname"

	rounds := 10
	var results []readyRound
	for i := range rounds {
		// Not ready: the pod, its endpoint and the ClusterIP rejected.
		kc.mustKubectl(t, "exec", "bready-0", "--", "rm", "-f", "/tmp/ready")
		eventually(t, 30*time.Second, "bready-0 not ready and its ClusterIP in no-endpoints", func() (bool, string) {
			return !podReady(kc.pod(t, "bready-0")) && inMap("no-endpoints"), "waiting"
		})
		r := readyRound{}
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		podW, err := kc.cs.CoreV1().Pods("default").Watch(rctx, metav1.ListOptions{FieldSelector: "metadata.name=bready-0"})
		if err != nil {
			t.Fatal(err)
		}
		sliceW, err := kc.cs.DiscoveryV1().EndpointSlices("default").Watch(rctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=bready"})
		if err != nil {
			t.Fatal(err)
		}
		podDone, sliceDone, nftDone, probeDone := make(chan time.Time, 1), make(chan time.Time, 1), make(chan time.Time, 1), make(chan time.Time, 1)
		go func() { podDone <- firstEvent(podW, func(o any) bool { return podReady(o.(*corev1.Pod)) }) }()
		go func() {
			sliceDone <- firstEvent(sliceW, func(o any) bool { return sliceHasReady(o.(*discoveryv1.EndpointSlice)) })
		}()
		for len(mapped) > 0 {
			<-mapped // from an earlier round
		}
		var stop atomic.Bool
		go func() {
			select {
			case at := <-mapped:
				nftDone <- at
			case <-rctx.Done():
				nftDone <- time.Time{}
			}
		}()
		go func() {
			for !stop.Load() {
				if body, err := fetch(url); err == nil && body == "bready-0" {
					probeDone <- time.Now()
					return
				}
				time.Sleep(time.Millisecond)
			}
			probeDone <- time.Time{}
		}()
		kc.mustKubectl(t, "exec", "bready-0", "--", "touch", "/tmp/ready")
		timeout := time.After(30 * time.Second)
		for _, ch := range []struct {
			c  chan time.Time
			at *time.Time
		}{{podDone, &r.podReady}, {sliceDone, &r.sliceReady}, {nftDone, &r.nftMapped}, {probeDone, &r.firstAnswer}} {
			select {
			case *ch.at = <-ch.c:
			case <-timeout:
			}
		}
		stop.Store(true)
		cancel()
		if r.podReady.IsZero() || r.sliceReady.IsZero() || r.nftMapped.IsZero() || r.firstAnswer.IsZero() {
			t.Fatalf("round %d: not every step was seen within 30 s: %+v", i, r)
		}
		t.Logf("round %d: ready→slice %v, slice→nft %v, nft→answer %v, ready→answer %v", i,
			ms(r.sliceReady.Sub(r.podReady)), ms(r.nftMapped.Sub(r.sliceReady)), ms(r.firstAnswer.Sub(r.nftMapped)), ms(r.firstAnswer.Sub(r.podReady)))
		results = append(results, r)
	}
	report := func(what string, d func(readyRound) time.Duration) {
		var v []time.Duration
		for _, r := range results {
			v = append(v, d(r))
		}
		slices.Sort(v)
		t.Logf("%-38s p50 %8v  p90 %8v  max %8v  (n=%d)", what, ms(percentile(v, 50)), ms(percentile(v, 90)), ms(v[len(v)-1]), len(v))
	}
	report("pod Ready → first answer via ClusterIP", func(r readyRound) time.Duration { return r.firstAnswer.Sub(r.podReady) })
	report("pod Ready → EndpointSlice ready", func(r readyRound) time.Duration { return r.sliceReady.Sub(r.podReady) })
	report("EndpointSlice ready → nft element", func(r readyRound) time.Duration { return r.nftMapped.Sub(r.sliceReady) })
	report("nft element → first answer", func(r readyRound) time.Duration { return r.firstAnswer.Sub(r.nftMapped) })
}

// sliceHasReady reports whether the slice lists an endpoint whose ready condition is true.
func sliceHasReady(s *discoveryv1.EndpointSlice) bool {
	for _, e := range s.Endpoints {
		if e.Conditions.Ready != nil && *e.Conditions.Ready {
			return true
		}
	}
	return false
}

// watchNFTElements runs `nft monitor new elements` until the test ends and sends on the channel it returns the
// instant each added element whose line starts with prefix was printed.
func watchNFTElements(t *testing.T, prefix string) <-chan time.Time {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "nft", "monitor", "new", "elements")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nft monitor: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	ch := make(chan time.Time, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				select {
				case ch <- time.Now():
				default:
				}
			}
		}
	}()
	return ch
}

// firstEvent returns when the first added or modified object satisfying ok arrived on w (zero if w ends first).
func firstEvent(w watch.Interface, ok func(any) bool) time.Time {
	defer w.Stop()
	for ev := range w.ResultChan() {
		if (ev.Type == watch.Added || ev.Type == watch.Modified) && ok(ev.Object) {
			return time.Now()
		}
	}
	return time.Time{}
}

// percentile is the nearest-rank p-th percentile of sorted v.
func percentile(v []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(v)))) - 1
	return v[max(i, 0)]
}

// ms rounds d for printing.
func ms(d time.Duration) string { return fmt.Sprint(d.Round(100 * time.Microsecond)) }
