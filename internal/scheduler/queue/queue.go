// Package queue orders the pods waiting to be scheduled. It holds each pending pod in exactly one of:
//
//   - active: ready to be tried, popped highest priority first, then oldest first;
//   - backoff: failed recently; waits 1 s, doubling per attempt up to 10 s, before going back to active;
//   - unschedulable: fitted nowhere; waits for a cluster event that could make it fit (MoveOnEvent), or
//     for 5 minutes, whichever comes first; never polled;
//   - gated: has spec.schedulingGates; waits for an update that removes them.
//
// A popped pod is in flight until Done. If it fails, the caller hands it back with AddUnschedulable, which
// sends it to backoff instead of unschedulable when an event arrived while it was in flight (the event
// might have been the one it needed) or when the pod itself changed meanwhile.
//
// Time comes from Config.Clock; Run drives the periodic flushes (every second for backoff, every 30 s for
// the 5-minute unschedulable limit) and tests call Flush directly. All methods are safe for concurrent use.
package queue

import (
	"container/heap"
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Config tunes a Queue; zero fields take the defaults.
type Config struct {
	Clock clock.Clock
	// InitialBackoff is the first back-off (default 1 s); it doubles per attempt up to MaxBackoff (10 s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxUnschedulable is how long a pod waits in unschedulable without any event (default 5 min).
	MaxUnschedulable time.Duration
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.InitialBackoff == 0 {
		c.InitialBackoff = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.MaxUnschedulable == 0 {
		c.MaxUnschedulable = 5 * time.Minute
	}
}

// QueuedPod is a pending pod with its queueing history.
type QueuedPod struct {
	Pod      *v1.Pod
	Priority int32
	// Timestamp is when the pod last entered the queue (orders equal priorities; starts back-off).
	Timestamp time.Time
	// InitialAttempt is when the pod was first popped.
	InitialAttempt time.Time
	// Attempts counts the pops.
	Attempts int
	// UnschedulablePlugins are the filters that rejected it last time; only events that may help them
	// move it. Empty means any event does.
	UnschedulablePlugins sets.Set[string]

	index int // in its heap
}

// Key is namespace/name.
func Key(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

type activeHeap []*QueuedPod

func (h activeHeap) Len() int { return len(h) }
func (h activeHeap) Less(i, j int) bool {
	if h[i].Priority != h[j].Priority {
		return h[i].Priority > h[j].Priority
	}
	return h[i].Timestamp.Before(h[j].Timestamp)
}
func (h activeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *activeHeap) Push(x any)   { p := x.(*QueuedPod); p.index = len(*h); *h = append(*h, p) }
func (h *activeHeap) Pop() any     { old := *h; p := old[len(old)-1]; *h = old[:len(old)-1]; return p }

type backoffHeap struct {
	pods   []*QueuedPod
	expiry func(*QueuedPod) time.Time
}

func (h *backoffHeap) Len() int           { return len(h.pods) }
func (h *backoffHeap) Less(i, j int) bool { return h.expiry(h.pods[i]).Before(h.expiry(h.pods[j])) }
func (h *backoffHeap) Swap(i, j int) {
	h.pods[i], h.pods[j] = h.pods[j], h.pods[i]
	h.pods[i].index = i
	h.pods[j].index = j
}
func (h *backoffHeap) Push(x any) {
	p := x.(*QueuedPod)
	p.index = len(h.pods)
	h.pods = append(h.pods, p)
}
func (h *backoffHeap) Pop() any {
	old := h.pods
	p := old[len(old)-1]
	h.pods = old[:len(old)-1]
	return p
}

// Queue is the scheduling queue. Its zero value is not usable; call New.
type Queue struct {
	cfg Config

	mu   sync.Mutex // guards the fields below
	cond *sync.Cond
	// where maps each key to the set holding it: one of the maps/heaps below.
	active        activeHeap
	activeIdx     map[string]*QueuedPod
	backoff       backoffHeap
	backoffIdx    map[string]*QueuedPod
	unschedulable map[string]*QueuedPod
	gated         map[string]*QueuedPod
	// inFlight holds popped pods until Done: the latest version of the pod (nil if deleted meanwhile) and
	// whether it was updated meanwhile.
	inFlight map[string]*inFlightPod
	// cycle counts pops; moveCycle is the cycle of the last MoveOnEvent for every plugin, and
	// pluginMoveCycle that of the last MoveOnEvent naming the plugin.
	cycle, moveCycle int64
	pluginMoveCycle  map[string]int64
	closed           bool
}

type inFlightPod struct {
	pod     *v1.Pod
	updated bool
	deleted bool
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	cfg.setDefaults()
	q := &Queue{cfg: cfg, activeIdx: map[string]*QueuedPod{}, backoffIdx: map[string]*QueuedPod{},
		unschedulable: map[string]*QueuedPod{}, gated: map[string]*QueuedPod{}, inFlight: map[string]*inFlightPod{},
		pluginMoveCycle: map[string]int64{}}
	q.backoff.expiry = q.backoffExpiry
	q.cond = sync.NewCond(&q.mu)
	return q
}

// BackoffDuration is the back-off after the given number of attempts: InitialBackoff doubling per attempt
// after the first, capped at MaxBackoff.
func (q *Queue) BackoffDuration(attempts int) time.Duration {
	d := q.cfg.InitialBackoff
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= q.cfg.MaxBackoff {
			return q.cfg.MaxBackoff
		}
	}
	return min(d, q.cfg.MaxBackoff)
}

func (q *Queue) backoffExpiry(p *QueuedPod) time.Time {
	return p.Timestamp.Add(q.BackoffDuration(p.Attempts))
}

func gatedPod(pod *v1.Pod) bool { return len(pod.Spec.SchedulingGates) > 0 }

func (q *Queue) pushActiveLocked(p *QueuedPod) {
	heap.Push(&q.active, p)
	q.activeIdx[Key(p.Pod)] = p
	q.cond.Broadcast()
}

func (q *Queue) pushBackoffLocked(p *QueuedPod) {
	heap.Push(&q.backoff, p)
	q.backoffIdx[Key(p.Pod)] = p
}

// removeLocked takes key out of whichever set holds it and returns it.
func (q *Queue) removeLocked(key string) *QueuedPod {
	if p, ok := q.activeIdx[key]; ok {
		heap.Remove(&q.active, p.index)
		delete(q.activeIdx, key)
		return p
	}
	if p, ok := q.backoffIdx[key]; ok {
		heap.Remove(&q.backoff, p.index)
		delete(q.backoffIdx, key)
		return p
	}
	if p, ok := q.unschedulable[key]; ok {
		delete(q.unschedulable, key)
		return p
	}
	if p, ok := q.gated[key]; ok {
		delete(q.gated, key)
		return p
	}
	return nil
}

// Add queues a new pending pod (or replaces the version of a queued one, as an update that changed it).
func (q *Queue) Add(pod *v1.Pod) { q.Update(nil, pod) }

// Update replaces the version of a pending pod. A pod whose spec, labels or annotations changed is tried
// again (after its back-off) even if it was unschedulable; a gated pod whose gates are gone becomes active.
// A change of status alone (such as the scheduler's own PodScheduled condition) leaves it where it is.
func (q *Queue) Update(old, pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	changed := old == nil || PodChanged(old, pod)
	if f, ok := q.inFlight[key]; ok {
		f.pod = pod
		f.updated = f.updated || changed
		return
	}
	if !changed {
		for _, p := range []*QueuedPod{q.activeIdx[key], q.backoffIdx[key], q.unschedulable[key], q.gated[key]} {
			if p != nil {
				p.Pod = pod
				return
			}
		}
	}
	if p := q.removeLocked(key); p != nil {
		p.Pod, p.Priority = pod, framework.PodPriority(pod)
		q.requeueLocked(p, true)
		return
	}
	p := &QueuedPod{Pod: pod, Priority: framework.PodPriority(pod), Timestamp: q.cfg.Clock.Now()}
	if gatedPod(pod) {
		q.gated[key] = p
		return
	}
	q.pushActiveLocked(p)
}

// PodChanged reports whether an update may change where the pod fits: its spec, labels or annotations.
func PodChanged(old, pod *v1.Pod) bool {
	return !reflect.DeepEqual(old.Spec, pod.Spec) || !reflect.DeepEqual(old.Labels, pod.Labels) ||
		!reflect.DeepEqual(old.Annotations, pod.Annotations)
}

// requeueLocked places p after a change: gated, backoff (if still backing off) or active.
func (q *Queue) requeueLocked(p *QueuedPod, changed bool) {
	key := Key(p.Pod)
	switch {
	case gatedPod(p.Pod):
		q.gated[key] = p
	case p.Attempts > 0 && q.cfg.Clock.Now().Before(q.backoffExpiry(p)):
		q.pushBackoffLocked(p)
	default:
		if changed && p.Attempts == 0 {
			p.Timestamp = q.cfg.Clock.Now()
		}
		q.pushActiveLocked(p)
	}
}

// Delete removes a pod that was deleted or got bound by someone else.
func (q *Queue) Delete(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	if f, ok := q.inFlight[key]; ok {
		f.deleted = true
		return
	}
	q.removeLocked(key)
}

// Pop blocks until a pod is active (or ctx ends or the queue closes: nil) and returns it in flight.
func (q *Queue) Pop(ctx context.Context) *QueuedPod {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.active) == 0 && !q.closed && ctx.Err() == nil {
		q.cond.Wait()
	}
	if q.closed || ctx.Err() != nil {
		return nil
	}
	p := heap.Pop(&q.active).(*QueuedPod)
	key := Key(p.Pod)
	delete(q.activeIdx, key)
	q.cycle++
	p.Attempts++
	if p.InitialAttempt.IsZero() {
		p.InitialAttempt = q.cfg.Clock.Now()
	}
	q.inFlight[key] = &inFlightPod{pod: p.Pod}
	return p
}

// Cycle is the number of pops so far; pass the value read right after Pop to AddUnschedulable.
func (q *Queue) Cycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.cycle
}

