// Package certificates is the certificates.k8s.io/v1 CertificateSigningRequest strategy and signer, as upstream.
//
// It is pure and synchronous: no I/O, no goroutines, and time enters only as an argument (the *At variants and
// Sign take now). The API server calls, for each write:
//
//  1. create: SetDefaults, PrepareForCreate (with the requesting user), then ValidateCreate;
//  2. update of the main resource: PrepareForUpdate then ValidateUpdate (spec and status are kept from old);
//  3. update of /status: PrepareForStatusUpdate[At] then ValidateStatusUpdate (spec and the Approved/Denied
//     conditions are kept from old; status.certificate may be set once);
//  4. update of /approval: PrepareForApprovalUpdate[At] then ValidateApprovalUpdate (only conditions change).
//
// Object metadata is validated by the caller's generic path (internal/validation); the functions here validate
// spec and status with upstream's field paths and messages, including upstream's tolerance of existing data on
// update (legacy signer, duplicate usages or conditions, invalid stored certificates).
//
// Sign is what kube-controller-manager's csrsigning controller does for one CSR: it signs an approved, not yet
// signed, not failed CSR for kubernetes.io/kube-apiserver-client, kubernetes.io/kube-apiserver-client-kubelet or
// kubernetes.io/kubelet-serving after that signer's checks of subject and usages; a failed check yields ok=false
// with the message for a Failed condition whose reason is ReasonSignerValidationFailure.
package certificates
