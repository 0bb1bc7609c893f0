package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry.
const Name = "garbagecollector"

// ownerIndex indexes every watched object by the UIDs of its owners.
const ownerIndex = "garbagecollector/ownerUID"

// maxAbsent bounds the memory of owner UIDs known to be gone.
const maxAbsent = 10000

// ignoredResources are never watched (as upstream: events are many and never owners).
var ignoredResources = map[schema.GroupResource]bool{
	{Resource: "events"}:                         true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// objectKey names one object of one resource; the work queue holds only these.
type objectKey struct {
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
}

func (k objectKey) String() string {
	if k.Namespace == "" {
		return k.Resource.GroupResource().String() + "/" + k.Name
	}
	return k.Resource.GroupResource().String() + "/" + k.Namespace + "/" + k.Name
}

func (k objectKey) cacheKey() string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// monitor is the metadata informer of one resource.
type monitor struct {
	resource schema.GroupVersionResource
	indexer  cache.Indexer
	synced   cache.InformerSynced
}

// GarbageCollector deletes dependents whose owners are gone and runs the foreground and orphan policies.
type GarbageCollector struct {
	metadata metadata.Interface
	mapper   meta.RESTMapper
	discover func() ([]*metav1.APIResourceList, error)
	factory  metadatainformer.SharedInformerFactory
	recorder record.EventRecorder
	clock    clock.Clock
	queue    workqueue.TypedRateLimitingInterface[objectKey]
	log      *slog.Logger

	// resyncPeriod is how often discovery is asked again for resources to watch (custom resources come and go);
	// kube-controller-manager's garbage collector does it every 30 s.
	resyncPeriod time.Duration

	monMu sync.RWMutex // guards monitors
	// monitors is filled by addMonitor: before the informers start, then as discovery finds new resources.
	monitors map[schema.GroupResource]*monitor

	absentMu sync.Mutex // guards absent
	absent   map[types.UID]struct{}
}

var _ controller.Controller = (*GarbageCollector)(nil)

// New builds the garbage collector from the manager's shared context. Its informers are created in Run,
// after discovery.
func New(cc controller.Context) (controller.Controller, error) {
	return newGarbageCollector(cc), nil
}

func newGarbageCollector(cc controller.Context) *GarbageCollector {
	gc := &GarbageCollector{
		metadata: cc.Metadata,
		mapper:   cc.RESTMapper,
		factory:  cc.MetadataInformers,
		clock:    cc.Clock,
		queue:    controller.NewQueue[objectKey](Name),
		log:      cc.Log.With("controller", Name),
		monitors: map[schema.GroupResource]*monitor{},
		absent:   map[types.UID]struct{}{},

		resyncPeriod: 30 * time.Second,
	}
	if cc.Discovery != nil {
		gc.discover = func() ([]*metav1.APIResourceList, error) { return discovery.ServerPreferredResources(cc.Discovery) }
	}
	if cc.Recorder != nil {
		gc.recorder = cc.Recorder("garbage-collector-controller")
	} else {
		gc.recorder = &record.FakeRecorder{}
	}
	return gc
}

// Name implements controller.Controller.
func (gc *GarbageCollector) Name() string { return Name }

// Run discovers the resources to watch, starts their informers, waits for them and runs the workers.
func (gc *GarbageCollector) Run(ctx context.Context, workers int) error {
	defer gc.queue.ShutDown()
	resources, err := gc.deletableResources(ctx)
	if err != nil {
		return nil // ctx ended
	}
	var synced []cache.InformerSynced
	for _, gvr := range resources {
		if err := gc.addMonitor(gvr); err != nil {
			return err
		}
		gc.monMu.RLock()
		synced = append(synced, gc.monitors[gvr.GroupResource()].synced)
		gc.monMu.RUnlock()
	}
	gc.factory.Start(ctx.Done())
	gc.log.Info("watching resources", "count", len(resources))
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), synced...) {
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		gc.resyncLoop(ctx)
	}()
	controller.RunWorkers(ctx, gc.log, gc.queue, workers, gc.sync)
	wg.Wait()
	return nil
}

