package apiserver

import (
	"context"

	"fmt"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/certificates"
	certificatesv1 "k8s.io/api/certificates/v1"
	"net/http"
	"strings"
	"time"

	"github.com/skiff-sh/skiff/internal/apiextensions"
	crschema "github.com/skiff-sh/skiff/internal/apiextensions/schema"
	"github.com/skiff-sh/skiff/internal/validation"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/util/jsonpath"
)

// crInfo is what serving one version of a custom resource needs from its CRD (the custom resource strategy of
// kube-apiserver's apiextensions-apiserver).
type crInfo struct {
	crd              *apiextv1.CustomResourceDefinition
	version          string
	schema           *crschema.Schema // compiled once per CRD version; nil when the version has none
	status           bool
	scale            *apiextv1.CustomResourceSubresourceScale
	columns          []apiextv1.CustomResourceColumnDefinition
	selectableFields []apiextv1.SelectableField
	terminating      bool

	// gv is this version; storeGV the storage version new objects are written in; conv converts between them.
	gv, storeGV schema.GroupVersion
	conv        *crConverter
	// storageDefaults, when set, are the storage version's schema defaults, applied to objects read from storage.
	storageDefaults *crschema.Schema
}

// content returns the JSON object of a custom resource.
func content(obj runtime.Object) map[string]any {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if u.Object == nil {
			u.Object = map[string]any{}
		}
		return u.Object
	}
	return nil
}

// unknownFields prunes obj and reports what was pruned as fieldValidation asks: Strict fails with the
// strict decoding error kube-apiserver gives, Warn adds a Warning header per field.
func (c *crInfo) unknownFields(w http.ResponseWriter, fv string, obj runtime.Object) error {
	pruned := c.schema.Prune(content(obj))
	if len(pruned) == 0 || fv == "Ignore" {
		return nil
	}
	errs := make([]error, 0, len(pruned))
	for _, p := range pruned {
		errs = append(errs, fmt.Errorf("unknown field %q", p))
	}
	return handleStrict(w, fv, runtime.NewStrictDecodingError(errs))
}

// pruneApplyPatch drops from an apply patch the fields the schema does not know, as fieldValidation asks: Strict
// fails as kube-apiserver's typed apply does ("field not declared in schema"), Warn warns, Ignore drops them.
func (c *crInfo) pruneApplyPatch(w http.ResponseWriter, fv string, gvk schema.GroupVersionKind, patch *unstructured.Unstructured) error {
	probe := patch.DeepCopy()
	pruned := c.schema.Prune(probe.Object)
	if len(pruned) == 0 {
		return nil
	}
	switch fv {
	case "Strict":
		msgs := make([]string, 0, len(pruned))
		for _, p := range pruned {
			msgs = append(msgs, "."+p+": field not declared in schema")
		}
		msg := msgs[0]
		if len(msgs) > 1 {
			msg = "errors:\n  " + strings.Join(msgs, "\n  ")
		}
		return apierrors.NewBadRequest(fmt.Sprintf("failed to create typed patch object (%s): %s", gvk, msg))
	case "Warn":
		for _, p := range pruned {
			addWarning(w, fmt.Sprintf("unknown field %q", p))
		}
	}
	patch.Object = probe.Object
	return nil
}

// prepare prunes and defaults a custom resource about to be written, as kube-apiserver does on decoding.
func (c *crInfo) prepare(obj runtime.Object) {
	m := content(obj)
	if m == nil {
		return
	}
	c.schema.Prune(m)
	c.schema.Default(m)
}

// validate checks a custom resource: its metadata as every object's, then its schema.
func (c *crInfo) validate(obj runtime.Object) field.ErrorList {
	m := accessor(obj)
	errs := genericvalidation.ValidateObjectMetaAccessor(m, c.crd.Spec.Scope == apiextv1.NamespaceScoped, genericvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, c.schema.Validate(content(obj))...)
	errs = append(errs, c.validateScale(obj)...)
	return errs
}

// validateUpdate checks an update: the metadata rules of an update, then the schema.
func (c *crInfo) validateUpdate(obj, old runtime.Object) field.ErrorList {
	errs := genericvalidation.ValidateObjectMetaAccessorUpdate(accessor(obj), accessor(old), field.NewPath("metadata"))
	errs = append(errs, c.schema.Validate(content(obj))...)
	errs = append(errs, c.validateScale(obj)...)
	return errs
}

