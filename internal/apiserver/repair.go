package apiserver

import (
	"context"
	"fmt"
	"net"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// leakRuns is how many repair passes must see an offset allocated without a Service before it is freed, as
// Kubernetes' repair controllers (numRepairsBeforeLeakCleanup): a Service being created holds its allocation for a
// moment before it is stored.
const leakRuns = 3

// defaultRepairInterval is how often the allocations are reconciled with the Services (kube-apiserver: 3 minutes).
const defaultRepairInterval = 3 * time.Minute

// repairOutcome says what one repair pass changed in one range.
type repairOutcome struct {
	// marked are offsets Services hold that the bitmap did not have.
	marked []int
	// freed are leaked offsets released by this pass.
	freed []int
	// leaks counts, for each offset allocated without a Service, the passes that have seen it so; the next pass
	// starts from it.
	leaks map[int]int
}

// repairBitmap reconciles stored with the offsets Services hold: missing ones are marked, and an offset no
// Service holds is kept until leakRuns passes (counted in leaks) have seen it leaked, then freed. stored is
// changed in place.
func repairBitmap(stored bitmap, size int, inUse map[int]bool, leaks map[int]int) repairOutcome {
	out := repairOutcome{leaks: map[int]int{}}
	for off := range inUse {
		if !stored.has(off) {
			stored.set(off)
			out.marked = append(out.marked, off)
		}
	}
	for off := 0; off < size; off++ {
		if !stored.has(off) || inUse[off] {
			continue
		}
		n := leaks[off] + 1
		if n < leakRuns {
			out.leaks[off] = n
			continue
		}
		stored.clear(off)
		out.freed = append(out.freed, off)
	}
	sort.Ints(out.marked)
	return out
}

// repairLoop reconciles the allocation bitmaps with the Services every interval until ctx ends.
func (s *APIServer) repairLoop(ctx context.Context, interval time.Duration) {
	t := s.clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if err := s.repairAllocations(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("apiserver: repairing service allocations failed", "err", err)
			}
		}
	}
}

// repairAllocations runs one repair pass over the ClusterIP and NodePort bitmaps, as Kubernetes' repair controllers.
func (s *APIServer) repairAllocations(ctx context.Context) error {
	svcRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("services")]
	lr, err := s.store.List(ctx, svcRes.keys.Prefix(""), storageListAll(), svcRes.New)
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	ips, ports := map[int]bool{}, map[int]bool{}
	ipOwner, portOwner := map[int]string{}, map[int]string{}
	for _, o := range lr.Items {
		svc := o.(*corev1.Service)
		who := svc.Namespace + "/" + svc.Name
		if ip := net.ParseIP(svc.Spec.ClusterIP); ip != nil {
			if off, ok := s.ipAlloc.offset(ip); !ok {
				s.log.Warn("apiserver: the ClusterIP of a Service is not within the service CIDR; please recreate it", "service", who, "ip", ip, "cidr", s.ipAlloc.cidr)
			} else if prev, dup := ipOwner[off]; dup {
				s.log.Warn("apiserver: a ClusterIP is assigned to several Services; please recreate one", "ip", ip, "services", prev+" "+who)
			} else {
				ips[off], ipOwner[off] = true, who
			}
		}
		seen := map[int32]bool{}
		for _, p := range svc.Spec.Ports {
			if p.NodePort == 0 || seen[p.NodePort] {
				continue
			}
			seen[p.NodePort] = true
			if off, ok := s.portAlloc.offset(int(p.NodePort)); !ok {
				s.log.Warn("apiserver: the NodePort of a Service is not within the NodePort range; please recreate it", "service", who, "port", p.NodePort)
			} else if prev, dup := portOwner[off]; dup {
				s.log.Warn("apiserver: a NodePort is assigned to several Services; please recreate one", "port", p.NodePort, "services", prev+" "+who)
			} else {
				ports[off], portOwner[off] = true, who
			}
		}
	}
	if err := s.repairRange(ctx, s.ipAlloc.r, ips); err != nil {
		return fmt.Errorf("repair service IPs: %w", err)
	}
	if err := s.repairRange(ctx, s.portAlloc.r, ports); err != nil {
		return fmt.Errorf("repair node ports: %w", err)
	}
	return nil
}

// repairRange writes the repaired bitmap of one range with compare-and-swap. The Services were listed after the
// allocations they hold were made, so an offset missing from inUse is either leaked or held by a Service not yet
// stored; the leak count tells them apart.
func (s *APIServer) repairRange(ctx context.Context, r *rangeAllocator, inUse map[int]bool) error {
	r.repairMu.Lock()
	defer r.repairMu.Unlock()
	var res repairOutcome
	err := r.update(ctx, func(b bitmap) error {
		res = repairBitmap(b, r.size, inUse, r.leaks)
		return nil
	})
	if err != nil {
		return err
	}
	r.leaks = res.leaks
	if len(res.marked) > 0 || len(res.freed) > 0 {
		s.log.Info("apiserver: repaired service allocations", "range", r.key, "marked", len(res.marked), "freed", len(res.freed))
	}
	return nil
}
