package bench

import (
	"context"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// podTimes is when a pod was first seen at each point of its life (zero: not yet).
type podTimes struct {
	created, seen, bound, running, ready time.Time
}

// podTracker watches the pods of one namespace and notes when each was first seen
// bound, Running and Ready, by the injected clock. Safe for concurrent use.
type podTracker struct {
	clk      clock.Clock
	informer cache.SharedIndexInformer
	changed  chan struct{} // gets a token after each change

	mu   sync.Mutex // guards pods
	pods map[string]*podTimes
}

func newPodTracker(client kubernetes.Interface, ns string, clk clock.Clock) *podTracker {
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	t := &podTracker{clk: clk, informer: f.Core().V1().Pods().Informer(), pods: map[string]*podTimes{},
		changed: make(chan struct{}, 1)}
	_, _ = t.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    t.observe,
		UpdateFunc: func(_, obj any) { t.observe(obj) },
	})
	return t
}

// run watches until ctx ends; wait for synced before trusting the times.
func (t *podTracker) run(ctx context.Context) { t.informer.Run(ctx.Done()) }

func (t *podTracker) synced(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), t.informer.HasSynced)
}

func (t *podTracker) observe(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	now := t.clk.Now()
	t.mu.Lock()
	p := t.pods[pod.Name]
	if p == nil {
		p = &podTimes{seen: now}
		t.pods[pod.Name] = p
	}
	if p.bound.IsZero() && pod.Spec.NodeName != "" {
		p.bound = now
	}
	if p.running.IsZero() && pod.Status.Phase == corev1.PodRunning {
		p.running = now
	}
	if p.ready.IsZero() && podReady(pod) {
		p.ready = now
	}
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// setCreated records when the create of pod name was acknowledged.
func (t *podTracker) setCreated(name string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pods[name]
	if p == nil {
		p = &podTimes{}
		t.pods[name] = p
	}
	p.created = at
}

// snapshot copies the times of every pod seen.
func (t *podTracker) snapshot() map[string]podTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]podTimes, len(t.pods))
	for k, v := range t.pods {
		out[k] = *v
	}
	return out
}

// get returns the times of one pod.
func (t *podTracker) get(name string) podTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pods[name]; p != nil {
		return *p
	}
	return podTimes{}
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// start is when a pod's clock starts: its acknowledged create, else when it was first seen.
func (p podTimes) start() time.Time {
	if !p.created.IsZero() {
		return p.created
	}
	return p.seen
}

// counts tallies how many pods reached each point.
func counts(pods map[string]podTimes) (seen, bound, running, ready int) {
	for _, p := range pods {
		if !p.seen.IsZero() || !p.created.IsZero() {
			seen++
		}
		if !p.bound.IsZero() {
			bound++
		}
		if !p.running.IsZero() {
			running++
		}
		if !p.ready.IsZero() {
			ready++
		}
	}
	return
}

// podSpec is the spec of a benchmark pod: one container with small requests.
func podSpec(image string, grace int64) corev1.PodSpec {
	return corev1.PodSpec{
		TerminationGracePeriodSeconds: &grace,
		Containers: []corev1.Container{{
			Name: "app", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		}},
	}
}

// deletePods deletes every pod of ns at once with grace 0 (best effort, bounded).
func deletePods(env *Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	zero := int64(0)
	err := env.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	if err != nil {
		env.Log.Warn("bench: delete pods", "namespace", ns, "err", err)
	}
}

// waitFor polls cond after every change the tracker sees (and every 100ms) until it
// is true, ctx ends or d passes; it reports whether cond became true.
func (t *podTracker) waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := t.clk.After(d)
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			return cond()
		case <-t.changed:
		case <-t.clk.After(100 * time.Millisecond):
		}
	}
	return true
}

// nonNeg clamps a latency at 0: a watch event can arrive before the response to the
// write that caused it.
func nonNeg(d time.Duration) time.Duration { return max(d, 0) }
