package certificates

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrPEM(t testing.TB, subject pkix.Name, dns []string, ips []net.IP) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: dns, IPAddresses: ips}, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newCA(t testing.TB, notAfter time.Time) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: t0.Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func certPEM(t testing.TB) []byte {
	ca, _ := newCA(t, t0.Add(time.Hour))
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
}

func validCSR(t testing.TB) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    csrPEM(t, pkix.Name{CommonName: "alice", Organization: []string{"devs"}}, nil, nil),
			SignerName: certificatesv1.KubeAPIServerClientSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		},
	}
}

func cond(t certificatesv1.RequestConditionType, s corev1.ConditionStatus) certificatesv1.CertificateSigningRequestCondition {
	return certificatesv1.CertificateSigningRequestCondition{Type: t, Status: s, Reason: "R"}
}

func int32p(v int32) *int32 { return &v }

// errStrings renders errors as the API server reports them.
func errStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// checkErrs requires exactly the wanted errors, each given as a substring of one error in order.
func checkErrs(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := errStrings(errs)
	if len(got) != len(want) {
		t.Fatalf("got %d errors %q, want %d %q", len(got), got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("error %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

func TestValidateCreate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*certificatesv1.CertificateSigningRequest)
		want   []string
	}{
		{"valid", func(*certificatesv1.CertificateSigningRequest) {}, nil},
		{"request not PEM", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = []byte("junk") },
			[]string{`spec.request: Invalid value: "anVuaw==": PEM block type must be CERTIFICATE REQUEST`}},
		{"request wrong block", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = certPEM(t) },
			[]string{": PEM block type must be CERTIFICATE REQUEST"}},
		{"no usages", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = nil },
			[]string{"spec.usages: Required value"}},
		{"unknown usage", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = append(c.Spec.Usages, "bogus") },
			[]string{`spec.usages[2]: Unsupported value: "bogus": supported values: "any", "cert sign"`}},
		{"duplicate usage", func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = append(c.Spec.Usages, certificatesv1.UsageClientAuth)
		}, []string{`spec.usages[2]: Duplicate value: "client auth"`}},
		{"legacy signer", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = LegacyUnknownSignerName },
			[]string{`spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version`}},
		{"no signer", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "" },
			[]string{"spec.signerName: Required value"}},
		{"signer without path", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com" },
			[]string{`spec.signerName: Invalid value: "example.com": must be a fully qualified domain and path of the form 'example.com/signer-name'`}},
		{"signer single-label domain", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example/foo" },
			[]string{`spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots`}},
		{"short expiration", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = int32p(599) },
			[]string{"spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)"}},
		{"condition without type", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond("", corev1.ConditionTrue)}
		}, []string{"status.conditions[0].type: Required value"}},
		{"condition without status", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, "")}
		}, []string{"status.conditions[0].status: Required value"}},
		{"approved false", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, corev1.ConditionFalse)}
		}, []string{`status.conditions[0].status: Unsupported value: "False": supported values: "True"`}},
		{"custom condition unknown", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond("Custom", corev1.ConditionUnknown)}
		}, nil},
		{"approved and denied", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{
				cond(certificatesv1.CertificateApproved, corev1.ConditionTrue), cond(certificatesv1.CertificateDenied, corev1.ConditionTrue)}
		}, []string{`status.conditions: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive`}},
		{"duplicate approved", func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{
				cond(certificatesv1.CertificateApproved, corev1.ConditionTrue), cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)}
		}, []string{`status.conditions[1].type: Duplicate value: "Approved"`}},
		{"certificate not PEM", func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = []byte("junk") },
			[]string{`status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block`}},
		{"certificate wrong block", func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = c.Spec.Request },
			[]string{`status.certificate: Invalid value: "<certificate data>": only CERTIFICATE PEM blocks are allowed, found "CERTIFICATE REQUEST"`}},
		{"certificate valid", func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = certPEM(t) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validCSR(t)
			tc.mutate(c)
			checkErrs(t, ValidateCreate(c), tc.want)
		})
	}
}

