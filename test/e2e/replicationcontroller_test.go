package e2e

// The ReplicationController controller through the real kubectl: a real `skiff server --disable-agent` whose pods
// are run by simulated nodes (internal/sim, in this test process). No kubelet, proxy or DNS runs, so this file
// needs no machine lock. Each subtest has its own namespace and runs in parallel with the others.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// rcEnv is what every subtest shares.
type rcEnv struct {
	c      *cluster
	client kubernetes.Interface
}

// TestReplicationControllerKubectl drives ReplicationControllers through the real kubectl on simulated nodes:
// create with a defaulted selector, owner references and status, scale, pod replacement, release of a
// relabelled pod, adoption of a matching orphan, the ReplicaFailure condition while pod creation is refused,
// and background and orphan cascading deletes.
func TestReplicationControllerKubectl(t *testing.T) {
	c := startServer(t)
	rc, client := restAndClient(t, c)
	simNodes(t, rc, "rc-", 2, sim.Delays{Start: 50 * time.Millisecond, Ready: 200 * time.Millisecond})
	env := &rcEnv{c: c, client: client}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *rcEnv, string)
	}{
		{"CreateScaleReplace", testRCCreateScaleReplace},
		{"ReleaseAndAdopt", testRCReleaseAndAdopt},
		{"ReplicaFailure", testRCReplicaFailure},
		{"DeleteCascade", testRCDeleteCascade},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := "rc-" + strings.ToLower(tc.name)
			c.mustKubectl(t, "create", "namespace", ns)
			tc.run(t, env, ns)
		})
	}
}

