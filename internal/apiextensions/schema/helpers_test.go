package schema

import (
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// mustSchema parses a YAML openAPIV3Schema.
func mustSchema(t testing.TB, src string) *apiextv1.JSONSchemaProps {
	t.Helper()
	if src == "" {
		return nil
	}
	s := &apiextv1.JSONSchemaProps{}
	if err := yaml.UnmarshalStrict([]byte(src), s); err != nil {
		t.Fatalf("schema: %v\n%s", err, src)
	}
	return s
}

// mustObject decodes a YAML or JSON object as the API server decodes request bodies (int64 integers).
func mustObject(t testing.TB, src string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(src))
	if err != nil {
		t.Fatalf("object: %v", err)
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		t.Fatalf("object: %v", err)
	}
	return obj
}

// errorStrings renders errors as kube-apiserver prints them in a 422's causes.
func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// toJSON renders a value for failure messages.
func toJSON(v any) string {
	b, err := utiljson.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// yamlUnmarshal parses YAML strictly.
func yamlUnmarshal(b []byte, v any) error {
	return yaml.UnmarshalStrict(b, v)
}
