package apiserver

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/apiextensions"
	crschema "github.com/skiff-sh/skiff/internal/apiextensions/schema"
	"github.com/skiff-sh/skiff/internal/registry"
	"github.com/skiff-sh/skiff/internal/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
)

// The CustomResourceDefinition resource and how skiff serves what it defines.
//
// CRDs are stored and served like any built-in resource (registry lists apiextensions.k8s.io/v1
// customresourcedefinitions). What is special runs here, in one loop fed by the CRD watch cache
// (runCRDs), doing what kube-apiserver's apiextensions controllers do:
//
//   - naming: each CRD's status.acceptedNames and its NamesAccepted and Established conditions
//     (apiextensions.NamingStatus), written through the status subresource;
//   - serving: every served version of every established CRD becomes a resource in crTable, backed by
//     one watch cache per CRD (its objects stored as JSON, in the version they were written in, since
//     skiff converts versions only with strategy None), replaced whole when anything changes;
//   - finalizing: deleting a CRD adds the customresourcecleanup finalizer and the Terminating
//     condition (markCRDDeleting); the loop then deletes its custom resources (their own finalizers
//     honoured), and once none is left removes the finalizer, which deletes the CRD.

var crdGVR = apiextv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// crdManager is the field manager of the status the CRD loop writes.
const crdManager = "kube-apiserver"

// crTable is the set of custom resources being served. It is never changed once published; the CRD
// loop replaces it whole.
type crTable struct {
	byGVR map[schema.GroupVersionResource]*resource
	list  []*resource // discovery order: CRD name, then version priority
}

// crStore is one CRD's storage: the watch cache shared by all of its versions.
type crStore struct {
	uid    types.UID
	keys   storage.KeyFunc
	cacher *storage.Cacher
	stop   context.CancelFunc
	done   chan struct{}
}

// crdState is the CRD loop's state. mu guards the fields below.
type crdState struct {
	mu     sync.Mutex
	stores map[string]*crStore // by CRD name
	// kick wakes the loop (a CRD changed, or a deletion wants another look).
	kick chan struct{}
	// synced is closed after the first pass: the custom resources stored when the server started are served
	// (kube-apiserver's crd-informer-synced readiness check).
	synced     chan struct{}
	syncedOnce sync.Once
}

func (s *APIServer) crResources() *crTable {
	if t := s.crs.Load(); t != nil {
		return t
	}
	return &crTable{}
}

// kickCRDs asks the CRD loop to look again.
func (s *APIServer) kickCRDs() {
	select {
	case s.crd.kick <- struct{}{}:
	default:
	}
}

// runCRDs keeps the served custom resources in line with the CRDs until ctx ends, then stops their caches.
func (s *APIServer) runCRDs(ctx context.Context) {
	crdRes := s.byGVR[crdGVR]
	defer s.stopCRStores()
	defer s.crd.syncedOnce.Do(func() { close(s.crd.synced) }) // never leave readiness waiting
	if err := crdRes.cacher.WaitReady(ctx); err != nil {
		return
	}
	w, err := crdRes.cacher.Watch(ctx, storage.WatchOptions{Revision: crdRes.cacher.Revision()})
	if err != nil {
		s.log.Error("apiextensions: watching CRDs", "err", err)
		return
	}
	defer w.Stop()
	retry := time.Duration(0)
	for {
		again := s.syncCRDs(ctx)
		s.crd.syncedOnce.Do(func() { close(s.crd.synced) })
		var after <-chan time.Time
		if again {
			retry = min(max(2*retry, 100*time.Millisecond), 5*time.Second)
			after = s.clock.After(retry)
		} else {
			retry = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-w.Done():
			// Ended by a relist of the CRD cache: start again from the current state.
			if w, err = crdRes.cacher.Watch(ctx, storage.WatchOptions{Revision: crdRes.cacher.Revision()}); err != nil {
				return
			}
		case <-w.Signal():
			w.Next()
		case <-s.crd.kick:
		case <-after:
		}
	}
}

