package auth

import (
	"context"
	"maps"
	"slices"
)

// Well-known user and group names, as upstream Kubernetes.
const (
	Anonymous          = "system:anonymous"
	AllAuthenticated   = "system:authenticated"
	AllUnauthenticated = "system:unauthenticated"
	SystemPrivileged   = "system:masters"
)

// DefaultAnonymousPaths are the paths upstream lets unauthenticated clients
// read (the system:public-info-viewer cluster role).
var DefaultAnonymousPaths = []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}

// User is the identity behind a request.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup reports whether u is a member of group.
func (u *User) InGroup(group string) bool {
	return u != nil && slices.Contains(u.Groups, group)
}

// Clone returns a deep copy of u.
func (u *User) Clone() *User {
	if u == nil {
		return nil
	}
	c := &User{Name: u.Name, UID: u.UID, Groups: slices.Clone(u.Groups)}
	if u.Extra != nil {
		c.Extra = make(map[string][]string, len(u.Extra))
		for k, v := range maps.All(u.Extra) {
			c.Extra[k] = slices.Clone(v)
		}
	}
	return c
}

type userKey struct{}

// WithUser returns a copy of ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored in ctx by WithUser.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
