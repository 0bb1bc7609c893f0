package storage

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

func TestEncodingsMemoizesPerKey(t *testing.T) {
	var e Encodings
	calls := 0
	enc := func(s string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(s), nil }
	}
	for range 3 {
		if b, err := e.Get("json", enc("j")); err != nil || string(b) != "j" {
			t.Fatalf("Get(json) = %q, %v", b, err)
		}
	}
	if b, _ := e.Get("pb", enc("p")); string(b) != "p" {
		t.Fatalf("Get(pb) = %q, want p", b)
	}
	if calls != 2 {
		t.Errorf("encoder called %d times for two keys, want 2", calls)
	}
	boom := errors.New("boom")
	if _, err := e.Get("bad", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("Get(bad) err = %v, want boom", err)
	}
	if b, err := e.Get("bad", enc("ok")); err != nil || string(b) != "ok" {
		t.Errorf("an error was remembered: Get(bad) = %q, %v", b, err)
	}
	var nilEnc *Encodings
	for range 2 {
		if b, _ := nilEnc.Get("json", enc("n")); string(b) != "n" {
			t.Fatalf("nil Encodings Get = %q", b)
		}
	}
	if calls != 5 {
		t.Errorf("nil Encodings memoized: encoder calls %d, want 5", calls)
	}
}

// Every watcher an event is fanned out to shares its Encodings; an object made for one watcher (leaving its filter)
// has none, so nothing encoded for it can reach another watcher.
func TestCacherEventsShareEncodings(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	w := writer{t, te.store, testCtx(t)}
	c := startCacher(t, te, 0)
	web := func(o kruntime.Object) bool { return o.(metav1.Object).GetLabels()["app"] == "web" }
	all, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Stop()
	filtered, err := c.Watch(testCtx(t), WatchOptions{Revision: c.Revision(), Filter: web})
	if err != nil {
		t.Fatal(err)
	}
	defer filtered.Stop()
	w.create("ns", "x", map[string]string{"app": "web"})
	w.update("ns", "x", setApp("db"))
	a, _ := collect(t, all, 2)
	f, _ := collect(t, filtered, 2)
	if a[0].Enc == nil || a[0].Enc != f[0].Enc {
		t.Errorf("Added: watchers got Encodings %p and %p, want one shared", a[0].Enc, f[0].Enc)
	}
	if f[1].Type != watch.Deleted || f[1].Enc != nil {
		t.Errorf("leaving the filter: got %s with Encodings %p, want Deleted with none", f[1].Type, f[1].Enc)
	}
	if a[1].Enc == nil {
		t.Error("Modified for the unfiltered watcher has no Encodings")
	}
}
