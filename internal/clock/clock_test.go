package clock

import (
	"testing"
	"time"
)

func fired(ch <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestFakeAfterFiresOnceWhenDue(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	ch := f.After(time.Second)
	f.Step(999 * time.Millisecond)
	if fired(ch) {
		t.Fatal("fired before it was due")
	}
	f.Step(time.Millisecond)
	if !fired(ch) {
		t.Fatal("did not fire when due")
	}
	f.Step(time.Hour)
	if fired(ch) || len(f.waiters) != 0 {
		t.Fatalf("one-shot waiter fired again or stayed registered (%d waiters)", len(f.waiters))
	}
}

func TestFakeTickerRepeatsUntilStopped(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tk := f.NewTicker(time.Second)
	for i := 0; i < 3; i++ {
		f.Step(time.Second)
		if !fired(tk.C()) {
			t.Fatalf("tick %d missing", i)
		}
	}
	tk.Stop()
	f.Step(time.Second)
	if fired(tk.C()) {
		t.Fatal("stopped ticker ticked")
	}
}
