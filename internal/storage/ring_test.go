package storage

import (
	"reflect"
	"testing"
)

func TestEventRing(t *testing.T) {
	revs := func(evs []Event) []int64 {
		out := []int64{}
		for _, e := range evs {
			out = append(out, e.Revision)
		}
		return out
	}
	var r eventRing
	if got := r.after(0); len(got) != 0 {
		t.Fatalf("empty ring: %v", revs(got))
	}
	var dropped []int64
	for rev := int64(1); rev <= 7; rev++ {
		if d, ok := r.push(Event{Revision: rev * 10}, 4); ok {
			dropped = append(dropped, d.Revision)
		}
	}
	if !reflect.DeepEqual(dropped, []int64{10, 20, 30}) {
		t.Fatalf("dropped %v, want the three oldest [10 20 30]", dropped)
	}
	for _, tc := range []struct {
		after int64
		want  []int64
	}{
		{0, []int64{40, 50, 60, 70}},
		{40, []int64{50, 60, 70}},
		{45, []int64{50, 60, 70}},
		{69, []int64{70}},
		{70, []int64{}},
		{99, []int64{}},
	} {
		if got := revs(r.after(tc.after)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("after(%d) = %v, want %v", tc.after, got, tc.want)
		}
	}
	// after returns a copy: later pushes do not change it.
	snap := r.after(0)
	r.push(Event{Revision: 80}, 4)
	if got := revs(snap); !reflect.DeepEqual(got, []int64{40, 50, 60, 70}) {
		t.Fatalf("snapshot changed to %v", got)
	}
	r.reset()
	if got := r.after(0); len(got) != 0 {
		t.Fatalf("after reset: %v", revs(got))
	}
}

// TestEventRingGrows checks that the buffer starts small, grows only up to the capacity, and keeps the events in order
// across the growth and the wrap-around that follows.
func TestEventRingGrows(t *testing.T) {
	const capacity = 100
	var r eventRing
	for rev := int64(1); rev <= 10; rev++ {
		r.push(Event{Revision: rev}, capacity)
	}
	if got := len(r.buf); got != minRingSize {
		t.Fatalf("buffer after 10 events holds %d, want %d", got, minRingSize)
	}
	var dropped []int64
	for rev := int64(11); rev <= 250; rev++ {
		if d, ok := r.push(Event{Revision: rev}, capacity); ok {
			dropped = append(dropped, d.Revision)
		}
	}
	if got := len(r.buf); got != capacity {
		t.Fatalf("full buffer holds %d, want the capacity %d", got, capacity)
	}
	if len(dropped) != 150 || dropped[0] != 1 || dropped[149] != 150 {
		t.Fatalf("dropped %d events from %v, want 1..150", len(dropped), dropped[:min(3, len(dropped))])
	}
	got := r.after(0)
	if len(got) != capacity {
		t.Fatalf("after(0) has %d events, want %d", len(got), capacity)
	}
	for i, e := range got {
		if want := int64(151 + i); e.Revision != want {
			t.Fatalf("after(0)[%d] = %d, want %d", i, e.Revision, want)
		}
	}
}

// BenchmarkCacherHistoryPush is the cost of remembering one more event once the default history is full.
func BenchmarkCacherHistoryPush(b *testing.B) {
	var r eventRing
	for i := range DefaultHistory {
		r.push(Event{Revision: int64(i)}, DefaultHistory)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.push(Event{Revision: int64(DefaultHistory + i)}, DefaultHistory)
	}
}
