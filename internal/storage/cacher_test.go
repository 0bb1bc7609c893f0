package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// startCacher runs a cacher for all ConfigMaps until the test ends, after which Run must have returned.
// history, when > 0, fixes the history at that many events instead of DefaultHistoryBounds.
func startCacher(t *testing.T, te *testEtcd, history int) *Cacher {
	t.Helper()
	c := NewCacher(te.store, cmKeys.Prefix(""), newCM, nil)
	if history > 0 {
		c.history = HistoryBounds{Min: history, Max: history, Fresh: time.Hour}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("cacher Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("cacher Run did not return after cancel")
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatalf("cacher not ready: %v", err)
	}
	return c
}

// leakCheck takes the goroutine baseline once etcd and its client are up and checks it at cleanup,
// which runs after the cleanups registered later (the cacher's).
func leakCheck(t *testing.T, te *testEtcd) {
	t.Helper()
	if _, err := te.store.CurrentRevision(testCtx(t)); err != nil { // the connection's goroutines exist from here
		t.Fatal(err)
	}
	t.Cleanup(checkGoroutines(t))
}

// waitRev waits until the cache has reached rev.
func waitRev(t *testing.T, c *Cacher, rev int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Revision() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("cache at revision %d, want %d", c.Revision(), rev)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// collect returns the next n events of w (more if they came together) and whether Next reported the end of
// the initial events.
func collect(t *testing.T, w *CacheWatcher, n int) ([]Event, bool) {
	t.Helper()
	var evs []Event
	initialDone := false
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		out, done := w.Next()
		evs = append(evs, out...)
		initialDone = initialDone || done
		if len(evs) >= n {
			return evs, initialDone
		}
		select {
		case <-w.Signal():
		case <-w.Done():
			out, done := w.Next()
			evs = append(evs, out...)
			if len(evs) < n {
				t.Fatalf("watcher ended after %d events, want %d: %s", len(evs), n, describe(evs))
			}
			return evs, initialDone || done
		case <-deadline.C:
			t.Fatalf("got %d events in 10s, want %d: %s", len(evs), n, describe(evs))
		}
	}
}

// ev is an expected event.
type ev struct {
	typ  watch.EventType
	name string // namespace/name
	rev  int64  // 0 = don't check
}

func describe(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		m := e.Object.(metav1.Object)
		fmt.Fprintf(&b, "\n  %s %s/%s rev=%d rv=%s", e.Type, m.GetNamespace(), m.GetName(), e.Revision, m.GetResourceVersion())
	}
	return b.String()
}

func expectEvents(t *testing.T, got []Event, want []ev) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		m := got[i].Object.(metav1.Object)
		if got[i].Type != want[i].typ || m.GetNamespace()+"/"+m.GetName() != want[i].name ||
			(want[i].rev != 0 && got[i].Revision != want[i].rev) {
			ok = false
		}
		if got[i].Key != cmKeys.Key(m.GetNamespace(), m.GetName()) {
			t.Errorf("event %d: key %q for object %s/%s", i, got[i].Key, m.GetNamespace(), m.GetName())
		}
		// Live events carry the object at the event's revision (initial events, checked with rev 0, the object's own).
		if want[i].rev != 0 && m.GetResourceVersion() != fmt.Sprint(got[i].Revision) {
			t.Errorf("event %d: object resourceVersion %s, event revision %d", i, m.GetResourceVersion(), got[i].Revision)
		}
	}
	if !ok {
		var w strings.Builder
		for _, e := range want {
			fmt.Fprintf(&w, "\n  %s %s rev=%d", e.typ, e.name, e.rev)
		}
		t.Fatalf("events:%s\nwant:%s", describe(got), w.String())
	}
}

// writer performs writes and returns their revisions.
type writer struct {
	t   *testing.T
	s   *Store
	ctx context.Context
}

