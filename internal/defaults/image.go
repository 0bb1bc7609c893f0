package defaults

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// This file reproduces the part of image reference parsing that decides a
// default imagePullPolicy. Upstream (k8s.io/kubernetes/pkg/util/parsers.
// ParseImageName) parses the image with github.com/distribution/reference
// ParseNormalizedNamed and validates any digest with
// github.com/opencontainers/go-digest; the tag it reports is the explicit
// tag, or "latest" when neither a tag nor a digest is given, or "" when the
// image does not parse. Only a tag of exactly "latest" yields Always.

const (
	imageDefaultDomain       = "docker.io"
	imageLegacyDefaultDomain = "index.docker.io"
	imageOfficialRepoPrefix  = "library/"
	imageLocalhost           = "localhost"
	imageDefaultTag          = "latest"
	// repositoryNameTotalLengthMax is the longest repository path (without
	// the domain) distribution/reference accepts.
	repositoryNameTotalLengthMax = 255
)

var (
	// The grammar of github.com/distribution/reference v0.6.0.
	imageReferenceRegexp = func() *regexp.Regexp {
		const (
			alphanumeric        = `[a-z0-9]+`
			separator           = `(?:[._]|__|[-]+)`
			domainNameComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
			optionalPort        = `(?::[0-9]+)?`
			tag                 = `[\w][\w.-]{0,127}`
			digest              = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
			ipv6address         = `\[(?:[a-fA-F0-9:]+)\]`
		)
		domainName := domainNameComponent + `(?:\.` + domainNameComponent + `)*`
		host := `(?:` + domainName + `|` + ipv6address + `)`
		domainAndPort := host + optionalPort
		pathComponent := alphanumeric + `(?:` + separator + alphanumeric + `)*`
		remoteName := pathComponent + `(?:/` + pathComponent + `)*`
		// Capture groups: 1 domain, 2 path, 3 tag, 4 digest.
		return regexp.MustCompile(`^(?:(` + domainAndPort + `)/)?(` + remoteName + `)` +
			`(?::(` + tag + `))?(?:@(` + digest + `))?$`)
	}()

	imageAnchoredIdentifierRegexp = regexp.MustCompile(`^[a-f0-9]{64}$`)

	// The digest algorithms go-digest has available in kube-apiserver, with
	// the length of their lower-case hex encoding.
	imageDigestHexLength = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	imageLowerHexRegexp  = regexp.MustCompile(`^[a-f0-9]+$`)
)

// imageTag returns the tag Kubernetes' ParseImageName reports for image:
// the explicit tag, "latest" when the image has neither tag nor digest, and
// "" when the image is not a valid reference.
func imageTag(image string) string {
	if imageAnchoredIdentifierRegexp.MatchString(image) {
		return ""
	}
	domain, remainder := splitDockerDomain(image)
	remote := remainder
	if i := strings.IndexRune(remainder, ':'); i > -1 {
		remote = remainder[:i]
	}
	// Kept for fidelity; the grammar below rejects the same names.
	if strings.ToLower(remote) != remote {
		return ""
	}
	m := imageReferenceRegexp.FindStringSubmatch(domain + "/" + remainder)
	if m == nil {
		return ""
	}
	path, tag, dgst := m[2], m[3], m[4]
	if len(path) > repositoryNameTotalLengthMax {
		return ""
	}
	if dgst != "" && !validDigest(dgst) {
		return ""
	}
	if tag == "" && dgst == "" {
		return imageDefaultTag
	}
	return tag
}

// splitDockerDomain mirrors distribution/reference's splitDockerDomain.
func splitDockerDomain(name string) (domain, remainder string) {
	maybeDomain, maybeRemainder, ok := strings.Cut(name, "/")
	if !ok {
		return imageDefaultDomain, imageOfficialRepoPrefix + name
	}
	switch {
	case maybeDomain == imageLocalhost:
		domain, remainder = maybeDomain, maybeRemainder
	case maybeDomain == imageLegacyDefaultDomain:
		domain, remainder = imageDefaultDomain, maybeRemainder
	case strings.ContainsAny(maybeDomain, ".:"):
		domain, remainder = maybeDomain, maybeRemainder
	case strings.ToLower(maybeDomain) != maybeDomain:
		domain, remainder = maybeDomain, maybeRemainder
	default:
		domain, remainder = imageDefaultDomain, name
	}
	if domain == imageDefaultDomain && !strings.ContainsRune(remainder, '/') {
		remainder = imageOfficialRepoPrefix + remainder
	}
	return domain, remainder
}

// validDigest mirrors go-digest's Digest.Validate for the algorithms
// available in kube-apiserver (anything else is unsupported, so invalid).
func validDigest(d string) bool {
	i := strings.Index(d, ":")
	if i <= 0 || i+1 == len(d) {
		return false
	}
	n, ok := imageDigestHexLength[d[:i]]
	if !ok {
		return false
	}
	encoded := d[i+1:]
	return len(encoded) == n && imageLowerHexRegexp.MatchString(encoded)
}

// defaultPullPolicy is the imagePullPolicy Kubernetes picks for image:
// Always for the "latest" tag (explicit or implied), IfNotPresent otherwise.
func defaultPullPolicy(image string) corev1.PullPolicy {
	if imageTag(image) == imageDefaultTag {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
