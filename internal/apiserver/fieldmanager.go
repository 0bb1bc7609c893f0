package apiserver

import (
	"fmt"

	apiextapply "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	aggregatorapply "k8s.io/kube-aggregator/pkg/client/applyconfiguration"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// fieldManager returns the managed-fields tracker for res and a subresource ("" or "status"; other writes use the main one).
func (s *APIServer) fieldManager(res *resource, sub string) (*managedfields.FieldManager, error) {
	s.tcOnce.Do(func() { s.tc = newTypeConverter(s.scheme) })
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

// groupTypeConverter tracks the fields of objects by their group's schema: client-go's for the k8s.io/api groups,
// the apiextensions and kube-aggregator modules' own for CRDs and APIServices (kube-apiserver builds one converter from
// all of its OpenAPI models; each module here ships the models of its own types).
type groupTypeConverter struct {
	scheme  *runtime.Scheme
	byGroup map[string]managedfields.TypeConverter
	def     managedfields.TypeConverter
}

func newTypeConverter(scheme *runtime.Scheme) managedfields.TypeConverter {
	return &groupTypeConverter{
		scheme: scheme,
		def:    applyconfigurations.NewTypeConverter(scheme),
		byGroup: map[string]managedfields.TypeConverter{
			"apiextensions.k8s.io":   apiextapply.NewTypeConverter(scheme),
			"apiregistration.k8s.io": aggregatorapply.NewTypeConverter(scheme),
		},
	}
}

func (g *groupTypeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	group := obj.GetObjectKind().GroupVersionKind().Group
	if obj.GetObjectKind().GroupVersionKind().Empty() {
		if gvks, _, err := g.scheme.ObjectKinds(obj); err == nil {
			group = gvks[0].Group
		}
	}
	if c, ok := g.byGroup[group]; ok {
		return c.ObjectToTyped(obj, opts...)
	}
	return g.def.ObjectToTyped(obj, opts...)
}

func (g *groupTypeConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	return g.def.TypedToObject(v)
}