func (w writer) create(ns, name string, labels map[string]string) int64 {
	w.t.Helper()
	out, err := w.s.Create(w.ctx, cmKeys.Key(ns, name), cm(ns, name, labels, map[string]string{"v": "0"}))
	if err != nil {
		w.t.Fatalf("create %s/%s: %v", ns, name, err)
	}
	return rvOf(w.t, out)
}

func (w writer) update(ns, name string, f func(*corev1.ConfigMap)) int64 {
	w.t.Helper()
	out, err := w.s.GuaranteedUpdate(w.ctx, cmKeys.Key(ns, name), newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		c := cur.DeepCopyObject().(*corev1.ConfigMap)
		f(c)
		return c, nil
	})
	if err != nil {
		w.t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return rvOf(w.t, out)
}

func (w writer) del(ns, name string) int64 {
	w.t.Helper()
	out, err := w.s.Delete(w.ctx, cmKeys.Key(ns, name), 0, newCM)
	if err != nil {
		w.t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return rvOf(w.t, out)
}

func setData(v string) func(*corev1.ConfigMap) { return func(c *corev1.ConfigMap) { c.Data["v"] = v } }

func setApp(v string) func(*corev1.ConfigMap) {
	return func(c *corev1.ConfigMap) { c.Labels = map[string]string{"app": v} }
}

func TestCacherListThenEventsInOrder(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	w.create("ns1", "a", nil)
	w.create("ns1", "b", nil)
	rc := w.create("ns2", "c", nil)

	c := startCacher(t, te, 0)
	if c.Revision() < rc {
		t.Fatalf("ready cache at revision %d, before the last write %d", c.Revision(), rc)
	}
	objs, rev := c.List(cmKeys.Prefix(""), nil)
	if got := strings.Join(names(objs), ","); got != "ns1/a,ns1/b,ns2/c" || rev != c.Revision() {
		t.Fatalf("initial list = %s at %d", got, rev)
	}
	if objs, _ := c.List(cmKeys.Prefix("ns1"), nil); len(objs) != 2 {
		t.Errorf("ns1 list has %d objects, want 2", len(objs))
	}
	if o := c.Get(cmKeys.Key("ns2", "c")); o == nil || rvOf(t, o) != rc {
		t.Errorf("Get(ns2/c) = %v, want resourceVersion %d", o, rc)
	}

	all, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Stop()
	ns1, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision(), Prefix: cmKeys.Prefix("ns1")})
	if err != nil {
		t.Fatal(err)
	}
	defer ns1.Stop()

	r1 := w.create("ns1", "d", nil)
	r2 := w.update("ns1", "a", setData("1"))
	r3 := w.del("ns1", "b")
	r4 := w.create("ns2", "e", nil)
	r5 := w.update("ns2", "e", setData("2"))
	r6 := w.del("ns2", "e")
	r7 := w.update("ns1", "a", setData("3"))

	evs, initialDone := collect(t, all, 7)
	if initialDone {
		t.Error("a watch without initial events reported their end")
	}
	expectEvents(t, evs, []ev{
		{watch.Added, "ns1/d", r1}, {watch.Modified, "ns1/a", r2}, {watch.Deleted, "ns1/b", r3},
		{watch.Added, "ns2/e", r4}, {watch.Modified, "ns2/e", r5}, {watch.Deleted, "ns2/e", r6}, {watch.Modified, "ns1/a", r7},
	})
	if d := evs[2].Object.(*corev1.ConfigMap); d.Data["v"] != "0" {
		t.Errorf("Deleted event carries %v, want the last state", d.Data)
	}
	if p, ok := evs[1].Prev.(*corev1.ConfigMap); !ok || p.Data["v"] != "0" || evs[1].Object.(*corev1.ConfigMap).Data["v"] != "1" {
		t.Errorf("Modified event: prev %v, object %v", evs[1].Prev, evs[1].Object)
	}
	if evs[0].Prev != nil {
		t.Errorf("Added event has a Prev")
	}
	evs, _ = collect(t, ns1, 4)
	expectEvents(t, evs, []ev{{watch.Added, "ns1/d", r1}, {watch.Modified, "ns1/a", r2}, {watch.Deleted, "ns1/b", r3}, {watch.Modified, "ns1/a", r7}})

	waitRev(t, c, r7)
	objs, _ = c.List(cmKeys.Prefix(""), nil)
	if got := strings.Join(names(objs), ","); got != "ns1/a,ns1/d,ns2/c" {
		t.Errorf("list after events = %s", got)
	}
	if a := c.Get(cmKeys.Key("ns1", "a")).(*corev1.ConfigMap); a.Data["v"] != "3" || rvOf(t, a) != r7 {
		t.Errorf("cached ns1/a = %v rv %s", a.Data, a.ResourceVersion)
	}
}

