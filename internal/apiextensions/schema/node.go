package schema

import (
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// node is a schema compiled for walking objects: sub-schemas by pointer and the default decoded and pruned once
// (as upstream prunes defaults when it loads a CRD).
type node struct {
	schema   *apiextv1.JSONSchemaProps
	props    map[string]*node
	items    *node
	add      *node // schema of additionalProperties; nil when unspecified or a bare boolean
	hasAdd   bool  // additionalProperties is specified (schema or boolean)
	preserve bool  // x-kubernetes-preserve-unknown-fields: true
	embedded bool  // x-kubernetes-embedded-resource: true
	nullable bool
	def      any // pruned default; nil when there is none (or it is null)
	listType string
	mapKeys  []string
}

// compile builds the node tree of s; nil for a nil schema.
func compile(s *apiextv1.JSONSchemaProps) *node {
	if s == nil {
		return nil
	}
	n := &node{
		schema:   s,
		preserve: preserves(s),
		embedded: s.XEmbeddedResource,
		nullable: s.Nullable,
		mapKeys:  s.XListMapKeys,
	}
	if s.XListType != nil {
		n.listType = *s.XListType
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*node, len(s.Properties))
		for k := range s.Properties {
			prop := s.Properties[k]
			n.props[k] = compile(&prop)
		}
	}
	if s.Items != nil {
		n.items = compile(s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		n.hasAdd = true
		n.add = compile(s.AdditionalProperties.Schema)
	}
	if d, ok := jsonValue(s.Default); ok && d != nil {
		(&pruner{}).prune(d, n)
		n.def = d
	}
	return n
}

// asRoot returns n, which must not be nil, treated as a resource root: an embedded resource.
func (n *node) asRoot() *node {
	if n.embedded {
		return n
	}
	clone := *n
	clone.embedded = true
	return &clone
}

// field returns the node of field k of an object with schema n: its property, else additionalProperties' schema.
func (n *node) field(k string) (*node, bool) {
	if n == nil {
		return nil, false
	}
	if p, ok := n.props[k]; ok {
		return p, true
	}
	if n.hasAdd {
		return n.add, true
	}
	return nil, false
}

// itemNode returns the node of array items, nil-safe.
func (n *node) itemNode() *node {
	if n == nil {
		return nil
	}
	return n.items
}
