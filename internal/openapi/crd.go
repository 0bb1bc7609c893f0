package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// This file builds the routes and definitions of custom resources as
// apiextensions-apiserver's pkg/controller/openapi/builder does (Kubernetes
// 1.32, CustomResourceFieldSelectors on).

// Model names of the metav1 types the custom resource schemas refer to.
const (
	typeMetaModel   = "io.k8s.apimachinery.pkg.apis.meta.v1.TypeMeta"
	objectMetaModel = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	listMetaModel   = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
)

// Media types of custom resource operations (the builder's, not the installer's).
var (
	crMediaTypes = []string{"application/json", "application/yaml"}
	crPatchTypes = []string{"application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"}
	getParams    = optionParams(&metav1.GetOptions{})
)

// crdVersion is one served version of an established CRD: what its
// documents are built from. Its fields are exported so that its JSON form can
// serve as a fingerprint of the documents.
type crdVersion struct {
	Group, Version, Kind, ListKind, Plural string
	Namespaced                             bool
	Schema                                 *apiextv1.JSONSchemaProps // nil if none or not structural
	PreserveUnknownFields                  bool                      // spec.preserveUnknownFields
	Status, Scale                          bool
	SelectableFields                       []string // JSON paths without the leading '.'
}

// docKey is the /openapi/v3 index key of the version's document.
func (v *crdVersion) docKey() string { return "apis/" + v.Group + "/" + v.Version }

// modelName names a kind of the CRD's group version as upstream does:
// reversed group, version, kind (com.example.stable.v1.CronTab).
func (v *crdVersion) modelName(kind string) string {
	parts := strings.Split(v.Group, ".")
	slices.Reverse(parts)
	return strings.Join(parts, ".") + "." + v.Version + "." + kind
}

// crdModel is a request or response sample of a custom resource kind;
// kube-openapi resolves it to its definition by OpenAPIModelName.
type crdModel string

func (m crdModel) OpenAPIModelName() string { return string(m) }

// isEstablished reports whether crd has the condition Established=True.
func isEstablished(crd *apiextv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextv1.Established {
			return c.Status == apiextv1.ConditionTrue
		}
	}
	return false
}

// crdVersions returns the served versions of the established CRDs, sorted by
// document key and kind. CRDs missing a group, kind, list kind or plural are
// reported in the error and left out.
func crdVersions(crds []*apiextv1.CustomResourceDefinition) ([]crdVersion, []error) {
	var out []crdVersion
	var errs []error
	for _, crd := range crds {
		if crd == nil || !isEstablished(crd) {
			continue
		}
		n := crd.Spec.Names
		if crd.Spec.Group == "" || n.Kind == "" || n.ListKind == "" || n.Plural == "" {
			errs = append(errs, fmt.Errorf("crd %s: group, kind, listKind and plural are required", crd.Name))
			continue
		}
		for _, ver := range crd.Spec.Versions {
			if !ver.Served || ver.Name == "" {
				continue
			}
			v := crdVersion{
				Group: crd.Spec.Group, Version: ver.Name, Kind: n.Kind, ListKind: n.ListKind, Plural: n.Plural,
				Namespaced:            crd.Spec.Scope == apiextv1.NamespaceScoped,
				PreserveUnknownFields: crd.Spec.PreserveUnknownFields,
			}
			if ver.Schema != nil && ver.Schema.OpenAPIV3Schema != nil && structural(ver.Schema.OpenAPIV3Schema) {
				v.Schema = ver.Schema.OpenAPIV3Schema
			}
			if sr := ver.Subresources; sr != nil {
				v.Status = sr.Status != nil
				v.Scale = sr.Scale != nil
			}
			for _, f := range ver.SelectableFields {
				v.SelectableFields = append(v.SelectableFields, strings.TrimPrefix(f.JSONPath, "."))
			}
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].docKey(), out[j].docKey(); a != b {
			return a < b
		}
		return out[i].Kind < out[j].Kind
	})
	return out, errs
}

