package schema

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateCRDSchema(t *testing.T) {
	const p = "spec.versions[0].schema.openAPIV3Schema"
	tests := []struct {
		name   string
		schema string
		want   []string
	}{
		{"valid", specSchema, nil},
		{"valid defaults", defaultSchema, nil},
		{"valid prune schema", pruneSchema, nil},
		{"valid metadata name and generateName", `{type: object, properties: {metadata: {type: object, properties: {name: {type: string, maxLength: 20}, generateName: {type: string}}}}}`, nil},
		{"valid int-or-string anyOf pattern", `{type: object, properties: {port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}, p2: {x-kubernetes-int-or-string: true, allOf: [{anyOf: [{type: integer}, {type: string}]}, {pattern: "^[0-9]+%?$"}]}}}`, nil},
		{"valid nested value validation", `{type: object, properties: {a: {type: string}, b: {type: string}}, oneOf: [{required: [a]}, {required: [b]}], anyOf: [{properties: {a: {maxLength: 3}}}]}`, nil},
		{"missing field type", `{type: object, properties: {spec: {properties: {a: {type: string}}}}}`, []string{
			p + `.properties[spec].type: Required value: must not be empty for specified object fields`}},
		{"missing root type", `{properties: {spec: {type: object}}}`, []string{
			p + `.type: Required value: must not be empty at the root`}},
		{"root not object", `{type: string}`, []string{p + `.type: Invalid value: "string": must be object at the root`}},
		{"root nullable", `{type: object, nullable: true}`, []string{p + `.nullable: Forbidden: nullable cannot be true at the root`}},
		{"array without items", `{type: object, properties: {list: {type: array}}}`, []string{
			p + `.properties[list].items: Required value: must be specified`}},
		{"items without type", `{type: object, properties: {list: {type: array, items: {minLength: 1}}}}`, []string{
			p + `.properties[list].items.type: Required value: must not be empty for specified array items`}},
		{"unsupported type", `{type: object, properties: {a: {type: date}}}`, []string{
			p + `.properties[a].type: Unsupported value: "date": supported values: "array", "boolean", "integer", "number", "object", "string"`}},
		{"type null", `{type: object, properties: {a: {type: "null"}}}`, []string{
			p + `.properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
			p + `.properties[a].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`}},
		{"forbidden keywords", `{type: object, properties: {a: {type: array, items: {type: string}, uniqueItems: true, additionalItems: false, $ref: "#/x", id: x, definitions: {d: {type: string}}, dependencies: {a: [b]}, patternProperties: {"^x": {type: string}}}}}`, []string{
			p + `.properties[a].$ref: Forbidden: $ref is not supported`,
			p + `.properties[a].additionalItems: Forbidden: additionalItems is not supported`,
			p + `.properties[a].definitions: Forbidden: definitions is not supported`,
			p + `.properties[a].dependencies: Forbidden: dependencies is not supported`,
			p + `.properties[a].id: Forbidden: id is not supported`,
			p + `.properties[a].patternProperties: Forbidden: patternProperties is not supported`,
			p + `.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`}},
		{"items array", `{type: object, properties: {a: {type: array, items: [{type: string}]}}}`, []string{
			p + `.properties[a].items: Required value: must be specified`,
			p + `.properties[a].items: Forbidden: items must be a schema object and not an array`}},
		{"additionalProperties at root", `{type: object, additionalProperties: {type: string}}`, []string{
			p + `.additionalProperties: Forbidden: must not be used at the root`}},
		{"additionalProperties with properties", `{type: object, properties: {a: {type: object, properties: {b: {type: string}}, additionalProperties: {type: string}}}}`, []string{
			p + `.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`}},
		{"bad pattern", `{type: object, properties: {a: {type: string, pattern: "("}}}`, []string{
			p + `.properties[a].pattern: Invalid value: "(": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): ` + "`(`"}},
		{"default of wrong type", `{type: object, properties: {a: {type: integer, default: x}}}`, []string{
			p + `.properties[a].default: Invalid value: "string":  in body must be of type integer: "string"`}}, // sic: upstream validates the default with an unnamed root
		{"default violating constraint", `{type: object, properties: {a: {type: object, properties: {num: {type: integer, maximum: 3}}, default: {num: 5}}}}`, []string{
			p + `.properties[a].default.num: Invalid value: 5: num in body should be less than or equal to 3`}},
		{"default with unknown fields", `{type: object, properties: {a: {type: object, properties: {num: {type: integer}}, default: {num: 1, more: 2}}}}`, []string{
			p + `.properties[a].default: Invalid value: {"more":2,"num":1}: must not have unknown fields`}},
		{"default in top-level metadata", `{type: object, properties: {metadata: {type: object, default: {name: x}}}}`, []string{
			p + `.properties[metadata].default: Forbidden: must not be set in top-level metadata`}},
		{"metadata with other fields", `{type: object, properties: {metadata: {type: object, properties: {labels: {type: object}}}}}`, []string{
			p + `.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`}},
		{"metadata not object", `{type: object, properties: {metadata: {type: string}, kind: {type: integer}}}`, []string{
			p + `.properties[kind].type: Invalid value: "integer": must be string`,
			p + `.properties[metadata].type: Invalid value: "string": must be object`}},
		{"metadata in nested context", `{type: object, properties: {metadata: {type: object}}, allOf: [{properties: {metadata: {required: [name]}}}]}`, []string{
			p + `.allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context`}},
		{"nested value validation not structural", `{type: object, properties: {a: {type: string}}, anyOf: [{type: object, description: d, title: t, nullable: true, default: {}, x-kubernetes-preserve-unknown-fields: true, additionalProperties: {type: string}, x-kubernetes-list-type: atomic}]}`, []string{
			p + `.anyOf[0].additionalProperties: Forbidden: must be undefined to be structural`,
			p + `.anyOf[0].default: Forbidden: must be undefined to be structural`,
			p + `.anyOf[0].description: Forbidden: must be empty to be structural`,
			p + `.anyOf[0].nullable: Forbidden: must be false to be structural`,
			p + `.anyOf[0].title: Forbidden: must be empty to be structural`,
			p + `.anyOf[0].type: Forbidden: must be empty to be structural`,
			p + `.anyOf[0].x-kubernetes-list-type: Forbidden: must be undefined to be structural`,
			p + `.anyOf[0].x-kubernetes-preserve-unknown-fields: Forbidden: must be false to be structural`,
			p + `.anyOf[0].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified`}},
		{"nested value validation incomplete", `{type: object, properties: {a: {type: object}}, oneOf: [{properties: {b: {minLength: 1}}}, {properties: {a: {properties: {c: {minLength: 1}}}}}]}`, []string{
			p + `.properties[a].properties[c]: Required value: because it is defined in ` + p + `.oneOf[1].properties[a].properties[c]`,
			p + `.properties[b]: Required value: because it is defined in ` + p + `.oneOf[0].properties[b]`}},
		{"preserve unknown fields false", `{type: object, properties: {a: {type: object, x-kubernetes-preserve-unknown-fields: false}}}`, []string{
			p + `.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`}},
		{"int-or-string with preserve and embedded", `{type: object, properties: {a: {x-kubernetes-int-or-string: true, x-kubernetes-preserve-unknown-fields: true}, b: {type: object, x-kubernetes-int-or-string: true, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}}`, []string{
			p + `.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`,
			p + `.properties[b].x-kubernetes-embedded-resource: Invalid value: true: must be false if x-kubernetes-int-or-string is true`,
			p + `.properties[b].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`}},
		{"embedded resource shape", `{type: object, properties: {a: {x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}, b: {type: object, x-kubernetes-embedded-resource: true}, c: {type: object, x-kubernetes-embedded-resource: true, properties: {metadata: {type: object, properties: {x: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}}}}}}`, []string{
			p + `.properties[a].type: Required value: must be object if x-kubernetes-embedded-resource is true`,
			p + `.properties[b].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
			p + `.properties[c].properties[metadata].properties[x].x-kubernetes-embedded-resource: Forbidden: must not be used inside of resource meta`}},
		{"list type on non-array", `{type: object, properties: {a: {type: object, x-kubernetes-list-type: set}, b: {type: array, items: {type: string}, x-kubernetes-list-type: bag}, m: {type: string, x-kubernetes-map-type: atomic}}}`, []string{
			p + `.properties[a].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified`,
			p + `.properties[b].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"`,
			p + `.properties[m].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified`}},
		{"list map rules", `{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, items: {type: object, properties: {k: {type: string}}}}, b: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k, x, k], items: {type: object, properties: {k: {type: string, nullable: true}}}}, c: {type: array, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: object}}}}}}`, []string{
			p + `.properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
			p + `.properties[b].x-kubernetes-list-map-keys: Invalid value: ["k","x","k"]: entries must all be names of item properties`,
			p + `.properties[b].x-kubernetes-list-map-keys: Invalid value: ["k","x","k"]: must not contain duplicate entries`,
			p + `.properties[b].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
			p + `.properties[b].items.properties[k].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`,
			p + `.properties[b].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
			p + `.properties[b].items.properties[k].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`,
			p + `.properties[c].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty`}},
		{"list set of non-atomic objects", `{type: object, properties: {a: {type: array, x-kubernetes-list-type: set, items: {type: object, nullable: true}}}}`, []string{
			// sic: upstream reports the items' list type as the value.
			p + `.properties[a].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set`,
			p + `.properties[a].items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is set`}},
		{"validation rules statically", `{type: object, x-kubernetes-validations: [{rule: " "}, {rule: "self.a", message: "two\nlines"}, {rule: "x", reason: Bogus}]}`, []string{
			p + `.x-kubernetes-validations[0].rule: Required value: rule is not specified`,
			p + `.x-kubernetes-validations[1].message: Invalid value: "two\nlines": must not contain line breaks`,
			p + `.x-kubernetes-validations[2].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidateCRDSchema(mustSchema(t, tt.schema), field.NewPath("spec", "versions").Index(0).Child("schema", "openAPIV3Schema")))
			if !sameStrings(got, tt.want) {
				t.Errorf("ValidateCRDSchema =\n%s\nwant\n%s", lines(got), lines(tt.want))
			}
		})
	}
}