// rcYAML is a ReplicationController of replicas pods labelled app=name, with no selector (defaulted from the
// template's labels); extra holds more pod spec fields, each line indented by six spaces.
func rcYAML(name string, replicas int, extra string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ReplicationController
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 0
%[3]s      containers:
      - name: app
        image: skiff.dev/testapp:v1
`, name, replicas, extra)
}

// rcPods lists the live pods labelled app, by name, with the UID of their controller ("" for none).
func (e *rcEnv) rcPods(ns, app string) (map[string]string, error) {
	list, err := e.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		out[p.Name] = ""
		if ref := metav1.GetControllerOf(&p); ref != nil {
			out[p.Name] = string(ref.UID)
		}
	}
	return out, nil
}

// rcSettled reports whether RC name has replicas live Ready pods, every one of them (and no other pod labelled
// app=name) controlled by it with upstream's owner reference, and a status that says so for its generation.
func (e *rcEnv) rcSettled(ns, name string, replicas int32) (bool, string) {
	ctx := context.Background()
	rc, err := e.client.CoreV1().ReplicationControllers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err.Error()
	}
	st := rc.Status
	state := fmt.Sprintf("generation=%d status=%+v", rc.Generation, st)
	ok := st.ObservedGeneration == rc.Generation && st.Replicas == replicas && st.FullyLabeledReplicas == replicas &&
		st.ReadyReplicas == replicas && st.AvailableReplicas == replicas && len(st.Conditions) == 0
	list, err := e.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return false, err.Error()
	}
	var live int32
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		live++
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.APIVersion != "v1" || ref.Kind != "ReplicationController" || ref.Name != name ||
			ref.UID != rc.UID || !ptr.Deref(ref.BlockOwnerDeletion, false) {
			ok = false
			state += fmt.Sprintf("; pod %s controller %+v", p.Name, ref)
		}
		if !podReady(&p) {
			ok = false
		}
	}
	state += fmt.Sprintf("; %d live pods", live)
	return ok && live == replicas, state
}

func (e *rcEnv) waitSettled(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("rc/%s settled at %d", name, replicas), func() (bool, string) {
		return e.rcSettled(ns, name, replicas)
	})
}

// rcEvents returns "reason message" of the events about RC name, one a line.
func (e *rcEnv) rcEvents(t *testing.T, ns, name string) string {
	t.Helper()
	return e.c.mustKubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.kind=ReplicationController,involvedObject.name="+name,
		"-o", `jsonpath={range .items[*]}{.reason} {.message}{"\n"}{end}`)
}

func testRCCreateScaleReplace(t *testing.T, e *rcEnv, ns string) {
	out := e.c.mustStdin(t, rcYAML("web", 3, ""), "create", "-n", ns, "-f", "-")
	wantContains(t, "kubectl create", out, "replicationcontroller/web created")
	// The selector is defaulted from the template's labels, as kube-apiserver does.
	if got := e.c.mustKubectl(t, "get", "-n", ns, "rc/web", "-o", "jsonpath={.spec.selector}"); got != `{"app":"web"}` {
		t.Errorf("defaulted selector %s", got)
	}
	e.waitSettled(t, ns, "web", 3)

	for _, n := range []int32{5, 1} {
		out := e.c.mustKubectl(t, "scale", "-n", ns, "rc/web", fmt.Sprintf("--replicas=%d", n))
		wantContains(t, "kubectl scale", out, "replicationcontroller/web scaled")
		e.waitSettled(t, ns, "web", n)
	}

	before, err := e.rcPods(ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for name := range before {
		victim = name
	}
	e.c.mustKubectl(t, "delete", "-n", ns, "pod", victim)
	eventually(t, 60*time.Second, "the deleted pod replaced", func() (bool, string) {
		ok, state := e.rcSettled(ns, "web", 1)
		pods, err := e.rcPods(ns, "web")
		if err != nil {
			return false, err.Error()
		}
		_, back := pods[victim]
		return ok && !back, state
	})

	// The events, worded as upstream's, on the ReplicationController.
	eventually(t, 30*time.Second, "SuccessfulCreate and SuccessfulDelete events", func() (bool, string) {
		ev := e.rcEvents(t, ns, "web")
		return strings.Contains(ev, "SuccessfulCreate Created pod: web-") && strings.Contains(ev, "SuccessfulDelete Deleted pod: web-"), ev
	})
}

func testRCReleaseAndAdopt(t *testing.T, e *rcEnv, ns string) {
	// An orphan pod that matches is adopted by the RC created after it, which then needs no other pod.
	e.c.mustStdin(t, `apiVersion: v1
kind: Pod
metadata:
  name: pod-adopt
  labels: {app: adopt}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: skiff.dev/testapp:v1
`, "create", "-n", ns, "-f", "-")
	e.c.mustStdin(t, rcYAML("adopt", 1, ""), "create", "-n", ns, "-f", "-")
	e.waitSettled(t, ns, "adopt", 1)
	pods, err := e.rcPods(ns, "adopt")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pods["pod-adopt"]; !ok || len(pods) != 1 {
		t.Fatalf("pods %v, want the adopted pod-adopt only", pods)
	}

	// Relabelled out of the selector, the pod is released (no owner reference left) and replaced.
	e.c.mustKubectl(t, "label", "-n", ns, "pod/pod-adopt", "app=released", "--overwrite")
	eventually(t, 60*time.Second, "pod-adopt released and replaced", func() (bool, string) {
		ok, state := e.rcSettled(ns, "adopt", 1)
		p, err := e.client.CoreV1().Pods(ns).Get(context.Background(), "pod-adopt", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return ok && len(p.OwnerReferences) == 0, fmt.Sprintf("%s; released pod's owners %+v", state, p.OwnerReferences)
	})
}

func testRCReplicaFailure(t *testing.T, e *rcEnv, ns string) {
	// Pod admission refuses the template (its PriorityClass does not exist yet): the RC reports ReplicaFailure.
	class := "rc-failure-" + fmt.Sprint(time.Now().UnixNano()%100000)
	e.c.mustStdin(t, rcYAML("fail", 2, "      priorityClassName: "+class+"\n"), "create", "-n", ns, "-f", "-")
	eventually(t, 60*time.Second, "ReplicaFailure condition", func() (bool, string) {
		out := e.c.mustKubectl(t, "get", "-n", ns, "rc/fail", "-o",
			`jsonpath={range .status.conditions[*]}{.type}/{.status}/{.reason}/{.message}{end}`)
		return strings.HasPrefix(out, "ReplicaFailure/True/FailedCreate/") && strings.Contains(out, "no PriorityClass with name "+class), out
	})
	eventually(t, 30*time.Second, "FailedCreate event", func() (bool, string) {
		ev := e.rcEvents(t, ns, "fail")
		return strings.Contains(ev, "FailedCreate Error creating: ") && strings.Contains(ev, "no PriorityClass with name "+class), ev
	})
	// Once the class exists the pods are created and the condition goes.
	e.c.mustKubectl(t, "create", "priorityclass", class, "--value=1000")
	t.Cleanup(func() { e.c.kubectl(t, "delete", "priorityclass", class) })
	e.waitSettled(t, ns, "fail", 2)
}

func testRCDeleteCascade(t *testing.T, e *rcEnv, ns string) {
	e.c.mustStdin(t, rcYAML("bg", 2, "")+"---\n"+rcYAML("keep", 2, "")+"---\n"+rcYAML("plain", 1, ""), "create", "-n", ns, "-f", "-")
	e.waitSettled(t, ns, "bg", 2)
	e.waitSettled(t, ns, "keep", 2)
	e.waitSettled(t, ns, "plain", 1)

	// kubectl's default cascade (background): the RC goes, the garbage collector deletes its pods.
	wantContains(t, "kubectl delete rc", e.c.mustKubectl(t, "delete", "-n", ns, "rc/bg"), `replicationcontroller "bg" deleted`)
	eventually(t, 60*time.Second, "the pods of rc/bg gone", func() (bool, string) {
		pods, err := e.rcPods(ns, "bg")
		if err != nil {
			return false, err.Error()
		}
		return len(pods) == 0, fmt.Sprint(pods)
	})

	// --cascade=orphan: the RC goes, its pods stay without owner references.
	wantContains(t, "kubectl delete rc --cascade=orphan", e.c.mustKubectl(t, "delete", "-n", ns, "rc/keep", "--cascade=orphan"),
		`replicationcontroller "keep" deleted`)
	e.waitOrphaned(t, ns, "keep")

	// A delete without a propagation policy orphans too: kube-apiserver's default for core/v1 ReplicationControllers.
	if err := e.client.CoreV1().ReplicationControllers(ns).Delete(context.Background(), "plain", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitOrphaned(t, ns, "plain")
}

// waitOrphaned waits until RC name is gone and its pods (those labelled app=name now) are all still there, with no
// controller.
func (e *rcEnv) waitOrphaned(t *testing.T, ns, name string) {
	t.Helper()
	kept, err := e.rcPods(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "rc/"+name+" gone, its pods orphaned", func() (bool, string) {
		_, err := e.client.CoreV1().ReplicationControllers(ns).Get(context.Background(), name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return false, fmt.Sprintf("rc/%s: %v", name, err)
		}
		pods, err := e.rcPods(ns, name)
		if err != nil {
			return false, err.Error()
		}
		var names []string
		for pod, owner := range pods {
			if owner != "" {
				return false, fmt.Sprintf("pod %s still controlled by %s", pod, owner)
			}
			names = append(names, pod)
		}
		slices.Sort(names)
		var want []string
		for pod := range kept {
			want = append(want, pod)
		}
		slices.Sort(want)
		return slices.Equal(names, want), fmt.Sprintf("pods %v, want %v", names, want)
	})
}
