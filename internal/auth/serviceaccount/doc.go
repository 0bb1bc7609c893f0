// Package serviceaccount issues and authenticates service-account tokens as kube-apiserver does
// (k8s.io/kubernetes pkg/serviceaccount): ES256 JWTs signed by the cluster's service-account key.
//
// # Contract
//
// Signer.Sign turns Claims into a compact JWS: header {"alg":"ES256","kid":KID,"typ" absent}, where KID is
// upstream's key id (base64url of the SHA-256 of the public key's PKIX DER). NewClaims builds the claims of a
// TokenRequest exactly as upstream: iss, sub system:serviceaccount:NS:NAME, aud, exp, iat, nbf, jti (a UUID) and
// the private "kubernetes.io" claim {namespace, serviceaccount{name,uid}, pod|secret|node{name,uid}, node beside a
// pod bound to a node, warnafter when the expiry was extended}.
//
// Authenticator.AuthenticateRequest reads "Authorization: Bearer" and answers per internal/auth's contract:
//
//   - not a JWT, or a JWT whose (unverified) iss is not the issuer: (nil, false, nil), for the next authenticator;
//   - bad signature, expired (60 s leeway, as go-jose), audience not accepted, or its service account or bound
//     object gone, replaced (uid differs) or deleted more than 60 s ago: (nil, false, err) with upstream's message;
//   - otherwise user system:serviceaccount:NS:NAME, uid the service account's, groups system:serviceaccounts and
//     system:serviceaccounts:NS, extra authentication.kubernetes.io/{pod-name,pod-uid,node-name,node-uid,
//     credential-id}; the Authorization header is removed from the request.
//
// The accepted audiences are those in the request context (WithAudiences, a TokenReview's) or else the API
// audiences; a token must share one with them. Objects are looked up through a Getter (the API server's cache
// with a fall-back to storage), so a token stops working when its pod is deleted.
//
// OIDCHandler serves /.well-known/openid-configuration and /openid/v1/jwks as kube-apiserver's
// ServiceAccountIssuerDiscovery.
package serviceaccount