func TestValidateUpdates(t *testing.T) {
	approved := cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)
	denied := cond(certificatesv1.CertificateDenied, corev1.ConditionTrue)
	failed := cond(certificatesv1.CertificateFailed, corev1.ConditionTrue)
	cert := certPEM(t)
	type validator func(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList
	tests := []struct {
		name     string
		validate validator
		old, new func(*certificatesv1.CertificateSigningRequest)
		want     []string
	}{
		{"main: add approval", ValidateUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, []string{`status.conditions: Forbidden: updates may not add a condition of type "Approved"`}},
		{"main: set certificate", ValidateUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = cert },
			[]string{"status.certificate: Forbidden: updates may not set certificate content"}},
		{"approval: add approval", ValidateApprovalUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, nil},
		{"approval: add denial to approved", ValidateApprovalUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved, denied)
		}, []string{`status.conditions: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive`}},
		{"approval: remove approval", ValidateApprovalUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, nil, []string{`status.conditions: Forbidden: updates may not remove a condition of type "Approved"`}},
		{"approval: set certificate", ValidateApprovalUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = cert },
			[]string{"status.certificate: Forbidden: updates may not set certificate content"}},
		{"status: set certificate", ValidateStatusUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = cert }, nil},
		{"status: replace certificate", ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = cert },
			func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = certPEM(t) },
			[]string{"status.certificate: Forbidden: updates may not modify existing certificate content"}},
		{"status: add failed", ValidateStatusUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, failed)
		}, nil},
		{"status: remove failed", ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, failed)
		}, nil, []string{`status.conditions: Forbidden: updates may not remove a condition of type "Failed"`}},
		{"status: modify approval", ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, func(c *certificatesv1.CertificateSigningRequest) {
			a := approved
			a.Message = "changed"
			c.Status.Conditions = append(c.Status.Conditions, a)
		}, []string{`status.conditions: Forbidden: updates may not modify a condition of type "Approved"`}},
		{"status: add approval", ValidateStatusUpdate, nil, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved)
		}, []string{`status.conditions: Forbidden: updates may not add a condition of type "Approved"`}},
		{"legacy signer kept from old data", ValidateUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.SignerName = LegacyUnknownSignerName
		}, func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = LegacyUnknownSignerName }, nil},
		{"duplicate usages kept from old data", ValidateUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = append(c.Spec.Usages, certificatesv1.UsageClientAuth)
		}, func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = append(c.Spec.Usages, certificatesv1.UsageClientAuth)
		}, nil},
		{"approved and denied kept from old data", ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved, denied)
		}, func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = append(c.Status.Conditions, approved, denied, failed)
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validCSR(t)
			if tc.old != nil {
				tc.old(old)
			}
			c := old.DeepCopy()
			c.Status.Conditions = nil
			c.Status.Certificate = nil
			c.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
			c.Spec.SignerName = certificatesv1.KubeAPIServerClientSignerName
			if tc.new != nil {
				tc.new(c)
			}
			checkErrs(t, tc.validate(c, old), tc.want)
		})
	}
}

func TestPrepareForCreate(t *testing.T) {
	c := validCSR(t)
	c.Spec.Username, c.Spec.Groups = "mallory", []string{"system:masters"}
	c.Status.Certificate = certPEM(t)
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)}
	PrepareForCreate(c, UserInfo{Name: "alice", UID: "u1", Groups: []string{"devs", "system:authenticated"}, Extra: map[string][]string{"scopes": {"a"}}})
	want := certificatesv1.CertificateSigningRequestSpec{
		Request: c.Spec.Request, SignerName: c.Spec.SignerName, Usages: c.Spec.Usages,
		Username: "alice", UID: "u1", Groups: []string{"devs", "system:authenticated"}, Extra: map[string]certificatesv1.ExtraValue{"scopes": {"a"}},
	}
	if !reflect.DeepEqual(c.Spec, want) {
		t.Errorf("spec = %+v, want %+v", c.Spec, want)
	}
	if len(c.Status.Certificate) != 0 || c.Status.Conditions == nil || len(c.Status.Conditions) != 0 {
		t.Errorf("status = %+v, want empty with non-nil conditions", c.Status)
	}
}

