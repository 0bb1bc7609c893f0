package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/pki"
)

func TestWithProfiling(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := withProfiling(next)
	for _, tc := range []struct {
		name, path string
		user       *auth.User
		code       int
		body       string
	}{
		{"other paths pass through", "/api/v1/pods", &auth.User{Name: "bob"}, http.StatusTeapot, ""},
		{"a prefix look-alike passes through", "/debug/pprofx", &auth.User{Name: "bob"}, http.StatusTeapot, ""},
		{"admin gets the index", "/debug/pprof/", &auth.User{Name: "admin", Groups: []string{pki.AdminGroup}}, http.StatusOK, "goroutine"},
		{"admin gets a profile", "/debug/pprof/goroutine?debug=1", &auth.User{Name: "admin", Groups: []string{pki.AdminGroup}}, http.StatusOK, "goroutine profile"},
		{"other users are forbidden", "/debug/pprof/heap", &auth.User{Name: "bob", Groups: []string{"system:authenticated"}}, http.StatusForbidden,
			`forbidden: User \"bob\" cannot get path \"/debug/pprof/heap\"`},
		{"no user is forbidden", "/debug/pprof/", nil, http.StatusForbidden, `"reason":"Forbidden"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.user != nil {
				r = r.WithContext(auth.WithUser(r.Context(), tc.user))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("GET %s: %d %q, want %d containing %q", tc.path, w.Code, w.Body.String(), tc.code, tc.body)
			}
		})
	}
}
