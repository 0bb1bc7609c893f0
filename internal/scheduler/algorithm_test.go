package scheduler_test

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/skiff-sh/skiff/internal/scheduler"
	"github.com/skiff-sh/skiff/internal/scheduler/cache"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	st "github.com/skiff-sh/skiff/internal/scheduler/schedtest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestNoPlacementOvercommits places random pods (with init containers, sidecars, overhead, extended
// resources and host ports) on random nodes, assuming each placement as the scheduler does, and checks
// after every placement that no node's requests exceed its allocatable and no host port is used twice.
func TestNoPlacementOvercommits(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			c := cache.New()
			nNodes := 1 + rng.Intn(30)
			for i := 0; i < nNodes; i++ {
				opts := []st.NodeOpt{st.Allocatable(v1.ResourcePods, fmt.Sprint(1+rng.Intn(20)))}
				if rng.Intn(3) == 0 {
					opts = append(opts, st.Allocatable("example.com/gpu", fmt.Sprint(rng.Intn(4))))
				}
				if rng.Intn(3) == 0 {
					opts = append(opts, st.Allocatable(v1.ResourceEphemeralStorage, fmt.Sprintf("%dGi", 1+rng.Intn(10))))
				}
				c.AddNode(st.Node(fmt.Sprint("n", i), fmt.Sprintf("%dm", 500+rng.Intn(8000)), fmt.Sprintf("%dMi", 256+rng.Intn(8192)), opts...))
			}
			algo := &scheduler.Algorithm{Rand: rng, Parallelism: 1 + rng.Intn(2)}
			snap := cache.NewSnapshot()
			placed := 0
			for i := 0; i < 400; i++ {
				pod := randomPod(rng, i)
				c.UpdateSnapshot(snap)
				res, _, err := algo.Schedule(snap, framework.NewPodInfo(pod), scheduler.Extras{})
				var fe *framework.FitError
				if errors.As(err, &fe) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				pod.Spec.NodeName = res.Node
				if err := c.AssumePod(framework.NewPodInfo(pod)); err != nil {
					t.Fatal(err)
				}
				placed++
				c.UpdateSnapshot(snap)
				checkNotOvercommitted(t, snap.Get(res.Node))
			}
			if placed == 0 {
				t.Fatalf("nothing placed")
			}
		})
	}
}

func randomPod(rng *rand.Rand, i int) *v1.Pod {
	q := func(unit string, max int) string {
		if rng.Intn(4) == 0 {
			return ""
		}
		return fmt.Sprintf("%d%s", 1+rng.Intn(max), unit)
	}
	opts := []st.PodOpt{}
	for j := rng.Intn(3); j > 0; j-- {
		opts = append(opts, st.InitContainer(q("m", 3000), q("Mi", 3000), rng.Intn(2) == 0))
	}
	if rng.Intn(2) == 0 {
		opts = append(opts, st.Container(q("m", 1000), q("Mi", 1000)))
	}
	if rng.Intn(5) == 0 {
		opts = append(opts, st.Overhead("100m", "50Mi"))
	}
	if rng.Intn(4) == 0 {
		opts = append(opts, st.Request("example.com/gpu", fmt.Sprint(1+rng.Intn(2))))
	}
	if rng.Intn(4) == 0 {
		opts = append(opts, st.Request(v1.ResourceEphemeralStorage, fmt.Sprintf("%dGi", 1+rng.Intn(3))))
	}
	if rng.Intn(6) == 0 {
		opts = append(opts, st.HostPort(int32(8000+rng.Intn(3)), v1.ProtocolTCP, ""))
	}
	p := st.Pod(fmt.Sprint("p", i), q("m", 2000), q("Mi", 2000), opts...)
	p.UID = types.UID(fmt.Sprint("uid-p", i))
	return p
}

