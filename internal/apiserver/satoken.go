package apiserver

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// tokenRequestGVK is the kind of the serviceaccounts/token subresource.
var tokenRequestGVK = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// serviceAccountTokens issues tokens for the serviceaccounts/token subresource.
type serviceAccountTokens struct {
	s      *APIServer
	signer *serviceaccount.Signer
	issuer string
	// extend is kube-apiserver's --service-account-extend-token-expiration (default true).
	extend bool
}

// EnableServiceAccountTokens serves serviceaccounts/token (TokenRequest) with tokens from issuer signed by signer,
// turns on the ServiceAccount admission plugin (admitServiceAccount), and returns the authenticator of such tokens
// (objects looked up in this server); TokenReviews use it too. Call before Run.
func (s *APIServer) EnableServiceAccountTokens(signer *serviceaccount.Signer, issuer string) *serviceaccount.Authenticator {
	t := &serviceAccountTokens{s: s, signer: signer, issuer: issuer, extend: true}
	if s.extraCoreSubresources == nil {
		s.extraCoreSubresources = map[string][]subresourceInfo{}
	}
	s.extraCoreSubresources["ServiceAccount"] = append(s.extraCoreSubresources["ServiceAccount"],
		subresourceInfo{"token", tokenRequestGVK, []string{"create"}})
	prev := s.subresourceHook
	s.subresourceHook = func(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
		if ri.Group == "" && ri.Resource == "serviceaccounts" && ri.Subresource == "token" && ri.Verb == "create" {
			t.serve(w, r, ri)
			return true
		}
		return prev != nil && prev(w, r, ri)
	}
	s.saAuthn = serviceaccount.NewAuthenticator(issuer, signer.PublicKey(), s.apiAudiences(), objectGetter{s}, s.clock)
	return s.saAuthn
}

// apiAudiences returns the server's API audiences (kube-apiserver's --api-audiences).
func (s *APIServer) apiAudiences() []string {
	if len(s.cfg.APIAudiences) == 0 {
		return DefaultAPIAudiences
	}
	return s.cfg.APIAudiences
}

func (t *serviceAccountTokens) serve(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	s := t.s
	gr := schema.GroupResource{Resource: "serviceaccounts"}
	n, err := negotiateNoTable(r)
	if err == nil {
		var out *authenticationv1.TokenRequest
		if out, err = t.create(w, r, ri); err == nil {
			err = s.respondNoTable(w, r, n, http.StatusCreated, out, "*authentication.TokenRequest")
		}
	}
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
	}
}

// create is kube-apiserver's TokenREST.Create (pkg/registry/core/serviceaccount/storage/token.go).
func (t *serviceAccountTokens) create(w http.ResponseWriter, r *http.Request, ri requestInfo) (*authenticationv1.TokenRequest, error) {
	s := t.s
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	obj, err := s.codecs.decodeBody(w, r, data, &authenticationv1.TokenRequest{}, tokenRequestGVK)
	if err != nil {
		return nil, err
	}
	req, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return nil, badRequest("expected a TokenRequest, got %T", obj)
	}
	return t.issue(r.Context(), ri.Namespace, ri.Name, req)
}

