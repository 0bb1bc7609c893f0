package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// KeyID is upstream's key id for a public key: base64url (unpadded) of the SHA-256 of its PKIX DER.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("serializing public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// Signer signs service-account tokens with an ECDSA P-256 key (ES256).
type Signer struct {
	key *ecdsa.PrivateKey
	kid string
}

// NewSigner returns a Signer for key, which must be on P-256.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("service-account key must be ECDSA P-256")
	}
	kid, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, kid: kid}, nil
}

// KeyID returns the kid the Signer puts in its tokens' headers.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey returns the key that verifies the Signer's tokens.
func (s *Signer) PublicKey() *ecdsa.PublicKey { return &s.key.PublicKey }

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
}

// Sign returns the compact JWS of c.
func (s *Signer) Sign(c *Claims) (string, error) {
	h, err := json.Marshal(header{Alg: "ES256", Kid: s.kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(signing))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// parsed is a compact JWS split into its parts, not yet verified.
type parsed struct {
	header  header
	payload []byte
	signing string
	sig     []byte
}

// parse splits and decodes a compact JWS; false for anything that is not one.
func parse(token string) (parsed, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return parsed{}, false
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return parsed{}, false
	}
	var p parsed
	if err := json.Unmarshal(h, &p.header); err != nil {
		return parsed{}, false
	}
	if p.payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return parsed{}, false
	}
	if p.sig, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return parsed{}, false
	}
	p.signing = parts[0] + "." + parts[1]
	return p, true
}

// verify checks p's ES256 signature against pub.
func (p parsed) verify(pub *ecdsa.PublicKey) error {
	if p.header.Alg != "ES256" {
		return fmt.Errorf("go-jose/go-jose: unexpected signature algorithm %q", p.header.Alg)
	}
	if len(p.sig) != 64 {
		return errors.New("go-jose/go-jose: error in cryptographic primitive")
	}
	sum := sha256.Sum256([]byte(p.signing))
	r, s := new(big.Int).SetBytes(p.sig[:32]), new(big.Int).SetBytes(p.sig[32:])
	if !ecdsa.Verify(pub, sum[:], r, s) {
		return errors.New("go-jose/go-jose: error in cryptographic primitive")
	}
	return nil
}
