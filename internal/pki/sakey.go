package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ServiceAccountKeyFile is the service-account signing key's file name in the certificate directory (kubeadm's sa.key).
const ServiceAccountKeyFile = "sa.key"

// EnsureServiceAccountKey returns the ECDSA P-256 key that signs service-account tokens, kept as dir/sa.key: created
// on first use, reused afterwards (a restart keeps every issued token valid).
func EnsureServiceAccountKey(dir string) (*ecdsa.PrivateKey, error) {
	path := filepath.Join(dir, ServiceAccountKeyFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("pki: generating service-account key: %w", err)
		}
		keyPEM, err := encodeKey(key)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, keyPEM, keyMode); err != nil {
			return nil, err
		}
		return key, nil
	case err != nil:
		return nil, fmt.Errorf("pki: reading service-account key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("pki: %s holds no PEM block (remove it to create a new service-account key)", path)
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		err = fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: service-account key %s: %w", path, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("pki: service-account key %s is not an ECDSA P-256 key", path)
	}
	if err := os.Chmod(path, keyMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return ec, nil
}
