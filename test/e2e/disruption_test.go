package e2e

// The disruption controller through the real kubectl: a PodDisruptionBudget's status on a Deployment run by
// simulated nodes (internal/sim, in this test process), `kubectl get pdb`, and `kubectl drain` evicting only as
// far as the budget allows. No kubelet, proxy or DNS runs, so this file needs no machine lock.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDisruptionKubectl runs a Deployment of 3 with a PodDisruptionBudget of minAvailable 2 on one node, then
// drains that node: kubectl evicts one pod, is refused the others ("Cannot evict pod as it would violate the
// pod's disruption budget") until the replacements on the second node are Ready, and finishes.
func TestDisruptionKubectl(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	// The first node runs the pods from the start; the second, added to the pool later, makes its pods
	// Ready only after 2 s, so that the drain has to wait for them.
	first, _ := simNodes(t, rc, "pdb-a-", 1, sim.Delays{Start: 50 * time.Millisecond, Ready: 200 * time.Millisecond})
	second, _ := simNodes(t, rc, "pdb-b-", 1, sim.Delays{Start: 50 * time.Millisecond, Ready: 2 * time.Second})
	const ns = "pdb"
	c.mustKubectl(t, "label", "node", first[0], "pool=pdb")
	c.mustKubectl(t, "create", "namespace", ns)
	c.mustStdin(t, deploymentYAML("web", 3, "skiff.local/testapp:dev", "")+
		"      nodeSelector: {pool: pdb}\n", "apply", "-n", ns, "-f", "-")
	c.mustStdin(t, `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
`, "apply", "-n", ns, "-f", "-")
	env := &ctlEnv{c: c, client: client}
	env.rolloutOK(t, ns, "web")

	ctx := context.Background()
	budget := func(want string) func() (bool, string) {
		return func() (bool, string) {
			pdb, err := client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			got := describePDB(pdb)
			return got == want, got
		}
	}
	eventually(t, 30*time.Second, "the budget's status", budget(fmt.Sprintf(
		"gen=%d expected=3 desired=2 healthy=3 allowed=1 disrupted=0 DisruptionAllowed=True/SufficientPods", 1)))

	out := c.mustKubectl(t, "get", "pdb", "-n", ns)
	rows := lines(out)
	if len(rows) != 2 || strings.Join(strings.Fields(rows[0]), " ") != "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE" ||
		!strings.HasPrefix(strings.Join(strings.Fields(rows[1]), " "), "web 2 N/A 1 ") {
		t.Fatalf("kubectl get pdb:\n%s", out)
	}

	// Drain the first node once the second can take the pods; the budget allows one eviction at a time.
	c.mustKubectl(t, "label", "node", second[0], "pool=pdb")
	w := env.watchReady(t, ns, "web")
	stdout, stderr, code := c.kubectlWith(t, kubectlOpts{timeout: 110 * time.Second}, "drain", first[0], "--timeout=100s")
	events, minReady, maxPods, lowest := w.stop()
	if code != 0 {
		t.Fatalf("kubectl drain: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	all := stdout + stderr
	wantContains(t, "kubectl drain", all, "Cannot evict pod as it would violate the pod's disruption budget.")
	wantContains(t, "kubectl drain", all, "node/"+first[0]+" drained")
	if n := strings.Count(all, " evicted\n"); n != 3 {
		t.Errorf("kubectl drain evicted %d pods, want 3:\n%s", n, all)
	}
	if minReady < 2 {
		t.Errorf("ready pods fell to %d (at %s; %d events, at most %d pods): the budget of 2 was not kept", minReady, lowest, events, maxPods)
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == first[0] && p.DeletionTimestamp == nil {
			t.Errorf("pod %s still on %s after the drain", p.Name, p.Spec.NodeName)
		}
	}
	// The evicted pods are gone and their replacements Ready: the budget allows one disruption again.
	eventually(t, 30*time.Second, "the budget after the drain", budget(fmt.Sprintf(
		"gen=%d expected=3 desired=2 healthy=3 allowed=1 disrupted=0 DisruptionAllowed=True/SufficientPods", 1)))

	// Raising minAvailable to 3 leaves no disruption: an eviction is refused with the budget's numbers.
	c.mustKubectl(t, "patch", "pdb", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"minAvailable":3}}`)
	eventually(t, 30*time.Second, "the budget at minAvailable 3", budget(fmt.Sprintf(
		"gen=%d expected=3 desired=3 healthy=3 allowed=0 disrupted=0 DisruptionAllowed=False/InsufficientPods", 2)))
	if pods, err = client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"}); err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods: %v", err)
	}
	victim := pods.Items[0].Name
	err = client.CoreV1().Pods(ns).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: victim, Namespace: ns}})
	if err == nil || !strings.Contains(err.Error(), "Cannot evict pod as it would violate the pod's disruption budget.") {
		t.Fatalf("eviction under minAvailable 3: %v", err)
	}
}

// describePDB is a PDB's status in one comparable line.
func describePDB(pdb *policyv1.PodDisruptionBudget) string {
	st := pdb.Status
	cond := "none"
	if c := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition); c != nil {
		cond = string(c.Status) + "/" + c.Reason
	}
	gen := fmt.Sprintf("gen=%d", pdb.Generation)
	if st.ObservedGeneration != pdb.Generation {
		gen = fmt.Sprintf("gen=%d observed=%d", pdb.Generation, st.ObservedGeneration)
	}
	return fmt.Sprintf("%s expected=%d desired=%d healthy=%d allowed=%d disrupted=%d DisruptionAllowed=%s",
		gen, st.ExpectedPods, st.DesiredHealthy, st.CurrentHealthy, st.DisruptionsAllowed, len(st.DisruptedPods), cond)
}
