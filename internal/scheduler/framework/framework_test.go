package framework_test

import (
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestPodRequests(t *testing.T) {
	tests := []struct {
		name             string
		pod              *v1.Pod
		cpu, mem         int64
		nzCPU, nzMem     int64
		scalarName       v1.ResourceName
		scalar           int64
		ephemeralStorage int64
	}{
		{name: "one container", pod: st.Pod("p", "500m", "1Gi"), cpu: 500, mem: 1 << 30, nzCPU: 500, nzMem: 1 << 30},
		{name: "no requests count zero, non-zero defaults for scoring", pod: st.Pod("p", "", ""),
			nzCPU: framework.DefaultMilliCPURequest, nzMem: framework.DefaultMemoryRequest},
		{name: "containers are summed", pod: st.Pod("p", "500m", "1Gi", st.Container("250m", "1Gi")), cpu: 750, mem: 2 << 30, nzCPU: 750, nzMem: 2 << 30},
		{name: "a larger init container wins per resource", pod: st.Pod("p", "500m", "1Gi", st.InitContainer("2", "100Mi", false)),
			cpu: 2000, mem: 1 << 30, nzCPU: 2000, nzMem: 1 << 30},
		{name: "init containers take the max, not the sum", pod: st.Pod("p", "100m", "", st.InitContainer("1", "", false), st.InitContainer("1", "", false)),
			cpu: 1000, nzCPU: 1000, nzMem: framework.DefaultMemoryRequest},
		{name: "sidecars add to the containers and to later init containers",
			pod: st.Pod("p", "1", "", st.InitContainer("500m", "", true), st.InitContainer("1", "", false)),
			cpu: 1500, nzCPU: 1500, nzMem: 2 * framework.DefaultMemoryRequest},
		{name: "overhead is added", pod: st.Pod("p", "1", "1Gi", st.Overhead("250m", "120Mi")), cpu: 1250, mem: 1<<30 + 120<<20, nzCPU: 1250, nzMem: 1<<30 + 120<<20},
		{name: "extended and ephemeral-storage resources", pod: st.Pod("p", "1", "", st.Request("example.com/gpu", "2"), st.Request(v1.ResourceEphemeralStorage, "1Gi")),
			cpu: 1000, nzCPU: 1000, nzMem: framework.DefaultMemoryRequest, scalarName: "example.com/gpu", scalar: 2, ephemeralStorage: 1 << 30},
		{name: "pod-level requests replace the container sum", pod: func() *v1.Pod {
			p := st.Pod("p", "1", "1Gi")
			p.Spec.Resources = &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("3")}}
			return p
		}(), cpu: 3000, mem: 1 << 30, nzCPU: 3000, nzMem: 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := framework.PodRequests(tt.pod, false)
			nz := framework.PodRequests(tt.pod, true)
			if r.MilliCPU != tt.cpu || r.Memory != tt.mem {
				t.Errorf("requests = %dm cpu %d mem, want %dm %d", r.MilliCPU, r.Memory, tt.cpu, tt.mem)
			}
			if nz.MilliCPU != tt.nzCPU || nz.Memory != tt.nzMem {
				t.Errorf("non-zero = %dm cpu %d mem, want %dm %d", nz.MilliCPU, nz.Memory, tt.nzCPU, tt.nzMem)
			}
			if tt.scalarName != "" && r.Scalar[tt.scalarName] != tt.scalar {
				t.Errorf("%s = %d, want %d", tt.scalarName, r.Scalar[tt.scalarName], tt.scalar)
			}
			if r.EphemeralStorage != tt.ephemeralStorage {
				t.Errorf("ephemeral-storage = %d, want %d", r.EphemeralStorage, tt.ephemeralStorage)
			}
		})
	}
}

func status(code framework.Code, reasons ...string) *framework.Status {
	return framework.NewStatus("x", code, reasons...)
}

func TestFitErrorMessage(t *testing.T) {
	taint := status(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint(s)")
	cpu := status(framework.Unschedulable, "Insufficient cpu")
	tests := []struct {
		name string
		err  framework.FitError
		want string
	}{
		{
			name: "the issue's example",
			err: framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{
				NodeToStatus:  map[string]*framework.Status{"a": taint, "b": cpu, "c": cpu},
				PostFilterMsg: "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
			}},
			want: "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
		},
		{
			name: "a node with two reasons counts each",
			err: framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
				"a": status(framework.Unschedulable, "Insufficient cpu", "Insufficient memory"), "b": cpu,
			}}},
			want: "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.",
		},
		{
			name: "sorted as strings, so 10 comes before 2",
			err: framework.FitError{NumAllNodes: 12, Diagnosis: framework.Diagnosis{NodeToStatus: func() map[string]*framework.Status {
				m := map[string]*framework.Status{}
				for i := 0; i < 10; i++ {
					m[string(rune('a'+i))] = cpu
				}
				m["x"], m["y"] = taint, taint
				return m
			}()}},
			want: "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint(s).",
		},
		{
			name: "a reason for the whole pod",
			err:  framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{PreFilterMsg: "bad selector", NodeToStatus: map[string]*framework.Status{"a": cpu}}},
			want: "0/3 nodes are available: bad selector.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	ni := framework.NewNodeInfo(st.Node("n", "4", "8Gi"))
	a := framework.NewPodInfo(st.Pod("a", "1", "1Gi", st.On("n"), st.HostPort(80, v1.ProtocolTCP, "")))
	b := framework.NewPodInfo(st.Pod("b", "500m", "", st.On("n"), st.RequiredAntiAffinity(st.Term("app", "x", "kubernetes.io/hostname"))))
	ni.AddPod(a)
	ni.AddPod(b)
	c := ni.Clone()
	c.RemovePod(a.Pod)
	if got, want := ni.Requested.MilliCPU, int64(1500); got != want {
		t.Fatalf("original Requested.MilliCPU=%d, want %d (clone must not share)", got, want)
	}
	if got, want := len(ni.UsedPorts), 1; got != want {
		t.Fatalf("original UsedPorts=%d, want %d", got, want)
	}
	if got, want := c.Requested.MilliCPU, int64(500); got != want {
		t.Fatalf("clone Requested.MilliCPU=%d, want %d", got, want)
	}
	if len(c.UsedPorts) != 0 || len(c.Pods) != 1 || len(c.PodsWithRequiredAntiAffinity) != 1 {
		t.Fatalf("clone after remove: ports %d pods %d anti %d", len(c.UsedPorts), len(c.Pods), len(c.PodsWithRequiredAntiAffinity))
	}
	if got := c.NonZeroRequested.Memory; got != framework.DefaultMemoryRequest {
		t.Fatalf("clone NonZeroRequested.Memory=%d, want the default %d", got, framework.DefaultMemoryRequest)
	}
}