func TestCacherWatchFromRevisionReplaysLaterEvents(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	c := startCacher(t, te, 0)
	revs := []int64{
		w.create("ns", "a", nil),
		w.create("ns", "b", nil),
		w.update("ns", "a", setData("1")),
	}
	// A write outside the prefix leaves a revision no cached event has.
	outside, err := te.client.Put(w.ctx, "/registry/core/secrets/ns/s", "x")
	if err != nil {
		t.Fatal(err)
	}
	gap := outside.Header.Revision
	revs = append(revs,
		w.del("ns", "b"),
		w.create("ns", "c", nil),
		w.update("ns", "c", setData("2")),
	)
	waitRev(t, c, revs[5])
	// Every starting point replays exactly the events after it.
	all := []ev{
		{watch.Added, "ns/a", revs[0]}, {watch.Added, "ns/b", revs[1]}, {watch.Modified, "ns/a", revs[2]},
		{watch.Deleted, "ns/b", revs[3]}, {watch.Added, "ns/c", revs[4]}, {watch.Modified, "ns/c", revs[5]},
	}
	var watchers []*CacheWatcher
	for i := range revs {
		cw, err := c.Watch(testCtx(t), WatchOptions{Revision: revs[i]})
		if err != nil {
			t.Fatalf("watch from %d: %v", revs[i], err)
		}
		defer cw.Stop()
		watchers = append(watchers, cw)
	}
	// A sentinel write after the replay proves nothing else comes between.
	sentinel := w.create("ns", "sentinel", nil)
	for i, cw := range watchers {
		want := append(append([]ev{}, all[i+1:]...), ev{watch.Added, "ns/sentinel", sentinel})
		evs, _ := collect(t, cw, len(want))
		expectEvents(t, evs, want)
	}
	// A revision between two events (none exist at it) works the same way.
	if gap <= revs[2] || gap >= revs[3] {
		t.Fatalf("outside write at %d, not between %d and %d", gap, revs[2], revs[3])
	}
	cw, err := c.Watch(testCtx(t), WatchOptions{Revision: gap})
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Stop()
	evs, _ := collect(t, cw, 4)
	expectEvents(t, evs, append(append([]ev{}, all[3:]...), ev{watch.Added, "ns/sentinel", sentinel}))
}

