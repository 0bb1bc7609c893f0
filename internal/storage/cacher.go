package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// Event is one change to an object seen by a Cacher.
type Event struct {
	Type watch.EventType // Added, Modified or Deleted
	// Object is the new state; for Deleted the last state with resourceVersion set to the deletion revision.
	Object runtime.Object
	// Prev is the state before the change; nil for Added.
	Prev     runtime.Object
	Key      string
	Revision int64
	// Enc memoizes encodings of Object for the watchers an event is fanned out to; it lives as long as those
	// watchers' queues hold the event (the history ring keeps none). Nil when Object was made for one watcher.
	Enc *Encodings
}

// Cacher keeps the current objects under one prefix and the recent history of changes, fed by one etcd watch.
type Cacher struct {
	store   *Store
	prefix  string
	newFunc func() runtime.Object
	history HistoryBounds
	clock   clock.Clock
	log     *slog.Logger

	mu sync.RWMutex // guards the fields below
	// rev is the etcd revision the cache reflects.
	rev int64
	// ready is closed once the first list has loaded.
	ready    chan struct{}
	isReady  bool
	objects  map[string]runtime.Object
	ring     eventRing // the recent events, as many as history allows
	oldest   int64     // every event with revision > oldest is in ring
	watchers map[*CacheWatcher]struct{}
}

// NewCacher returns a cacher for the objects under prefix; Run must be called to fill it.
func NewCacher(store *Store, prefix string, newFunc func() runtime.Object, log *slog.Logger) *Cacher {
	if log == nil {
		log = slog.Default()
	}
	return &Cacher{
		store:    store,
		prefix:   prefix,
		newFunc:  newFunc,
		history:  DefaultHistoryBounds,
		clock:    clock.Real{},
		log:      log.With("prefix", prefix),
		ready:    make(chan struct{}),
		objects:  map[string]runtime.Object{},
		watchers: map[*CacheWatcher]struct{}{},
	}
}

