package certificates

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserInfo is the authenticated user that creates a CSR.
type UserInfo struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// SetDefaults applies the certificates.k8s.io/v1 defaults; upstream v1 defines none, so it changes nothing.
func SetDefaults(csr *certificatesv1.CertificateSigningRequest) {}

// PrepareForCreate clears status and sets spec.username, uid, groups and extra from the requesting user.
func PrepareForCreate(csr *certificatesv1.CertificateSigningRequest, user UserInfo) {
	csr.Spec.Username = user.Name
	csr.Spec.UID = user.UID
	csr.Spec.Groups = nil
	if user.Groups != nil {
		csr.Spec.Groups = append([]string{}, user.Groups...)
	}
	csr.Spec.Extra = nil
	if len(user.Extra) > 0 {
		csr.Spec.Extra = make(map[string]certificatesv1.ExtraValue, len(user.Extra))
		for k, v := range user.Extra {
			csr.Spec.Extra[k] = append(certificatesv1.ExtraValue{}, v...)
		}
	}
	csr.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{}}
}

// PrepareForUpdate keeps spec and status from old: the main resource only updates metadata.
func PrepareForUpdate(csr, old *certificatesv1.CertificateSigningRequest) {
	csr.Spec = old.Spec
	csr.Status = old.Status
}

// PrepareForStatusUpdate is PrepareForStatusUpdateAt at the current time.
func PrepareForStatusUpdate(csr, old *certificatesv1.CertificateSigningRequest) {
	PrepareForStatusUpdateAt(csr, old, time.Now())
}

// PrepareForStatusUpdateAt keeps spec and the Approved/Denied conditions from old and stamps unset condition times.
func PrepareForStatusUpdateAt(csr, old *certificatesv1.CertificateSigningRequest, now time.Time) {
	csr.Spec = old.Spec
	preserveConditionInstances(csr, old, certificatesv1.CertificateApproved)
	preserveConditionInstances(csr, old, certificatesv1.CertificateDenied)
	populateConditionTimestamps(csr, old, now)
}

// PrepareForApprovalUpdate is PrepareForApprovalUpdateAt at the current time.
func PrepareForApprovalUpdate(csr, old *certificatesv1.CertificateSigningRequest) {
	PrepareForApprovalUpdateAt(csr, old, time.Now())
}

// PrepareForApprovalUpdateAt keeps spec and status.certificate from old, so only conditions change, and stamps their times.
func PrepareForApprovalUpdateAt(csr, old *certificatesv1.CertificateSigningRequest, now time.Time) {
	populateConditionTimestamps(csr, old, now)
	conditions := csr.Status.Conditions
	csr.Spec = old.Spec
	csr.Status = old.Status
	csr.Status.Conditions = conditions
}

// preserveConditionInstances puts old's conditions of type t back in place when the count of them is unchanged.
func preserveConditionInstances(csr, old *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) {
	oldIdx := conditionIndices(old, t)
	newIdx := conditionIndices(csr, t)
	if len(oldIdx) != len(newIdx) {
		return
	}
	for i, o := range oldIdx {
		csr.Status.Conditions[newIdx[i]] = old.Status.Conditions[o]
	}
}

func conditionIndices(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []int {
	var out []int
	for i, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, i)
		}
	}
	return out
}

// populateConditionTimestamps sets unset lastUpdateTime to now and unset lastTransitionTime to old's for the same type and status, else now.
func populateConditionTimestamps(csr, old *certificatesv1.CertificateSigningRequest, now time.Time) {
	mnow := metav1.NewTime(now)
	for i := range csr.Status.Conditions {
		c := &csr.Status.Conditions[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = mnow
		}
		if c.LastTransitionTime.IsZero() {
			lt := mnow
			for _, oc := range old.Status.Conditions {
				if oc.Type == c.Type && oc.Status == c.Status && !oc.LastTransitionTime.IsZero() {
					lt = oc.LastTransitionTime
					break
				}
			}
			c.LastTransitionTime = lt
		}
	}
}
