package schema

import (
	"reflect"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// specSchema is a CRD schema exercising every kind of value validation.
const specSchema = `
type: object
properties:
  metadata:
    type: object
    properties:
      name: {type: string, maxLength: 10}
  spec:
    type: object
    required: [name]
    properties:
      name: {type: string, minLength: 2, maxLength: 5, pattern: "^[a-z]+$"}
      replicas: {type: integer, format: int32, minimum: 0, maximum: 5}
      exclusive: {type: integer, minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true}
      ratio: {type: number, multipleOf: 0.5}
      step: {type: integer, multipleOf: 3}
      mode: {type: string, enum: [Fast, Slow]}
      level: {type: integer, enum: [1, 2]}
      list: {type: array, minItems: 1, maxItems: 2, items: {type: string}}
      labels: {type: object, minProperties: 1, maxProperties: 2, additionalProperties: {type: string}}
      closed: {type: object, additionalProperties: false}
      ip: {type: string, format: ipv4}
      when: {type: string, format: date-time}
      custom: {type: string, format: not-a-format}
      short: {type: string, format: k8s-short-name}
      port: {x-kubernetes-int-or-string: true}
      nullable: {type: string, nullable: true}
      plain: {type: string}
      flag: {type: boolean}
      any: {x-kubernetes-preserve-unknown-fields: true}
      allOf: {type: integer, allOf: [{minimum: 1}, {maximum: 3}]}
      anyOf: {type: string, anyOf: [{maxLength: 1}, {pattern: "^x"}]}
      oneOf: {type: string, oneOf: [{maxLength: 2}, {pattern: "^x"}]}
      not: {type: string, not: {enum: [bad]}}
      set: {type: array, x-kubernetes-list-type: set, items: {type: string}}
      objset: {type: array, x-kubernetes-list-type: set, items: {type: object, x-kubernetes-map-type: atomic, properties: {a: {type: integer}}}}
      map:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items: {type: object, required: [name], properties: {name: {type: string}, v: {type: integer}}}
      map2:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name, port]
        items: {type: object, required: [name, port], properties: {name: {type: string}, port: {type: integer}}}
      template:
        type: object
        x-kubernetes-embedded-resource: true
        x-kubernetes-preserve-unknown-fields: true
`

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		want []string
	}{
		{"valid", `{apiVersion: x/v1, kind: X, metadata: {name: a, labels: {x: y}, unknown: 1}, spec: {name: ab, replicas: 3, port: 80}}`, nil},
		{"valid int or string as string", `{spec: {name: ab, port: http}}`, nil},
		{"required", `{spec: {}}`, []string{`spec.name: Required value`}},
		{"type integer of string", `{spec: {name: ab, replicas: x}}`, []string{
			`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`}},
		{"type integer of float", `{"spec": {"name": "ab", "replicas": 1.5}}`, []string{
			`<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.replicas`,
			`spec.replicas: Invalid value: "float64": spec.replicas in body must be of type int32: "float64"`}},
		{"type integer of float without format", `{"spec": {"name": "ab", "step": 1.5}}`, []string{
			`<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.step`,
			`spec.step: Invalid value: "number": spec.step in body must be of type integer: "number"`,
			`spec.step: Invalid value: 1.5: spec.step in body should be a multiple of 3`}},
		{"type number accepts integer", `{"spec": {"name": "ab", "ratio": 2.5}}`, nil},
		// Upstream quirk kept: an integral JSON number decodes as int64, and kube-openapi truncates a fractional
		// multipleOf to the integer 0 for it.
		{"multipleOf fraction on integral value", `{"spec": {"name": "ab", "ratio": 2}}`, []string{
			`spec.ratio: Invalid value: 0: factor MultipleOf declared for spec.ratio must be positive: 0`}},
		{"type object", `{spec: x}`, []string{`spec: Invalid value: "string": spec in body must be of type object: "string"`}},
		{"type boolean", `{spec: {name: ab, flag: "true"}}`, []string{
			`spec.flag: Invalid value: "string": spec.flag in body must be of type boolean: "string"`}},
		{"type array", `{spec: {name: ab, list: a}}`, []string{
			`spec.list: Invalid value: "string": spec.list in body must be of type array: "string"`}},
		{"null not nullable", `{spec: {name: ab, plain: null}}`, []string{
			`spec.plain: Invalid value: "null": spec.plain in body must be of type string: "null"`}},
		{"null nullable", `{spec: {name: ab, nullable: null}}`, nil},
		{"int or string rejects float", `{"spec": {"name": "ab", "port": 1.5}}`, []string{
			`spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"`}},
		{"minimum and maximum", `{spec: {name: ab, replicas: 6}}`, []string{
			`spec.replicas: Invalid value: 6: spec.replicas in body should be less than or equal to 5`}},
		{"minimum", `{spec: {name: ab, replicas: -1}}`, []string{
			`spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0`}},
		{"exclusive bounds", `{spec: {name: ab, exclusive: 10}}`, []string{
			`spec.exclusive: Invalid value: 10: spec.exclusive in body should be less than 10`}},
		{"exclusive minimum", `{spec: {name: ab, exclusive: 0}}`, []string{
			`spec.exclusive: Invalid value: 0: spec.exclusive in body should be greater than 0`}},
		{"multipleOf number", `{"spec": {"name": "ab", "ratio": 0.7}}`, []string{
			`spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5`}},
		{"multipleOf integer", `{spec: {name: ab, step: 4}}`, []string{
			`spec.step: Invalid value: 4: spec.step in body should be a multiple of 3`}},
		{"minLength", `{spec: {name: a}}`, []string{
			`spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long`}},
		{"maxLength", `{spec: {name: abcdef}}`, []string{`spec.name: Too long: may not be more than 5 bytes`}},
		{"pattern", `{spec: {name: AB}}`, []string{
			`spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'`}},
		{"enum string", `{spec: {name: ab, mode: Medium}}`, []string{
			`spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"`}},
		{"enum integer", `{spec: {name: ab, level: 3}}`, []string{`spec.level: Unsupported value: 3: supported values: "1", "2"`}},
		{"minItems", `{spec: {name: ab, list: []}}`, []string{
			`spec.list: Invalid value: 0: spec.list in body should have at least 1 items`}},
		{"maxItems", `{spec: {name: ab, list: [a, b, c]}}`, []string{`spec.list: Too many: 3: must have at most 2 items`}},
		{"items type", `{spec: {name: ab, list: [a, 1]}}`, []string{
			`spec.list[1]: Invalid value: "integer": spec.list[1] in body must be of type string: "integer"`}},
		{"minProperties", `{spec: {name: ab, labels: {}}}`, []string{
			`spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties`}},
		{"maxProperties", `{spec: {name: ab, labels: {a: x, b: x, c: x}}}`, []string{`spec.labels: Too many: 3: must have at most 2 items`}},
		{"additionalProperties schema", `{spec: {name: ab, labels: {a: 1}}}`, []string{
			`spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"`}},
		{"additionalProperties false", `{spec: {name: ab, closed: {b: c}}}`, []string{
			`spec.closed: Invalid value: "b": spec.closed.b in body is a forbidden property`}},
		{"format ipv4", `{spec: {name: ab, ip: 1.2.3}}`, []string{
			`spec.ip: Invalid value: "1.2.3": spec.ip in body must be of type ipv4: "1.2.3"`}},
		{"format date-time", `{spec: {name: ab, when: yesterday}}`, []string{
			`spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"`}},
		{"format k8s-short-name", `{spec: {name: ab, short: Not_Short}}`, []string{
			`spec.short: Invalid value: "Not_Short": spec.short in body must be of type k8s-short-name: "Not_Short"`}},
		{"unknown format ignored", `{spec: {name: ab, custom: anything}}`, nil},
		{"allOf", `{spec: {name: ab, allOf: 4}}`, []string{
			`spec.allOf: Invalid value: 4: spec.allOf in body should be less than or equal to 3`,
			`<nil>: Invalid value: "": "spec.allOf" must validate all the schemas (allOf)`}},
		{"anyOf", `{spec: {name: ab, anyOf: ab}}`, []string{
			`<nil>: Invalid value: "": "spec.anyOf" must validate at least one schema (anyOf)`,
			`spec.anyOf: Too long: may not be more than 1 byte`}},
		{"oneOf none", `{spec: {name: ab, oneOf: abc}}`, []string{
			`<nil>: Invalid value: "": "spec.oneOf" must validate one and only one schema (oneOf). Found none valid`,
			`spec.oneOf: Too long: may not be more than 2 bytes`}},
		{"oneOf both", `{spec: {name: ab, oneOf: x}}`, []string{
			`<nil>: Invalid value: "": "spec.oneOf" must validate one and only one schema (oneOf). Found 2 valid alternatives`}},
		{"not", `{spec: {name: ab, not: bad}}`, []string{
			`<nil>: Invalid value: "": "spec.not" must not validate the schema (not)`}},
		{"preserve unknown fields accepts anything", `{spec: {name: ab, any: {x: [1, {y: z}]}}}`, nil},
		{"set duplicates", `{spec: {name: ab, set: [a, b, a, a, b]}}`, []string{
			`spec.set[2]: Duplicate value: "a"`, `spec.set[4]: Duplicate value: "b"`}},
		{"set of objects duplicates", `{spec: {name: ab, objset: [{a: 1}, {a: 2}, {a: 1}]}}`, []string{
			`spec.objset[2]: Duplicate value: {"a":1}`}},
		{"map duplicate key", `{spec: {name: ab, map: [{name: a, v: 1}, {name: b}, {name: a, v: 2}]}}`, []string{
			`spec.map[2]: Duplicate value: {"name":"a"}`}},
		{"map composite key", `{spec: {name: ab, map2: [{name: a, port: 1}, {name: a, port: 2}, {name: a, port: 1}]}}`, []string{
			`spec.map2[2]: Duplicate value: {"name":"a","port":1}`}},
		{"map non-object item", `{spec: {name: ab, map: [{name: a}, x]}}`, []string{
			`spec.map[1]: Invalid value: "string": spec.map[1] in body must be of type object: "string"`,
			`spec.map[1]: Invalid value: "x": must be an object for an array of list-type map`}},
		{"embedded resource needs apiVersion and kind", `{spec: {name: ab, template: {spec: {}}}}`, []string{
			`spec.template.apiVersion: Required value`, `spec.template.kind: Required value`}},
		{"embedded resource type meta", `{spec: {name: ab, template: {apiVersion: "a/b/c", kind: "no kind", metadata: {name: "..", namespace: "Bad NS"}}}}`, []string{
			`spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c`,
			`spec.template.kind: Invalid value: "no kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
			`spec.template.metadata.name: Invalid value: "..": may not be '..'`,
			`spec.template.metadata.namespace: Invalid value: "Bad NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{"embedded resource valid", `{spec: {name: ab, template: {apiVersion: v1, kind: Pod, metadata: {name: x, labels: {a: b}}, spec: {anything: 1}}}}`, nil},
		{"root metadata only checked against the schema", `{metadata: {name: averyveryverylongname, generateName: "Bad Name"}, spec: {name: ab}}`, []string{
			`metadata.name: Too long: may not be more than 10 bytes`}},
		{"wrong types everywhere", `{metadata: 1, spec: {name: [1], map: x, set: {a: 1}, template: [1], labels: 1}}`, []string{
			`spec.labels: Invalid value: "integer": spec.labels in body must be of type object: "integer"`,
			`spec.map: Invalid value: "string": spec.map in body must be of type array: "string"`,
			`spec.name: Invalid value: "array": spec.name in body must be of type string: "array"`,
			`spec.set: Invalid value: "object": spec.set in body must be of type array: "object"`,
			`spec.template: Invalid value: "array": spec.template in body must be of type object: "array"`,
			`metadata: Invalid value: "integer": metadata in body must be of type object: "integer"`}},
	}
	v := Compile(mustSchema(t, specSchema))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := mustObject(t, tt.obj)
			got := errorStrings(v.Validate(obj))
			if !sameStrings(got, tt.want) {
				t.Errorf("Validate(%s) =\n%s\nwant\n%s", toJSON(obj), lines(got), lines(tt.want))
			}
			if again := errorStrings(Validate(mustSchema(t, specSchema), obj)); !sameStrings(again, got) {
				t.Errorf("Validate differs from Schema.Validate: %q vs %q", again, got)
			}
		})
	}
}

