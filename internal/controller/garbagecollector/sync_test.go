package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/metadata/metadatainformer"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

var (
	configmaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	nodes      = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	now        = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
)

// where says whether a fixture object is in the informer cache, on the server, or both.
type where int

const (
	both where = iota
	cacheOnly
	serverOnly
)

type seed struct {
	obj   *metav1.PartialObjectMetadata
	where where
}

type fixture struct {
	t        *testing.T
	gc       *GarbageCollector
	client   *metadatafake.FakeMetadataClient
	recorder *record.FakeRecorder
}

func newFixture(t *testing.T, seeds ...seed) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var server []runtime.Object
	for _, s := range seeds {
		if s.where != cacheOnly {
			server = append(server, s.obj.DeepCopy())
		}
	}
	client := metadatafake.NewSimpleMetadataClient(scheme, server...)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Node"}, meta.RESTScopeRoot)
	recorder := record.NewFakeRecorder(10)
	gc := newGarbageCollector(controller.Context{
		Metadata:          client,
		MetadataInformers: metadatainformer.NewSharedInformerFactory(client, 0),
		Clock:             clock.NewFake(now.Time),
		Recorder:          func(string) record.EventRecorder { return recorder },
		Log:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	gc.mapper = mapper
	for _, gvr := range []schema.GroupVersionResource{configmaps, nodes} {
		if err := gc.addMonitor(gvr); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seeds {
		if s.where == serverOnly {
			continue
		}
		if err := gc.monitors[resourceOf(s.obj).GroupResource()].indexer.Add(s.obj.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{t: t, gc: gc, client: client, recorder: recorder}
}

func resourceOf(m *metav1.PartialObjectMetadata) schema.GroupVersionResource {
	if m.Kind == "Node" {
		return nodes
	}
	return configmaps
}

// cm returns ConfigMap ns/name with UID "uid-name" owned by owners.
func cm(name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
			ResourceVersion: "1", OwnerReferences: owners},
	}
}

func node(name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), ResourceVersion: "1", OwnerReferences: owners},
	}
}

// ownedBy is a reference to ConfigMap name with UID "uid-name".
func ownedBy(name string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: name, UID: types.UID("uid-" + name), BlockOwnerDeletion: ptr.To(block)}
}

func deleting(m *metav1.PartialObjectMetadata, finalizers ...string) *metav1.PartialObjectMetadata {
	m.DeletionTimestamp = &now
	m.Finalizers = finalizers
	return m
}

// describe renders an action as "verb resource name [details]".
func describe(a core.Action) string {
	var name string
	switch a := a.(type) {
	case core.GetActionImpl:
		name = a.GetName()
	case core.DeleteActionImpl:
		p := "<nil>"
		if a.DeleteOptions.PropagationPolicy != nil {
			p = string(*a.DeleteOptions.PropagationPolicy)
		}
		pre := a.DeleteOptions.Preconditions
		if pre == nil || pre.UID == nil || pre.ResourceVersion == nil {
			return fmt.Sprintf("delete %s %s %s without uid+resourceVersion preconditions", a.GetResource().Resource, a.GetName(), p)
		}
		return fmt.Sprintf("delete %s %s %s uid=%s rv=%s", a.GetResource().Resource, a.GetName(), p, *pre.UID, *pre.ResourceVersion)
	case core.PatchActionImpl:
		return fmt.Sprintf("patch %s %s %s %s", a.GetResource().Resource, a.GetName(), a.GetPatchType(), a.GetPatch())
	}
	return strings.TrimSpace(a.GetVerb() + " " + a.GetResource().Resource + " " + name)
}

func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		out = append(out, describe(a))
	}
	return out
}

