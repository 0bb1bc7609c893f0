package manager_test

// Integration test: a real skiff server (internal/server.Run in-process, embedded etcd in a temp dir, no agent),
// whose controller-manager component runs the namespace, serviceaccount and garbage-collector controllers of this
// tree; the test drives it with client-go and waits by polling with deadlines.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/manager"
	"github.com/skiff-sh/skiff/internal/server"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

const deadline = 60 * time.Second

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs skiff's server in-process until the test ends and returns an admin client config.
func startServer(t *testing.T) *rest.Config {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	cfg := server.Config{
		DataDir: dir, BindAddress: "127.0.0.1", Port: freePort(t), DisableAgent: true,
		Log:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Ready: func() { once.Do(func() { close(ready) }) },
	}
	go func() { done <- server.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(deadline):
			t.Errorf("server did not stop within %v", deadline)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server exited before it was ready: %v", err)
	case <-time.After(2 * deadline):
		t.Fatal("server not ready")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, deadline, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %v (last error: %v)", what, deadline, last)
	}
}

func gone(err error) (bool, error) {
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	return false, err
}

func TestControllerManager(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	rc := startServer(t)
	client := kubernetes.NewForConfigOrDie(rc)
	ctx := context.Background()

	t.Run("default service account", func(t *testing.T) {
		createNamespace(t, client, "sa-test")
		eventually(t, "default ServiceAccount in a new namespace", func(ctx context.Context) (bool, error) {
			_, err := client.CoreV1().ServiceAccounts("sa-test").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, err
		})
		if err := client.CoreV1().ServiceAccounts("sa-test").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "deleted default ServiceAccount recreated", func(ctx context.Context) (bool, error) {
			_, err := client.CoreV1().ServiceAccounts("sa-test").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, err
		})
	})

	t.Run("namespace deletion", func(t *testing.T) {
		createNamespace(t, client, "doomed")
		for i := 0; i < 3; i++ {
			createConfigMap(t, client, "doomed", fmt.Sprintf("cm-%d", i), nil)
		}
		held := createConfigMap(t, client, "doomed", "held", nil, "skiff.test/hold")
		if err := client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		// The content goes except what a finalizer holds, and the namespace says so.
		eventually(t, "namespace reports the finalizer holding it", func(ctx context.Context) (bool, error) {
			ns, err := client.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range ns.Status.Conditions {
				if c.Type == corev1.NamespaceFinalizersRemaining && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		cms, err := client.CoreV1().ConfigMaps("doomed").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cms.Items) != 1 || cms.Items[0].Name != "held" || cms.Items[0].DeletionTimestamp == nil {
			t.Fatalf("configmaps left in the terminating namespace: %v, want only held, being deleted", names(cms.Items))
		}
		removeFinalizers(t, client, "doomed", held.Name)
		eventually(t, "namespace deleted", func(ctx context.Context) (bool, error) {
			_, err := client.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
			return gone(err)
		})
	})

	createNamespace(t, client, "gc")

	t.Run("background cascade", func(t *testing.T) {
		a := createConfigMap(t, client, "gc", "bg-a", nil)
		b := createConfigMap(t, client, "gc", "bg-b", ownerRef(a, true))
		c := createConfigMap(t, client, "gc", "bg-c", ownerRef(b, false))
		deleteWith(t, client, "gc", a.Name, metav1.DeletePropagationBackground)
		for _, name := range []string{a.Name, b.Name, c.Name} {
			waitGone(t, client, "gc", name)
		}
	})

	t.Run("foreground cascade", func(t *testing.T) {
		a := createConfigMap(t, client, "gc", "fg-a", nil)
		b := createConfigMap(t, client, "gc", "fg-b", ownerRef(a, true), "skiff.test/hold")
		c := createConfigMap(t, client, "gc", "fg-c", ownerRef(b, true))
		loose := createConfigMap(t, client, "gc", "fg-loose", ownerRef(a, false))
		deleteWith(t, client, "gc", a.Name, metav1.DeletePropagationForeground)
		// c and loose go; b is deleted but held by its finalizer, so a (which b blocks) stays.
		waitGone(t, client, "gc", c.Name)
		waitGone(t, client, "gc", loose.Name)
		eventually(t, "blocking dependent being deleted", func(ctx context.Context) (bool, error) {
			cur, err := client.CoreV1().ConfigMaps("gc").Get(ctx, b.Name, metav1.GetOptions{})
			return err == nil && cur.DeletionTimestamp != nil, err
		})
		owner, err := client.CoreV1().ConfigMaps("gc").Get(ctx, a.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("owner gone while a blocking dependent remains: %v", err)
		}
		if owner.DeletionTimestamp == nil || !contains(owner.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("owner: deletionTimestamp %v, finalizers %v; want it deleting with %s", owner.DeletionTimestamp, owner.Finalizers, metav1.FinalizerDeleteDependents)
		}
		removeFinalizer(t, client, "gc", b.Name, "skiff.test/hold")
		waitGone(t, client, "gc", b.Name)
		waitGone(t, client, "gc", a.Name)
	})

	t.Run("orphan", func(t *testing.T) {
		a := createConfigMap(t, client, "gc", "or-a", nil)
		other := createConfigMap(t, client, "gc", "or-other", nil)
		b := createConfigMap(t, client, "gc", "or-b", ownerRef(a, true))
		c := createConfigMap(t, client, "gc", "or-c", append(ownerRef(a, false), ownerRef(other, true)...))
		deleteWith(t, client, "gc", a.Name, metav1.DeletePropagationOrphan)
		waitGone(t, client, "gc", a.Name)
		// A dependent created now, naming the gone owner, is collected; by then the GC has seen the orphans too.
		late := createConfigMap(t, client, "gc", "or-late", ownerRef(a, false))
		waitGone(t, client, "gc", late.Name)
		for name, want := range map[string][]types.UID{b.Name: nil, c.Name: {other.UID}} {
			cur, err := client.CoreV1().ConfigMaps("gc").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("orphaned dependent %s: %v", name, err)
			}
			var got []types.UID
			for _, r := range cur.OwnerReferences {
				got = append(got, r.UID)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s owner UIDs = %v, want %v", name, got, want)
			}
		}
	})

	t.Run("owner with another UID", func(t *testing.T) {
		a := createConfigMap(t, client, "gc", "uid-a", nil)
		ref := ownerRef(a, false)
		ref[0].UID = "00000000-0000-0000-0000-000000000000"
		b := createConfigMap(t, client, "gc", "uid-b", ref)
		waitGone(t, client, "gc", b.Name)
		if _, err := client.CoreV1().ConfigMaps("gc").Get(ctx, a.Name, metav1.GetOptions{}); err != nil {
			t.Fatalf("the object whose name the reference used: %v", err)
		}
	})

	t.Run("leader election", func(t *testing.T) { testLeaderElection(t, rc, client) })

	t.Run("failing controller stops the manager", func(t *testing.T) {
		boom := errors.New("boom")
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		err := manager.Run(ctx, rc, manager.Options{
			LeaseName: "skiff-test-fail", RetryPeriod: 200 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Controllers: []manager.Registration{
				{Name: "healthy", Workers: 1, New: func(controller.Context) (controller.Controller, error) {
					return &probe{id: "healthy", running: new(atomic.Int32), maxSeen: new(atomic.Int32), started: make(chan string, 1)}, nil
				}},
				{Name: "failing", Workers: 1, New: func(controller.Context) (controller.Controller, error) { return failing{boom}, nil }},
			},
		})
		if !errors.Is(err, boom) || ctx.Err() != nil {
			t.Fatalf("Run = %v (ctx %v), want the controller's error before the deadline", err, ctx.Err())
		}
	})
}

