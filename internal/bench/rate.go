package bench

import (
	"context"
	"errors"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
)

// ErrBadRate is returned for a non-positive rate.
var ErrBadRate = errors.New("bench: rate must be positive")

// Pacer issues ticks at a fixed rate, open-loop: tick k is due at start + k/rate, no
// matter when earlier ticks were taken, so a caller that falls behind gets the
// overdue ticks at once (and sees the lag) instead of a silently lower rate.
// Not safe for concurrent use.
type Pacer struct {
	clk   clock.Clock
	start time.Time
	rate  float64
	next  int64
}

// NewPacer starts a pacer at clk.Now() issuing rate ticks per second.
func NewPacer(clk clock.Clock, rate float64) (*Pacer, error) {
	if !(rate > 0) {
		return nil, ErrBadRate
	}
	return &Pacer{clk: clk, start: clk.Now(), rate: rate}, nil
}

// Due returns when tick k falls due.
func (p *Pacer) Due(k int64) time.Time {
	return p.start.Add(time.Duration(float64(k) / p.rate * float64(time.Second)))
}

// Poll reports the next tick at now: if it is due, ok is true, k is its number and
// lag how late it is, and the tick is consumed; otherwise wait is how long until it is due.
func (p *Pacer) Poll(now time.Time) (k int64, lag time.Duration, ok bool, wait time.Duration) {
	due := p.Due(p.next)
	if now.Before(due) {
		return 0, 0, false, due.Sub(now)
	}
	k = p.next
	p.next++
	return k, now.Sub(due), true, 0
}

// Wait blocks until the next tick is due and returns it, or returns ctx's error.
func (p *Pacer) Wait(ctx context.Context) (k int64, lag time.Duration, err error) {
	for {
		k, lag, ok, wait := p.Poll(p.clk.Now())
		if ok {
			return k, lag, nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-p.clk.After(wait):
		}
	}
}