// issue validates req for service account namespace/name and returns it with a token in its status.
func (t *serviceAccountTokens) issue(ctx context.Context, namespace, name string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	gk := tokenRequestGVK.GroupKind()
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewInvalid(gk, name, field.ErrorList{field.Invalid(field.NewPath("metadata").Child("name"), req.Name, "must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != namespace {
		return nil, apierrors.NewInvalid(gk, name, field.ErrorList{field.Invalid(field.NewPath("metadata").Child("namespace"), req.Namespace, "must match the service account namespace if specified")})
	}
	get := objectGetter{t.s}
	sa, err := get.GetServiceAccount(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if req.UID != "" && req.UID != sa.UID {
		return nil, apierrors.NewConflict(schema.GroupResource{Group: gk.Group, Resource: gk.Kind}, name,
			fmt.Errorf("the UID in the token request (%s) does not match the UID of the service account (%s)", req.UID, sa.UID))
	}
	apiAuds := t.s.apiAudiences()
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = slices.Clone(apiAuds)
	}
	if req.Spec.ExpirationSeconds == nil {
		def := int64(3600)
		req.Spec.ExpirationSeconds = &def
	}
	req.Name, req.Namespace, req.UID = sa.Name, sa.Namespace, sa.UID
	now := t.s.clock.Now()
	req.CreationTimestamp = metav1.NewTime(now)
	req.Status = authenticationv1.TokenRequestStatus{}
	if errs := validateTokenRequest(req); len(errs) != 0 {
		return nil, apierrors.NewInvalid(gk, "", errs)
	}
	var b serviceaccount.Bound
	if ref := req.Spec.BoundObjectRef; ref != nil {
		var uid string
		gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
		switch {
		case gvk.Group == "" && gvk.Kind == "Pod":
			if b.Pod, err = get.GetPod(ctx, namespace, ref.Name); err != nil {
				return nil, err
			}
			if name != b.Pod.Spec.ServiceAccountName {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", name))
			}
			uid = string(b.Pod.UID)
			if nodeName := b.Pod.Spec.NodeName; nodeName != "" {
				b.Node, err = get.GetNode(ctx, nodeName)
				switch {
				case apierrors.IsNotFound(err):
					b.Node = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}
				case err != nil:
					return nil, apierrors.NewInternalError(err)
				}
			}
		case gvk.Group == "" && gvk.Kind == "Node":
			if b.Node, err = get.GetNode(ctx, ref.Name); err != nil {
				return nil, err
			}
			uid = string(b.Node.UID)
		case gvk.Group == "" && gvk.Kind == "Secret":
			if b.Secret, err = get.GetSecret(ctx, namespace, ref.Name); err != nil {
				return nil, err
			}
			uid = string(b.Secret.UID)
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
		}
		if ref.UID != "" && string(ref.UID) != uid {
			return nil, apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
				fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
		}
	}
	exp, warnAfter := *req.Spec.ExpirationSeconds, int64(0)
	if t.extend && b.Pod != nil && exp == serviceaccount.WarnOnlyBoundTokenExpirationSeconds && isSubset(req.Spec.Audiences, apiAuds) {
		warnAfter, exp = exp, serviceaccount.ExpirationExtensionSeconds
	}
	claims := serviceaccount.NewClaims(t.issuer, sa, b, req.Spec.Audiences, now, exp, warnAfter)
	tok, err := t.signer.Sign(claims)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("failed to generate token: %w", err))
	}
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{
		Token:               tok,
		ExpirationTimestamp: metav1.NewTime(now.Add(time.Duration(*out.Spec.ExpirationSeconds) * time.Second)),
	}
	return out, nil
}

// validateTokenRequest is upstream's ValidateTokenRequest for the bound kinds skiff serves.
func validateTokenRequest(tr *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "expirationSeconds")
	if exp := *tr.Spec.ExpirationSeconds; exp < 10*60 {
		errs = append(errs, field.Invalid(p, exp, "may not specify a duration less than 10 minutes"))
	} else if exp > 1<<32 {
		errs = append(errs, field.Invalid(p, exp, "may not specify a duration larger than 2^32 seconds"))
	}
	return errs
}

func isSubset(a, of []string) bool {
	for _, x := range a {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

// objectGetter reads objects from the watch cache, falling back to storage when the cache does not have them
// (just created), as upstream's service-account token getter does.
type objectGetter struct{ s *APIServer }

func (g objectGetter) get(ctx context.Context, resource, namespace, name string) (runtime.Object, error) {
	gr := schema.GroupResource{Resource: resource}
	res := g.s.byGVR[corev1.SchemeGroupVersion.WithResource(resource)]
	if res == nil {
		return nil, apierrors.NewNotFound(gr, name)
	}
	key := res.keys.Key(namespace, name)
	if res.cacher != nil {
		if o := res.cacher.Get(key); o != nil {
			return o, nil
		}
	}
	o, err := g.s.store.Get(ctx, key, res.New)
	if err != nil {
		return nil, toAPIError(err, gr, name)
	}
	return o, nil
}

// GetServiceAccount returns the service account; it must not be modified.
func (g objectGetter) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	o, err := g.get(ctx, "serviceaccounts", namespace, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.ServiceAccount), nil
}

// GetPod returns the pod; it must not be modified.
func (g objectGetter) GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	o, err := g.get(ctx, "pods", namespace, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Pod), nil
}

