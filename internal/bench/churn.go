package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ChurnConfig sets up the churn scenario.
type ChurnConfig struct {
	// Rate is creates per second; once Live objects exist each create is matched by
	// the delete of the oldest, so the server sees 2×Rate writes per second. Default 20.
	Rate float64
	// Duration is how long to churn; default 60s.
	Duration time.Duration
	// Live is how many objects exist at steady state; default 100.
	Live int
	// Kind is what to churn: "configmap" (default) or "pod" (unschedulable unless
	// something binds them; deleting an unbound pod is immediate).
	Kind string
	// Concurrency bounds the requests in flight; a tick that finds them all busy waits
	// for one and counts as late. Default 32.
	Concurrency int
	// ObjectSize is the bytes of data in each ConfigMap; default 1024.
	ObjectSize int
	// Image is the pods' image, for Kind "pod".
	Image string
	// ListInterval, when > 0, lists a whole namespace (one unpaged LIST, the largest namespace-scoped
	// call) this often, the namespaces in turn, recorded as op "list".
	ListInterval time.Duration
	// Namespaces spreads the objects round-robin over this many namespaces, as Kubernetes' own load tests
	// spread a large cluster's pods; default 1.
	Namespaces int
}

func (c *ChurnConfig) validate() error {
	if c.Rate == 0 {
		c.Rate = 20
	}
	if !(c.Rate > 0) {
		return ErrBadRate
	}
	if c.Duration <= 0 {
		c.Duration = time.Minute
	}
	if c.Live <= 0 {
		c.Live = 100
	}
	switch c.Kind {
	case "":
		c.Kind = "configmap"
	case "configmap", "pod":
	default:
		return fmt.Errorf("bench: churn kind %q: want configmap or pod", c.Kind)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.ObjectSize <= 0 {
		c.ObjectSize = 1024
	}
	if c.Image == "" {
		c.Image = "registry.k8s.io/pause:3.10"
	}
	if c.Namespaces <= 0 {
		c.Namespaces = 1
	}
	return nil
}

// RunChurn creates objects at Rate for Duration, deleting the oldest once Live exist,
// and records create and delete latency and the server's RSS over time. Operations
// that complete once Live objects exist are also recorded as "held-create",
// "held-delete" and "held-list": the server's latency while it holds them all.
func RunChurn(ctx context.Context, env *Env, cfg ChurnConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := env.begin(ctx, "churn")
	if err != nil {
		return nil, err
	}
	res := r.res
	res.Param("rate", cfg.Rate)
	res.Param("duration", cfg.Duration)
	res.Param("live", cfg.Live)
	res.Param("kind", cfg.Kind)
	res.Param("concurrency", cfg.Concurrency)
	res.Param("list_interval", cfg.ListInterval)
	res.Param("namespaces", cfg.Namespaces)
	namespaces := make([]string, 0, cfg.Namespaces)
	defer func() {
		// All namespaces at once: one at a time, 150,000 pods in 50 namespaces took minutes.
		var wg sync.WaitGroup
		for _, ns := range namespaces {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if cfg.Kind == "pod" {
					deletePods(env, ns)
				}
				deleteNamespace(env, ns)
			}()
		}
		wg.Wait()
	}()
	for range cfg.Namespaces {
		ns, err := createNamespace(ctx, env, "skiff-bench-churn-")
		if err != nil {
			return nil, err
		}
		namespaces = append(namespaces, ns)
	}
	res.Param("namespace", namespaces[0])
	nsOf := func(k int64) string { return namespaces[k%int64(len(namespaces))] }

	data := strings.Repeat("x", cfg.ObjectSize)
	spec := podSpec(cfg.Image, 0)
	name := func(k int64) string { return fmt.Sprintf("churn-%07d", k) }
	create := func(ctx context.Context, k int64) error {
		ns := nsOf(k)
		meta := metav1.ObjectMeta{Name: name(k), Labels: map[string]string{"skiff.dev/bench": "churn"}}
		if cfg.Kind == "pod" {
			_, err := env.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: meta, Spec: *spec.DeepCopy()}, metav1.CreateOptions{})
			return err
		}
		_, err := env.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"data": data}}, metav1.CreateOptions{})
		return err
	}
	del := func(ctx context.Context, k int64) error {
		ns := nsOf(k)
		var err error
		if cfg.Kind == "pod" {
			zero := int64(0)
			err = env.Client.CoreV1().Pods(ns).Delete(ctx, name(k), metav1.DeleteOptions{GracePeriodSeconds: &zero})
		} else {
			err = env.Client.CoreV1().ConfigMaps(ns).Delete(ctx, name(k), metav1.DeleteOptions{})
		}
		if apierrors.IsNotFound(err) {
			return nil // its create failed
		}
		return err
	}

	list := func(ctx context.Context, ns string) (int, error) {
		if cfg.Kind == "pod" {
			l, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		}
		l, err := env.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	}
	// held turns true once Live objects exist (the first matching delete is sent).
	var held atomic.Bool
	record := func(verb string, t0 time.Time, err error) {
		if ctx.Err() != nil {
			return
		}
		d := env.Clock.Since(t0)
		r.rec.Add(verb, 0, d, err)
		if held.Load() {
			r.rec.Add("held-"+verb, 0, d, err)
		}
	}

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	end := env.Clock.After(cfg.Duration)
	go func() {
		select {
		case <-end:
			cancel()
		case <-pctx.Done():
		}
	}()
	pacer, err := NewPacer(env.Clock, cfg.Rate)
	if err != nil {
		return nil, err
	}
	type job struct {
		k      int64
		delete bool
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				t0 := env.Clock.Now()
				verb, err := "create", error(nil)
				if j.delete {
					verb, err = "delete", del(ctx, j.k)
				} else {
					err = create(ctx, j.k)
				}
				record(verb, t0, err)
			}
		}()
	}
	var maxListed atomic.Int64
	if cfg.ListInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lists int64
			tick := env.Clock.NewTicker(cfg.ListInterval)
			defer tick.Stop()
			for {
				select {
				case <-pctx.Done():
					return
				case <-tick.C():
				}
				t0 := env.Clock.Now()
				n, err := list(ctx, nsOf(lists))
				lists++
				record("list", t0, err)
				if int64(n) > maxListed.Load() {
					maxListed.Store(int64(n))
				}
			}
		}()
	}
	var late atomic.Int64
	var maxLag time.Duration
	var ticks int64
	send := func(j job) {
		select {
		case jobs <- j:
			return
		default:
		}
		late.Add(1) // every worker busy: the server is behind the offered rate
		select {
		case jobs <- j:
		case <-pctx.Done():
		}
	}
	for {
		k, lag, err := pacer.Wait(pctx)
		if err != nil {
			break
		}
		ticks = k + 1
		maxLag = max(maxLag, lag)
		send(job{k: k})
		if k >= int64(cfg.Live) {
			held.Store(true)
			send(job{k: k - int64(cfg.Live), delete: true})
		}
	}
	close(jobs)
	wg.Wait()
	if cfg.ListInterval > 0 {
		res.Metric("most_objects_listed", float64(maxListed.Load()), "", "")
	}
	r.rec.Span("create", 0, cfg.Duration)
	r.rec.Span("delete", 0, cfg.Duration)
	res.Metric("offered_rate", cfg.Rate, "creates/s", "")
	res.Metric("ticks", float64(ticks), "", "")
	res.Metric("late_ops", float64(late.Load()), "", "lower")
	res.Metric("max_pacer_lag", maxLag.Seconds()*1000, "ms", "lower")
	if late.Load() > 0 {
		res.Note("%d operations waited for a free worker: the server did not keep up with %.0f creates/s at concurrency %d",
			late.Load(), cfg.Rate, cfg.Concurrency)
	}
	if err := ctx.Err(); err != nil {
		res.Fail(err)
	}
	return r.finish(), nil
}