func TestValidateErrorTypes(t *testing.T) {
	s := mustSchema(t, specSchema)
	tests := []struct {
		obj  string
		want field.ErrorType
	}{
		{`{spec: {}}`, field.ErrorTypeRequired},
		{`{spec: {name: ab, mode: x}}`, field.ErrorTypeNotSupported},
		{`{spec: {name: abcdefg}}`, field.ErrorTypeTooLong},
		{`{spec: {name: ab, list: [a, b, c]}}`, field.ErrorTypeTooMany},
		{`{spec: {name: ab, labels: {a: x, b: x, c: x}}}`, field.ErrorTypeTooMany},
		{`{spec: {name: ab, set: [a, a]}}`, field.ErrorTypeDuplicate},
		{`{spec: {name: ab, replicas: x}}`, field.ErrorTypeTypeInvalid},
		{`{spec: {name: ab, replicas: 9}}`, field.ErrorTypeInvalid},
	}
	for _, tt := range tests {
		errs := Validate(s, mustObject(t, tt.obj))
		if len(errs) != 1 || errs[0].Type != tt.want {
			t.Errorf("Validate(%s) = %v, want one error of type %s", tt.obj, errs, tt.want)
		}
	}
}

func TestValidateNilSchema(t *testing.T) {
	if errs := Validate(nil, mustObject(t, `{spec: 1}`)); errs != nil {
		t.Errorf("Validate(nil) = %v, want nil", errs)
	}
	if errs := Compile(nil).Validate(mustObject(t, `{spec: 1}`)); errs != nil {
		t.Errorf("Compile(nil).Validate = %v, want nil", errs)
	}
}

