package schema

import (
	"fmt"
	"strings"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// benchSchemaAndObject returns a CRD schema with a 30-field spec (scalars with constraints, a list-map, a set, a
// nested object, a string map) and a matching object carrying two unknown fields and two defaulted ones missing.
func benchSchemaAndObject(b *testing.B) (*apiextv1.JSONSchemaProps, map[string]any) {
	var props, fields []string
	for i := 0; i < 24; i++ {
		switch i % 4 {
		case 0:
			props = append(props, fmt.Sprintf("s%d: {type: string, maxLength: 63, pattern: '^[a-z0-9-]+$'}", i))
			fields = append(fields, fmt.Sprintf("s%d: value-%d", i, i))
		case 1:
			props = append(props, fmt.Sprintf("i%d: {type: integer, minimum: 0, maximum: 1000, default: 1}", i))
			if i > 5 {
				fields = append(fields, fmt.Sprintf("i%d: %d", i, i))
			}
		case 2:
			props = append(props, fmt.Sprintf("b%d: {type: boolean}", i))
			fields = append(fields, fmt.Sprintf("b%d: true", i))
		case 3:
			props = append(props, fmt.Sprintf("e%d: {type: string, enum: [One, Two, Three]}", i))
			fields = append(fields, fmt.Sprintf("e%d: Two", i))
		}
	}
	props = append(props,
		"ports: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [name], items: {type: object, required: [name], properties: {name: {type: string}, port: {type: integer, default: 80}}}}",
		"tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}",
		"labels: {type: object, additionalProperties: {type: string}}",
		"nested: {type: object, properties: {a: {type: string}, b: {type: integer}}}",
		"quantity: {x-kubernetes-int-or-string: true}",
		"ip: {type: string, format: ipv4}",
	)
	fields = append(fields,
		"ports: [{name: http, port: 80}, {name: https}]",
		"tags: [a, b, c]",
		"labels: {app: web, tier: front}",
		"nested: {a: x, b: 2, unknown: 1}",
		"quantity: 50%",
		"ip: 10.0.0.1",
		"extra: field",
	)
	src := "type: object\nproperties:\n  spec:\n    type: object\n    properties:\n"
	for _, p := range props {
		src += "      " + p + "\n"
	}
	s := mustSchema(b, src)
	obj := mustObject(b, "{apiVersion: x/v1, kind: Bench, metadata: {name: bench, namespace: default}, spec: {"+strings.Join(fields, ", ")+"}}")
	return s, obj
}

func BenchmarkValidatePruneDefault(b *testing.B) {
	s, obj := benchSchemaAndObject(b)
	if errs := ValidateCRDSchema(s, nil); len(errs) > 0 {
		b.Fatalf("bench schema invalid: %v", errs)
	}
	check := deepCopy(obj).(map[string]any)
	if removed := Prune(check, s); len(removed) != 2 {
		b.Fatalf("Prune removed %q, want spec.extra and spec.nested.unknown", removed)
	}
	Default(check, s)
	if errs := Validate(s, check); len(errs) > 0 {
		b.Fatalf("bench object invalid: %v", errs)
	}
	b.Run("Compiled", func(b *testing.B) {
		c := Compile(s)
		b.ReportAllocs()
		for b.Loop() {
			o := deepCopy(obj).(map[string]any)
			c.Prune(o)
			c.Default(o)
			if errs := c.Validate(o); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("Functions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o := deepCopy(obj).(map[string]any)
			Prune(o, s)
			Default(o, s)
			if errs := Validate(s, o); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("DeepCopyOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = deepCopy(obj)
		}
	})
	c := Compile(s)
	b.Run("CompiledPruneOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Prune(deepCopy(obj).(map[string]any))
		}
	})
	b.Run("CompiledDefaultOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Default(deepCopy(obj).(map[string]any))
		}
	})
	b.Run("CompiledValidateOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if errs := c.Validate(check); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
}
