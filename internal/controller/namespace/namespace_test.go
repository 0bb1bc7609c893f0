package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/metadata/metadatainformer"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

var (
	now           = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	configmapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// resources is what the fake server's discovery returns.
var resources = []*metav1.APIResourceList{
	{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
		{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: metav1.Verbs{"create"}},
		{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get", "patch", "update"}},
	}},
	{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", Namespaced: true, Kind: "Widget", Verbs: metav1.Verbs{"delete", "get", "list"}},
	}},
}

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	metadata *metadatafake.FakeMetadataClient
	c        *Controller
	// seeds are the metadata objects, so the deletecollection reactor knows what to delete.
	seeds        []*metav1.PartialObjectMetadata
	discoveryErr error
	indexer      cache.Indexer
}

func newFixture(t *testing.T, ns *corev1.Namespace, objs ...*metav1.PartialObjectMetadata) *fixture {
	t.Helper()
	f := &fixture{t: t, seeds: objs}
	var kobjs []runtime.Object
	if ns != nil {
		kobjs = append(kobjs, ns)
	}
	f.client = fake.NewClientset(kobjs...)
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var mobjs []runtime.Object
	for _, o := range objs {
		mobjs = append(mobjs, o)
	}
	f.metadata = metadatafake.NewSimpleMetadataClient(scheme, mobjs...)
	f.metadata.PrependReactor("delete-collection", "*", f.deleteCollection)
	cc := controller.Context{
		Client:            f.client,
		Metadata:          f.metadata,
		Informers:         informers.NewSharedInformerFactory(f.client, 0),
		MetadataInformers: metadatainformer.NewSharedInformerFactory(f.metadata, 0),
		Clock:             clock.NewFake(now),
		Log:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	c, err := newController(cc)
	if err != nil {
		t.Fatal(err)
	}
	c.discover = func() ([]*metav1.APIResourceList, error) { return resources, f.discoveryErr }
	f.indexer = cc.Informers.Core().V1().Namespaces().Informer().GetIndexer()
	if ns != nil {
		if err := f.indexer.Add(ns); err != nil {
			t.Fatal(err)
		}
	}
	f.c = c
	f.client.ClearActions()
	return f
}

// deleteCollection deletes the seeded objects of the collection, or marks those with finalizers as deleting.
func (f *fixture) deleteCollection(a core.Action) (bool, runtime.Object, error) {
	gvr, ns := a.GetResource(), a.GetNamespace()
	tracker := f.metadata.Tracker()
	for _, o := range f.seeds {
		if o.Namespace != ns || meta2gvr(o) != gvr {
			continue
		}
		if len(o.Finalizers) > 0 {
			o = o.DeepCopy()
			ts := metav1.NewTime(now)
			o.DeletionTimestamp = &ts
			if err := tracker.Update(gvr, o, ns); err != nil {
				return true, nil, err
			}
			continue
		}
		if err := tracker.Delete(gvr, ns, o.Name); err != nil {
			return true, nil, err
		}
	}
	return true, nil, nil
}

func meta2gvr(o *metav1.PartialObjectMetadata) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	return gv.WithResource(strings.ToLower(o.Kind) + "s")
}

func object(apiVersion, kind, ns, name string, finalizers ...string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers},
	}
}

func terminating(name string) *corev1.Namespace {
	ts := metav1.NewTime(now.Add(-time.Second))
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, DeletionTimestamp: &ts, ResourceVersion: "7"},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
}

// verbs lists "verb resource[/subresource]" of the recorded actions.
func verbs(actions []core.Action) []string {
	var out []string
	for _, a := range actions {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		out = append(out, s)
	}
	return out
}

func equal(a, b []string) bool {
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

func condition(ns *corev1.Namespace, t corev1.NamespaceConditionType) corev1.NamespaceCondition {
	for _, c := range ns.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.NamespaceCondition{}
}

func TestSyncIgnoresActiveAndMissingNamespaces(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"},
		Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}}}
	f := newFixture(t, active, object("v1", "ConfigMap", "a", "cm"))
	for _, name := range []string{"a", "missing"} {
		res, err := f.c.sync(context.Background(), name)
		if err != nil || res != (controller.Result{}) {
			t.Fatalf("sync(%s) = %v, %v; want zero, nil", name, res, err)
		}
	}
	if got := len(f.client.Actions()) + len(f.metadata.Actions()); got != 0 {
		t.Fatalf("actions = %v %v, want none", verbs(f.client.Actions()), verbs(f.metadata.Actions()))
	}
}

