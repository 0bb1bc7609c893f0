package openapi

import (
	"encoding/json"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// props parses a JSONSchemaProps from YAML.
func props(t testing.TB, y string) *apiextv1.JSONSchemaProps {
	t.Helper()
	var p apiextv1.JSONSchemaProps
	if err := yaml.UnmarshalStrict([]byte(y), &p); err != nil {
		t.Fatalf("schema %q: %v", y, err)
	}
	return &p
}

// canonical re-encodes JSON (or YAML) so that equal documents compare equal.
func canonical(t testing.TB, s string) string {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConvertSchema(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		v3, v2 string // expected, as YAML
	}{{
		name: "plain object keeps validations, defaults only in v3",
		in: `{type: object, description: d, required: [a], properties: {
			a: {type: string, pattern: "^x", maxLength: 3, default: xy, enum: [x, xy]},
			n: {type: integer, format: int32, minimum: 1, maximum: 5, exclusiveMaximum: true}}}`,
		v3: `{type: object, description: d, required: [a], properties: {
			a: {type: string, pattern: "^x", maxLength: 3, default: xy, enum: [x, xy]},
			n: {type: integer, format: int32, minimum: 1, maximum: 5, exclusiveMaximum: true}}}`,
		v2: `{type: object, description: d, required: [a], properties: {
			a: {type: string, pattern: "^x", maxLength: 3, enum: [x, xy]},
			n: {type: integer, format: int32, minimum: 1, maximum: 5, exclusiveMaximum: true}}}`,
	}, {
		name: "nullable is kept in v3; in v2 the node loses its type and is no longer required",
		in:   `{type: object, required: [a, b], properties: {a: {type: object, nullable: true, properties: {x: {type: string}}}, b: {type: string}}}`,
		v3:   `{type: object, required: [a, b], properties: {a: {type: object, nullable: true, properties: {x: {type: string}}}, b: {type: string}}}`,
		v2:   `{type: object, required: [b], properties: {a: {}, b: {type: string}}}`,
	}, {
		name: "nullable additionalProperties clear required in v2",
		in:   `{type: object, required: [a], additionalProperties: {type: string, nullable: true}}`,
		v3:   `{type: object, required: [a], additionalProperties: {type: string, nullable: true}}`,
		v2:   `{type: object, additionalProperties: {}}`,
	}, {
		name: "int-or-string is unfolded into anyOf; v2 drops it",
		in:   `{type: object, properties: {port: {x-kubernetes-int-or-string: true}}}`,
		v3:   `{type: object, properties: {port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}}}`,
		v2:   `{type: object, properties: {port: {x-kubernetes-int-or-string: true}}}`,
	}, {
		name: "int-or-string with the pattern already is left alone",
		in:   `{x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}`,
		v3:   `{x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}`,
		v2:   `{x-kubernetes-int-or-string: true}`,
	}, {
		name: "int-or-string with another anyOf gets the pattern as the first allOf",
		in:   `{x-kubernetes-int-or-string: true, anyOf: [{pattern: "^a"}, {maximum: 3}]}`,
		v3:   `{x-kubernetes-int-or-string: true, anyOf: [{pattern: "^a"}, {maximum: 3}], allOf: [{anyOf: [{type: integer}, {type: string}]}]}`,
		v2:   `{x-kubernetes-int-or-string: true}`,
	}, {
		name: "preserve-unknown-fields: v2 drops its properties and object type",
		in:   `{type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}}}`,
		v3:   `{type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}}}`,
		v2:   `{type: object, properties: {spec: {x-kubernetes-preserve-unknown-fields: true}}}`,
	}, {
		name: "logical junctors are value validations: kept in v3, dropped in v2",
		in:   `{type: object, properties: {a: {type: string, oneOf: [{pattern: "^a"}, {pattern: "^b"}], not: {enum: [c]}, allOf: [{minLength: 1}]}}}`,
		v3:   `{type: object, properties: {a: {type: string, oneOf: [{pattern: "^a"}, {pattern: "^b"}], not: {enum: [c]}, allOf: [{minLength: 1}]}}}`,
		v2:   `{type: object, properties: {a: {type: string}}}`,
	}, {
		name: "lists, maps and CEL rules keep their extensions",
		in: `{type: object, x-kubernetes-validations: [{rule: "self.a.size() > 0", message: m}], properties: {
			a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}}},
			m: {type: object, x-kubernetes-map-type: atomic, additionalProperties: {type: string}}}}`,
		v3: `{type: object, x-kubernetes-validations: [{rule: "self.a.size() > 0", message: m}], properties: {
			a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}}},
			m: {type: object, x-kubernetes-map-type: atomic, additionalProperties: {type: string}}}}`,
		v2: `{type: object, x-kubernetes-validations: [{rule: "self.a.size() > 0", message: m}], properties: {
			a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}}},
			m: {type: object, x-kubernetes-map-type: atomic, additionalProperties: {type: string}}}}`,
	}, {
		name: "an array without items loses its type in v2",
		in:   `{type: object, properties: {a: {type: array, x-kubernetes-preserve-unknown-fields: true, items: {type: string}}}}`,
		v3:   `{type: object, properties: {a: {type: array, x-kubernetes-preserve-unknown-fields: true, items: {type: string}}}}`,
		v2:   `{type: object, properties: {a: {x-kubernetes-preserve-unknown-fields: true}}}`,
	}, {
		name: "keywords outside the structural schema are dropped",
		in:   `{type: object, id: x, $schema: s, title: T, example: {a: 1}, externalDocs: {url: "https://x"}, properties: {a: {type: string}}}`,
		v3:   `{type: object, title: T, example: {a: 1}, externalDocs: {url: "https://x"}, properties: {a: {type: string}}}`,
		v2:   `{type: object, title: T, example: {a: 1}, externalDocs: {url: "https://x"}, properties: {a: {type: string}}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []struct {
				v2   bool
				want string
			}{{false, tc.v3}, {true, tc.v2}} {
				got, err := json.Marshal(convertSchema(props(t, tc.in), v.v2))
				if err != nil {
					t.Fatal(err)
				}
				if want := canonical(t, v.want); canonical(t, string(got)) != want {
					t.Errorf("v2=%v:\n got %s\nwant %s", v.v2, got, want)
				}
			}
		})
	}
}

func TestStructural(t *testing.T) {
	for in, want := range map[string]bool{
		`{type: object, properties: {a: {type: string}}}`:                                          true,
		`{type: object, properties: {a: {x-kubernetes-int-or-string: true}}}`:                      true,
		`{type: object, properties: {a: {x-kubernetes-preserve-unknown-fields: true}}}`:            true,
		`{type: object, properties: {a: {description: no type}}}`:                                  false,
		`{type: object, properties: {a: {type: array, items: {properties: {b: {type: string}}}}}}`: false,
		`{type: object, additionalProperties: {description: x}}`:                                   false,
	} {
		if got := structural(props(t, in)); got != want {
			t.Errorf("structural(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestKindDefinitions(t *testing.T) {
	defsV2, defsV3 := generatedDefs(testService(t).namer)
	v := crdVersion{Group: "stable.example.com", Version: "v1", Kind: "CronTab", ListKind: "CronTabList", Plural: "crontabs",
		Schema: props(t, `{type: object, properties: {spec: {type: object, properties: {
			template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}}}}`),
		SelectableFields: []string{"spec.color"}}
	if got, want := v.modelName(v.Kind), "com.example.stable.v1.CronTab"; got != want {
		t.Errorf("modelName = %q, want %q", got, want)
	}

	defs := v.definitions(defsV3, "#/components/schemas/")
	kind := defs["com.example.stable.v1.CronTab"].Schema
	if !hasGVKList(jsonRoundTrip(t, kind.Extensions), "stable.example.com", "v1", "CronTab") {
		t.Errorf("kind GVK = %v", kind.Extensions[extensionGVK])
	}
	if ref := kind.Properties["metadata"].Ref; ref.String() != "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
		t.Errorf("metadata $ref = %q", ref.String())
	}
	for _, p := range []string{"apiVersion", "kind", "spec"} {
		if _, ok := kind.Properties[p]; !ok {
			t.Errorf("kind lacks %q", p)
		}
	}
	tmpl := kind.Properties["spec"].Properties["template"]
	if _, ok := tmpl.Properties["metadata"]; !ok || len(tmpl.Required) != 2 {
		t.Errorf("embedded resource = %+v, want apiVersion, kind, metadata and required apiVersion, kind", tmpl)
	}
	if sf, _ := json.Marshal(kind.Extensions["x-kubernetes-selectable-fields"]); string(sf) != `[{"fieldPath":"spec.color"}]` {
		t.Errorf("selectable fields = %s", sf)
	}
	list := defs["com.example.stable.v1.CronTabList"].Schema
	if ref := list.Properties["items"].Items.Schema.Ref; ref.String() != "#/components/schemas/com.example.stable.v1.CronTab" {
		t.Errorf("list items $ref = %q", ref.String())
	}
	if !hasGVKList(jsonRoundTrip(t, list.Extensions), "stable.example.com", "v1", "CronTabList") {
		t.Errorf("list GVK = %v", list.Extensions[extensionGVK])
	}

	// In v2 the embedded resource under preserve-unknown-fields stays bare.
	defs = v.definitions(defsV2, "#/definitions/")
	tmpl = defs["com.example.stable.v1.CronTab"].Schema.Properties["spec"].Properties["template"]
	if len(tmpl.Properties) != 0 {
		t.Errorf("v2 embedded resource has properties %v", keys(tmpl.Properties))
	}

	// Root preserve-unknown-fields: v2 publishes a bare object, v3 the schema.
	v.Schema = props(t, `{type: object, x-kubernetes-preserve-unknown-fields: true}`)
	k2 := v.definitions(defsV2, "#/definitions/")["com.example.stable.v1.CronTab"].Schema
	if len(k2.Properties) != 0 || !k2.Type.Contains("object") {
		t.Errorf("v2 preserve-unknown root = %+v, want a bare object", k2.SchemaProps)
	}
	k3 := v.definitions(defsV3, "#/components/schemas/")["com.example.stable.v1.CronTab"].Schema
	if _, ok := k3.Properties["metadata"]; !ok {
		t.Errorf("v3 preserve-unknown root lacks metadata")
	}
}

// jsonRoundTrip returns ext as it reads back from JSON.
func jsonRoundTrip(t testing.TB, ext map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(ext)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
