package auth

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
// pool: user = CN, groups = O.
func NewX509(roots *x509.CertPool) Authenticator {
	return &x509Authenticator{roots: roots}
}

type x509Authenticator struct {
	roots *x509.CertPool
}

func (a *x509Authenticator) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	certs := r.TLS.PeerCertificates
	opts := x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return nil, false, fmt.Errorf("verifying client certificate: %w", err)
	}
	cn := certs[0].Subject.CommonName
	if cn == "" {
		return nil, false, errors.New("client certificate has no common name")
	}
	return &User{Name: cn, Groups: slices.Clone(certs[0].Subject.Organization)}, true, nil
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
