package apiserver

import (
	"net/http"
	"slices"
	"sort"

	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The review APIs: create-only resources that store nothing and answer in their status, as kube-apiserver's.
//
//   - authentication.k8s.io/v1 tokenreviews (is this bearer token valid, and whose is it) and selfsubjectreviews
//     (who am I: `kubectl auth whoami`);
//   - authorization.k8s.io/v1 subjectaccessreviews, localsubjectaccessreviews, selfsubjectaccessreviews (may this
//     user do this: `kubectl auth can-i`) and selfsubjectrulesreviews (`kubectl auth can-i --list`).
//
// Authorization questions go to the server's Authorizer: RBAC (EnableRBAC, authz.go) or allowAll (AlwaysAllow).

// Authorizer decides whether a user may do what a request asks.
type Authorizer interface {
	// Authorize answers for one request's attributes; reason explains the decision (may be empty).
	Authorize(u *auth.User, attrs authorizationv1.SubjectAccessReviewSpec) (allowed bool, reason string)
	// RulesFor lists what u may do in namespace; incomplete says the list may miss rules.
	RulesFor(u *auth.User, namespace string) (resources []authorizationv1.ResourceRule, nonResources []authorizationv1.NonResourceRule, incomplete bool)
}

// allowAll is the authorizer of a server without authorization: everything is allowed (kube-apiserver's
// AlwaysAllow).
type allowAll struct{}

func (allowAll) Authorize(*auth.User, authorizationv1.SubjectAccessReviewSpec) (bool, string) {
	return true, ""
}

func (allowAll) RulesFor(*auth.User, string) ([]authorizationv1.ResourceRule, []authorizationv1.NonResourceRule, bool) {
	return []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		[]authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}, false
}

const (
	authenticationGroup = "authentication.k8s.io"
	authorizationGroup  = "authorization.k8s.io"
)

// reviewKinds maps each review resource to its kind, its group and whether it is namespaced.
var reviewKinds = map[schema.GroupResource]struct {
	kind       string
	namespaced bool
}{
	{Group: authenticationGroup, Resource: "tokenreviews"}:             {"TokenReview", false},
	{Group: authenticationGroup, Resource: "selfsubjectreviews"}:       {"SelfSubjectReview", false},
	{Group: authorizationGroup, Resource: "subjectaccessreviews"}:      {"SubjectAccessReview", false},
	{Group: authorizationGroup, Resource: "selfsubjectaccessreviews"}:  {"SelfSubjectAccessReview", false},
	{Group: authorizationGroup, Resource: "localsubjectaccessreviews"}: {"LocalSubjectAccessReview", true},
	{Group: authorizationGroup, Resource: "selfsubjectrulesreviews"}:   {"SelfSubjectRulesReview", false},
}

// registerReviews adds the review groups to discovery.
func (s *APIServer) registerReviews() {
	for _, g := range []string{authenticationGroup, authorizationGroup} {
		var names []string
		for gr := range reviewKinds {
			if gr.Group == g {
				names = append(names, gr.Resource)
			}
		}
		sort.Strings(names)
		e := extraGroup{Group: g, Version: "v1"}
		for _, n := range names {
			k := reviewKinds[schema.GroupResource{Group: g, Resource: n}]
			scope := apidiscoveryv2.ScopeCluster
			if k.namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			singular := n[:len(n)-1]
			e.Aggregated = append(e.Aggregated, apidiscoveryv2.APIResourceDiscovery{Resource: n, Scope: scope, SingularResource: singular,
				ResponseKind: &metav1.GroupVersionKind{Group: g, Version: "v1", Kind: k.kind}, Verbs: []string{"create"}})
			e.Legacy = append(e.Legacy, metav1.APIResource{Name: n, SingularName: singular, Namespaced: k.namespaced, Kind: k.kind, Verbs: []string{"create"}})
		}
		s.extraGroups = append(s.extraGroups, e)
	}
}

