package kubelet

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/skiff-sh/skiff/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeConn answers CRI calls with canned replies by method name, or errors.
type fakeConn struct {
	replies map[string]proto.Message
	errs    map[string]error
}

func (f *fakeConn) Invoke(_ context.Context, method string, _, reply any, _ ...grpc.CallOption) error {
	if err := f.errs[method]; err != nil {
		return err
	}
	if r := f.replies[method]; r != nil {
		proto.Merge(reply.(proto.Message), r)
	}
	return nil
}

func (f *fakeConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("no streams")
}

const rtSvc = "/runtime.v1.RuntimeService/"

func TestCRIDecoratorCountsOperationsAndErrors(t *testing.T) {
	m := newCRIMetrics()
	m.containerType = func(ns, pod, c string) string {
		if c == "init" {
			return "init_container"
		}
		return "container"
	}
	fc := &fakeConn{errs: map[string]error{rtSvc + "StartContainer": status.Error(codes.Unknown, "boom"),
		rtSvc + "CreateContainer": nil}}
	c := &criClient{}
	c.rt = runtimeapi.NewRuntimeServiceClient(&instrumentedConn{cc: fc, m: m})
	c.img = runtimeapi.NewImageServiceClient(&instrumentedConn{cc: fc, m: m})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, _ = c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	}
	_, _ = c.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{})
	_, _ = c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{Config: &runtimeapi.ContainerConfig{Labels: map[string]string{labelContainerName: "init"}}})
	_, _ = c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{Config: &runtimeapi.ContainerConfig{Labels: map[string]string{labelContainerName: "app"}}})
	if _, err := c.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{}); err == nil {
		t.Fatal("the decorator swallowed the runtime's error")
	}
	_, _ = c.img.PullImage(ctx, &runtimeapi.PullImageRequest{})

	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"list_podsandbox", testutil.ToFloat64(m.ops.WithLabelValues("list_podsandbox")), 3},
		{"run_podsandbox", testutil.ToFloat64(m.ops.WithLabelValues("run_podsandbox")), 1},
		{"create_container", testutil.ToFloat64(m.ops.WithLabelValues("create_container")), 2},
		{"start_container", testutil.ToFloat64(m.ops.WithLabelValues("start_container")), 1},
		{"start_container errors", testutil.ToFloat64(m.errs.WithLabelValues("start_container")), 1},
		{"list_podsandbox errors", testutil.ToFloat64(m.errs.WithLabelValues("list_podsandbox")), 0},
		{"pull_image", testutil.ToFloat64(m.ops.WithLabelValues("pull_image")), 1},
		{"started pods", testutil.ToFloat64(m.startedPod), 1},
		{"started init containers", testutil.ToFloat64(m.containers.WithLabelValues("init_container")), 1},
		{"started containers", testutil.ToFloat64(m.containers.WithLabelValues("container")), 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.durations, "kubelet_runtime_operations_duration_seconds"); n != 5 {
		t.Errorf("duration series = %d, want 5 (one per operation type used)", n)
	}
	if got := m.op("/runtime.v1.RuntimeService/SomeNewCall"); got != m.op("/x/SomeNewCall") {
		t.Error("an unknown method is not bound once")
	}
}

func TestPodStartAndWorkerDurations(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	k := &Kubelet{cfg: Config{NodeName: "n1"}, clock: clk}
	m := newKubeletMetrics(k)
	w := &podWorker{k: k, uid: "u1"}
	m.synced(w, clk.Now(), false) // first sync: pending
	clk.Step(3 * time.Second)
	w.lastStatus = &corev1.PodStatus{Phase: corev1.PodRunning}
	m.synced(w, clk.Now(), false)
	m.synced(w, clk.Now(), false) // measured once only
	adopted := &podWorker{k: k, uid: "u2", adopted: true, lastStatus: &corev1.PodStatus{Phase: corev1.PodRunning}}
	m.synced(adopted, clk.Now(), false)

	h := histogram(t, m, "kubelet_pod_start_duration_seconds")
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 3 {
		t.Errorf("pod start: count %d sum %v, want one observation of 3 s", h.GetSampleCount(), h.GetSampleSum())
	}
	m.synced(w, clk.Now(), true)
	if len(m.pods) != 1 {
		t.Errorf("state of a finished worker kept: %d pods", len(m.pods))
	}
	fams := gather(t, m)
	counts := map[string]uint64{}
	for _, mt := range fams["kubelet_pod_worker_duration_seconds"].GetMetric() {
		counts[mt.GetLabel()[0].GetValue()] = mt.GetHistogram().GetSampleCount()
	}
	if counts["create"] != 2 || counts["sync"] != 2 || counts["kill"] != 1 {
		t.Errorf("pod worker durations by operation_type = %v, want create 2, sync 2, kill 1", counts)
	}
	if g := fams["kubelet_node_name"].GetMetric(); len(g) != 1 || g[0].GetLabel()[0].GetValue() != "n1" || g[0].GetGauge().GetValue() != 1 {
		t.Errorf("kubelet_node_name = %v", g)
	}
}

