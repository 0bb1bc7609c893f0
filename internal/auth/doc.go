// Package auth identifies the user behind an API request: client
// certificates and bearer tokens; authorization is a separate later layer.
//
// # Contract
//
// An Authenticator looks at one request and answers in one of three ways:
//
//   - (user, true, nil): the request carries credentials it recognises and
//     they are valid; user says who is calling.
//   - (nil, false, nil): the request carries no credentials of the kind it
//     handles (no client certificate, no "Authorization: Bearer" header).
//   - (nil, false, err): credentials of its kind are present but invalid
//     (certificate from another CA or expired, unknown token, ...).
//
// The returned *User belongs to the caller; authenticators never hand out
// shared values.
//
// Union tries authenticators in order and returns the first success. Errors
// do not stop it, so a bad client certificate plus a good token still
// authenticates; when nobody succeeds the errors are joined.
//
// Middleware is the only place that turns a result into an HTTP answer:
//
//   - success: the user gets group system:authenticated (unless it already
//     has it or system:unauthenticated, or is system:anonymous), is stored in
//     the request context (UserFrom) and the request goes on;
//   - no credentials at all, on a path listed as anonymous: the request goes
//     on as system:anonymous in group system:unauthenticated;
//   - otherwise, including invalid credentials on an anonymous path (as
//     upstream does with its fail-on-error anonymous authenticator): 401 with
//     a Kubernetes Status body (reason Unauthorized, message "Unauthorized").
//
// DefaultAnonymousPaths lists what upstream lets system:unauthenticated read
// through the system:public-info-viewer role. Authorization (RBAC) is not done
// here; it reads the User from the context later.
//
// # Client certificates
//
// NewX509 verifies the peer's certificate chain against the given roots for
// client-auth usage at request time: user name = Subject CN, groups =
// Subject O. The TLS server must request client certificates without
// verifying them itself (tls.RequestClientCert, or VerifyClientCertIfGiven
// with the same pool), so that a request without a certificate can still
// present a token. A chain that verified is remembered by its bytes until the
// earliest NotAfter in it, so the signatures are checked once per client.
//
// # Token file
//
// LoadTokenFile reads the kube-apiserver --token-auth-file format: one CSV
// record per line, token,user,uid[,"group1,group2"]. Lines that are blank or
// whose first non-space character is '#' are ignored. A record with fewer than
// three fields, or an empty user name, is an error; a record with an empty
// token is skipped; a duplicated token keeps the last record. Tokens are
// looked up by SHA-256 and compared in constant time.
//
// The file is stat'ed at most once per second on use and re-read when its
// modification time or size changes (and for two seconds after any change,
// to catch same-second rewrites on coarse-mtime filesystems). A file that
// disappears authenticates nobody until it returns; a file that fails to
// parse leaves the previous tokens in force (and is retried) so a
// half-written edit cannot lock everyone out. Both are logged.
//
// On success the token authenticator removes the Authorization header from
// the request so it is never forwarded (upstream does the same).
package auth
