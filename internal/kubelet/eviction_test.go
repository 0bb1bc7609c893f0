package kubelet

import (
	"strings"
	"testing"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestParseEvictionHard(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: DefaultEvictionHard, want: "imagefs.available<5%,imagefs.inodesFree<5%,memory.available<100Mi,nodefs.available<5%,nodefs.inodesFree<5%"},
		{in: "memory.available<1Gi, nodefs.available<10%", want: "memory.available<1Gi,nodefs.available<10%"},
		{in: "nodefs.available<0%,imagefs.available<0%", want: "imagefs.available<0%,nodefs.available<0%"},
		{in: "pid.available<1000", want: "pid.available<1k"},
		{in: "nodefs.available<12.5%", want: "nodefs.available<12.5%"},
		{in: "memory.available>100Mi", err: `invalid eviction threshold syntax "memory.available>100Mi"`},
		{in: "memory.available<", err: "invalid eviction threshold syntax"},
		{in: "cpu.available<1", err: `unsupported eviction signal "cpu.available"`},
		{in: "nodefs.available<101%", err: "must be >= 0% and <= 100%"},
		{in: "nodefs.available<x%", err: `invalid percentage "x%"`},
		{in: "memory.available<lots", err: `invalid quantity "lots"`},
		{in: "memory.available<-1Mi", err: "must be positive"},
		{in: "memory.available<1Mi,memory.available<2Mi", err: "given more than once"},
	} {
		got, err := ParseEvictionHard(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseEvictionHard(%q) error = %v, want it to contain %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEvictionHard(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ParseEvictionHard(%q) = %q, want %q", tc.in, got.String(), tc.want)
		}
	}
}

func TestEvictionBelowAndReserve(t *testing.T) {
	th, err := ParseEvictionHard("memory.available<100Mi,nodefs.available<10%,imagefs.available<0%")
	if err != nil {
		t.Fatal(err)
	}
	const mi = 1 << 20
	for _, tc := range []struct {
		signal           string
		avail, capacity  uint64
		below            bool
		reserveOfCapcity uint64
	}{
		{SignalMemoryAvailable, 99 * mi, 1000 * mi, true, 100 * mi},
		{SignalMemoryAvailable, 100 * mi, 1000 * mi, false, 100 * mi},
		{SignalMemoryAvailable, 50 * mi, 50 * mi, true, 50 * mi}, // the reserve is at most the capacity
		{SignalNodeFsAvailable, 95, 1000, true, 100},
		{SignalNodeFsAvailable, 100, 1000, false, 100},
		{SignalNodeFsAvailable, 0, 0, false, 0}, // unknown capacity: never pressure
		{SignalImageFsAvailable, 0, 1000, false, 0},
		{SignalNodeFsInodesFree, 0, 1000, false, 0}, // no threshold
	} {
		if got := th.Below(tc.signal, tc.avail, tc.capacity); got != tc.below {
			t.Errorf("Below(%s, %d, %d) = %v, want %v", tc.signal, tc.avail, tc.capacity, got, tc.below)
		}
		if got := th.Reserve(tc.signal, tc.capacity); got != tc.reserveOfCapcity {
			t.Errorf("Reserve(%s, %d) = %d, want %d", tc.signal, tc.capacity, got, tc.reserveOfCapcity)
		}
	}
}

// TestNodePressureConditions reads this machine's memory, data-dir filesystem and processes against thresholds
// that every machine is above or below, and checks the conditions and the allocatable they give.
func TestNodePressureConditions(t *testing.T) {
	k := func(eviction string) *Kubelet {
		th, err := ParseEvictionHard(eviction)
		if err != nil {
			t.Fatal(err)
		}
		return &Kubelet{cfg: Config{DataDir: t.TempDir(), RuntimeEndpoint: "unix:///x", EvictionHard: th}, clock: clock.NewFake(t0)}
	}
	status := func(conds []corev1.NodeCondition) map[corev1.NodeConditionType]string {
		m := map[corev1.NodeConditionType]string{}
		for _, c := range conds {
			m[c.Type] = string(c.Status) + "/" + c.Reason
		}
		return m
	}
	all := k("memory.available<1Ei,nodefs.available<100%,pid.available<100%")
	got := status(all.nodeConditions(nil, nil))
	want := map[corev1.NodeConditionType]string{
		corev1.NodeMemoryPressure: "True/KubeletHasInsufficientMemory",
		corev1.NodeDiskPressure:   "True/KubeletHasDiskPressure",
		corev1.NodePIDPressure:    "True/KubeletHasInsufficientPID",
		corev1.NodeReady:          "True/KubeletReady",
	}
	for ty, w := range want {
		if got[ty] != w {
			t.Errorf("under every threshold: %s = %s, want %s", ty, got[ty], w)
		}
	}
	// Inodes alone count as disk pressure, as the kubelet's nodefs.inodesFree.
	if got := status(k("nodefs.inodesFree<100%").nodeConditions(nil, nil)); got[corev1.NodeDiskPressure] != "True/KubeletHasDiskPressure" {
		t.Errorf("nodefs.inodesFree<100%%: DiskPressure = %s", got[corev1.NodeDiskPressure])
	}
	none := k("memory.available<0%,nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%,imagefs.inodesFree<0%")
	got = status(none.nodeConditions(nil, nil))
	for ty, w := range map[corev1.NodeConditionType]string{
		corev1.NodeMemoryPressure: "False/KubeletHasSufficientMemory",
		corev1.NodeDiskPressure:   "False/KubeletHasNoDiskPressure",
		corev1.NodePIDPressure:    "False/KubeletHasSufficientPID",
	} {
		if got[ty] != w {
			t.Errorf("thresholds off: %s = %s, want %s", ty, got[ty], w)
		}
	}

	// Allocatable is capacity less the memory and nodefs thresholds.
	ver := &runtimeapi.VersionResponse{RuntimeName: "containerd", RuntimeVersion: "1"}
	st := k("memory.available<100Mi,nodefs.available<10%").nodeStatus(ver)
	mem, memAlloc := st.Capacity[corev1.ResourceMemory], st.Allocatable[corev1.ResourceMemory]
	if d := mem.Value() - memAlloc.Value(); d != 100<<20 {
		t.Errorf("memory capacity - allocatable = %d, want 100Mi", d)
	}
	disk, diskAlloc := st.Capacity[corev1.ResourceEphemeralStorage], st.Allocatable[corev1.ResourceEphemeralStorage]
	if d, want := disk.Value()-diskAlloc.Value(), disk.Value()/10; d < want-1 || d > want+1 {
		t.Errorf("ephemeral-storage capacity - allocatable = %d, want 10%% of %d", d, disk.Value())
	}
}
