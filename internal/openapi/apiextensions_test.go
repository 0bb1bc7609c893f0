package openapi

import (
	"encoding/json"
	"testing"

	"k8s.io/kube-openapi/pkg/spec3"
)

// TestApiextensionsV1 checks the CustomResourceDefinition document: keys and
// GVKs as upstream, and JSONSchemaProps as apiextensions-apiserver generates it.
func TestApiextensionsV1(t *testing.T) {
	_, b := v3Document(t, testService(t), "apis/apiextensions.k8s.io/v1")
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("spec3: %v", err)
	}
	const prefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
	crd := doc.Components.Schemas[prefix+"CustomResourceDefinition"]
	if crd == nil {
		t.Fatalf("no %sCustomResourceDefinition; schemas: %v", prefix, keys(doc.Components.Schemas))
	}
	if !hasGVKList(crd.Extensions, "apiextensions.k8s.io", "v1", "CustomResourceDefinition") {
		t.Errorf("CRD x-kubernetes-group-version-kind = %v", crd.Extensions[extensionGVK])
	}
	props := doc.Components.Schemas[prefix+"JSONSchemaProps"]
	if props == nil {
		t.Fatalf("no JSONSchemaProps")
	}
	for _, p := range []string{"x-kubernetes-preserve-unknown-fields", "properties", "x-kubernetes-validations", "$ref"} {
		if _, ok := props.Properties[p]; !ok {
			t.Errorf("JSONSchemaProps lacks %q", p)
		}
	}
	// JSON, JSONSchemaPropsOrArray/OrBool/OrStringArray have OpenAPISchemaType nil: any value.
	for _, name := range []string{"JSON", "JSONSchemaPropsOrBool"} {
		s := doc.Components.Schemas[prefix+name]
		if s == nil || len(s.Type) != 0 {
			t.Errorf("%s = %+v, want a schema without type", name, s)
		}
	}

	for path, ops := range map[string][]string{
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions":               {"get", "post", "delete"},
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}":        {"get", "put", "patch", "delete"},
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}/status": {"get", "put", "patch"},
		"/apis/apiextensions.k8s.io/v1/watch/customresourcedefinitions/{name}":  {"get"},
	} {
		item := doc.Paths.Paths[path]
		if item == nil {
			t.Errorf("no path %s", path)
			continue
		}
		have := map[string]*spec3.Operation{"get": item.Get, "post": item.Post, "put": item.Put, "patch": item.Patch, "delete": item.Delete}
		for _, op := range ops {
			if have[op] == nil {
				t.Errorf("%s: no %s", path, op)
			}
		}
	}
	patch := doc.Paths.Paths["/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"].Patch
	if patch == nil || patch.OperationId != "patchApiextensionsV1CustomResourceDefinition" {
		t.Errorf("PATCH operation = %+v", patch)
	}
}
