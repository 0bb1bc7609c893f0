package bench

import (
	"context"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestPacerDue(t *testing.T) {
	tests := []struct {
		rate float64
		k    int64
		want time.Duration
	}{
		{10, 0, 0},
		{10, 1, 100 * time.Millisecond},
		{10, 25, 2500 * time.Millisecond},
		{3, 1, 333333333 * time.Nanosecond},
		{3, 3, time.Second},
		{0.5, 1, 2 * time.Second},
		{1000, 1500, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		p, err := NewPacer(clock.NewFake(t0), tt.rate)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Due(tt.k).Sub(t0); got != tt.want {
			t.Errorf("rate %v: Due(%d)=+%v, want +%v", tt.rate, tt.k, got, tt.want)
		}
	}
	for _, bad := range []float64{0, -1} {
		if _, err := NewPacer(clock.NewFake(t0), bad); err != ErrBadRate {
			t.Errorf("NewPacer(%v) err=%v, want ErrBadRate", bad, err)
		}
	}
}

func TestPacerPoll(t *testing.T) {
	// One pacer at 10/s, polled at successive times: each row continues from the last.
	p, _ := NewPacer(clock.NewFake(t0), 10)
	steps := []struct {
		at       time.Duration
		wantOK   bool
		wantK    int64
		wantLag  time.Duration
		wantWait time.Duration
	}{
		{at: 0, wantOK: true, wantK: 0},
		{at: 0, wantWait: 100 * time.Millisecond},
		{at: 40 * time.Millisecond, wantWait: 60 * time.Millisecond},
		{at: 100 * time.Millisecond, wantOK: true, wantK: 1},
		// Fallen behind by 250ms: ticks 2, 3 and 4 are all due at once, each with its lag (open loop).
		{at: 450 * time.Millisecond, wantOK: true, wantK: 2, wantLag: 250 * time.Millisecond},
		{at: 450 * time.Millisecond, wantOK: true, wantK: 3, wantLag: 150 * time.Millisecond},
		{at: 450 * time.Millisecond, wantOK: true, wantK: 4, wantLag: 50 * time.Millisecond},
		{at: 450 * time.Millisecond, wantWait: 50 * time.Millisecond},
		{at: 500 * time.Millisecond, wantOK: true, wantK: 5},
	}
	for i, s := range steps {
		k, lag, ok, wait := p.Poll(t0.Add(s.at))
		if ok != s.wantOK || k != s.wantK || lag != s.wantLag || wait != s.wantWait {
			t.Errorf("step %d at +%v: Poll=(k %d, lag %v, ok %v, wait %v), want (k %d, lag %v, ok %v, wait %v)",
				i, s.at, k, lag, ok, wait, s.wantK, s.wantLag, s.wantOK, s.wantWait)
		}
	}
}

func TestPacerWait(t *testing.T) {
	clk := clock.NewFake(t0)
	p, _ := NewPacer(clk, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if k, _, err := p.Wait(ctx); err != nil || k != 0 {
		t.Fatalf("first Wait=(%d, %v), want tick 0 at once", k, err)
	}
	got := make(chan int64)
	go func() {
		k, _, _ := p.Wait(ctx)
		got <- k
	}()
	// Tick 1 is due at +500ms; move the clock until it comes (the waiter may not have
	// registered its timer yet on the first steps).
	deadline := time.After(5 * time.Second)
	for {
		select {
		case k := <-got:
			if k != 1 {
				t.Fatalf("tick %d, want 1", k)
			}
			if now := clk.Now(); now.Before(t0.Add(500 * time.Millisecond)) {
				t.Fatalf("tick 1 came at +%v, before it was due", now.Sub(t0))
			}
			cancel()
			if _, _, err := p.Wait(ctx); err == nil {
				t.Fatal("Wait after cancel: want an error")
			}
			return
		case <-deadline:
			t.Fatal("tick 1 never came")
		case <-time.After(time.Millisecond):
			clk.Step(50 * time.Millisecond)
		}
	}
}
