package serviceaccount

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// WarnOnlyBoundTokenExpirationSeconds is the expiry the ServiceAccount admission plugin asks for in the projected
// token; the server extends such tokens (warnafter) as upstream's --service-account-extend-token-expiration.
const WarnOnlyBoundTokenExpirationSeconds = 60*60 + 7

// ExpirationExtensionSeconds is how long an extended token lives (one year, upstream's maximum).
const ExpirationExtensionSeconds = 24 * 365 * 60 * 60

// Audience is the aud claim: a JSON array, or when parsing also a single string.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("aud: %w", err)
	}
	*a = l
	return nil
}

// Claims are a service-account token's claims, in upstream's (alphabetical) order.
type Claims struct {
	Audience   Audience    `json:"aud,omitempty"`
	Expiry     int64       `json:"exp,omitempty"`
	IssuedAt   int64       `json:"iat,omitempty"`
	Issuer     string      `json:"iss,omitempty"`
	ID         string      `json:"jti,omitempty"`
	Kubernetes *Kubernetes `json:"kubernetes.io,omitempty"`
	NotBefore  int64       `json:"nbf,omitempty"`
	Subject    string      `json:"sub,omitempty"`
}

// Kubernetes is the private "kubernetes.io" claim.
type Kubernetes struct {
	Namespace      string `json:"namespace,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	ServiceAccount Ref    `json:"serviceaccount"`
	WarnAfter      int64  `json:"warnafter,omitempty"`
}

// Ref names an object by name and uid.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Username is a service account's user name: system:serviceaccount:NS:NAME.
func Username(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Bound is what a token may be bound to: a pod (with the node it runs on, when known), a secret or a node.
type Bound struct {
	Pod    *corev1.Pod
	Node   *corev1.Node
	Secret *corev1.Secret
}

// NewClaims returns the claims upstream's TokenRequest puts in a token for sa: it expires expirationSeconds after
// now and, when warnAfter is not 0, carries warnafter = now + warnAfter.
func NewClaims(issuer string, sa *corev1.ServiceAccount, b Bound, audiences []string, now time.Time, expirationSeconds, warnAfter int64) *Claims {
	c := &Claims{
		Issuer:    issuer,
		Subject:   Username(sa.Namespace, sa.Name),
		Audience:  Audience(audiences),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		Expiry:    now.Add(time.Duration(expirationSeconds) * time.Second).Unix(),
		ID:        newUUID(),
		Kubernetes: &Kubernetes{
			Namespace:      sa.Namespace,
			ServiceAccount: Ref{Name: sa.Name, UID: string(sa.UID)},
		},
	}
	k := c.Kubernetes
	switch {
	case b.Pod != nil:
		k.Pod = &Ref{Name: b.Pod.Name, UID: string(b.Pod.UID)}
		if b.Node != nil {
			k.Node = &Ref{Name: b.Node.Name, UID: string(b.Node.UID)}
		}
	case b.Secret != nil:
		k.Secret = &Ref{Name: b.Secret.Name, UID: string(b.Secret.UID)}
	case b.Node != nil:
		k.Node = &Ref{Name: b.Node.Name, UID: string(b.Node.UID)}
	}
	if warnAfter != 0 {
		k.WarnAfter = now.Add(time.Duration(warnAfter) * time.Second).Unix()
	}
	return c
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
