package certificates

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

// ReasonSignerValidationFailure is the reason of the Failed condition recorded when Sign returns ok=false with a message.
const ReasonSignerValidationFailure = "SignerValidationFailure"

const (
	// backdate is how far NotBefore is set in the past, as kube-controller-manager (always under the 10-minute minimum duration).
	backdate = 5 * time.Minute
	// short is the duration under which the backdate is not taken off NotAfter.
	short = 8 * time.Hour
	// minDuration is the shortest certificate issued for an expirationSeconds request.
	minDuration = 10 * time.Minute
)

var keyUsages = map[certificatesv1.KeyUsage]x509.KeyUsage{
	certificatesv1.UsageSigning:           x509.KeyUsageDigitalSignature,
	certificatesv1.UsageDigitalSignature:  x509.KeyUsageDigitalSignature,
	certificatesv1.UsageContentCommitment: x509.KeyUsageContentCommitment,
	certificatesv1.UsageKeyEncipherment:   x509.KeyUsageKeyEncipherment,
	certificatesv1.UsageKeyAgreement:      x509.KeyUsageKeyAgreement,
	certificatesv1.UsageDataEncipherment:  x509.KeyUsageDataEncipherment,
	certificatesv1.UsageCertSign:          x509.KeyUsageCertSign,
	certificatesv1.UsageCRLSign:           x509.KeyUsageCRLSign,
	certificatesv1.UsageEncipherOnly:      x509.KeyUsageEncipherOnly,
	certificatesv1.UsageDecipherOnly:      x509.KeyUsageDecipherOnly,
}

var extKeyUsages = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
	certificatesv1.UsageAny:             x509.ExtKeyUsageAny,
	certificatesv1.UsageServerAuth:      x509.ExtKeyUsageServerAuth,
	certificatesv1.UsageClientAuth:      x509.ExtKeyUsageClientAuth,
	certificatesv1.UsageCodeSigning:     x509.ExtKeyUsageCodeSigning,
	certificatesv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection,
	certificatesv1.UsageSMIME:           x509.ExtKeyUsageEmailProtection,
	certificatesv1.UsageIPsecEndSystem:  x509.ExtKeyUsageIPSECEndSystem,
	certificatesv1.UsageIPsecTunnel:     x509.ExtKeyUsageIPSECTunnel,
	certificatesv1.UsageIPsecUser:       x509.ExtKeyUsageIPSECUser,
	certificatesv1.UsageTimestamping:    x509.ExtKeyUsageTimeStamping,
	certificatesv1.UsageOCSPSigning:     x509.ExtKeyUsageOCSPSigning,
	certificatesv1.UsageMicrosoftSGC:    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	certificatesv1.UsageNetscapeSGC:     x509.ExtKeyUsageNetscapeServerGatedCrypto,
}

var serialNumberLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// Sign signs csr with the CA if it is approved, unsigned, not failed and for a signer skiff runs.
// It returns the PEM certificate and ok=true; ok=false with a non-empty reason (the message of a Failed condition
// with reason ReasonSignerValidationFailure) when the signer's checks reject the request; ok=false with an empty
// reason when there is nothing to do; and err when signing itself fails. maxDuration is the signer's
// --cluster-signing-duration: it caps spec.expirationSeconds and is the duration when that is unset.
func Sign(csr *certificatesv1.CertificateSigningRequest, caCert *x509.Certificate, caKey crypto.Signer, now time.Time, maxDuration time.Duration) (certPEM []byte, ok bool, reason string, err error) {
	if !hasTrueCondition(csr, certificatesv1.CertificateApproved) || hasTrueCondition(csr, certificatesv1.CertificateDenied) ||
		hasTrueCondition(csr, certificatesv1.CertificateFailed) || len(csr.Status.Certificate) > 0 {
		return nil, false, "", nil
	}
	var check func(*x509.CertificateRequest, map[certificatesv1.KeyUsage]bool, []certificatesv1.KeyUsage) error
	switch csr.Spec.SignerName {
	case certificatesv1.KubeAPIServerClientSignerName:
		check = func(_ *x509.CertificateRequest, _ map[certificatesv1.KeyUsage]bool, u []certificatesv1.KeyUsage) error {
			return validateAPIServerClientUsages(u)
		}
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		check = func(cr *x509.CertificateRequest, u map[certificatesv1.KeyUsage]bool, _ []certificatesv1.KeyUsage) error {
			return validateKubeletClientCSR(cr, u)
		}
	case certificatesv1.KubeletServingSignerName:
		check = func(cr *x509.CertificateRequest, u map[certificatesv1.KeyUsage]bool, _ []certificatesv1.KeyUsage) error {
			return validateKubeletServingCSR(cr, u)
		}
	default:
		return nil, false, "", nil
	}
	cr, err := ParseCSR(csr.Spec.Request)
	if err != nil {
		return nil, false, "", fmt.Errorf("unable to parse csr %q: %w", csr.Name, err)
	}
	usageSet := map[certificatesv1.KeyUsage]bool{}
	for _, u := range csr.Spec.Usages {
		usageSet[u] = true
	}
	if verr := check(cr, usageSet, csr.Spec.Usages); verr != nil {
		return nil, false, verr.Error(), nil
	}
	der, err := signRequest(cr, caCert, caKey, csr.Spec.Usages, now, duration(csr.Spec.ExpirationSeconds, maxDuration))
	if err != nil {
		return nil, false, "", fmt.Errorf("error auto signing csr: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), true, "", nil
}

func hasTrueCondition(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t && (len(c.Status) == 0 || c.Status == corev1.ConditionTrue) {
			return true
		}
	}
	return false
}

// duration is the certificate lifetime: expirationSeconds capped at maxDuration and floored at 10 minutes.
func duration(expirationSeconds *int32, maxDuration time.Duration) time.Duration {
	if expirationSeconds == nil {
		return maxDuration
	}
	switch d := time.Duration(*expirationSeconds) * time.Second; {
	case d > maxDuration:
		return maxDuration
	case d < minDuration:
		return minDuration
	default:
		return d
	}
}

// signRequest is upstream's CertificateAuthority.Sign with the PermissiveSigningPolicy the csrsigning controller uses.
func signRequest(cr *x509.CertificateRequest, caCert *x509.Certificate, caKey crypto.Signer, usages []certificatesv1.KeyUsage, now time.Time, ttl time.Duration) ([]byte, error) {
	if err := cr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("unable to verify certificate request signature: %w", err)
	}
	serial, err := rand.Int(rand.Reader, serialNumberLimit)
	if err != nil {
		return nil, fmt.Errorf("unable to generate a serial number for %s: %w", cr.Subject.CommonName, err)
	}
	ku, eku, err := keyUsagesFromStrings(usages)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               cr.Subject,
		DNSNames:              cr.DNSNames,
		IPAddresses:           cr.IPAddresses,
		EmailAddresses:        cr.EmailAddresses,
		URIs:                  cr.URIs,
		PublicKeyAlgorithm:    cr.PublicKeyAlgorithm,
		PublicKey:             cr.PublicKey,
		KeyUsage:              ku,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  false,
		NotBefore:             now.Add(-backdate),
	}
	if ttl < short {
		tmpl.NotAfter = now.Add(ttl)
	} else {
		tmpl.NotAfter = now.Add(ttl - backdate)
	}
	if !tmpl.NotAfter.Before(caCert.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
	}
	if !tmpl.NotBefore.Before(caCert.NotAfter) {
		return nil, fmt.Errorf("the signer has expired: NotAfter=%v", caCert.NotAfter)
	}
	if !now.Before(caCert.NotAfter) {
		return nil, fmt.Errorf("refusing to sign a certificate that expired in the past: NotAfter=%v", caCert.NotAfter)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, cr.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate: %w", err)
	}
	return der, nil
}