// syncCRDs does one pass of the loop; true means something is unfinished and the pass should be retried.
func (s *APIServer) syncCRDs(ctx context.Context) bool {
	crdRes := s.byGVR[crdGVR]
	objs, _ := crdRes.cacher.List(crdRes.keys.Prefix(""), nil)
	crds := make([]*apiextv1.CustomResourceDefinition, 0, len(objs))
	for _, o := range objs {
		crds = append(crds, o.(*apiextv1.CustomResourceDefinition))
	}
	again := false
	// Naming first: a CRD is served once its names are accepted.
	for i, crd := range crds {
		if crd.DeletionTimestamp != nil {
			continue
		}
		others := slices.Concat(crds[:i], crds[i+1:])
		st := apiextensions.NamingStatus(crd, others, metav1.NewTime(s.clock.Now().Truncate(time.Second)))
		if equality.Semantic.DeepEqual(st, crd.Status) {
			continue
		}
		out, err := s.updateObject(ctx, crdRes, "", crd.Name, "status", writeOptions{manager: crdManager}, func(cur runtime.Object) (runtime.Object, error) {
			c := cur.(*apiextv1.CustomResourceDefinition)
			if c.UID != crd.UID {
				return nil, apierrors.NewConflict(crdGVR.GroupResource(), crd.Name, fmt.Errorf("the CRD was replaced"))
			}
			c.Status = st
			return c, nil
		})
		if err != nil {
			if ctx.Err() == nil && !apierrors.IsNotFound(err) {
				s.log.Warn("apiextensions: writing CRD status", "crd", crd.Name, "err", err)
				again = true
			}
			continue
		}
		crds[i] = out.(*apiextv1.CustomResourceDefinition)
	}
	if err := s.publishCRs(ctx, crds); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("apiextensions: serving custom resources", "err", err)
		}
		again = true
	}
	for _, crd := range crds {
		if crd.DeletionTimestamp != nil && slices.Contains(crd.Finalizers, apiextensions.CleanupFinalizer) {
			if done, err := s.finalizeCRD(ctx, crd); err != nil || !done {
				if err != nil && ctx.Err() == nil {
					s.log.Warn("apiextensions: deleting custom resources", "crd", crd.Name, "err", err)
				}
				again = true
			}
		}
	}
	return again
}

// publishCRs starts the caches of new CRDs, stops those of removed ones and publishes the served resources.
func (s *APIServer) publishCRs(ctx context.Context, crds []*apiextv1.CustomResourceDefinition) error {
	s.crd.mu.Lock()
	defer s.crd.mu.Unlock()
	want := map[string]*apiextv1.CustomResourceDefinition{}
	for _, crd := range crds {
		if apiextensions.IsConditionTrue(crd, apiextv1.Established) {
			want[crd.Name] = crd
		}
	}
	for name, st := range s.crd.stores {
		if crd, ok := want[name]; !ok || crd.UID != st.uid {
			st.stop()
			<-st.done
			delete(s.crd.stores, name)
		}
	}
	var firstErr error
	t := &crTable{byGVR: map[schema.GroupVersionResource]*resource{}}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		crd := want[name]
		st, ok := s.crd.stores[name]
		if !ok {
			st = s.startCRStore(ctx, crd)
			s.crd.stores[name] = st
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := st.cacher.WaitReady(wctx)
		cancel()
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: cache: %w", name, err)
			}
			continue
		}
		for _, res := range crResourcesOf(crd, st, s.newCRConverter(crd)) {
			if _, builtin := s.byGVR[res.GVR]; builtin {
				continue // a CRD may not shadow a built-in resource
			}
			t.byGVR[res.GVR] = res
			t.list = append(t.list, res)
		}
	}
	old := s.crs.Swap(t)
	if old == nil || !sameCRTable(old, t) {
		s.invalidateDiscovery()
		s.kickAPIServices()
		if s.cfg.CustomResourcesChanged != nil {
			s.cfg.CustomResourcesChanged(servedCRDs(want))
		}
	}
	return firstErr
}

