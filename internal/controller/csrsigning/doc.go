// Package csrsigning is kube-controller-manager's csrsigning controller: it signs approved
// CertificateSigningRequests for the kubernetes.io/kube-apiserver-client,
// kubernetes.io/kube-apiserver-client-kubelet and kubernetes.io/kubelet-serving signers with the cluster CA, so
// `kubectl certificate approve` yields a usable certificate.
//
// Contract: the queue holds CSR names. A sync re-reads the CSR from the informer cache (gone: done) and, when
// certificates.Sign has something to do, writes status.certificate, or a Failed condition with reason
// SignerValidationFailure when the signer's checks refuse the request, through the status subresource. An error
// (a failed write, a signing failure) requeues the name with rate-limited back-off. Without a CA key in the
// controller context the controller does nothing.
package csrsigning