// definitions returns the kind and list definitions of v, for a document
// whose definitions live under prefix ("#/definitions/" for v2), given the
// generated definitions base.
func (v *crdVersion) definitions(base map[string]common.OpenAPIDefinition, prefix string) map[string]common.OpenAPIDefinition {
	v2 := prefix == "#/definitions/"
	typeMeta := base[typeMetaModel].Schema.Properties
	gvk := func(kind string) []any {
		return []any{map[string]any{"group": v.Group, "version": v.Version, "kind": kind}}
	}

	// Without a schema, or in v2 when unknown fields are preserved at the
	// root, upstream publishes a bare object: listing apiVersion, kind and
	// metadata would make kubectl reject every other field.
	var kind *spec.Schema
	switch {
	case v.Schema == nil, v2 && (v.PreserveUnknownFields || (v.Schema.XPreserveUnknownFields != nil && *v.Schema.XPreserveUnknownFields)):
		kind = &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"object"}}}
	default:
		kind = convertSchema(v.Schema, v2)
		kind.SetProperty("metadata", *spec.RefSchema(prefix + objectMetaModel).WithDescription(metadataDesc))
		kind.SetProperty("apiVersion", typeMeta["apiVersion"])
		kind.SetProperty("kind", typeMeta["kind"])
		addEmbeddedProperties(kind, typeMeta, prefix, v2)
	}
	kind.AddExtension(extensionGVK, gvk(v.Kind))
	fields := selectableFields(v.SelectableFields)
	if fields != nil {
		kind.AddExtension("x-kubernetes-selectable-fields", fields)
	}

	list := new(spec.Schema).
		Typed("object", "").
		WithDescription(fmt.Sprintf("%s is a list of %s", v.ListKind, v.Kind)).
		WithRequired("items").
		SetProperty("items", *spec.ArrayProperty(spec.RefSchema(prefix + v.modelName(v.Kind))).WithDescription(
			fmt.Sprintf("List of %s. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", v.Plural))).
		SetProperty("metadata", *spec.RefSchema(prefix + listMetaModel).WithDescription(listMetadataDesc))
	list.SetProperty("apiVersion", typeMeta["apiVersion"])
	list.SetProperty("kind", typeMeta["kind"])
	list.AddExtension(extensionGVK, gvk(v.ListKind))
	if fields != nil {
		list.AddExtension("x-kubernetes-selectable-fields", fields)
	}

	return map[string]common.OpenAPIDefinition{
		v.modelName(v.Kind):     {Schema: *kind, Dependencies: []string{objectMetaModel}},
		v.modelName(v.ListKind): {Schema: *list, Dependencies: []string{listMetaModel, v.modelName(v.Kind)}},
	}
}

// Descriptions of metadata properties, from PartialObjectMetadata(List) as upstream.
var (
	metadataDesc     = metav1.PartialObjectMetadata{}.SwaggerDoc()["metadata"]
	listMetadataDesc = metav1.PartialObjectMetadataList{}.SwaggerDoc()["metadata"]
)

func selectableFields(paths []string) []any {
	if len(paths) == 0 {
		return nil
	}
	out := make([]any, len(paths))
	for i, p := range paths {
		out[i] = map[string]any{"fieldPath": p}
	}
	return out
}

// addEmbeddedProperties gives x-kubernetes-embedded-resource nodes
// apiVersion, kind and metadata (required apiVersion and kind), as upstream;
// not in v2 below a preserve-unknown-fields node.
func addEmbeddedProperties(s *spec.Schema, typeMeta map[string]spec.Schema, prefix string, v2 bool) {
	if s == nil {
		return
	}
	for k, p := range s.Properties {
		addEmbeddedProperties(&p, typeMeta, prefix, v2)
		s.Properties[k] = p
	}
	if s.Items != nil {
		addEmbeddedProperties(s.Items.Schema, typeMeta, prefix, v2)
	}
	if s.AdditionalProperties != nil {
		addEmbeddedProperties(s.AdditionalProperties.Schema, typeMeta, prefix, v2)
	}
	if v2 && hasExt(s, extPreserveUnknown) {
		return
	}
	if !hasExt(s, extEmbedded) {
		return
	}
	s.SetProperty("apiVersion", withDescription(typeMeta["apiVersion"],
		"apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"))
	s.SetProperty("kind", withDescription(typeMeta["kind"],
		"kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"))
	s.SetProperty("metadata", *spec.RefSchema(prefix + objectMetaModel).WithDescription(metadataDesc))
	if !slices.Contains(s.Required, "kind") {
		s.Required = append(s.Required, "kind")
	}
	if !slices.Contains(s.Required, "apiVersion") {
		s.Required = append(s.Required, "apiVersion")
	}
}

