package e2e

// Cluster DNS seen from inside a pod (issue 6): the pod's resolv.conf, a ClusterIP Service by short name and by
// FQDN, a headless Service's pod by <hostname>.<subdomain>, and, from the host through the kube-dns VIP (for the
// record types busybox cannot ask for), SRV of a named port, PTR of a ClusterIP and of a headless pod, and a name
// outside the cluster forwarded to the host's resolver. Real kubelet, proxy and DNS; needs root and nft and runs
// under the machine-wide e2e lock.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// dnsManifest is the Service dweb (ClusterIP, named port http) over the pod dweb-0, the headless Service dhl over
// the pod dhl-0 whose hostname and subdomain name it inside dhl (as a StatefulSet pod), and a client pod.
const dnsManifest = `
apiVersion: v1
kind: Service
metadata: {name: dweb}
spec:
  selector: {app: dweb}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: dhl}
spec:
  clusterIP: None
  selector: {app: dhl}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: dweb-0, labels: {app: dweb}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: dhl-0, labels: {app: dhl}}
spec:
  nodeName: NODE
  hostname: dhl-0
  subdomain: dhl
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: dclient}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["pause"]
`

// clusterDNS is the kube-dns Service address (skiff server's default --cluster-dns).
const clusterDNS = "10.43.0.10"

// dnsQuery asks server (host:port) for name and type over UDP.
func dnsQuery(server, name string, qtype uint16) (*mdns.Msg, error) {
	req := new(mdns.Msg)
	req.SetQuestion(mdns.Fqdn(name), qtype)
	resp, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(req, server)
	return resp, err
}

