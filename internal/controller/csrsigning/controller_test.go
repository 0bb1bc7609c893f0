package csrsigning

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testCA(t *testing.T, now time.Time) *controller.ClusterSigner {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &controller.ClusterSigner{Cert: cert, Key: key}
}

func clientCSR(t *testing.T, name string, approved bool, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certificatesv1.KubeAPIServerClientSignerName, Usages: usages,
		},
	}
	if approved {
		csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	}
	return csr
}

func TestSignsApprovedClientCSRs(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := clientCSR(t, "ok", true, certificatesv1.UsageClientAuth, certificatesv1.UsageDigitalSignature)
	pending := clientCSR(t, "pending", false, certificatesv1.UsageClientAuth)
	refused := clientCSR(t, "refused", true, certificatesv1.UsageServerAuth)
	env := controllertest.NewEnv(t, 10, ok, pending, refused)
	cc := env.Context(clock.NewFake(now))
	ca := testCA(t, now)
	cc.ClusterSigner = ca
	ctrl, err := New(cc)
	if err != nil {
		t.Fatal(err)
	}
	c := ctrl.(*Controller)
	env.Cache(ok, pending, refused)
	for _, name := range []string{"ok", "pending", "refused"} {
		if _, err := c.sync(context.Background(), name); err != nil {
			t.Fatalf("sync %s: %v", name, err)
		}
	}
	if got := controllertest.Writes(env.Client.Actions()); len(got) != 2 {
		t.Fatalf("writes = %v, want two status updates (ok, refused)", got)
	}
	signed, _ := env.Client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), "ok", metav1.GetOptions{})
	block, _ := pem.Decode(signed.Status.Certificate)
	if block == nil {
		t.Fatalf("no certificate: %+v", signed.Status)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("signed certificate does not verify against the CA: %v", err)
	}
	if cert.Subject.CommonName != "alice" {
		t.Errorf("subject = %v", cert.Subject)
	}
	failed, _ := env.Client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), "refused", metav1.GetOptions{})
	if n := len(failed.Status.Conditions); n != 2 || failed.Status.Conditions[1].Type != certificatesv1.CertificateFailed || len(failed.Status.Certificate) != 0 {
		t.Errorf("refused CSR status = %+v", failed.Status)
	}
}
