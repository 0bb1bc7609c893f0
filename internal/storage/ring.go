package storage

import (
	"sort"
	"time"
)

// HistoryBounds size a Cacher's history as kube-apiserver sizes its watch cache: at least Min events and at most
// Max, and in between as many as cover the last Fresh of changes. A watch that starts from a revision older than the
// history gets 410 Gone and its client relists, so Fresh is how far back a reconnecting watcher can resume.
type HistoryBounds struct {
	Min, Max int
	Fresh    time.Duration
}

// DefaultHistoryBounds are kube-apiserver's lower bound and event freshness (100 events, 75 s) with a smaller upper
// bound: 10,000 events of the largest objects (pods) are already ~100 MB.
var DefaultHistoryBounds = HistoryBounds{Min: 100, Max: 10000, Fresh: 75 * time.Second}

// ringEntry is one remembered event and when the cacher saw it.
type ringEntry struct {
	ev Event
	at time.Time
}

// eventRing is the Cacher's history: the recent events in revision order, in a circular buffer so that remembering
// one more event costs O(1) however long the history is.
type eventRing struct {
	buf      []ringEntry // len(buf) is the current capacity
	start    int         // index in buf of the oldest event
	n        int         // number of events held
	capacity int         // events held at most before resizing or forgetting; 0 until the first push
}

// push appends e, seen at now. When the ring is full it first resizes as kube-apiserver's watch cache does:
// doubling (up to b.Max) while even the oldest event is younger than b.Fresh, halving (down to b.Min) once the newest
// quarter is older than b.Fresh; if still full, it forgets the oldest event. forgot is the highest revision
// forgotten, 0 when none was.
func (r *eventRing) push(e Event, now time.Time, b HistoryBounds) (forgot int64) {
	if r.capacity == 0 {
		r.resize(max(1, min(b.Min, b.Max)))
	}
	if r.n == r.capacity {
		switch {
		case r.capacity < b.Max && now.Sub(r.entry(0).at) < b.Fresh:
			r.resize(min(2*r.capacity, b.Max))
		case r.capacity > b.Min && now.Sub(r.entry(r.n-r.capacity/4).at) > b.Fresh:
			keep := max(r.capacity/2, b.Min)
			forgot = r.forget(r.n - keep)
			r.resize(keep)
		}
	}
	if r.n == r.capacity {
		forgot = r.forget(1)
	}
	r.buf[(r.start+r.n)%len(r.buf)] = ringEntry{ev: e, at: now}
	r.n++
	return forgot
}

// forget drops the k oldest events and returns the revision of the newest of them.
func (r *eventRing) forget(k int) int64 {
	var rev int64
	for range k {
		rev = r.buf[r.start].ev.Revision
		r.buf[r.start] = ringEntry{} // let the objects go
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
	return rev
}

// resize moves the events, oldest first, into a buffer of the given capacity (at least r.n).
func (r *eventRing) resize(capacity int) {
	buf := make([]ringEntry, capacity)
	for i := range r.n {
		buf[i] = r.entry(i)
	}
	r.buf, r.start, r.capacity = buf, 0, capacity
}

// entry returns the i-th oldest entry.
func (r *eventRing) entry(i int) ringEntry { return r.buf[(r.start+i)%len(r.buf)] }

// at returns the i-th oldest event.
func (r *eventRing) at(i int) Event { return r.entry(i).ev }

// after returns a copy of the events with a revision greater than rev, oldest first.
func (r *eventRing) after(rev int64) []Event {
	i := sort.Search(r.n, func(i int) bool { return r.at(i).Revision > rev })
	out := make([]Event, 0, r.n-i)
	for ; i < r.n; i++ {
		out = append(out, r.at(i))
	}
	return out
}

// reset forgets every event.
func (r *eventRing) reset() { *r = eventRing{} }
