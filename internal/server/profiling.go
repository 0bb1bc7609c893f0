package server

import (
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"

	"encoding/json"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/pki"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// withProfiling serves Go's profiles under /debug/pprof/ (kube-apiserver's --profiling) to users in system:masters,
// and passes every other path to next. Other users get 403, as a non-resource URL they are not allowed.
func withProfiling(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof" && !strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
			next.ServeHTTP(w, r)
			return
		}
		if u, ok := auth.UserFrom(r.Context()); !ok || !slices.Contains(u.Groups, pki.AdminGroup) {
			name := "system:anonymous"
			if ok {
				name = u.Name
			}
			st := apierrors.NewForbidden(schema.GroupResource{}, "", nil).Status()
			st.Message = `forbidden: User "` + name + `" cannot get path "` + r.URL.Path + `"`
			st.Details = nil
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		if r.URL.Path == "/debug/pprof" {
			http.Redirect(w, r, "/debug/pprof/", http.StatusMovedPermanently)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
