package schema

import (
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// Default sets, in place, the schema's defaults on obj, then prunes what the defaults added that the schema does not
// allow.
//
// As upstream's structural defaulting: non-nullable nulls without a default are dropped first; a missing property of a
// present object, or a non-nullable null one, gets the property's default; null array items and null additional
// properties that are not nullable get the items' or additionalProperties' default. Defaults are pruned against their
// own schema and deep-copied before they are set. A nil schema does nothing.
func Default(obj map[string]any, s *apiextv1.JSONSchemaProps) {
	compile(s).defaultObject(obj)
}

// defaultObject is Default on a compiled schema.
func (n *node) defaultObject(obj map[string]any) {
	if n == nil || obj == nil {
		return
	}
	pruneNulls(obj, n)
	applyDefaults(obj, n)
}

// isNonNullableNull reports whether x is null where n does not allow null.
func isNonNullableNull(x any, n *node) bool {
	return x == nil && n != nil && !n.nullable
}

// applyDefaults is upstream's defaulting algorithm.
func applyDefaults(x any, n *node) {
	if n == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range n.props {
			if prop == nil || prop.def == nil {
				continue
			}
			if v, found := x[k]; !found || isNonNullableNull(v, prop) {
				x[k] = deepCopy(prop.def)
			}
		}
		for k, v := range x {
			if prop, found := n.props[k]; found {
				applyDefaults(v, prop)
			} else if n.hasAdd {
				if isNonNullableNull(v, n.add) && n.add.def != nil {
					x[k] = deepCopy(n.add.def)
				}
				applyDefaults(x[k], n.add)
			}
		}
	case []any:
		for i := range x {
			if isNonNullableNull(x[i], n.items) && n.items.def != nil {
				x[i] = deepCopy(n.items.def)
			}
			applyDefaults(x[i], n.items)
		}
	}
}

// pruneNulls removes non-nullable nulls that have no default (those with one are defaulted later), as upstream's
// PruneNonNullableNullsWithoutDefaults.
func pruneNulls(x any, n *node) {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			sub, _ := n.field(k)
			if v == nil && sub != nil && !sub.nullable && sub.def == nil {
				delete(x, k)
			} else {
				pruneNulls(v, sub)
			}
		}
	case []any:
		items := n.itemNode()
		for i := range x {
			pruneNulls(x[i], items)
		}
	}
}
