package apiserver

import (
	"context"
	"sort"
	"time"

	"github.com/skiff-sh/skiff/internal/storage"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// APIServices (apiregistration.k8s.io/v1), as kube-apiserver's aggregator keeps them: every group version the server
// serves itself has a local APIService (built-ins labelled automanaged=onstart, CRD group versions automanaged=true,
// removed with their CRD), and a status controller marks local ones Available. skiff does not proxy to aggregated API
// servers: an APIService naming a Service is kept with Available=False.

var apiServicesGVR = apiregistrationv1.SchemeGroupVersion.WithResource("apiservices")

const (
	autoManagedLabel = "kube-aggregator.kubernetes.io/automanaged"
	apiServiceMgr    = "kube-apiserver"
)

// apiServicePriorities are kube-apiserver's group and version priorities of the built-in group versions.
var apiServicePriorities = map[schema.GroupVersion][2]int32{
	{Group: "", Version: "v1"}:                             {18000, 1},
	{Group: "events.k8s.io", Version: "v1"}:                {17750, 15},
	{Group: "authentication.k8s.io", Version: "v1"}:        {17700, 15},
	{Group: "authorization.k8s.io", Version: "v1"}:         {17600, 15},
	{Group: "certificates.k8s.io", Version: "v1"}:          {17300, 15},
	{Group: "rbac.authorization.k8s.io", Version: "v1"}:    {17000, 15},
	{Group: "apiextensions.k8s.io", Version: "v1"}:         {16700, 15},
	{Group: "admissionregistration.k8s.io", Version: "v1"}: {16700, 15},
	{Group: "coordination.k8s.io", Version: "v1"}:          {16500, 15},
	{Group: "discovery.k8s.io", Version: "v1"}:             {16200, 15},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1"}: {16100, 21},
	{Group: "apps", Version: "v1"}:                         {17800, 15},
	{Group: "autoscaling", Version: "v1"}:                  {17500, 15},
	{Group: "autoscaling", Version: "v2"}:                  {17500, 30},
	{Group: "batch", Version: "v1"}:                        {17400, 15},
	{Group: "networking.k8s.io", Version: "v1"}:            {17200, 15},
	{Group: "policy", Version: "v1"}:                       {17100, 15},
	{Group: "storage.k8s.io", Version: "v1"}:               {16800, 15},
	{Group: "scheduling.k8s.io", Version: "v1"}:            {16600, 15},
	{Group: "node.k8s.io", Version: "v1"}:                  {16300, 15},
	{Group: "apiregistration.k8s.io", Version: "v1"}:       {18000, 15},
	{Group: "metrics.k8s.io", Version: "v1beta1"}:          {100, 100},
}

// localAPIServices returns the APIServices the server's own group versions need, with their automanaged label.
func (s *APIServer) localAPIServices() map[string]*apiregistrationv1.APIService {
	out := map[string]*apiregistrationv1.APIService{}
	add := func(gv schema.GroupVersion, group, version int32, managed string) {
		name := gv.Version + "." + gv.Group
		if _, ok := out[name]; ok {
			return
		}
		out[name] = &apiregistrationv1.APIService{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{autoManagedLabel: managed}},
			Spec:       apiregistrationv1.APIServiceSpec{Group: gv.Group, Version: gv.Version, GroupPriorityMinimum: group, VersionPriority: version},
		}
	}
	for _, r := range s.resources {
		gv := r.GVR.GroupVersion()
		p, ok := apiServicePriorities[gv]
		if !ok {
			p = [2]int32{1000, 15}
		}
		add(gv, p[0], p[1], "onstart")
	}
	for _, e := range s.extraGroups {
		gv := schema.GroupVersion{Group: e.Group, Version: e.Version}
		p, ok := apiServicePriorities[gv]
		if !ok {
			p = [2]int32{1000, 15}
		}
		add(gv, p[0], p[1], "onstart")
	}
	// As upstream's CRD registration controller: CRD group versions get low, fixed priorities.
	for _, r := range s.crResources().list {
		add(r.GVR.GroupVersion(), 1000, 100, "true")
	}
	return out
}

