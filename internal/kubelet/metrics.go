package kubelet

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Prometheus metrics of the kubelet, with the kubelet's names, labels and buckets (pkg/kubelet/metrics and
// metrics/collectors/resource_metrics.go): /metrics has the node name, running pods and containers, pod start and
// pod worker durations, runtime operations (crimetrics.go), started pods and containers, and the Go and process
// collectors; /metrics/resource has the node's, pods' and containers' CPU and memory, which metrics-server scrapes.
// Running counts and resource figures are read from the runtime at scrape time.

// podStartBuckets are kubelet_pod_start_duration_seconds' buckets.
var podStartBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}

// kubeletMetrics holds the kubelet's two registries and the state of the pod-start measurement.
type kubeletMetrics struct {
	reg, resourceReg *prometheus.Registry
	cri              *criMetrics
	podStart         prometheus.Histogram
	workerCreate     prometheus.Observer
	workerSync       prometheus.Observer
	workerKill       prometheus.Observer

	mu    sync.Mutex // guards pods
	pods  map[types.UID]*podStartState
	now   func() time.Time
	since func(time.Time) time.Duration
}

// podStartState is when the kubelet first synced a pod and whether its start was measured.
type podStartState struct {
	firstSeen time.Time
	measured  bool
}

// newKubeletMetrics builds the registries of k; its runtime figures come from k.cri when scraped.
func newKubeletMetrics(k *Kubelet) *kubeletMetrics {
	m := &kubeletMetrics{
		reg: prometheus.NewRegistry(), resourceReg: prometheus.NewRegistry(), cri: newCRIMetrics(),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pod_start_duration_seconds",
			Help:    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
			Buckets: podStartBuckets}),
		pods: map[types.UID]*podStartState{}, now: k.clock.Now, since: k.clock.Since,
	}
	worker := prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pod_worker_duration_seconds",
		Help:    "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
		Buckets: prometheus.DefBuckets}, []string{"operation_type"})
	m.workerCreate, m.workerSync, m.workerKill = worker.WithLabelValues("create"), worker.WithLabelValues("sync"), worker.WithLabelValues("kill")
	nodeName := prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: "kubelet", Name: "node_name",
		Help: "The node's name. The count is always 1."}, []string{"node"})
	nodeName.WithLabelValues(k.cfg.NodeName).Set(1)
	m.cri.containerType = func(ns, pod, container string) string { return containerType(k, ns, pod, container) }
	m.reg.MustRegister(nodeName, m.podStart, worker, &runningCollector{k: k},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(m.cri.collectors()...)
	m.resourceReg.MustRegister(&resourceCollector{k: k})
	return m
}

// containerType is the container_type label of a container of a pod bound here.
func containerType(k *Kubelet, ns, pod, container string) string {
	if k.podLister == nil {
		return "container"
	}
	p, err := k.podLister.Pods(ns).Get(pod)
	if err != nil {
		return "container"
	}
	for _, c := range p.Spec.InitContainers {
		if c.Name == container {
			return "init_container"
		}
	}
	for _, c := range p.Spec.EphemeralContainers {
		if c.Name == container {
			return "ephemeral_container"
		}
	}
	return "container"
}

// handlers registers /metrics and /metrics/resource on mux.
func (m *kubeletMetrics) handlers(mux *http.ServeMux) {
	if m == nil {
		return
	}
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.Handle("/metrics/resource", promhttp.HandlerFor(m.resourceReg, promhttp.HandlerOpts{}))
}

// synced records one sync of w's pod that began at start (kubelet_pod_worker_duration_seconds) and, the first time
// the pod is reported Running, the time since the kubelet first synced it (kubelet_pod_start_duration_seconds). Pods
// adopted from the runtime after a restart are not measured. done means the worker ends.
func (m *kubeletMetrics) synced(w *podWorker, start time.Time, done bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.pods[w.uid]
	took := m.since(start).Seconds()
	switch {
	case st == nil:
		st = &podStartState{firstSeen: start, measured: w.adopted}
		m.pods[w.uid] = st
		m.workerCreate.Observe(took)
	case done || (w.lastPod != nil && w.lastPod.DeletionTimestamp != nil):
		m.workerKill.Observe(took)
	default:
		m.workerSync.Observe(took)
	}
	if !st.measured && w.lastStatus != nil && w.lastStatus.Phase == corev1.PodRunning {
		st.measured = true
		m.podStart.Observe(m.now().Sub(st.firstSeen).Seconds())
	}
	if done {
		delete(m.pods, w.uid)
	}
}

// scrapeTimeout bounds the runtime calls of one scrape.
const scrapeTimeout = 10 * time.Second

// runningCollector reports kubelet_running_pods (ready sandboxes) and kubelet_running_containers by state.
type runningCollector struct{ k *Kubelet }

var (
	runningPodsDesc = prometheus.NewDesc("kubelet_running_pods", "Number of pods that have a running pod sandbox", nil, nil)
	runningCtrsDesc = prometheus.NewDesc("kubelet_running_containers", "Number of containers currently running", []string{"container_state"}, nil)
)

func (c *runningCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- runningPodsDesc
	ch <- runningCtrsDesc
}

func (c *runningCollector) Collect(ch chan<- prometheus.Metric) {
	if c.k.cri == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if sbs, err := c.k.cri.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}}); err == nil {
		ch <- prometheus.MustNewConstMetric(runningPodsDesc, prometheus.GaugeValue, float64(len(sbs.Items)))
	}
	if cs, err := c.k.cri.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{}); err == nil {
		counts := map[string]int{"created": 0, "running": 0, "exited": 0, "unknown": 0}
		for _, ctr := range cs.Containers {
			counts[containerStateLabel(ctr.State)]++
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(runningCtrsDesc, prometheus.GaugeValue, float64(n), state)
		}
	}
}