// withDescription returns a copy of s with description desc.
func withDescription(s spec.Schema, desc string) spec.Schema {
	s.Description = desc
	return s
}

// addCustomResource adds the routes of v to c, as upstream's
// generateBuilder: list (and list across namespaces), create,
// deletecollection, read, replace, delete and patch; status and scale
// subresources if the version has them. Upstream has no /watch/ paths for
// custom resources; list's watch parameter covers them.
func addCustomResource(c *container, v *crdVersion) {
	kind := v.Kind
	obj := crdModel(v.modelName(kind))
	list := crdModel(v.modelName(v.ListKind))
	gvk := metav1.GroupVersionKind{Group: v.Group, Version: v.Version, Kind: kind}
	meta := func(action string) map[string]any {
		return map[string]any{"x-kubernetes-action": action, extensionGVK: gvk}
	}
	pretty := []common.Parameter{prettyParam}
	var ns string
	var scope []common.Parameter
	root := c.root + "/" + v.Plural
	if v.Namespaced {
		ns = "Namespaced"
		scope = []common.Parameter{pathParam("namespace", namespaceDesc)}
		c.add(&route{
			method: "GET", path: root, desc: "list objects of kind " + kind,
			params: params(pretty, listParams), consumes: crMediaTypes, produces: crMediaTypes,
			meta: meta("list"), responses: ok(list),
		}, "list", kind+"ForAllNamespaces")
		root = c.root + "/namespaces/{namespace}/" + v.Plural
	}
	name := []common.Parameter{pathParam("name", "name of the "+kind)}
	item := root + "/{name}"

	c.add(&route{
		method: "GET", path: root, desc: "list objects of kind " + kind,
		params: params(scope, pretty, listParams), consumes: crMediaTypes, produces: crMediaTypes,
		meta: meta("list"), responses: ok(list),
	}, "list", ns+kind)
	c.add(&route{
		method: "POST", path: root, desc: "create" + article(kind) + kind,
		params:   params(scope, pretty, createParams, []common.Parameter{bodyParam(true)}),
		consumes: crMediaTypes, produces: crMediaTypes, body: obj,
		meta: meta("post"), responses: okCreatedAccepted(obj),
	}, "create", ns+kind)
	c.add(&route{
		method: "DELETE", path: root, desc: "delete collection of " + kind,
		params: params(scope, pretty, listParams), consumes: crMediaTypes, produces: crMediaTypes,
		meta: meta("deletecollection"), responses: ok(&metav1.Status{}),
	}, "delete", "Collection"+ns+kind)

	c.add(&route{
		method: "GET", path: item, desc: "read the specified " + kind,
		params: params(scope, name, pretty, getParams), consumes: crMediaTypes, produces: crMediaTypes,
		meta: meta("get"), responses: ok(obj),
	}, "read", ns+kind)
	c.add(&route{
		method: "PUT", path: item, desc: "replace the specified " + kind,
		params:   params(scope, name, pretty, updateParams, []common.Parameter{bodyParam(true)}),
		consumes: crMediaTypes, produces: crMediaTypes, body: obj,
		meta: meta("put"), responses: okCreated(obj),
	}, "replace", ns+kind)
	c.add(&route{
		method: "DELETE", path: item, desc: "delete" + article(kind) + kind,
		params:   params(scope, name, pretty, deleteParams, []common.Parameter{bodyParam(false)}),
		consumes: crMediaTypes, produces: crMediaTypes, body: &metav1.DeleteOptions{},
		meta: meta("delete"), responses: okAccepted(&metav1.Status{}),
	}, "delete", ns+kind)
	c.add(&route{
		method: "PATCH", path: item, desc: "partially update the specified " + kind,
		params:   params(scope, name, pretty, patchParams, []common.Parameter{bodyParam(true)}),
		consumes: crPatchTypes, produces: crMediaTypes, body: &metav1.Patch{},
		meta: meta("patch"), responses: ok(obj),
	}, "patch", ns+kind)

	sub := func(sub string, model any) {
		path := item + "/" + sub
		title := titleCase(sub)
		c.add(&route{
			method: "GET", path: path, desc: "read " + sub + " of the specified " + kind,
			params: params(scope, name, pretty, getParams), consumes: crMediaTypes, produces: crMediaTypes,
			meta: meta("get"), responses: ok(model),
		}, "read", ns+kind+title)
		c.add(&route{
			method: "PUT", path: path, desc: "replace " + sub + " of the specified " + kind,
			params:   params(scope, name, pretty, updateParams, []common.Parameter{bodyParam(true)}),
			consumes: crMediaTypes, produces: crMediaTypes, body: model,
			meta: meta("put"), responses: okCreated(model),
		}, "replace", ns+kind+title)
		c.add(&route{
			method: "PATCH", path: path, desc: "partially update " + sub + " of the specified " + kind,
			params:   params(scope, name, pretty, patchParams, []common.Parameter{bodyParam(true)}),
			consumes: crPatchTypes, produces: crMediaTypes, body: &metav1.Patch{},
			meta: meta("patch"), responses: ok(model),
		}, "patch", ns+kind+title)
	}
	if v.Status {
		sub("status", obj)
	}
	if v.Scale {
		sub("scale", &autoscalingv1.Scale{})
	}
}

