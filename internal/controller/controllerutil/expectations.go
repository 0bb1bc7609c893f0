package controllerutil

import (
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
)

// ExpectationsTTL is how long unfulfilled expectations hold a controller back before they are ignored.
const ExpectationsTTL = 5 * time.Minute

// Expectations tracks, per controller key, creations and deletions a controller has issued but not yet observed in
// its informer, so that it does not act twice on a stale cache. Its zero value is not usable; use NewExpectations.
type Expectations struct {
	clock clock.Clock

	mu sync.Mutex // guards m
	m  map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[string]bool // keys (namespace/name) of pods whose deletion is pending
	at      time.Time
}

// NewExpectations returns an empty tracker reading time from c.
func NewExpectations(c clock.Clock) *Expectations {
	return &Expectations{clock: c, m: map[string]*expectation{}}
}

// ExpectCreations records that key is about to create n objects, replacing earlier expectations.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: n, at: e.clock.Now()}
}

// ExpectDeletions records that key is about to delete the objects with the given keys, replacing earlier expectations.
func (e *Expectations) ExpectDeletions(key string, objKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := make(map[string]bool, len(objKeys))
	for _, k := range objKeys {
		d[k] = true
	}
	e.m[key] = &expectation{deletes: d, at: e.clock.Now()}
}

// CreationObserved lowers key's pending creations by one (an informer saw a new object, or a create failed).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		x.adds--
	}
}

// DeletionObserved marks the deletion of objKey as seen, once; unknown keys are ignored.
func (e *Expectations) DeletionObserved(key, objKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.deletes, objKey)
	}
}

// Satisfied reports whether key may act: nothing pending, no record at all, or the record is older than the TTL.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.clock.Since(x.at) > ExpectationsTTL
}

// Pending returns key's outstanding creations and deletions (for tests and logs).
func (e *Expectations) Pending(key string) (adds, deletes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		return max(x.adds, 0), len(x.deletes)
	}
	return 0, 0
}

// Delete forgets key (its controller is gone).
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// SlowStartBatch calls fn count times: first initial calls in parallel, then twice as many, and so on, stopping after
// the first batch in which any call failed. It returns how many calls succeeded and the first error.
func SlowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining := count
	successes := 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errCh <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errCh)
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batch
	}
	return successes, nil
}