func TestCacherInitialEventsThenLive(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	w.create("ns", "b", map[string]string{"app": "web"})
	w.create("ns", "a", map[string]string{"app": "web"})
	w.create("ns", "c", map[string]string{"app": "db"})
	ro := w.create("other", "z", map[string]string{"app": "web"})
	c := startCacher(t, te, 0)
	waitRev(t, c, ro)

	web := func(o kruntime.Object) bool { return o.(metav1.Object).GetLabels()["app"] == "web" }
	cw, err := c.Watch(testCtx(t), WatchOptions{InitialEvents: true, Prefix: cmKeys.Prefix("ns"), Filter: web})
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Stop()
	if cw.InitialRevision() != c.Revision() {
		t.Errorf("InitialRevision %d, cache revision %d", cw.InitialRevision(), c.Revision())
	}
	evs, initialDone := cw.Next()
	if !initialDone {
		t.Error("first Next did not report the end of the initial events")
	}
	expectEvents(t, evs, []ev{{watch.Added, "ns/a", 0}, {watch.Added, "ns/b", 0}})
	for _, e := range evs {
		if e.Revision != cw.InitialRevision() {
			t.Errorf("initial event revision %d, want the initial revision %d", e.Revision, cw.InitialRevision())
		}
	}
	if _, again := cw.Next(); again {
		t.Error("the end of the initial events was reported twice")
	}

	r1 := w.update("ns", "a", setData("1"))
	w.create("ns", "d", map[string]string{"app": "db"}) // filtered out
	w.create("other", "y", map[string]string{"app": "web"})
	r2 := w.create("ns", "e", map[string]string{"app": "web"})
	r3 := w.del("ns", "b")
	evs, initialDone = collect(t, cw, 3)
	if initialDone {
		t.Error("end of initial events reported again with live events")
	}
	expectEvents(t, evs, []ev{{watch.Modified, "ns/a", r1}, {watch.Added, "ns/e", r2}, {watch.Deleted, "ns/b", r3}})

	// An initial-events watch with no filter and no prefix sees all four namespaces' objects.
	cw2, err := c.Watch(testCtx(t), WatchOptions{InitialEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cw2.Stop()
	waitRev(t, c, r3)
	evs, _ = cw2.Next()
	if got := strings.Join(names(objectsOf(evs)), ","); got != "ns/a,ns/c,ns/d,ns/e,other/y,other/z" {
		t.Errorf("initial events = %s", got)
	}
}

func objectsOf(evs []Event) []kruntime.Object {
	out := make([]kruntime.Object, len(evs))
	for i, e := range evs {
		out[i] = e.Object
	}
	return out
}

func TestCacherFilterTransitions(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	c := startCacher(t, te, 0)
	web := func(o kruntime.Object) bool { return o.(metav1.Object).GetLabels()["app"] == "web" }
	cw, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision(), Filter: web})
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Stop()
	r1 := w.create("ns", "x", map[string]string{"app": "web"}) // Added
	r2 := w.update("ns", "x", setApp("db"))                    // leaves the filter: Deleted
	w.update("ns", "x", setData("1"))                          // outside: nothing
	r3 := w.update("ns", "x", setApp("web"))                   // enters the filter: Added
	r4 := w.update("ns", "x", setData("2"))                    // inside: Modified
	w.create("ns", "y", map[string]string{"app": "db"})        // outside: nothing
	w.del("ns", "y")                                           // outside: nothing
	r5 := w.del("ns", "x")                                     // inside: Deleted
	r6 := w.create("ns", "sentinel", map[string]string{"app": "web"})
	evs, _ := collect(t, cw, 6)
	expectEvents(t, evs, []ev{
		{watch.Added, "ns/x", r1}, {watch.Deleted, "ns/x", r2}, {watch.Added, "ns/x", r3},
		{watch.Modified, "ns/x", r4}, {watch.Deleted, "ns/x", r5}, {watch.Added, "ns/sentinel", r6},
	})
	if got := evs[2].Object.(*corev1.ConfigMap).Data["v"]; got != "1" {
		t.Errorf("Added on entering the filter carries data v=%q, want the current state v=1", got)
	}
}