func TestPrepareForUpdates(t *testing.T) {
	old := validCSR(t)
	old.Spec.Username = "alice"
	old.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)}
	old.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-time.Hour))
	old.Status.Conditions[0].LastUpdateTime = metav1.NewTime(t0.Add(-time.Hour))
	cert := certPEM(t)
	changed := func() *certificatesv1.CertificateSigningRequest {
		c := old.DeepCopy()
		c.Labels = map[string]string{"l": "v"}
		c.Spec.Username = "mallory"
		c.Status.Certificate = cert
		c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{
			{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Rewritten"},
			cond(certificatesv1.CertificateFailed, corev1.ConditionTrue),
		}
		return c
	}

	t.Run("main", func(t *testing.T) {
		c := changed()
		PrepareForUpdate(c, old)
		if !reflect.DeepEqual(c.Spec, old.Spec) || !reflect.DeepEqual(c.Status, old.Status) || c.Labels["l"] != "v" {
			t.Errorf("got %+v, want old spec and status with new labels", c)
		}
	})
	t.Run("status", func(t *testing.T) {
		c := changed()
		PrepareForStatusUpdateAt(c, old, t0)
		if !reflect.DeepEqual(c.Spec, old.Spec) {
			t.Errorf("spec changed: %+v", c.Spec)
		}
		if !reflect.DeepEqual(c.Status.Conditions[0], old.Status.Conditions[0]) {
			t.Errorf("approved condition = %+v, want old %+v", c.Status.Conditions[0], old.Status.Conditions[0])
		}
		f := c.Status.Conditions[1]
		if !f.LastUpdateTime.Time.Equal(t0) || !f.LastTransitionTime.Time.Equal(t0) {
			t.Errorf("failed condition times = %v/%v, want %v", f.LastUpdateTime, f.LastTransitionTime, t0)
		}
		if string(c.Status.Certificate) != string(cert) {
			t.Error("status.certificate not kept from the update")
		}
		if errs := ValidateStatusUpdate(c, old); len(errs) != 0 {
			t.Errorf("ValidateStatusUpdate: %v", errs)
		}
	})
	t.Run("approval", func(t *testing.T) {
		c := changed()
		PrepareForApprovalUpdateAt(c, old, t0)
		if !reflect.DeepEqual(c.Spec, old.Spec) || len(c.Status.Certificate) != 0 {
			t.Errorf("spec or certificate changed: %+v", c)
		}
		a := c.Status.Conditions[0]
		if a.Reason != "Rewritten" || !a.LastUpdateTime.Time.Equal(t0) || !a.LastTransitionTime.Time.Equal(t0.Add(-time.Hour)) {
			t.Errorf("approved condition = %+v, want new reason, update time now and the old transition time", a)
		}
	})
}

func signable(t testing.TB, signer string, subject pkix.Name, usages []certificatesv1.KeyUsage, dns []string) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: csrPEM(t, subject, dns, nil), SignerName: signer, Usages: usages,
		},
		Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{
			cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)}},
	}
}

func TestSignClient(t *testing.T) {
	caCert, caKey := newCA(t, t0.Add(365*24*time.Hour))
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
	subject := pkix.Name{CommonName: "alice", Organization: []string{"devs", "ops"}}
	tests := []struct {
		name      string
		exp       *int32
		notBefore time.Time
		notAfter  time.Time
	}{
		{"default duration", nil, t0.Add(-5 * time.Minute), t0.Add(24*time.Hour - 5*time.Minute)},
		{"expirationSeconds honoured", int32p(3600), t0.Add(-5 * time.Minute), t0.Add(time.Hour)},
		{"expirationSeconds capped", int32p(10 * 24 * 3600), t0.Add(-5 * time.Minute), t0.Add(24*time.Hour - 5*time.Minute)},
		{"expirationSeconds floored", int32p(60), t0.Add(-5 * time.Minute), t0.Add(10 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			csr := signable(t, certificatesv1.KubeAPIServerClientSignerName, subject, usages, nil)
			csr.Spec.ExpirationSeconds = tc.exp
			out, ok, reason, err := Sign(csr, caCert, caKey, t0, 24*time.Hour)
			if err != nil || !ok || reason != "" {
				t.Fatalf("Sign = ok %v reason %q err %v", ok, reason, err)
			}
			block, rest := pem.Decode(out)
			if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
				t.Fatalf("not one CERTIFICATE PEM block: %q", out)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(caCert)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("does not chain to the CA: %v", err)
			}
			cr, err := ParseCSR(csr.Spec.Request)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.String() != cr.Subject.String() || cert.Subject.CommonName != "alice" || len(cert.Subject.Organization) != 2 {
				t.Errorf("subject = %v, want the requested %v", cert.Subject, cr.Subject)
			}
			if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || !reflect.DeepEqual(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
				t.Errorf("usages = %v %v", cert.KeyUsage, cert.ExtKeyUsage)
			}
			if cert.IsCA || !cert.BasicConstraintsValid {
				t.Error("issued a CA certificate")
			}
			if !cert.NotBefore.Equal(tc.notBefore) || !cert.NotAfter.Equal(tc.notAfter) {
				t.Errorf("validity = %v..%v, want %v..%v", cert.NotBefore, cert.NotAfter, tc.notBefore, tc.notAfter)
			}
			if tc.exp != nil && *tc.exp < 600 {
				return // such a spec never passes validation; the floor only guards the signer
			}
			signed := csr.DeepCopy()
			signed.Status.Certificate = out
			if errs := ValidateStatusUpdate(signed, csr); len(errs) != 0 {
				t.Errorf("the signed certificate fails status validation: %v", errs)
			}
		})
	}
}

