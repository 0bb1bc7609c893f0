package auth

import (
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The impersonation headers kubectl sends for --as, --as-group and --as-uid (kube-apiserver's).
const (
	ImpersonateUserHeader        = "Impersonate-User"
	ImpersonateUIDHeader         = "Impersonate-Uid"
	ImpersonateGroupHeader       = "Impersonate-Group"
	ImpersonateUserExtraPrefix   = "Impersonate-Extra-"
	serviceAccountUsernamePrefix = "system:serviceaccount:"
)

// Impersonation lets an authenticated request act as another user, as kube-apiserver's impersonation filter:
// Impersonate-User names the user, Impersonate-Group (repeated) and Impersonate-Extra-<key> its groups and extra,
// Impersonate-Uid its UID. The user gets system:authenticated (system:unauthenticated for system:anonymous); a
// service account name without groups gets system:serviceaccounts and system:serviceaccounts:<namespace>. Groups,
// extra or a UID without a user are a 400. The headers are removed before next sees the request.
//
// Whether the caller may impersonate is authorization's question: the API server checks it before this filter
// (apiserver.WithImpersonationAuthorization).
func Impersonation(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get(ImpersonateUserHeader)
		groups := r.Header.Values(ImpersonateGroupHeader)
		uid := r.Header.Get(ImpersonateUIDHeader)
		var extra map[string][]string
		for k, v := range r.Header {
			if rest, ok := strings.CutPrefix(k, ImpersonateUserExtraPrefix); ok {
				key, err := url.PathUnescape(rest)
				if err != nil {
					key = rest
				}
				if extra == nil {
					extra = map[string][]string{}
				}
				extra[strings.ToLower(key)] = append(extra[strings.ToLower(key)], v...)
			}
		}
		if name == "" && len(groups) == 0 && uid == "" && extra == nil {
			next.ServeHTTP(w, r)
			return
		}
		if name == "" {
			writeStatus(w, apierrors.NewBadRequest("requested impersonation of groups, extra or a UID without impersonating a user"))
			return
		}
		if _, ok := UserFrom(r.Context()); !ok {
			next.ServeHTTP(w, r)
			return
		}
		u := &User{Name: name, UID: uid, Groups: append([]string(nil), groups...), Extra: extra}
		if ns, _, ok := strings.Cut(strings.TrimPrefix(name, serviceAccountUsernamePrefix), ":"); strings.HasPrefix(name, serviceAccountUsernamePrefix) && ok && len(groups) == 0 {
			u.Groups = append(u.Groups, "system:serviceaccounts", "system:serviceaccounts:"+ns)
		}
		switch {
		case name == Anonymous:
			if !u.InGroup(AllUnauthenticated) {
				u.Groups = append(u.Groups, AllUnauthenticated)
			}
		case !u.InGroup(AllAuthenticated):
			u.Groups = append(u.Groups, AllAuthenticated)
		}
		r2 := r.Clone(WithUser(r.Context(), u))
		for k := range r2.Header {
			if k == ImpersonateUserHeader || k == ImpersonateUIDHeader || k == ImpersonateGroupHeader || strings.HasPrefix(k, ImpersonateUserExtraPrefix) {
				r2.Header.Del(k)
			}
		}
		next.ServeHTTP(w, r2)
	})
}
