package apiserver

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-sh/skiff/internal/storage"

	"github.com/skiff-sh/skiff/internal/flowcontrol"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// apfConfigManager is the field manager kube-apiserver's configuration producer writes the bootstrap objects with.
const apfConfigManager = "api-priority-and-fairness-config-producer-v1"

// bootstrapFlowControl makes the stored FlowSchemas and PriorityLevelConfigurations match kube-apiserver's mandatory
// and suggested configuration, as its ensurer does at start: missing objects are created, auto-updated ones revised,
// retired ones deleted. skiff stores these objects and serves them; it does not queue requests by them.
func (s *APIServer) bootstrapFlowControl(ctx context.Context) error {
	mfs, mpl := flowcontrol.Mandatory()
	sfs, spl := flowcontrol.Suggested()
	fsRes := s.byGVR[flowcontrolv1.SchemeGroupVersion.WithResource("flowschemas")]
	plRes := s.byGVR[flowcontrolv1.SchemeGroupVersion.WithResource("prioritylevelconfigurations")]
	var plNames, fsNames []string
	for _, group := range []struct {
		levels    []*flowcontrolv1.PriorityLevelConfiguration
		mandatory bool
	}{{mpl, true}, {spl, false}} {
		for _, pl := range group.levels {
			plNames = append(plNames, pl.Name)
			err := s.ensureBootstrapObject(ctx, plRes, pl, func(cur runtime.Object) runtime.Object {
				if r := flowcontrol.RevisePriorityLevel(cur.(*flowcontrolv1.PriorityLevelConfiguration), pl, group.mandatory); r != nil {
					return r
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("priority level %s: %w", pl.Name, err)
			}
		}
	}
	for _, group := range []struct {
		schemas   []*flowcontrolv1.FlowSchema
		mandatory bool
	}{{mfs, true}, {sfs, false}} {
		for _, fs := range group.schemas {
			fsNames = append(fsNames, fs.Name)
			err := s.ensureBootstrapObject(ctx, fsRes, fs, func(cur runtime.Object) runtime.Object {
				if r := flowcontrol.ReviseFlowSchema(cur.(*flowcontrolv1.FlowSchema), fs, group.mandatory); r != nil {
					return r
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("flow schema %s: %w", fs.Name, err)
			}
		}
	}
	for _, kind := range []struct {
		res   *resource
		names []string
	}{{fsRes, fsNames}, {plRes, plNames}} {
		objs, _ := kind.res.cacher.List(kind.res.keys.Prefix(""), nil)
		for _, o := range objs {
			if m := accessor(o); flowcontrol.Unwanted(m, kind.names) {
				if _, err := s.deleteObject(ctx, kind.res, "", m.GetName(), &metav1.DeleteOptions{}); err != nil && !isNotFound(err) {
					return fmt.Errorf("retired %s %s: %w", kind.res.Kind, m.GetName(), err)
				}
			}
		}
	}
	return nil
}

// ensureBootstrapObject creates obj when it is missing, otherwise writes what revise returns for the stored one (nil: nothing).
func (s *APIServer) ensureBootstrapObject(ctx context.Context, res *resource, obj runtime.Object, revise func(cur runtime.Object) runtime.Object) error {
	wo := writeOptions{manager: apfConfigManager}
	name := accessor(obj).GetName()
	cur, err := s.store.Get(ctx, res.keys.Key("", name), res.New)
	if err != nil {
		if !isNotFound(err) {
			return err
		}
		if _, err := s.createObject(ctx, res, "", obj.DeepCopyObject(), wo, true); err != nil && !isAlreadyExists(err) {
			return err
		}
		return nil
	}
	next := revise(cur)
	if next == nil {
		return nil
	}
	_, err = s.updateObject(ctx, res, "", name, "", wo, func(runtime.Object) (runtime.Object, error) { return next, nil })
	return err
}

// runFlowSchemaStatus keeps every FlowSchema's Dangling condition (does its priority level exist?) as kube-apiserver's
// APF configuration controller does, until ctx ends. It wakes on changes to either kind.
func (s *APIServer) runFlowSchemaStatus(ctx context.Context) {
	fsRes := s.byGVR[flowcontrolv1.SchemeGroupVersion.WithResource("flowschemas")]
	plRes := s.byGVR[flowcontrolv1.SchemeGroupVersion.WithResource("prioritylevelconfigurations")]
	var watchers []*storage.CacheWatcher
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()
	for _, r := range []*resource{fsRes, plRes} {
		if err := r.cacher.WaitReady(ctx); err != nil {
			return
		}
		w, err := r.cacher.Watch(ctx, storage.WatchOptions{Revision: r.cacher.Revision()})
		if err != nil {
			return
		}
		watchers = append(watchers, w)
	}
	for {
		again := s.syncFlowSchemaStatus(ctx, fsRes, plRes)
		var after <-chan time.Time
		if again {
			after = s.clock.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-watchers[0].Signal():
			watchers[0].Next()
		case <-watchers[1].Signal():
			watchers[1].Next()
		case <-watchers[0].Done():
			return // the cache relisted; the next server start resumes
		case <-watchers[1].Done():
			return
		case <-after:
		}
	}
}

// syncFlowSchemaStatus writes the Dangling conditions that changed; true means a write failed.
func (s *APIServer) syncFlowSchemaStatus(ctx context.Context, fsRes, plRes *resource) bool {
	plObjs, _ := plRes.cacher.List(plRes.keys.Prefix(""), nil)
	levels := make([]*flowcontrolv1.PriorityLevelConfiguration, 0, len(plObjs))
	for _, o := range plObjs {
		levels = append(levels, o.(*flowcontrolv1.PriorityLevelConfiguration))
	}
	fsObjs, _ := fsRes.cacher.List(fsRes.keys.Prefix(""), nil)
	failed := false
	for _, o := range fsObjs {
		fs := o.(*flowcontrolv1.FlowSchema)
		if _, changed := flowcontrol.Dangling(fs, levels, s.clock.Now().Truncate(time.Second)); !changed {
			continue
		}
		_, err := s.updateObject(ctx, fsRes, "", fs.Name, "status", writeOptions{manager: apfConfigManager}, func(cur runtime.Object) (runtime.Object, error) {
			c := cur.(*flowcontrolv1.FlowSchema)
			if cond, changed := flowcontrol.Dangling(c, levels, s.clock.Now().Truncate(time.Second)); changed {
				flowcontrol.SetFlowSchemaCondition(c, cond)
			}
			return c, nil
		})
		if err != nil && !isNotFound(err) {
			failed = true
		}
	}
	return failed
}