// runAPIServices keeps the local APIServices and every APIService's Available condition until ctx ends.
func (s *APIServer) runAPIServices(ctx context.Context) {
	res := s.byGVR[apiServicesGVR]
	if err := res.cacher.WaitReady(ctx); err != nil {
		return
	}
	w, err := res.cacher.Watch(ctx, storage.WatchOptions{Revision: res.cacher.Revision()})
	if err != nil {
		return
	}
	defer func() { w.Stop() }()
	for {
		again := s.syncAPIServices(ctx)
		var after <-chan time.Time
		if again {
			after = s.clock.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.Done():
			if w, err = res.cacher.Watch(ctx, storage.WatchOptions{Revision: res.cacher.Revision()}); err != nil {
				return
			}
		case <-w.Signal():
			w.Next()
		case <-s.apiServicesKick:
		case <-after:
		}
	}
}

// kickAPIServices asks the APIService loop to look again (the custom resources served changed).
func (s *APIServer) kickAPIServices() {
	select {
	case s.apiServicesKick <- struct{}{}:
	default:
	}
}

// syncAPIServices does one pass; true means a write failed and the pass should be retried.
func (s *APIServer) syncAPIServices(ctx context.Context) bool {
	res := s.byGVR[apiServicesGVR]
	want := s.localAPIServices()
	objs, _ := res.cacher.List(res.keys.Prefix(""), nil)
	have := map[string]*apiregistrationv1.APIService{}
	for _, o := range objs {
		a := o.(*apiregistrationv1.APIService)
		have[a.Name] = a
	}
	wo := writeOptions{manager: apiServiceMgr}
	failed := false
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		desired := want[name]
		cur, ok := have[name]
		switch {
		case !ok:
			if _, err := s.createObject(ctx, res, "", desired, wo, true); err != nil && !isAlreadyExists(err) {
				failed = true
			}
		case cur.Spec.Service != nil:
			// A user's APIService claims the group version: it is theirs (and unavailable, below).
		case cur.Labels[autoManagedLabel] != desired.Labels[autoManagedLabel] || !equality.Semantic.DeepEqual(cur.Spec, desired.Spec):
			_, err := s.updateObject(ctx, res, "", name, "", wo, func(obj runtime.Object) (runtime.Object, error) {
				a := obj.(*apiregistrationv1.APIService)
				if a.Labels == nil {
					a.Labels = map[string]string{}
				}
				a.Labels[autoManagedLabel] = desired.Labels[autoManagedLabel]
				a.Spec = desired.Spec
				return a, nil
			})
			if err != nil && !isNotFound(err) {
				failed = true
			}
		}
	}
	for name, a := range have {
		if _, ok := want[name]; !ok && a.Labels[autoManagedLabel] == "true" && a.Spec.Service == nil {
			if _, err := s.deleteObject(ctx, res, "", name, &metav1.DeleteOptions{}); err != nil && !isNotFound(err) {
				failed = true
			}
		}
	}
	for _, a := range have {
		cond := availableCondition(a)
		if old := findAPIServiceCondition(a); old != nil && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message {
			continue
		}
		_, err := s.updateObject(ctx, res, "", a.Name, "status", wo, func(obj runtime.Object) (runtime.Object, error) {
			c := obj.(*apiregistrationv1.APIService)
			cond.LastTransitionTime = metav1.NewTime(s.clock.Now().Truncate(time.Second))
			if old := findAPIServiceCondition(c); old != nil {
				if old.Status == cond.Status {
					cond.LastTransitionTime = old.LastTransitionTime
				}
				*old = cond
			} else {
				c.Status.Conditions = append(c.Status.Conditions, cond)
			}
			return c, nil
		})
		if err != nil && !isNotFound(err) {
			failed = true
		}
	}
	return failed
}

// availableCondition is what the aggregator's availability controller would say of a: local ones are available;
// skiff does not proxy to a Service.
func availableCondition(a *apiregistrationv1.APIService) apiregistrationv1.APIServiceCondition {
	if a.Spec.Service == nil {
		return apiregistrationv1.APIServiceCondition{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionTrue,
			Reason: "Local", Message: "Local APIServices are always available"}
	}
	return apiregistrationv1.APIServiceCondition{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionFalse,
		Reason: "ServiceNotProxied", Message: "skiff does not proxy requests to aggregated API servers"}
}

func findAPIServiceCondition(a *apiregistrationv1.APIService) *apiregistrationv1.APIServiceCondition {
	for i := range a.Status.Conditions {
		if a.Status.Conditions[i].Type == apiregistrationv1.Available {
			return &a.Status.Conditions[i]
		}
	}
	return nil
}
