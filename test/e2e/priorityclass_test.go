package e2e

// scheduling.k8s.io/v1 PriorityClasses and the Priority admission step through the real kubectl against
// `skiff server --disable-agent`, and a preemption by a Deployment's pod on one simulated node. No kubelet, proxy
// or DNS runs, so this test needs no machine lock.

import (
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
)

func TestPriorityClasses(t *testing.T) {
	c := startServer(t)

	t.Run("discovery", func(t *testing.T) {
		out := c.mustKubectl(t, "api-resources", "--api-group=scheduling.k8s.io", "--no-headers")
		if got, want := strings.Join(strings.Fields(out), " "), "priorityclasses pc scheduling.k8s.io/v1 false PriorityClass"; got != want {
			t.Errorf("api-resources: %q, want %q", got, want)
		}
	})

	t.Run("built-in classes", func(t *testing.T) {
		out := c.mustKubectl(t, "get", "pc")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY" {
			t.Fatalf("kubectl get pc:\n%s", out)
		}
		for i, want := range [][]string{
			{"system-cluster-critical", "2000000000", "false", "PreemptLowerPriority"},
			{"system-node-critical", "2000001000", "false", "PreemptLowerPriority"},
		} {
			f := strings.Fields(lines[i+1])
			if len(f) != 5 || f[0] != want[0] || f[1] != want[1] || f[2] != want[2] || f[4] != want[3] {
				t.Errorf("row %d: %q, want %v", i+1, lines[i+1], want)
			}
		}
		desc := c.mustKubectl(t, "get", "pc", "system-node-critical", "-o", "jsonpath={.description}")
		if desc != "Used for system critical pods that must not be moved from their current node." {
			t.Errorf("description %q", desc)
		}
		_, errOut, code := c.kubectl(t, "delete", "pc", "system-node-critical")
		if want := `Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted`; code == 0 || strings.TrimSpace(errOut) != want {
			t.Errorf("delete system-node-critical: exit %d, stderr %q, want %q", code, errOut, want)
		}
	})

	t.Run("create, print, validate", func(t *testing.T) {
		if out := c.mustKubectl(t, "create", "priorityclass", "high", "--value=1000", "--description=x"); strings.TrimSpace(out) != "priorityclass.scheduling.k8s.io/high created" {
			t.Errorf("create: %q", out)
		}
		out := c.mustKubectl(t, "get", "pc", "high", "--no-headers")
		if f := strings.Fields(out); len(f) != 5 || f[0] != "high" || f[1] != "1000" || f[2] != "false" || f[4] != "PreemptLowerPriority" {
			t.Errorf("get pc high: %q", out)
		}
		if out := c.mustKubectl(t, "get", "priorityclasses", "--field-selector", "metadata.name=high", "-o", "name"); strings.TrimSpace(out) != "priorityclass.scheduling.k8s.io/high" {
			t.Errorf("field selector: %q", out)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"create", "priorityclass", "too-high", "--value=1000000001"},
				`error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "too-high" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000`},
			{[]string{"create", "priorityclass", "system-mine", "--value=1"},
				`error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "system-mine" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class`},
			{[]string{"patch", "pc", "high", "-p", `{"value":5}`},
				`The PriorityClass "high" is invalid: value: Forbidden: may not be changed in an update.`},
			{[]string{"patch", "pc", "high", "-p", `{"preemptionPolicy":"Never"}`},
				`The PriorityClass "high" is invalid: preemptionPolicy: Invalid value: "Never": field is immutable`},
		} {
			_, errOut, code := c.kubectl(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("kubectl %s: exit %d, stderr %q, want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
			}
		}
		out = c.mustKubectl(t, "explain", "priorityclass.value")
		for _, want := range []string{"GROUP:      scheduling.k8s.io", "KIND:       PriorityClass", "VERSION:    v1", "FIELD: value <integer>"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain priorityclass.value lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("manifests apply client- and server-side", func(t *testing.T) {
		manifest := "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: %s\nvalue: 500\npreemptionPolicy: Never\ndescription: from a manifest\n"
		for _, tc := range []struct{ name, flag, manager string }{
			{"csa", "--server-side=false", "kubectl-client-side-apply"},
			{"ssa", "--server-side", "kubectl"},
		} {
			c.mustStdin(t, strings.Replace(manifest, "%s", tc.name, 1), "apply", tc.flag, "-f", "-")
			got := c.mustKubectl(t, "get", "pc", tc.name, "-o", "jsonpath={.value} {.preemptionPolicy} {.metadata.managedFields[0].manager}")
			if want := "500 Never " + tc.manager; got != want {
				t.Errorf("%s: %q, want %q", tc.name, got, want)
			}
		}
	})

	pod := func(name, spec string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n" + spec +
			"  containers:\n  - name: app\n    image: skiff.dev/testapp:v1\n"
	}
	t.Run("pod admission", func(t *testing.T) {
		c.mustStdin(t, pod("with-class", "  priorityClassName: high\n"), "create", "-f", "-")
		if got := c.mustKubectl(t, "get", "pod", "with-class", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}"); got != "1000 PreemptLowerPriority" {
			t.Errorf("priority and policy %q, want 1000 PreemptLowerPriority", got)
		}
		for _, tc := range []struct{ name, spec, want string }{
			{"unknown", "  priorityClassName: foo\n", `pods "unknown" is forbidden: no PriorityClass with name foo was found`},
			{"own-priority", "  priority: 5\n",
				`pods "own-priority" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name`},
		} {
			_, errOut, code := c.stdin(t, pod(tc.name, tc.spec), "create", "-f", "-")
			if want := `Error from server (Forbidden): error when creating "STDIN": ` + tc.want; code == 0 || strings.TrimSpace(errOut) != want {
				t.Errorf("pod %s: exit %d, stderr %q, want %q", tc.name, code, errOut, want)
			}
		}
	})

	t.Run("one global default", func(t *testing.T) {
		c.mustKubectl(t, "create", "priorityclass", "batch-default", "--value=10", "--global-default", "--preemption-policy=Never")
		_, errOut, code := c.kubectl(t, "create", "priorityclass", "second-default", "--value=20", "--global-default")
		// kubectl create priorityclass prints the server's Forbidden message after its own prefix.
		if want := `error: failed to create priorityclass: priorityclasses.scheduling.k8s.io "second-default" is forbidden: PriorityClass batch-default is already marked as default. Only one default can exist`; code == 0 || strings.TrimSpace(errOut) != want {
			t.Errorf("second default: exit %d, stderr %q, want %q", code, errOut, want)
		}
		c.mustStdin(t, pod("defaulted", ""), "create", "-f", "-")
		if got := c.mustKubectl(t, "get", "pod", "defaulted", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority} {.spec.preemptionPolicy}"); got != "batch-default 10 Never" {
			t.Errorf("defaulted pod: %q, want batch-default 10 Never", got)
		}
		c.mustKubectl(t, "delete", "pc", "batch-default")
	})

	t.Run("a Deployment's pod preempts on a simulated node", func(t *testing.T) {
		rc, err := c.RESTConfig()
		if err != nil {
			t.Fatal(err)
		}
		names, _ := simNodes(t, rc, "pc-", 1, sim.Delays{})
		node := names[0]
		// The node has 32 CPUs: the two 20-CPU pods cannot both run.
		c.mustStdin(t, pod("victim", "  nodeSelector:\n    kubernetes.io/hostname: "+node+"\n")+
			"    resources:\n      requests:\n        cpu: \"20\"\n", "create", "-f", "-")
		eventually(t, 30*time.Second, "victim running on "+node, func() (bool, string) {
			out, _, _ := c.kubectl(t, "get", "pod", "victim", "-o", "jsonpath={.spec.nodeName} {.status.phase}")
			return out == node+" Running", out
		})
		c.mustStdin(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: urgent
spec:
  replicas: 1
  selector:
    matchLabels: {app: urgent}
  template:
    metadata:
      labels: {app: urgent}
    spec:
      priorityClassName: high
      containers:
      - name: app
        image: skiff.dev/testapp:v1
        resources:
          requests:
            cpu: "20"
`, "apply", "-f", "-")
		eventually(t, 45*time.Second, "the urgent pod running on "+node+" and the victim gone", func() (bool, string) {
			out, _, _ := c.kubectl(t, "get", "pods", "-l", "app=urgent", "-o", "jsonpath={range .items[*]}{.spec.priority} {.spec.nodeName} {.status.phase}{end}")
			victim, _, _ := c.kubectl(t, "get", "pods", "--field-selector", "metadata.name=victim", "-o", "name")
			return out == "1000 "+node+" Running" && strings.TrimSpace(victim) == "", "urgent: " + out + "; victim: " + victim
		})
		ev := c.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=victim,reason=Preempted", "-o", "jsonpath={.items[*].message}")
		if !strings.Contains(ev, "on node "+node) {
			t.Errorf("Preempted event of the victim: %q", ev)
		}
	})
}
