package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Well-known identities for client certificates.
const (
	// AdminUser and AdminGroup are the CN and O of the admin client
	// certificate; system:masters is bound to cluster-admin.
	AdminUser  = "system:admin"
	AdminGroup = "system:masters"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how much validity a certificate must have left to be
	// reused.
	renewBefore = 30 * 24 * time.Hour
	// backdate is subtracted from NotBefore to tolerate clock skew.
	backdate = 5 * time.Minute

	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	serverCertFile = "server.crt"
	serverKeyFile  = "server.key"

	certMode = 0o644
	keyMode  = 0o600
	dirMode  = 0o700
)

// Hooks for tests.
var (
	now            = time.Now
	hostname       = os.Hostname
	interfaceAddrs = net.InterfaceAddrs
)

// fileMu serialises reads and writes of the certificate files within this
// process.
var fileMu sync.Mutex

// Config says where the certificates live and what the serving certificate
// must cover.
type Config struct {
	Dir       string   // DIR/tls
	ExtraSANs []string // IPs or DNS names
	ServiceIP net.IP   // first service IP, e.g. 10.43.0.1
}

// Bundle is the loaded CA and serving certificate.
type Bundle struct {
	CA      *x509.Certificate
	CAPEM   []byte
	CAKey   crypto.Signer
	Serving tls.Certificate // Leaf is set
}

// Ensure loads the CA and serving certificate from cfg.Dir, creating or
// renewing what is missing, expired or lacking a needed SAN.
func Ensure(cfg Config) (*Bundle, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pki: Config.Dir is empty")
	}
	fileMu.Lock()
	defer fileMu.Unlock()

	if err := os.MkdirAll(cfg.Dir, dirMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	b, err := ensureCA(cfg.Dir)
	if err != nil {
		return nil, err
	}
	dnsNames, ips := servingSANs(cfg)
	b.Serving, err = ensureServing(cfg.Dir, b, dnsNames, ips)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func ensureCA(dir string) (*Bundle, error) {
	certPath := filepath.Join(dir, caCertFile)
	keyPath := filepath.Join(dir, caKeyFile)
	t := now()

	certPEM, err := os.ReadFile(certPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createCA(dir, t)
	case err != nil:
		return nil, fmt.Errorf("pki: reading CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("pki: %s exists but its key cannot be read (remove both %s and %s to create a new CA): %w",
			certPath, caCertFile, caKeyFile, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: invalid CA in %s (remove both %s and %s to create a new CA): %w",
			dir, caCertFile, caKeyFile, err)
	}
	ca, err := leaf(pair)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing CA certificate: %w", err)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: %s is not a CA certificate (remove both %s and %s to create a new CA)",
			certPath, caCertFile, caKeyFile)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: CA key in %s is not a signing key", keyPath)
	}
	if t.Add(renewBefore).After(ca.NotAfter) {
		slog.Warn("pki: CA certificate expires soon or has expired; creating a new CA, clients holding the old one must be updated",
			"path", certPath, "notAfter", ca.NotAfter)
		return createCA(dir, t)
	}
	if err := os.Chmod(keyPath, keyMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &Bundle{CA: ca, CAPEM: certPEM, CAKey: signer}, nil
}

func createCA(dir string, t time.Time) (*Bundle, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generating CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("skiff-ca@%d", t.Unix())},
		NotBefore:             t.Add(-backdate),
		NotAfter:              t.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: creating CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	certPEM := encodeCert(der)
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePair(dir, caCertFile, caKeyFile, certPEM, keyPEM); err != nil {
		return nil, err
	}
	return &Bundle{CA: ca, CAPEM: certPEM, CAKey: key}, nil
}

func ensureServing(dir string, b *Bundle, dnsNames []string, ips []net.IP) (tls.Certificate, error) {
	certPath := filepath.Join(dir, serverCertFile)
	keyPath := filepath.Join(dir, serverKeyFile)
	if pair, cert, err := loadLeaf(certPath, keyPath, b.CA, x509.ExtKeyUsageServerAuth); err == nil {
		missing := uncovered(cert, dnsNames, ips)
		if len(missing) == 0 {
			if err := os.Chmod(keyPath, keyMode); err != nil {
				return tls.Certificate{}, fmt.Errorf("pki: %w", err)
			}
			return pair, nil
		}
		slog.Info("pki: regenerating serving certificate", "reason", "missing SANs", "sans", missing)
	} else if !errors.Is(err, fs.ErrNotExist) {
		slog.Info("pki: regenerating serving certificate", "reason", err)
	}

	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "skiff-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dnsNames,
		IPAddresses: ips,
	}
	certPEM, keyPEM, err := b.sign(tmpl)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writePair(dir, serverCertFile, serverKeyFile, certPEM, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	if _, err := leaf(pair); err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	return pair, nil
}

