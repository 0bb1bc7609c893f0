// Package pki creates and loads the cluster's certificate authority, serving
// and client certificates, and kubeconfig files.
//
// # Layout
//
// Everything lives in one directory, conventionally DATA_DIR/tls (created
// with mode 0700 if missing):
//
//	ca.crt, ca.key           the cluster CA (self-signed, 10 years)
//	server.crt, server.key   the API server's serving certificate (1 year)
//	<name>.crt, <name>.key   client certificates made by Bundle.ClientCert
//	                         (admin, kubelet, controller-manager, ...; 1 year)
//	sa.key                   the service-account token signing key
//	                         (EnsureServiceAccountKey; created once, never renewed)
//
// All keys are ECDSA P-256, PEM encoded ("EC PRIVATE KEY"), mode 0600;
// certificates are PEM, mode 0644. Every file is written atomically
// (temporary file in the same directory, fsync, rename). When a pair is
// written the key is renamed into place before the certificate.
//
// # Reuse and renewal
//
// Files that exist and are valid are always reused, never regenerated, so a
// restart keeps every kubeconfig handed out earlier working.
//
//   - The CA is created when ca.crt does not exist (a stray ca.key is then
//     overwritten). It is regenerated when it has expired or has less than
//     30 days left, which invalidates every certificate it signed; those are
//     then regenerated too because they no longer chain to it. If ca.crt exists
//     but ca.key is missing, unreadable or does not match, or ca.crt is not a
//     CA certificate, Ensure fails rather than silently replacing the
//     cluster's trust root: remove both files to start over. A CA supplied by
//     the operator (any key type Go can parse) is used as is.
//   - The serving certificate is regenerated when it is missing, unparsable,
//     does not match its key, does not chain to the CA, has less than 30 days
//     left, or no longer covers every SAN that is needed. SANs it has beyond
//     those needed do not cause regeneration.
//   - A client certificate is regenerated on the same conditions, and also
//     when its CN or O (as a set) differs from the requested user and groups.
//
// Leaf certificates never outlive the CA: their NotAfter is capped at the
// CA's.
//
// # Serving SANs
//
// DNS: localhost, the host name (os.Hostname, lower-cased), kubernetes,
// kubernetes.default, kubernetes.default.svc,
// kubernetes.default.svc.cluster.local. IP: 127.0.0.1, ::1, every global
// unicast address (net.IP.IsGlobalUnicast: not loopback, not link-local, not
// multicast; private ranges included) on the machine's interfaces, and
// Config.ServiceIP when set. Config.ExtraSANs are added as IPs when they
// parse as one (brackets around IPv6 are accepted) and otherwise as DNS names
// (lower-cased). IPv6 link-local addresses are left out on purpose: every
// veth gets one, and including them would churn the certificate.
//
// # Kubeconfigs
//
// WriteKubeconfig and WriteTokenKubeconfig write a single cluster, user and
// context all named "skiff" (namespace "default", current context "skiff"),
// with the CA and credentials embedded as data, atomically with mode 0600.
//
// Ensure and ClientCert are safe to call from several goroutines; they do not
// guard against several processes sharing one directory at the same time.
package pki
