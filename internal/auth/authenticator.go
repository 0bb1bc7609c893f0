package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Authenticator returns the user for r, ok=false when r carries no
// credentials it recognises, and err for credentials that are present but
// invalid.
type Authenticator interface {
	AuthenticateRequest(r *http.Request) (*User, bool, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*User, bool, error)

// AuthenticateRequest calls f(r).
func (f AuthenticatorFunc) AuthenticateRequest(r *http.Request) (*User, bool, error) { return f(r) }

// NewX509 authenticates TLS client certificates verified against the CA
// pool: user = CN, groups = O. A chain that verified is remembered (by its
// bytes) until its first certificate expires, so the signatures are checked
// once per client rather than once per request.
func NewX509(roots *x509.CertPool) Authenticator {
	return newX509(roots, time.Now)
}

func newX509(roots *x509.CertPool, now func() time.Time) *x509Authenticator {
	return &x509Authenticator{roots: roots, now: now, verified: map[[sha256.Size]byte]verifiedChain{}}
}

// maxVerifiedChains bounds the cache of verified chains; when full it starts again empty.
const maxVerifiedChains = 4096

type x509Authenticator struct {
	roots *x509.CertPool
	now   func() time.Time

	mu       sync.Mutex // guards verified
	verified map[[sha256.Size]byte]verifiedChain
}

// verifiedChain is a chain that verified, valid for the cache until notAfter.
type verifiedChain struct {
	user      User
	notBefore time.Time
	notAfter  time.Time
}

func (a *x509Authenticator) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	certs := r.TLS.PeerCertificates
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	now := a.now()
	a.mu.Lock()
	v, ok := a.verified[key]
	a.mu.Unlock()
	if ok && !now.Before(v.notBefore) && now.Before(v.notAfter) {
		return &User{Name: v.user.Name, Groups: slices.Clone(v.user.Groups)}, true, nil
	}
	opts := x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		CurrentTime:   now,
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := certs[0].Verify(opts)
	if err != nil {
		return nil, false, fmt.Errorf("verifying client certificate: %w", err)
	}
	cn := certs[0].Subject.CommonName
	if cn == "" {
		return nil, false, errors.New("client certificate has no common name")
	}
	v = verifiedChain{user: User{Name: cn, Groups: slices.Clone(certs[0].Subject.Organization)}}
	for i, c := range chains[0] {
		if i == 0 || c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	a.mu.Lock()
	if len(a.verified) >= maxVerifiedChains {
		clear(a.verified)
	}
	a.verified[key] = v
	a.mu.Unlock()
	return &User{Name: cn, Groups: slices.Clone(v.user.Groups)}, true, nil
}

// Union tries each authenticator in order.
func Union(a ...Authenticator) Authenticator {
	return union(slices.Clone(a))
}

type union []Authenticator

func (u union) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	var errs []error
	for _, a := range u {
		user, ok, err := a.AuthenticateRequest(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return user, true, nil
		}
	}
	return nil, false, errors.Join(errs...)
}

// GenerateToken returns a new random bearer token: 32 bytes, hex encoded.
func GenerateToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails; crypto/rand crashes the program instead
	return hex.EncodeToString(b[:])
}