func keyUsagesFromStrings(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	var unrecognized []certificatesv1.KeyUsage
	ekus := map[x509.ExtKeyUsage]bool{}
	for _, u := range usages {
		if v, ok := keyUsages[u]; ok {
			ku |= v
		} else if v, ok := extKeyUsages[u]; ok {
			ekus[v] = true
		} else {
			unrecognized = append(unrecognized, u)
		}
	}
	if len(unrecognized) > 0 {
		return 0, nil, fmt.Errorf("unrecognized usage values: %q", unrecognized)
	}
	var sorted []x509.ExtKeyUsage
	for e := range ekus {
		sorted = append(sorted, e)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return ku, sorted, nil
}

func validateAPIServerClientUsages(usages []certificatesv1.KeyUsage) error {
	hasClientAuth := false
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		case certificatesv1.UsageClientAuth:
			hasClientAuth = true
		default:
			return fmt.Errorf("invalid usage for client certificate: %s", u)
		}
	}
	if !hasClientAuth {
		return fmt.Errorf("missing required usage for client certificate: %s", certificatesv1.UsageClientAuth)
	}
	return nil
}

func usageSetEqual(got map[certificatesv1.KeyUsage]bool, want ...certificatesv1.KeyUsage) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

func validateKubeletServingCSR(req *x509.CertificateRequest, usages map[certificatesv1.KeyUsage]bool) error {
	if !reflect.DeepEqual([]string{"system:nodes"}, req.Subject.Organization) {
		return fmt.Errorf("subject organization is not system:nodes")
	}
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return fmt.Errorf("DNS or IP subjectAltName is required")
	}
	if len(req.EmailAddresses) > 0 {
		return fmt.Errorf("Email subjectAltNames are not allowed")
	}
	if len(req.URIs) > 0 {
		return fmt.Errorf("URI subjectAltNames are not allowed")
	}
	if !usageSetEqual(usages, certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth) &&
		!usageSetEqual(usages, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth) {
		return fmt.Errorf("usages did not match [digital signature key encipherment server auth]")
	}
	if !strings.HasPrefix(req.Subject.CommonName, "system:node:") {
		return fmt.Errorf("subject common name does not begin with system:node:")
	}
	return nil
}

func validateKubeletClientCSR(req *x509.CertificateRequest, usages map[certificatesv1.KeyUsage]bool) error {
	if !reflect.DeepEqual([]string{"system:nodes"}, req.Subject.Organization) {
		return fmt.Errorf("subject organization is not system:nodes")
	}
	if len(req.DNSNames) > 0 {
		return fmt.Errorf("DNS subjectAltNames are not allowed")
	}
	if len(req.EmailAddresses) > 0 {
		return fmt.Errorf("Email subjectAltNames are not allowed")
	}
	if len(req.IPAddresses) > 0 {
		return fmt.Errorf("IP subjectAltNames are not allowed")
	}
	if len(req.URIs) > 0 {
		return fmt.Errorf("URI subjectAltNames are not allowed")
	}
	if !strings.HasPrefix(req.Subject.CommonName, "system:node:") {
		return fmt.Errorf("subject common name does not begin with system:node:")
	}
	if !usageSetEqual(usages, certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth) &&
		!usageSetEqual(usages, certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth) {
		return fmt.Errorf("usages did not match [client auth digital signature key encipherment]")
	}
	return nil
}