func servedCRDs(m map[string]*apiextv1.CustomResourceDefinition) []*apiextv1.CustomResourceDefinition {
	out := make([]*apiextv1.CustomResourceDefinition, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sameCRTable reports whether two tables serve the same resources from the same CRD generations.
func sameCRTable(a, b *crTable) bool {
	if len(a.list) != len(b.list) {
		return false
	}
	for i := range a.list {
		x, y := a.list[i].cr, b.list[i].cr
		if a.list[i].GVR != b.list[i].GVR || x.crd.UID != y.crd.UID || x.crd.Generation != y.crd.Generation ||
			!equality.Semantic.DeepEqual(x.crd.Status.AcceptedNames, y.crd.Status.AcceptedNames) ||
			apiextensions.IsConditionTrue(x.crd, apiextv1.Terminating) != apiextensions.IsConditionTrue(y.crd, apiextv1.Terminating) {
			return false
		}
	}
	return true
}

// startCRStore starts the watch cache of crd's custom resources.
func (s *APIServer) startCRStore(ctx context.Context, crd *apiextv1.CustomResourceDefinition) *crStore {
	keys := storage.KeyFunc{GR: schema.GroupResource{Group: crd.Spec.Group, Resource: crd.Status.AcceptedNames.Plural}, Namespaced: crd.Spec.Scope == apiextv1.NamespaceScoped}
	c := storage.NewCacher(s.store, keys.Prefix(""), newUnstructured, s.log)
	cctx, cancel := context.WithCancel(ctx)
	st := &crStore{uid: crd.UID, keys: keys, cacher: c, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(st.done)
		_ = c.Run(cctx)
	}()
	return st
}

func newUnstructured() runtime.Object { return &unstructured.Unstructured{} }

// stopCRStores stops every custom resource cache (the server is stopping).
func (s *APIServer) stopCRStores() {
	s.crd.mu.Lock()
	defer s.crd.mu.Unlock()
	for name, st := range s.crd.stores {
		st.stop()
		<-st.done
		delete(s.crd.stores, name)
	}
}

// crResourcesOf returns the resources of crd's served versions, all backed by st.
func crResourcesOf(crd *apiextv1.CustomResourceDefinition, st *crStore, conv *crConverter) []*resource {
	names := crd.Status.AcceptedNames
	storageVersion, _ := apiextensions.StorageVersion(crd)
	terminating := apiextensions.IsConditionTrue(crd, apiextv1.Terminating)
	versions := slices.Clone(crd.Spec.Versions)
	sort.SliceStable(versions, func(i, j int) bool {
		return version.CompareKubeAwareVersionStrings(versions[i].Name, versions[j].Name) > 0
	})
	// Objects read from storage get the storage version's defaults, as kube-apiserver applies them on decoding.
	var storageDefaults *crschema.Schema
	if sv := apiextensions.FindVersion(crd, storageVersion); sv != nil && sv.Schema != nil && hasDefaults(sv.Schema.OpenAPIV3Schema) {
		storageDefaults = crschema.Compile(sv.Schema.OpenAPIV3Schema)
	}
	var out []*resource
	for _, v := range versions {
		if !v.Served {
			continue
		}
		gv := schema.GroupVersion{Group: crd.Spec.Group, Version: v.Name}
		storeGV := schema.GroupVersion{Group: crd.Spec.Group, Version: storageVersion}
		kind := names.Kind
		info := &crInfo{crd: crd, version: v.Name, terminating: terminating, gv: gv, storeGV: storeGV, conv: conv, storageDefaults: storageDefaults}
		if v.Schema != nil {
			info.schema = crschema.Compile(v.Schema.OpenAPIV3Schema)
		}
		if v.Subresources != nil {
			info.status = v.Subresources.Status != nil
			info.scale = v.Subresources.Scale
		}
		info.columns = v.AdditionalPrinterColumns
		info.selectableFields = v.SelectableFields
		r := &registry.Resource{
			GVR:        gv.WithResource(names.Plural),
			Kind:       kind,
			Singular:   names.Singular,
			Namespaced: crd.Spec.Scope == apiextv1.NamespaceScoped,
			ShortNames: names.ShortNames,
			Categories: names.Categories,
			New: func() runtime.Object {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(gv.WithKind(kind))
				return u
			},
			NewList: func() runtime.Object {
				l := &unstructured.UnstructuredList{}
				l.SetGroupVersionKind(gv.WithKind(names.ListKind))
				return l
			},
			Status:     info.status,
			Scale:      info.scale != nil,
			Generation: true,
			Fields:     info.fieldSet,
		}
		out = append(out, &resource{Resource: r, keys: st.keys, cacher: st.cacher, storeNew: newUnstructured, view: true, cr: info})
	}
	return out
}

// hasDefaults reports whether a schema sets a default anywhere.
func hasDefaults(p *apiextv1.JSONSchemaProps) bool {
	if p == nil {
		return false
	}
	if p.Default != nil {
		return true
	}
	for _, c := range p.Properties {
		if hasDefaults(&c) {
			return true
		}
	}
	if p.Items != nil && (hasDefaults(p.Items.Schema) || slices.ContainsFunc(p.Items.JSONSchemas, func(c apiextv1.JSONSchemaProps) bool { return hasDefaults(&c) })) {
		return true
	}
	if p.AdditionalProperties != nil && hasDefaults(p.AdditionalProperties.Schema) {
		return true
	}
	for _, list := range [][]apiextv1.JSONSchemaProps{p.AllOf, p.AnyOf, p.OneOf} {
		if slices.ContainsFunc(list, func(c apiextv1.JSONSchemaProps) bool { return hasDefaults(&c) }) {
			return true
		}
	}
	return false
}

// markCRDDeleting is the first step of deleting a CRD, as kube-apiserver's CRD storage does it: set the
// deletionTimestamp, add the cleanup finalizer and the Terminating condition. The generic delete follows.
func (s *APIServer) markCRDDeleting(ctx context.Context, res *resource, name string, opts *metav1.DeleteOptions) error {
	cur, err := s.store.Get(ctx, res.keys.Key("", name), res.New)
	if err != nil {
		return toAPIError(err, res.GroupResource(), name)
	}
	crd := cur.(*apiextv1.CustomResourceDefinition)
	if crd.DeletionTimestamp != nil {
		return nil
	}
	if p := opts.Preconditions; p != nil && p.UID != nil && *p.UID != crd.UID {
		return apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, crd.UID))
	}
	dry := len(opts.DryRun) > 0
	_, err = s.updateObject(ctx, res, "", name, "delete", writeOptions{manager: crdManager, dryRun: dry, skipFields: true}, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*apiextv1.CustomResourceDefinition)
		if c.DeletionTimestamp == nil {
			now := metav1.NewTime(s.clock.Now().Truncate(time.Second))
			c.DeletionTimestamp = &now
			zero := int64(0)
			c.DeletionGracePeriodSeconds = &zero
		}
		if !slices.Contains(c.Finalizers, apiextensions.CleanupFinalizer) {
			c.Finalizers = append(c.Finalizers, apiextensions.CleanupFinalizer)
		}
		apiextensions.SetCondition(&c.Status, apiextv1.CustomResourceDefinitionCondition{
			Type: apiextv1.Terminating, Status: apiextv1.ConditionTrue, Reason: "InstanceDeletionPending",
			Message:            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
			LastTransitionTime: metav1.NewTime(s.clock.Now().Truncate(time.Second)),
		})
		return c, nil
	})
	if err == nil && !dry {
		s.kickCRDs()
	}
	return err
}

