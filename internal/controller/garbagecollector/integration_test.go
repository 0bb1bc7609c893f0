package garbagecollector_test

// Integration test of the garbage collector in the real `skiff server` (built from ./cmd/skiff, or $SKIFF_BIN), run
// with --disable-agent: upstream's conformance scenario "should not be blocked by dependency circle". Waits poll
// with deadlines; nothing sleeps for a fixed time.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

func TestForegroundDeletionCycle(t *testing.T) {
	s := controllertest.StartServer(t, controllertest.ServerOptions{})
	ctx := context.Background()
	pods := s.Client.CoreV1().Pods("default")
	uids := map[string]types.UID{}
	for _, name := range []string{"pod1", "pod2", "pod3"} {
		p, err := pods.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "skiff.local/pause:dev"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids[name] = p.UID
	}
	// pod1 is owned by pod3, pod2 by pod1 and pod3 by pod2, each reference blocking its owner's deletion.
	for dep, owner := range map[string]string{"pod1": "pod3", "pod2": "pod1", "pod3": "pod2"} {
		patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}]}}`, owner, uids[owner])
		if _, err := pods.Patch(ctx, dep, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatalf("patch %s: %v", dep, err)
		}
	}
	fg := metav1.DeletePropagationForeground
	if err := pods.Delete(ctx, "pod1", metav1.DeleteOptions{PropagationPolicy: &fg, Preconditions: metav1.NewUIDPreconditions(string(uids["pod1"]))}); err != nil {
		t.Fatal(err)
	}
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil // the last successful list is reported
		}
		var left []string
		for _, p := range list.Items {
			left = append(left, fmt.Sprintf("%s(deleting=%v finalizers=%v owners=%v)", p.Name, p.DeletionTimestamp != nil, p.Finalizers, p.OwnerReferences))
		}
		last = strings.Join(left, " ")
		return len(list.Items) == 0, nil
	})
	if err != nil {
		t.Fatalf("pods not all deleted: %v; left: %s", err, last)
	}
}