func TestCacherExpiredHistory(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	c := startCacher(t, te, 3)
	var revs []int64
	revs = append(revs, w.create("ns", "a", nil))
	for i := 1; i <= 5; i++ {
		revs = append(revs, w.update("ns", "a", setData(fmt.Sprint(i))))
	}
	waitRev(t, c, revs[5])
	// History 3 keeps the events at revs[3..5]: a watch from revs[2] is complete, from revs[1] is not.
	cw, err := c.Watch(testCtx(t), WatchOptions{Revision: revs[2]})
	if err != nil {
		t.Fatalf("watch from the oldest kept revision: %v", err)
	}
	defer cw.Stop()
	evs, _ := collect(t, cw, 3)
	expectEvents(t, evs, []ev{{watch.Modified, "ns/a", revs[3]}, {watch.Modified, "ns/a", revs[4]}, {watch.Modified, "ns/a", revs[5]}})
	for _, from := range []int64{revs[1], revs[0], 1} {
		_, err = c.Watch(testCtx(t), WatchOptions{Revision: from})
		var ee *ExpiredError
		if !errors.Is(err, ErrExpired) || !errors.As(err, &ee) || ee.Requested != from {
			t.Errorf("watch from %d: err = %v, want ExpiredError", from, err)
		}
	}
	// InitialEvents ignores the revision.
	cw2, err := c.Watch(testCtx(t), WatchOptions{InitialEvents: true, Revision: revs[0]})
	if err != nil {
		t.Fatalf("initial-events watch: %v", err)
	}
	cw2.Stop()
	c.mu.RLock()
	n := len(c.watchers)
	c.mu.RUnlock()
	if n != 1 {
		t.Errorf("%d watchers registered, want 1 (failed and stopped watches must not stay)", n)
	}
}

func TestCacherCheckCompacted(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	ctx := testCtx(t)
	w := writer{t, te.store, ctx}
	c := startCacher(t, te, 0)
	old := w.create("ns", "a", nil)
	w.update("ns", "a", setData("1"))
	cur := w.update("ns", "a", setData("2"))
	for _, rev := range []int64{0, old, cur} {
		if err := c.CheckCompacted(ctx, rev); err != nil {
			t.Errorf("CheckCompacted(%d) before compaction = %v", rev, err)
		}
	}
	// Compact only once the cache's etcd watch has delivered everything up to cur: a watch still catching up
	// from before the compaction revision is cancelled by etcd (and the cache then relists, ending watchers).
	deadline := time.Now().Add(10 * time.Second)
	for c.Revision() < cur {
		if time.Now().After(deadline) {
			t.Fatalf("cache at revision %d, want %d", c.Revision(), cur)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := te.client.Compact(ctx, cur, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	for _, rev := range []int64{old, cur - 1} {
		err := c.CheckCompacted(ctx, rev)
		var ee *ExpiredError
		if !errors.Is(err, ErrExpired) || !errors.As(err, &ee) || ee.Requested != rev {
			t.Errorf("CheckCompacted(%d) after compaction at %d = %v, want ExpiredError", rev, cur, err)
		}
	}
	if err := c.CheckCompacted(ctx, cur); err != nil {
		t.Errorf("CheckCompacted(%d) at the compaction revision = %v", cur, err)
	}
	if err := c.CheckCompacted(ctx, 0); err != nil {
		t.Errorf("CheckCompacted(0) = %v", err)
	}
	// The cache's own etcd watch survives the compaction.
	cw, err := c.Watch(ctx, WatchOptions{Revision: c.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Stop()
	r := w.update("ns", "a", setData("3"))
	evs, _ := collect(t, cw, 1)
	expectEvents(t, evs, []ev{{watch.Modified, "ns/a", r}})
}

func TestCacherStopEndsWatchers(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	c := NewCacher(te.store, cmKeys.Prefix(""), newCM, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if err := c.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	cw, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	stopped.Stop()
	stopped.Stop() // twice is fine
	select {
	case <-stopped.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	r := w.create("ns", "a", nil)
	evs, _ := collect(t, cw, 1)
	expectEvents(t, evs, []ev{{watch.Added, "ns/a", r}})
	if evs, _ := stopped.Next(); len(evs) != 0 {
		t.Errorf("a stopped watcher received %d events", len(evs))
	}
	cancel()
	select {
	case <-cw.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("watcher not ended when the cacher stopped")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	// A Watch on a cacher that was never ready respects its context.
	c2 := NewCacher(te.store, cmKeys.Prefix(""), newCM, nil)
	wctx, wcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer wcancel()
	if _, err := c2.Watch(wctx, WatchOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("watch on an unready cacher: %v", err)
	}
}