type failing struct{ err error }

func (failing) Name() string                     { return "failing" }
func (f failing) Run(context.Context, int) error { return f.err }

// probe is a controller that records how many instances run at once.
type probe struct {
	id      string
	running *atomic.Int32
	maxSeen *atomic.Int32
	started chan<- string
}

func (p *probe) Name() string { return "probe" }

func (p *probe) Run(ctx context.Context, _ int) error {
	n := p.running.Add(1)
	defer p.running.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	p.started <- p.id
	<-ctx.Done()
	return nil
}

// testLeaderElection runs two managers on one lease: one leads; when it stops, the other takes over; never both.
func testLeaderElection(t *testing.T, rc *rest.Config, client kubernetes.Interface) {
	var running, maxSeen atomic.Int32
	started := make(chan string, 4)
	type mgr struct {
		cancel context.CancelFunc
		done   chan error
	}
	mgrs := map[string]*mgr{}
	for _, id := range []string{"one", "two"} {
		ctx, cancel := context.WithCancel(context.Background())
		m := &mgr{cancel: cancel, done: make(chan error, 1)}
		mgrs[id] = m
		opts := manager.Options{
			Identity: id, LeaseName: "skiff-test", LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 200 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Controllers: []manager.Registration{{Name: "probe", Workers: 1, New: func(controller.Context) (controller.Controller, error) {
				return &probe{id: id, running: &running, maxSeen: &maxSeen, started: started}, nil
			}}},
		}
		go func() { m.done <- manager.Run(ctx, rc, opts) }()
	}
	stop := func(id string) {
		t.Helper()
		m := mgrs[id]
		m.cancel()
		select {
		case err := <-m.done:
			if err != nil {
				t.Errorf("manager %s: %v", id, err)
			}
		case <-time.After(deadline):
			t.Fatalf("manager %s did not return", id)
		}
	}
	defer func() {
		for id := range mgrs {
			mgrs[id].cancel()
		}
	}()
	var first string
	select {
	case first = <-started:
	case <-time.After(deadline):
		t.Fatal("no manager became leader")
	}
	lease, err := client.CoordinationV1().Leases("kube-system").Get(context.Background(), "skiff-test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != first {
		t.Fatalf("lease holder %q, but %q runs the controllers", h, first)
	}
	second := "two"
	if first == "two" {
		second = "one"
	}
	stop(first) // releases the lease
	select {
	case id := <-started:
		if id != second {
			t.Fatalf("%s started again after it stopped", id)
		}
	case <-time.After(deadline):
		t.Fatal("the second manager did not take over")
	}
	stop(second)
	if got := maxSeen.Load(); got != 1 {
		t.Errorf("%d managers ran controllers at once, want 1", got)
	}
	if got := running.Load(); got != 0 {
		t.Errorf("%d controllers still running after both managers returned", got)
	}
}