// GetSecret returns the secret; it must not be modified.
func (g objectGetter) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	o, err := g.get(ctx, "secrets", namespace, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Secret), nil
}

// GetNode returns the node; it must not be modified.
func (g objectGetter) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	o, err := g.get(ctx, "nodes", "", name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Node), nil
}

// Names of the ServiceAccount admission plugin's token volume, as upstream.
const (
	serviceAccountVolumePrefix = "kube-api-access-"
	serviceAccountMountPath    = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// admitServiceAccount is kube-apiserver's ServiceAccount admission plugin on pod create (on once
// EnableServiceAccountTokens was called): the pod's service account (default "default") must exist, and unless
// automountServiceAccountToken is false on the pod or the account, the kube-api-access-* projected volume is
// mounted in every container; an empty imagePullSecrets takes the account's.
func (s *APIServer) admitServiceAccount(ctx context.Context, p *corev1.Pod) error {
	if s.saAuthn == nil {
		return nil
	}
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
		p.Spec.DeprecatedServiceAccount = "default"
	}
	sa, err := s.lookupServiceAccount(ctx, p.Namespace, p.Spec.ServiceAccountName)
	if err != nil {
		name := p.Name
		if name == "" {
			name = p.GenerateName
		}
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, name,
			fmt.Errorf("error looking up service account %s/%s: %w", p.Namespace, p.Spec.ServiceAccountName, err))
	}
	mountServiceAccountToken(sa, p, utilrand.String(5))
	if len(p.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		p.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, ref := range sa.ImagePullSecrets {
			p.Spec.ImagePullSecrets[i].Name = ref.Name
		}
	}
	return nil
}

// lookupServiceAccount finds namespace/name; "default" is tried ten times 100-200 ms apart before it is reported
// missing, as upstream does, since the serviceaccount controller creates it just after its namespace.
func (s *APIServer) lookupServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	attempts := 1
	if name == "default" {
		attempts = 10
	}
	interval := time.Duration(100+mathrand.Int64N(100)) * time.Millisecond
	get := objectGetter{s}
	for i := 0; ; i++ {
		sa, err := get.GetServiceAccount(ctx, namespace, name)
		if err == nil || !apierrors.IsNotFound(err) {
			return sa, err
		}
		if i+1 >= attempts {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.clock.After(interval):
		}
	}
}

// mountServiceAccountToken adds the projected token volume (kube-api-access-<suffix>, or the pod's own
// kube-api-access-* volume) and its read-only mount to every container without a mount at the token path, unless
// automount is turned off; upstream's mountServiceAccountToken.
func mountServiceAccountToken(sa *corev1.ServiceAccount, p *corev1.Pod, suffix string) {
	switch {
	case p.Spec.AutomountServiceAccountToken != nil:
		if !*p.Spec.AutomountServiceAccountToken {
			return
		}
	case sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken:
		return
	}
	volName, hasVolume := "", false
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, serviceAccountVolumePrefix) {
			volName, hasVolume = v.Name, true
			break
		}
	}
	if volName == "" {
		volName = serviceAccountVolumePrefix + suffix
	}
	mount := corev1.VolumeMount{Name: volName, ReadOnly: true, MountPath: serviceAccountMountPath}
	needed := false
	add := func(cs []corev1.Container) {
		for i := range cs {
			if !slices.ContainsFunc(cs[i].VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == serviceAccountMountPath }) {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	add(p.Spec.InitContainers)
	add(p.Spec.Containers)
	if hasVolume || !needed {
		return
	}
	mode := corev1.ProjectedVolumeSourceDefaultMode
	exp := int64(serviceaccount.WarnOnlyBoundTokenExpirationSeconds)
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: volName, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path:     "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}})
}
