package schema

import (
	"runtime/debug"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FuzzValidatePruneDefault checks that no schema and object make the package panic, and that pruning and defaulting
// are idempotent.
func FuzzValidatePruneDefault(f *testing.F) {
	seeds := []struct{ schema, obj string }{
		{specSchema, `{"apiVersion":"x/v1","kind":"X","metadata":{"name":"a"},"spec":{"name":"ab","replicas":3}}`},
		{specSchema, `{"metadata":1,"spec":{"name":[1],"map":"x","set":{"a":1},"template":[1],"labels":1,"port":1.5}}`},
		{specSchema, `{"spec":{"map":[{"name":"a"},null,{"name":"a"},3],"set":[[1],[1],{"a":null},{"a":null}],"template":{"metadata":"x","kind":1}}}`},
		{defaultSchema, `{"spec":{"list":[null,1,{"port":null}],"labels":{"a":null},"conf":{"x":null}}}`},
		{defaultSchema, `{"spec":null,"status":[]}`},
		{pruneSchema, `{"spec":{"template":{"metadata":{"name":"x","bogus":[1]},"spec":{"y":1}},"raw":{"metadata":{"labels":"x"}}},"extra":{}}`},
		{`{"type":"object","x-kubernetes-preserve-unknown-fields":true}`, `{"a":{"b":[{"c":null}]}}`},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"array","items":{"type":"object","default":{"x":1}}}}}}`, `{"a":[[null,{}],null]}`},
	}
	for _, s := range seeds {
		j, err := yamlToJSON(s.schema)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j, []byte(s.obj))
	}
	f.Fuzz(func(t *testing.T, schemaJSON, objJSON []byte) {
		s := &apiextv1.JSONSchemaProps{}
		if err := utiljson.Unmarshal(schemaJSON, s); err != nil {
			s = nil
		}
		_ = ValidateCRDSchema(s, field.NewPath("schema"))
		_ = SchemaWarnings(s)
		var obj map[string]any
		if err := utiljson.Unmarshal(objJSON, &obj); err != nil || obj == nil {
			return
		}
		_ = Validate(s, obj)
		Prune(obj, s)
		Default(obj, s)
		once := toJSON(obj)
		if removed := Prune(obj, s); len(removed) > 0 && len(ValidateCRDSchema(s, nil)) == 0 {
			t.Errorf("second Prune of %s removed %q", once, removed)
		}
		_ = Validate(s, obj)
	})
}

// yamlToJSON converts a YAML test schema to the JSON the fuzzer mutates.
func yamlToJSON(src string) ([]byte, error) {
	var s apiextv1.JSONSchemaProps
	if err := yamlUnmarshal([]byte(src), &s); err != nil {
		return nil, err
	}
	return utiljson.Marshal(&s)
}

// TestNoPanicOnGoValues feeds values that no JSON decoder produces; they must be reported, not crash.
func TestNoPanicOnGoValues(t *testing.T) {
	type odd struct{ A int }
	values := []any{
		int(1), int32(2), float32(1.5), uint8(3), []string{"a"}, map[string]string{"a": "b"}, odd{1}, &odd{2},
		[]int{1}, map[string]int{"a": 1}, []map[string]any{{"a": 1}}, struct{}{}, complex(1, 2),
	}
	for _, schema := range []string{specSchema, defaultSchema, pruneSchema} {
		s := mustSchema(t, schema)
		for _, v := range values {
			obj := map[string]any{
				"metadata": v,
				"spec": map[string]any{
					"name": v, "replicas": v, "list": []any{v, v}, "set": []any{v, v}, "map": []any{map[string]any{"name": v}, map[string]any{"name": v}},
					"labels": map[string]any{"a": v}, "template": v, "port": v, "obj": v, "conf": map[string]any{"x": v},
				},
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("panic on %T: %v\n%s", v, r, debug.Stack())
					}
				}()
				if errs := Validate(s, obj); len(errs) == 0 {
					t.Errorf("Validate accepted a %T", v)
				}
				Prune(obj, s)
				Default(obj, s)
			}()
		}
	}
}
