package schema

import (
	"reflect"
	"testing"
)

const pruneSchema = `
type: object
properties:
  spec:
    type: object
    properties:
      name: {type: string}
      list:
        type: array
        items: {type: object, properties: {a: {type: string}}}
      labels: {type: object, additionalProperties: {type: object, properties: {v: {type: string}}}}
      free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {typed: {type: object, properties: {x: {type: string}}}}}
      freeList: {type: array, items: {type: object, x-kubernetes-preserve-unknown-fields: true}}
      template:
        type: object
        x-kubernetes-embedded-resource: true
        properties:
          spec: {type: object, properties: {x: {type: string}}}
      raw:
        type: object
        x-kubernetes-embedded-resource: true
        x-kubernetes-preserve-unknown-fields: true
      scalar: {type: string}
  status:
    type: object
    properties:
      ready: {type: boolean}
`

func TestPrune(t *testing.T) {
	tests := []struct {
		name    string
		schema  string
		obj     string
		want    string
		removed []string
	}{
		{
			name:   "known fields kept",
			schema: pruneSchema,
			obj:    `{apiVersion: x/v1, kind: X, metadata: {name: a}, spec: {name: n}, status: {ready: true}}`,
			want:   `{apiVersion: x/v1, kind: X, metadata: {name: a}, spec: {name: n}, status: {ready: true}}`,
		},
		{
			name:    "unknown fields dropped at every level",
			schema:  pruneSchema,
			obj:     `{extra: 1, spec: {name: n, foo: {bar: 1}, list: [{a: x, b: y}, {c: z}]}, status: {ready: true, phase: x}}`,
			want:    `{spec: {name: n, list: [{a: x}, {}]}, status: {ready: true}}`,
			removed: []string{"extra", "spec.foo", "spec.list[0].b", "spec.list[1].c", "status.phase"},
		},
		{
			name:    "additionalProperties schema prunes inside values",
			schema:  pruneSchema,
			obj:     `{spec: {labels: {one: {v: x, w: y}, two: {}}}}`,
			want:    `{spec: {labels: {one: {v: x}, two: {}}}}`,
			removed: []string{"spec.labels.one.w"},
		},
		{
			name:    "preserve-unknown-fields keeps unknown but prunes specified",
			schema:  pruneSchema,
			obj:     `{spec: {free: {any: {deep: [1]}, typed: {x: a, z: b}}, freeList: [{a: 1}]}}`,
			want:    `{spec: {free: {any: {deep: [1]}, typed: {x: a}}, freeList: [{a: 1}]}}`,
			removed: []string{"spec.free.typed.z"},
		},
		{
			name:    "embedded resource keeps type meta and reduces metadata",
			schema:  pruneSchema,
			obj:     `{spec: {template: {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {a: b}, bogus: 1}, spec: {x: a, z: b}, other: 1}}}`,
			want:    `{spec: {template: {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {a: b}}, spec: {x: a}}}}`,
			removed: []string{"spec.template.metadata.bogus", "spec.template.other", "spec.template.spec.z"},
		},
		{
			name:    "embedded preserving resource keeps everything but unknown metadata",
			schema:  pruneSchema,
			obj:     `{spec: {raw: {apiVersion: v1, kind: Pod, metadata: {name: p, bogus: 1}, spec: {anything: [1]}}}}`,
			want:    `{spec: {raw: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {anything: [1]}}}}`,
			removed: []string{"spec.raw.metadata.bogus"},
		},
		{
			name:    "root metadata reduced to ObjectMeta",
			schema:  pruneSchema,
			obj:     `{apiVersion: x/v1, kind: X, metadata: {name: a, namespace: ns, labels: {a: b}, finalizers: [f], foo: 1, annotations: {x: z}}}`,
			want:    `{apiVersion: x/v1, kind: X, metadata: {name: a, namespace: ns, labels: {a: b}, finalizers: [f], annotations: {x: z}}}`,
			removed: []string{"metadata.foo"},
		},
		{
			name:    "wrong types are left for validation",
			schema:  pruneSchema,
			obj:     `{spec: {name: {nested: 1}, list: x, labels: [1, {v: 1}], scalar: [{a: 1}]}, status: 1}`,
			want:    `{spec: {name: {}, list: x, labels: [1, {}], scalar: [{}]}, status: 1}`,
			removed: []string{"spec.labels[1].v", "spec.name.nested", "spec.scalar[0].a"},
		},
		{
			name:    "malformed metadata left for ObjectMeta validation",
			schema:  pruneSchema,
			obj:     `{metadata: {name: 1, foo: 2}, spec: {}}`,
			want:    `{metadata: {name: 1, foo: 2}, spec: {}}`,
			removed: nil,
		},
		{
			name:    "root preserve-unknown-fields",
			schema:  `{type: object, x-kubernetes-preserve-unknown-fields: true, properties: {spec: {type: object, properties: {a: {type: string}}}}}`,
			obj:     `{anything: 1, spec: {a: x, b: y}}`,
			want:    `{anything: 1, spec: {a: x}}`,
			removed: []string{"spec.b"},
		},
		{
			name:    "non-nullable nulls without default dropped",
			schema:  `{type: object, properties: {spec: {type: object, properties: {a: {type: string}, b: {type: string, nullable: true}, c: {type: string, default: x}}}}}`,
			obj:     `{spec: {a: null, b: null, c: null}}`,
			want:    `{spec: {b: null, c: null}}`,
			removed: nil,
		},
		{
			name:    "nil schema keeps everything",
			schema:  "",
			obj:     `{spec: {a: {b: c}}, metadata: {name: a, foo: b}}`,
			want:    `{spec: {a: {b: c}}, metadata: {name: a, foo: b}}`,
			removed: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := mustObject(t, tt.obj)
			compiled := mustObject(t, tt.obj)
			removed := Prune(obj, mustSchema(t, tt.schema))
			if again := Compile(mustSchema(t, tt.schema)).Prune(compiled); !reflect.DeepEqual(obj, compiled) || !reflect.DeepEqual(again, removed) {
				t.Errorf("Schema.Prune = %s %q, Prune = %s %q", toJSON(compiled), again, toJSON(obj), removed)
			}
			if want := mustObject(t, tt.want); !reflect.DeepEqual(obj, want) {
				t.Errorf("Prune = %s, want %s", toJSON(obj), toJSON(want))
			}
			if !reflect.DeepEqual(removed, tt.removed) {
				t.Errorf("removed = %q, want %q", removed, tt.removed)
			}
		})
	}
}