// Run lists and watches the prefix until ctx ends, relisting after compaction or watch errors.
func (c *Cacher) Run(ctx context.Context) error {
	defer c.stopAllWatchers()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listAndWatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("cacher: relisting", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
	return nil
}

// WaitReady blocks until the first list has loaded or ctx ends.
func (c *Cacher) WaitReady(ctx context.Context) error {
	c.mu.RLock()
	ready := c.ready
	c.mu.RUnlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Cacher) listAndWatch(ctx context.Context) error {
	res, err := c.store.List(ctx, c.prefix, ListOptions{}, c.newFunc)
	if err != nil {
		return err
	}
	objs := make(map[string]runtime.Object, len(res.Items))
	for _, o := range res.Items {
		objs[keyOf(o, c.prefix)] = o
	}
	c.mu.Lock()
	// Watchers that were open across a relist may have missed events: end them so their clients start again.
	for w := range c.watchers {
		w.terminate()
	}
	c.watchers = map[*CacheWatcher]struct{}{}
	c.objects = objs
	c.rev = res.Revision
	c.oldest = res.Revision
	c.ring.reset()
	if !c.isReady {
		c.isReady = true
		close(c.ready)
	}
	c.mu.Unlock()

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := c.store.client.Watch(wctx, c.prefix, clientv3.WithPrefix(), clientv3.WithRev(res.Revision+1),
		clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		if resp.IsProgressNotify() {
			c.mu.Lock()
			if resp.Header.Revision > c.rev {
				c.rev = resp.Header.Revision
			}
			c.mu.Unlock()
			continue
		}
		if err := c.apply(resp.Events); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("watch channel closed")
}

func (c *Cacher) apply(evs []*clientv3.Event) error {
	decoded := make([]Event, 0, len(evs))
	for _, ev := range evs {
		key := string(ev.Kv.Key)
		switch ev.Type {
		case mvccpb.PUT:
			obj, err := c.store.Decode(ev.Kv.Value, ev.Kv.ModRevision, c.newFunc())
			if err != nil {
				c.log.Error("cacher: skipping undecodable object", "key", key, "err", err)
				continue
			}
			e := Event{Type: watch.Added, Object: obj, Key: key, Revision: ev.Kv.ModRevision}
			if ev.IsModify() {
				e.Type = watch.Modified
			}
			decoded = append(decoded, e)
		case mvccpb.DELETE:
			if ev.PrevKv == nil {
				continue
			}
			obj, err := c.store.Decode(ev.PrevKv.Value, ev.Kv.ModRevision, c.newFunc())
			if err != nil {
				c.log.Error("cacher: skipping undecodable object", "key", key, "err", err)
				continue
			}
			decoded = append(decoded, Event{Type: watch.Deleted, Object: obj, Key: key, Revision: ev.Kv.ModRevision})
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range decoded {
		e.Prev = c.objects[e.Key]
		if e.Type == watch.Deleted {
			delete(c.objects, e.Key)
		} else {
			if e.Prev == nil {
				e.Type = watch.Added
			}
			c.objects[e.Key] = e.Object
		}
		if e.Revision > c.rev {
			c.rev = e.Revision
		}
		if forgot := c.ring.push(e, c.clock.Now(), c.history); forgot > 0 {
			c.oldest = forgot
		}
		if len(c.watchers) > 1 {
			e.Enc = &Encodings{}
		}
		for w := range c.watchers {
			if !w.push(e) {
				delete(c.watchers, w)
			}
		}
	}
	return nil
}

// Revision returns the etcd revision the cache reflects.
func (c *Cacher) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// List returns the cached objects whose key starts with prefix and that pass filter (nil = all), sorted by key, and the cache revision.
func (c *Cacher) List(prefix string, filter func(runtime.Object) bool) ([]runtime.Object, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	keys := make([]string, 0, len(c.objects))
	for k := range c.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		o := c.objects[k]
		if filter == nil || filter(o) {
			out = append(out, o)
		}
	}
	return out, c.rev
}

// Get returns the cached object at key, or nil.
func (c *Cacher) Get(key string) runtime.Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.objects[key]
}

// WatchOptions say where a watch starts and what it sees.
type WatchOptions struct {
	// Prefix restricts the watch to keys under it (a namespace); "" means the cacher's whole prefix.
	Prefix string
	// Revision: events after it are sent. Ignored when InitialEvents is true.
	Revision int64
	// InitialEvents sends the current matching objects as Added events first (resourceVersion 0 or unset, or sendInitialEvents=true).
	InitialEvents bool
	// Filter decides which objects the watcher sees; an object moving out of it is sent as Deleted, into it as Added.
	Filter func(runtime.Object) bool
}

// MaxQueue is how many undelivered events a watcher may hold before it is ended as too slow.
const MaxQueue = 100000

// Watch starts a watcher. A Revision older than the cache's history or etcd's compaction gives an ExpiredError.
func (c *Cacher) Watch(ctx context.Context, opts WatchOptions) (*CacheWatcher, error) {
	if err := c.WaitReady(ctx); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = c.prefix
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &CacheWatcher{opts: opts, signal: make(chan struct{}, 1), done: make(chan struct{})}
	if opts.InitialEvents {
		keys := make([]string, 0, len(c.objects))
		for k := range c.objects {
			if strings.HasPrefix(k, opts.Prefix) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.queue = append(w.queue, Event{Type: watch.Added, Object: c.objects[k], Key: k, Revision: c.rev})
		}
		w.initialCount = len(w.queue)
		w.initialRev = c.rev
	} else {
		if opts.Revision < c.oldest {
			return nil, &ExpiredError{Requested: opts.Revision, Oldest: c.oldest + 1}
		}
		w.queue = append(w.queue, c.ring.after(opts.Revision)...)
		w.initialRev = max(c.rev, opts.Revision)
	}
	c.watchers[w] = struct{}{}
	w.cacher = c
	return w, nil
}

// CheckCompacted reports an ExpiredError when rev is older than etcd's compaction.
func (c *Cacher) CheckCompacted(ctx context.Context, rev int64) error {
	if rev <= 0 {
		return nil
	}
	if err := c.store.CheckRevision(ctx, rev); err != nil && errors.Is(err, ErrExpired) {
		return err
	}
	return nil
}

func (c *Cacher) stopAllWatchers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.watchers {
		w.terminate()
	}
	c.watchers = map[*CacheWatcher]struct{}{}
}

func (c *Cacher) remove(w *CacheWatcher) {
	c.mu.Lock()
	delete(c.watchers, w)
	c.mu.Unlock()
}

// CacheWatcher delivers the events of one watch.
type CacheWatcher struct {
	cacher *Cacher
	opts   WatchOptions
	signal chan struct{}

	mu sync.Mutex // guards the fields below
	// queue holds undelivered events; the first initialCount are the initial state.
	queue        []Event
	initialCount int
	initialRev   int64
	closed       bool
	initialSent  bool
	done         chan struct{}
}

// InitialRevision is the cache revision when the watch started: the resourceVersion of the initial-events-end bookmark.
func (w *CacheWatcher) InitialRevision() int64 { return w.initialRev }

// push queues e; false means the watcher is finished or too slow and must be dropped.
func (w *CacheWatcher) push(e Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	if len(w.queue) >= MaxQueue {
		w.closed = true
		close(w.done)
		return false
	}
	w.queue = append(w.queue, e)
	select {
	case w.signal <- struct{}{}:
	default:
	}
	return true
}

func (w *CacheWatcher) terminate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.done)
	}
}

