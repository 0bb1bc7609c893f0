package pki

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// fakeHost replaces the host name and interface addresses for the test.
func fakeHost(t *testing.T, name string, cidrs ...string) {
	t.Helper()
	oldHost, oldAddrs := hostname, interfaceAddrs
	t.Cleanup(func() { hostname, interfaceAddrs = oldHost, oldAddrs })
	var addrs []net.Addr
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		addrs = append(addrs, n)
	}
	hostname = func() (string, error) { return name, nil }
	interfaceAddrs = func() ([]net.Addr, error) { return addrs, nil }
}

// fakeNow shifts the package clock by d for the test.
func fakeNow(t *testing.T, d time.Duration) {
	t.Helper()
	old := now
	t.Cleanup(func() { now = old })
	now = func() time.Time { return time.Now().Add(d) }
}

func testConfig(t *testing.T) Config {
	return Config{
		Dir:       filepath.Join(t.TempDir(), "tls"),
		ServiceIP: net.ParseIP("10.43.0.1"),
		ExtraSANs: []string{"skiff.example.com", "203.0.113.7"},
	}
}

func mustEnsure(t *testing.T, cfg Config) *Bundle {
	t.Helper()
	b, err := Ensure(cfg)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return b
}

func servingDER(b *Bundle) []byte { return b.Serving.Certificate[0] }