// finalizeCRD deletes the custom resources of a CRD being deleted; done means none is left and the finalizer
// was removed.
func (s *APIServer) finalizeCRD(ctx context.Context, crd *apiextv1.CustomResourceDefinition) (done bool, err error) {
	crdRes := s.byGVR[crdGVR]
	keys := storage.KeyFunc{GR: schema.GroupResource{Group: crd.Spec.Group, Resource: crd.Status.AcceptedNames.Plural}, Namespaced: crd.Spec.Scope == apiextv1.NamespaceScoped}
	if crd.Status.AcceptedNames.Plural == "" {
		keys.GR.Resource = crd.Spec.Names.Plural
	}
	var res *resource
	for _, r := range s.crResources().list {
		if r.cr.crd.UID == crd.UID {
			res = r
			break
		}
	}
	remaining := 0
	if res != nil {
		objs, err := s.store.List(ctx, keys.Prefix(""), storage.ListOptions{}, newUnstructured)
		if err != nil {
			return false, err
		}
		for _, o := range objs.Items {
			m := accessor(o)
			if m.GetDeletionTimestamp() == nil {
				if _, err := s.deleteObject(ctx, res, m.GetNamespace(), m.GetName(), &metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return false, err
				}
			}
		}
		left, err := s.store.Count(ctx, keys.Prefix(""))
		if err != nil {
			return false, err
		}
		remaining = int(left)
	} else if n, err := s.store.Count(ctx, keys.Prefix("")); err != nil {
		return false, err
	} else if n > 0 {
		// Not served (never established): nothing can hold a finalizer through the API; remove what is stored.
		if _, err := s.store.Client().Delete(ctx, keys.Prefix(""), clientv3.WithPrefix()); err != nil {
			return false, err
		}
	}
	reason, msg := "InstanceDeletionInProgress", "CustomResource deletion is in progress"
	if remaining == 0 {
		reason, msg = "InstanceDeletionCompleted", "removed all instances"
	}
	_, err = s.updateObject(ctx, crdRes, "", crd.Name, "status", writeOptions{manager: crdManager}, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*apiextv1.CustomResourceDefinition)
		apiextensions.SetCondition(&c.Status, apiextv1.CustomResourceDefinitionCondition{
			Type: apiextv1.Terminating, Status: apiextv1.ConditionTrue, Reason: reason, Message: msg,
			LastTransitionTime: metav1.NewTime(s.clock.Now().Truncate(time.Second)),
		})
		return c, nil
	})
	if err != nil {
		return false, err
	}
	if remaining > 0 {
		return false, nil
	}
	_, err = s.updateObject(ctx, crdRes, "", crd.Name, "", writeOptions{manager: crdManager, skipFields: true}, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*apiextv1.CustomResourceDefinition)
		c.Finalizers = slices.DeleteFunc(c.Finalizers, func(f string) bool { return f == apiextensions.CleanupFinalizer })
		return c, nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	return true, nil
}
