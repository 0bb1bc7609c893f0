package e2e

// End-to-end tests of the service proxy (internal/proxy): a real server with its kubelet on containerd, Services
// and EndpointSlices from the controllers, and the proxy's nftables table on this machine. They need root and nft;
// without them they skip. Traffic goes only to this machine's own addresses: pod IPs, Service IPs, the node IP.

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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// proxyPod is a testapp pod labelled app=pweb; %s is its name.
const proxyPod = `
apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: pweb}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080, name: http}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
`

const proxyServices = `
apiVersion: v1
kind: Service
metadata: {name: pweb}
spec:
  type: NodePort
  selector: {app: pweb}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: paff}
spec:
  selector: {app: pweb}
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: plb}
spec:
  type: LoadBalancer
  loadBalancerClass: skiff.test/e2e  # not ServiceLB's: this test sets the ingress itself
  selector: {app: pweb}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: pempty}
spec:
  selector: {app: nothing-matches-this}
  ports: [{name: http, port: 80, targetPort: 8080}]
`

// proxyGet fetches url on a fresh connection (no keep-alive, so every request is balanced anew).
func proxyGet(url string) (int, string, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// requireBackends sends n requests to url; each must answer 200 with one of want, and every one of want must
// answer at least once. It returns how many requests each backend served.
func requireBackends(t *testing.T, url string, n int, want ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for i := range n {
		code, body, err := proxyGet(url)
		if err != nil || code != 200 {
			t.Fatalf("request %d to %s: code %d body %q err %v", i, url, code, body, err)
		}
		seen[body]++
	}
	for b := range seen {
		if !slices.Contains(want, b) {
			t.Fatalf("%s answered from %q, want only %q (all: %v)", url, b, want, seen)
		}
	}
	for _, w := range want {
		if seen[w] == 0 {
			t.Fatalf("%s: backend %q got none of %d requests (all: %v)", url, w, n, seen)
		}
	}
	return seen
}

func TestProxy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("proxy e2e needs root (containerd, nftables)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("proxy e2e needs the nft command (package nftables)")
	}
	bin := skiffBinary(t)
	// Registered first, so it runs last: after the server has stopped, `skiff server --cleanup` removes its table;
	// `skiff proxy --cleanup` does the same and is content when there is nothing left.
	t.Cleanup(func() {
		if out, err := exec.Command("nft", "list", "table", "ip", "skiff").CombinedOutput(); err != nil {
			t.Errorf("table ip skiff is not there after the server stopped (rules must survive skiff): %v\n%s", err, out)
		}
		if out, err := exec.Command(bin, "server", "--cleanup").CombinedOutput(); err != nil {
			t.Errorf("skiff server --cleanup: %v\n%s", err, out)
		}
		if out, err := exec.Command("nft", "list", "table", "ip", "skiff").CombinedOutput(); err == nil {
			t.Errorf("table ip skiff still there after skiff server --cleanup:\n%s", out)
		}
		if out, err := exec.Command(bin, "proxy", "--cleanup").CombinedOutput(); err != nil {
			t.Errorf("skiff proxy --cleanup without a table: %v\n%s", err, out)
		}
	})
	kc := startKubeletCluster(t)
	kc.apply(t, fmt.Sprintf(proxyPod, "pweb-a")+"---"+fmt.Sprintf(proxyPod, "pweb-b")+"---"+proxyServices)
	kc.waitReady(t, "pweb-a", 60*time.Second)
	kc.waitReady(t, "pweb-b", 60*time.Second)
	ctx := context.Background()
	svc, err := kc.cs.CoreV1().Services("default").Get(ctx, "pweb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := kc.cs.CoreV1().Services("default").Get(ctx, "pempty", metav1.GetOptions{})
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
	if nodeIP == "" || svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("node IP %q, clusterIP %q, nodePort %d", nodeIP, svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
	}
	vip := "http://" + net.JoinHostPort(svc.Spec.ClusterIP, "80") + "/hostname"
	nodePort := "http://" + net.JoinHostPort(nodeIP, strconv.Itoa(int(svc.Spec.Ports[0].NodePort))) + "/hostname"

	// The first answer through the VIP: the rules follow the EndpointSlice.
	began := time.Now()
	eventually(t, 30*time.Second, "GET "+vip+" = 200 from both backends", func() (bool, string) {
		seen := map[string]int{}
		for range 10 {
			code, body, err := proxyGet(vip)
			if err != nil || code != 200 {
				return false, fmt.Sprintf("code %d body %q err %v", code, body, err)
			}
			seen[body]++
		}
		return seen["pweb-a"] > 0 && seen["pweb-b"] > 0, fmt.Sprint(seen)
	})
	t.Logf("both backends answered through %s %v after both pods were Ready", vip, time.Since(began).Round(time.Millisecond))

	t.Run("ClusterIPBalances", func(t *testing.T) {
		seen := requireBackends(t, vip, 40, "pweb-a", "pweb-b")
		t.Logf("40 requests to %s: %v", vip, seen)
	})
	t.Run("NodePort", func(t *testing.T) {
		seen := requireBackends(t, nodePort, 20, "pweb-a", "pweb-b")
		t.Logf("20 requests to %s: %v", nodePort, seen)
	})
	t.Run("NoEndpointsRefused", func(t *testing.T) {
		addr := net.JoinHostPort(empty.Spec.ClusterIP, "80")
		start := time.Now()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		took := time.Since(start)
		if err == nil {
			c.Close()
			t.Fatalf("dial %s (no endpoints) succeeded", addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s (no endpoints): %v after %v, want connection refused", addr, err, took)
		}
		if took > time.Second {
			t.Fatalf("dial %s refused only after %v", addr, took)
		}
		t.Logf("dial %s: %v after %v", addr, err, took)
	})
	t.Run("DNSFromHost", func(t *testing.T) {
		// kube-dns (10.43.0.10, the default --cluster-dns) is served by the server's DNS through the proxy.
		query := func(name string, qtype uint16) (*mdns.Msg, error) {
			req := new(mdns.Msg)
			req.SetQuestion(name, qtype)
			resp, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(req, "10.43.0.10:53")
			return resp, err
		}
		eventually(t, 20*time.Second, "an A record for pweb from 10.43.0.10", func() (bool, string) {
			resp, err := query("pweb.default.svc.cluster.local.", mdns.TypeA)
			if err != nil {
				return false, err.Error()
			}
			return len(resp.Answer) == 1 && resp.Answer[0].(*mdns.A).A.String() == svc.Spec.ClusterIP, fmt.Sprint(resp.Answer)
		})
		resp, err := query("_http._tcp.pweb.default.svc.cluster.local.", mdns.TypeSRV)
		if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*mdns.SRV).Port != 80 {
			t.Fatalf("SRV _http._tcp.pweb: %v %v", resp, err)
		}
		resp, err = query("nope.default.svc.cluster.local.", mdns.TypeA)
		if err != nil || resp.Rcode != mdns.RcodeNameError {
			t.Fatalf("A nope.default: %v %v", resp, err)
		}
	})
	t.Run("FromPodByNameWithHairpin", func(t *testing.T) {
		// pweb-a asks for the Service by name (cluster DNS in its resolv.conf) 20 times: both backends answer,
		// itself included (hairpin).
		script := "for i in $(seq 20); do timeout 5 wget -qO- http://pweb/hostname || echo FAIL; echo; done"
		var out string
		eventually(t, 30*time.Second, "pweb-a to reach both backends through http://pweb", func() (bool, string) {
			out, _, _ = kc.kubectl(t, "exec", "pweb-a", "--", "sh", "-c", script)
			return strings.Count(out, "pweb-a") > 0 && strings.Count(out, "pweb-b") > 0 &&
				strings.Count(out, "pweb-a")+strings.Count(out, "pweb-b") == 20, out
		})
		t.Logf("from pweb-a through http://pweb: pweb-a %d, pweb-b %d", strings.Count(out, "pweb-a"), strings.Count(out, "pweb-b"))
	})
	t.Run("SessionAffinityClientIP", func(t *testing.T) {
		aff, err := kc.cs.CoreV1().Services("default").Get(ctx, "paff", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Both endpoints must be in the table, or one backend answering would prove nothing.
		chain := "svc-default/paff/tcp/80"
		eventually(t, 30*time.Second, "chain "+chain+" over both endpoints, with affinity", func() (bool, string) {
			out, err := exec.Command("nft", "list", "chain", "ip", "skiff", chain).CombinedOutput()
			return err == nil && strings.Contains(string(out), "numgen random mod 2") &&
				strings.Count(string(out), "ip saddr @affinity-default/paff/") == 2, string(out)
		})
		url := "http://" + net.JoinHostPort(aff.Spec.ClusterIP, "80") + "/hostname"
		seen := map[string]int{}
		for i := range 30 {
			code, body, err := proxyGet(url)
			if err != nil || code != 200 {
				t.Fatalf("request %d to %s: code %d body %q err %v", i, url, code, body, err)
			}
			seen[body]++
		}
		if len(seen) != 1 {
			t.Fatalf("sessionAffinity ClientIP: 30 requests from one client reached %v, want a single backend", seen)
		}
		t.Logf("30 requests to %s (sessionAffinity ClientIP): %v", url, seen)
	})
	t.Run("LoadBalancerIngressIP", func(t *testing.T) {
		// The ingress IP is set through the status subresource, as a load-balancer controller would.
		const ingress = "203.0.113.77"
		lb, err := kc.cs.CoreV1().Services("default").Get(ctx, "plb", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingress}}
		if _, err := kc.cs.CoreV1().Services("default").UpdateStatus(ctx, lb, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		url := "http://" + net.JoinHostPort(ingress, "80") + "/hostname"
		eventually(t, 30*time.Second, "GET "+url+" = 200", func() (bool, string) {
			code, body, err := proxyGet(url)
			return err == nil && code == 200, fmt.Sprintf("code %d body %q err %v", code, body, err)
		})
		seen := requireBackends(t, url, 20, "pweb-a", "pweb-b")
		t.Logf("20 requests to the load-balancer ingress %s: %v", url, seen)
	})
	t.Run("DeletedPodGetsNoTraffic", func(t *testing.T) {
		kc.mustKubectl(t, "delete", "pod", "pweb-b", "--wait=false", "--grace-period=1")
		began := time.Now()
		eventually(t, 30*time.Second, "only pweb-a to answer "+vip, func() (bool, string) {
			seen := map[string]int{}
			for range 10 {
				code, body, err := proxyGet(vip)
				if err != nil || code != 200 {
					return false, fmt.Sprintf("code %d body %q err %v", code, body, err)
				}
				seen[body]++
			}
			return seen["pweb-a"] == 10, fmt.Sprint(seen)
		})
		t.Logf("traffic went only to pweb-a %v after the delete", time.Since(began).Round(time.Millisecond))
		requireBackends(t, vip, 20, "pweb-a")
	})
}
