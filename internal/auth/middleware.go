package auth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Middleware answers 401 with a Kubernetes Status (reason Unauthorized,
// message "Unauthorized") for requests with no valid credentials, except
// for requests without credentials to paths in anonymousPaths, which go on
// as system:anonymous; it stores the User in the request context
// (WithUser/UserFrom). A path entry ending in "*" matches by prefix.
func Middleware(a Authenticator, anonymousPaths []string, next http.Handler) http.Handler {
	anon := slices.Clone(anonymousPaths)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := a.AuthenticateRequest(r)
		switch {
		case ok && err == nil && u != nil:
			u = withAuthenticatedGroup(u)
		case err == nil && matchPath(anon, r.URL.Path):
			u = &User{Name: Anonymous, Groups: []string{AllUnauthenticated}}
		default:
			if err != nil {
				slog.Debug("auth: unable to authenticate request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			}
			writeUnauthorized(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
	})
}

// withAuthenticatedGroup returns a copy of u with system:authenticated
// added, as upstream's AuthenticatedGroupAdder.
func withAuthenticatedGroup(u *User) *User {
	u = u.Clone()
	if u.Name == Anonymous || slices.Contains(u.Groups, AllAuthenticated) || slices.Contains(u.Groups, AllUnauthenticated) {
		return u
	}
	u.Groups = append(u.Groups, AllAuthenticated)
	return u
}

func matchPath(patterns []string, path string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		} else if p == path {
			return true
		}
	}
	return false
}

func writeUnauthorized(w http.ResponseWriter) {
	writeStatus(w, apierrors.NewUnauthorized("Unauthorized"))
}

// writeStatus answers with err's Status as JSON.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	status := err.ErrStatus
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	body, mErr := json.Marshal(status)
	if mErr != nil {
		http.Error(w, status.Message, int(status.Code))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache, private")
	w.WriteHeader(int(status.Code))
	_, _ = w.Write(append(body, '\n'))
}