// SetCustomResources replaces the documents of custom resources with those of
// crds (each served version of each established CRD, with its schema); safe
// to call concurrently with ServeHTTP.
//
// Each group version gets a v3 document at apis/<group>/<version> (merged
// with the built-in one if a built-in group version has that key), and
// /openapi/v2 is rebuilt with the custom resources' paths and definitions.
// Unchanged documents keep their hashes. A CRD that cannot be published (no
// kind, list kind or plural, or a kind whose definition name clashes with a
// built-in one) is left out and reported in the error; the others are
// published all the same.
func (s *Service) SetCustomResources(crds []*apiextv1.CustomResourceDefinition) error {
	versions, errs := crdVersions(crds)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Generating the definitions takes milliseconds; keeping them would
	// cost megabytes.
	defsV2, defsV3 := generatedDefs(s.namer)

	// Group the versions by document; compute the definitions.
	type group struct {
		versions       []*crdVersion
		defsV3, defsV2 map[string]common.OpenAPIDefinition
	}
	groups := map[string]*group{}
	var keys []string
	for i := range versions {
		v := &versions[i]
		name := v.modelName(v.Kind)
		if _, clash := defsV3[name]; clash {
			errs = append(errs, fmt.Errorf("custom resource %s: definition %s is built in", v.docKey(), name))
			continue
		}
		if _, clash := defsV3[v.modelName(v.ListKind)]; clash {
			errs = append(errs, fmt.Errorf("custom resource %s: definition %s is built in", v.docKey(), v.modelName(v.ListKind)))
			continue
		}
		g := groups[v.docKey()]
		if g == nil {
			g = &group{defsV3: map[string]common.OpenAPIDefinition{}, defsV2: map[string]common.OpenAPIDefinition{}}
			groups[v.docKey()] = g
			keys = append(keys, v.docKey())
		}
		g.versions = append(g.versions, v)
		for k, d := range v.definitions(defsV3, "#/components/schemas/") {
			g.defsV3[k] = d
		}
		for k, d := range v.definitions(defsV2, "#/definitions/") {
			g.defsV2[k] = d
		}
	}
	sort.Strings(keys)

	fps := make(map[string]string, len(keys))
	var all strings.Builder
	for _, key := range keys {
		b, err := json.Marshal(groups[key].versions)
		if err != nil {
			return fmt.Errorf("openapi: custom resources: %w", err)
		}
		fps[key] = string(b)
		all.WriteString(key)
		all.Write(b)
	}
	if all.String() == s.crFP {
		return errors.Join(errs...) // nothing changed
	}

	// Build what changed: per group version, the v3 document and the part
	// of the v2 document (as upstream, merged into the built-in v2 document).
	crV3 := make(map[string]crDoc, len(keys))
	for _, key := range keys {
		if old, ok := s.crV3[key]; ok && old.fp == fps[key] {
			crV3[key] = old
			continue
		}
		d, err := s.buildCustomResources(key, groups[key].versions,
			mergeDefs(defsV3, groups[key].defsV3), mergeDefs(defsV2, groups[key].defsV2))
		if err != nil {
			return err
		}
		d.fp = fps[key]
		crV3[key] = d
	}
	v2, err := s.mergeV2(keys, crV3)
	if err != nil {
		return err
	}

	v3 := make(map[string]*v3Doc, len(s.baseV3)+len(crV3))
	for k, d := range s.baseV3 {
		v3[k] = d
	}
	for k, d := range crV3 {
		v3[k] = d.doc
	}
	d, err := newDocs(v3, v2)
	if err != nil {
		return err
	}
	s.docs.Store(d)
	s.crV3, s.crFP = crV3, all.String()
	return errors.Join(errs...)
}

