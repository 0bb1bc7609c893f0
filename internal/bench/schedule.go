package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-sh/skiff/internal/sim"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScheduleConfig sets up the schedule scenario.
type ScheduleConfig struct {
	// Nodes is how many simulated nodes to start in-process; default 100.
	Nodes int
	// Pods is how many pods to schedule; default 1000.
	Pods int
	// Workload is "pods" (bare pods, created by the benchmark) or "deployment"
	// (one Deployment of Pods replicas); default "pods".
	Workload string
	// Constraints adds placement rules to every pod: "" (none), "spread" (a hard topology spread over hostnames,
	// maxSkew 1) or "anti-affinity" (required pod anti-affinity on hostname against the pods of the same one of
	// AntiAffinityGroups groups; bare pods only, and Pods must fit: at most groups × nodes).
	Constraints string
	// CreateConcurrency is how many bare-pod creates are in flight; default 16.
	CreateConcurrency int
	// BindTimeout fails the scenario when no pod at all is bound this long after the
	// first create (no scheduler running); default 30s.
	BindTimeout time.Duration
	// Timeout bounds the wait for every pod to be bound and Ready; default 5m.
	Timeout time.Duration
	// Image is the pods' image (the simulated nodes run nothing); default registry.k8s.io/pause:3.10.
	Image string
	// NamePrefix names the simulated nodes; default "sim-bench-".
	NamePrefix string
	// PodStartDelay and PodReadyDelay are the simulated pod stage delays.
	PodStartDelay, PodReadyDelay time.Duration
	// SimQPS is the simulator's client rate limit; default 1000.
	SimQPS float32
	// KeepNodes leaves the simulated nodes registered afterwards.
	KeepNodes bool
}

// ErrNoBinding is the schedule scenario's failure when no pod was ever bound.
var ErrNoBinding = errors.New("bench: no pod was bound to a node (is a scheduler running?)")

