package openapi

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/common"
)

// This file turns []Route into the route containers (one per OpenAPI v3
// document) that kube-openapi's builders consume. Paths, operation IDs,
// descriptions, parameters, content types and responses follow
// k8s.io/apiserver/pkg/endpoints/installer.go as of Kubernetes 1.32 with the
// default feature gates (no CBOR).

// Content types kube-apiserver advertises.
var (
	mediaTypes      = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	watchMediaTypes = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
		"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"}
	logMediaTypes = []string{"text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	patchTypes    = []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	anyMediaType = []string{"*/*"}
)

// Query parameters of the standard verbs, from the metav1 options types.
var (
	listParams             = optionParams(&metav1.ListOptions{})
	deleteCollectionParams = optionParams(&metav1.ListOptions{}, "watch", "allowWatchBookmarks")
	createParams           = optionParams(&metav1.CreateOptions{})
	updateParams           = optionParams(&metav1.UpdateOptions{})
	patchParams            = optionParams(&metav1.PatchOptions{})
	deleteParams           = optionParams(&metav1.DeleteOptions{})
)

// knownVerbs are the Route.Verbs New accepts.
var knownVerbs = map[string]bool{
	"get": true, "list": true, "watch": true, "create": true, "update": true,
	"patch": true, "delete": true, "deletecollection": true,
}

// connectOptions maps "group/Kind/subresource" of the connect subresources
// (exec, attach, portforward, proxy) to their options type; the core group is
// "". A Subresource whose GVK kind ends in "Options" overrides the table.
var connectOptions = map[string]runtime.Object{
	"/Pod/exec":        &corev1.PodExecOptions{},
	"/Pod/attach":      &corev1.PodAttachOptions{},
	"/Pod/portforward": &corev1.PodPortForwardOptions{},
	"/Pod/proxy":       &corev1.PodProxyOptions{},
	"/Service/proxy":   &corev1.ServiceProxyOptions{},
	"/Node/proxy":      &corev1.NodeProxyOptions{},
}

// deleteReturnsObject lists the resources whose DELETE returns the object
// rather than a Status in kube-apiserver (graceful or finalized deletion).
var deleteReturnsObject = map[schema.GroupVersionResource]bool{
	{Version: "v1", Resource: "pods"}:                   true,
	{Version: "v1", Resource: "services"}:               true,
	{Version: "v1", Resource: "persistentvolumes"}:      true,
	{Version: "v1", Resource: "persistentvolumeclaims"}: true,
	{Version: "v1", Resource: "podtemplates"}:           true,
	{Version: "v1", Resource: "resourcequotas"}:         true,
	{Version: "v1", Resource: "serviceaccounts"}:        true,
}

// route implements common.Route.
type route struct {
	method    string
	path      string
	id        string
	tags      []string
	desc      string
	params    []common.Parameter
	consumes  []string
	produces  []string
	meta      map[string]any
	body      any // request body sample; nil if none
	responses []common.StatusCodeResponse
}

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.id }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.desc }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]any                         { return r.meta }
func (r *route) RequestPayloadSample() any                        { return r.body }
func (r *route) ResponsePayloadSample() any                       { return nil }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

var _ common.Route = (*route)(nil)

// response implements common.StatusCodeResponse.
type response struct {
	code  int
	msg   string
	model any
}

func (r *response) Code() int       { return r.code }
func (r *response) Message() string { return r.msg }
func (r *response) Model() any      { return r.model }

func ok(model any) []common.StatusCodeResponse {
	return []common.StatusCodeResponse{&response{http.StatusOK, "OK", model}}
}

func okCreated(model any) []common.StatusCodeResponse {
	return append(ok(model), &response{http.StatusCreated, "Created", model})
}

func okCreatedAccepted(model any) []common.StatusCodeResponse {
	return append(okCreated(model), &response{http.StatusAccepted, "Accepted", model})
}

func okAccepted(model any) []common.StatusCodeResponse {
	return append(ok(model), &response{http.StatusAccepted, "Accepted", model})
}

// container implements common.RouteContainer; it holds the routes of one
// OpenAPI v3 document.
type container struct {
	root   string // e.g. "/apis/apps/v1"
	routes []common.Route
}

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }

var _ common.RouteContainer = (*container)(nil)

// docKey is the name of c's document in the /openapi/v3 index, e.g.
// "apis/apps/v1".
func (c *container) docKey() string { return strings.TrimPrefix(c.root, "/") }

// add appends a route whose operation ID and tags are derived from verb, the
// rest of the upstream operation name, and the path.
func (c *container) add(r *route, verb, opName string) {
	r.id, r.tags = operationIDAndTags(verb, opName, r.path)
	c.routes = append(c.routes, r)
}

// gvRoot is the path prefix of a group version: /api/v1 or /apis/G/V.
func gvRoot(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// buildContainers validates routes and returns the containers sorted by
// document key: one per group version, plus /api, /apis, /apis/G for each
// group, and /version.
func buildContainers(s *runtime.Scheme, routes []Route) ([]*container, error) {
	byKey := map[string]*container{}
	get := func(root string) (*container, bool) {
		c, ok := byKey[root]
		if !ok {
			c = &container{root: root}
			byKey[root] = c
		}
		return c, !ok
	}
	seen := map[schema.GroupVersionResource]bool{}
	for _, rt := range routes {
		gvr := rt.GVK.GroupVersion().WithResource(rt.Resource)
		if rt.Resource == "" || rt.GVK.Kind == "" || rt.GVK.Version == "" || strings.Contains(rt.Resource, "/") {
			return nil, fmt.Errorf("route %v %q: resource, kind and version are required", rt.GVK, rt.Resource)
		}
		if seen[gvr] {
			return nil, fmt.Errorf("route %s: listed twice", gvr)
		}
		seen[gvr] = true

		root := gvRoot(rt.GVK.GroupVersion())
		c, created := get(root)
		if created {
			c.add(&route{
				method: "GET", path: root + "/", desc: "get available resources",
				consumes: mediaTypes, produces: mediaTypes,
				responses: ok(&metav1.APIResourceList{}),
			}, "get", "APIResources")
			if g := rt.GVK.Group; g != "" {
				gc, created := get("/apis/" + g)
				if created {
					gc.add(&route{
						method: "GET", path: gc.root + "/", desc: "get information of a group",
						consumes: mediaTypes, produces: mediaTypes,
						responses: ok(&metav1.APIGroup{}),
					}, "get", "APIGroup")
				}
			}
		}
		if err := addResource(s, c, rt); err != nil {
			return nil, fmt.Errorf("route %s: %w", gvr, err)
		}
	}

	api, _ := get("/api")
	api.add(&route{
		method: "GET", path: "/api/", desc: "get available API versions",
		consumes: mediaTypes, produces: mediaTypes,
		responses: ok(&metav1.APIVersions{}),
	}, "get", "APIVersions")
	apis, _ := get("/apis")
	apis.add(&route{
		method: "GET", path: "/apis/", desc: "get available API versions",
		consumes: mediaTypes, produces: mediaTypes,
		responses: ok(&metav1.APIGroupList{}),
	}, "get", "APIVersions")
	ver, _ := get("/version")
	ver.add(&route{
		method: "GET", path: "/version/", desc: "get the version information for this server",
		consumes: []string{"application/json"}, produces: []string{"application/json"},
		responses: ok(&version.Info{}),
	}, "get", "CodeVersion")

	out := make([]*container, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].root < out[j].root })
	return out, nil
}

// addResource adds the routes of one resource and its subresources to c.
func addResource(s *runtime.Scheme, c *container, rt Route) error {
	obj, err := newObject(s, rt.GVK)
	if err != nil {
		return err
	}
	verbs := map[string]bool{}
	for _, v := range rt.Verbs {
		if !knownVerbs[v] {
			return fmt.Errorf("unknown verb %q", v)
		}
		verbs[v] = true
	}

	kind := rt.GVK.Kind
	gvkExt := metav1.GroupVersionKind{Group: rt.GVK.Group, Version: rt.GVK.Version, Kind: kind}
	meta := func(action string) map[string]any {
		return map[string]any{"x-kubernetes-action": action, extensionGVK: gvkExt}
	}

	var ns string                // "Namespaced" in operation names of namespaced resources
	var scope []common.Parameter // the namespace path parameter, if any
	coll := c.root + "/" + rt.Resource
	watchColl := c.root + "/watch/" + rt.Resource
	if rt.Namespaced {
		ns = "Namespaced"
		scope = []common.Parameter{pathParam("namespace", namespaceDesc)}
		coll = c.root + "/namespaces/{namespace}/" + rt.Resource
		watchColl = c.root + "/watch/namespaces/{namespace}/" + rt.Resource
	}
	item := coll + "/{name}"
	name := []common.Parameter{pathParam("name", "name of the "+kind)}
	pretty := []common.Parameter{prettyParam}

	if verbs["list"] {
		list, err := newObject(s, rt.GVK.GroupVersion().WithKind(kind+"List"))
		if err != nil {
			return err
		}
		c.add(&route{
			method: "GET", path: coll, desc: "list or watch objects of kind " + kind,
			params: params(scope, pretty, listParams), consumes: anyMediaType, produces: watchMediaTypes,
			meta: meta("list"), responses: ok(list),
		}, "list", ns+kind)
		if rt.Namespaced {
			c.add(&route{
				method: "GET", path: c.root + "/" + rt.Resource, desc: "list or watch objects of kind " + kind,
				params: params(pretty, listParams), consumes: anyMediaType, produces: watchMediaTypes,
				meta: meta("list"), responses: ok(list),
			}, "list", kind+"ForAllNamespaces")
		}
	}
	if verbs["watch"] {
		c.add(&route{
			method: "GET", path: watchColl + "/{name}",
			desc:   "watch changes to an object of kind " + kind + ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.",
			params: params(scope, name, pretty, listParams), consumes: anyMediaType, produces: watchMediaTypes,
			meta: meta("watch"), responses: ok(&metav1.WatchEvent{}),
		}, "watch", ns+kind)
		if verbs["list"] {
			desc := "watch individual changes to a list of " + kind + ". deprecated: use the 'watch' parameter with a list operation instead."
			c.add(&route{
				method: "GET", path: watchColl, desc: desc,
				params: params(scope, pretty, listParams), consumes: anyMediaType, produces: watchMediaTypes,
				meta: meta("watchlist"), responses: ok(&metav1.WatchEvent{}),
			}, "watch", ns+kind+"List")
			if rt.Namespaced {
				c.add(&route{
					method: "GET", path: c.root + "/watch/" + rt.Resource, desc: desc,
					params: params(pretty, listParams), consumes: anyMediaType, produces: watchMediaTypes,
					meta: meta("watchlist"), responses: ok(&metav1.WatchEvent{}),
				}, "watch", kind+"ListForAllNamespaces")
			}
		}
	}
	if verbs["create"] {
		c.add(&route{
			method: "POST", path: coll, desc: "create" + article(kind) + kind,
			params:   params(scope, pretty, createParams, []common.Parameter{bodyParam(true)}),
			consumes: anyMediaType, produces: mediaTypes, body: obj,
			meta: meta("post"), responses: okCreatedAccepted(obj),
		}, "create", ns+kind)
	}
	if verbs["deletecollection"] {
		c.add(&route{
			method: "DELETE", path: coll, desc: "delete collection of " + kind,
			params:   params(scope, pretty, deleteCollectionParams, deleteParams, []common.Parameter{bodyParam(false)}),
			consumes: anyMediaType, produces: mediaTypes, body: &metav1.DeleteOptions{},
			meta: meta("deletecollection"), responses: ok(&metav1.Status{}),
		}, "delete", "Collection"+ns+kind)
	}
	if verbs["get"] {
		c.add(&route{
			method: "GET", path: item, desc: "read the specified " + kind,
			params: params(scope, name, pretty), consumes: anyMediaType, produces: mediaTypes,
			meta: meta("get"), responses: ok(obj),
		}, "read", ns+kind)
	}
	if verbs["update"] {
		c.add(&route{
			method: "PUT", path: item, desc: "replace the specified " + kind,
			params:   params(scope, name, pretty, updateParams, []common.Parameter{bodyParam(true)}),
			consumes: anyMediaType, produces: mediaTypes, body: obj,
			meta: meta("put"), responses: okCreated(obj),
		}, "replace", ns+kind)
	}
	if verbs["patch"] {
		c.add(&route{
			method: "PATCH", path: item, desc: "partially update the specified " + kind,
			params:   params(scope, name, pretty, patchParams, []common.Parameter{bodyParam(true)}),
			consumes: patchTypes, produces: mediaTypes, body: &metav1.Patch{},
			meta: meta("patch"), responses: okCreated(obj),
		}, "patch", ns+kind)
	}
	if verbs["delete"] {
		var deleted any = &metav1.Status{}
		if deleteReturnsObject[rt.GVK.GroupVersion().WithResource(rt.Resource)] {
			deleted = obj
		}
		c.add(&route{
			method: "DELETE", path: item, desc: "delete" + article(kind) + kind,
			params:   params(scope, name, pretty, deleteParams, []common.Parameter{bodyParam(false)}),
			consumes: anyMediaType, produces: mediaTypes, body: &metav1.DeleteOptions{},
			meta: meta("delete"), responses: okAccepted(deleted),
		}, "delete", ns+kind)
	}

	subs := map[string]bool{}
	for _, sub := range rt.Subresources {
		if sub.Name == "" || strings.Contains(sub.Name, "/") || subs[sub.Name] {
			return fmt.Errorf("subresource %q: empty, nested or listed twice", sub.Name)
		}
		subs[sub.Name] = true
		if err := addSubresource(s, c, rt, sub, item, ns, scope); err != nil {
			return fmt.Errorf("subresource %q: %w", sub.Name, err)
		}
	}
	return nil
}

// addSubresource adds the routes of one subresource at item/sub.Name.
func addSubresource(s *runtime.Scheme, c *container, rt Route, sub Subresource, item, ns string, scope []common.Parameter) error {
	kind := rt.GVK.Kind // the parent's kind names operations and descriptions
	gvk := sub.GVK
	if gvk.Empty() {
		gvk = rt.GVK
	}
	path := item + "/" + sub.Name
	title := titleCase(sub.Name)
	pretty := []common.Parameter{prettyParam}
	meta := func(action string, gvk schema.GroupVersionKind) map[string]any {
		return map[string]any{"x-kubernetes-action": action,
			extensionGVK: metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}}
	}

	switch sub.Name {
	case "exec", "attach", "portforward", "proxy":
		// Connect subresources: the operations carry the options kind.
		opts, found := connectOptions[rt.GVK.Group+"/"+kind+"/"+sub.Name]
		if strings.HasSuffix(sub.GVK.Kind, "Options") {
			o, err := newObject(s, sub.GVK)
			if err != nil {
				return err
			}
			opts, found = o, true
		}
		if !found {
			return fmt.Errorf("no options kind for connect subresource of %s", kind)
		}
		optsGVK, err := kindFor(s, opts)
		if err != nil {
			return err
		}
		methods := []string{"GET", "POST"}
		if sub.Name == "proxy" {
			methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
		}
		name := []common.Parameter{pathParam("name", "name of the "+optsGVK.Kind)}
		q := optionParams(opts)
		for _, m := range methods {
			r := &route{
				method: m, path: path, desc: "connect " + m + " requests to " + sub.Name + " of " + kind,
				params: params(scope, name, q), consumes: anyMediaType, produces: anyMediaType,
				meta: meta("connect", optsGVK), responses: ok(""),
			}
			c.add(r, "connect", titleCase(strings.ToLower(m))+ns+kind+title)
			if sub.Name == "proxy" {
				r := *r
				r.path = path + "/{path}"
				r.params = params(scope, name, []common.Parameter{pathParam("path", pathDesc)}, q)
				c.add(&r, "connect", titleCase(strings.ToLower(m))+ns+kind+title+"WithPath")
			}
		}
		return nil

	case "log":
		// GET with PodLogOptions; the body is text.
		name := []common.Parameter{pathParam("name", "name of the "+gvk.Kind)}
		c.add(&route{
			method: "GET", path: path, desc: "read log of the specified " + kind,
			params:   params(scope, name, pretty, optionParams(&corev1.PodLogOptions{})),
			consumes: anyMediaType, produces: logMediaTypes,
			meta: meta("get", gvk), responses: ok(""),
		}, "read", ns+kind+title)
		return nil
	}

	obj, err := newObject(s, gvk)
	if err != nil {
		return err
	}
	name := []common.Parameter{pathParam("name", "name of the "+gvk.Kind)}
	if len(sub.Verbs) == 0 {
		return fmt.Errorf("no verbs")
	}
	for _, v := range sub.Verbs {
		switch v {
		case "get":
			c.add(&route{
				method: "GET", path: path, desc: "read " + sub.Name + " of the specified " + kind,
				params: params(scope, name, pretty), consumes: anyMediaType, produces: mediaTypes,
				meta: meta("get", gvk), responses: ok(obj),
			}, "read", ns+kind+title)
		case "update":
			c.add(&route{
				method: "PUT", path: path, desc: "replace " + sub.Name + " of the specified " + kind,
				params:   params(scope, name, pretty, updateParams, []common.Parameter{bodyParam(true)}),
				consumes: anyMediaType, produces: mediaTypes, body: obj,
				meta: meta("put", gvk), responses: okCreated(obj),
			}, "replace", ns+kind+title)
		case "patch":
			c.add(&route{
				method: "PATCH", path: path, desc: "partially update " + sub.Name + " of the specified " + kind,
				params:   params(scope, name, pretty, patchParams, []common.Parameter{bodyParam(true)}),
				consumes: patchTypes, produces: mediaTypes, body: &metav1.Patch{},
				meta: meta("patch", gvk), responses: okCreated(obj),
			}, "patch", ns+kind+title)
		case "create":
			c.add(&route{
				method: "POST", path: path, desc: "create " + sub.Name + " of" + article(kind) + kind,
				params:   params(scope, name, pretty, createParams, []common.Parameter{bodyParam(true)}),
				consumes: anyMediaType, produces: mediaTypes, body: obj,
				meta: meta("post", gvk), responses: okCreatedAccepted(obj),
			}, "create", ns+kind+title)
		default:
			return fmt.Errorf("unsupported verb %q", v)
		}
	}
	return nil
}

// kindFor returns the GVK registered for obj's type.
func kindFor(s *runtime.Scheme, obj runtime.Object) (schema.GroupVersionKind, error) {
	gvks, _, err := s.ObjectKinds(obj)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return gvks[0], nil
}

// operationIDAndTags mirrors GetOperationIDAndTags in
// k8s.io/apiserver/pkg/endpoints/openapi: the verb, then the group and
// version taken from the path, then the rest of the operation name
// ("list" + "AppsV1" + "NamespacedDeployment"); the tag is "apps_v1".
func operationIDAndTags(verb, rest, path string) (string, []string) {
	prefix := verb
	var tags []string
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 1 && parts[0] == "api" {
		parts = append([]string{"apis", "core"}, parts[1:]...)
	}
	if len(parts) >= 2 && parts[0] == "apis" {
		group := strings.TrimSuffix(parts[1], ".k8s.io")
		prefix += validOperationID(group, true)
		tag := validOperationID(group, false)
		if len(parts) > 2 {
			prefix += validOperationID(parts[2], true)
			tag += "_" + validOperationID(parts[2], false)
		}
		tags = append(tags, tag)
	} else if len(parts) >= 1 {
		tags = append(tags, validOperationID(parts[0], false))
	}
	return prefix + validOperationID(rest, true), tags
}

// validOperationID mirrors ToValidOperationID in
// k8s.io/apiserver/pkg/endpoints/openapi: it drops characters that are not
// letters, digits or '_' and capitalizes the letter after each one dropped.
func validOperationID(s string, capitalizeFirst bool) string {
	var b bytes.Buffer
	capitalize := capitalizeFirst
	for i, r := range s {
		if unicode.IsLetter(r) || r == '_' || (i != 0 && unicode.IsDigit(r)) {
			if capitalize {
				b.WriteRune(unicode.ToUpper(r))
				capitalize = false
			} else {
				b.WriteRune(r)
			}
		} else {
			capitalize = true
		}
	}
	return b.String()
}

// article mirrors GetArticleForNoun in the apiserver installer: " a ", " an ",
// or " " for plural-looking nouns such as Endpoints.
func article(noun string) string {
	if !strings.HasSuffix(noun, "ss") && strings.HasSuffix(noun, "s") {
		return " "
	}
	if noun != "" && strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return " an "
	}
	return " a "
}

// titleCase upper-cases the first letter, like strings.Title on one word.
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
