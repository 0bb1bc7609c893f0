package e2e

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/skiff-sh/skiff/internal/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
)

const protobufMedia = "application/vnd.kubernetes.protobuf"

// handlerLog records what an informer's event handler saw, in order.
type handlerLog struct {
	mu  sync.Mutex
	evs []string
}

func (h *handlerLog) add(format string, args ...any) {
	h.mu.Lock()
	h.evs = append(h.evs, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *handlerLog) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.evs...)
}

func (h *handlerLog) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			cm := obj.(*corev1.ConfigMap)
			h.add("ADD %s %s v=%s", cm.Name, cm.ResourceVersion, cm.Data["v"])
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, n := oldObj.(*corev1.ConfigMap), newObj.(*corev1.ConfigMap)
			if o.ResourceVersion == n.ResourceVersion {
				return // a relist's unchanged object
			}
			h.add("UPDATE %s %s v=%s", n.Name, n.ResourceVersion, n.Data["v"])
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			cm := obj.(*corev1.ConfigMap)
			h.add("DELETE %s", cm.Name)
		},
	}
}

// TestClientGoTypedProtobufInformerRelist: a typed clientset writes with protobuf bodies; a shared informer syncs
// through a watch-list, sees add/update/delete in order, and after the server restarts with its informer's
// resourceVersion compacted away in etcd it gets a 410, relists and converges to the true state (including
// objects written while the server was down).
func TestClientGoTypedProtobufInformerRelist(t *testing.T) {
	etcd := startTestEtcd(t)
	c := startServer(t, "--etcd-endpoints", etcd.Endpoint)
	wire := &wireLog{}
	cs := clientFor(t, c, wire)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const ns = "clientgo"
	createNamespace(t, cs, ns)
	labels := map[string]string{"test": "clientgo"}
	cms := cs.CoreV1().ConfigMaps(ns)
	mk := func(name, v string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Data: map[string]string{"v": v}}
	}

	pre, err := cms.Create(ctx, mk("pre", "0"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("typed create: %v", err)
	}
	if pre.UID == "" || pre.ResourceVersion == "" || pre.Data["v"] != "0" {
		t.Fatalf("typed create returned %+v", pre)
	}
	posts := wire.requests(func(r *wireReq) bool { return r.Method == "POST" && strings.HasSuffix(r.Path, "/configmaps") })
	if len(posts) != 1 || !strings.HasPrefix(posts[0].ContentType, protobufMedia) || posts[0].Status != 201 {
		t.Fatalf("typed create request: %+v, want one POST with Content-Type %s answered 201", posts, protobufMedia)
	}

	// The informer: a label-selected ConfigMap informer of the namespace.
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "test=clientgo" }))
	inf := factory.Core().V1().ConfigMaps().Informer()
	hl := &handlerLog{}
	if _, err := inf.AddEventHandler(hl.handler()); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	defer func() {
		close(stop)
		factory.Shutdown()
	}()
	syncCtx, syncCancel := context.WithTimeout(ctx, 20*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatalf("informer did not sync in 20s; requests: %s", describeReqs(wire.requests(cmCollection(ns))))
	}
	isRelist := func(r *wireReq) bool {
		return cmCollection(ns)(r) && (r.Query.Get("sendInitialEvents") == "true" || r.Query.Get("watch") != "true")
	}
	lists := wire.requests(isRelist)
	if len(lists) != 1 || lists[0].Query.Get("sendInitialEvents") != "true" || lists[0].Query.Get("watch") != "true" ||
		lists[0].Query.Get("resourceVersionMatch") != "NotOlderThan" {
		t.Fatalf("informer did not sync with one watch-list request: %s", describeReqs(wire.requests(cmCollection(ns))))
	}

	// add, update, delete in order.
	a, err := cms.Create(ctx, mk("a", "1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Data["v"] = "2"
	a2, err := cms.Update(ctx, a, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("typed update: %v", err)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &a2.ResourceVersion}}); err != nil {
		t.Fatalf("typed delete: %v", err)
	}
	b, err := cms.Create(ctx, mk("b", "1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range wire.requests(func(r *wireReq) bool {
		return (r.Method == "POST" || r.Method == "PUT") && strings.Contains(r.Path, "/configmaps")
	}) {
		if !strings.HasPrefix(r.ContentType, protobufMedia) {
			t.Errorf("%s %s sent Content-Type %q, want %s", r.Method, r.Path, r.ContentType, protobufMedia)
		}
	}
	want := []string{
		"ADD pre " + pre.ResourceVersion + " v=0",
		"ADD a " + a.ResourceVersion + " v=1",
		"UPDATE a " + a2.ResourceVersion + " v=2",
		"DELETE a",
		"ADD b " + b.ResourceVersion + " v=1",
	}
	eventually(t, 20*time.Second, "the informer's handler to see add/update/delete", func() (bool, string) {
		got := hl.snapshot()
		return len(got) >= len(want), strings.Join(got, "; ")
	})
	if got := hl.snapshot(); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("handler saw:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	rvNum := func(rv string) int64 {
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil {
			t.Fatalf("resourceVersion %q: %v", rv, err)
		}
		return n
	}
	// The informer's resourceVersion, once it has caught up with rv (bookmarks may move it further).
	informerRV := func(rv string) int64 {
		t.Helper()
		eventually(t, 10*time.Second, "the informer's resourceVersion to reach "+rv, func() (bool, string) {
			last := inf.LastSyncResourceVersion()
			return last != "" && rvNum(last) >= rvNum(rv), last
		})
		return rvNum(inf.LastSyncResourceVersion())
	}
	// The informer's requests from index from on.
	since := func(from int, match func(*wireReq) bool) []wireReq {
		all := wire.requests(cmCollection(ns))
		var out []wireReq
		for _, r := range all[min(from, len(all)):] {
			if match(&r) {
				out = append(out, r)
			}
		}
		return out
	}
	isRewatch := func(r *wireReq) bool { return r.Query.Get("watch") == "true" && r.Query.Get("sendInitialEvents") == "" }
	truthCMs := clientFor(t, c, nil).CoreV1().ConfigMaps(ns) // not logged: only the informer's lists count
	converge := func(what string, from int) {
		t.Helper()
		eventually(t, 45*time.Second, "the informer to converge "+what, func() (bool, string) {
			lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
			defer lcancel()
			truth, err := truthCMs.List(lctx, metav1.ListOptions{LabelSelector: "test=clientgo"})
			if err != nil {
				return false, "list: " + err.Error()
			}
			var want, got []string
			for _, cm := range truth.Items {
				want = append(want, cm.Name+"@"+cm.ResourceVersion+"="+cm.Data["v"])
			}
			for _, o := range inf.GetStore().List() {
				cm := o.(*corev1.ConfigMap)
				got = append(got, cm.Name+"@"+cm.ResourceVersion+"="+cm.Data["v"])
			}
			sort.Strings(want)
			sort.Strings(got)
			return strings.Join(got, ",") == strings.Join(want, ","),
				fmt.Sprintf("informer %v, server %v; informer requests: %s", got, want, describeReqs(since(from, func(*wireReq) bool { return true })))
		})
	}
	ec, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	st := storage.New(ec, scheme.Scheme)
	compact := func(past int64) int64 {
		t.Helper()
		// A write outside the server's keys moves the revision past the informer's.
		put, err := ec.Put(ctx, "/skiff-e2e/bump", "x")
		if err != nil {
			t.Fatal(err)
		}
		rev := put.Header.Revision
		if rev <= past {
			t.Fatalf("etcd revision %d does not pass the informer's %d", rev, past)
		}
		if _, err := ec.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
			t.Fatalf("compact: %v", err)
		}
		return rev
	}

	// 1. Control: a watch the server closes cleanly is resumed from the informer's resourceVersion: no 410, no relist.
	lastRV := informerRV(b.ResourceVersion)
	from := len(wire.requests(cmCollection(ns)))
	if n := wire.cutWatches(); n == 0 {
		t.Fatal("the informer has no open watch")
	}
	eventually(t, 20*time.Second, "the informer to re-watch", func() (bool, string) {
		ws := since(from, isRewatch)
		return len(ws) > 0 && ws[0].Status == 200, describeReqs(since(from, func(*wireReq) bool { return true }))
	})
	if rw := since(from, isRewatch)[0]; rvNum(rw.Query.Get("resourceVersion")) < lastRV {
		t.Fatalf("re-watch from %s, before the informer's %d", rw.Query.Get("resourceVersion"), lastRV)
	}
	cc, err := cms.Create(ctx, mk("c", "1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "ADD c "+cc.ResourceVersion+" v=1")
	eventually(t, 20*time.Second, "the resumed watch to deliver an add", func() (bool, string) {
		got := hl.snapshot()
		return len(got) >= len(want), strings.Join(got, "; ")
	})
	if got := hl.snapshot(); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("handler saw:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if bad := since(from, func(r *wireReq) bool { return r.Expired || isRelist(r) }); len(bad) > 0 {
		t.Fatalf("a clean watch close caused a 410 or relist: %s", describeReqs(bad))
	}

	// 2. etcd compacted past the informer's resourceVersion, the server still up (its watch cache still has the
	// history): the re-watch after the next close gets 410, and the informer relists.
	lastRV = informerRV(cc.ResourceVersion)
	compact(lastRV)
	from = len(wire.requests(cmCollection(ns)))
	wire.cutWatches()
	eventually(t, 30*time.Second, "a 410 on the re-watch and a relist", func() (bool, string) {
		return len(since(from, func(r *wireReq) bool { return isRewatch(r) && r.Expired })) > 0 && len(since(from, isRelist)) > 0,
			describeReqs(since(from, func(*wireReq) bool { return true }))
	})
	t.Logf("after compaction, the informer's requests: %s", describeReqs(since(from, func(*wireReq) bool { return true })))
	converge("after the compaction", from)
	nEvents := len(hl.snapshot())

	// 3. Server down: write behind its back directly in etcd (the server's own storage format), compact past
	// everything the informer has seen, start the server again: the informer relists and sees the new state.
	lastRV = informerRV(cc.ResourceVersion)
	from = len(wire.requests(cmCollection(ns)))
	c.Stop(t)
	keys := storage.KeyFunc{GR: corev1.SchemeGroupVersion.WithResource("configmaps").GroupResource(), Namespaced: true}
	down := mk("down", "1")
	down.Namespace, down.UID, down.CreationTimestamp = ns, types.UID(uuid.NewString()), metav1.Now()
	if _, err := st.Create(ctx, keys.Key(ns, "down"), down); err != nil {
		t.Fatalf("write to etcd: %v", err)
	}
	if _, err := st.GuaranteedUpdate(ctx, keys.Key(ns, "b"), func() runtime.Object { return &corev1.ConfigMap{} },
		func(cur runtime.Object) (runtime.Object, error) {
			cm := cur.(*corev1.ConfigMap).DeepCopy()
			cm.Data["v"] = "2"
			return cm, nil
		}); err != nil {
		t.Fatalf("update in etcd: %v", err)
	}
	if _, err := st.Delete(ctx, keys.Key(ns, "pre"), 0, func() runtime.Object { return &corev1.ConfigMap{} }); err != nil {
		t.Fatalf("delete in etcd: %v", err)
	}
	compact(lastRV)
	c.Start(t)
	converge("after the restart", from)
	// How the informer gets there depends on how its watch ended: a clean end re-watches from lastRV (410, as in
	// step 2), a broken one relists at once. Either way it must have relisted.
	if len(since(from, isRelist)) == 0 {
		t.Errorf("no relist after the restart: %s", describeReqs(since(from, func(*wireReq) bool { return true })))
	}
	got := strings.Join(hl.snapshot()[nEvents:], "; ")
	for _, w := range []string{"ADD down", "UPDATE b", "DELETE pre"} {
		if !strings.Contains(got, w) {
			t.Errorf("after the restart the handler saw %q, missing %q", got, w)
		}
	}
	t.Logf("after the restart the handler saw: %s; informer requests: %s", got, describeReqs(since(from, func(*wireReq) bool { return true })))
}

// cmCollection matches requests to the ConfigMap collection of ns.
func cmCollection(ns string) func(*wireReq) bool {
	return func(r *wireReq) bool { return r.Method == "GET" && r.Path == "/api/v1/namespaces/"+ns+"/configmaps" }
}

func describeReqs(rs []wireReq) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s %s?%s -> %d expired=%v", r.Method, r.Path, r.Query.Encode(), r.Status, r.Expired)
	}
	return b.String()
}
