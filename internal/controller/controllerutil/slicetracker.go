package controllerutil

import (
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// SliceTracker remembers, per owner key (a Service's or an Endpoints' namespace/name), the EndpointSlices a
// controller wrote or deleted until the informer cache shows them, so that a sync never acts on a cache older than
// its own writes (which would create duplicate slices). It is upstream's EndpointSliceTracker with resourceVersions
// in place of generations. Safe for concurrent use.
type SliceTracker struct {
	mu sync.Mutex // guards expected
	// expected maps a Service key to the slices written (resourceVersion returned) or deleted, by UID.
	expected map[string]map[types.UID]sliceExpectation
}

type sliceExpectation struct {
	resourceVersion string
	deleted         bool
}

// NewSliceTracker returns an empty tracker.
func NewSliceTracker() *SliceTracker {
	return &SliceTracker{expected: map[string]map[types.UID]sliceExpectation{}}
}

func (t *SliceTracker) set(svc string, uid types.UID, e sliceExpectation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.expected[svc]
	if m == nil {
		m = map[types.UID]sliceExpectation{}
		t.expected[svc] = m
	}
	m[uid] = e
}

// Wrote records a slice as the server returned it after a create or update.
func (t *SliceTracker) Wrote(svc string, s *discoveryv1.EndpointSlice) {
	t.set(svc, s.UID, sliceExpectation{resourceVersion: s.ResourceVersion})
}

// Deleted records the deletion of a slice.
func (t *SliceTracker) Deleted(svc string, uid types.UID) {
	t.set(svc, uid, sliceExpectation{deleted: true})
}

// Forget drops what is remembered of a Service.
func (t *SliceTracker) Forget(svc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.expected, svc)
}

// Stale reports whether cached, the Service's slices in the informer cache, misses a write of this controller or
// still holds a slice it deleted. Expectations the cache has caught up with are dropped.
func (t *SliceTracker) Stale(svc string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.expected[svc]
	if len(m) == 0 {
		return false
	}
	byUID := make(map[types.UID]*discoveryv1.EndpointSlice, len(cached))
	for _, s := range cached {
		byUID[s.UID] = s
	}
	stale := false
	for uid, e := range m {
		s, ok := byUID[uid]
		switch {
		case e.deleted && ok, !e.deleted && !ok, !e.deleted && !atLeast(s.ResourceVersion, e.resourceVersion):
			stale = true
		default:
			delete(m, uid)
		}
	}
	if len(m) == 0 {
		delete(t.expected, svc)
	}
	return stale
}

// OwnEvent reports whether an informer event shows s exactly as this controller last wrote it, so that the Service
// need not be synced for it.
func (t *SliceTracker) OwnEvent(svc string, s *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.expected[svc][s.UID]
	return ok && !e.deleted && e.resourceVersion == s.ResourceVersion
}

// ObservedDeletion handles the informer's report that a slice is gone: whatever was expected of it is settled.
// It reports whether this controller deleted it.
func (t *SliceTracker) ObservedDeletion(svc string, uid types.UID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.expected[svc][uid]
	delete(t.expected[svc], uid)
	return ok && e.deleted
}

// atLeast reports whether resourceVersion have is the same as or newer than want. ResourceVersions that do not
// compare (not the numbers an etcd-backed server hands out) count as caught up: better an extra write than a
// Service stuck waiting.
func atLeast(have, want string) bool {
	if have == want {
		return true
	}
	c, err := resourceversion.CompareResourceVersion(have, want)
	return err != nil || c >= 0
}
