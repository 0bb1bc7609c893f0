package kubelet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
)

// podAdmission is the kubelet's verdict on a pod before it first runs here, as its predicate admit handler
// (pkg/kubelet/lifecycle/predicate.go): the node must fit the pod's requests next to the pods it already runs, match
// its node selector and required node affinity, have its host ports free, and carry no NoExecute taint the pod does
// not tolerate. A rejected pod is failed with Reason and "Pod was rejected: "+Message and never started.
type podAdmission struct {
	Admit           bool
	Reason, Message string
}

// admitPod checks pod against node and the pods already admitted there (running, terminal ones left out by the
// caller). Only the first failure is reported, as upstream: resources (reason "OutOf<resource>"), then NodeAffinity,
// NodePorts, and TaintToleration.
func admitPod(pod *corev1.Pod, node *corev1.Node, admitted []*corev1.Pod) podAdmission {
	infos := make([]*framework.PodInfo, 0, len(admitted))
	for _, p := range admitted {
		infos = append(infos, framework.NewPodInfo(p))
	}
	ni := framework.NewNodeInfo(node, infos...)
	pi := framework.NewPodInfo(pod)
	if ins := plugins.FitsRequest(pi, ni); len(ins) > 0 {
		r := ins[0]
		return podAdmission{Reason: "OutOf" + string(r.Name),
			Message: fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", r.Name, r.Requested, r.Used, r.Capacity)}
	}
	if !plugins.NewRequiredNodeAffinity(pod).Match(node) {
		return predicateFailed("NodeAffinity", "node(s) didn't match Pod's node affinity/selector")
	}
	if !plugins.NodePorts(pi, ni).IsSuccess() {
		return predicateFailed("NodePorts", "node(s) didn't have free ports for the requested pod ports")
	}
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectNoExecute && !plugins.TolerationsTolerateTaint(pod.Spec.Tolerations, t) {
			return predicateFailed("TaintToleration", "node(s) had untolerated taint(s)")
		}
	}
	return podAdmission{Admit: true}
}

func predicateFailed(name, desc string) podAdmission {
	return podAdmission{Reason: name, Message: fmt.Sprintf("Predicate %s failed: %s", name, desc)}
}

// admit decides whether the worker's pod may run here. A pod that already ran (a sandbox or container exists, its
// status shows containers, it is terminal, or the worker adopted it at start) was admitted before; a new one is
// checked against the node and the pods admitted so far, one decision at a time.
func (w *podWorker) admit(ctx context.Context, pod *corev1.Pod, obs *observedPod) podAdmission {
	k := w.k
	k.admitMu.Lock()
	defer k.admitMu.Unlock()
	if k.admitted == nil {
		k.admitted = map[types.UID]*corev1.Pod{}
		k.rejected = map[types.UID]bool{}
	}
	ran := w.adopted || len(obs.Sandboxes) > 0 || len(obs.Containers) > 0 || len(pod.Status.ContainerStatuses) > 0 ||
		pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil
	if !ran {
		node, err := k.cs.CoreV1().Nodes().Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if err == nil {
			var others []*corev1.Pod
			active := func(p *corev1.Pod) {
				if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
					others = append(others, p)
				}
			}
			for uid, p := range k.admitted {
				if uid == pod.UID {
					continue
				}
				if cur, err := k.podLister.Pods(p.Namespace).Get(p.Name); err == nil && cur.UID == uid {
					p = cur
				}
				active(p)
			}
			// Pods that arrived earlier and are still undecided go first (the kubelet admits in creation order).
			for _, ow := range k.workersBefore(w.seq) {
				if k.admitted[ow.uid] != nil || k.rejected[ow.uid] {
					continue
				}
				if cur, err := k.podLister.Pods(ow.namespace).Get(ow.name); err == nil && cur.UID == ow.uid && cur.DeletionTimestamp == nil {
					active(cur)
				}
			}
			if a := admitPod(pod, node, others); !a.Admit {
				k.rejected[pod.UID] = true
				w.event(pod, corev1.EventTypeWarning, a.Reason, "%s", a.Message)
				return a
			}
		} else {
			k.log.Warn("admit pod: reading the node", "pod", w.namespace+"/"+w.name, "err", err)
		}
	}
	k.admitted[pod.UID] = pod
	return podAdmission{Admit: true}
}

// reportRejected writes the rejected pod's status: Failed, with the admission's reason and message (as the kubelet's
// rejectPod), unless it already says so.
func (w *podWorker) reportRejected(ctx context.Context, pod *corev1.Pod) {
	msg := "Pod was rejected: " + w.admission.Message
	if pod.Status.Phase == corev1.PodFailed && pod.Status.Reason == w.admission.Reason && pod.Status.Message == msg {
		return
	}
	cur := pod.DeepCopy()
	cur.Status.Phase, cur.Status.Reason, cur.Status.Message = corev1.PodFailed, w.admission.Reason, msg
	if _, err := w.k.cs.CoreV1().Pods(w.namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
		w.k.log.Warn("reject pod", "pod", w.namespace+"/"+w.name, "err", err)
	}
}

// workersBefore lists the workers whose pods arrived before seq.
func (k *Kubelet) workersBefore(seq uint64) []*podWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*podWorker
	for _, ow := range k.workers {
		if ow.seq < seq {
			out = append(out, ow)
		}
	}
	return out
}
