package sim

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// eventually polls cond, nudging the fake clock forward by nudge between polls, until it holds
// or 10 real seconds pass.
func eventually(t *testing.T, clk *clock.Fake, nudge time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(2 * time.Millisecond):
		}
		if nudge > 0 {
			clk.Step(nudge)
		}
	}
}

func TestSimNodesAndPods(t *testing.T) {
	client := fake.NewClientset()
	clk := clock.NewFake(t0)
	s, err := New(Config{
		Client: client, Nodes: 3, Clock: clk,
		Delays:        Delays{Start: time.Second, Ready: time.Second},
		LeaseInterval: time.Second, StatusInterval: 2 * time.Second,
		Cleanup: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("sim never became ready")
	}
	bg := context.Background()

	// Nodes and leases are registered and marked.
	for i, name := range s.NodeNames() {
		n, err := client.CoreV1().Nodes().Get(bg, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node %s: %v", name, err)
		}
		if n.Labels[LabelSimulated] != "true" || n.Status.NodeInfo.KubeletVersion != KubeletVersion || !hasReady(n) {
			t.Errorf("node %s not a registered simulated node: %+v", name, n)
		}
		if got, want := n.Status.Addresses[0].Address, HostIP(i).String(); got != want {
			t.Errorf("node %s InternalIP=%s, want %s", name, got, want)
		}
		if _, err := client.CoordinationV1().Leases(LeaseNamespace).Get(bg, name, metav1.GetOptions{}); err != nil {
			t.Errorf("lease %s: %v", name, err)
		}
	}
	if got := s.Stats().Registered; got != 3 {
		t.Errorf("Registered=%d, want 3", got)
	}

	// A pod bound to a simulated node goes Pending, Running, Ready as the clock moves.
	pods := client.CoreV1().Pods("default")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-web"},
		Spec:       corev1.PodSpec{NodeName: "sim-node-00002", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}
	other := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "default", UID: "uid-other"},
		Spec:       corev1.PodSpec{NodeName: "real-node", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}
	for _, p := range []*corev1.Pod{pod, other} {
		if _, err := pods.Create(bg, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stage := func() Stage {
		p, err := pods.Get(bg, "web", metav1.GetOptions{})
		if err != nil {
			return StageNew
		}
		return StageOf(&p.Status)
	}
	eventually(t, clk, 0, "pod pending", func() bool { return stage() == StagePending })
	eventually(t, clk, 50*time.Millisecond, "pod running", func() bool { return stage() >= StageRunning })
	eventually(t, clk, 50*time.Millisecond, "pod ready", func() bool { return stage() == StageReady })
	got, _ := pods.Get(bg, "web", metav1.GetOptions{})
	if ip := netip.MustParseAddr(got.Status.PodIP); !netip.MustParsePrefix("10.244.1.0/24").Contains(ip) {
		t.Errorf("PodIP=%s, want one in sim-node-00002's 10.244.1.0/24", ip)
	}
	if got.Status.HostIP != HostIP(1).String() {
		t.Errorf("HostIP=%s, want %s", got.Status.HostIP, HostIP(1))
	}
	if o, _ := pods.Get(bg, "elsewhere", metav1.GetOptions{}); o.Status.StartTime != nil {
		t.Errorf("pod on a real node was touched: %+v", o.Status)
	}

	// Leases and status heartbeats are renewed as the clock moves.
	before := s.Stats()
	eventually(t, clk, 100*time.Millisecond, "heartbeats", func() bool {
		st := s.Stats()
		return st.LeaseRenewals >= before.LeaseRenewals+6 && st.StatusUpdates >= before.StatusUpdates+3
	})
	l, _ := client.CoordinationV1().Leases(LeaseNamespace).Get(bg, "sim-node-00001", metav1.GetOptions{})
	if !l.Spec.RenewTime.Time.After(t0) {
		t.Errorf("lease renewTime %v not renewed after %v", l.Spec.RenewTime, t0)
	}

	// A pod being deleted is finished off.
	got.DeletionTimestamp = &metav1.Time{Time: clk.Now()}
	if _, err := pods.Update(bg, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, clk, 0, "pod deleted", func() bool {
		_, err := pods.Get(bg, "web", metav1.GetOptions{})
		// The delete is counted after it returns, so wait for the count too.
		return apierrors.IsNotFound(err) && s.Stats().PodDeletes > 0
	})
	if st := s.Stats(); st.PodDeletes != 1 || st.PodsReady != 1 {
		t.Errorf("stats: %+v", st)
	}

	// Cleanup deletes the nodes when Start returns.
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start: %v", err)
	}
	done <- nil
	list, _ := client.CoreV1().Nodes().List(bg, metav1.ListOptions{})
	if len(list.Items) != 0 {
		t.Errorf("%d nodes left after cleanup", len(list.Items))
	}
}

func TestConfigValidate(t *testing.T) {
	client := fake.NewClientset()
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{name: "no client", cfg: Config{Nodes: 1}, want: ErrNoClient},
		{name: "no nodes", cfg: Config{Client: client}, want: ErrNoNodes},
		{name: "ok", cfg: Config{Client: client, Nodes: 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err != tt.want {
				t.Fatalf("err=%v, want %v", err, tt.want)
			}
		})
	}
	if _, err := New(Config{Client: client, Nodes: 1 << 17}); err == nil {
		t.Error("131072 nodes: want an error (no /24 left)")
	}
	if _, err := New(Config{Client: client, Nodes: 1, Delays: Delays{Start: -1}}); err == nil {
		t.Error("negative delay: want an error")
	}
}
