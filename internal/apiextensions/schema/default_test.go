package schema

import (
	"reflect"
	"testing"
)

const defaultSchema = `
type: object
properties:
  spec:
    type: object
    default: {}
    properties:
      replicas: {type: integer, default: 1}
      mode: {type: string, default: Fast}
      nullableWithDefault: {type: string, nullable: true, default: x}
      obj:
        type: object
        default: {a: 1}
        properties:
          a: {type: integer}
          b: {type: string, default: bee}
      list:
        type: array
        items:
          type: object
          default: {name: item}
          properties:
            name: {type: string}
            port: {type: integer, default: 80}
      labels:
        type: object
        additionalProperties: {type: string, default: none}
      conf:
        type: object
        additionalProperties:
          type: object
          properties:
            level: {type: integer, default: 3}
      free: {type: object, x-kubernetes-preserve-unknown-fields: true, default: {keep: me}}
  status:
    type: object
    properties:
      phase: {type: string, default: Pending}
`

func TestDefault(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		obj    string
		want   string
	}{
		{
			name:   "missing object defaulted then its fields",
			schema: defaultSchema,
			obj:    `{apiVersion: x/v1, kind: X}`,
			want:   `{apiVersion: x/v1, kind: X, spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}}}`,
		},
		{
			name:   "present values kept",
			schema: defaultSchema,
			obj:    `{spec: {replicas: 5, mode: Slow, nullableWithDefault: z, obj: {a: 2, b: c}, free: {}}}`,
			want:   `{spec: {replicas: 5, mode: Slow, nullableWithDefault: z, obj: {a: 2, b: c}, free: {}}}`,
		},
		{
			name:   "non-nullable null replaced by default, nullable null kept",
			schema: defaultSchema,
			obj:    `{spec: {replicas: null, nullableWithDefault: null, obj: null}}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: null, obj: {a: 1, b: bee}, free: {keep: me}}}`,
		},
		{
			name:   "array items: null items defaulted, fields of items defaulted",
			schema: defaultSchema,
			obj:    `{spec: {list: [null, {name: a}, {name: b, port: 8080}]}}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}, list: [{name: item, port: 80}, {name: a, port: 80}, {name: b, port: 8080}]}}`,
		},
		{
			name:   "additionalProperties: null values defaulted, values' fields defaulted",
			schema: defaultSchema,
			obj:    `{spec: {labels: {a: null, b: set}, conf: {x: {}, y: {level: 1}}}}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}, labels: {a: none, b: set}, conf: {x: {level: 3}, y: {level: 1}}}}`,
		},
		{
			name:   "absent object not created without default",
			schema: defaultSchema,
			obj:    `{spec: {}, status: null}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}}}`,
		},
		{
			name:   "status defaulted when present",
			schema: defaultSchema,
			obj:    `{spec: {}, status: {}}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: {a: 1, b: bee}, free: {keep: me}}, status: {phase: Pending}}`,
		},
		{
			name:   "wrong types left alone",
			schema: defaultSchema,
			obj:    `{spec: {obj: 3, list: {a: 1}, labels: [null], conf: x}}`,
			want:   `{spec: {replicas: 1, mode: Fast, nullableWithDefault: x, obj: 3, free: {keep: me}, list: {a: 1}, labels: [null], conf: x}}`,
		},
		{
			name:   "nil schema does nothing",
			schema: "",
			obj:    `{spec: {a: null}}`,
			want:   `{spec: {a: null}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := mustObject(t, tt.obj)
			Default(obj, mustSchema(t, tt.schema))
			compiled := mustObject(t, tt.obj)
			Compile(mustSchema(t, tt.schema)).Default(compiled)
			if !reflect.DeepEqual(obj, compiled) {
				t.Errorf("Schema.Default = %s, Default = %s", toJSON(compiled), toJSON(obj))
			}
			if want := mustObject(t, tt.want); !reflect.DeepEqual(obj, want) {
				t.Errorf("Default =\n %s\nwant\n %s", toJSON(obj), toJSON(want))
			}
		})
	}
}

func TestDefaultPrunesDefaults(t *testing.T) {
	// CRD validation rejects such defaults, but Default must not add fields the schema would prune.
	s := mustSchema(t, `{type: object, properties: {spec: {type: object, default: {a: 1, extra: {b: 2}}, properties: {a: {type: integer}}}}}`)
	obj := mustObject(t, `{}`)
	Default(obj, s)
	if want := mustObject(t, `{spec: {a: 1}}`); !reflect.DeepEqual(obj, want) {
		t.Errorf("Default = %s, want %s", toJSON(obj), toJSON(want))
	}
}

func TestDefaultDeepCopies(t *testing.T) {
	s := mustSchema(t, defaultSchema)
	a, b := mustObject(t, `{}`), mustObject(t, `{}`)
	Default(a, s)
	Default(b, s)
	a["spec"].(map[string]any)["obj"].(map[string]any)["a"] = int64(99)
	if got := b["spec"].(map[string]any)["obj"].(map[string]any)["a"]; got != int64(1) {
		t.Errorf("defaults share memory: b.spec.obj.a = %v after changing a", got)
	}
	if d := string(s.Properties["spec"].Properties["obj"].Default.Raw); d != `{"a":1}` {
		t.Errorf("schema default modified: %s", d)
	}
}
