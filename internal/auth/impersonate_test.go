package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestImpersonation(t *testing.T) {
	admin := &User{Name: "system:admin", Groups: []string{SystemPrivileged, AllAuthenticated}}
	// seen records the user and the impersonation headers that reach the handler.
	type seen struct {
		User    *User
		Headers []string
	}
	h := Impersonation(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		var hs []string
		for k := range r.Header {
			if strings.HasPrefix(k, "Impersonate-") {
				hs = append(hs, k)
			}
		}
		_ = json.NewEncoder(w).Encode(seen{User: u, Headers: hs})
	}))
	for _, tc := range []struct {
		name    string
		headers map[string][]string
		code    int
		want    *User
	}{
		{name: "no headers: the caller", code: 200, want: admin},
		{name: "user", headers: map[string][]string{"Impersonate-User": {"jane"}}, code: 200,
			want: &User{Name: "jane", Groups: []string{AllAuthenticated}}},
		{name: "user, groups, uid and extra", code: 200,
			headers: map[string][]string{"Impersonate-User": {"jane"}, "Impersonate-Group": {"devs", "ops"}, "Impersonate-Uid": {"u-1"},
				"Impersonate-Extra-Scopes": {"view", "edit"}, "Impersonate-Extra-Example.com%2fteam": {"a"}},
			want: &User{Name: "jane", UID: "u-1", Groups: []string{"devs", "ops", AllAuthenticated},
				Extra: map[string][]string{"scopes": {"view", "edit"}, "example.com/team": {"a"}}}},
		{name: "service account gets its groups", headers: map[string][]string{"Impersonate-User": {"system:serviceaccount:ci:builder"}}, code: 200,
			want: &User{Name: "system:serviceaccount:ci:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci", AllAuthenticated}}},
		{name: "anonymous is unauthenticated", headers: map[string][]string{"Impersonate-User": {Anonymous}}, code: 200,
			want: &User{Name: Anonymous, Groups: []string{AllUnauthenticated}}},
		{name: "groups without a user", headers: map[string][]string{"Impersonate-Group": {"devs"}}, code: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil)
			for k, vs := range tc.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			req = req.WithContext(WithUser(req.Context(), admin.Clone()))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code != 200 {
				if !strings.Contains(rec.Body.String(), `"reason":"BadRequest"`) {
					t.Errorf("body %s, want a BadRequest Status", rec.Body)
				}
				return
			}
			var got seen
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.User, tc.want) {
				t.Errorf("user %+v, want %+v", got.User, tc.want)
			}
			if len(got.Headers) > 0 {
				t.Errorf("impersonation headers reached the handler: %v", got.Headers)
			}
		})
	}
}
