package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKubectlCertificateApprove issues a client certificate the way users do: a CertificateSigningRequest for the
// kube-apiserver-client signer, `kubectl certificate approve`, and the signed certificate then authenticates its
// user (kubectl auth whoami).
func TestKubectlCertificateApprove(t *testing.T) {
	c := startServer(t, "--disable-agent")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "jane", Organization: []string{"devs"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	c.mustStdin(t, fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: jane
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 3600
  usages: [client auth]
`, req), "apply", "-f", "-")
	if out := c.mustKubectl(t, "get", "csr", "jane"); !strings.Contains(out, "Pending") || !strings.Contains(out, "kubernetes.io/kube-apiserver-client") {
		t.Errorf("kubectl get csr before approval:\n%s", out)
	}
	c.mustKubectl(t, "certificate", "approve", "jane")
	var certB64 string
	eventually(t, 30*time.Second, "the certificate issued", func() (bool, string) {
		certB64, _, _ = c.kubectl(t, "get", "csr", "jane", "-o", "jsonpath={.status.certificate}")
		return certB64 != "", "no status.certificate yet"
	})
	if out := c.mustKubectl(t, "get", "csr", "jane"); !strings.Contains(out, "Approved,Issued") {
		t.Errorf("kubectl get csr after signing:\n%s", out)
	}
	certPEM, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "jane.crt"), filepath.Join(dir, "jane.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	// A kubeconfig for jane: the admin's, with jane's certificate and key as the user's credentials.
	kc := filepath.Join(dir, "jane.kubeconfig")
	admin, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kc, admin, 0o600); err != nil {
		t.Fatal(err)
	}
	janeOpts := kubectlOpts{kubeconfig: kc}
	user, _, _ := c.kubectlWith(t, janeOpts, "config", "view", "-o", "jsonpath={.users[0].name}")
	if _, stderr, code := c.kubectlWith(t, janeOpts, "config", "set-credentials", user, "--client-certificate", certFile, "--client-key", keyFile, "--embed-certs=true"); code != 0 {
		t.Fatalf("set-credentials: %s", stderr)
	}
	out, stderr, code := c.kubectlWith(t, janeOpts, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}/{.status.userInfo.groups}")
	if code != 0 {
		t.Fatalf("whoami as jane: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "jane/") || !strings.Contains(out, "devs") {
		t.Errorf("whoami with the issued certificate = %q, want jane in group devs", out)
	}
}