func (c *ScheduleConfig) validate() error {
	if c.Nodes <= 0 {
		c.Nodes = 100
	}
	if c.Pods <= 0 {
		c.Pods = 1000
	}
	switch c.Workload {
	case "":
		c.Workload = "pods"
	case "pods", "deployment":
	default:
		return fmt.Errorf("bench: workload %q: want pods or deployment", c.Workload)
	}
	switch c.Constraints {
	case "", "spread":
	case "anti-affinity":
		if c.Workload != "pods" {
			return errors.New("bench: --constraints anti-affinity needs --workload pods (each pod has its own group label)")
		}
		if c.Pods > AntiAffinityGroups*c.Nodes {
			return fmt.Errorf("bench: %d pods with required anti-affinity in %d groups do not fit on %d nodes", c.Pods, AntiAffinityGroups, c.Nodes)
		}
	default:
		return fmt.Errorf("bench: constraints %q: want spread or anti-affinity", c.Constraints)
	}
	if c.CreateConcurrency <= 0 {
		c.CreateConcurrency = 16
	}
	if c.BindTimeout <= 0 {
		c.BindTimeout = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Image == "" {
		c.Image = "registry.k8s.io/pause:3.10"
	}
	if c.NamePrefix == "" {
		c.NamePrefix = "sim-bench-"
	}
	return nil
}

// RunSchedule starts Nodes simulated nodes in this process, creates Pods pods that only
// fit there, and measures how fast they are bound (and, through the simulator, become
// Ready). The result is not OK if no pod was bound within BindTimeout or not all within
// Timeout.
func RunSchedule(ctx context.Context, env *Env, cfg ScheduleConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if env.REST == nil {
		return nil, errors.New("bench: schedule needs a REST config for the simulator")
	}
	r, err := env.begin(ctx, "schedule")
	if err != nil {
		return nil, err
	}
	res := r.res
	res.Param("nodes", cfg.Nodes)
	res.Param("pods", cfg.Pods)
	res.Param("workload", cfg.Workload)
	res.Param("constraints", cfg.Constraints)
	res.Param("create_concurrency", cfg.CreateConcurrency)
	res.Param("bind_timeout", cfg.BindTimeout)
	res.Param("timeout", cfg.Timeout)
	res.Param("pod_start_delay", cfg.PodStartDelay)
	res.Param("pod_ready_delay", cfg.PodReadyDelay)

	// Simulated nodes.
	podClient, hbClient, err := sim.Clients(env.REST, cfg.Nodes, cfg.SimQPS)
	if err != nil {
		return nil, err
	}
	s, err := sim.New(sim.Config{
		Client: podClient, HeartbeatClient: hbClient, Nodes: cfg.Nodes, NamePrefix: cfg.NamePrefix,
		Delays:  sim.Delays{Start: cfg.PodStartDelay, Ready: cfg.PodReadyDelay},
		Cleanup: !cfg.KeepNodes, Clock: env.Clock, Log: env.Log.With("component", "sim"),
		ReportInterval: 10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	simDone := make(chan error, 1)
	go func() { simDone <- s.Start(simCtx) }()
	defer func() {
		stopSim()
		if err := <-simDone; err != nil {
			env.Log.Warn("bench: simulator", "err", err)
		}
	}()
	regStart := env.Clock.Now()
	select {
	case <-s.Ready():
	case <-ctx.Done():
		res.Fail(ctx.Err())
		return r.finish(), nil
	}
	st := s.Stats()
	res.Metric("nodes_registered", float64(st.Registered), "", "")
	res.Metric("node_registration", env.Clock.Since(regStart).Seconds(), "s", "lower")
	if st.Registered == 0 {
		res.Fail(errors.New("bench: no simulated node could be registered"))
		return r.finish(), nil
	}

	ns, err := createNamespace(ctx, env, "skiff-bench-schedule-")
	if err != nil {
		return nil, err
	}
	res.Param("namespace", ns)
	// Runs before the simulator stops, so that it can finish the pods' deletion.
	defer cleanupScheduled(env, ns)
	tctx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr := newPodTracker(env.Client, ns, env.Clock)
	go tr.run(tctx)
	if !tr.synced(tctx) {
		res.Fail(errors.New("bench: pod watch never synced"))
		return r.finish(), nil
	}

	spec := podSpec(cfg.Image, 1)
	spec.NodeSelector = map[string]string{sim.LabelSimulated: "true"}
	spec.Tolerations = []corev1.Toleration{{Key: sim.LabelSimulated, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	labels := map[string]string{"app": "skiff-bench-schedule"}
	var perPod func(i int, pod *corev1.Pod)
	switch cfg.Constraints {
	case "spread":
		spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelHostname,
			WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}}
	case "anti-affinity":
		perPod = antiAffinityPod
	}
	cpu0, _ := sim.CPUTime(0)
	first := env.Clock.Now()
	createErrs := 0
	switch cfg.Workload {
	case "pods":
		createErrs = createPods(ctx, env, r, tr, ns, cfg.Pods, cfg.CreateConcurrency, labels, spec, perPod)
	case "deployment":
		replicas := int32(cfg.Pods)
		t0 := env.Clock.Now()
		_, err := env.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "bench"},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
			},
		}, metav1.CreateOptions{})
		r.rec.Add("create-deployment", 0, env.Clock.Since(t0), err)
		if err != nil {
			res.Fail(fmt.Errorf("create deployment: %w", err))
			return r.finish(), nil
		}
	}
	if createErrs > 0 {
		res.Note("%d pod creates failed", createErrs)
	}
	want := cfg.Pods - createErrs

	// Wait for the first binding, then for all.
	bound := func() int { _, b, _, _ := counts(tr.snapshot()); return b }
	if !tr.waitFor(ctx, max(0, cfg.BindTimeout-env.Clock.Since(first)), func() bool { return bound() > 0 }) {
		seen, _, _, _ := counts(tr.snapshot())
		err := ErrNoBinding
		if cfg.Workload == "deployment" && seen == 0 {
			err = errors.New("bench: the Deployment made no pods (is the controller manager running?)")
		}
		res.Fail(fmt.Errorf("%w: none of %d pods bound within %s", err, want, cfg.BindTimeout))
		res.Metric("pods_bound", 0, "", "higher")
		return r.finish(), nil
	}
	allBound := tr.waitFor(ctx, cfg.Timeout-env.Clock.Since(first), func() bool { return bound() >= want })
	if !allBound {
		res.Fail(fmt.Errorf("bench: only %d of %d pods bound within %s", bound(), want, cfg.Timeout))
	}
	// The simulator makes bound pods Running and Ready; wait for that too, within the timeout.
	ready := func() int { _, _, _, rd := counts(tr.snapshot()); return rd }
	if allBound && !tr.waitFor(ctx, max(0, cfg.Timeout-env.Clock.Since(first)), func() bool { return ready() >= want }) {
		res.Note("only %d of %d pods became Ready within %s", ready(), want, cfg.Timeout)
	}
	cpu1, _ := sim.CPUTime(0)
	wall := env.Clock.Since(first)

	// Figures.
	pods := tr.snapshot()
	var lastBound time.Time
	for _, p := range pods {
		start := p.start()
		if start.IsZero() {
			continue
		}
		if !p.bound.IsZero() {
			r.rec.AddAt("bind", 0, p.bound.Sub(r.start), nonNeg(p.bound.Sub(start)), nil)
			if p.bound.After(lastBound) {
				lastBound = p.bound
			}
		}
		if !p.running.IsZero() {
			r.rec.AddAt("running", 0, p.running.Sub(r.start), nonNeg(p.running.Sub(start)), nil)
		}
		if !p.ready.IsZero() {
			r.rec.AddAt("ready", 0, p.ready.Sub(r.start), nonNeg(p.ready.Sub(start)), nil)
		}
	}
	nb := bound()
	res.Metric("pods_bound", float64(nb), "", "higher")
	if !lastBound.IsZero() {
		span := lastBound.Sub(first).Seconds()
		res.Metric("time_to_all_bound", span, "s", "lower")
		res.Metric("bind_throughput", perSecond(nb, span), "pods/s", "higher")
	}
	st = s.Stats()
	res.Metric("sim_errors", float64(st.Errors), "", "lower")
	if wall > 0 {
		res.Metric("bench_process_cpu", 100*float64(cpu1-cpu0)/float64(wall), "% of one core", "lower")
		res.Note("bench_process_cpu is this process (benchmark and simulator together) while pods were scheduled")
	}
	return r.finish(), nil
}

