package schema

import (
	"encoding/json"
	"fmt"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeschema "k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// Schema is a CRD version's schema compiled for repeated use; build it once per CRD version with Compile and share
// it (it is safe for concurrent use; the JSONSchemaProps it was built from must not be modified afterwards).
type Schema struct {
	root    *node
	openapi *validate.SchemaValidator
}

// Compile prepares s for validating, pruning and defaulting many objects; a nil schema means "no schema".
func Compile(s *apiextv1.JSONSchemaProps) *Schema {
	if s == nil {
		return &Schema{}
	}
	return &Schema{root: compile(s), openapi: validate.NewSchemaValidator(toOpenAPI(s), nil, "", strfmt.Default)}
}

// Validate is the package's Validate on the compiled schema.
func (c *Schema) Validate(obj map[string]any) field.ErrorList {
	if c == nil || c.root == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, c.validateValue(nil, obj)...)
	errs = append(errs, validateEmbedded(nil, obj, c.root)...)
	errs = append(errs, validateListSetsAndMaps(nil, c.root, obj)...)
	return errs
}

// ValidateValue returns the problems with a value below a resource, such as its status for the status subresource
// (upstream validates obj["status"] against the ".status" sub-schema with the path "status"), reported under fldPath.
func (c *Schema) ValidateValue(fldPath *field.Path, value any) field.ErrorList {
	if c == nil || c.root == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, c.validateValue(fldPath, value)...)
	errs = append(errs, validateEmbedded(fldPath, value, c.root)...)
	errs = append(errs, validateListValue(fldPath, c.root, value)...)
	return errs
}

// Prune is the package's Prune on the compiled schema.
func (c *Schema) Prune(obj map[string]any) []string {
	if c == nil {
		return nil
	}
	return c.root.pruneObject(obj)
}

// Default is the package's Default on the compiled schema.
func (c *Schema) Default(obj map[string]any) {
	if c != nil {
		c.root.defaultObject(obj)
	}
}

// validateValue runs the OpenAPI validator on value and converts its result to field errors under fldPath. Values
// that are not JSON trees are reported instead, as the validator would panic on them.
func (c *Schema) validateValue(fldPath *field.Path, value any) (errs field.ErrorList) {
	if errs := checkJSON(fldPath, value); len(errs) > 0 {
		return errs
	}
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, field.InternalError(fldPath, fmt.Errorf("validating against the schema: %v", r)))
		}
	}()
	result := c.openapi.Validate(value)
	if result.IsValid() {
		return nil
	}
	return openAPIErrors(fldPath, result)
}

// checkJSON reports every value in x that a JSON decoder does not produce.
func checkJSON(fldPath *field.Path, x any) field.ErrorList {
	switch x := x.(type) {
	case nil, string, bool, int64, float64:
		return nil
	case map[string]any:
		var errs field.ErrorList
		for k, v := range x {
			errs = append(errs, checkJSON(fldPath.Child(k), v)...)
		}
		return errs
	case []any:
		var errs field.ErrorList
		for i, v := range x {
			errs = append(errs, checkJSON(fldPath.Index(i), v)...)
		}
		return errs
	}
	return field.ErrorList{field.TypeInvalid(fldPath, fmt.Sprintf("%T", x), fmt.Sprintf("must be a JSON value, not %T", x))}
}

// openAPIErrors converts kube-openapi's result to field errors exactly as kube-apiserver does.
func openAPIErrors(fldPath *field.Path, result *validate.Result) field.ErrorList {
	var errs field.ErrorList
	for _, err := range result.Errors {
		verr, ok := err.(*openapierrors.Validation)
		if !ok {
			errs = append(errs, field.Invalid(fldPath, "", err.Error()))
			continue
		}
		errPath := fldPath
		if len(verr.Name) > 0 && verr.Name != "." {
			errPath = errPath.Child(strings.TrimPrefix(verr.Name, "."))
		}
		value := verr.Value
		if value == nil {
			value = ""
		}
		switch verr.Code() {
		case openapierrors.RequiredFailCode:
			errs = append(errs, field.Required(errPath, ""))
		case openapierrors.EnumFailCode:
			values := []string{}
			for _, allowed := range verr.Values {
				if s, ok := allowed.(string); ok {
					values = append(values, s)
				} else {
					b, _ := json.Marshal(allowed)
					values = append(values, string(b))
				}
			}
			errs = append(errs, field.NotSupported(errPath, verr.Value, values))
		case openapierrors.TooLongFailCode:
			errs = append(errs, field.TooLong(errPath, "", int(asInt64(verr.Valid))))
		case openapierrors.MaxItemsFailCode, openapierrors.TooManyPropertiesCode:
			errs = append(errs, field.TooMany(errPath, int(asInt64(verr.Value)), int(asInt64(verr.Valid))))
		case openapierrors.InvalidTypeCode:
			errs = append(errs, field.TypeInvalid(errPath, value, verr.Error()))
		default:
			errs = append(errs, field.Invalid(errPath, value, verr.Error()))
		}
	}
	return errs
}