func TestEnsureCreatesAndReuses(t *testing.T) {
	fakeHost(t, "node-a", "192.168.1.10/24")
	cfg := testConfig(t)
	b1 := mustEnsure(t, cfg)
	for _, f := range []string{"ca.crt", "ca.key", "server.crt", "server.key"} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, f)); err != nil {
			t.Fatalf("missing %s: %v", f, err)
		}
	}
	b2 := mustEnsure(t, cfg)
	if !bytes.Equal(b1.CA.Raw, b2.CA.Raw) || !bytes.Equal(b1.CAPEM, b2.CAPEM) {
		t.Fatal("CA changed between calls")
	}
	if !bytes.Equal(servingDER(b1), servingDER(b2)) {
		t.Fatal("serving certificate changed between calls")
	}
	if b2.Serving.Leaf == nil {
		t.Fatal("Serving.Leaf not set")
	}
	if !b1.CA.IsCA || b1.CA.NotAfter.Sub(b1.CA.NotBefore) < 9*365*24*time.Hour {
		t.Fatalf("CA: IsCA=%v validity %v", b1.CA.IsCA, b1.CA.NotAfter.Sub(b1.CA.NotBefore))
	}
	if v := time.Until(b1.Serving.Leaf.NotAfter); v < 364*24*time.Hour || v > 366*24*time.Hour {
		t.Fatalf("serving validity %v, want about a year", v)
	}
	if !b2.CAKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(b1.CA.PublicKey) {
		t.Fatal("CAKey does not match CA")
	}
	// Key files are 0600, the directory 0700.
	for _, f := range []string{"ca.key", "server.key"} {
		fi, err := os.Stat(filepath.Join(cfg.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(cfg.Dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
	// ECDSA P-256 keys in PEM.
	keyPEM, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.key"))
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		t.Fatal("server.key not PEM")
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil || k.Curve.Params().Name != "P-256" {
		t.Fatalf("server.key: %v", err)
	}
	// A key whose mode was loosened is tightened again.
	os.Chmod(filepath.Join(cfg.Dir, "ca.key"), 0o644)
	mustEnsure(t, cfg)
	if fi, _ := os.Stat(filepath.Join(cfg.Dir, "ca.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("ca.key mode %v after reload, want 0600", fi.Mode().Perm())
	}
}

func TestServingSANs(t *testing.T) {
	fakeHost(t, "Node-A", "192.168.1.10/24", "fe80::1/64", "127.0.0.1/8", "2001:db8::5/64")
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)
	roots := x509.NewCertPool()
	roots.AddCert(b.CA)
	leaf := b.Serving.Leaf
	want := []string{
		"localhost", "node-a", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "skiff.example.com",
		"127.0.0.1", "::1", "192.168.1.10", "2001:db8::5", "10.43.0.1", "203.0.113.7",
	}
	for _, name := range want {
		if _, err := leaf.Verify(x509.VerifyOptions{
			DNSName:   name,
			Roots:     roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			t.Errorf("serving cert does not verify for %s: %v", name, err)
		}
	}
	if slices.ContainsFunc(leaf.IPAddresses, net.ParseIP("fe80::1").Equal) {
		t.Error("link-local address in SANs")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots}); err == nil {
		t.Error("serving cert verifies for an unrelated name")
	}
}

func TestServingSANsRealHost(t *testing.T) {
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if err := b.Serving.Leaf.VerifyHostname(ipn.IP.String()); err != nil {
			t.Errorf("node IP %s: %v", ipn.IP, err)
		}
	}
	if h, err := os.Hostname(); err == nil {
		if err := b.Serving.Leaf.VerifyHostname(h); err != nil {
			t.Errorf("hostname: %v", err)
		}
	}
}

func TestServingRegeneratedOnlyWhenSANsMissing(t *testing.T) {
	fakeHost(t, "node-a", "192.168.1.10/24")
	cfg := testConfig(t)
	b1 := mustEnsure(t, cfg)

	cfg.ExtraSANs = append(cfg.ExtraSANs, "api.example.org", "[2001:db8::9]")
	b2 := mustEnsure(t, cfg)
	if !bytes.Equal(b1.CA.Raw, b2.CA.Raw) {
		t.Fatal("CA changed when ExtraSANs changed")
	}
	if bytes.Equal(servingDER(b1), servingDER(b2)) {
		t.Fatal("serving cert not regenerated for new SANs")
	}
	for _, n := range []string{"api.example.org", "2001:db8::9", "skiff.example.com"} {
		if err := b2.Serving.Leaf.VerifyHostname(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}

	// Dropping an extra SAN leaves the (still covering) certificate alone.
	cfg.ExtraSANs = cfg.ExtraSANs[:1]
	b3 := mustEnsure(t, cfg)
	if !bytes.Equal(servingDER(b2), servingDER(b3)) {
		t.Fatal("serving cert regenerated although it still covers every SAN")
	}

	// A new node IP regenerates it.
	fakeHost(t, "node-a", "192.168.1.10/24", "10.0.0.4/8")
	b4 := mustEnsure(t, cfg)
	if bytes.Equal(servingDER(b3), servingDER(b4)) {
		t.Fatal("serving cert not regenerated for a new node IP")
	}
	if err := b4.Serving.Leaf.VerifyHostname("10.0.0.4"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.CA.Raw, b4.CA.Raw) {
		t.Fatal("CA changed")
	}
}

func TestRenewal(t *testing.T) {
	fakeHost(t, "node-a", "192.168.1.10/24")
	cfg := testConfig(t)
	b1 := mustEnsure(t, cfg)
	admin1, _, err := b1.ClientCert(cfg.Dir, "admin", AdminUser, []string{AdminGroup})
	if err != nil {
		t.Fatal(err)
	}

	// 300 days on: still more than 30 days left, nothing changes.
	fakeNow(t, 300*24*time.Hour)
	b2 := mustEnsure(t, cfg)
	if !bytes.Equal(servingDER(b1), servingDER(b2)) {
		t.Fatal("serving cert renewed too early")
	}
	if admin2, _, _ := b2.ClientCert(cfg.Dir, "admin", AdminUser, []string{AdminGroup}); !bytes.Equal(admin1, admin2) {
		t.Fatal("client cert renewed too early")
	}

	// 340 days on: fewer than 30 days left, leaf certs are renewed, CA kept.
	fakeNow(t, 340*24*time.Hour)
	b3 := mustEnsure(t, cfg)
	if !bytes.Equal(b1.CA.Raw, b3.CA.Raw) {
		t.Fatal("CA renewed")
	}
	if bytes.Equal(servingDER(b1), servingDER(b3)) {
		t.Fatal("expiring serving cert not renewed")
	}
	admin3, _, _ := b3.ClientCert(cfg.Dir, "admin", AdminUser, []string{AdminGroup})
	if bytes.Equal(admin1, admin3) {
		t.Fatal("expiring client cert not renewed")
	}

	// 11 years on: the CA itself has expired and is replaced, and the
	// serving cert follows it.
	fakeNow(t, 11*365*24*time.Hour)
	b4 := mustEnsure(t, cfg)
	if bytes.Equal(b1.CA.Raw, b4.CA.Raw) {
		t.Fatal("expired CA not replaced")
	}
	if err := b4.Serving.Leaf.CheckSignatureFrom(b4.CA); err != nil {
		t.Fatalf("serving cert not signed by new CA: %v", err)
	}
}

func TestLeafNeverOutlivesCA(t *testing.T) {
	fakeHost(t, "node-a")
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)
	// 9.8 years on the CA has ~70 days left.
	fakeNow(t, time.Duration(9.8*365*24)*time.Hour)
	os.Remove(filepath.Join(cfg.Dir, "server.crt"))
	b2 := mustEnsure(t, cfg)
	if !bytes.Equal(b.CA.Raw, b2.CA.Raw) {
		t.Fatal("CA replaced early")
	}
	if b2.Serving.Leaf.NotAfter.After(b.CA.NotAfter) {
		t.Fatalf("serving cert outlives CA: %v > %v", b2.Serving.Leaf.NotAfter, b.CA.NotAfter)
	}
}

func TestBrokenFiles(t *testing.T) {
	fakeHost(t, "node-a")
	cfg := testConfig(t)
	b1 := mustEnsure(t, cfg)
	caKey := filepath.Join(cfg.Dir, "ca.key")
	caCrt := filepath.Join(cfg.Dir, "ca.crt")
	goodKey, _ := os.ReadFile(caKey)

	// A corrupt serving key is simply regenerated.
	os.WriteFile(filepath.Join(cfg.Dir, "server.key"), []byte("garbage"), 0o600)
	b2 := mustEnsure(t, cfg)
	if bytes.Equal(servingDER(b1), servingDER(b2)) || !bytes.Equal(b1.CA.Raw, b2.CA.Raw) {
		t.Fatal("corrupt serving key: want new serving cert, same CA")
	}

	// The CA is never silently replaced.
	os.WriteFile(caKey, []byte("garbage"), 0o600)
	if _, err := Ensure(cfg); err == nil {
		t.Fatal("Ensure succeeded with a corrupt CA key")
	}
	os.Remove(caKey)
	if _, err := Ensure(cfg); err == nil {
		t.Fatal("Ensure succeeded with a missing CA key")
	}
	if got, _ := os.ReadFile(caCrt); !bytes.Equal(got, b1.CAPEM) {
		t.Fatal("ca.crt overwritten")
	}

	// A stray key without a certificate is treated as a fresh start.
	os.WriteFile(caKey, goodKey, 0o600)
	os.Remove(caCrt)
	b3 := mustEnsure(t, cfg)
	if bytes.Equal(b1.CA.Raw, b3.CA.Raw) {
		t.Fatal("CA not recreated")
	}
	if err := b3.Serving.Leaf.CheckSignatureFrom(b3.CA); err != nil {
		t.Fatal("serving cert not reissued by new CA")
	}
}

func TestServingFromOtherCARegenerated(t *testing.T) {
	fakeHost(t, "node-a")
	cfg := testConfig(t)
	b1 := mustEnsure(t, cfg)
	otherCfg := testConfig(t)
	mustEnsure(t, otherCfg)
	for _, f := range []string{"server.crt", "server.key"} {
		data, err := os.ReadFile(filepath.Join(otherCfg.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.Dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b2 := mustEnsure(t, cfg)
	if err := b2.Serving.Leaf.CheckSignatureFrom(b1.CA); err != nil {
		t.Fatalf("serving cert from another CA kept: %v", err)
	}
}

func TestClientCert(t *testing.T) {
	fakeHost(t, "node-a")
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)

	c1, k1, err := b.ClientCert(cfg.Dir, "kubelet", "system:node:node-a", []string{"system:nodes"})
	if err != nil {
		t.Fatal(err)
	}
	c2, k2, err := b.ClientCert(cfg.Dir, "kubelet", "system:node:node-a", []string{"system:nodes"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c1, c2) || !bytes.Equal(k1, k2) {
		t.Fatal("client cert not reused")
	}
	onDisk, _ := os.ReadFile(filepath.Join(cfg.Dir, "kubelet.crt"))
	if !bytes.Equal(onDisk, c1) {
		t.Fatal("returned cert differs from kubelet.crt")
	}
	if fi, _ := os.Stat(filepath.Join(cfg.Dir, "kubelet.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubelet.key mode %v", fi.Mode().Perm())
	}

	// Changing the groups reissues it.
	c3, _, err := b.ClientCert(cfg.Dir, "kubelet", "system:node:node-a", []string{"system:nodes", "extra"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(c1, c3) {
		t.Fatal("client cert not reissued for new groups")
	}
	cert := parseCert(t, c3)
	if cert.Subject.CommonName != "system:node:node-a" || !sameSet(cert.Subject.Organization, []string{"system:nodes", "extra"}) {
		t.Fatalf("subject %v", cert.Subject)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Fatalf("ext key usage %v", cert.ExtKeyUsage)
	}

	for _, bad := range []string{"", "ca", "server", "../x", "a/b", ".hidden"} {
		if _, _, err := b.ClientCert(cfg.Dir, bad, "u", nil); err == nil {
			t.Errorf("ClientCert accepted name %q", bad)
		}
	}
	if _, _, err := b.ClientCert(cfg.Dir, "nouser", "", nil); err == nil {
		t.Error("ClientCert accepted an empty user")
	}
}

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(certPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatal("not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAdminKubeconfig(t *testing.T) {
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)
	certPEM, keyPEM, err := b.ClientCert(cfg.Dir, "admin", AdminUser, []string{AdminGroup})
	if err != nil {
		t.Fatal(err)
	}

	// An API server stand-in that requires a client cert from the CA and
	// reports who called.
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.TLS.PeerCertificates[0]
		fmt.Fprintf(w, "%s/%s", c.Subject.CommonName, strings.Join(c.Subject.Organization, ","))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(b.CA)
	ts.TLS = &tls.Config{
		Certificates: []tls.Certificate{b.Serving},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	ts.StartTLS()
	defer ts.Close()

	path := filepath.Join(filepath.Dir(cfg.Dir), "admin.kubeconfig")
	if err := WriteKubeconfig(path, ts.URL, b.CAPEM, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig mode %v", fi.Mode().Perm())
	}
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if kc.CurrentContext != "skiff" {
		t.Fatalf("current context %q", kc.CurrentContext)
	}
	ctx := kc.Contexts["skiff"]
	if ctx == nil || ctx.Cluster != "skiff" || ctx.AuthInfo != "skiff" || ctx.Namespace != "default" {
		t.Fatalf("context %+v", ctx)
	}
	ai := kc.AuthInfos["skiff"]
	cert := parseCert(t, ai.ClientCertificateData)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(kc.Clusters["skiff"].CertificateAuthorityData)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("admin cert does not chain to CA: %v", err)
	}
	if cert.Subject.CommonName != "system:admin" || !slices.Equal(cert.Subject.Organization, []string{"system:masters"}) {
		t.Fatalf("admin subject %v", cert.Subject)
	}

	// And client-go can use it: server cert verifies for 127.0.0.1, client
	// cert is accepted.
	rc, err := clientcmd.NewDefaultClientConfig(*kc, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "system:admin/system:masters" {
		t.Fatalf("server saw %q", body)
	}

	// Rewriting replaces the file atomically and leaves no temp files.
	if err := WriteKubeconfig(path, "https://127.0.0.1:6443", b.CAPEM, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

func TestTokenKubeconfig(t *testing.T) {
	cfg := testConfig(t)
	b := mustEnsure(t, cfg)
	path := filepath.Join(t.TempDir(), "sub", "token.kubeconfig")
	if err := WriteTokenKubeconfig(path, "https://10.0.0.1:6443", b.CAPEM, "s3cret"); err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ai := kc.AuthInfos["skiff"]
	if ai.Token != "s3cret" || len(ai.ClientCertificateData) != 0 {
		t.Fatalf("auth info %+v", ai)
	}
	if kc.Clusters["skiff"].Server != "https://10.0.0.1:6443" || !bytes.Equal(kc.Clusters["skiff"].CertificateAuthorityData, b.CAPEM) {
		t.Fatalf("cluster %+v", kc.Clusters["skiff"])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	if err := WriteTokenKubeconfig(path, "https://x", b.CAPEM, ""); err == nil {
		t.Fatal("empty token accepted")
	}
}

func TestEnsureServiceAccountKeyReused(t *testing.T) {
	dir := t.TempDir()
	k1, err := EnsureServiceAccountKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := EnsureServiceAccountKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("second call made a new key; want the stored one reused")
	}
	if err := os.WriteFile(filepath.Join(dir, ServiceAccountKeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureServiceAccountKey(dir); err == nil {
		t.Fatal("corrupt key accepted")
	}
}
