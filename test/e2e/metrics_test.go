package e2e

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const meteredManifest = `
apiVersion: v1
kind: Pod
metadata: {name: metered}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: skiff.local/testapp:dev
    args: ["netexec", "--http-port=8080"]
`

// parseMetrics parses Prometheus text as a scraper would.
func parseMetrics(t *testing.T, what, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("%s is not Prometheus text: %v\n%s", what, err, text)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestMetrics scrapes the API server's /metrics and, through the nodes/proxy subresource, the kubelet's /metrics and
// /metrics/resource, as Prometheus, the upstream e2e framework's failure dump and metrics-server do.
func TestMetrics(t *testing.T) {
	kc := startKubeletCluster(t)
	kc.apply(t, meteredManifest)
	kc.waitReady(t, "metered", 60*time.Second)

	t.Run("APIServer", func(t *testing.T) {
		fams := parseMetrics(t, "/metrics", kc.mustKubectl(t, "get", "--raw", "/metrics"))
		var creates float64
		for _, m := range fams["apiserver_request_total"].GetMetric() {
			if label(m, "resource") == "pods" && label(m, "verb") == "POST" && label(m, "code") == "201" {
				creates += m.GetCounter().GetValue()
			}
		}
		if creates < 1 {
			t.Errorf("apiserver_request_total{resource=pods,verb=POST,code=201} = %v, want >= 1", creates)
		}
		for _, name := range []string{"apiserver_request_duration_seconds", "apiserver_current_inflight_requests", "apiserver_longrunning_requests",
			"apiserver_storage_objects", "apiserver_watch_events_total", "etcd_request_duration_seconds", "go_goroutines", "process_resident_memory_bytes"} {
			if fams[name] == nil {
				t.Errorf("/metrics has no %s", name)
			}
		}
	})

	t.Run("Kubelet", func(t *testing.T) {
		// The e2e framework's form names the kubelet port; the plain node name means the same port.
		for _, node := range []string{kc.node, kc.node + ":" + kubeletPort(t, kc)} {
			fams := parseMetrics(t, "kubelet /metrics", kc.mustKubectl(t, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/metrics"))
			if p := fams["kubelet_running_pods"].GetMetric(); len(p) != 1 || p[0].GetGauge().GetValue() < 1 {
				t.Errorf("kubelet_running_pods = %v, want >= 1", p)
			}
			if n := fams["kubelet_node_name"].GetMetric(); len(n) != 1 || label(n[0], "node") != kc.node {
				t.Errorf("kubelet_node_name = %v, want node %q", n, kc.node)
			}
			for _, name := range []string{"kubelet_running_containers", "kubelet_runtime_operations_total", "kubelet_started_pods_total",
				"kubelet_started_containers_total", "kubelet_pod_start_duration_seconds", "kubelet_pod_worker_duration_seconds", "go_goroutines"} {
				if fams[name] == nil {
					t.Errorf("kubelet /metrics has no %s", name)
				}
			}
		}
	})

	t.Run("KubeletResource", func(t *testing.T) {
		fams := parseMetrics(t, "/metrics/resource", kc.mustKubectl(t, "get", "--raw", "/api/v1/nodes/"+kc.node+"/proxy/metrics/resource"))
		found := false
		for _, m := range fams["container_memory_working_set_bytes"].GetMetric() {
			if label(m, "pod") == "metered" && label(m, "namespace") == "default" && label(m, "container") == "app" && m.GetGauge().GetValue() > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("no container_memory_working_set_bytes for default/metered/app: %v", fams["container_memory_working_set_bytes"])
		}
		for _, name := range []string{"node_cpu_usage_seconds_total", "node_memory_working_set_bytes", "container_cpu_usage_seconds_total",
			"container_start_time_seconds", "pod_cpu_usage_seconds_total", "pod_memory_working_set_bytes"} {
			if fams[name] == nil {
				t.Errorf("/metrics/resource has no %s", name)
			}
		}
		if e := fams["scrape_error"].GetMetric(); len(e) != 1 || e[0].GetGauge().GetValue() != 0 {
			t.Errorf("scrape_error = %v, want 0", e)
		}
	})
}