// asInt64 returns v if it is an int64 and -1 otherwise, as upstream's conversion does.
func asInt64(v any) int64 {
	if i, ok := v.(int64); ok {
		return i
	}
	return -1
}

// validateEmbedded checks the TypeMeta and ObjectMeta of embedded resources (x-kubernetes-embedded-resource) below
// the root, as upstream's objectmeta.Validate with isResourceRoot=false.
func validateEmbedded(pth *field.Path, x any, n *node) field.ErrorList {
	if n == nil {
		return nil
	}
	var errs field.ErrorList
	switch x := x.(type) {
	case map[string]any:
		if n.embedded {
			errs = append(errs, validateEmbeddedResource(pth, x)...)
		}
		for k, v := range x {
			if prop, ok := n.props[k]; ok {
				errs = append(errs, validateEmbedded(pth.Child(k), v, prop)...)
			} else if n.hasAdd {
				errs = append(errs, validateEmbedded(pth.Key(k), v, n.add)...)
			}
		}
	case []any:
		for i, v := range x {
			errs = append(errs, validateEmbedded(pth.Index(i), v, n.items)...)
		}
	}
	return errs
}

// validateEmbeddedResource checks one embedded object's apiVersion, kind and metadata.
func validateEmbeddedResource(pth *field.Path, x map[string]any) field.ErrorList {
	var errs field.ErrorList
	if _, found := x["apiVersion"]; !found {
		errs = append(errs, field.Required(pth.Child("apiVersion"), ""))
	}
	if _, found := x["kind"]; !found {
		errs = append(errs, field.Required(pth.Child("kind"), ""))
	}
	for _, k := range []string{"apiVersion", "kind", "metadata"} {
		v, found := x[k]
		if !found {
			continue
		}
		switch k {
		case "apiVersion":
			if apiVersion, ok := v.(string); !ok {
				errs = append(errs, field.Invalid(pth.Child("apiVersion"), v, "must be a string"))
			} else if apiVersion == "" {
				errs = append(errs, field.Invalid(pth.Child("apiVersion"), apiVersion, "must not be empty"))
			} else if _, err := runtimeschema.ParseGroupVersion(apiVersion); err != nil {
				errs = append(errs, field.Invalid(pth.Child("apiVersion"), apiVersion, err.Error()))
			}
		case "kind":
			if kind, ok := v.(string); !ok {
				errs = append(errs, field.Invalid(pth.Child("kind"), v, "must be a string"))
			} else if kind == "" {
				errs = append(errs, field.Invalid(pth.Child("kind"), kind, "must not be empty"))
			} else if msgs := utilvalidation.IsDNS1035Label(strings.ToLower(kind)); len(msgs) > 0 {
				errs = append(errs, field.Invalid(pth.Child("kind"), kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
			}
		case "metadata":
			meta, err := objectMeta(v)
			if err != nil {
				errs = append(errs, field.Invalid(pth.Child("metadata"), v, err.Error()))
				continue
			}
			if meta.Name == "" {
				meta.Name = "fakename" // as upstream: embedded resources need not be named
			}
			errs = append(errs, metavalidation.ValidateObjectMeta(meta, meta.Namespace != "", path.ValidatePathSegmentName, pth.Child("metadata"))...)
		}
	}
	return errs
}

// objectMeta decodes an unstructured metadata value into ObjectMeta.
func objectMeta(v any) (*metav1.ObjectMeta, error) {
	b, err := utiljson.Marshal(v)
	if err != nil {
		return nil, err
	}
	meta := &metav1.ObjectMeta{}
	if err := utiljson.Unmarshal(b, meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// itemsSchema returns the single items schema of an array schema, or nil.
func itemsSchema(s *apiextv1.JSONSchemaProps) *apiextv1.JSONSchemaProps {
	if s == nil || s.Items == nil {
		return nil
	}
	return s.Items.Schema
}

// validateListSetsAndMaps checks the uniqueness of x-kubernetes-list-type set elements and map keys below obj.
func validateListSetsAndMaps(fldPath *field.Path, n *node, obj map[string]any) field.ErrorList {
	if n == nil || obj == nil {
		return nil
	}
	var errs field.ErrorList
	if n.add != nil {
		for k, v := range obj {
			errs = append(errs, validateListValue(fldPath.Key(k), n.add, v)...)
		}
	}
	if n.props != nil {
		for k, v := range obj {
			if sub, ok := n.props[k]; ok && sub != nil {
				errs = append(errs, validateListValue(fldPath.Child(k), sub, v)...)
			}
		}
	}
	return errs
}

// validateListValue dispatches on the JSON type of obj.
func validateListValue(fldPath *field.Path, n *node, obj any) field.ErrorList {
	switch obj := obj.(type) {
	case []any:
		return validateListArray(fldPath, n, obj)
	case map[string]any:
		return validateListSetsAndMaps(fldPath, n, obj)
	}
	return nil
}

// validateListArray checks one array's list-type invariants and recurses into its items.
func validateListArray(fldPath *field.Path, n *node, obj []any) field.ErrorList {
	var errs field.ErrorList
	switch n.listType {
	case "set":
		dups, err := nonUnique(fldPath, obj)
		if err != nil {
			errs = append(errs, err)
		}
		for _, i := range dups {
			errs = append(errs, field.Duplicate(fldPath.Index(i), obj[i]))
		}
	case "map":
		errs = append(errs, validateListMap(fldPath, n.mapKeys, obj)...)
	}
	if n.items != nil {
		for i := range obj {
			errs = append(errs, validateListValue(fldPath.Index(i), n.items, obj[i])...)
		}
	}
	return errs
}

// unspecifiedKey stands for a missing list-map key, distinct from any JSON value.
type unspecifiedKey struct{}

// nonUnique returns the index of the second occurrence of every repeated element (compounds compared as JSON).
func nonUnique(fldPath *field.Path, obj []any) ([]int, *field.Error) {
	if len(obj) <= 1 {
		return nil, nil
	}
	seenScalars := make(map[any]int, len(obj))
	seenCompounds := make(map[string]int, len(obj))
	var dups []int
	for i, x := range obj {
		switch x.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, field.Invalid(fldPath.Index(i), x, "internal error")
			}
			seenCompounds[string(b)]++
			if seenCompounds[string(b)] == 2 {
				dups = append(dups, i)
			}
		default:
			if !isHashable(x) {
				return nil, field.Invalid(fldPath.Index(i), x, "internal error")
			}
			seenScalars[x]++
			if seenScalars[x] == 2 {
				dups = append(dups, i)
			}
		}
	}
	return dups, nil
}

// isHashable reports whether x can be a map key (JSON scalars can; stray Go values such as slices of strings cannot).
func isHashable(x any) bool {
	switch x.(type) {
	case nil, string, bool, int64, float64, int, int32, float32, unspecifiedKey:
		return true
	}
	return false
}

// validateListMap checks that the elements of a list-type map array are objects with unique keys.
func validateListMap(fldPath *field.Path, mapKeys []string, obj []any) field.ErrorList {
	for i, x := range obj {
		if _, ok := x.(map[string]any); x != nil && !ok {
			return field.ErrorList{field.Invalid(fldPath.Index(i), x, "must be an object for an array of list-type map")}
		}
	}
	if len(obj) <= 1 {
		return nil
	}
	if len(mapKeys) == 1 {
		keyField := mapKeys[0]
		keys := make([]any, 0, len(obj))
		for _, x := range obj {
			m, _ := x.(map[string]any)
			key, ok := m[keyField]
			if !ok {
				keys = append(keys, unspecifiedKey{})
				continue
			}
			keys = append(keys, key)
		}
		dups, err := nonUnique(fldPath, keys)
		if err != nil {
			return field.ErrorList{err}
		}
		var errs field.ErrorList
		for _, i := range dups {
			if _, ok := keys[i].(unspecifiedKey); ok {
				errs = append(errs, field.Duplicate(fldPath.Index(i), map[string]any{}))
			} else {
				errs = append(errs, field.Duplicate(fldPath.Index(i), map[string]any{keyField: keys[i]}))
			}
		}
		return errs
	}
	keys := make([]any, 0, len(obj))
	for _, x := range obj {
		key := map[string]any{}
		m, _ := x.(map[string]any)
		for _, keyField := range mapKeys {
			if k, ok := m[keyField]; ok {
				key[keyField] = k
			}
		}
		keys = append(keys, key)
	}
	dups, err := nonUnique(fldPath, keys)
	if err != nil {
		return field.ErrorList{err}
	}
	var errs field.ErrorList
	for _, i := range dups {
		errs = append(errs, field.Duplicate(fldPath.Index(i), keys[i]))
	}
	return errs
}

// deepCopy copies a JSON value; values of other Go types are returned as they are.
func deepCopy(x any) any {
	switch x := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = deepCopy(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = deepCopy(v)
		}
		return out
	}
	return x
}