// ClientCert returns a client certificate for user in groups, signed by the
// CA, stored as DIR/tls/<name>.crt/.key and reused on later calls while
// valid.
func (b *Bundle) ClientCert(dir, name, user string, groups []string) (certPEM, keyPEM []byte, err error) {
	if err := validName(name); err != nil {
		return nil, nil, err
	}
	if user == "" {
		return nil, nil, errors.New("pki: client certificate needs a user name")
	}
	fileMu.Lock()
	defer fileMu.Unlock()

	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	certFile, keyFile := name+".crt", name+".key"
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	if _, cert, err := loadLeaf(certPath, keyPath, b.CA, x509.ExtKeyUsageClientAuth); err == nil {
		if cert.Subject.CommonName == user && sameSet(cert.Subject.Organization, groups) {
			if err := os.Chmod(keyPath, keyMode); err != nil {
				return nil, nil, fmt.Errorf("pki: %w", err)
			}
			certPEM, err1 := os.ReadFile(certPath)
			keyPEM, err2 := os.ReadFile(keyPath)
			if err := errors.Join(err1, err2); err != nil {
				return nil, nil, fmt.Errorf("pki: %w", err)
			}
			return certPEM, keyPEM, nil
		}
		slog.Info("pki: regenerating client certificate", "name", name, "reason", "subject changed")
	} else if !errors.Is(err, fs.ErrNotExist) {
		slog.Info("pki: regenerating client certificate", "name", name, "reason", err)
	}

	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: slices.Clone(groups)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	certPEM, keyPEM, err = b.sign(tmpl)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(dir, certFile, keyFile, certPEM, keyPEM); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// sign fills in the common leaf fields of tmpl, generates a key and signs it
// with the CA.
func (b *Bundle) sign(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generating key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	t := now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = t.Add(-backdate)
	tmpl.NotAfter = t.Add(leafValidity)
	if tmpl.NotAfter.After(b.CA.NotAfter) {
		tmpl.NotAfter = b.CA.NotAfter
	}
	if tmpl.NotBefore.Before(b.CA.NotBefore) {
		tmpl.NotBefore = b.CA.NotBefore
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.CA, key.Public(), b.CAKey)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: signing certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// loadLeaf reads a certificate and key and checks that they match, that the
// certificate chains to ca for usage, and that it has at least renewBefore
// left. The returned error wraps fs.ErrNotExist when either file is missing.
func loadLeaf(certPath, keyPath string, ca *x509.Certificate, usage x509.ExtKeyUsage) (tls.Certificate, *x509.Certificate, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := leaf(pair)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	t := now()
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: t,
		KeyUsages:   []x509.ExtKeyUsage{usage},
	}); err != nil {
		return tls.Certificate{}, nil, err
	}
	if t.Add(renewBefore).After(cert.NotAfter) {
		return tls.Certificate{}, nil, fmt.Errorf("certificate expires at %s", cert.NotAfter.Format(time.RFC3339))
	}
	return pair, cert, nil
}

func leaf(pair tls.Certificate) (*x509.Certificate, error) {
	if pair.Leaf != nil {
		return pair.Leaf, nil
	}
	if len(pair.Certificate) == 0 {
		return nil, errors.New("no certificate")
	}
	return x509.ParseCertificate(pair.Certificate[0])
}

// servingSANs returns the DNS names and IPs the serving certificate must
// cover, deduplicated and sorted.
func servingSANs(cfg Config) ([]string, []net.IP) {
	dns := []string{
		"localhost",
		"kubernetes",
		"kubernetes.default",
		"kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local",
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); ip != nil {
			ips = append(ips, ip)
			return
		}
		dns = append(dns, strings.ToLower(s))
	}
	if h, err := hostname(); err == nil && isASCII(h) {
		add(h)
	}
	if addrs, err := interfaceAddrs(); err == nil {
		for _, a := range addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			if ip != nil && ip.IsGlobalUnicast() {
				ips = append(ips, ip)
			}
		}
	} else {
		slog.Warn("pki: listing interface addresses", "err", err)
	}
	if cfg.ServiceIP != nil {
		ips = append(ips, cfg.ServiceIP)
	}
	for _, s := range cfg.ExtraSANs {
		add(s)
	}

	slices.Sort(dns)
	dns = slices.Compact(dns)
	for i, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			ips[i] = v4
		} else {
			ips[i] = ip.To16()
		}
	}
	slices.SortFunc(ips, func(a, b net.IP) int { return strings.Compare(string(a), string(b)) })
	ips = slices.CompactFunc(ips, net.IP.Equal)
	return dns, ips
}

// uncovered lists the needed SANs that cert lacks.
func uncovered(cert *x509.Certificate, dnsNames []string, ips []net.IP) []string {
	var missing []string
	for _, d := range dnsNames {
		if !slices.ContainsFunc(cert.DNSNames, func(c string) bool { return strings.EqualFold(c, d) }) {
			missing = append(missing, d)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			missing = append(missing, ip.String())
		}
	}
	return missing
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

func validName(name string) error {
	switch name {
	case "", "ca", "server":
		return fmt.Errorf("pki: invalid client certificate name %q", name)
	}
	if name[0] == '.' {
		return fmt.Errorf("pki: invalid client certificate name %q", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("pki: invalid client certificate name %q", name)
		}
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: generating serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// writePair writes the key, then the certificate, each atomically.
func writePair(dir, certFile, keyFile string, certPEM, keyPEM []byte) error {
	if err := writeFileAtomic(filepath.Join(dir, keyFile), keyPEM, keyMode); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, certFile), certPEM, certMode)
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// into place, so readers see either the old or the new contents.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
