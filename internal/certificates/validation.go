package certificates

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// LegacyUnknownSignerName is the v1beta1 default signer, refused on create through v1.
const LegacyUnknownSignerName = "kubernetes.io/legacy-unknown"

var (
	trueOnlyConditionTypes = map[certificatesv1.RequestConditionType]bool{
		certificatesv1.CertificateApproved: true,
		certificatesv1.CertificateDenied:   true,
		certificatesv1.CertificateFailed:   true,
	}
	trueStatusOnly  = []string{string(corev1.ConditionTrue)}
	allStatusValues = []string{string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown)}

	allValidUsages = func() map[certificatesv1.KeyUsage]bool {
		m := map[certificatesv1.KeyUsage]bool{}
		for u := range keyUsages {
			m[u] = true
		}
		for u := range extKeyUsages {
			m[u] = true
		}
		return m
	}()
)

// options are upstream's relaxations, mostly to tolerate data stored before a rule existed.
type options struct {
	allowSettingApprovalConditions bool
	allowSettingCertificate        bool
	allowBothApprovedAndDenied     bool
	allowLegacySignerName          bool
	allowDuplicateConditionTypes   bool
	allowEmptyConditionType        bool
	allowArbitraryCertificate      bool
	allowUnknownUsages             bool
	allowDuplicateUsages           bool
}

// ValidateCreate validates a new CSR's spec and status.
func ValidateCreate(csr *certificatesv1.CertificateSigningRequest) field.ErrorList {
	return validateCSR(csr, optionsFor(csr, nil))
}

