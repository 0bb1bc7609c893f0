package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
		var tc managedfields.TypeConverter = s.tc
		var conv runtime.ObjectConvertor = s.scheme
		var def runtime.ObjectDefaulter = s.scheme
		var creater runtime.ObjectCreater = s.scheme
		if res.cr != nil {
			// Custom resources: fields deduced from the objects themselves (lists atomic), conversion by apiVersion.
			tc = managedfields.NewDeducedTypeConverter()
			conv, def, creater = crConvertor{}, crConvertor{}, crConvertor{}
		}
		fm, err := managedfields.NewDefaultFieldManager(tc, conv, def, creater, gvk, gvk.GroupVersion(), "", mainReset)
		if err != nil {
			res.fmErr = err
			return
		}
		res.fm[""] = fm
		if res.Status {
			statusReset := map[fieldpath.APIVersion]fieldpath.Filter{
				apiVersion: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata"))),
			}
			sfm, err := managedfields.NewDefaultFieldManager(tc, conv, def, creater, gvk, gvk.GroupVersion(), "status", statusReset)
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

// crConvertor converts, defaults and creates custom resources for the field manager: versions differ only in
// apiVersion (conversion strategy None).
type crConvertor struct{}

func (crConvertor) Convert(in, out, _ any) error {
	u, ok := in.(*unstructured.Unstructured)
	o, ok2 := out.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return fmt.Errorf("cannot convert %T to %T", in, out)
	}
	o.Object = u.DeepCopy().Object
	return nil
}

func (crConvertor) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("cannot convert %T", in)
	}
	target, ok := gv.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return nil, fmt.Errorf("%s cannot be converted to %v", u.GroupVersionKind(), gv)
	}
	c := u.DeepCopy()
	c.SetGroupVersionKind(target)
	return c, nil
}

func (crConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

func (crConvertor) Default(runtime.Object) {}

func (crConvertor) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