func TestSchemaWarnings(t *testing.T) {
	s := mustSchema(t, `{type: object, properties: {a: {type: string, format: phone}, b: {type: string, format: k8s-short-name}, c: {type: integer, format: int16}, d: {type: array, x-kubernetes-list-type: set, items: {type: object, x-kubernetes-map-type: atomic}}}}`)
	want := []string{
		`unrecognized format "phone"`,
		`unrecognized format "int16"`,
		`x-kubernetes-list-type: set for items of type "object" is not supported by server-side apply or CEL validation rules`,
	}
	if got := SchemaWarnings(s); !sameStrings(got, want) {
		t.Errorf("SchemaWarnings =\n%s\nwant\n%s", lines(got), lines(want))
	}
}

func TestSubSchema(t *testing.T) {
	s := mustSchema(t, `{type: object, properties: {spec: {type: object, properties: {replicas: {type: integer}}}, status: {type: object, additionalProperties: {type: object, properties: {num: {type: integer}}}}}}`)
	tests := []struct {
		path string
		want string
	}{
		{"", "object"},
		{".spec.replicas", "integer"},
		{"spec", "object"},
		{".status.anything.num", "integer"},
		{".spec.missing", ""},
		{".spec.replicas.deeper", ""},
	}
	for _, tt := range tests {
		got := ""
		if sub := SubSchema(s, tt.path); sub != nil {
			got = sub.Type
		}
		if got != tt.want {
			t.Errorf("SubSchema(%q).Type = %q, want %q", tt.path, got, tt.want)
		}
	}
	if !HasPreserveUnknownFields(mustSchema(t, `{type: object, x-kubernetes-preserve-unknown-fields: true}`)) || HasPreserveUnknownFields(s) || HasPreserveUnknownFields(nil) {
		t.Error("HasPreserveUnknownFields wrong")
	}
}
