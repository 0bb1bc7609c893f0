package apiserver

import (
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// fieldManager returns the managed-fields tracker for res and a subresource ("" or "status"; other writes use the main one).
func (s *APIServer) fieldManager(res *resource, sub string) (*managedfields.FieldManager, error) {
	s.tcOnce.Do(func() { s.tc = applyconfigurations.NewTypeConverter(s.scheme) })
	res.fmOnce.Do(func() {
		res.fm = map[string]*managedfields.FieldManager{}
		gvk := res.GVK()
		apiVersion := fieldpath.APIVersion(gvk.GroupVersion().String())
		statusSet := fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
		mainReset := map[fieldpath.APIVersion]fieldpath.Filter{}
		if res.Status {
			mainReset[apiVersion] = fieldpath.NewExcludeSetFilter(statusSet)
		}
		fm, err := managedfields.NewDefaultFieldManager(s.tc, s.scheme, s.scheme, s.scheme, gvk, gvk.GroupVersion(), "", mainReset)
		if err != nil {
			res.fmErr = err
			return
		}
		res.fm[""] = fm
		if res.Status {
			statusReset := map[fieldpath.APIVersion]fieldpath.Filter{
				apiVersion: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata"))),
			}
			sfm, err := managedfields.NewDefaultFieldManager(s.tc, s.scheme, s.scheme, s.scheme, gvk, gvk.GroupVersion(), "status", statusReset)
			if err != nil {
				res.fmErr = err
				return
			}
			res.fm["status"] = sfm
		}
	})
	if res.fmErr != nil {
		return nil, res.fmErr
	}
	if fm, ok := res.fm[sub]; ok {
		return fm, nil
	}
	return res.fm[""], nil
}
