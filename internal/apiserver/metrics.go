package apiserver

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// metrics.k8s.io/v1beta1 (kubectl top), served from the kubelets: each kubelet samples its node and containers and
// answers /stats/skiff; NodeMetrics and PodMetrics are assembled per request. The types are written as JSON here (the
// k8s.io/metrics module is not a dependency).

const metricsGroup, metricsVersion = "metrics.k8s.io", "v1beta1"

// kubeletStats mirrors kubelet.StatsSummary (the kubelet's /stats/skiff).
type kubeletStats struct {
	Node struct {
		Timestamp          time.Time     `json:"timestamp"`
		Window             time.Duration `json:"window"`
		CPUNanoCores       uint64        `json:"cpuNanoCores"`
		MemoryWorkingBytes uint64        `json:"memoryWorkingSetBytes"`
	} `json:"node"`
	Pods []struct {
		Namespace  string        `json:"namespace"`
		Name       string        `json:"name"`
		Timestamp  time.Time     `json:"timestamp"`
		Window     time.Duration `json:"window"`
		Containers []struct {
			Name               string `json:"name"`
			CPUNanoCores       uint64 `json:"cpuNanoCores"`
			MemoryWorkingBytes uint64 `json:"memoryWorkingSetBytes"`
		} `json:"containers"`
	} `json:"pods"`
}

type usageJSON map[string]apiresource.Quantity

func usage(cpuNano, mem uint64) usageJSON {
	return usageJSON{
		"cpu":    *apiresource.NewScaledQuantity(int64(cpuNano), apiresource.Nano),
		"memory": *apiresource.NewQuantity(int64(mem), apiresource.BinarySI),
	}
}