func TestSignCappedByCA(t *testing.T) {
	caCert, caKey := newCA(t, t0.Add(time.Hour))
	csr := signable(t, certificatesv1.KubeAPIServerClientSignerName, pkix.Name{CommonName: "a"},
		[]certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, nil)
	out, ok, _, err := Sign(csr, caCert, caKey, t0, 24*time.Hour)
	if err != nil || !ok {
		t.Fatalf("Sign: ok %v err %v", ok, err)
	}
	block, _ := pem.Decode(out)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(caCert.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", cert.NotAfter, caCert.NotAfter)
	}
	if _, ok, _, err := Sign(csr, caCert, caKey, t0.Add(2*time.Hour), 24*time.Hour); ok || err == nil {
		t.Errorf("signing with an expired CA: ok %v err %v, want an error", ok, err)
	}
}

func TestSignPolicy(t *testing.T) {
	caCert, caKey := newCA(t, t0.Add(365*24*time.Hour))
	node := pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	ds, ke, ca, sa := certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth
	approved := cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)
	tests := []struct {
		name       string
		csr        *certificatesv1.CertificateSigningRequest
		conditions []certificatesv1.CertificateSigningRequestCondition // replaces the Approved condition when set
		signed     bool
		reason     string
	}{
		{"client: server auth refused", signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ds, sa}, nil), nil,
			false, "invalid usage for client certificate: server auth"},
		{"client: no client auth", signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ds}, nil), nil,
			false, "missing required usage for client certificate: client auth"},
		{"kubelet client ok", signable(t, certificatesv1.KubeAPIServerClientKubeletSignerName, node, []certificatesv1.KeyUsage{ds, ca}, nil), nil, true, ""},
		{"kubelet client wrong org", signable(t, certificatesv1.KubeAPIServerClientKubeletSignerName, pkix.Name{CommonName: "system:node:n1"}, []certificatesv1.KeyUsage{ds, ca}, nil), nil,
			false, "subject organization is not system:nodes"},
		{"kubelet client wrong cn", signable(t, certificatesv1.KubeAPIServerClientKubeletSignerName, pkix.Name{CommonName: "n1", Organization: []string{"system:nodes"}}, []certificatesv1.KeyUsage{ds, ca}, nil), nil,
			false, "subject common name does not begin with system:node:"},
		{"kubelet client dns san", signable(t, certificatesv1.KubeAPIServerClientKubeletSignerName, node, []certificatesv1.KeyUsage{ds, ca}, []string{"n1"}), nil,
			false, "DNS subjectAltNames are not allowed"},
		{"kubelet client wrong usages", signable(t, certificatesv1.KubeAPIServerClientKubeletSignerName, node, []certificatesv1.KeyUsage{ds, ke, ca, sa}, nil), nil,
			false, "usages did not match [client auth digital signature key encipherment]"},
		{"kubelet serving ok", signable(t, certificatesv1.KubeletServingSignerName, node, []certificatesv1.KeyUsage{ds, ke, sa}, []string{"n1"}), nil, true, ""},
		{"kubelet serving no san", signable(t, certificatesv1.KubeletServingSignerName, node, []certificatesv1.KeyUsage{ds, ke, sa}, nil), nil,
			false, "DNS or IP subjectAltName is required"},
		{"kubelet serving client usage", signable(t, certificatesv1.KubeletServingSignerName, node, []certificatesv1.KeyUsage{ds, ca}, []string{"n1"}), nil,
			false, "usages did not match [digital signature key encipherment server auth]"},
		{"legacy-unknown not signed", signable(t, LegacyUnknownSignerName, node, []certificatesv1.KeyUsage{ds, ca}, nil), nil, false, ""},
		{"other signer not signed", signable(t, "example.com/foo", node, []certificatesv1.KeyUsage{ds, ca}, nil), nil, false, ""},
		{"not approved", signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ca}, nil),
			[]certificatesv1.CertificateSigningRequestCondition{}, false, ""},
		{"denied", signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ca}, nil),
			[]certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateDenied, corev1.ConditionTrue)}, false, ""},
		{"already failed", signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ca}, nil),
			[]certificatesv1.CertificateSigningRequestCondition{approved, cond(certificatesv1.CertificateFailed, corev1.ConditionTrue)}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.conditions != nil {
				tc.csr.Status.Conditions = tc.conditions
			}
			out, ok, reason, err := Sign(tc.csr, caCert, caKey, t0, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.signed || reason != tc.reason || (len(out) > 0) != tc.signed {
				t.Errorf("Sign = ok %v reason %q (%d bytes), want ok %v reason %q", ok, reason, len(out), tc.signed, tc.reason)
			}
		})
	}
	t.Run("already signed", func(t *testing.T) {
		csr := signable(t, certificatesv1.KubeAPIServerClientSignerName, node, []certificatesv1.KeyUsage{ca}, nil)
		csr.Status.Certificate = certPEM(t)
		if _, ok, reason, err := Sign(csr, caCert, caKey, t0, time.Hour); ok || reason != "" || err != nil {
			t.Errorf("Sign = ok %v reason %q err %v, want nothing to do", ok, reason, err)
		}
	})
}

