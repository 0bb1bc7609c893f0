package certificates

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

func BenchmarkValidateCreate(b *testing.B) {
	csr := validCSR(b)
	for b.Loop() {
		if errs := ValidateCreate(csr); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkSignClient(b *testing.B) {
	caCert, caKey := newCA(b, t0.Add(365*24*time.Hour))
	csr := signable(b, certificatesv1.KubeAPIServerClientSignerName, pkix.Name{CommonName: "alice"},
		[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, nil)
	for b.Loop() {
		if _, ok, _, err := Sign(csr, caCert, caKey, t0, 24*time.Hour); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