type nodeMetrics struct {
	Kind       string            `json:"kind,omitempty"`
	APIVersion string            `json:"apiVersion,omitempty"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Timestamp  metav1.Time       `json:"timestamp"`
	Window     metav1.Duration   `json:"window"`
	Usage      usageJSON         `json:"usage"`
}

type containerMetrics struct {
	Name  string    `json:"name"`
	Usage usageJSON `json:"usage"`
}

type podMetrics struct {
	Kind       string             `json:"kind,omitempty"`
	APIVersion string             `json:"apiVersion,omitempty"`
	Metadata   metav1.ObjectMeta  `json:"metadata"`
	Timestamp  metav1.Time        `json:"timestamp"`
	Window     metav1.Duration    `json:"window"`
	Containers []containerMetrics `json:"containers"`
}

type metricsList[T any] struct {
	Kind       string          `json:"kind"`
	APIVersion string          `json:"apiVersion"`
	Metadata   metav1.ListMeta `json:"metadata"`
	Items      []T             `json:"items"`
}

func (np *nodeProxy) registerMetrics() {
	s := np.s
	agg := func(res, kind string, namespaced bool) apidiscoveryv2.APIResourceDiscovery {
		scope := apidiscoveryv2.ScopeCluster
		if namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		return apidiscoveryv2.APIResourceDiscovery{Resource: res, ResponseKind: &metav1.GroupVersionKind{Group: metricsGroup, Version: metricsVersion, Kind: kind},
			Scope: scope, SingularResource: res[:len(res)-1], Verbs: []string{"get", "list"}}
	}
	s.extraGroups = append(s.extraGroups, extraGroup{
		Group: metricsGroup, Version: metricsVersion,
		Aggregated: []apidiscoveryv2.APIResourceDiscovery{agg("nodes", "NodeMetrics", false), agg("pods", "PodMetrics", true)},
		Legacy: []metav1.APIResource{
			{Name: "nodes", SingularName: "node", Kind: "NodeMetrics", Verbs: []string{"get", "list"}},
			{Name: "pods", SingularName: "pod", Namespaced: true, Kind: "PodMetrics", Verbs: []string{"get", "list"}},
		},
	})
}

// fetchStats asks every node's kubelet for its stats, in parallel.
func (np *nodeProxy) fetchStats(ctx context.Context) (map[string]*kubeletStats, error) {
	s := np.s
	nodesRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("nodes")]
	objs, _ := nodesRes.cacher.List(nodesRes.keys.Prefix(""), nil)
	out := map[string]*kubeletStats{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Transport: np.transport, Timeout: 3 * time.Second}
	for _, o := range objs {
		n := o.(*corev1.Node)
		host, port := kubeletAddress(n)
		if host == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+net.JoinHostPort(host, strconv.Itoa(port))+"/stats/skiff", nil)
			if err != nil {
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			var st kubeletStats
			if json.NewDecoder(resp.Body).Decode(&st) == nil {
				mu.Lock()
				out[n.Name] = &st
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// serveMetrics answers metrics.k8s.io/v1beta1 nodes and pods (get and list).
func (np *nodeProxy) serveMetrics(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	s := np.s
	gr := schema.GroupResource{Group: metricsGroup, Resource: ri.Resource}
	if ri.Verb != "get" && ri.Verb != "list" {
		s.writeError(w, r, apierrors.NewMethodNotSupported(gr, r.Method), gr, ri.Name)
		return
	}
	sel := labels.Everything()
	if ls := r.URL.Query().Get("labelSelector"); ls != "" {
		parsed, err := labels.Parse(ls)
		if err != nil {
			s.writeError(w, r, apierrors.NewBadRequest(err.Error()), gr, "")
			return
		}
		sel = parsed
	}
	stats, err := np.fetchStats(r.Context())
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
		return
	}
	write := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch ri.Resource {
	case "nodes":
		var items []nodeMetrics
		for _, name := range sortedStatKeys(stats) {
			st := stats[name]
			if ri.Name != "" && name != ri.Name {
				continue
			}
			items = append(items, nodeMetrics{Metadata: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(s.clock.Now())},
				Timestamp: metav1.NewTime(st.Node.Timestamp), Window: metav1.Duration{Duration: st.Node.Window},
				Usage: usage(st.Node.CPUNanoCores, st.Node.MemoryWorkingBytes)})
		}
		if ri.Name != "" {
			if len(items) == 0 {
				s.writeError(w, r, apierrors.NewNotFound(gr, ri.Name), gr, ri.Name)
				return
			}
			it := items[0]
			it.Kind, it.APIVersion = "NodeMetrics", metricsGroup+"/"+metricsVersion
			write(it)
			return
		}
		write(metricsList[nodeMetrics]{Kind: "NodeMetricsList", APIVersion: metricsGroup + "/" + metricsVersion, Items: nonNil(items)})
	case "pods":
		podsRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("pods")]
		var items []podMetrics
		for _, name := range sortedStatKeys(stats) {
			for _, p := range stats[name].Pods {
				if (ri.Namespace != "" && p.Namespace != ri.Namespace) || (ri.Name != "" && p.Name != ri.Name) {
					continue
				}
				obj, err := s.store.Get(r.Context(), podsRes.keys.Key(p.Namespace, p.Name), podsRes.New)
				if err != nil {
					continue
				}
				pod := obj.(*corev1.Pod)
				if !sel.Matches(labels.Set(pod.Labels)) {
					continue
				}
				pm := podMetrics{Metadata: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: pod.Labels, CreationTimestamp: metav1.NewTime(s.clock.Now())},
					Timestamp: metav1.NewTime(p.Timestamp), Window: metav1.Duration{Duration: p.Window}}
				for _, c := range p.Containers {
					pm.Containers = append(pm.Containers, containerMetrics{Name: c.Name, Usage: usage(c.CPUNanoCores, c.MemoryWorkingBytes)})
				}
				items = append(items, pm)
			}
		}
		if ri.Name != "" {
			if len(items) == 0 {
				s.writeError(w, r, apierrors.NewNotFound(gr, ri.Name), gr, ri.Name)
				return
			}
			it := items[0]
			it.Kind, it.APIVersion = "PodMetrics", metricsGroup+"/"+metricsVersion
			write(it)
			return
		}
		write(metricsList[podMetrics]{Kind: "PodMetricsList", APIVersion: metricsGroup + "/" + metricsVersion, Items: nonNil(items)})
	default:
		s.writeError(w, r, notFoundPath(), gr, ri.Name)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sortedStatKeys(m map[string]*kubeletStats) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