// cleanupScheduled removes what the schedule scenario made in ns: the Deployment first
// (so no pod comes back), then every pod at once with grace 0, then the namespace, and
// waits up to a minute for the namespace to go while the simulator still runs.
func cleanupScheduled(env *Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = env.Client.AppsV1().Deployments(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	_ = env.Client.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	deletePods(env, ns)
	deleteNamespace(env, ns)
	for ctx.Err() == nil {
		if _, err := env.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
		case <-env.Clock.After(200 * time.Millisecond):
		}
	}
	env.Log.Warn("bench: namespace still there after a minute", "namespace", ns)
}

// createPods creates n bare pods named pod-00000... with conc creates in flight, noting
// each acknowledgement in tr and each create's latency as op "create"; it returns how
// many failed.
func createPods(ctx context.Context, env *Env, r *run, tr *podTracker, ns string, n, conc int, labels map[string]string, spec corev1.PodSpec, perPod func(int, *corev1.Pod)) int {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	pods := env.Client.CoreV1().Pods(ns)
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				name := fmt.Sprintf("pod-%05d", i)
				t0 := env.Clock.Now()
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: maps.Clone(labels)}, Spec: *spec.DeepCopy()}
				if perPod != nil {
					perPod(int(i), pod)
				}
				_, err := pods.Create(ctx, pod, metav1.CreateOptions{})
				at := env.Clock.Now()
				r.rec.Add("create", conc, at.Sub(t0), err)
				if err != nil {
					failed.Add(1)
					continue
				}
				tr.setCreated(name, at)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

// AntiAffinityGroups is how many anti-affinity groups the "anti-affinity" constraints spread the pods over.
const AntiAffinityGroups = 20

// antiAffinityPod puts pod i in group i mod AntiAffinityGroups and forbids it a node that runs a pod of its group.
func antiAffinityPod(i int, pod *corev1.Pod) {
	group := fmt.Sprintf("g%02d", i%AntiAffinityGroups)
	pod.Labels["skiff.dev/bench-group"] = group
	pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey:   corev1.LabelHostname,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"skiff.dev/bench-group": group}},
		}},
	}}
}