// buildCustomResources builds the v3 document at key and the v2 part of the
// custom resource versions, whose definitions (generated and theirs) are
// defsV3 and defsV2.
func (s *Service) buildCustomResources(key string, versions []*crdVersion, defsV3, defsV2 map[string]common.OpenAPIDefinition) (crDoc, error) {
	c := &container{root: "/" + key}
	for _, v := range versions {
		addCustomResource(c, v)
	}
	v2c := make(chan v2Result, 1)
	go func() { v2c <- s.buildV2([]*container{c}, defsV2) }()

	cfg := crdV3Config(s.namer, defsV3)
	c3 := c
	if base := s.baseContainer(key); base != nil {
		// A built-in group version shares the key: one document, shaped
		// like the built-in ones.
		c3 = &container{root: c.root, routes: append(slices.Clip(base.routes), c.routes...)}
		cfg = v3Config(s.namer, defsV3)
	}
	doc, err := buildV3Doc(c3, cfg)
	v2 := <-v2c
	if err != nil {
		return crDoc{}, err
	}
	if v2.err != nil {
		return crDoc{}, v2.err
	}
	var part v2Part
	if err := json.Unmarshal(v2.b, &part); err != nil {
		return crDoc{}, fmt.Errorf("openapi: v2 %s: %w", key, err)
	}
	return crDoc{doc: doc, v2: &part}, nil
}

// v2Part is what a v2 document adds to another: its paths, definitions and
// shared parameters, as JSON.
type v2Part struct {
	Paths       map[string]json.RawMessage `json:"paths"`
	Definitions map[string]json.RawMessage `json:"definitions"`
	Parameters  map[string]json.RawMessage `json:"parameters"`
}

// mergeV2 returns the v2 document: the built-in one with the paths,
// definitions and parameters of the custom resource parts added, as
// upstream's MergeSpecs (built-in entries win; shared parameters are named
// by a hash of their content, so equal names mean equal parameters). It
// merges JSON: the built-in entries are kept byte for byte.
func (s *Service) mergeV2(keys []string, parts map[string]crDoc) ([]byte, error) {
	if len(keys) == 0 {
		return s.baseV2, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(s.baseV2, &top); err != nil {
		return nil, fmt.Errorf("openapi: v2: %w", err)
	}
	for _, name := range []string{"paths", "definitions", "parameters"} {
		m := map[string]json.RawMessage{}
		if raw, ok := top[name]; ok {
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("openapi: v2 %s: %w", name, err)
			}
		}
		for _, key := range keys {
			p := parts[key].v2
			for k, v := range map[string]map[string]json.RawMessage{"paths": p.Paths, "definitions": p.Definitions, "parameters": p.Parameters}[name] {
				if _, ok := m[k]; !ok {
					m[k] = v
				}
			}
		}
		b, err := marshalJSON(m)
		if err != nil {
			return nil, fmt.Errorf("openapi: v2 %s: %w", name, err)
		}
		top[name] = b
	}
	return marshalJSON(top)
}

// marshalJSON is json.Marshal without HTML escaping (as kube-openapi's
// encoder), so raw entries keep their bytes.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// baseContainer returns the built-in container with index key key, or nil.
func (s *Service) baseContainer(key string) *container {
	i, found := sort.Find(len(s.containers), func(i int) int { return strings.Compare(key, s.containers[i].docKey()) })
	if !found {
		return nil
	}
	return s.containers[i]
}

// crdV3Config mirrors the builder's getOpenAPIV3Config: the custom resource
// documents have their own title and no default response or security
// schemes.
func crdV3Config(namer *definitionNamer, defs map[string]common.OpenAPIDefinition) *common.OpenAPIV3Config {
	return &common.OpenAPIV3Config{
		Info: &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes CRD Swagger", Version: "v0.1.0"}},
		CommonResponses: map[int]*spec3.Response{
			http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
		},
		Definitions:                    defs,
		GetOperationIDAndTagsFromRoute: operationIDFromRoute,
		GetDefinitionName:              namer.GetDefinitionName,
	}
}