// Stop ends the watch; safe to call more than once.
func (w *CacheWatcher) Stop() {
	w.terminate()
	if w.cacher != nil {
		w.cacher.remove(w)
	}
}

// Done is closed when the watcher was ended by Stop, a relist or for being too slow.
func (w *CacheWatcher) Done() <-chan struct{} { return w.done }

// Signal receives a value whenever new events may be queued.
func (w *CacheWatcher) Signal() <-chan struct{} { return w.signal }

// Next returns the queued events the watcher should see, already filtered and translated, and whether the
// initial events have now all been returned (true exactly once for InitialEvents watches).
func (w *CacheWatcher) Next() (out []Event, initialDone bool) {
	w.mu.Lock()
	q := w.queue
	w.queue = nil
	ic := w.initialCount
	w.initialCount = 0
	first := !w.initialSent
	w.initialSent = true
	w.mu.Unlock()
	for i, e := range q {
		if !strings.HasPrefix(e.Key, w.opts.Prefix) {
			continue
		}
		if i < ic {
			if w.opts.Filter == nil || w.opts.Filter(e.Object) {
				out = append(out, e)
			}
			continue
		}
		if e.Revision <= w.opts.Revision && !w.opts.InitialEvents {
			continue
		}
		if e.Revision <= w.initialRev && w.opts.InitialEvents {
			continue
		}
		if t, ok := translate(e, w.opts.Filter); ok {
			if t == watch.Deleted && e.Type == watch.Modified {
				// Leaving the filter: the previous state, at the event's revision, as kube-apiserver sends it.
				prev := e.Prev.DeepCopyObject()
				setRV(prev, e.Revision)
				e.Object = prev
				e.Enc = nil
			}
			e.Type = t
			out = append(out, e)
		}
	}
	return out, first && w.opts.InitialEvents
}

func translate(e Event, filter func(runtime.Object) bool) (watch.EventType, bool) {
	if filter == nil {
		return e.Type, true
	}
	switch e.Type {
	case watch.Added:
		return watch.Added, filter(e.Object)
	case watch.Deleted:
		return watch.Deleted, filter(e.Object)
	default:
		now := filter(e.Object)
		before := e.Prev != nil && filter(e.Prev)
		switch {
		case now && before:
			return watch.Modified, true
		case now:
			return watch.Added, true
		case before:
			return watch.Deleted, true
		}
		return "", false
	}
}

func keyOf(obj runtime.Object, prefix string) string {
	type named interface {
		GetNamespace() string
		GetName() string
	}
	n := obj.(named)
	// prefix is "/registry/<g>/<r>/"; namespaced keys add "<ns>/".
	if ns := n.GetNamespace(); ns != "" {
		return prefix + ns + "/" + n.GetName()
	}
	return prefix + n.GetName()
}
