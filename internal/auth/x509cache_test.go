package auth

import (
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestX509VerifiedChainCache checks that a verified chain is remembered only while it is valid, that callers get
// their own copy of the user, and that a chain that failed is never remembered.
func TestX509VerifiedChainCache(t *testing.T) {
	env := newEnv(t)
	parse := func(c tls.Certificate) []*x509.Certificate {
		var out []*x509.Certificate
		for _, der := range c.Certificate {
			x, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, x)
		}
		return out
	}
	admin, foreign := parse(env.admin), parse(env.foreign)
	now := time.Now()
	a := newX509(env.ca, func() time.Time { return now })
	auth := func(chain []*x509.Certificate) (*User, error) {
		r := httptest.NewRequest("GET", "https://x/api", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: chain}
		u, ok, err := a.AuthenticateRequest(r)
		if err == nil && !ok {
			t.Fatal("a certificate was present but not recognised")
		}
		return u, err
	}

	u, err := auth(admin)
	if err != nil || u.Name != "system:admin" || !slices.Equal(u.Groups, []string{"system:masters"}) {
		t.Fatalf("first request: %+v %v", u, err)
	}
	if len(a.verified) != 1 {
		t.Fatalf("%d chains remembered after one success, want 1", len(a.verified))
	}
	u.Groups[0] = "mutated"
	if u2, err := auth(admin); err != nil || !slices.Equal(u2.Groups, []string{"system:masters"}) {
		t.Fatalf("second request (cached): %+v %v; the cache must hand out copies", u2, err)
	}

	for range 2 {
		if _, err := auth(foreign); err == nil {
			t.Fatal("a certificate from another CA was accepted")
		}
	}
	if len(a.verified) != 1 {
		t.Fatalf("%d chains remembered, want only the valid one", len(a.verified))
	}

	// Past the certificate's expiry the cached success no longer counts: the chain is verified again and fails.
	now = admin[0].NotAfter.Add(time.Minute)
	if _, err := auth(admin); err == nil {
		t.Fatal("an expired certificate was accepted from the cache")
	}
}

// BenchmarkX509Authenticate is the per-request cost of client-certificate authentication once the chain is known.
func BenchmarkX509Authenticate(b *testing.B) {
	env := newEnv(b)
	var chain []*x509.Certificate
	for _, der := range env.admin.Certificate {
		x, _ := x509.ParseCertificate(der)
		chain = append(chain, x)
	}
	a := NewX509(env.ca)
	r := httptest.NewRequest("GET", "https://x/api", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: chain}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := a.AuthenticateRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}
