package apiserver

import (
	"strings"
	"testing"
)

func TestServerSideApplyUnknownFieldIsBadRequest(t *testing.T) {
	ts := newTestServer(t)
	body := []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  foo: 1\n  ports:\n  - port: 80\n")
	for _, q := range []string{"", "&fieldValidation=Strict", "&fieldValidation=Ignore"} {
		r := ts.do("PATCH", "/api/v1/namespaces/default/services/bad?fieldManager=kubectl"+q, "application/apply-patch+yaml", "", body)
		st := r.status(t)
		want := "failed to create typed patch object (default/bad; /v1, Kind=Service): .spec.foo: field not declared in schema"
		if r.code != 400 || st.Reason != "BadRequest" || st.Message != want {
			t.Fatalf("apply with unknown field (%q): %d %s %q", q, r.code, st.Reason, st.Message)
		}
	}
	// Duplicate fields pass the field manager and are refused by strict decoding (a warning by default).
	dup := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  k: a\n  k: b\n")
	r := ts.do("PATCH", "/api/v1/namespaces/default/configmaps/dup?fieldManager=kubectl&fieldValidation=Strict", "application/apply-patch+yaml", "", dup)
	if st := r.status(t); r.code != 400 || !strings.HasPrefix(st.Message, "error strict decoding YAML: ") || !strings.Contains(st.Message, `"k"`) {
		t.Fatalf("strict apply with duplicate field: %d %q", r.code, st.Message)
	}
	r = ts.do("PATCH", "/api/v1/namespaces/default/configmaps/dup?fieldManager=kubectl", "application/apply-patch+yaml", "", dup)
	if r.code != 201 || !strings.Contains(r.header.Get("Warning"), `already set in map`) {
		t.Fatalf("default apply with duplicate field: %d %v %s", r.code, r.header["Warning"], r.body)
	}
}
