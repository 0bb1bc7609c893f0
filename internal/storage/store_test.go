package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/storage/embedded"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// cmKeys are the keys of ConfigMaps, the type every test here stores.
var cmKeys = KeyFunc{GR: corev1.SchemeGroupVersion.WithResource("configmaps").GroupResource(), Namespaced: true}

func newCM() kruntime.Object { return &corev1.ConfigMap{} }

func cm(ns, name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Data:       data,
	}
}

func rvOf(t testing.TB, obj kruntime.Object) int64 {
	t.Helper()
	s := obj.(metav1.Object).GetResourceVersion()
	rv, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q of %s: %v", s, obj.(metav1.Object).GetName(), err)
	}
	return rv
}

// testEtcd is a real etcd member (embedded, in t.TempDir()) and a client to it.
type testEtcd struct {
	etcd   *embedded.Etcd
	client *clientv3.Client
	store  *Store
}

// startEtcd starts a fresh embedded etcd for one test; it is closed at cleanup, after a goroutine-leak check
// registered by the test (see checkGoroutines) has run.
func startEtcd(t *testing.T) *testEtcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.Close()
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		e.Close()
	})
	return &testEtcd{etcd: e, client: c, store: New(c, scheme.Scheme)}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkGoroutines records the goroutine count now and returns a function that fails the test unless the
