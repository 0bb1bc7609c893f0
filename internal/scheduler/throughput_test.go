package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestThroughput measures the server's own scheduler end to end: pods created through the API at full
// speed, throughput from the first create to the last binding, and create→bound latency percentiles.
// It runs only with SKIFF_SCHED_BENCH=NODESxPODS (e.g. 1000x10000), and SKIFF_SCHED_BENCH_KIND=basic
// (default), spread (hostname DoNotSchedule + zone ScheduleAnyway, 100 pods per app) or antiaffinity
// (required hostname anti-affinity, 100 pods per app). Nodes are plain objects (32 cpu, 256Gi, 110 pods,
// 10 zones).
func TestThroughput(t *testing.T) {
	spec := os.Getenv("SKIFF_SCHED_BENCH")
	if spec == "" {
		t.Skip("set SKIFF_SCHED_BENCH=NODESxPODS")
	}
	var nNodes, nPods int
	if _, err := fmt.Sscanf(spec, "%dx%d", &nNodes, &nPods); err != nil {
		t.Fatalf("SKIFF_SCHED_BENCH=%q: %v", spec, err)
	}
	kind := os.Getenv("SKIFF_SCHED_BENCH_KIND")
	if kind == "" {
		kind = "basic"
	}
	s := startServer(t)
	cfg := rest.CopyConfig(s.config)
	cfg.QPS, cfg.Burst = 20000, 40000
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	parallel(t, nNodes, 16, func(i int) error {
		n := st.Node(fmt.Sprintf("node-%05d", i), "32", "256Gi", st.Labels("topology.kubernetes.io/zone", fmt.Sprint("zone-", i%10)))
		_, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		return err
	})

	w, err := client.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	created := make(map[string]time.Time, nPods)
	bound := make(map[string]time.Time, nPods)
	allBound := make(chan struct{})
	go func() {
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*v1.Pod)
			if !ok || (ev.Type != watch.Modified && ev.Type != watch.Added) || p.Spec.NodeName == "" {
				continue
			}
			mu.Lock()
			if _, seen := bound[p.Name]; !seen {
				bound[p.Name] = time.Now()
				if len(bound) == nPods {
					close(allBound)
				}
			}
			mu.Unlock()
		}
	}()
	start := time.Now()
	parallel(t, nPods, 32, func(i int) error {
		name := fmt.Sprintf("pod-%05d", i)
		app := fmt.Sprint("app-", i/100)
		opts := []st.PodOpt{st.PodLabels("app", app)}
		switch kind {
		case "spread":
			opts = append(opts, st.Spread(1, "kubernetes.io/hostname", v1.DoNotSchedule, "app", app),
				st.Spread(1, "topology.kubernetes.io/zone", v1.ScheduleAnyway, "app", app))
		case "antiaffinity":
			opts = append(opts, st.RequiredAntiAffinity(st.Term("app", app, "kubernetes.io/hostname")))
		}
		p := st.Pod(name, "100m", "200Mi", opts...)
		p.UID, p.Spec.Priority = "", nil
		mu.Lock()
		created[name] = time.Now()
		mu.Unlock()
		_, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
		return err
	})
	createdAll := time.Since(start)
	select {
	case <-allBound:
	case <-time.After(20 * time.Minute):
		mu.Lock()
		t.Fatalf("only %d of %d pods bound after 20 minutes", len(bound), nPods)
	}
	mu.Lock()
	defer mu.Unlock()
	var last time.Time
	lat := make([]time.Duration, 0, nPods)
	perNode := map[string]int{}
	for name, b := range bound {
		if b.After(last) {
			last = b
		}
		lat = append(lat, b.Sub(created[name]))
	}
	list, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		perNode[p.Spec.NodeName]++
	}
	minP, maxP := nPods, 0
	for i := 0; i < nNodes; i++ {
		c := perNode[fmt.Sprintf("node-%05d", i)]
		minP, maxP = min(minP, c), max(maxP, c)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	total := last.Sub(start)
	t.Logf("%s %d nodes / %d pods: created in %v; first create → all bound %v = %.0f pods/s; create→bound p50 %v p99 %v; pods per node min %d max %d",
		kind, nNodes, nPods, createdAll.Round(time.Millisecond), total.Round(time.Millisecond), float64(nPods)/total.Seconds(),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), minP, maxP)
}

// parallel runs f(0..n-1) on workers goroutines and fails t on the first error.
func parallel(t *testing.T, n, workers int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}
