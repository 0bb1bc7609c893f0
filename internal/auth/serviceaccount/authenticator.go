package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/clock"
	corev1 "k8s.io/api/core/v1"
)

// Well-known groups and user extra keys of service accounts, as upstream.
const (
	AllServiceAccountsGroup   = "system:serviceaccounts"
	ServiceAccountGroupPrefix = "system:serviceaccounts:"
	PodNameKey                = "authentication.kubernetes.io/pod-name"
	PodUIDKey                 = "authentication.kubernetes.io/pod-uid"
	NodeNameKey               = "authentication.kubernetes.io/node-name"
	NodeUIDKey                = "authentication.kubernetes.io/node-uid"
	CredentialIDKey           = "authentication.kubernetes.io/credential-id"
)

// leeway is go-jose's DefaultLeeway, which upstream validates times and deletions with.
const leeway = time.Minute

// Getter looks up the objects a token names; a missing object is an error.
type Getter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

type audiencesKey struct{}

// WithAudiences returns ctx asking authenticators for a token valid for one of auds (a TokenReview's audiences).
func WithAudiences(ctx context.Context, auds []string) context.Context {
	return context.WithValue(ctx, audiencesKey{}, auds)
}

// Authenticator authenticates bearer service-account tokens.
type Authenticator struct {
	issuer    string
	key       *ecdsa.PublicKey
	audiences []string
	getter    Getter
	clock     clock.Clock
}

// NewAuthenticator returns an Authenticator for tokens from issuer signed by key; apiAudiences are the audiences a
// request's token must share one of, unless its context says otherwise (WithAudiences). A nil clock is the system's.
func NewAuthenticator(issuer string, key *ecdsa.PublicKey, apiAudiences []string, getter Getter, clk clock.Clock) *Authenticator {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Authenticator{issuer: issuer, key: key, audiences: slices.Clone(apiAudiences), getter: getter, clock: clk}
}

// AuthenticateRequest authenticates r's bearer token; see the package documentation.
func (a *Authenticator) AuthenticateRequest(r *http.Request) (*auth.User, bool, error) {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) < 2 || !strings.EqualFold(f[0], "bearer") {
		return nil, false, nil
	}
	u, _, ok, err := a.AuthenticateToken(r.Context(), f[1])
	if ok {
		r.Header.Del("Authorization")
	}
	return u, ok, err
}

// AuthenticateToken authenticates one token and returns the audiences it was accepted for; see the package
// documentation.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*auth.User, []string, bool, error) {
	p, ok := parse(token)
	if !ok {
		return nil, nil, false, nil
	}
	var c Claims
	if err := json.Unmarshal(p.payload, &c); err != nil || c.Issuer != a.issuer {
		return nil, nil, false, nil
	}
	if err := p.verify(a.key); err != nil {
		return nil, nil, false, err
	}
	tokenAuds := []string(c.Audience)
	if len(tokenAuds) == 0 {
		tokenAuds = a.audiences // a legacy token without aud is for the API
	}
	want, ok := ctx.Value(audiencesKey{}).([]string)
	if !ok {
		want = a.audiences
	}
	var auds []string
	for _, t := range tokenAuds {
		if slices.Contains(want, t) {
			auds = append(auds, t)
		}
	}
	if len(auds) == 0 && len(a.audiences) != 0 {
		return nil, nil, false, fmt.Errorf("token audiences %q is invalid for the target audiences %q", tokenAuds, want)
	}
	u, err := a.validate(ctx, &c)
	if err != nil {
		return nil, nil, false, err
	}
	return u, auds, true, nil
}

// validate checks c's times and that what it names still exists, as upstream's validator.
func (a *Authenticator) validate(ctx context.Context, c *Claims) (*auth.User, error) {
	now := a.clock.Now()
	switch {
	case c.Expiry != 0 && now.Add(-leeway).After(time.Unix(c.Expiry, 0)):
		return nil, errors.New("service account token has expired")
	case c.NotBefore != 0 && now.Add(leeway).Before(time.Unix(c.NotBefore, 0)):
		return nil, errors.New("service account token is not valid yet")
	case c.IssuedAt != 0 && now.Add(leeway).Before(time.Unix(c.IssuedAt, 0)):
		return nil, errors.New("service account token is issued in the future")
	}
	k := c.Kubernetes
	if k == nil || k.Namespace == "" || k.ServiceAccount.Name == "" {
		return nil, errors.New("service account token claims could not be validated due to unexpected validation error")
	}
	deletedBefore := now.Add(-leeway)
	ns, saName := k.Namespace, k.ServiceAccount.Name
	sa, err := a.getter.GetServiceAccount(ctx, ns, saName)
	if err != nil {
		return nil, err
	}
	if string(sa.UID) != k.ServiceAccount.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, k.ServiceAccount.UID)
	}
	if t := sa.DeletionTimestamp; t != nil && t.Time.Before(deletedBefore) {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, saName)
	}
	invalidated := errors.New("service account token has been invalidated")
	if ref := k.Secret; ref != nil {
		s, err := a.getter.GetSecret(ctx, ns, ref.Name)
		if err != nil {
			return nil, invalidated
		}
		if string(s.UID) != ref.UID {
			return nil, fmt.Errorf("secret UID (%s) does not match service account secret ref claim (%s)", s.UID, ref.UID)
		}
		if t := s.DeletionTimestamp; t != nil && t.Time.Before(deletedBefore) {
			return nil, invalidated
		}
	}
	u := &auth.User{
		Name:   Username(ns, saName),
		UID:    k.ServiceAccount.UID,
		Groups: []string{AllServiceAccountsGroup, ServiceAccountGroupPrefix + ns},
	}
	extra := map[string][]string{}
	if ref := k.Pod; ref != nil {
		p, err := a.getter.GetPod(ctx, ns, ref.Name)
		if err != nil {
			return nil, invalidated
		}
		if string(p.UID) != ref.UID {
			return nil, fmt.Errorf("pod UID (%s) does not match service account pod ref claim (%s)", p.UID, ref.UID)
		}
		if t := p.DeletionTimestamp; t != nil && t.Time.Before(deletedBefore) {
			return nil, invalidated
		}
		extra[PodNameKey], extra[PodUIDKey] = []string{ref.Name}, []string{ref.UID}
	}
	if ref := k.Node; ref != nil {
		if k.Pod == nil {
			n, err := a.getter.GetNode(ctx, ref.Name)
			if err != nil {
				return nil, invalidated
			}
			if string(n.UID) != ref.UID {
				return nil, fmt.Errorf("node UID (%s) does not match service account node ref claim (%s)", n.UID, ref.UID)
			}
			if t := n.DeletionTimestamp; t != nil && t.Time.Before(deletedBefore) {
				return nil, invalidated
			}
		}
		if ref.Name != "" {
			extra[NodeNameKey] = []string{ref.Name}
			if ref.UID != "" {
				extra[NodeUIDKey] = []string{ref.UID}
			}
		}
	}
	if c.ID != "" {
		extra[CredentialIDKey] = []string{"JTI=" + c.ID}
	}
	if len(extra) > 0 {
		u.Extra = extra
	}
	return u, nil
}
