package storage

import "sort"

// eventRing is the Cacher's history: the last cap events in revision order, in a circular buffer so that
// remembering one more event costs O(1) however long the history is. The buffer grows by doubling up to the
// capacity, so a resource that sees few events does not hold a full-size history (10,000 events are ~800 KB).
type eventRing struct {
	buf   []Event // grows by doubling up to the capacity
	start int     // index in buf of the oldest event
	n     int     // number of events held
}

// push appends e; when the ring is full it forgets the oldest event and returns it (ok true).
func (r *eventRing) push(e Event, capacity int) (dropped Event, ok bool) {
	if r.n == len(r.buf) && len(r.buf) < capacity {
		r.grow(min(capacity, max(2*len(r.buf), minRingSize)))
	}
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = e
		r.n++
		return Event{}, false
	}
	dropped = r.buf[r.start]
	r.buf[r.start] = e
	r.start = (r.start + 1) % len(r.buf)
	return dropped, true
}

// minRingSize is the first allocation of a ring's buffer.
const minRingSize = 64

// grow moves the events into a buffer of the given size, oldest first.
func (r *eventRing) grow(size int) {
	buf := make([]Event, size)
	for i := range r.n {
		buf[i] = r.at(i)
	}
	r.buf, r.start = buf, 0
}

// at returns the i-th oldest event.
func (r *eventRing) at(i int) Event { return r.buf[(r.start+i)%len(r.buf)] }

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