func (f *fixture) expect(want ...string) {
	f.t.Helper()
	got := f.actions()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("actions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	f.client.ClearActions()
}

func (f *fixture) sync(key objectKey) {
	f.t.Helper()
	res, err := f.gc.sync(context.Background(), key)
	if err != nil {
		f.t.Fatalf("sync(%s): %v", key, err)
	}
	if res != (controller.Result{}) {
		f.t.Fatalf("sync(%s) = %+v, want zero result", key, res)
	}
}

// drain syncs every queued key, as the workers would.
func (f *fixture) drain() {
	for f.gc.queue.Len() > 0 {
		controller.ProcessNext(context.Background(), f.gc.log, f.gc.queue, f.gc.sync)
	}
}

func key(name string) objectKey { return objectKey{Resource: configmaps, Namespace: "ns", Name: name} }

func mergePatch(t *testing.T, field string, value any, uid, rv string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{field: value, "uid": uid, "resourceVersion": rv}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDependentOfAbsentOwnerIsDeletedAfterLiveCheck(t *testing.T) {
	f := newFixture(t, seed{obj: cm("b", ownedBy("a", false))}, seed{obj: cm("c", ownedBy("a", false))})
	f.sync(key("b"))
	f.expect(
		"get configmaps b",
		"get configmaps a",
		"delete configmaps b Background uid=uid-b rv=1",
	)
	// The owner's UID is now known to be gone: the next dependent needs no second GET of it.
	f.sync(key("c"))
	f.expect(
		"get configmaps c",
		"delete configmaps c Background uid=uid-c rv=1",
	)
}

func TestDependentOfExistingOwnerIsKept(t *testing.T) {
	f := newFixture(t, seed{obj: cm("a")}, seed{obj: cm("b", ownedBy("a", true))})
	f.sync(key("b"))
	f.expect() // the cache shows the owner: nothing is read or written
	f.sync(key("a"))
	f.expect()
}

func TestOwnerMissingFromCacheButLiveIsNotDangling(t *testing.T) {
	// The owner's informer has not seen it yet; the live GET finds it.
	f := newFixture(t, seed{obj: cm("a"), where: serverOnly}, seed{obj: cm("b", ownedBy("a", false))})
	f.sync(key("b"))
	f.expect("get configmaps b", "get configmaps a")
}

func TestOwnerWithAnotherUIDIsDangling(t *testing.T) {
	owner := cm("a")
	owner.UID = "uid-a-recreated"
	f := newFixture(t, seed{obj: owner}, seed{obj: cm("b", ownedBy("a", false))})
	f.sync(key("b"))
	f.expect("get configmaps b", "get configmaps a", "delete configmaps b Background uid=uid-b rv=1")
}

func TestStaleCacheDoesNotDeleteWithOldOwnerRefs(t *testing.T) {
	// The cache still shows the reference; the live object was already orphaned.
	f := newFixture(t, seed{obj: cm("b", ownedBy("a", false)), where: cacheOnly}, seed{obj: cm("b"), where: serverOnly})
	f.sync(key("b"))
	f.expect("get configmaps b")
}

func TestOnlyReferencesToGoneOwnersAreRemoved(t *testing.T) {
	f := newFixture(t, seed{obj: cm("a")}, seed{obj: cm("b", ownedBy("a", true), ownedBy("x", true))})
	f.sync(key("b"))
	f.expect(
		"get configmaps b",
		"get configmaps a",
		"get configmaps x",
		"patch configmaps b application/merge-patch+json "+mergePatch(t, "ownerReferences", []metav1.OwnerReference{ownedBy("a", true)}, "uid-b", "1"),
	)
}

func TestObjectCarryingOrphanFinalizerIsDeletedWithOrphan(t *testing.T) {
	b := cm("b", ownedBy("a", false))
	b.Finalizers = []string{metav1.FinalizerOrphanDependents}
	f := newFixture(t, seed{obj: b})
	f.sync(key("b"))
	f.expect("get configmaps b", "get configmaps a", "delete configmaps b Orphan uid=uid-b rv=1")
}

func TestForegroundDeletion(t *testing.T) {
	f := newFixture(t,
		seed{obj: deleting(cm("a"), metav1.FinalizerDeleteDependents)},
		seed{obj: cm("b", ownedBy("a", true))},
		seed{obj: cm("c", ownedBy("a", false))},
		seed{obj: cm("c1", ownedBy("c", true))},
		seed{obj: deleting(cm("d", ownedBy("a", true)), "example.com/hold")},
		seed{obj: cm("e", ownedBy("a", true), ownedBy("keeper", true))},
		seed{obj: cm("keeper")},
	)
	// The owner waits for its blocking dependents and queues those not yet being deleted.
	f.sync(key("a"))
	f.expect()
	if got := f.gc.queue.Len(); got != 3 {
		t.Fatalf("queued %d dependents, want 3 (b, c, e)", got)
	}
	f.drain()
	f.expect(
		// A dependent without dependents of its own is simply deleted; one with dependents (c) is deleted in the
		// foreground, so that a also waits for them.
		"get configmaps b", "get configmaps a", "delete configmaps b Background uid=uid-b rv=1",
		"get configmaps c", "get configmaps a", "delete configmaps c Foreground uid=uid-c rv=1",
		// e has another owner: it is unlinked from a, not deleted.
		"get configmaps e", "get configmaps a", "get configmaps keeper",
		"patch configmaps e application/merge-patch+json "+mergePatch(t, "ownerReferences", []metav1.OwnerReference{ownedBy("keeper", true)}, "uid-e", "1"),
	)
	// b, d and e (blocking) are gone or unlinked; c does not block. The finalizer goes, and the owner with it.
	idx := f.gc.monitors[configmaps.GroupResource()].indexer
	for _, name := range []string{"b", "d"} {
		if err := idx.Delete(cm(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Update(cm("e", ownedBy("keeper", true))); err != nil {
		t.Fatal(err)
	}
	f.sync(key("a"))
	f.expect(
		"get configmaps a",
		"patch configmaps a application/merge-patch+json "+mergePatch(t, "finalizers", nil, "uid-a", "1"),
	)
}

func TestForegroundWaitsForDependentBeingDeleted(t *testing.T) {
	f := newFixture(t,
		seed{obj: deleting(cm("a"), metav1.FinalizerDeleteDependents)},
		seed{obj: deleting(cm("b", ownedBy("a", true)), "example.com/hold")},
	)
	f.sync(key("a"))
	f.expect()
	if got := f.gc.queue.Len(); got != 0 {
		t.Fatalf("queued %d keys, want 0: the dependent is already being deleted", got)
	}
	// When the dependent goes, the owner is queued again.
	f.gc.onDelete(configmaps, f.cachedOrDie(key("b")))
	f.drain()
	f.expect() // b is still in the cache in this fixture, so a keeps waiting
	if err := f.gc.monitors[configmaps.GroupResource()].indexer.Delete(cm("b")); err != nil {
		t.Fatal(err)
	}
	f.gc.onDelete(configmaps, cm("b", ownedBy("a", true)))
	f.drain()
	f.expect("get configmaps a", "patch configmaps a application/merge-patch+json "+mergePatch(t, "finalizers", nil, "uid-a", "1"))
}

func TestOrphanDeletion(t *testing.T) {
	f := newFixture(t,
		seed{obj: deleting(cm("a"), metav1.FinalizerOrphanDependents, "example.com/keep")},
		seed{obj: cm("b", ownedBy("a", true))},
		seed{obj: cm("c", ownedBy("a", false), ownedBy("other", true))},
		seed{obj: cm("other")},
	)
	f.sync(key("a"))
	f.expect(
		"get configmaps b",
		"patch configmaps b application/merge-patch+json "+mergePatch(t, "ownerReferences", nil, "uid-b", "1"),
		"get configmaps c",
		"patch configmaps c application/merge-patch+json "+mergePatch(t, "ownerReferences", []metav1.OwnerReference{ownedBy("other", true)}, "uid-c", "1"),
		"get configmaps a",
		"patch configmaps a application/merge-patch+json "+mergePatch(t, "finalizers", []string{"example.com/keep"}, "uid-a", "1"),
	)
	// The fake server now holds the orphaned dependents.
	for name, want := range map[string]int{"b": 0, "c": 1} {
		obj, err := f.client.Resource(configmaps).Namespace("ns").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(obj.OwnerReferences) != want {
			t.Errorf("%s has owner references %v, want %d", name, obj.OwnerReferences, want)
		}
	}
}

func TestObjectBeingDeletedWithoutGCFinalizerIsLeftAlone(t *testing.T) {
	f := newFixture(t, seed{obj: deleting(cm("b", ownedBy("a", false)), "example.com/hold")})
	f.sync(key("b"))
	f.expect()
}

func TestClusterScopedObjectWithNamespacedOwner(t *testing.T) {
	f := newFixture(t, seed{obj: node("n1", metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "a", UID: "uid-a"})})
	f.sync(objectKey{Resource: nodes, Name: "n1"})
	f.expect("get nodes n1", "delete nodes n1 Background uid=uid-n1 rv=1")
	select {
	case ev := <-f.recorder.Events:
		if !strings.Contains(ev, "OwnerRefInvalidNamespace") {
			t.Errorf("event %q, want OwnerRefInvalidNamespace", ev)
		}
	default:
		t.Error("no event recorded")
	}
}

func TestUnknownOwnerKindIsRetried(t *testing.T) {
	f := newFixture(t, seed{obj: cm("b", metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "uid-w"})})
	if _, err := f.gc.sync(context.Background(), key("b")); err == nil {
		t.Fatal("sync succeeded with an owner kind nobody serves, want an error (retried)")
	}
	f.expect("get configmaps b")
}

func TestEventHandlersQueueKeys(t *testing.T) {
	f := newFixture(t,
		seed{obj: deleting(cm("a"), metav1.FinalizerDeleteDependents)},
		seed{obj: cm("b", ownedBy("a", true))},
		seed{obj: cm("plain")},
	)
	f.gc.onAdd(configmaps, cm("plain"))
	if n := f.gc.queue.Len(); n != 0 {
		t.Fatalf("an object without owners or GC finalizers was queued")
	}
	// A dependent that changes queues itself and its deleting owner.
	f.gc.onUpdate(configmaps, cm("b", ownedBy("a", true)), cm("b"))
	if got := f.queued(); got != "ns/a" {
		t.Fatalf("queued %q, want the deleting owner", got)
	}
	// An owner that disappears queues its dependents.
	f.gc.onDelete(configmaps, cm("x"))
	f.gc.onDelete(configmaps, cacheTombstone(cm("a")))
	if got := f.queued(); got != "ns/b" {
		t.Fatalf("queued %q, want the dependent", got)
	}
}

func (f *fixture) queued() string {
	var out []string
	for f.gc.queue.Len() > 0 {
		k, _ := f.gc.queue.Get()
		f.gc.queue.Done(k)
		f.gc.queue.Forget(k)
		out = append(out, k.cacheKey())
	}
	return strings.Join(out, ",")
}

func (f *fixture) cachedOrDie(k objectKey) *metav1.PartialObjectMetadata {
	f.t.Helper()
	o, ok := f.gc.cached(k)
	if !ok {
		f.t.Fatalf("%s not cached", k)
	}
	return o
}

func TestDeletableResources(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: metav1.Verbs{"delete", "get", "list", "watch"}},
			{Name: "events", Namespaced: true, Kind: "Event", Verbs: metav1.Verbs{"delete", "get", "list", "watch"}},
			{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: metav1.Verbs{"create"}},
			{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get", "list", "watch", "delete"}},
		}},
		{GroupVersion: "events.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "events", Namespaced: true, Kind: "Event", Verbs: metav1.Verbs{"delete", "get", "list", "watch"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "replicasets", Namespaced: true, Kind: "ReplicaSet", Verbs: metav1.Verbs{"delete", "get", "list", "watch"}},
		}},
	}
	got := fmt.Sprint(deletable(lists))
	if want := "[/v1, Resource=configmaps apps/v1, Resource=replicasets]"; got != want {
		t.Fatalf("deletable = %s, want %s", got, want)
	}
}

