package openapi

import (
	"reflect"
	"strings"

	"k8s.io/kube-openapi/pkg/common"
)

// param implements common.Parameter.
type param struct {
	name     string
	desc     string
	required bool
	kind     common.ParameterKind
	dataType string
}

func (p *param) Name() string               { return p.name }
func (p *param) Description() string        { return p.desc }
func (p *param) Required() bool             { return p.required }
func (p *param) Kind() common.ParameterKind { return p.kind }
func (p *param) DataType() string           { return p.dataType }
func (p *param) AllowMultiple() bool        { return false }

var _ common.Parameter = (*param)(nil)

// Parameter descriptions as kube-apiserver's installer writes them.
const (
	prettyDesc    = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."
	namespaceDesc = "object name and auth scope, such as for teams and projects"
	pathDesc      = "path to the resource"
)

func pathParam(name, desc string) common.Parameter {
	return &param{name: name, desc: desc, required: true, kind: common.PathParameterKind, dataType: "string"}
}

func queryParam(name, desc, dataType string) common.Parameter {
	return &param{name: name, desc: desc, kind: common.QueryParameterKind, dataType: dataType}
}

func bodyParam(required bool) common.Parameter {
	return &param{name: "body", required: required, kind: common.BodyParameterKind, dataType: "object"}
}

var prettyParam = queryParam("pretty", prettyDesc, "string")

// skippedQueryParams are options fields kube-apiserver 1.32 does not
// advertise (feature-gated alpha fields added to the types later) and that
// skiff does not implement.
var skippedQueryParams = map[string]bool{
	"shardSelector": true, // ListOptions, ShardedListAndWatch
}

// optionParams returns one query parameter per simple field of the options
// struct obj, described by its SwaggerDoc. It follows AddObjectParams in
// k8s.io/apiserver/pkg/endpoints/installer.go: embedded and struct-valued
// fields are skipped and slices become their element type. (Upstream means
// to let *metav1.Time through but compares against the wrong type name, so
// PodLogOptions.sinceTime is absent there too.)
func optionParams(obj any, exclude ...string) []common.Parameter {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var docs map[string]string
	if d, ok := obj.(interface{ SwaggerDoc() map[string]string }); ok {
		docs = d.SwaggerDoc()
	}
	var out []common.Parameter
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || f.Anonymous || skippedQueryParams[name] || contains(exclude, name) {
			continue
		}
		dt := queryDataType(f.Type)
		if dt == "" {
			continue
		}
		out = append(out, queryParam(name, docs[name], dt))
	}
	return out
}

// queryDataType maps a Go field type to the OpenAPI type of its query
// parameter, or "" if the field cannot be a query parameter.
func queryDataType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		t = t.Elem()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// params concatenates parameter lists.
func params(lists ...[]common.Parameter) []common.Parameter {
	var out []common.Parameter
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