// validateScale checks the replicas fields the scale subresource reads, as upstream's strategy does.
func (c *crInfo) validateScale(obj runtime.Object) field.ErrorList {
	if c.scale == nil {
		return nil
	}
	var errs field.ErrorList
	check := func(path string) {
		v, found, err := unstructured.NestedFieldNoCopy(content(obj), splitPath(path)...)
		if err != nil || !found || v == nil {
			return
		}
		fp := field.NewPath(strings.TrimPrefix(path, "."))
		n, ok := v.(int64)
		if !ok {
			errs = append(errs, field.Invalid(fp, v, "should be an integer"))
			return
		}
		if n < 0 {
			errs = append(errs, field.Invalid(fp, n, "should be a non-negative integer"))
		} else if n > 1<<31-1 {
			errs = append(errs, field.Invalid(fp, n, "should be less than or equal to 2147483647"))
		}
	}
	check(c.scale.SpecReplicasPath)
	check(c.scale.StatusReplicasPath)
	return errs
}

// specChanged reports whether an update bumps metadata.generation: a change to anything but metadata (and
// status, when status is a subresource).
func (c *crInfo) specChanged(obj, old runtime.Object) bool {
	a, b := content(obj), content(old)
	strip := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			if k == "metadata" || (c.status && k == "status") {
				continue
			}
			out[k] = v
		}
		return out
	}
	return !equality.Semantic.DeepEqual(strip(a), strip(b))
}

// resetStatus drops the status of a custom resource created or updated through the main resource when status
// is a subresource (create), or puts the stored status back (update).
func (c *crInfo) resetStatus(obj, old runtime.Object) {
	if !c.status {
		return
	}
	m := content(obj)
	delete(m, "status")
	if old != nil {
		if st, ok := content(old)["status"]; ok {
			m["status"] = runtime.DeepCopyJSONValue(st)
		}
	}
}

// prepareStatusUpdate keeps everything but status from the stored object, as upstream's status strategy
// (spec, labels, annotations, finalizers and owner references are the stored ones).
func (c *crInfo) prepareStatusUpdate(obj, old runtime.Object) {
	m, om := content(obj), content(old)
	if spec, ok := om["spec"]; ok {
		m["spec"] = runtime.DeepCopyJSONValue(spec)
	} else {
		delete(m, "spec")
	}
	nm, o := accessor(obj), accessor(old)
	nm.SetLabels(o.GetLabels())
	nm.SetAnnotations(o.GetAnnotations())
	nm.SetFinalizers(o.GetFinalizers())
	nm.SetOwnerReferences(o.GetOwnerReferences())
}

func splitPath(p string) []string {
	return strings.Split(strings.TrimPrefix(p, "."), ".")
}

// scaleOf returns the autoscaling/v1 Scale of a custom resource from the CRD's replicas paths.
func (c *crInfo) scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m := content(obj)
	spec, _, _ := unstructured.NestedInt64(m, splitPath(c.scale.SpecReplicasPath)...)
	var status int64
	if c.scale.StatusReplicasPath != "" {
		status, _, _ = unstructured.NestedInt64(m, splitPath(c.scale.StatusReplicasPath)...)
	}
	sel := ""
	if c.scale.LabelSelectorPath != nil && *c.scale.LabelSelectorPath != "" {
		sel, _, _ = unstructured.NestedString(m, splitPath(*c.scale.LabelSelectorPath)...)
	}
	am := accessor(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{
			Name: am.GetName(), Namespace: am.GetNamespace(), UID: am.GetUID(),
			ResourceVersion: am.GetResourceVersion(), CreationTimestamp: am.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: int32(spec)},
		Status: autoscalingv1.ScaleStatus{Replicas: int32(status), Selector: sel},
	}, nil
}

// setReplicas writes the desired replicas at the CRD's specReplicasPath.
func (c *crInfo) setReplicas(obj runtime.Object, n int32) {
	_ = unstructured.SetNestedField(content(obj), int64(n), splitPath(c.scale.SpecReplicasPath)...)
}

// fieldSet returns the values of the CRD's selectable fields for field selectors.
func (c *crInfo) fieldSet(obj runtime.Object) fields.Set {
	if len(c.selectableFields) == 0 {
		return nil
	}
	set := fields.Set{}
	m := content(obj)
	for _, f := range c.selectableFields {
		name := strings.TrimPrefix(f.JSONPath, ".")
		v, found, err := unstructured.NestedFieldNoCopy(m, splitPath(f.JSONPath)...)
		if err != nil || !found || v == nil {
			set[name] = ""
			continue
		}
		set[name] = fmt.Sprint(v)
	}
	return set
}