func TestSyncLeavesNamespaceWithoutKubernetesFinalizer(t *testing.T) {
	ns := terminating("x")
	ns.Spec.Finalizers = nil
	f := newFixture(t, ns)
	if _, err := f.c.sync(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if got := len(f.client.Actions()) + len(f.metadata.Actions()); got != 0 {
		t.Fatalf("actions = %v %v, want none", verbs(f.client.Actions()), verbs(f.metadata.Actions()))
	}
}

func TestSyncDeletesContentAndFinalizes(t *testing.T) {
	f := newFixture(t, terminating("x"),
		object("v1", "ConfigMap", "x", "a"), object("v1", "ConfigMap", "x", "b"),
		object("v1", "ConfigMap", "other", "keep"),
		object("example.com/v1", "Widget", "x", "w"))
	res, err := f.c.sync(context.Background(), "x")
	if err != nil || res != (controller.Result{}) {
		t.Fatalf("sync = %v, %v; want zero, nil", res, err)
	}
	// configmaps support deletecollection; widgets do not, so they are listed and deleted one by one.
	if got, want := verbs(f.metadata.Actions()), []string{
		"delete-collection configmaps", "list configmaps",
		"list widgets", "delete widgets", "list widgets",
	}; !equal(got, want) {
		t.Fatalf("metadata actions = %v, want %v", got, want)
	}
	for _, a := range f.metadata.Actions() {
		if d, ok := a.(core.DeleteActionImpl); ok {
			if p := d.DeleteOptions.PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
				t.Errorf("%s: propagationPolicy = %v, want Background", verbs([]core.Action{a}), p)
			}
		}
	}
	if _, err := f.metadata.Tracker().Get(configmapsGVR, "other", "keep"); err != nil {
		t.Errorf("configmap in another namespace: %v", err)
	}
	// The fake clientset records Finalize (a PUT on the real client) as a create of the subresource.
	if got, want := verbs(f.client.Actions()), []string{"update namespaces/status", "create namespaces/finalize"}; !equal(got, want) {
		t.Fatalf("client actions = %v, want %v", got, want)
	}
	status := f.client.Actions()[0].(core.UpdateAction).GetObject().(*corev1.Namespace)
	for typ, want := range map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "False/ResourcesDiscovered",
		corev1.NamespaceDeletionGVParsingFailure: "False/ParsedGroupVersions",
		corev1.NamespaceDeletionContentFailure:   "False/ContentDeleted",
		corev1.NamespaceContentRemaining:         "False/ContentRemoved",
		corev1.NamespaceFinalizersRemaining:      "False/ContentHasNoFinalizers",
	} {
		c := condition(status, typ)
		if got := string(c.Status) + "/" + c.Reason; got != want {
			t.Errorf("condition %s = %s, want %s", typ, got, want)
		}
		if !c.LastTransitionTime.Time.Equal(now) {
			t.Errorf("condition %s lastTransitionTime = %v, want the injected clock's %v", typ, c.LastTransitionTime, now)
		}
	}
	fin := f.client.Actions()[1].(core.CreateAction).GetObject().(*corev1.Namespace)
	if len(fin.Spec.Finalizers) != 0 {
		t.Errorf("finalize sent spec.finalizers %v, want none", fin.Spec.Finalizers)
	}
}