// AddUnschedulable hands back a popped pod that failed in cycle: to unschedulable, or to backoff if a
// cluster event arrived since that cycle, the pod changed meanwhile, or plugins is empty (an error, not a
// misfit). A pod deleted meanwhile is dropped. It ends the pod's flight.
func (q *Queue) AddUnschedulable(p *QueuedPod, plugins sets.Set[string], cycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(p.Pod)
	f := q.inFlight[key]
	delete(q.inFlight, key)
	if f != nil && f.deleted {
		return
	}
	if f != nil {
		p.Pod = f.pod
		p.Priority = framework.PodPriority(f.pod)
	}
	q.removeLocked(key) // re-added while in flight (should not happen): the popped one wins
	p.UnschedulablePlugins = plugins
	p.Timestamp = q.cfg.Clock.Now()
	switch {
	case gatedPod(p.Pod):
		q.gated[key] = p
	case len(plugins) == 0 || q.movedSinceLocked(plugins, cycle) || (f != nil && f.updated):
		q.pushBackoffLocked(p)
	default:
		q.unschedulable[key] = p
	}
}

// movedSinceLocked reports whether an event that may help one of plugins arrived since cycle.
func (q *Queue) movedSinceLocked(plugins sets.Set[string], cycle int64) bool {
	if q.moveCycle >= cycle {
		return true
	}
	for p := range plugins {
		if q.pluginMoveCycle[p] >= cycle {
			return true
		}
	}
	return false
}

