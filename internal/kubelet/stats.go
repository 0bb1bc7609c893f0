package kubelet

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Resource usage for metrics.k8s.io (kubectl top): the kubelet samples the node (/proc) and its containers (CRI
// ListContainerStats) every statsInterval and serves the latest rates on /stats/skiff; the API server assembles
// NodeMetrics and PodMetrics from them.

const statsInterval = 5 * time.Second

// StatsSummary is what /stats/skiff returns.
type StatsSummary struct {
	Node NodeUsage  `json:"node"`
	Pods []PodUsage `json:"pods"`
}

// NodeUsage is the node's CPU and memory use over Window ending at Timestamp.
type NodeUsage struct {
	Timestamp          time.Time     `json:"timestamp"`
	Window             time.Duration `json:"window"`
	CPUNanoCores       uint64        `json:"cpuNanoCores"`
	MemoryWorkingBytes uint64        `json:"memoryWorkingSetBytes"`
}

// PodUsage is the use of one pod's containers.
type PodUsage struct {
	Namespace  string           `json:"namespace"`
	Name       string           `json:"name"`
	Timestamp  time.Time        `json:"timestamp"`
	Window     time.Duration    `json:"window"`
	Containers []ContainerUsage `json:"containers"`
}

// ContainerUsage is one container's CPU rate and memory working set.
type ContainerUsage struct {
	Name               string `json:"name"`
	CPUNanoCores       uint64 `json:"cpuNanoCores"`
	MemoryWorkingBytes uint64 `json:"memoryWorkingSetBytes"`
}

type cpuSample struct {
	at    time.Time
	usage uint64 // nanoseconds of CPU
}

// statsSampler keeps the previous samples and the latest summary.
type statsSampler struct {
	mu       sync.Mutex // guards the fields below
	node     *cpuSample
	ctrs     map[string]cpuSample
	summary  StatsSummary
	hasValue bool
}

// procCPU returns the node's busy CPU time in nanoseconds from /proc/stat.
func procCPU() (uint64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy uint64
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		busy += n
	}
	// USER_HZ is 100 on Linux.
	return busy * uint64(time.Second/100), true
}

// sample takes one round of samples.
func (k *Kubelet) sampleStats(ctx context.Context) {
	s := &k.stats
	now := k.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctrs == nil {
		s.ctrs = map[string]cpuSample{}
	}
	sum := StatsSummary{}
	if busy, ok := procCPU(); ok {
		if s.node != nil && now.After(s.node.at) && busy >= s.node.usage {
			d := now.Sub(s.node.at)
			sum.Node = NodeUsage{Timestamp: now, Window: d, CPUNanoCores: uint64(float64(busy-s.node.usage) / d.Seconds())}
		}
		s.node = &cpuSample{at: now, usage: busy}
	}
	total, avail := readMeminfo()
	sum.Node.MemoryWorkingBytes = total - avail
	if sum.Node.Timestamp.IsZero() {
		sum.Node.Timestamp, sum.Node.Window = now, statsInterval
	}
	resp, err := k.cri.rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{})
	if err != nil {
		return
	}
	// Running containers only, grouped by pod.
	cs, err := k.cri.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}})
	if err != nil {
		return
	}
	runningIDs := map[string]*runtimeapi.Container{}
	for _, c := range cs.Containers {
		runningIDs[c.Id] = c
	}
	pods := map[string]*PodUsage{}
	seen := map[string]bool{}
	for _, st := range resp.Stats {
		if st.Attributes == nil || st.Cpu == nil {
			continue
		}
		c, ok := runningIDs[st.Attributes.Id]
		if !ok {
			continue
		}
		id := st.Attributes.Id
		seen[id] = true
		var usage uint64
		if st.Cpu.UsageCoreNanoSeconds != nil {
			usage = st.Cpu.UsageCoreNanoSeconds.Value
		}
		at := time.Unix(0, st.Cpu.Timestamp)
		var rate uint64
		if prev, ok := s.ctrs[id]; ok && at.After(prev.at) && usage >= prev.usage {
			rate = uint64(float64(usage-prev.usage) / at.Sub(prev.at).Seconds())
		} else if st.Cpu.UsageNanoCores != nil {
			rate = st.Cpu.UsageNanoCores.Value
		}
		s.ctrs[id] = cpuSample{at: at, usage: usage}
		var mem uint64
		if st.Memory != nil && st.Memory.WorkingSetBytes != nil {
			mem = st.Memory.WorkingSetBytes.Value
		}
		key := c.Labels[labelPodNamespace] + "/" + c.Labels[labelPodName]
		pu := pods[key]
		if pu == nil {
			pu = &PodUsage{Namespace: c.Labels[labelPodNamespace], Name: c.Labels[labelPodName], Timestamp: now, Window: statsInterval}
			pods[key] = pu
		}
		pu.Containers = append(pu.Containers, ContainerUsage{Name: c.Labels[labelContainerName], CPUNanoCores: rate, MemoryWorkingBytes: mem})
	}
	for id := range s.ctrs {
		if !seen[id] {
			delete(s.ctrs, id)
		}
	}
	for _, key := range sortedKeys(pods) {
		sum.Pods = append(sum.Pods, *pods[key])
	}
	s.summary, s.hasValue = sum, true
}

// statsLoop samples every statsInterval until ctx ends.
func (k *Kubelet) statsLoop(ctx context.Context) {
	t := k.clock.NewTicker(statsInterval)
	defer t.Stop()
	k.sampleStats(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			k.sampleStats(ctx)
		}
	}
}

func (k *Kubelet) serveStats(w http.ResponseWriter, r *http.Request) {
	k.stats.mu.Lock()
	sum, ok := k.stats.summary, k.stats.hasValue
	k.stats.mu.Unlock()
	if !ok {
		http.Error(w, "no stats sampled yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}