// count comes back down to it (polled until a deadline: gRPC streams wind down asynchronously).
func checkGoroutines(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Fatalf("goroutine leak: %d before, %d after\n%s", before, now, storageStacks(buf[:n]))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// storageStacks keeps the goroutine dumps that run code of this package (the likely leakers), or all of them.
func storageStacks(dump []byte) string {
	var keep []string
	for _, g := range strings.Split(string(dump), "\n\n") {
		if strings.Contains(g, "internal/storage.") && !strings.Contains(g, "runtime.Stack") {
			keep = append(keep, g)
		}
	}
	if len(keep) == 0 {
		return string(dump)
	}
	return strings.Join(keep, "\n\n")
}

func TestStoreCreateGet(t *testing.T) {
	te := startEtcd(t)
	ctx := testCtx(t)
	s := te.store
	key := cmKeys.Key("default", "a")
	if got, want := key, "/registry/core/configmaps/default/a"; got != want {
		t.Fatalf("key = %q, want %q", got, want)
	}

	in := cm("default", "a", map[string]string{"app": "x"}, map[string]string{"k": "v"})
	in.ResourceVersion = "12345" // must not be stored
	out, err := s.Create(ctx, key, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if in.ResourceVersion != "12345" {
		t.Errorf("Create changed the caller's object: resourceVersion %q", in.ResourceVersion)
	}
	raw, err := te.client.Get(ctx, key)
	if err != nil || len(raw.Kvs) != 1 {
		t.Fatalf("etcd get: %v %v", err, raw)
	}
	kv := raw.Kvs[0]
	if got := rvOf(t, out); got != kv.ModRevision {
		t.Errorf("created resourceVersion = %d, etcd mod_revision = %d", got, kv.ModRevision)
	}
	// Stored form: Kubernetes protobuf envelope, resourceVersion cleared.
	if !bytes.HasPrefix(kv.Value, []byte("k8s\x00")) {
		t.Errorf("stored value is not Kubernetes protobuf: %q", kv.Value[:min(len(kv.Value), 16)])
	}
	if bytes.Contains(kv.Value, []byte("12345")) {
		t.Errorf("stored value contains the caller's resourceVersion")
	}

	got, err := s.Get(ctx, key, newCM)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	g := got.(*corev1.ConfigMap)
	if rvOf(t, g) != kv.ModRevision || g.Data["k"] != "v" || g.Labels["app"] != "x" || g.Name != "a" || g.Namespace != "default" {
		t.Errorf("get returned %+v", g)
	}

	if _, err := s.Create(ctx, key, cm("default", "a", nil, nil)); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("second create: err = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.Get(ctx, cmKeys.Key("default", "missing"), newCM); !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: err = %v, want ErrNotFound", err)
	}
	// The failed create wrote nothing.
	again, _ := te.client.Get(ctx, key)
	if again.Kvs[0].ModRevision != kv.ModRevision {
		t.Errorf("failed create changed the key: mod_revision %d -> %d", kv.ModRevision, again.Kvs[0].ModRevision)
	}
}

func TestStoreGuaranteedUpdateConcurrent(t *testing.T) {
	te := startEtcd(t)
	leakCheck(t, te)
	ctx := testCtx(t)
	s := te.store
	key := cmKeys.Key("default", "counter")
	if _, err := s.Create(ctx, key, cm("default", "counter", nil, map[string]string{"n": "0"})); err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 8, 25
	var attempts sync.Map // worker -> tries
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			tries := 0
			for i := 0; i < perWorker; i++ {
				out, err := s.GuaranteedUpdate(ctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) {
					tries++
					c := cur.DeepCopyObject().(*corev1.ConfigMap)
					n, err := strconv.Atoi(c.Data["n"])
					if err != nil {
						return nil, err
					}
					c.Data["n"] = strconv.Itoa(n + 1)
					return c, nil
				})
				if err != nil {
					errc <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				if out.(metav1.Object).GetResourceVersion() == "" {
					errc <- fmt.Errorf("worker %d: update returned no resourceVersion", w)
					return
				}
			}
			attempts.Store(w, tries)
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	got, err := s.Get(ctx, key, newCM)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.(*corev1.ConfigMap).Data["n"]; n != strconv.Itoa(workers*perWorker) {
		t.Fatalf("counter = %s, want %d (lost updates)", n, workers*perWorker)
	}
	total := 0
	attempts.Range(func(_, v any) bool { total += v.(int); return true })
	t.Logf("%d updates took %d tryUpdate calls (%d retries after conflicts)", workers*perWorker, total, total-workers*perWorker)
	raw, _ := te.client.Get(ctx, key)
	if rvOf(t, got) != raw.Kvs[0].ModRevision {
		t.Errorf("resourceVersion %d != mod_revision %d", rvOf(t, got), raw.Kvs[0].ModRevision)
	}
	if raw.Kvs[0].Version != workers*perWorker+1 {
		t.Errorf("key written %d times, want %d", raw.Kvs[0].Version, workers*perWorker+1)
	}
}

func TestStoreGuaranteedUpdateSemantics(t *testing.T) {
	te := startEtcd(t)
	ctx := testCtx(t)
	s := te.store
	key := cmKeys.Key("default", "x")
	created, err := s.Create(ctx, key, cm("default", "x", nil, map[string]string{"a": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	// The function's own error comes back unchanged and nothing is written.
	sentinel := errors.New("no thanks")
	if _, err := s.GuaranteedUpdate(ctx, key, newCM, func(kruntime.Object) (kruntime.Object, error) { return nil, sentinel }); err != sentinel {
		t.Errorf("err = %v, want the function's error unchanged", err)
	}
	// The function sees the current resourceVersion.
	var seen string
	// An unchanged object writes nothing and keeps the revision.
	out, err := s.GuaranteedUpdate(ctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		seen = cur.(metav1.Object).GetResourceVersion()
		return cur.DeepCopyObject(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != created.(metav1.Object).GetResourceVersion() {
		t.Errorf("tryUpdate saw resourceVersion %q, want %q", seen, created.(metav1.Object).GetResourceVersion())
	}
	if rvOf(t, out) != rvOf(t, created) {
		t.Errorf("no-op update changed resourceVersion %d -> %d", rvOf(t, created), rvOf(t, out))
	}
	raw, _ := te.client.Get(ctx, key)
	if raw.Kvs[0].Version != 1 {
		t.Errorf("no-op update wrote the key (version %d)", raw.Kvs[0].Version)
	}
	// A real change gets the new mod revision.
	out, err = s.GuaranteedUpdate(ctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		c := cur.DeepCopyObject().(*corev1.ConfigMap)
		c.Data["a"] = "2"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = te.client.Get(ctx, key)
	if rvOf(t, out) != raw.Kvs[0].ModRevision || rvOf(t, out) <= rvOf(t, created) {
		t.Errorf("update resourceVersion %d, mod_revision %d, created at %d", rvOf(t, out), raw.Kvs[0].ModRevision, rvOf(t, created))
	}
	if _, err := s.GuaranteedUpdate(ctx, cmKeys.Key("default", "none"), newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		t.Error("tryUpdate called for a missing key")
		return cur, nil
	}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of missing key: err = %v, want ErrNotFound", err)
	}
	// A cancelled context stops the retry loop.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.GuaranteedUpdate(cctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) { return cur, nil }); err == nil {
		t.Error("update with a cancelled context succeeded")
	}
}

func TestStoreDeletePrecondition(t *testing.T) {
	te := startEtcd(t)
	ctx := testCtx(t)
	s := te.store
	key := cmKeys.Key("ns1", "d")
	created, err := s.Create(ctx, key, cm("ns1", "d", nil, map[string]string{"v": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	updated, err := s.GuaranteedUpdate(ctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		c := cur.DeepCopyObject().(*corev1.ConfigMap)
		c.Data["v"] = "2"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Stale revision: conflict, object kept.
	if _, err := s.Delete(ctx, key, rvOf(t, created), newCM); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete at stale revision: err = %v, want ErrConflict", err)
	}
	if _, err := s.Get(ctx, key, newCM); err != nil {
		t.Fatalf("object gone after a failed delete: %v", err)
	}
	// Current revision: deleted; the result is the last state at the deletion revision.
	del, err := s.Delete(ctx, key, rvOf(t, updated), newCM)
	if err != nil {
		t.Fatalf("delete at current revision: %v", err)
	}
	if del.(*corev1.ConfigMap).Data["v"] != "2" {
		t.Errorf("deleted object data %v, want the last state", del.(*corev1.ConfigMap).Data)
	}
	rev, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rvOf(t, del) != rev || rev <= rvOf(t, updated) {
		t.Errorf("deleted object resourceVersion %d, current revision %d (update was %d)", rvOf(t, del), rev, rvOf(t, updated))
	}
	if _, err := s.Get(ctx, key, newCM); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if _, err := s.Delete(ctx, key, 0, newCM); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, key, rvOf(t, updated), newCM); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing key with a revision: err = %v, want ErrNotFound", err)
	}
	// rev 0: unconditional.
	if _, err := s.Create(ctx, key, cm("ns1", "d", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, key, 0, newCM); err != nil {
		t.Errorf("unconditional delete: %v", err)
	}
}

// names returns the namespace/name of each object.
func names(objs []kruntime.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		m := o.(metav1.Object)
		out = append(out, m.GetNamespace()+"/"+m.GetName())
	}
	return out
}

func TestStoreListPagination(t *testing.T) {
	te := startEtcd(t)
	ctx := testCtx(t)
	s := te.store
	var want, wantEven []string
	modRev := map[string]int64{}
	for _, ns := range []string{"a", "b"} {
		for i := 0; i < 13; i++ {
			name := fmt.Sprintf("cm-%02d", i)
			lbl := map[string]string{"parity": "odd"}
			if i%2 == 0 {
				lbl["parity"] = "even"
				wantEven = append(wantEven, ns+"/"+name)
			}
			out, err := s.Create(ctx, cmKeys.Key(ns, name), cm(ns, name, lbl, map[string]string{"i": strconv.Itoa(i)}))
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, ns+"/"+name)
			modRev[ns+"/"+name] = rvOf(t, out)
		}
	}
	// Something outside the prefix must never show up.
	if _, err := te.client.Put(ctx, "/registry/core/configmapsX/a/zzz", "junk"); err != nil {
		t.Fatal(err)
	}
	prefix := cmKeys.Prefix("")
	all, err := s.List(ctx, prefix, ListOptions{}, newCM)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all.Items); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("full list = %v, want %v", got, want)
	}
	if all.NextKey != "" {
		t.Errorf("full list NextKey = %q", all.NextKey)
	}
	for _, o := range all.Items {
		m := o.(metav1.Object)
		if rvOf(t, o) != modRev[m.GetNamespace()+"/"+m.GetName()] {
			t.Errorf("%s: resourceVersion %s, mod_revision %d", m.GetName(), m.GetResourceVersion(), modRev[m.GetNamespace()+"/"+m.GetName()])
		}
	}
	headRev := all.Revision
	cur, _ := s.CurrentRevision(ctx)
	if headRev != cur {
		t.Errorf("list revision %d, current revision %d", headRev, cur)
	}

	// Pages of 5 at a fixed revision, while the data changes underneath.
	var paged []string
	opts := ListOptions{Limit: 5}
	pages := 0
	for {
		page, err := s.List(ctx, prefix, opts, newCM)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		if len(page.Items) > 5 {
			t.Fatalf("page %d has %d items, limit 5", pages, len(page.Items))
		}
		if opts.Revision == 0 {
			opts.Revision = page.Revision
		} else if page.Revision != opts.Revision {
			t.Fatalf("page %d read at revision %d, want %d", pages, page.Revision, opts.Revision)
		}
		for _, o := range page.Items {
			if o.(*corev1.ConfigMap).Data["i"] == "changed" {
				t.Errorf("page %d shows a change made after the list revision", pages)
			}
		}
		paged = append(paged, names(page.Items)...)
		if page.NextKey == "" {
			break
		}
		if wantRemaining := int64(len(want) - len(paged)); page.Remaining != wantRemaining {
			t.Errorf("page %d: Remaining = %d, want %d", pages, page.Remaining, wantRemaining)
		}
		if pages == 1 {
			// Change the store after the first page: later pages must not see it.
			if _, err := s.Create(ctx, cmKeys.Key("a", "cm-05a"), cm("a", "cm-05a", nil, nil)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Delete(ctx, cmKeys.Key("b", "cm-12"), 0, newCM); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GuaranteedUpdate(ctx, cmKeys.Key("b", "cm-00"), newCM, func(cur kruntime.Object) (kruntime.Object, error) {
				c := cur.DeepCopyObject().(*corev1.ConfigMap)
				c.Data["i"] = "changed"
				return c, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		opts.StartKey = page.NextKey
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(paged, ",") != strings.Join(want, ",") {
		t.Errorf("paged list = %v\nwant %v", paged, want)
	}
	if pages != 6 { // 26 items / 5
		t.Errorf("%d pages, want 6", pages)
	}

	// With a filter: only matching items, pages of at most 3, still at one revision.
	opts = ListOptions{Limit: 3, Revision: headRev, Filter: func(o kruntime.Object) bool {
		return o.(metav1.Object).GetLabels()["parity"] == "even"
	}}
	var filtered []string
	for i := 0; ; i++ {
		page, err := s.List(ctx, prefix, opts, newCM)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 3 {
			t.Fatalf("filtered page has %d items, limit 3", len(page.Items))
		}
		filtered = append(filtered, names(page.Items)...)
		if page.NextKey == "" {
			break
		}
		opts.StartKey = page.NextKey
		if i > 20 {
			t.Fatal("filtered pagination does not end")
		}
	}
	if strings.Join(filtered, ",") != strings.Join(wantEven, ",") {
		t.Errorf("filtered list = %v\nwant %v", filtered, wantEven)
	}

	// One namespace.
	nsList, err := s.List(ctx, cmKeys.Prefix("a"), ListOptions{Revision: headRev}, newCM)
	if err != nil {
		t.Fatal(err)
	}
	if len(nsList.Items) != 13 {
		t.Errorf("namespace a has %d items at revision %d, want 13", len(nsList.Items), headRev)
	}
	if _, err := s.List(ctx, prefix, ListOptions{StartKey: "/registry/core/secrets/a"}, newCM); err == nil {
		t.Error("a start key outside the prefix was accepted")
	}
	if n, err := s.Count(ctx, prefix); err != nil || n != 26 { // +1 created, -1 deleted
		t.Errorf("Count = %d, %v; want 26", n, err)
	}

	// After a compaction past headRev, listing at it is ErrExpired.
	now, _ := s.CurrentRevision(ctx)
	if _, err := te.client.Compact(ctx, now, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	_, err = s.List(ctx, prefix, ListOptions{Revision: headRev, Limit: 5}, newCM)
	var ee *ExpiredError
	if !errors.Is(err, ErrExpired) || !errors.As(err, &ee) || ee.Requested != headRev {
		t.Errorf("list at compacted revision: err = %v, want ExpiredError for %d", err, headRev)
	}
	if err := s.CheckRevision(ctx, headRev); !errors.Is(err, ErrExpired) {
		t.Errorf("CheckRevision(compacted) = %v", err)
	}
	if err := s.CheckRevision(ctx, now); err != nil {
		t.Errorf("CheckRevision(current) = %v", err)
	}
	if err := s.CheckRevision(ctx, now+1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("CheckRevision(future) = %v, want ErrTooLarge", err)
	}
}

// TestStoreKeys checks the key layout of namespaced and cluster-scoped resources.
func TestStoreKeys(t *testing.T) {
	nodes := KeyFunc{GR: schema.GroupResource{Resource: "nodes"}}
	deps := KeyFunc{GR: schema.GroupResource{Group: "apps", Resource: "deployments"}, Namespaced: true}
	for _, c := range []struct{ got, want string }{
		{nodes.Key("ignored", "n1"), "/registry/core/nodes/n1"},
		{nodes.Prefix("x"), "/registry/core/nodes/"},
		{deps.Key("ns", "d"), "/registry/apps/deployments/ns/d"},
		{deps.Prefix(""), "/registry/apps/deployments/"},
		{deps.Prefix("ns"), "/registry/apps/deployments/ns/"},
	} {
		if c.got != c.want {
			t.Errorf("key %q, want %q", c.got, c.want)
		}
	}
}

func TestStoreGuaranteedUpdateCached(t *testing.T) {
	te := startEtcd(t)
	ctx := testCtx(t)
	s := te.store
	key := cmKeys.Key("ns1", "c")
	stale, err := s.Create(ctx, key, cm("ns1", "c", nil, map[string]string{"v": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	current, err := s.GuaranteedUpdate(ctx, key, newCM, func(cur kruntime.Object) (kruntime.Object, error) {
		c := cur.DeepCopyObject().(*corev1.ConfigMap)
		c.Data["v"] = "2"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	appendX := func(seen *[]string) UpdateFunc {
		return func(cur kruntime.Object) (kruntime.Object, error) {
			c := cur.DeepCopyObject().(*corev1.ConfigMap)
			*seen = append(*seen, c.Data["v"])
			c.Data["v"] += "x"
			return c, nil
		}
	}

	// A stale cached object: the transaction fails and the retry starts from the current object it returned.
	var seen []string
	out, err := s.GuaranteedUpdateCached(ctx, key, newCM, stale, appendX(&seen))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.ConfigMap).Data["v"]; got != "2x" || !reflect.DeepEqual(seen, []string{"1", "2"}) {
		t.Fatalf("stale cache: result %q after attempts on %v, want 2x after [1 2]", got, seen)
	}
	if stale.(*corev1.ConfigMap).Data["v"] != "1" || rvOf(t, stale) == rvOf(t, out) {
		t.Fatalf("the cached object was modified: %+v", stale)
	}

	// A current cached object: one attempt, committed.
	seen = nil
	out2, err := s.GuaranteedUpdateCached(ctx, key, newCM, out, appendX(&seen))
	if err != nil {
		t.Fatal(err)
	}
	if got := out2.(*corev1.ConfigMap).Data["v"]; got != "2xx" || len(seen) != 1 || rvOf(t, out2) <= rvOf(t, out) {
		t.Fatalf("current cache: result %q rv %d after attempts %v", got, rvOf(t, out2), seen)
	}

	// An error on a stale object is not final: it is retried on the current one.
	out3, err := s.GuaranteedUpdateCached(ctx, key, newCM, current, func(cur kruntime.Object) (kruntime.Object, error) {
		c := cur.DeepCopyObject().(*corev1.ConfigMap)
		if c.Data["v"] == "2" {
			return nil, errors.New("precondition failed on the stale object")
		}
		c.Data["v"] = "3"
		return c, nil
	})
	if err != nil || out3.(*corev1.ConfigMap).Data["v"] != "3" {
		t.Fatalf("error on stale object: %v, %+v", err, out3)
	}
	// ... but is returned on the current one.
	sentinel := errors.New("no")
	if _, err := s.GuaranteedUpdateCached(ctx, key, newCM, out3, func(kruntime.Object) (kruntime.Object, error) { return nil, sentinel }); err != sentinel {
		t.Fatalf("error on current object: %v, want the function's error", err)
	}

	// A no-op on a stale object reports the current revision, not the cached one.
	noop, err := s.GuaranteedUpdateCached(ctx, key, newCM, stale, func(cur kruntime.Object) (kruntime.Object, error) { return cur, nil })
	if err != nil {
		t.Fatal(err)
	}
	if rvOf(t, noop) != rvOf(t, out3) || noop.(*corev1.ConfigMap).Data["v"] != "3" {
		t.Fatalf("no-op from a stale cache: rv %d data %v, want rv %d data 3", rvOf(t, noop), noop.(*corev1.ConfigMap).Data, rvOf(t, out3))
	}

	// Deleted meanwhile: NotFound, whatever the cache says.
	if _, err := s.Delete(ctx, key, 0, newCM); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GuaranteedUpdateCached(ctx, key, newCM, out3, appendX(new([]string))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a deleted key from the cache: %v, want ErrNotFound", err)
	}
}