// Done ends the flight of a pod that was bound (or given up); later updates go through Add again.
func (q *Queue) Done(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, Key(pod))
}

// MoveOnEvent moves the unschedulable pods that the event may help (those rejected by one of plugins, or by
// nothing in particular) to active, or to backoff if still backing off. plugins nil means every pod.
func (q *Queue) MoveOnEvent(plugins sets.Set[string]) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if plugins == nil {
		q.moveCycle = q.cycle
	} else {
		for p := range plugins {
			q.pluginMoveCycle[p] = q.cycle
		}
	}
	for key, p := range q.unschedulable {
		if plugins != nil && len(p.UnschedulablePlugins) > 0 && !p.UnschedulablePlugins.HasAny(plugins.UnsortedList()...) {
			continue
		}
		delete(q.unschedulable, key)
		q.requeueLocked(p, false)
	}
}

// Activate moves the named pods from unschedulable or backoff straight to active (used when preemption
// freed room for them).
func (q *Queue) Activate(pods ...*v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, pod := range pods {
		key := Key(pod)
		if p, ok := q.unschedulable[key]; ok {
			delete(q.unschedulable, key)
			q.pushActiveLocked(p)
		} else if p, ok := q.backoffIdx[key]; ok {
			heap.Remove(&q.backoff, p.index)
			delete(q.backoffIdx, key)
			q.pushActiveLocked(p)
		}
	}
}

// Flush moves pods whose back-off has expired to active, and pods unschedulable for longer than
// MaxUnschedulable to active (or backoff).
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.cfg.Clock.Now()
	for q.backoff.Len() > 0 {
		p := q.backoff.pods[0]
		if now.Before(q.backoffExpiry(p)) {
			break
		}
		heap.Pop(&q.backoff)
		delete(q.backoffIdx, Key(p.Pod))
		q.pushActiveLocked(p)
	}
	for key, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.cfg.MaxUnschedulable {
			delete(q.unschedulable, key)
			q.requeueLocked(p, false)
		}
	}
}

// Run flushes every second until ctx ends, then closes the queue.
func (q *Queue) Run(ctx context.Context) {
	t := q.cfg.Clock.NewTicker(time.Second)
	defer t.Stop()
	defer q.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			q.Flush()
		}
	}
}

// Close wakes Pop callers, which return nil from then on.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Stats counts the pods in each set.
type Stats struct{ Active, Backoff, Unschedulable, Gated, InFlight int }

// Stats returns the current counts.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Active: len(q.active), Backoff: q.backoff.Len(), Unschedulable: len(q.unschedulable), Gated: len(q.gated), InFlight: len(q.inFlight)}
}

// Where tells which set holds a pod: "active", "backoff", "unschedulable", "gated", "inflight" or "".
func (q *Queue) Where(pod *v1.Pod) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	switch {
	case q.activeIdx[key] != nil:
		return "active"
	case q.backoffIdx[key] != nil:
		return "backoff"
	case q.unschedulable[key] != nil:
		return "unschedulable"
	case q.gated[key] != nil:
		return "gated"
	case q.inFlight[key] != nil:
		return "inflight"
	}
	return ""
}

// Pending lists the pods not in flight, for diagnostics.
func (q *Queue) Pending() []*v1.Pod {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*v1.Pod
	for _, p := range q.active {
		out = append(out, p.Pod)
	}
	for _, p := range q.backoff.pods {
		out = append(out, p.Pod)
	}
	for _, p := range q.unschedulable {
		out = append(out, p.Pod)
	}
	for _, p := range q.gated {
		out = append(out, p.Pod)
	}
	return out
}
