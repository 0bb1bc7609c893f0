package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StartupConfig sets up the startup scenario.
type StartupConfig struct {
	// Pods is how many pods to start; default 10.
	Pods int
	// Concurrency is how many pods start at once; default 1 (one after the other).
	Concurrency int
	// Image is the pods' image; default skiff.local/testapp:dev.
	Image string
	// Timeout is how long one pod may take to become Ready; default 2m.
	Timeout time.Duration
}

// ErrNotRunning is the startup scenario's failure when no pod ever ran.
var ErrNotRunning = errors.New("bench: no pod reached Running (is a kubelet running?)")

func (c *StartupConfig) validate() error {
	if c.Pods <= 0 {
		c.Pods = 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	if c.Image == "" {
		c.Image = "skiff.local/testapp:dev"
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	return nil
}

// RunStartup measures pod startup latency on real nodes: create → Running and
// create → Ready of each pod, Concurrency at a time. Pods keep off simulated nodes by
// node affinity. The result is not OK when no pod reached Running.
func RunStartup(ctx context.Context, env *Env, cfg StartupConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := env.begin(ctx, "startup")
	if err != nil {
		return nil, err
	}
	res := r.res
	res.Param("pods", cfg.Pods)
	res.Param("concurrency", cfg.Concurrency)
	res.Param("image", cfg.Image)
	res.Param("timeout", cfg.Timeout)

	if nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "!" + sim.LabelSimulated}); err == nil {
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		res.Metric("real_nodes_ready", float64(ready), "", "")
		if ready == 0 {
			res.Note("no Ready non-simulated node: pods will not start unless one joins")
		}
	} else {
		res.Note("list nodes: %v", err)
	}

	ns, err := createNamespace(ctx, env, "skiff-bench-startup-")
	if err != nil {
		return nil, err
	}
	res.Param("namespace", ns)
	defer deleteNamespace(env, ns)
	defer deletePods(env, ns)
	tctx, stop := context.WithCancel(ctx)
	defer stop()
	tr := newPodTracker(env.Client, ns, env.Clock)
	go tr.run(tctx)
	if !tr.synced(tctx) {
		res.Fail(errors.New("bench: pod watch never synced"))
		return r.finish(), nil
	}

	spec := podSpec(cfg.Image, 0)
	spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: sim.LabelSimulated, Operator: corev1.NodeSelectorOpDoesNotExist}},
		}}},
	}}
	pods := env.Client.CoreV1().Pods(ns)
	var next, running, ready, timedOut atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, cfg.Pods) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(cfg.Pods) {
					return
				}
				// After a first pod that never ran, do not wait the full timeout for each of the rest.
				if timedOut.Load() > 0 && running.Load() == 0 {
					return
				}
				name := fmt.Sprintf("startup-%03d", i)
				t0 := env.Clock.Now()
				_, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name,
					Labels: map[string]string{"app": "skiff-bench-startup"}}, Spec: *spec.DeepCopy()}, metav1.CreateOptions{})
				at := env.Clock.Now()
				r.rec.Add("create", 0, at.Sub(t0), err)
				if err != nil {
					continue
				}
				tr.setCreated(name, at)
				ok := tr.waitFor(ctx, cfg.Timeout, func() bool { return !tr.get(name).ready.IsZero() })
				p := tr.get(name)
				if !p.running.IsZero() {
					running.Add(1)
					r.rec.AddAt("running", 0, p.running.Sub(r.start), nonNeg(p.running.Sub(at)), nil)
				}
				if !p.ready.IsZero() {
					ready.Add(1)
					r.rec.AddAt("ready", 0, p.ready.Sub(r.start), nonNeg(p.ready.Sub(at)), nil)
				}
				if !ok {
					timedOut.Add(1)
					r.rec.Add("ready", 0, 0, fmt.Errorf("pod %s not Ready within %s", name, cfg.Timeout))
				}
				// Sequential runs measure one pod on an otherwise idle node: remove it first.
				zero := int64(0)
				_ = pods.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
		}()
	}
	wg.Wait()
	res.Metric("pods_running", float64(running.Load()), "", "higher")
	res.Metric("pods_ready", float64(ready.Load()), "", "higher")
	switch {
	case ctx.Err() != nil:
		res.Fail(ctx.Err())
	case running.Load() == 0:
		res.Fail(fmt.Errorf("%w: not within %s", ErrNotRunning, cfg.Timeout))
	case timedOut.Load() > 0:
		res.Fail(fmt.Errorf("bench: %d pods not Ready within %s", timedOut.Load(), cfg.Timeout))
	}
	return r.finish(), nil
}