// serveReview answers a request for a review resource; false when ri is not one.
func (s *APIServer) serveReview(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
	gr := schema.GroupResource{Group: ri.Group, Resource: ri.Resource}
	k, ok := reviewKinds[gr]
	if !ok || ri.Version != "v1" || ri.Subresource != "" || k.namespaced != (ri.Namespace != "") {
		return false
	}
	if ri.Verb != "create" || ri.Name != "" {
		s.writeError(w, r, apierrors.NewMethodNotSupported(gr, ri.Verb), gr, ri.Name)
		return true
	}
	// Review storage has no table: as=Table is a 406 (before the review runs), as kube-apiserver answers.
	n, err := negotiateNoTable(r)
	if err == nil {
		var obj runtime.Object
		if obj, err = s.review(w, r, ri, gr, k.kind); err == nil {
			err = s.respondNoTable(w, r, n, http.StatusCreated, obj, internalTypeName(schema.GroupVersionKind{Group: gr.Group, Kind: k.kind}))
		}
	}
	if err != nil {
		s.writeError(w, r, err, gr, "")
	}
	return true
}

func (s *APIServer) review(w http.ResponseWriter, r *http.Request, ri requestInfo, gr schema.GroupResource, kind string) (runtime.Object, error) {
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	gvk := schema.GroupVersionKind{Group: gr.Group, Version: "v1", Kind: kind}
	into, err := s.scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	obj, err := s.codecs.decodeBody(w, r, data, into, gvk)
	if err != nil {
		return nil, err
	}
	user, _ := auth.UserFrom(r.Context())
	authz := s.authorizer()
	invalid := func(name string, errs field.ErrorList) error {
		return apierrors.NewInvalid(gvk.GroupKind(), name, errs)
	}
	switch o := obj.(type) {
	case *authenticationv1.TokenReview:
		if o.Spec.Token == "" {
			return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
		}
		o.Status = s.tokenReview(r, o.Spec)
	case *authenticationv1.SelfSubjectReview:
		o.Status.UserInfo = userInfo(user)
	case *authorizationv1.SubjectAccessReview:
		if errs := validateSARSpec(o.Spec, field.NewPath("spec")); len(errs) > 0 {
			return nil, invalid(o.Name, errs)
		}
		if o.Spec.User == "" && len(o.Spec.Groups) == 0 {
			return nil, invalid(o.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "user"), o.Spec.User, "at least one of user or group must be specified")})
		}
		o.Status.Allowed, o.Status.Reason = authz.Authorize(&auth.User{Name: o.Spec.User, UID: o.Spec.UID, Groups: o.Spec.Groups, Extra: extraFrom(o.Spec.Extra)}, o.Spec)
	case *authorizationv1.LocalSubjectAccessReview:
		errs := validateSARSpec(o.Spec, field.NewPath("spec"))
		if o.Spec.NonResourceAttributes != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), o.Spec.NonResourceAttributes, "disallowed on this kind of request"))
		}
		if o.Spec.ResourceAttributes != nil && o.Spec.ResourceAttributes.Namespace != ri.Namespace {
			errs = append(errs, field.Invalid(field.NewPath("spec", "resourceAttributes", "namespace"), o.Spec.ResourceAttributes.Namespace, "must match metadata.namespace"))
		}
		if o.Spec.User == "" && len(o.Spec.Groups) == 0 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "user"), o.Spec.User, "at least one of user or group must be specified"))
		}
		if len(errs) > 0 {
			return nil, invalid(o.Name, errs)
		}
		o.Namespace = ri.Namespace
		o.Status.Allowed, o.Status.Reason = authz.Authorize(&auth.User{Name: o.Spec.User, UID: o.Spec.UID, Groups: o.Spec.Groups, Extra: extraFrom(o.Spec.Extra)}, o.Spec)
	case *authorizationv1.SelfSubjectAccessReview:
		spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: o.Spec.ResourceAttributes, NonResourceAttributes: o.Spec.NonResourceAttributes}
		if errs := validateSARSpec(spec, field.NewPath("spec")); len(errs) > 0 {
			return nil, invalid(o.Name, errs)
		}
		if user != nil {
			spec.User, spec.UID, spec.Groups = user.Name, user.UID, user.Groups
		}
		o.Status.Allowed, o.Status.Reason = authz.Authorize(user, spec)
	case *authorizationv1.SelfSubjectRulesReview:
		if o.Spec.Namespace == "" {
			return nil, apierrors.NewBadRequest("no namespace on request")
		}
		res, nonRes, incomplete := authz.RulesFor(user, o.Spec.Namespace)
		o.Status = authorizationv1.SubjectRulesReviewStatus{ResourceRules: res, NonResourceRules: nonRes, Incomplete: incomplete}
	}
	return obj, nil
}

