package kubelet

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The CRI decorator: every call the kubelet makes to the runtime and image services goes through one
// grpc.ClientConnInterface, which counts and times it as the kubelet's instrumented runtime service does
// (kubelet_runtime_operations_total, _duration_seconds, _errors_total by operation_type), and counts started pods
// (RunPodSandbox) and containers (CreateContainer) as kubelet_started_pods_total and kubelet_started_containers_total.

// criOperations maps CRI method names to the kubelet's operation_type labels.
var criOperations = map[string]string{
	"Version": "version", "RunPodSandbox": "run_podsandbox", "StopPodSandbox": "stop_podsandbox",
	"RemovePodSandbox": "remove_podsandbox", "PodSandboxStatus": "podsandbox_status", "ListPodSandbox": "list_podsandbox",
	"CreateContainer": "create_container", "StartContainer": "start_container", "StopContainer": "stop_container",
	"RemoveContainer": "remove_container", "ListContainers": "list_containers", "ContainerStatus": "container_status",
	"UpdateContainerResources": "update_container", "ReopenContainerLog": "reopen_container_log", "ExecSync": "exec_sync",
	"Exec": "exec", "Attach": "attach", "PortForward": "port_forward", "ContainerStats": "container_stats",
	"ListContainerStats": "list_container_stats", "PodSandboxStats": "podsandbox_stats",
	"ListPodSandboxStats": "list_podsandbox_stats", "UpdateRuntimeConfig": "update_runtime_config", "Status": "status",
	"CheckpointContainer": "checkpoint_container", "GetContainerEvents": "get_container_events",
	"ListMetricDescriptors": "list_metric_descriptors", "ListPodSandboxMetrics": "list_podsandbox_metrics",
	"RuntimeConfig": "runtime_config", "UpdatePodSandboxResources": "update_podsandbox_resources",
	"ListImages": "list_images", "ImageStatus": "image_status", "PullImage": "pull_image", "RemoveImage": "remove_image",
	"ImageFsInfo": "image_fs_info",
}

// runtimeOp is one operation_type's collectors, bound on first use (no series for operations never called).
type runtimeOp struct {
	name     string
	once     sync.Once
	count    prometheus.Counter
	duration prometheus.Observer
}

// criMetrics holds the runtime-operation collectors.
type criMetrics struct {
	ops        *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	errs       *prometheus.CounterVec
	startedPod prometheus.Counter
	podErrors  prometheus.Counter
	containers *prometheus.CounterVec
	ctrErrors  *prometheus.CounterVec
	// containerType tells container from init_container and ephemeral_container by pod and container name.
	containerType func(namespace, pod, container string) string

	known map[string]*runtimeOp // by method name, built once: read without locking
	mu    sync.Mutex            // guards other
	other map[string]*runtimeOp
}

func newCRIMetrics() *criMetrics {
	m := &criMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "runtime_operations_total",
			Help: "Cumulative number of runtime operations by operation type."}, []string{"operation_type"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "runtime_operations_duration_seconds",
			Help: "Duration in seconds of runtime operations. Broken down by operation type.", Buckets: prometheus.ExponentialBuckets(.005, 2.5, 14)},
			[]string{"operation_type"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "runtime_operations_errors_total",
			Help: "Cumulative number of runtime operation errors by operation type."}, []string{"operation_type"}),
		startedPod: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_pods_total",
			Help: "Cumulative number of pods started"}),
		podErrors: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_pods_errors_total",
			Help: "Cumulative number of errors when starting pods"}),
		containers: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_containers_total",
			Help: "Cumulative number of containers started"}, []string{"container_type"}),
		ctrErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_containers_errors_total",
			Help: "Cumulative number of errors when starting containers"}, []string{"container_type", "code"}),
		containerType: func(string, string, string) string { return "container" },
		known:         map[string]*runtimeOp{},
		other:         map[string]*runtimeOp{},
	}
	for method, op := range criOperations {
		m.known[method] = &runtimeOp{name: op}
	}
	return m
}

func (m *criMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.ops, m.durations, m.errs, m.startedPod, m.podErrors, m.containers, m.ctrErrors}
}

// bound returns o with its collectors bound.
func (m *criMetrics) bound(o *runtimeOp) *runtimeOp {
	o.once.Do(func() {
		o.count, o.duration = m.ops.WithLabelValues(o.name), m.durations.WithLabelValues(o.name)
	})
	return o
}

// op returns the collectors of a full gRPC method name (/runtime.v1.RuntimeService/RunPodSandbox).
func (m *criMetrics) op(fullMethod string) *runtimeOp {
	name := fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
	if o := m.known[name]; o != nil {
		return m.bound(o)
	}
	m.mu.Lock()
	o := m.other[name]
	if o == nil {
		o = &runtimeOp{name: snakeCase(name)}
		m.other[name] = o
	}
	m.mu.Unlock()
	return m.bound(o)
}

// snakeCase turns a method name the table does not know into an operation_type (FooBar → foo_bar).
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// instrumentedConn is the decorator: a grpc.ClientConnInterface that records every call it passes on.
type instrumentedConn struct {
	cc grpc.ClientConnInterface
	m  *criMetrics
}

func (c *instrumentedConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	o := c.m.op(method)
	start := time.Now()
	err := c.cc.Invoke(ctx, method, args, reply, opts...)
	o.count.Inc()
	o.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		c.m.errs.WithLabelValues(o.name).Inc()
	}
	switch req := args.(type) {
	case *runtimeapi.RunPodSandboxRequest:
		c.m.startedPod.Inc()
		if err != nil {
			c.m.podErrors.Inc()
		}
	case *runtimeapi.CreateContainerRequest:
		var l map[string]string
		if req.Config != nil {
			l = req.Config.Labels
		}
		typ := c.m.containerType(l[labelPodNamespace], l[labelPodName], l[labelContainerName])
		c.m.containers.WithLabelValues(typ).Inc()
		if err != nil {
			c.m.ctrErrors.WithLabelValues(typ, status.Code(err).String()).Inc()
		}
	}
	return err
}

func (c *instrumentedConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	o := c.m.op(method)
	s, err := c.cc.NewStream(ctx, desc, method, opts...)
	o.count.Inc()
	if err != nil {
		c.m.errs.WithLabelValues(o.name).Inc()
	}
	return s, err
}

// instrument makes c's runtime and image clients go through the decorator.
func (m *criMetrics) instrument(c *criClient) {
	conn := &instrumentedConn{cc: c.conn, m: m}
	c.rt, c.img = runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
}