// TestConformanceSequence walks the writes of the conformance test "should support CSR API operations" through the strategy.
func TestConformanceSequence(t *testing.T) {
	csr := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-example-csr-abc"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:           csrPEM(t, pkix.Name{CommonName: "e2e.example.com"}, []string{"e2e.example.com"}, nil),
			SignerName:        "example.com/e2e-certificates-1234",
			ExpirationSeconds: int32p(3600),
			Usages:            []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth},
		},
	}
	SetDefaults(csr)
	PrepareForCreate(csr, UserInfo{Name: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}})
	if errs := ValidateCreate(csr); len(errs) != 0 {
		t.Fatalf("create: %v", errs)
	}
	stored := csr

	step := func(name string, prepare func(csr, old *certificatesv1.CertificateSigningRequest), validate func(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList, mutate func(*certificatesv1.CertificateSigningRequest)) {
		t.Helper()
		next := stored.DeepCopy()
		mutate(next)
		prepare(next, stored)
		if errs := validate(next, stored); len(errs) != 0 {
			t.Fatalf("%s: %v", name, errs)
		}
		stored = next
	}
	prepStatus := func(csr, old *certificatesv1.CertificateSigningRequest) { PrepareForStatusUpdateAt(csr, old, t0) }
	prepApproval := func(csr, old *certificatesv1.CertificateSigningRequest) { PrepareForApprovalUpdateAt(csr, old, t0) }

	step("update", PrepareForUpdate, ValidateUpdate, func(c *certificatesv1.CertificateSigningRequest) {
		c.Annotations = map[string]string{"updated": "true"}
	})
	step("patch /approval", prepApproval, ValidateApprovalUpdate, func(c *certificatesv1.CertificateSigningRequest) {
		c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: "ApprovalPatch", Status: corev1.ConditionTrue, Reason: "e2e"}}
	})
	step("update /approval", prepApproval, ValidateApprovalUpdate, func(c *certificatesv1.CertificateSigningRequest) {
		c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "E2E", Message: "Set from an e2e test"})
	})
	if n := len(stored.Status.Conditions); n != 2 || stored.Status.Conditions[1].Type != certificatesv1.CertificateApproved {
		t.Fatalf("conditions after approval = %+v", stored.Status.Conditions)
	}
	cert := certPEM(t)
	step("patch /status", prepStatus, ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = cert })
	step("update /status", prepStatus, ValidateStatusUpdate, func(c *certificatesv1.CertificateSigningRequest) {
		c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: "StatusUpdate", Status: corev1.ConditionTrue, Reason: "E2E", Message: "Set from an e2e test"})
	})
	if n := len(stored.Status.Conditions); n != 3 || stored.Status.Conditions[2].Type != "StatusUpdate" || string(stored.Status.Certificate) != string(cert) {
		t.Fatalf("status after /status = %+v", stored.Status)
	}
	if stored.Spec.Username != "kubernetes-admin" || *stored.Spec.ExpirationSeconds != 3600 {
		t.Errorf("spec = %+v", stored.Spec)
	}
}
