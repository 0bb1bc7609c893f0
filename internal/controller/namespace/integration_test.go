package namespace_test

// Integration test of the namespace controller in the real `skiff server` (built from ./cmd/skiff, or $SKIFF_BIN),
// run with --disable-agent: upstream's "OrderedNamespaceDeletion namespace deletion should delete pod first". Waits
// poll with deadlines; nothing sleeps for a fixed time.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

// eventually polls cond every 100 ms until it holds or 60 s pass.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, state := cond(ctx)
		last = state
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: %v; last seen: %s", what, err, last)
	}
}

func TestNamespaceDeletionDeletesPodsFirst(t *testing.T) {
	s := controllertest.StartServer(t, controllertest.ServerOptions{})
	ctx := context.Background()
	const ns = "ordered"
	if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods, cms := s.Client.CoreV1().Pods(ns), s.Client.CoreV1().ConfigMaps(ns)
	if _, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"e2e.example.com/hold"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "skiff.local/pause:dev"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "test-configmap"}, Data: map[string]string{"key": "value"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// The controller has processed the namespace (its conditions are written) and deleted the pod, which its
	// finalizer holds; the ConfigMap stays while the pod exists.
	eventually(t, "namespace processed and pod being deleted", func(ctx context.Context) (bool, string) {
		n, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		p, err := pods.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		hasCond := false
		for _, c := range n.Status.Conditions {
			hasCond = hasCond || c.Type == corev1.NamespaceDeletionContentFailure
		}
		return n.Status.Phase == corev1.NamespaceTerminating && hasCond && p.DeletionTimestamp != nil,
			fmt.Sprintf("phase %s conditions %v pod deletionTimestamp %v", n.Status.Phase, n.Status.Conditions, p.DeletionTimestamp)
	})
	// Some more syncs of the namespace (it is requeued every second while the pod remains) must not delete it.
	n, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the namespace to be synced again", func(ctx context.Context) (bool, string) {
		cur, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if _, err := cms.Get(ctx, "test-configmap", metav1.GetOptions{}); err != nil {
			t.Fatalf("configmap while the pod still exists: %v", err)
		}
		var remaining string
		for _, c := range cur.Status.Conditions {
			if c.Type == corev1.NamespaceContentRemaining {
				remaining = c.Message
			}
		}
		return remaining == "Some resources are remaining: pods. has 1 resource instances", fmt.Sprintf("rv %s→%s remaining %q", n.ResourceVersion, cur.ResourceVersion, remaining)
	})
	if _, err := cms.Get(ctx, "test-configmap", metav1.GetOptions{}); err != nil {
		t.Fatalf("configmap while the pod still exists: %v", err)
	}

	if _, err := pods.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod, configmap and namespace gone", func(ctx context.Context) (bool, string) {
		_, perr := pods.Get(ctx, "held", metav1.GetOptions{})
		_, cerr := cms.Get(ctx, "test-configmap", metav1.GetOptions{})
		_, nerr := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(perr) && apierrors.IsNotFound(cerr) && apierrors.IsNotFound(nerr),
			fmt.Sprintf("pod: %v; configmap: %v; namespace: %v", perr, cerr, nerr)
	})
}
