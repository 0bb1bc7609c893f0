package storage

import (
	"reflect"
	"testing"
	"time"
)

func ringRevs(evs []Event) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.Revision)
	}
	return out
}

func TestEventRing(t *testing.T) {
	fixed := HistoryBounds{Min: 4, Max: 4, Fresh: time.Hour}
	now := time.Unix(0, 0)
	var r eventRing
	if got := r.after(0); len(got) != 0 {
		t.Fatalf("empty ring: %v", ringRevs(got))
	}
	var forgot []int64
	for rev := int64(1); rev <= 7; rev++ {
		if f := r.push(Event{Revision: rev * 10}, now, fixed); f > 0 {
			forgot = append(forgot, f)
		}
	}
	if !reflect.DeepEqual(forgot, []int64{10, 20, 30}) {
		t.Fatalf("forgot %v, want the three oldest [10 20 30]", forgot)
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
		if got := ringRevs(r.after(tc.after)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("after(%d) = %v, want %v", tc.after, got, tc.want)
		}
	}
	// after returns a copy: later pushes do not change it.
	snap := r.after(0)
	r.push(Event{Revision: 80}, now, fixed)
	if got := ringRevs(snap); !reflect.DeepEqual(got, []int64{40, 50, 60, 70}) {
		t.Fatalf("snapshot changed to %v", got)
	}
	r.reset()
	if got := r.after(0); len(got) != 0 {
		t.Fatalf("after reset: %v", ringRevs(got))
	}
}

// TestEventRingSizing walks the history through kube-apiserver's sizing: it starts at Min, doubles while a burst of
// events is younger than Fresh, stops at Max, and halves back toward Min once the recent events are old.
func TestEventRingSizing(t *testing.T) {
	b := HistoryBounds{Min: 4, Max: 16, Fresh: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	var r eventRing
	rev := int64(0)
	push := func(at time.Time) int64 {
		rev++
		return r.push(Event{Revision: rev}, at, b)
	}
	for range 4 {
		if f := push(t0); f != 0 {
			t.Fatalf("forgot %d below Min", f)
		}
	}
	if r.capacity != 4 {
		t.Fatalf("capacity %d after 4 events, want Min 4", r.capacity)
	}
	// A burst within Fresh: nothing is forgotten until Max is reached.
	for range 12 {
		if f := push(t0.Add(time.Second)); f != 0 {
			t.Fatalf("forgot %d while every event was fresh and below Max (capacity %d)", f, r.capacity)
		}
	}
	if r.capacity != 16 || r.n != 16 {
		t.Fatalf("capacity %d holding %d, want 16/16", r.capacity, r.n)
	}
	if f := push(t0.Add(2 * time.Second)); f != 1 {
		t.Fatalf("at Max forgot %d, want the oldest (1)", f)
	}
	// Much later: the newest quarter is stale, so the history halves, keeping the newest events.
	later := t0.Add(time.Minute)
	f := push(later)
	if r.capacity != 8 {
		t.Fatalf("capacity %d after a stale push, want 8", r.capacity)
	}
	if want := rev - 8; f != want {
		t.Fatalf("halving forgot up to %d, want %d", f, want)
	}
	if got := ringRevs(r.after(0)); len(got) != 8 || got[0] != rev-7 || got[7] != rev {
		t.Fatalf("after halving holds %v, want the newest 8 ending at %d", got, rev)
	}
	for range 20 {
		later = later.Add(time.Minute)
		push(later)
	}
	if r.capacity != 4 {
		t.Fatalf("capacity %d after a quiet spell, want Min 4", r.capacity)
	}
	if got := ringRevs(r.after(0)); len(got) != 4 || got[3] != rev {
		t.Fatalf("holds %v, want the newest 4 ending at %d", got, rev)
	}
}

// BenchmarkCacherHistoryPush is the cost of remembering one more event once the default history is full.
func BenchmarkCacherHistoryPush(b *testing.B) {
	var r eventRing
	now := time.Unix(0, 0)
	bounds := DefaultHistoryBounds
	bounds.Min = bounds.Max
	for i := range bounds.Max {
		r.push(Event{Revision: int64(i)}, now, bounds)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.push(Event{Revision: int64(bounds.Max + i)}, now, bounds)
	}
}