// ValidateUpdate validates an update of the main resource.
func ValidateUpdate(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList {
	return validateUpdate(csr, old, optionsFor(csr, old))
}

// ValidateStatusUpdate validates an update of /status, which may set status.certificate once.
func ValidateStatusUpdate(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList {
	opts := optionsFor(csr, old)
	opts.allowSettingCertificate = true
	return validateUpdate(csr, old, opts)
}

// ValidateApprovalUpdate validates an update of /approval, which may add or change Approved and Denied conditions.
func ValidateApprovalUpdate(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList {
	opts := optionsFor(csr, old)
	opts.allowSettingApprovalConditions = true
	return validateUpdate(csr, old, opts)
}

// ParseCSR decodes the PEM CERTIFICATE REQUEST in spec.request.
func ParseCSR(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

func checkRequest(pemBytes []byte) error {
	cr, err := ParseCSR(pemBytes)
	if err != nil {
		return err
	}
	return cr.CheckSignature()
}

func validateCertificate(pemData []byte) error {
	if len(pemData) == 0 {
		return nil
	}
	blocks := 0
	for {
		block, rest := pem.Decode(pemData)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("only CERTIFICATE PEM blocks are allowed, found %q", block.Type)
		}
		if len(block.Headers) != 0 {
			return errors.New("no PEM block headers are permitted")
		}
		blocks++
		certs, err := x509.ParseCertificates(block.Bytes)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return errors.New("found CERTIFICATE PEM block containing 0 certificates")
		}
		pemData = rest
	}
	if blocks == 0 {
		return errors.New("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}

func validateCSR(csr *certificatesv1.CertificateSigningRequest, opts options) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if err := checkRequest(csr.Spec.Request); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(spec.Child("usages"), ""))
	}
	if !opts.allowUnknownUsages {
		for i, u := range csr.Spec.Usages {
			if !allValidUsages[u] {
				errs = append(errs, field.NotSupported(spec.Child("usages").Index(i), u, validUsageList()))
			}
		}
	}
	if !opts.allowDuplicateUsages {
		seen := map[certificatesv1.KeyUsage]bool{}
		for i, u := range csr.Spec.Usages {
			if seen[u] {
				errs = append(errs, field.Duplicate(spec.Child("usages").Index(i), u))
			}
			seen[u] = true
		}
	}
	if !opts.allowLegacySignerName && csr.Spec.SignerName == LegacyUnknownSignerName {
		errs = append(errs, field.Invalid(spec.Child("signerName"), csr.Spec.SignerName, "the legacy signerName is not allowed via this API version"))
	} else {
		errs = append(errs, validateSignerName(spec.Child("signerName"), csr.Spec.SignerName)...)
	}
	if csr.Spec.ExpirationSeconds != nil && *csr.Spec.ExpirationSeconds < 600 {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *csr.Spec.ExpirationSeconds, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	errs = append(errs, validateConditions(field.NewPath("status", "conditions"), csr, opts)...)
	if !opts.allowArbitraryCertificate {
		if err := validateCertificate(csr.Status.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	return errs
}

func validUsageList() []string {
	out := make([]string, 0, len(allValidUsages))
	for u := range allValidUsages {
		out = append(out, string(u))
	}
	sort.Strings(out)
	return out
}

// validateSignerName is upstream's ValidateSignerName: a fully qualified domain and a path, 'example.com/signer-name'.
func validateSignerName(fldPath *field.Path, signerName string) field.ErrorList {
	var el field.ErrorList
	if len(signerName) == 0 {
		return append(el, field.Required(fldPath, ""))
	}
	segments := strings.Split(signerName, "/")
	if len(segments) != 2 {
		return append(el, field.Invalid(fldPath, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
	}
	maxDomain := utilvalidation.DNS1123SubdomainMaxLength
	if len(segments[0]) > maxDomain {
		el = append(el, field.TooLong(fldPath, "", maxDomain))
	}
	domainLabels := strings.Split(segments[0], ".")
	for _, lbl := range domainLabels {
		if msgs := utilvalidation.IsDNS1123Label(lbl); len(msgs) > 0 {
			for _, m := range msgs {
				el = append(el, field.Invalid(fldPath, segments[0], fmt.Sprintf("validating label %q: %s", lbl, m)))
			}
			break
		}
	}
	if len(domainLabels) < 2 {
		el = append(el, field.Invalid(fldPath, segments[0], "should be a domain with at least two segments separated by dots"))
	}
	for _, lbl := range strings.Split(segments[1], ".") {
		if msgs := utilvalidation.IsDNS1123Subdomain(lbl); len(msgs) > 0 {
			for _, m := range msgs {
				el = append(el, field.Invalid(fldPath, segments[1], fmt.Sprintf("validating label %q: %s", lbl, m)))
			}
			break
		}
	}
	maxPath := utilvalidation.DNS1123SubdomainMaxLength + utilvalidation.DNS1123LabelMaxLength + 1
	if maxName := maxDomain + maxPath + 1; len(signerName) > maxName {
		el = append(el, field.TooLong(fldPath, "", maxName))
	}
	return el
}

func validateConditions(fldPath *field.Path, csr *certificatesv1.CertificateSigningRequest, opts options) field.ErrorList {
	var errs field.ErrorList
	seen := map[certificatesv1.RequestConditionType]bool{}
	hasApproved, hasDenied := false, false
	for i, c := range csr.Status.Conditions {
		if !opts.allowEmptyConditionType && len(c.Type) == 0 {
			errs = append(errs, field.Required(fldPath.Index(i).Child("type"), ""))
		}
		allowed := allStatusValues
		if trueOnlyConditionTypes[c.Type] {
			allowed = trueStatusOnly
		}
		switch {
		case c.Status == "":
			errs = append(errs, field.Required(fldPath.Index(i).Child("status"), ""))
		case !contains(allowed, string(c.Status)):
			errs = append(errs, field.NotSupported(fldPath.Index(i).Child("status"), c.Status, allowed))
		}
		if !opts.allowBothApprovedAndDenied {
			switch c.Type {
			case certificatesv1.CertificateApproved:
				hasApproved = true
				if hasDenied {
					errs = append(errs, field.Invalid(fldPath, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			case certificatesv1.CertificateDenied:
				hasDenied = true
				if hasApproved {
					errs = append(errs, field.Invalid(fldPath, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			}
		}
		if !opts.allowDuplicateConditionTypes {
			if seen[c.Type] {
				errs = append(errs, field.Duplicate(fldPath.Index(i).Child("type"), c.Type))
			}
			seen[c.Type] = true
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func validateUpdate(csr, old *certificatesv1.CertificateSigningRequest, opts options) field.ErrorList {
	errs := validateCSR(csr, opts)
	conds := field.NewPath("status", "conditions")
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed} {
		if len(findConditions(csr, t)) < len(findConditions(old, t)) {
			errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if !opts.allowSettingApprovalConditions {
		for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
			oldC, newC := findConditions(old, t), findConditions(csr, t)
			switch {
			case len(newC) < len(oldC):
				// already reported as a removal
			case len(newC) > len(oldC):
				errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not add a condition of type %q", t)))
			case !equality.Semantic.DeepEqual(oldC, newC):
				errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not modify a condition of type %q\n%v", t, diff.Diff(oldC, newC))))
			}
		}
	}
	if !bytes.Equal(csr.Status.Certificate, old.Status.Certificate) {
		if !opts.allowSettingCertificate {
			errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not set certificate content"))
		} else if len(old.Status.Certificate) > 0 {
			errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not modify existing certificate content"))
		}
	}
	return errs
}

func findConditions(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}

func optionsFor(csr, old *certificatesv1.CertificateSigningRequest) options {
	if old == nil {
		return options{}
	}
	approved, denied := len(findConditions(old, certificatesv1.CertificateApproved)) > 0, len(findConditions(old, certificatesv1.CertificateDenied)) > 0
	opts := options{
		allowBothApprovedAndDenied: approved && denied,
		allowLegacySignerName:      old.Spec.SignerName == LegacyUnknownSignerName,
		allowArbitraryCertificate:  bytes.Equal(csr.Status.Certificate, old.Status.Certificate) || validateCertificate(old.Status.Certificate) != nil,
	}
	seenC := map[certificatesv1.RequestConditionType]bool{}
	for _, c := range old.Status.Conditions {
		if seenC[c.Type] {
			opts.allowDuplicateConditionTypes = true
		}
		seenC[c.Type] = true
		if c.Type == "" {
			opts.allowEmptyConditionType = true
		}
	}
	seenU := map[certificatesv1.KeyUsage]bool{}
	for _, u := range old.Spec.Usages {
		if seenU[u] {
			opts.allowDuplicateUsages = true
		}
		seenU[u] = true
		if !allValidUsages[u] {
			opts.allowUnknownUsages = true
		}
	}
	return opts
}
