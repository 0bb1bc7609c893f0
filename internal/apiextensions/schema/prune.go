package schema

import (
	"sort"
	"strconv"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// metaFields are the TypeMeta and ObjectMeta fields kept on resources (root and embedded) whatever the schema says.
var metaFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true}

// pruner walks an object removing unknown fields and recording their paths in upstream's notation.
type pruner struct {
	parent  []string // path segments of the current value: "a", ".", "b", "[", "0", "]"
	unknown []string
}

// appendKey extends the current path with a field name.
func (p *pruner) appendKey(k string) {
	if len(p.parent) > 0 {
		p.parent = append(p.parent, ".")
	}
	p.parent = append(p.parent, k)
}

// appendIndex extends the current path with a list index.
func (p *pruner) appendIndex(i int) {
	p.parent = append(p.parent, "[", strconv.Itoa(i), "]")
}

// record notes the unknown field k of the current value.
func (p *pruner) record(k string) {
	l := len(p.parent)
	p.appendKey(k)
	p.unknown = append(p.unknown, strings.Join(p.parent, ""))
	p.parent = p.parent[:l]
}

// Prune removes, in place, the fields the schema does not specify and returns the removed fields' paths, sorted.
//
// It respects x-kubernetes-preserve-unknown-fields and x-kubernetes-embedded-resource; at the root apiVersion, kind
// and metadata are kept and metadata is reduced to ObjectMeta's fields (as are the metadata of embedded resources).
// Paths are as upstream reports them for fieldValidation, e.g. "spec.foo", "spec.list[0].bar", "metadata.foo".
// Non-nullable nulls without a default are dropped too (unreported), as upstream does when pruning. A nil schema
// keeps everything, metadata included. Metadata that does not decode as ObjectMeta is left as it is for the API
// server's ObjectMeta validation to reject.
func Prune(obj map[string]any, s *apiextv1.JSONSchemaProps) []string {
	return compile(s).pruneObject(obj)
}

// pruneObject is Prune on a compiled schema.
func (n *node) pruneObject(obj map[string]any) []string {
	if obj == nil || n == nil {
		return nil
	}
	p := &pruner{}
	if v, ok := obj["metadata"]; ok {
		p.unknown = append(p.unknown, reduceMeta(obj, v, "metadata")...)
	}
	p.prune(obj, n.asRoot())
	pruneNulls(obj, n)
	p.coerceMeta(obj, nil, n)
	sort.Strings(p.unknown)
	return p.unknown
}

// preserves reports whether s has x-kubernetes-preserve-unknown-fields: true.
func preserves(s *apiextv1.JSONSchemaProps) bool {
	return s != nil && s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields
}

// additionalSchema returns the schema of additional properties and whether additional properties are specified.
func additionalSchema(s *apiextv1.JSONSchemaProps) (*apiextv1.JSONSchemaProps, bool) {
	if s == nil || s.AdditionalProperties == nil {
		return nil, false
	}
	return s.AdditionalProperties.Schema, true
}

// prune is upstream's pruning algorithm: fields neither in properties nor covered by additionalProperties go.
func (p *pruner) prune(x any, n *node) {
	if n != nil && n.preserve {
		p.skipPrune(x, n)
		return
	}
	l := len(p.parent)
	switch x := x.(type) {
	case map[string]any:
		if n == nil {
			for k := range x {
				p.record(k)
				delete(x, k)
			}
			return
		}
		for k, v := range x {
			if n.embedded && metaFields[k] {
				continue
			}
			if sub, ok := n.field(k); ok {
				p.appendKey(k)
				p.prune(v, sub)
				p.parent = p.parent[:l]
			} else {
				if !metaFields[k] || l > 0 {
					p.record(k)
				}
				delete(x, k)
			}
		}
	case []any:
		for i, v := range x {
			p.appendIndex(i)
			p.prune(v, n.itemNode())
			p.parent = p.parent[:l]
		}
	}
}

// skipPrune keeps the fields of a value whose schema preserves unknown fields but prunes inside specified ones.
func (p *pruner) skipPrune(x any, n *node) {
	if n == nil {
		return
	}
	l := len(p.parent)
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			if n.embedded && metaFields[k] {
				continue
			}
			if sub, ok := n.field(k); ok {
				p.appendKey(k)
				p.prune(v, sub)
				p.parent = p.parent[:l]
			}
		}
	case []any:
		for i, v := range x {
			p.appendIndex(i)
			p.skipPrune(v, n.items)
			p.parent = p.parent[:l]
		}
	}
}

// coerceMeta reduces the metadata of embedded resources to ObjectMeta's fields, recording the dropped fields, as
// upstream's objectmeta.Coerce (the root's metadata is reduced by the caller).
func (p *pruner) coerceMeta(x any, pth *field.Path, n *node) {
	if n == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		if n.embedded && pth != nil {
			if v, ok := x["metadata"]; ok {
				p.unknown = append(p.unknown, reduceMeta(x, v, pth.Child("metadata").String())...)
			}
		}
		for k, v := range x {
			if sub, ok := n.props[k]; ok {
				p.coerceMeta(v, pth.Child(k), sub)
			} else if n.hasAdd {
				p.coerceMeta(v, pth.Key(k), n.add)
			}
		}
	case []any:
		for i, v := range x {
			p.coerceMeta(v, pth.Index(i), n.items)
		}
	}
}

// reduceMeta replaces obj's metadata by its ObjectMeta round trip (a zero creationTimestamp is dropped, not kept as
// null) and returns the paths of the fields this dropped.
func reduceMeta(obj map[string]any, v any, prefix string) []string {
	b, err := utiljson.Marshal(v)
	if err != nil {
		return nil
	}
	meta := &metav1.ObjectMeta{}
	strict, err := kjson.UnmarshalStrict(b, meta)
	if err != nil {
		return nil
	}
	var unknown []string
	for _, e := range strict {
		if fe, ok := e.(kjson.FieldError); ok {
			unknown = append(unknown, prefix+"."+fe.FieldPath())
		}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(meta)
	if err != nil {
		return unknown
	}
	if meta.CreationTimestamp.IsZero() {
		delete(m, "creationTimestamp")
	}
	obj["metadata"] = m
	return unknown
}
