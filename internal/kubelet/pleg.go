package kubelet

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// relistInterval is how often the kubelet lists all containers to notice state changes (the kubelet's PLEG).
const relistInterval = time.Second

// pleg lists every container and sandbox once per relistInterval and wakes the workers of the pods whose containers
// or sandboxes changed state (a container exited, was created or removed), so that workers need not poll.
func (k *Kubelet) pleg(ctx context.Context) {
	t := k.clock.NewTicker(relistInterval)
	defer t.Stop()
	prev := map[string]string{} // container or sandbox ID → state
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		cur := map[string]string{}
		owner := map[string]types.UID{}
		cs, err := k.cri.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err != nil {
			continue
		}
		for _, c := range cs.Containers {
			cur[c.Id] = c.State.String()
			owner[c.Id] = types.UID(c.Labels[labelPodUID])
		}
		sbs, err := k.cri.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			continue
		}
		for _, s := range sbs.Items {
			cur[s.Id] = s.State.String()
			owner[s.Id] = types.UID(s.Labels[labelPodUID])
		}
		changed := map[types.UID]bool{}
		for id, st := range cur {
			if prev[id] != st {
				changed[owner[id]] = true
			}
		}
		prevOwner := k.plegOwners
		for id := range prev {
			if _, ok := cur[id]; !ok {
				changed[prevOwner[id]] = true
			}
		}
		prev, k.plegOwners = cur, owner
		if len(changed) == 0 {
			continue
		}
		k.mu.Lock()
		for uid := range changed {
			if w := k.workers[uid]; w != nil {
				w.kick()
			}
		}
		k.mu.Unlock()
	}
}