func TestSyncWaitsForRemainingContent(t *testing.T) {
	f := newFixture(t, terminating("x"),
		object("v1", "ConfigMap", "x", "held", "example.com/hold"),
		object("v1", "ConfigMap", "x", "gone"))
	res, err := f.c.sync(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != time.Second {
		t.Errorf("RequeueAfter = %v, want 1s", res.RequeueAfter)
	}
	if got, want := verbs(f.client.Actions()), []string{"update namespaces/status"}; !equal(got, want) {
		t.Fatalf("client actions = %v, want %v (no finalize while content remains)", got, want)
	}
	status := f.client.Actions()[0].(core.UpdateAction).GetObject().(*corev1.Namespace)
	if c := condition(status, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionTrue || c.Reason != "SomeResourcesRemain" ||
		c.Message != "Some resources are remaining: configmaps. has 1 resource instances" {
		t.Errorf("NamespaceContentRemaining = %+v", c)
	}
	if c := condition(status, corev1.NamespaceFinalizersRemaining); c.Status != corev1.ConditionTrue ||
		c.Message != "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances" {
		t.Errorf("NamespaceFinalizersRemaining = %+v", c)
	}

	// Once the cache has caught up, a second sync with unchanged conditions does not write the status again.
	if err := f.indexer.Update(status); err != nil {
		t.Fatal(err)
	}
	f.client.ClearActions()
	if _, err := f.c.sync(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if got := verbs(f.client.Actions()); len(got) != 0 {
		t.Fatalf("client actions = %v, want none", got)
	}
}

func TestSyncRecordsDiscoveryFailureAndRetries(t *testing.T) {
	f := newFixture(t, terminating("x"), object("v1", "ConfigMap", "x", "a"))
	f.discoveryErr = &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{
		{Group: "broken.example.com", Version: "v1"}: errors.New("unavailable"),
	}}
	if _, err := f.c.sync(context.Background(), "x"); err == nil {
		t.Fatal("sync succeeded, want an error so the namespace is retried")
	}
	// What was discovered is still emptied, but the namespace is not finalized.
	if _, err := f.metadata.Tracker().Get(configmapsGVR, "x", "a"); err == nil {
		t.Error("configmap x/a still exists")
	}
	if got, want := verbs(f.client.Actions()), []string{"update namespaces/status"}; !equal(got, want) {
		t.Fatalf("client actions = %v, want %v", got, want)
	}
	status := f.client.Actions()[0].(core.UpdateAction).GetObject().(*corev1.Namespace)
	if c := condition(status, corev1.NamespaceDeletionDiscoveryFailure); c.Status != corev1.ConditionTrue || c.Reason != "DiscoveryFailed" {
		t.Errorf("NamespaceDeletionDiscoveryFailure = %+v", c)
	}
}

func TestConditionsRemainingMessages(t *testing.T) {
	for _, tc := range []struct {
		name       string
		remaining  map[schema.GroupResource]int
		finalizers map[string]int
		content    string
		finalizer  string
	}{
		{
			name:      "core resources keep upstream's empty group after the dot",
			remaining: map[schema.GroupResource]int{{Resource: "configmaps"}: 1, {Resource: "pods"}: 3},
			content:   "Some resources are remaining: configmaps. has 1 resource instances, pods. has 3 resource instances",
			finalizer: "All content-preserving finalizers finished",
		},
		{
			name:       "grouped resources and finalizers, sorted",
			remaining:  map[schema.GroupResource]int{{Group: "apps", Resource: "replicasets"}: 2, {Group: "batch", Resource: "jobs"}: 1},
			finalizers: map[string]int{"example.com/b": 1, "example.com/a": 2},
			content:    "Some resources are remaining: jobs.batch has 1 resource instances, replicasets.apps has 2 resource instances",
			finalizer:  "Some content in the namespace has finalizers remaining: example.com/a in 2 resource instances, example.com/b in 1 resource instances",
		},
		{
			name:      "nothing left",
			content:   "All content successfully removed",
			finalizer: "All content-preserving finalizers finished",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &contentResult{remainingByResource: tc.remaining, finalizers: tc.finalizers}
			if res.remainingByResource == nil {
				res.remainingByResource = map[schema.GroupResource]int{}
			}
			if res.finalizers == nil {
				res.finalizers = map[string]int{}
			}
			got := map[corev1.NamespaceConditionType]string{}
			for _, c := range conditions(nil, res) {
				got[c.Type] = c.Message
			}
			if got[corev1.NamespaceContentRemaining] != tc.content {
				t.Errorf("NamespaceContentRemaining message %q, want %q", got[corev1.NamespaceContentRemaining], tc.content)
			}
			if got[corev1.NamespaceFinalizersRemaining] != tc.finalizer {
				t.Errorf("NamespaceFinalizersRemaining message %q, want %q", got[corev1.NamespaceFinalizersRemaining], tc.finalizer)
			}
		})
	}
}

func TestDeletionTargetsPutPodsFirst(t *testing.T) {
	all := metav1.Verbs{"delete", "deletecollection", "list"}
	lists := []*metav1.APIResourceList{
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments", Namespaced: true, Verbs: all}}},
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Namespaced: true, Verbs: all},
			{Name: "pods", Namespaced: true, Verbs: all},
			{Name: "pods/log", Namespaced: true, Verbs: metav1.Verbs{"get"}},
			{Name: "nodes", Verbs: all},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Verbs: metav1.Verbs{"delete", "list"}},
		}},
	}
	var got []string
	for _, tg := range deletionTargets(lists) {
		got = append(got, fmt.Sprintf("%s collection=%v", tg.gvr.GroupResource(), tg.collection))
	}
	want := []string{"pods collection=true", "deployments.apps collection=true", "configmaps collection=true", "pods.example.com collection=false"}
	if !equal(got, want) {
		t.Fatalf("deletionTargets = %v, want %v", got, want)
	}
}

