package e2e

// ResourceQuota (controller and admission) and LimitRanger admission through the real kubectl against
// `skiff server --disable-agent`. Pods are never scheduled (no node), which quota does not care about; no
// kubelet, proxy or DNS runs, so this test needs no machine lock.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// describeQuota returns the Used and Hard columns of `kubectl describe quota` by resource name.
func describeQuota(t *testing.T, c *cluster, ns, name string) (map[string][2]string, string) {
	out, _, code := c.kubectl(t, "-n", ns, "describe", "quota", name)
	rows := map[string][2]string{}
	if code != 0 {
		return rows, out
	}
	inTable := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "Resource" && f[1] == "Used" && f[2] == "Hard" {
			inTable = true
			continue
		}
		if inTable && len(f) == 3 && !strings.HasPrefix(f[0], "---") {
			rows[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return rows, out
}

func waitUsed(t *testing.T, c *cluster, ns, name string, want map[string]string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("quota %s used %v", name, want), func() (bool, string) {
		rows, out := describeQuota(t, c, ns, name)
		for res, used := range want {
			if rows[res][0] != used {
				return false, out
			}
		}
		return true, out
	})
}

const quotaPod = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  containers:
  - name: app
    image: skiff.local/testapp:dev
    resources:
      requests:
        cpu: %s
        memory: 100Mi
`

func TestResourceQuota(t *testing.T) {
	c := startServer(t, "--disable-agent")
	c.mustKubectl(t, "create", "namespace", "q")

	out := c.mustKubectl(t, "-n", "q", "create", "quota", "compute", "--hard=pods=2,requests.cpu=1,requests.memory=1Gi,services=3")
	if strings.TrimSpace(out) != "resourcequota/compute created" {
		t.Errorf("create quota: %q", out)
	}
	// The controller computes status: hard from spec, used from what the namespace holds.
	waitUsed(t, c, "q", "compute", map[string]string{"pods": "0", "requests.cpu": "0", "requests.memory": "0", "services": "0"})
	rows, desc := describeQuota(t, c, "q", "compute")
	if rows["pods"][1] != "2" || rows["requests.cpu"][1] != "1" || rows["requests.memory"][1] != "1Gi" || rows["services"][1] != "3" {
		t.Errorf("describe quota Hard column:\n%s", desc)
	}

	t.Run("admission charges and refuses", func(t *testing.T) {
		c.mustStdin(t, fmt.Sprintf(quotaPod, "first", "600m"), "-n", "q", "create", "-f", "-")
		// Charged by admission before the pod was stored.
		rows, desc := describeQuota(t, c, "q", "compute")
		if rows["pods"][0] != "1" || rows["requests.cpu"][0] != "600m" || rows["requests.memory"][0] != "100Mi" {
			t.Errorf("usage right after create:\n%s", desc)
		}
		_, errOut, code := c.stdin(t, fmt.Sprintf(quotaPod, "second", "500m"), "-n", "q", "create", "-f", "-")
		want := `Error from server (Forbidden): error when creating "STDIN": pods "second" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1`
		if code == 0 || strings.TrimSpace(errOut) != want {
			t.Errorf("pod over quota: exit %d\n got %q\nwant %q", code, strings.TrimSpace(errOut), want)
		}
		// A container without the requests the quota covers is refused up front.
		_, errOut, code = c.kubectl(t, "-n", "q", "run", "bare", "--image=skiff.local/testapp:dev")
		want = `Error from server (Forbidden): pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: bare; requests.memory for: bare`
		if code == 0 || strings.TrimSpace(errOut) != want {
			t.Errorf("pod without requests: exit %d\n got %q\nwant %q", code, strings.TrimSpace(errOut), want)
		}
		c.mustKubectl(t, "-n", "q", "create", "service", "clusterip", "a", "--tcp=80:8080")
		rows, desc = describeQuota(t, c, "q", "compute")
		if rows["services"][0] != "1" {
			t.Errorf("usage right after creating a service:\n%s", desc)
		}
	})

	t.Run("usage released after delete", func(t *testing.T) {
		c.mustKubectl(t, "-n", "q", "delete", "pod", "first", "--grace-period=0", "--force")
		c.mustKubectl(t, "-n", "q", "delete", "service", "a")
		waitUsed(t, c, "q", "compute", map[string]string{"pods": "0", "requests.cpu": "0", "requests.memory": "0", "services": "0"})
		c.mustStdin(t, fmt.Sprintf(quotaPod, "second", "500m"), "-n", "q", "create", "-f", "-")
	})

	t.Run("spec change recomputes", func(t *testing.T) {
		c.mustKubectl(t, "-n", "q", "patch", "quota", "compute", "--type=merge", "-p", `{"spec":{"hard":{"pods":"5","count/deployments.apps":"4"}}}`)
		waitUsed(t, c, "q", "compute", map[string]string{"pods": "1", "count/deployments.apps": "0"})
		c.mustKubectl(t, "-n", "q", "create", "deployment", "d", "--image=skiff.local/testapp:dev")
		waitUsed(t, c, "q", "compute", map[string]string{"count/deployments.apps": "1"})
		c.mustKubectl(t, "-n", "q", "delete", "deployment", "d")
		waitUsed(t, c, "q", "compute", map[string]string{"count/deployments.apps": "0"})
		rows, desc := describeQuota(t, c, "q", "compute")
		if rows["pods"][1] != "5" || rows["count/deployments.apps"][1] != "4" {
			t.Errorf("Hard after the spec change:\n%s", desc)
		}
	})
}

func TestLimitRanger(t *testing.T) {
	c := startServer(t, "--disable-agent")
	c.mustKubectl(t, "create", "namespace", "lr")
	c.mustStdin(t, `apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 500Mi}
    defaultRequest: {cpu: 100m, memory: 200Mi}
    max: {cpu: 800m}
`, "-n", "lr", "create", "-f", "-")

	c.mustKubectl(t, "-n", "lr", "run", "web", "--image=skiff.local/testapp:dev")
	got := c.mustKubectl(t, "-n", "lr", "get", "pod", "web", "-o",
		`jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory}|{.metadata.annotations.kubernetes\.io/limit-ranger}|{.status.qosClass}`)
	if want := "100m 200Mi 500m 500Mi|LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web|Burstable"; got != want {
		t.Errorf("defaulted pod:\n got %q\nwant %q", got, want)
	}

	_, errOut, code := c.kubectl(t, "-n", "lr", "run", "big", "--image=skiff.local/testapp:dev", "--overrides",
		`{"spec":{"containers":[{"name":"big","image":"skiff.local/testapp:dev","resources":{"limits":{"cpu":"1"}}}]}}`)
	want := `Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 800m, but limit is 1`
	if code == 0 || strings.TrimSpace(errOut) != want {
		t.Errorf("pod over max: exit %d\n got %q\nwant %q", code, strings.TrimSpace(errOut), want)
	}
}
