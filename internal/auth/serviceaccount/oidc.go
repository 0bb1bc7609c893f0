package serviceaccount

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Paths of the service-account issuer discovery documents.
const (
	OpenIDConfigPath = "/.well-known/openid-configuration"
	JWKSPath         = "/openid/v1/jwks"
)

// oidcMaxAge is how long clients may cache the documents (upstream's max-age).
const oidcMaxAge = 3600

type openIDMetadata struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// OIDCHandler serves OpenIDConfigPath and JWKSPath for issuer and signer's key; externalAddress (host:port) is where
// the JWKS is published when jwksURI is empty, as kube-apiserver's --service-account-jwks-uri default.
func OIDCHandler(issuer, jwksURI, externalAddress string, signer *Signer) (http.Handler, error) {
	if u, err := url.Parse(issuer); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("service-account issuer %q: must be an https URL", issuer)
	}
	if jwksURI == "" {
		jwksURI = (&url.URL{Scheme: "https", Host: externalAddress, Path: JWKSPath}).String()
	}
	cfg, err := json.Marshal(openIDMetadata{
		Issuer: issuer, JWKSURI: jwksURI, ResponseTypes: []string{"id_token"}, SubjectTypes: []string{"public"},
		SigningAlgs: []string{"ES256"},
	})
	if err != nil {
		return nil, err
	}
	pub := signer.PublicKey()
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	keys, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{{Use: "sig", Kty: "EC", Kid: signer.KeyID(), Crv: "P-256", Alg: "ES256",
		X: base64.RawURLEncoding.EncodeToString(x), Y: base64.RawURLEncoding.EncodeToString(y)}}})
	if err != nil {
		return nil, err
	}
	serve := func(body []byte, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", oidcMaxAge))
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(OpenIDConfigPath, serve(cfg, "application/json"))
	mux.Handle(JWKSPath, serve(keys, "application/jwk-set+json"))
	return mux, nil
}
