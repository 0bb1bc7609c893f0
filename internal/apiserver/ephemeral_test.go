package apiserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ephemeralEnv is a test server with a JSON clientset and a pod "p" (container "app") in namespace "eph".
func ephemeralEnv(t *testing.T) (kubernetes.Interface, *corev1.Pod) {
	t.Helper()
	ts := newTestServer(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: ts.http.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "eph"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := cs.CoreV1().Pods("eph").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "busybox:1.36"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cs, p
}

func debugger(name string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: "busybox:1.36", Command: []string{"sh"}, Stdin: true, TTY: true},
		TargetContainerName:      "app",
	}
}

func TestEphemeralContainersUpdate(t *testing.T) {
	cs, p := ephemeralEnv(t)
	ctx := context.Background()
	pods := cs.CoreV1().Pods("eph")

	got, err := pods.Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Through the subresource only spec.ephemeralContainers changes: the label, the image and the status are ignored.
	in := got.DeepCopy()
	in.Labels["app"] = "other"
	in.Spec.Containers[0].Image = "nginx:1"
	in.Status.Phase = corev1.PodRunning
	in.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger")}
	out, err := pods.UpdateEphemeralContainers(ctx, "p", in, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update ephemeralcontainers: %v", err)
	}
	if out.Labels["app"] != "web" || out.Spec.Containers[0].Image != "busybox:1.36" || out.Status.Phase != got.Status.Phase {
		t.Fatalf("fields besides spec.ephemeralContainers changed: labels %v image %q phase %q", out.Labels, out.Spec.Containers[0].Image, out.Status.Phase)
	}
	if len(out.Spec.EphemeralContainers) != 1 {
		t.Fatalf("ephemeralContainers = %+v", out.Spec.EphemeralContainers)
	}
	ec := out.Spec.EphemeralContainers[0]
	if ec.TerminationMessagePath != corev1.TerminationMessagePathDefault || ec.TerminationMessagePolicy != corev1.TerminationMessageReadFile || ec.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("not defaulted as a container: %+v", ec.EphemeralContainerCommon)
	}
	if ec.TargetContainerName != "app" {
		t.Errorf("targetContainerName = %q", ec.TargetContainerName)
	}
	if out.Generation != p.Generation+1 {
		t.Errorf("generation = %d, want %d (bumped from %d)", out.Generation, p.Generation+1, p.Generation)
	}
	// GET of the subresource returns the pod.
	var viaSub corev1.Pod
	if err := cs.CoreV1().RESTClient().Get().Namespace("eph").Resource("pods").Name("p").SubResource("ephemeralcontainers").Do(ctx).Into(&viaSub); err != nil {
		t.Fatalf("get ephemeralcontainers: %v", err)
	}
	if viaSub.Name != "p" || len(viaSub.Spec.EphemeralContainers) != 1 {
		t.Fatalf("get ephemeralcontainers: %s with %d ephemeral containers", viaSub.Name, len(viaSub.Spec.EphemeralContainers))
	}

	// An existing ephemeral container may be neither changed nor removed.
	changed := out.DeepCopy()
	changed.Spec.EphemeralContainers[0].Image = "busybox:1.37"
	_, err = pods.UpdateEphemeralContainers(ctx, "p", changed, metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed`) {
		t.Errorf("changing an ephemeral container: %v", err)
	}
	removed := out.DeepCopy()
	removed.Spec.EphemeralContainers = nil
	_, err = pods.UpdateEphemeralContainers(ctx, "p", removed, metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `existing ephemeral containers "debugger" may not be removed`) {
		t.Errorf("removing an ephemeral container: %v", err)
	}
	// The main resource may not change them either.
	viaMain := out.DeepCopy()
	viaMain.Spec.EphemeralContainers = append(viaMain.Spec.EphemeralContainers, debugger("second"))
	if _, err := pods.Update(ctx, viaMain, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("adding an ephemeral container through the pod: %v", err)
	}
	// A no-op write keeps the generation.
	same, err := pods.UpdateEphemeralContainers(ctx, "p", out, metav1.UpdateOptions{})
	if err != nil || same.Generation != out.Generation {
		t.Errorf("no-op update: generation %d → %v, %v", out.Generation, same.GetGeneration(), err)
	}
}

func TestEphemeralContainersStrategicMergePatch(t *testing.T) {
	cs, _ := ephemeralEnv(t)
	ctx := context.Background()
	pods := cs.CoreV1().Pods("eph")
	// What kubectl debug sends: the two-way strategic merge patch from the pod to the pod with one more container.
	patch := func(ec corev1.EphemeralContainer) (*corev1.Pod, error) {
		cur, err := pods.Get(ctx, "p", metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		want := cur.DeepCopy()
		want.Spec.EphemeralContainers = append(want.Spec.EphemeralContainers, ec)
		from, _ := json.Marshal(cur)
		to, _ := json.Marshal(want)
		body, err := strategicpatch.CreateTwoWayMergePatch(from, to, cur)
		if err != nil {
			return nil, err
		}
		return pods.Patch(ctx, "p", types.StrategicMergePatchType, body, metav1.PatchOptions{}, "ephemeralcontainers")
	}
	if _, err := patch(debugger("one")); err != nil {
		t.Fatalf("patch: %v", err)
	}
	out, err := patch(debugger("two"))
	if err != nil {
		t.Fatalf("second patch: %v", err)
	}
	var names []string
	for _, ec := range out.Spec.EphemeralContainers {
		names = append(names, ec.Name)
	}
	if strings.Join(names, ",") != "one,two" {
		t.Fatalf("ephemeral containers after two patches = %v, want one,two", names)
	}
	// A JSON merge patch replaces the list: dropping "one" is forbidden.
	_, err = pods.Patch(ctx, "p", types.MergePatchType, []byte(`{"spec":{"ephemeralContainers":[{"name":"two","image":"busybox:1.36"}]}}`), metav1.PatchOptions{}, "ephemeralcontainers")
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `existing ephemeral containers "one" may not be removed`) {
		t.Errorf("merge patch dropping one: %v", err)
	}
	// A JSON patch adding a third works too.
	_, err = pods.Patch(ctx, "p", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"three","image":"busybox:1.36"}}]`), metav1.PatchOptions{}, "ephemeralcontainers")
	if err != nil {
		t.Errorf("json patch: %v", err)
	}
	// A patch of anything else through the subresource is ignored.
	out, err = pods.Patch(ctx, "p", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"app":"x"}},"spec":{"activeDeadlineSeconds":5}}`), metav1.PatchOptions{}, "ephemeralcontainers")
	if err != nil {
		t.Fatalf("patch of other fields: %v", err)
	}
	if out.Labels["app"] != "web" || out.Spec.ActiveDeadlineSeconds != nil {
		t.Errorf("fields besides spec.ephemeralContainers changed: labels %v activeDeadlineSeconds %v", out.Labels, out.Spec.ActiveDeadlineSeconds)
	}
}

func TestEphemeralContainersValidation(t *testing.T) {
	cs, _ := ephemeralEnv(t)
	ctx := context.Background()
	pods := cs.CoreV1().Pods("eph")
	cases := []struct {
		name string
		ec   corev1.EphemeralContainer
		want []string
	}{
		{"name clash with a container", func() corev1.EphemeralContainer { ec := debugger("app"); return ec }(),
			[]string{`spec.ephemeralContainers[0].name: Duplicate value: "app"`}},
		{"no name, no image", corev1.EphemeralContainer{},
			[]string{`spec.ephemeralContainers[0].name: Required value`, `spec.ephemeralContainers[0].image: Required value`}},
		{"unknown target", func() corev1.EphemeralContainer { ec := debugger("d"); ec.TargetContainerName = "nope"; return ec }(),
			[]string{`spec.ephemeralContainers[0].targetContainerName: Not found: "nope"`}},
		{"ports and probes", func() corev1.EphemeralContainer {
			ec := debugger("d")
			ec.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
			ec.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
			ec.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
			always := corev1.ContainerRestartPolicyAlways
			ec.RestartPolicy = &always
			return ec
		}(), []string{
			`spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container`,
			`spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container`,
			`spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container`,
			`spec.ephemeralContainers[0].restartPolicy: Forbidden: cannot be set for an Ephemeral Container`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur, err := pods.Get(ctx, "p", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cur.Spec.EphemeralContainers = []corev1.EphemeralContainer{c.ec}
			_, err = pods.UpdateEphemeralContainers(ctx, "p", cur, metav1.UpdateOptions{})
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want Invalid, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestEphemeralContainersDiscovery(t *testing.T) {
	cs, _ := ephemeralEnv(t)
	list, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.APIResources {
		if r.Name == "pods/ephemeralcontainers" {
			if r.Kind != "Pod" || strings.Join(r.Verbs, ",") != "get,patch,update" {
				t.Errorf("pods/ephemeralcontainers = kind %q verbs %v", r.Kind, r.Verbs)
			}
			return
		}
	}
	t.Error("discovery does not list pods/ephemeralcontainers")
}
