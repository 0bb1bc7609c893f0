package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestCrashSIGKILLDuringWrites: 32 clients create 1,000 ConfigMaps; the server is SIGKILLed (by its pid) once
// about half are acknowledged; after a restart on the same data dir every acknowledged create is there with
// identical data, uid and resourceVersion, and the failed ones can be completed.
func TestCrashSIGKILLDuringWrites(t *testing.T) {
	c := startServer(t)
	cs := clientFor(t, c, nil)
	const ns, total, workers, killAfter = "crash", 1000, 32, 450
	createNamespace(t, cs, ns)

	acks := newAckLog()
	values := make([]string, total)
	for i := range values {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		values[i] = hex.EncodeToString(b)
	}
	name := func(i int) string { return fmt.Sprintf("crash-%04d", i) }
	var acked, failed atomic.Int64
	killNow := make(chan struct{}) // closed by the writer whose create is the killAfter-th acknowledged
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				out, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: name(i)},
					Data:       map[string]string{"v": values[i]},
				}, metav1.CreateOptions{})
				cancel()
				if err != nil {
					failed.Add(1)
					acks.failed(name(i), values[i], err)
					continue
				}
				if out.Name != name(i) || out.Data["v"] != values[i] || out.UID == "" || out.ResourceVersion == "" {
					t.Errorf("create %s answered %+v", name(i), out.ObjectMeta)
				}
				acks.ok(name(i), values[i], out)
				if acked.Add(1) == killAfter {
					close(killNow)
				}
			}
		}()
	}
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		for i := 0; i < total; i++ {
			jobs <- i
		}
		close(jobs)
	}()

	// Kill mid-stream, with writes in flight.
	select {
	case <-killNow:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d creates acknowledged (%d failed) in 60s", acked.Load(), failed.Load())
	}
	pid := c.PID
	exited := c.Exited()
	ackedAtKill := acked.Load()
	c.Kill(t) // SIGKILL to the server's own process group (pid), never by name
	<-exited
	t.Logf("SIGKILLed pid %d after %v with %d creates acknowledged", pid, time.Since(start).Round(time.Millisecond), ackedAtKill)
	<-feedDone
	wg.Wait()
	nAcked, nFailed := acked.Load(), failed.Load()
	t.Logf("%d creates acknowledged, %d failed (%d acknowledged after the kill was decided)", nAcked, nFailed, nAcked-ackedAtKill)
	if nFailed == 0 {
		t.Fatal("no create failed: the kill did not land during the writes")
	}
	if nAcked+nFailed != total {
		t.Fatalf("%d acked + %d failed != %d", nAcked, nFailed, total)
	}

	c.Start(t)
	cs = clientFor(t, c, nil)
	present := acks.verify(t, cs, ns, "crash-", true)
	t.Logf("after restart: %d of %d attempted creates present (%d acknowledged)", present, total, nAcked)
	if t.Failed() {
		return
	}

	// The unacknowledged creates either happened (AlreadyExists, same data: checked above) or can be done now.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < total; i++ {
		acks.mu.Lock()
		o := acks.objs[name(i)]
		retry := !o.acked
		acks.mu.Unlock()
		if !retry {
			continue
		}
		out, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name(i)}, Data: map[string]string{"v": values[i]},
		}, metav1.CreateOptions{})
		switch {
		case err == nil:
			acks.ok(name(i), values[i], out)
		case apierrors.IsAlreadyExists(err):
		default:
			t.Fatalf("create %s after restart: %v", name(i), err)
		}
	}
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cm := range list.Items {
		if !strings.HasPrefix(cm.Name, "crash-") {
			continue // e.g. kube-root-ca.crt, made by a controller
		}
		n++
		var i int
		if _, err := fmt.Sscanf(cm.Name, "crash-%04d", &i); err != nil || i < 0 || i >= total || cm.Data["v"] != values[i] {
			t.Errorf("%s holds %q", cm.Name, cm.Data["v"])
		}
	}
	if n != total {
		t.Errorf("%d ConfigMaps after completing the writes, want %d", n, total)
	}
}