func TestValidateStatusValue(t *testing.T) {
	s := mustSchema(t, `
type: object
properties:
  status:
    type: object
    properties:
      replicas: {type: integer, minimum: 0}
      conditions: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [type], items: {type: object, required: [type], properties: {type: {type: string}}}}
`)
	obj := mustObject(t, `{status: {replicas: -1, conditions: [{type: Ready}, {type: Ready}]}}`)
	got := errorStrings(Compile(SubSchema(s, ".status")).ValidateValue(field.NewPath("status"), obj["status"]))
	want := []string{
		// As upstream: the message names the field relative to the status schema.
		`status.replicas: Invalid value: -1: replicas in body should be greater than or equal to 0`,
		`status.conditions[1]: Duplicate value: {"type":"Ready"}`,
	}
	if !sameStrings(got, want) {
		t.Errorf("ValidateValue =\n%s\nwant\n%s", lines(got), lines(want))
	}
}

// sameStrings compares two lists ignoring order (upstream's order follows Go map iteration).
func sameStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// lines renders a list one item a line.
func lines(l []string) string {
	out := ""
	for _, s := range l {
		out += "  " + s + "\n"
	}
	return out
}

func TestCompiledSchemaConcurrentUse(t *testing.T) {
	c := Compile(mustSchema(t, defaultSchema))
	want := mustObject(t, `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}, list: [{name: item, port: 80}]}}`)
	done := make(chan map[string]any)
	for i := 0; i < 4; i++ {
		obj := mustObject(t, `{spec: {list: [null], bogus: 1}}`)
		go func() {
			c.Prune(obj)
			c.Default(obj)
			if errs := c.Validate(obj); len(errs) > 0 {
				t.Errorf("Validate: %v", errs)
			}
			done <- obj
		}()
	}
	for i := 0; i < 4; i++ {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("got %s, want %s", toJSON(got), toJSON(want))
		}
	}
}