func checkNotOvercommitted(t *testing.T, ni *framework.NodeInfo) {
	t.Helper()
	var sum framework.Resource
	ports := map[int32]bool{}
	for _, p := range ni.Pods {
		r := framework.PodRequests(p.Pod, false)
		sum.Add(&r)
		for _, hp := range framework.PodHostPorts(p.Pod) {
			if ports[hp.Port] {
				t.Fatalf("node %s: host port %d used twice", ni.Name(), hp.Port)
			}
			ports[hp.Port] = true
		}
	}
	a := framework.NewResource(ni.Node.Status.Allocatable)
	if sum.MilliCPU > a.MilliCPU || sum.Memory > a.Memory || sum.EphemeralStorage > a.EphemeralStorage {
		t.Fatalf("node %s overcommitted: requests cpu %dm mem %d eph %d, allocatable cpu %dm mem %d eph %d",
			ni.Name(), sum.MilliCPU, sum.Memory, sum.EphemeralStorage, a.MilliCPU, a.Memory, a.EphemeralStorage)
	}
	if int64(len(ni.Pods)) > a.AllowedPodNumber {
		t.Fatalf("node %s has %d pods, allows %d", ni.Name(), len(ni.Pods), a.AllowedPodNumber)
	}
	for name, v := range sum.Scalar {
		if v > a.Scalar[name] {
			t.Fatalf("node %s: %s requested %d, allocatable %d", ni.Name(), name, v, a.Scalar[name])
		}
	}
}

// benchCluster builds a cache with n nodes of 32 cpu, 256Gi and 110 pods spread over 10 zones.
func benchCluster(n int) *cache.Cache {
	c := cache.New()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node-%05d", i)
		c.AddNode(st.Node(name, "32", "256Gi", st.Labels("topology.kubernetes.io/zone", fmt.Sprint("zone-", i%10))))
	}
	return c
}

// BenchmarkScheduleOne measures one scheduling cycle (snapshot refresh, filter, score, select, assume) on
// 5,000 in-memory nodes, with a cluster that fills up to 10,000 pods and then starts again. It reports
// pods/s of the cycle alone (no API).
func BenchmarkScheduleOne(b *testing.B) {
	kinds := []struct {
		name string
		pod  func(i int) *v1.Pod
	}{
		{"basic", func(i int) *v1.Pod { return st.Pod(fmt.Sprint("p", i), "100m", "200Mi") }},
		{"spread", func(i int) *v1.Pod {
			app := fmt.Sprint("app-", i/100)
			return st.Pod(fmt.Sprint("p", i), "100m", "200Mi", st.PodLabels("app", app),
				st.Spread(1, "kubernetes.io/hostname", v1.DoNotSchedule, "app", app),
				st.Spread(1, "topology.kubernetes.io/zone", v1.ScheduleAnyway, "app", app))
		}},
		{"antiaffinity", func(i int) *v1.Pod {
			app := fmt.Sprint("app-", i/100)
			return st.Pod(fmt.Sprint("p", i), "100m", "200Mi", st.PodLabels("app", app),
				st.RequiredAntiAffinity(st.Term("app", app, "kubernetes.io/hostname")))
		}},
	}
	for _, nodes := range []int{1000, 5000} {
		for _, k := range kinds {
			b.Run(fmt.Sprintf("nodes=%d/%s", nodes, k.name), func(b *testing.B) {
				const maxPods = 10000
				c := benchCluster(nodes)
				snap := cache.NewSnapshot()
				algo := &scheduler.Algorithm{Rand: rand.New(rand.NewSource(1)), Parallelism: 2}
				placed := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if placed == maxPods {
						b.StopTimer()
						c, snap, placed = benchCluster(nodes), cache.NewSnapshot(), 0
						b.StartTimer()
					}
					pod := k.pod(placed)
					pod.UID = types.UID(fmt.Sprint("uid-", placed))
					c.UpdateSnapshot(snap)
					pi := framework.NewPodInfo(pod)
					res, _, err := algo.Schedule(snap, pi, scheduler.Extras{})
					if err != nil {
						b.Fatal(err)
					}
					pod.Spec.NodeName = res.Node
					api := *pi
					api.Pod = pod
					if err := c.AssumePod(&api); err != nil {
						b.Fatal(err)
					}
					placed++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
			})
		}
	}
}