// containerStateLabel is the kubelet's name of a CRI container state.
func containerStateLabel(s runtimeapi.ContainerState) string {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return "created"
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return "running"
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return "exited"
	}
	return "unknown"
}

// resourceCollector serves /metrics/resource from /proc and the runtime's container stats, as the kubelet's
// resource metrics collector does (cumulative CPU, working set, start time; each sample with its timestamp).
type resourceCollector struct{ k *Kubelet }

var (
	nodeCPUDesc = prometheus.NewDesc("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", nil, nil)
	nodeMemDesc = prometheus.NewDesc("node_memory_working_set_bytes", "Current working set of the node in bytes", nil, nil)
	ctrCPUDesc  = prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds",
		[]string{"container", "pod", "namespace"}, nil)
	ctrMemDesc = prometheus.NewDesc("container_memory_working_set_bytes", "Current working set of the container in bytes",
		[]string{"container", "pod", "namespace"}, nil)
	ctrStartDesc = prometheus.NewDesc("container_start_time_seconds", "Start time of the container since unix epoch in seconds",
		[]string{"container", "pod", "namespace"}, nil)
	podCPUDesc = prometheus.NewDesc("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds",
		[]string{"pod", "namespace"}, nil)
	podMemDesc       = prometheus.NewDesc("pod_memory_working_set_bytes", "Current working set of the pod in bytes", []string{"pod", "namespace"}, nil)
	scrapeErrorDesc  = prometheus.NewDesc("scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", nil, nil)
	resScrapeErrDesc = prometheus.NewDesc("resource_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", nil, nil)
)

func (c *resourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodeCPUDesc, nodeMemDesc, ctrCPUDesc, ctrMemDesc, ctrStartDesc, podCPUDesc, podMemDesc, scrapeErrorDesc, resScrapeErrDesc} {
		ch <- d
	}
}

func (c *resourceCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.k.clock.Now()
	if busy, ok := procCPU(); ok {
		ch <- prometheus.NewMetricWithTimestamp(now, prometheus.MustNewConstMetric(nodeCPUDesc, prometheus.CounterValue, float64(busy)/1e9))
	}
	if total, avail := readMeminfo(); total > 0 {
		ch <- prometheus.NewMetricWithTimestamp(now, prometheus.MustNewConstMetric(nodeMemDesc, prometheus.GaugeValue, float64(total-avail)))
	}
	scrapeErr := 0.0
	if err := c.collectContainers(ch); err != nil {
		scrapeErr = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, scrapeErr)
	ch <- prometheus.MustNewConstMetric(resScrapeErrDesc, prometheus.GaugeValue, scrapeErr)
}

// collectContainers sends the running containers' figures and their pods' sums.
func (c *resourceCollector) collectContainers(ch chan<- prometheus.Metric) error {
	if c.k.cri == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	cs, err := c.k.cri.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}})
	if err != nil {
		return err
	}
	stats, err := c.k.cri.rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{})
	if err != nil {
		return err
	}
	byID := make(map[string]*runtimeapi.Container, len(cs.Containers))
	for _, ctr := range cs.Containers {
		byID[ctr.Id] = ctr
	}
	type podKey struct{ ns, name string }
	type podSum struct {
		cpu, mem     float64
		cpuTS, memTS time.Time
	}
	pods := map[podKey]*podSum{}
	var order []podKey
	for _, st := range stats.Stats {
		if st.Attributes == nil {
			continue
		}
		ctr := byID[st.Attributes.Id]
		if ctr == nil || ctr.Labels[labelPodName] == "" {
			continue
		}
		name, pod, ns := ctr.Labels[labelContainerName], ctr.Labels[labelPodName], ctr.Labels[labelPodNamespace]
		pk := podKey{ns, pod}
		ps := pods[pk]
		if ps == nil {
			ps = &podSum{}
			pods[pk] = ps
			order = append(order, pk)
		}
		if cpu := st.Cpu; cpu != nil && cpu.UsageCoreNanoSeconds != nil {
			ts := time.Unix(0, cpu.Timestamp)
			v := float64(cpu.UsageCoreNanoSeconds.Value) / 1e9
			ch <- prometheus.NewMetricWithTimestamp(ts, prometheus.MustNewConstMetric(ctrCPUDesc, prometheus.CounterValue, v, name, pod, ns))
			ps.cpu += v
			if ts.After(ps.cpuTS) {
				ps.cpuTS = ts
			}
		}
		if mem := st.Memory; mem != nil && mem.WorkingSetBytes != nil {
			ts := time.Unix(0, mem.Timestamp)
			v := float64(mem.WorkingSetBytes.Value)
			ch <- prometheus.NewMetricWithTimestamp(ts, prometheus.MustNewConstMetric(ctrMemDesc, prometheus.GaugeValue, v, name, pod, ns))
			ps.mem += v
			if ts.After(ps.memTS) {
				ps.memTS = ts
			}
		}
		if ctr.CreatedAt > 0 {
			ch <- prometheus.MustNewConstMetric(ctrStartDesc, prometheus.GaugeValue, float64(ctr.CreatedAt)/1e9, name, pod, ns)
		}
	}
	for _, pk := range order {
		ps := pods[pk]
		if !ps.cpuTS.IsZero() {
			ch <- prometheus.NewMetricWithTimestamp(ps.cpuTS, prometheus.MustNewConstMetric(podCPUDesc, prometheus.CounterValue, ps.cpu, pk.name, pk.ns))
		}
		if !ps.memTS.IsZero() {
			ch <- prometheus.NewMetricWithTimestamp(ps.memTS, prometheus.MustNewConstMetric(podMemDesc, prometheus.GaugeValue, ps.mem, pk.name, pk.ns))
		}
	}
	return nil
}
