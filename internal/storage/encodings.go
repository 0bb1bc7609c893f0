package storage

import "sync"

// Encodings memoizes serializations of one event's object, so that every watcher sending the object unchanged
// (same resource, format and output kind) shares one encoding instead of making its own.
//
// A nil *Encodings memoizes nothing: Get then always calls enc.
type Encodings struct {
	mu sync.Mutex // guards m
	m  map[any][]byte
}

// Get returns the bytes stored under key, calling enc to make them on first use. The returned slice is shared and
// must not be modified. An error from enc is returned and not remembered.
func (e *Encodings) Get(key any, enc func() ([]byte, error)) ([]byte, error) {
	if e == nil {
		return enc()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.m[key]; ok {
		return b, nil
	}
	b, err := enc()
	if err != nil {
		return nil, err
	}
	if e.m == nil {
		e.m = make(map[any][]byte, 2)
	}
	e.m[key] = b
	return b, nil
}