// TestSyncDeletesPodsFirst is upstream's OrderedNamespaceDeletion: while a pod remains (here held by a finalizer),
// no other resource is deleted; once the pods are gone, the rest goes and the namespace is finalized.
func TestSyncDeletesPodsFirst(t *testing.T) {
	pod := object("v1", "Pod", "x", "p", "example.com/hold")
	f := newFixture(t, terminating("x"), pod, object("v1", "ConfigMap", "x", "cm"))
	withPods := append([]*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "watch"}},
	}}}, resources...)
	f.c.discover = func() ([]*metav1.APIResourceList, error) { return withPods, nil }

	res, err := f.c.sync(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := verbs(f.metadata.Actions()), []string{"delete-collection pods", "list pods"}; !equal(got, want) {
		t.Fatalf("metadata actions = %v, want %v (nothing but pods while a pod remains)", got, want)
	}
	if _, err := f.metadata.Tracker().Get(configmapsGVR, "x", "cm"); err != nil {
		t.Fatalf("configmap deleted while a pod remains: %v", err)
	}
	if res.RequeueAfter != time.Second {
		t.Errorf("RequeueAfter = %v, want 1s", res.RequeueAfter)
	}
	if got, want := verbs(f.client.Actions()), []string{"update namespaces/status"}; !equal(got, want) {
		t.Fatalf("client actions = %v, want %v", got, want)
	}
	status := f.client.Actions()[0].(core.UpdateAction).GetObject().(*corev1.Namespace)
	if c := condition(status, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionFalse || c.Reason != "ContentDeleted" {
		t.Errorf("NamespaceDeletionContentFailure = %+v", c)
	}
	if c := condition(status, corev1.NamespaceContentRemaining); c.Message != "Some resources are remaining: pods. has 1 resource instances" {
		t.Errorf("NamespaceContentRemaining = %+v", c)
	}

	// The finalizer is removed and the pod goes: the next sync deletes the rest and finalizes.
	if err := f.metadata.Tracker().Delete(schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "x", "p"); err != nil {
		t.Fatal(err)
	}
	f.seeds = f.seeds[1:]
	if err := f.indexer.Update(status); err != nil {
		t.Fatal(err)
	}
	f.metadata.ClearActions()
	f.client.ClearActions()
	if res, err := f.c.sync(context.Background(), "x"); err != nil || res != (controller.Result{}) {
		t.Fatalf("sync = %v, %v; want zero, nil", res, err)
	}
	if got, want := verbs(f.metadata.Actions()), []string{
		"delete-collection pods", "list pods", "delete-collection configmaps", "list configmaps", "list widgets", "list widgets",
	}; !equal(got, want) {
		t.Fatalf("metadata actions = %v, want %v", got, want)
	}
	if _, err := f.metadata.Tracker().Get(configmapsGVR, "x", "cm"); err == nil {
		t.Error("configmap x/cm still exists")
	}
	if got, want := verbs(f.client.Actions()), []string{"update namespaces/status", "create namespaces/finalize"}; !equal(got, want) {
		t.Fatalf("client actions = %v, want %v", got, want)
	}
}