// resyncLoop asks discovery again every resyncPeriod and starts watching the resources that appeared (the
// custom resources of new CRDs) until ctx ends. Resources that disappear keep their idle informers.
func (gc *GarbageCollector) resyncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-gc.clock.After(gc.resyncPeriod):
		}
		if gc.discover == nil {
			continue
		}
		lists, err := gc.discover()
		if err != nil && len(lists) == 0 {
			gc.log.Warn("discovery failed", "err", err)
			continue
		}
		added := 0
		for _, gvr := range deletable(lists) {
			gc.monMu.RLock()
			_, known := gc.monitors[gvr.GroupResource()]
			gc.monMu.RUnlock()
			if known {
				continue
			}
			if err := gc.addMonitor(gvr); err != nil {
				gc.log.Warn("watching a new resource", "resource", gvr, "err", err)
				continue
			}
			added++
		}
		if added == 0 {
			continue
		}
		if r, ok := gc.mapper.(interface{ Reset() }); ok {
			r.Reset() // owner references may name the new kinds
		}
		gc.factory.Start(ctx.Done())
		gc.log.Info("watching new resources", "count", added)
	}
}

// deletableResources asks discovery for the resources to watch, retrying until it answers or ctx ends.
// A partial answer is used as it is.
func (gc *GarbageCollector) deletableResources(ctx context.Context) ([]schema.GroupVersionResource, error) {
	delay := 100 * time.Millisecond
	for {
		lists, err := gc.discover()
		if err != nil {
			gc.log.Warn("discovery failed", "err", err)
		}
		if out := deletable(lists); len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-gc.clock.After(delay):
		}
		if delay < 10*time.Second {
			delay *= 2
		}
	}
}

// deletable returns the resources in lists that support list, watch and delete, minus the ignored ones.
func deletable(lists []*metav1.APIResourceList) []schema.GroupVersionResource {
	filtered := discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"delete", "list", "watch"}}, lists)
	var out []schema.GroupVersionResource
	for _, l := range filtered {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gvr := gv.WithResource(r.Name)
			if ignoredResources[gvr.GroupResource()] || r.Name == "" || strings.Contains(r.Name, "/") {
				continue
			}
			out = append(out, gvr)
		}
	}
	return out
}

// addMonitor creates the metadata informer of gvr with the owner index and the event handlers.
func (gc *GarbageCollector) addMonitor(gvr schema.GroupVersionResource) error {
	gc.monMu.Lock()
	defer gc.monMu.Unlock()
	if _, ok := gc.monitors[gvr.GroupResource()]; ok {
		return nil
	}
	inf := gc.factory.ForResource(gvr).Informer()
	if err := inf.AddIndexers(cache.Indexers{ownerIndex: ownerUIDs}); err != nil {
		return fmt.Errorf("%s informer: %w", gvr.GroupResource(), err)
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { gc.onAdd(gvr, obj) },
		UpdateFunc: func(old, obj any) { gc.onUpdate(gvr, old, obj) },
		DeleteFunc: func(obj any) { gc.onDelete(gvr, obj) },
	})
	if err != nil {
		return fmt.Errorf("%s informer: %w", gvr.GroupResource(), err)
	}
	gc.monitors[gvr.GroupResource()] = &monitor{resource: gvr, indexer: inf.GetIndexer(), synced: reg.HasSynced}
	return nil
}

func ownerUIDs(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	refs := m.GetOwnerReferences()
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, string(r.UID))
	}
	return out, nil
}

func asMetadata(obj any) (*metav1.PartialObjectMetadata, bool) {
	return controllerutil.ObjectOf[*metav1.PartialObjectMetadata](obj)
}

func keyOf(gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) objectKey {
	return objectKey{Resource: gvr, Namespace: m.Namespace, Name: m.Name}
}

// needsAttention reports whether a sync of m could do anything.
func needsAttention(m *metav1.PartialObjectMetadata) bool {
	return len(m.OwnerReferences) > 0 || m.DeletionTimestamp != nil && (hasFinalizer(m, metav1.FinalizerOrphanDependents) || hasFinalizer(m, metav1.FinalizerDeleteDependents))
}

func (gc *GarbageCollector) onAdd(gvr schema.GroupVersionResource, obj any) {
	m, ok := asMetadata(obj)
	if !ok {
		return
	}
	if needsAttention(m) {
		gc.queue.Add(keyOf(gvr, m))
	}
}

func (gc *GarbageCollector) onUpdate(gvr schema.GroupVersionResource, oldObj, obj any) {
	m, ok := asMetadata(obj)
	old, okOld := asMetadata(oldObj)
	if !ok || !okOld {
		return
	}
	if old.UID != m.UID {
		// Deleted and recreated between two observations: the old object's dependents lost their owner.
		gc.enqueueDependents(old.UID)
	}
	if needsAttention(m) && (old.UID != m.UID || !ownerRefsEqual(old.OwnerReferences, m.OwnerReferences) ||
		(old.DeletionTimestamp == nil) != (m.DeletionTimestamp == nil) || !stringsEqual(old.Finalizers, m.Finalizers)) {
		gc.queue.Add(keyOf(gvr, m))
	}
	// A dependent that changed may no longer block an owner that waits for it.
	gc.enqueueDeletingOwners(m.Namespace, old.OwnerReferences)
	if !ownerRefsEqual(old.OwnerReferences, m.OwnerReferences) {
		gc.enqueueDeletingOwners(m.Namespace, m.OwnerReferences)
	}
}