// validateSARSpec is kube-apiserver's check common to the access reviews: exactly one of the two attribute sets.
func validateSARSpec(spec authorizationv1.SubjectAccessReviewSpec, path *field.Path) field.ErrorList {
	switch {
	case spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil:
		return field.ErrorList{field.Invalid(path.Child("nonResourceAttributes"), spec.NonResourceAttributes, "cannot be specified in combination with resourceAttributes")}
	case spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil:
		return field.ErrorList{field.Invalid(path.Child("resourceAttributes"), spec.NonResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified")}
	}
	return nil
}

// DefaultAPIAudiences is kube-apiserver's default --api-audiences: its --service-account-issuer as kubeadm and k3s set it.
var DefaultAPIAudiences = []string{"https://kubernetes.default.svc.cluster.local"}

// tokenReview authenticates the reviewed token as a request bearing it would be. skiff's tokens (the token file) are
// audience-agnostic, so, as kube-apiserver's wrapper for such authenticators does, a token is authenticated for the
// review's audiences (the API audiences when it names none) that are also API audiences, and for none otherwise.
// Service-account tokens (EnableServiceAccountTokens) are authenticated for the review's audiences they carry.
func (s *APIServer) tokenReview(r *http.Request, spec authenticationv1.TokenReviewSpec) authenticationv1.TokenReviewStatus {
	if s.cfg.TokenAuthenticator == nil && s.saAuthn == nil {
		return authenticationv1.TokenReviewStatus{Error: "no token authenticator is configured"}
	}
	apiAuds := s.apiAudiences()
	want := spec.Audiences
	if len(want) == 0 {
		want = apiAuds
	}
	// Service-account tokens carry their audiences: the review's must share one with the token's.
	if s.saAuthn != nil {
		u, auds, ok, err := s.saAuthn.AuthenticateToken(serviceaccount.WithAudiences(r.Context(), want), spec.Token)
		switch {
		case ok:
			u.Groups = append(u.Groups, auth.AllAuthenticated)
			return authenticationv1.TokenReviewStatus{Authenticated: true, User: userInfo(u), Audiences: auds}
		case err != nil:
			return authenticationv1.TokenReviewStatus{Error: err.Error()}
		}
	}
	var auds []string
	for _, a := range want {
		if slices.Contains(apiAuds, a) && !slices.Contains(auds, a) {
			auds = append(auds, a)
		}
	}
	if len(auds) == 0 || s.cfg.TokenAuthenticator == nil {
		return authenticationv1.TokenReviewStatus{}
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/", nil)
	if err != nil {
		return authenticationv1.TokenReviewStatus{Error: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+spec.Token)
	// An unknown token is not authenticated, without an error, as kube-apiserver's token file answers.
	u, ok, _ := s.cfg.TokenAuthenticator.AuthenticateRequest(req)
	if !ok {
		return authenticationv1.TokenReviewStatus{}
	}
	if !u.InGroup(auth.AllAuthenticated) {
		u.Groups = append(u.Groups, auth.AllAuthenticated)
	}
	return authenticationv1.TokenReviewStatus{Authenticated: true, User: userInfo(u), Audiences: auds}
}

func userInfo(u *auth.User) authenticationv1.UserInfo {
	if u == nil {
		return authenticationv1.UserInfo{}
	}
	ui := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	for k, v := range u.Extra {
		if ui.Extra == nil {
			ui.Extra = map[string]authenticationv1.ExtraValue{}
		}
		ui.Extra[k] = v
	}
	return ui
}

func extraFrom(e map[string]authorizationv1.ExtraValue) map[string][]string {
	if len(e) == 0 {
		return nil
	}
	out := make(map[string][]string, len(e))
	for k, v := range e {
		out[k] = v
	}
	return out
}

// authorizer is the server's Authorizer (Config.Authorizer, or allowAll).
func (s *APIServer) authorizer() Authorizer {
	if s.cfg.Authorizer != nil {
		return s.cfg.Authorizer
	}
	return allowAll{}
}