// printerColumns returns the columns kubectl shows for this version: the CRD's, or Age when it names none.
func (c *crInfo) printerColumns() []apiextv1.CustomResourceColumnDefinition {
	if len(c.columns) > 0 {
		return c.columns
	}
	return []apiextv1.CustomResourceColumnDefinition{{
		Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp",
		Description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
	}}
}

// tableColumns and tableCells render custom resources as upstream's CRD table convertor: Name, then the columns.
func (c *crInfo) tableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"}}
	for _, col := range c.printerColumns() {
		desc := col.Description
		if desc == "" {
			desc = "Custom resource definition column (in JSONPath format): " + col.JSONPath
		}
		cols = append(cols, metav1.TableColumnDefinition{Name: col.Name, Type: col.Type, Format: col.Format, Description: desc, Priority: col.Priority})
	}
	return cols
}

func (c *crInfo) tableCells(obj runtime.Object, now time.Time) []any {
	cells := []any{accessor(obj).GetName()}
	m := content(obj)
	for _, col := range c.printerColumns() {
		p := jsonpath.New(col.Name)
		if err := p.Parse(fmt.Sprintf("{%s}", col.JSONPath)); err != nil {
			cells = append(cells, nil)
			continue
		}
		p.AllowMissingKeys(true)
		results, err := p.FindResults(m)
		if err != nil || len(results) == 0 || len(results[0]) == 0 {
			cells = append(cells, nil)
			continue
		}
		var vals []any
		for _, r := range results[0] {
			vals = append(vals, r.Interface())
		}
		if col.Type == "date" {
			value := "<unknown>"
			if s, ok := vals[0].(string); ok {
				if t, err := time.Parse(time.RFC3339, s); err == nil {
					value = duration.HumanDuration(now.Sub(t))
				}
			}
			cells = append(cells, value)
			continue
		}
		if len(vals) == 1 {
			cells = append(cells, cellValue(col.Type, vals[0]))
			continue
		}
		parts := make([]string, 0, len(vals))
		for _, v := range vals {
			parts = append(parts, fmt.Sprint(cellValue(col.Type, v)))
		}
		cells = append(cells, strings.Join(parts, ","))
	}
	return cells
}

// cellValue converts a value to the column's type, or gives nil when it is not of that type (as upstream).
func cellValue(typ string, v any) any {
	switch typ {
	case "integer":
		switch n := v.(type) {
		case int64:
			return n
		case float64:
			return int64(n)
		}
		return nil
	case "number":
		switch n := v.(type) {
		case int64:
			return float64(n)
		case float64:
			return n
		}
		return nil
	case "boolean":
		if b, ok := v.(bool); ok {
			return b
		}
		return nil
	case "string":
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	return v
}

// decodeResource decodes a request body into a new object of res; for a custom resource it also prunes the
// fields its schema does not know, reporting them as fieldValidation asks.
func (s *APIServer) decodeResource(w http.ResponseWriter, r *http.Request, data []byte, res *resource) (runtime.Object, error) {
	obj, err := s.codecs.decodeBody(w, r, data, res.New(), res.GVK())
	if err != nil || res.cr == nil {
		return obj, err
	}
	fv, _ := fieldValidation(r)
	if err := res.cr.unknownFields(w, fv, obj); err != nil {
		return nil, cannotBeHandled(res.GVK(), err)
	}
	return obj, nil
}

// validateCreate validates a new object of res.
func validateCreate(res *resource, obj runtime.Object) field.ErrorList {
	if res.cr != nil {
		return res.cr.validate(obj)
	}
	return validation.ValidateCreate(obj)
}

// generationChangedFor says whether an update of res bumps metadata.generation.
func generationChangedFor(res *resource, obj, old runtime.Object) bool {
	if res.cr != nil {
		return res.cr.specChanged(obj, old)
	}
	return generationChanged(obj, old)
}

// prepareForCreate is the part of a type's create strategy beyond status and defaults.
func prepareForCreate(ctx context.Context, obj runtime.Object) {
	switch o := obj.(type) {
	case *apiextv1.CustomResourceDefinition:
		apiextensions.PrepareForCreate(o)
	case *certificatesv1.CertificateSigningRequest:
		// The requester's identity is recorded in the spec, as kube-apiserver's CSR strategy does.
		var user certificates.UserInfo
		if u, ok := auth.UserFrom(ctx); ok {
			user = certificates.UserInfo{Name: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
		}
		certificates.PrepareForCreate(o, user)
	}
}