func createNamespace(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createConfigMap(t *testing.T, client kubernetes.Interface, ns, name string, owners []metav1.OwnerReference, finalizers ...string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: owners, Finalizers: finalizers}}
	out, err := client.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ownerRef(owner *corev1.ConfigMap, block bool) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: ptr.To(block)}}
}

func deleteWith(t *testing.T, client kubernetes.Interface, ns, name string, policy metav1.DeletionPropagation) {
	t.Helper()
	if err := client.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		t.Fatal(err)
	}
}

func waitGone(t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	eventually(t, "configmap "+ns+"/"+name+" deleted", func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		return gone(err)
	})
}

// removeFinalizer drops one finalizer from a configmap, retrying on conflicts with the controllers.
func removeFinalizer(t *testing.T, client kubernetes.Interface, ns, name, finalizer string) {
	t.Helper()
	eventually(t, "finalizer "+finalizer+" removed from "+name, func(ctx context.Context) (bool, error) {
		cur, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		var kept []string
		for _, f := range cur.Finalizers {
			if f != finalizer {
				kept = append(kept, f)
			}
		}
		cur.Finalizers = kept
		_, err = client.CoreV1().ConfigMaps(ns).Update(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return err == nil, err
	})
}

func removeFinalizers(t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	eventually(t, "finalizers removed from "+name, func(ctx context.Context) (bool, error) {
		cur, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return gone(err)
		}
		cur.Finalizers = nil
		_, err = client.CoreV1().ConfigMaps(ns).Update(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return err == nil, err
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func names(items []corev1.ConfigMap) []string {
	var out []string
	for _, i := range items {
		out = append(out, i.Name)
	}
	return out
}