func TestMetricsEndpoints(t *testing.T) {
	now := time.Unix(2000, 0)
	fc := &fakeConn{replies: map[string]proto.Message{
		rtSvc + "ListPodSandbox": &runtimeapi.ListPodSandboxResponse{Items: []*runtimeapi.PodSandbox{{Id: "s1"}}},
		rtSvc + "ListContainers": &runtimeapi.ListContainersResponse{Containers: []*runtimeapi.Container{
			{Id: "c1", State: runtimeapi.ContainerState_CONTAINER_RUNNING, CreatedAt: now.Add(-time.Minute).UnixNano(),
				Labels: map[string]string{labelPodName: "web", labelPodNamespace: "default", labelContainerName: "app"}},
			{Id: "c2", State: runtimeapi.ContainerState_CONTAINER_RUNNING, CreatedAt: now.Add(-time.Minute).UnixNano(),
				Labels: map[string]string{labelPodName: "web", labelPodNamespace: "default", labelContainerName: "side"}},
		}},
		rtSvc + "ListContainerStats": &runtimeapi.ListContainerStatsResponse{Stats: []*runtimeapi.ContainerStats{
			{Attributes: &runtimeapi.ContainerAttributes{Id: "c1"},
				Cpu:    &runtimeapi.CpuUsage{Timestamp: now.UnixNano(), UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: 2_500_000_000}},
				Memory: &runtimeapi.MemoryUsage{Timestamp: now.UnixNano(), WorkingSetBytes: &runtimeapi.UInt64Value{Value: 1 << 20}}},
			{Attributes: &runtimeapi.ContainerAttributes{Id: "c2"},
				Cpu:    &runtimeapi.CpuUsage{Timestamp: now.UnixNano(), UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: 500_000_000}},
				Memory: &runtimeapi.MemoryUsage{Timestamp: now.UnixNano(), WorkingSetBytes: &runtimeapi.UInt64Value{Value: 1 << 20}}},
		}},
	}}
	k := &Kubelet{cfg: Config{NodeName: "n1"}, clock: clock.NewFake(now)}
	k.metrics = newKubeletMetrics(k)
	k.cri = &criClient{}
	k.cri.rt = runtimeapi.NewRuntimeServiceClient(&instrumentedConn{cc: fc, m: k.metrics.cri})
	mux := http.NewServeMux()
	k.metrics.handlers(mux)
	// One runtime call before the scrape: the scrape's own calls may land after the counter family was gathered.
	if _, err := k.cri.rt.ListPodSandbox(context.Background(), &runtimeapi.ListPodSandboxRequest{}); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, mux, "/metrics")
	if v := fams["kubelet_running_pods"].GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Errorf("kubelet_running_pods = %v, want 1", v)
	}
	for _, mt := range fams["kubelet_running_containers"].GetMetric() {
		if mt.GetLabel()[0].GetValue() == "running" && mt.GetGauge().GetValue() != 2 {
			t.Errorf("kubelet_running_containers{running} = %v, want 2", mt.GetGauge().GetValue())
		}
	}
	for _, name := range []string{"kubelet_runtime_operations_total", "go_goroutines", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}

	res := scrape(t, mux, "/metrics/resource")
	want := map[string]float64{"container_cpu_usage_seconds_total": 2.5, "container_memory_working_set_bytes": 1 << 20,
		"pod_cpu_usage_seconds_total": 3, "pod_memory_working_set_bytes": 2 << 20, "scrape_error": 0,
		"container_start_time_seconds": float64(now.Add(-time.Minute).Unix())}
	for name, v := range want {
		f := res[name]
		if f == nil {
			t.Errorf("/metrics/resource has no %s", name)
			continue
		}
		mt := f.GetMetric()[0]
		got := mt.GetGauge().GetValue() + mt.GetCounter().GetValue() + mt.GetUntyped().GetValue()
		if got != v {
			t.Errorf("%s = %v, want %v (labels %v)", name, got, v, mt.GetLabel())
		}
	}
	if ts := res["container_memory_working_set_bytes"].GetMetric()[0].GetTimestampMs(); ts != now.UnixMilli() {
		t.Errorf("container_memory_working_set_bytes timestamp = %d, want %d", ts, now.UnixMilli())
	}
	for _, name := range []string{"node_cpu_usage_seconds_total", "node_memory_working_set_bytes"} {
		if res[name] == nil {
			t.Errorf("/metrics/resource has no %s", name)
		}
	}

	fc.errs = map[string]error{rtSvc + "ListContainerStats": errors.New("down")}
	res = scrape(t, mux, "/metrics/resource")
	if v := res["scrape_error"].GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Errorf("scrape_error with a failing runtime = %v, want 1", v)
	}
}

func scrape(t *testing.T, h http.Handler, path string) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return fams
}

func gather(t *testing.T, m *kubeletMetrics) map[string]*dto.MetricFamily {
	t.Helper()
	fs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fs {
		out[f.GetName()] = f
	}
	return out
}

func histogram(t *testing.T, m *kubeletMetrics, name string) *dto.Histogram {
	t.Helper()
	f := gather(t, m)[name]
	if f == nil || len(f.GetMetric()) == 0 {
		t.Fatalf("no %s", name)
	}
	return f.GetMetric()[0].GetHistogram()
}