func (gc *GarbageCollector) onDelete(gvr schema.GroupVersionResource, obj any) {
	m, ok := asMetadata(obj)
	if !ok {
		return
	}
	gc.enqueueDependents(m.UID)
	gc.enqueueDeletingOwners(m.Namespace, m.OwnerReferences)
}

// enqueueDependents queues every cached object that names uid as an owner.
func (gc *GarbageCollector) enqueueDependents(uid types.UID) {
	for _, d := range gc.dependents(uid) {
		gc.queue.Add(d.key)
	}
}

// enqueueDeletingOwners queues the owners in refs that the cache shows being deleted.
func (gc *GarbageCollector) enqueueDeletingOwners(ns string, refs []metav1.OwnerReference) {
	for _, ref := range refs {
		key, err := gc.ownerKey(ns, ref)
		if err != nil {
			continue
		}
		if o, ok := gc.cached(key); ok && o.UID == ref.UID && o.DeletionTimestamp != nil {
			gc.queue.Add(key)
		}
	}
}

type dependent struct {
	key objectKey
	obj *metav1.PartialObjectMetadata
}

// dependents returns every cached object that names uid as an owner, ordered by key.
func (gc *GarbageCollector) dependents(uid types.UID) []dependent {
	var out []dependent
	gc.monMu.RLock()
	defer gc.monMu.RUnlock()
	for _, mon := range gc.monitors {
		items, err := mon.indexer.ByIndex(ownerIndex, string(uid))
		if err != nil {
			continue
		}
		for _, it := range items {
			if m, ok := it.(*metav1.PartialObjectMetadata); ok {
				out = append(out, dependent{key: keyOf(mon.resource, m), obj: m})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.String() < out[j].key.String() })
	return out
}

// cached returns the object named by key from its informer's cache.
func (gc *GarbageCollector) cached(key objectKey) (*metav1.PartialObjectMetadata, bool) {
	gc.monMu.RLock()
	mon, ok := gc.monitors[key.Resource.GroupResource()]
	gc.monMu.RUnlock()
	if !ok {
		return nil, false
	}
	obj, exists, err := mon.indexer.GetByKey(key.cacheKey())
	if err != nil || !exists {
		return nil, false
	}
	m, ok := obj.(*metav1.PartialObjectMetadata)
	return m, ok
}

// errInvalidNamespace marks a namespaced owner of a cluster-scoped dependent.
var errInvalidNamespace = errors.New("garbagecollector: cluster-scoped object names a namespaced owner")

// ownerKey resolves an owner reference of an object in namespace ns to the owner's key.
func (gc *GarbageCollector) ownerKey(ns string, ref metav1.OwnerReference) (objectKey, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return objectKey{}, err
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	mapping, err := gc.mapper.RESTMapping(gk, gv.Version)
	if err != nil {
		// The owner's version may not be served any more; any served version names the same object.
		mapping, err = gc.mapper.RESTMapping(gk)
	}
	if err != nil {
		return objectKey{}, fmt.Errorf("owner kind %s: %w", gk, err)
	}
	key := objectKey{Resource: mapping.Resource, Name: ref.Name}
	gc.monMu.RLock()
	if mon, ok := gc.monitors[mapping.Resource.GroupResource()]; ok {
		key.Resource = mon.resource
	}
	gc.monMu.RUnlock()
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if ns == "" {
			return key, errInvalidNamespace
		}
		key.Namespace = ns
	}
	return key, nil
}

func (gc *GarbageCollector) isAbsent(uid types.UID) bool {
	gc.absentMu.Lock()
	defer gc.absentMu.Unlock()
	_, ok := gc.absent[uid]
	return ok
}

func (gc *GarbageCollector) markAbsent(uid types.UID) {
	gc.absentMu.Lock()
	defer gc.absentMu.Unlock()
	if len(gc.absent) >= maxAbsent {
		gc.absent = map[types.UID]struct{}{}
	}
	gc.absent[uid] = struct{}{}
}

func hasFinalizer(m metav1.Object, f string) bool {
	for _, x := range m.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

func ownerRefsEqual(a, b []metav1.OwnerReference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UID != b[i].UID || boolValue(a[i].BlockOwnerDeletion) != boolValue(b[i].BlockOwnerDeletion) {
			return false
		}
	}
	return true
}

func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func boolValue(b *bool) bool { return b != nil && *b }