func cacheTombstone(obj *metav1.PartialObjectMetadata) any {
	return cache.DeletedFinalStateUnknown{Key: obj.Namespace + "/" + obj.Name, Obj: obj}
}

func TestDecide(t *testing.T) {
	withFinalizer := func(m *metav1.PartialObjectMetadata, f string) *metav1.PartialObjectMetadata {
		m.Finalizers = []string{f}
		return m
	}
	for _, tc := range []struct {
		name          string
		obj           *metav1.PartialObjectMetadata
		states        []ownerState
		hasDependents bool
		depWaiting    bool
		want          verdict
	}{
		{"solid owner", cm("x", ownedBy("a", true)), []ownerState{stateSolid}, false, false, verdict{}},
		{"solid and dangling: unlink", cm("x", ownedBy("a", true), ownedBy("b", true)), []ownerState{stateSolid, stateDangling}, false, false,
			verdict{keep: []metav1.OwnerReference{ownedBy("a", true)}}},
		{"solid and waiting: unlink", cm("x", ownedBy("a", true), ownedBy("b", true)), []ownerState{stateWaiting, stateSolid}, true, true,
			verdict{keep: []metav1.OwnerReference{ownedBy("b", true)}}},
		{"dangling", cm("x", ownedBy("a", true)), []ownerState{stateDangling}, true, false, verdict{policy: metav1.DeletePropagationBackground}},
		{"dangling, orphan finalizer", withFinalizer(cm("x", ownedBy("a", true)), metav1.FinalizerOrphanDependents), []ownerState{stateDangling}, true, false,
			verdict{policy: metav1.DeletePropagationOrphan}},
		{"dangling, foreground finalizer", withFinalizer(cm("x", ownedBy("a", true)), metav1.FinalizerDeleteDependents), []ownerState{stateDangling}, false, false,
			verdict{policy: metav1.DeletePropagationForeground}},
		{"waiting owner, no dependents", cm("x", ownedBy("a", true)), []ownerState{stateWaiting}, false, false, verdict{policy: metav1.DeletePropagationBackground}},
		{"waiting owner, dependents", cm("x", ownedBy("a", true)), []ownerState{stateWaiting}, true, false, verdict{policy: metav1.DeletePropagationForeground}},
		{"waiting owner, dependent waiting: cycle", cm("x", ownedBy("a", true), ownedBy("b", false)), []ownerState{stateWaiting, stateDangling}, true, true,
			verdict{unblock: true, policy: metav1.DeletePropagationForeground}},
		{"waiting owner, dependent waiting, nothing blocks", cm("x", ownedBy("a", false)), []ownerState{stateWaiting}, true, true,
			verdict{policy: metav1.DeletePropagationForeground}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decide(tc.obj, tc.states, tc.hasDependents, tc.depWaiting)
			gb, _ := json.Marshal(got.keep)
			wb, _ := json.Marshal(tc.want.keep)
			if string(gb) != string(wb) || (got.keep == nil) != (tc.want.keep == nil) || got.unblock != tc.want.unblock || got.policy != tc.want.policy {
				t.Fatalf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestForegroundCycleIsBroken plays upstream's "should not be blocked by dependency circle": a → c → b → a (each
// owned by the next with blockOwnerDeletion), a deleted in the foreground, b already deleted in the foreground by its
// sync. c, whose owner b waits and whose dependent a waits, stops blocking b before its own foreground delete.
func TestForegroundCycleIsBroken(t *testing.T) {
	f := newFixture(t,
		seed{obj: deleting(cm("a", ownedBy("c", true)), metav1.FinalizerDeleteDependents)},
		seed{obj: deleting(cm("b", ownedBy("a", true)), metav1.FinalizerDeleteDependents)},
		seed{obj: cm("c", ownedBy("b", true))},
	)
	f.sync(key("c"))
	f.expect(
		"get configmaps c",
		"get configmaps b",
		"patch configmaps c application/merge-patch+json "+mergePatch(t, "ownerReferences", []metav1.OwnerReference{ownedBy("b", false)}, "uid-c", "1"),
		"delete configmaps c Foreground uid=uid-c rv=1",
	)
	// Once c no longer blocks b (the informer sees the patch), b's finalizer goes.
	if err := f.gc.monitors[configmaps.GroupResource()].indexer.Update(cm("c", ownedBy("b", false))); err != nil {
		t.Fatal(err)
	}
	f.sync(key("b"))
	f.expect("get configmaps b", "patch configmaps b application/merge-patch+json "+mergePatch(t, "finalizers", nil, "uid-b", "1"))
}

func TestResyncWatchesResourcesThatAppear(t *testing.T) {
	f := newFixture(t)
	fc := f.gc.clock.(*clock.Fake)
	crontabs := schema.GroupVersionResource{Group: "stable.example.com", Version: "v1", Resource: "crontabs"}
	verbs := metav1.Verbs{"delete", "get", "list", "watch"}
	lists := make(chan []*metav1.APIResourceList, 1)
	last := []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: verbs}}}}
	f.gc.discover = func() ([]*metav1.APIResourceList, error) {
		select {
		case last = <-lists:
		default:
		}
		return last, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.gc.resyncLoop(ctx) }()
	defer func() { cancel(); <-done }()

	has := func(gr schema.GroupResource) bool {
		f.gc.monMu.RLock()
		defer f.gc.monMu.RUnlock()
		_, ok := f.gc.monitors[gr]
		return ok
	}
	// A CRD is established: the next discovery lists its resource, and the collector starts watching it.
	lists <- []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: verbs}}},
		{GroupVersion: "stable.example.com/v1", APIResources: []metav1.APIResource{{Name: "crontabs", Namespaced: true, Kind: "CronTab", Verbs: verbs}}},
	}
	deadline := time.Now().Add(10 * time.Second)
	for !has(crontabs.GroupResource()) {
		if time.Now().After(deadline) {
			t.Fatal("crontabs not watched after discovery listed them")
		}
		fc.Step(f.gc.resyncPeriod)
		time.Sleep(10 * time.Millisecond)
	}
	if !has(configmaps.GroupResource()) {
		t.Error("configmaps no longer watched")
	}
}