func TestDNSFromPod(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("DNS e2e needs root (containerd, nftables)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("DNS e2e needs the nft command (package nftables)")
	}
	bin := skiffBinary(t)
	// Registered first, so it runs last: remove the proxy's table once the server has stopped.
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "proxy", "--cleanup").CombinedOutput(); err != nil {
			t.Errorf("skiff proxy --cleanup: %v\n%s", err, out)
		}
	})
	kc := startKubeletCluster(t)
	kc.apply(t, dnsManifest)
	kc.waitReady(t, "dweb-0", 60*time.Second)
	hl := kc.waitReady(t, "dhl-0", 60*time.Second)
	kc.waitReady(t, "dclient", 60*time.Second)
	svc, err := kc.cs.CoreV1().Services("default").Get(context.Background(), "dweb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vip, podIP := svc.Spec.ClusterIP, hl.Status.PodIP
	inPod := func(script string) (string, error) {
		out, errOut, code := kc.kubectl(t, "exec", "dclient", "--", "sh", "-c", script)
		if code != 0 {
			return out, fmt.Errorf("exit %d: %s", code, errOut)
		}
		return out, nil
	}
	// The first lookups wait for the proxy to map the kube-dns VIP and for the DNS caches to see the Services.
	eventually(t, 30*time.Second, "kube-dns to answer dweb from the host", func() (bool, string) {
		resp, err := dnsQuery(clusterDNS+":53", "dweb.default.svc.cluster.local", mdns.TypeA)
		if err != nil {
			return false, err.Error()
		}
		return len(resp.Answer) == 1, fmt.Sprint(resp)
	})

	t.Run("ResolvConf", func(t *testing.T) {
		out, err := inPod("cat /etc/resolv.conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"nameserver " + clusterDNS, "search default.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5"} {
			if !strings.Contains(out, want+"\n") && !strings.HasSuffix(out, want) {
				t.Errorf("the pod's /etc/resolv.conf lacks the line %q:\n%s", want, out)
			}
		}
	})
	t.Run("ShortName", func(t *testing.T) {
		// wget resolves through the C library, which applies the search list: "dweb" is dweb.default.svc.cluster.local.
		out, err := inPod("timeout 5 wget -qO- http://dweb/hostname")
		if err != nil || out != "dweb-0" {
			t.Fatalf("GET http://dweb/hostname from the pod: %q %v", out, err)
		}
	})
	t.Run("FQDN", func(t *testing.T) {
		out, err := inPod("nslookup dweb.default.svc.cluster.local")
		if err != nil || !strings.Contains(out, "Address: "+vip) {
			t.Fatalf("nslookup dweb.default.svc.cluster.local from the pod, want %s: %q %v", vip, out, err)
		}
		out, err = inPod("timeout 5 wget -qO- http://dweb.default.svc.cluster.local/hostname")
		if err != nil || out != "dweb-0" {
			t.Fatalf("GET http://dweb.default.svc.cluster.local/hostname from the pod: %q %v", out, err)
		}
	})
	t.Run("HeadlessHostname", func(t *testing.T) {
		const name = "dhl-0.dhl.default.svc.cluster.local"
		out, err := inPod("nslookup " + name)
		if err != nil || !strings.Contains(out, "Address: "+podIP) {
			t.Fatalf("nslookup %s from the pod, want %s: %q %v", name, podIP, out, err)
		}
		// The headless Service's own name is its ready pods' addresses.
		out, err = inPod("nslookup dhl.default.svc.cluster.local")
		if err != nil || !strings.Contains(out, "Address: "+podIP) {
			t.Fatalf("nslookup dhl.default.svc.cluster.local from the pod, want %s: %q %v", podIP, out, err)
		}
		out, err = inPod("timeout 5 wget -qO- http://" + name + ":8080/hostname")
		if err != nil || out != "dhl-0" {
			t.Fatalf("GET http://%s:8080/hostname from the pod: %q %v", name, out, err)
		}
	})
	t.Run("SRV", func(t *testing.T) {
		resp, err := dnsQuery(clusterDNS+":53", "_http._tcp.dweb.default.svc.cluster.local", mdns.TypeSRV)
		if err != nil || len(resp.Answer) != 1 {
			t.Fatalf("SRV _http._tcp.dweb: %v %v", resp, err)
		}
		if srv := resp.Answer[0].(*mdns.SRV); srv.Port != 80 || srv.Target != "dweb.default.svc.cluster.local." {
			t.Fatalf("SRV _http._tcp.dweb = %v, want port 80 target dweb.default.svc.cluster.local.", srv)
		}
		// Headless: one record per ready pod, named by its hostname, its address in the additional section.
		resp, err = dnsQuery(clusterDNS+":53", "_http._tcp.dhl.default.svc.cluster.local", mdns.TypeSRV)
		if err != nil || len(resp.Answer) != 1 {
			t.Fatalf("SRV _http._tcp.dhl: %v %v", resp, err)
		}
		if srv := resp.Answer[0].(*mdns.SRV); srv.Port != 8080 || srv.Target != "dhl-0.dhl.default.svc.cluster.local." {
			t.Fatalf("SRV _http._tcp.dhl = %v, want port 8080 target dhl-0.dhl.default.svc.cluster.local.", srv)
		}
		if len(resp.Extra) != 1 || resp.Extra[0].(*mdns.A).A.String() != podIP {
			t.Fatalf("SRV _http._tcp.dhl additional section %v, want A %s", resp.Extra, podIP)
		}
		resp, err = dnsQuery(clusterDNS+":53", "_nope._tcp.dweb.default.svc.cluster.local", mdns.TypeSRV)
		if err != nil || resp.Rcode != mdns.RcodeNameError {
			t.Fatalf("SRV of a port dweb lacks: %v %v, want NXDOMAIN", resp, err)
		}
	})
	t.Run("PTR", func(t *testing.T) {
		for ip, want := range map[string]string{vip: "dweb.default.svc.cluster.local.", podIP: "dhl-0.dhl.default.svc.cluster.local."} {
			rev, err := mdns.ReverseAddr(ip)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := dnsQuery(clusterDNS+":53", rev, mdns.TypePTR)
			if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*mdns.PTR).Ptr != want {
				t.Fatalf("PTR %s: %v %v, want %s", rev, resp, err, want)
			}
		}
		// The pod's own nslookup does the reverse lookup too.
		out, err := inPod("nslookup " + vip)
		if err != nil || !strings.Contains(out, "dweb.default.svc.cluster.local") {
			t.Fatalf("nslookup %s from the pod: %q %v", vip, out, err)
		}
	})
	t.Run("Forwarded", func(t *testing.T) {
		// This machine resolves no outside name (its resolver answers NXDOMAIN to everything), and skiff server
		// has no setting for the upstream, so forwarding is checked by answer: a name outside the cluster gets
		// from kube-dns what the host's resolver says (here NXDOMAIN, not the SERVFAIL of a failed forward), and
		// not the cluster zone's authority.
		cc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cc.Servers) == 0 {
			t.Skipf("no nameserver in the host's /etc/resolv.conf (%v): nothing to forward to", err)
		}
		const name = "skiff-e2e-forwarded.example.org"
		direct, err := dnsQuery(cc.Servers[0]+":"+cc.Port, name, mdns.TypeA)
		if err != nil {
			t.Skipf("the host's resolver %s does not answer (%v): forwarding cannot be observed", cc.Servers[0], err)
		}
		resp, err := dnsQuery(clusterDNS+":53", name, mdns.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rcode != direct.Rcode || len(resp.Answer) != len(direct.Answer) {
			t.Fatalf("A %s through kube-dns: %s with %d answers; the host's resolver says %s with %d",
				name, mdns.RcodeToString[resp.Rcode], len(resp.Answer), mdns.RcodeToString[direct.Rcode], len(direct.Answer))
		}
		for _, rr := range resp.Ns {
			if strings.HasSuffix(rr.Header().Name, "cluster.local.") {
				t.Fatalf("A %s: answered with the cluster zone's authority %v", name, rr)
			}
		}
		// From the pod: the name has fewer than 5 dots, so the search list is tried first, then the name itself.
		out, _ := inPod("nslookup " + name)
		if strings.Contains(out, "SERVFAIL") {
			t.Fatalf("nslookup %s from the pod: %q", name, out)
		}
		t.Logf("A %s: kube-dns %s, host resolver %s", name, mdns.RcodeToString[resp.Rcode], mdns.RcodeToString[direct.Rcode])
	})
}
