package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/auth/rbac"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Authorization, as kube-apiserver's WithAuthorization and WithImpersonation filters and its RBAC registry:
//
//   - EnableRBAC makes an rbac.Authorizer over the server's own watch caches (Roles, RoleBindings, ClusterRoles,
//     ClusterRoleBindings) the server's Authorizer; the access reviews answer with it too;
//   - WithAuthorization authorizes every request with its attributes (resource requests: verb, API group,
//     resource, subresource, namespace, name; others: the path and the lowercased HTTP method) and answers a
//     denial with upstream's 403 Status;
//   - WithImpersonationAuthorization checks, before auth.Impersonation acts on them, that the caller may
//     impersonate (verb impersonate on users, groups, serviceaccounts, userextras and uids);
//   - admitRBAC is the escalation check of Role, ClusterRole, RoleBinding and ClusterRoleBinding writes;
//   - bootstrapRBAC reconciles the bootstrap policy (rbac.ClusterRoles, rbac.ClusterRoleBindings) at start.

// EnableRBAC makes RBAC the server's authorizer (kube-apiserver's --authorization-mode=RBAC) and returns it.
func (s *APIServer) EnableRBAC() *rbac.Authorizer {
	a := rbac.New(cacheRBACStore{s})
	s.cfg.Authorizer = a
	return a
}

// cacheRBACStore reads RBAC objects from the server's watch caches.
type cacheRBACStore struct{ s *APIServer }

func (c cacheRBACStore) res(resource string) *resource {
	return c.s.byGVR[rbacv1.SchemeGroupVersion.WithResource(resource)]
}

func (c cacheRBACStore) GetRole(namespace, name string) (*rbacv1.Role, error) {
	r := c.res("roles")
	if o, ok := r.cacher.Get(r.keys.Key(namespace, name)).(*rbacv1.Role); ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("role"), name)
}

func (c cacheRBACStore) GetClusterRole(name string) (*rbacv1.ClusterRole, error) {
	r := c.res("clusterroles")
	if o, ok := r.cacher.Get(r.keys.Key("", name)).(*rbacv1.ClusterRole); ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), name)
}

func (c cacheRBACStore) ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error) {
	r := c.res("rolebindings")
	items, _ := r.cacher.List(r.keys.Prefix(namespace), nil)
	out := make([]*rbacv1.RoleBinding, 0, len(items))
	for _, o := range items {
		if b, ok := o.(*rbacv1.RoleBinding); ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (c cacheRBACStore) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	r := c.res("clusterrolebindings")
	items, _ := r.cacher.List(r.keys.Prefix(""), nil)
	out := make([]*rbacv1.ClusterRoleBinding, 0, len(items))
	for _, o := range items {
		if b, ok := o.(*rbacv1.ClusterRoleBinding); ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// requestAttributes are the authorization attributes of r, as kube-apiserver's RequestInfoFactory derives them.
func requestAttributes(r *http.Request) authorizationv1.SubjectAccessReviewSpec {
	ri, ok := parseRequestInfo(r)
	if !ok || !ri.IsResource {
		return authorizationv1.SubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{
			Path: r.URL.Path, Verb: strings.ToLower(r.Method)}}
	}
	ra := &authorizationv1.ResourceAttributes{Namespace: ri.Namespace, Verb: ri.Verb, Group: ri.Group, Version: ri.Version,
		Resource: ri.Resource, Subresource: ri.Subresource, Name: ri.Name}
	// A namespace's own path (/api/v1/namespaces/{name}[/status|/finalize]) is in that namespace.
	if ri.Resource == "namespaces" && ri.Name != "" {
		ra.Namespace = ri.Name
	}
	// list and watch of one object by name (fieldSelector=metadata.name=x) carry the name, so resourceNames apply.
	if (ra.Verb == "list" || ra.Verb == "watch") && ra.Name == "" {
		if fs := r.URL.Query().Get("fieldSelector"); fs != "" {
			if sel, err := fields.ParseSelector(fs); err == nil {
				if name, ok := sel.RequiresExactMatch("metadata.name"); ok && name != "" && !strings.ContainsAny(name, "/%") && name != "." && name != ".." {
					ra.Name = name
				}
			}
		}
	}
	return authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: ra}
}

// forbidden is upstream's 403 for a denied request: `<resource> "<name>" is forbidden: User ... cannot ...`.
func forbidden(userName string, attrs authorizationv1.SubjectAccessReviewSpec, reason string) *apierrors.StatusError {
	msg := rbac.ForbiddenMessage(userName, attrs)
	if reason != "" {
		msg += ": " + reason
	}
	var gr schema.GroupResource
	name := ""
	if ra := attrs.ResourceAttributes; ra != nil {
		gr, name = schema.GroupResource{Group: ra.Group, Resource: ra.Resource}, ra.Name
	}
	return apierrors.NewForbidden(gr, name, errors.New(msg))
}

// WithAuthorization answers 403 to requests the Authorizer does not allow and passes the others to next.
func (s *APIServer) WithAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFrom(r.Context())
		attrs := requestAttributes(r)
		if u != nil {
			attrs.User, attrs.UID, attrs.Groups = u.Name, u.UID, u.Groups
		}
		if ok, reason := s.authorizer().Authorize(u, attrs); !ok {
			name := ""
			if u != nil {
				name = u.Name
			}
			s.writeError(w, r, forbidden(name, attrs, reason), schema.GroupResource{}, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WithImpersonationAuthorization answers 403 when the caller may not impersonate what the Impersonate-* headers
// ask (checked in upstream's order: the user or service account, each group, each extra value, the UID); it
// runs before auth.Impersonation, which then acts on the headers.
func (s *APIServer) WithImpersonationAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFrom(r.Context())
		name := r.Header.Get(auth.ImpersonateUserHeader)
		if !ok || name == "" {
			next.ServeHTTP(w, r)
			return
		}
		var checks []authorizationv1.ResourceAttributes
		if rest, isSA := strings.CutPrefix(name, "system:serviceaccount:"); isSA && strings.Count(rest, ":") == 1 {
			ns, sa, _ := strings.Cut(rest, ":")
			checks = append(checks, authorizationv1.ResourceAttributes{Namespace: ns, Resource: "serviceaccounts", Name: sa})
		} else {
			checks = append(checks, authorizationv1.ResourceAttributes{Resource: "users", Name: name})
		}
		for _, g := range r.Header.Values(auth.ImpersonateGroupHeader) {
			checks = append(checks, authorizationv1.ResourceAttributes{Resource: "groups", Name: g})
		}
		for k, vals := range r.Header {
			rest, isExtra := strings.CutPrefix(k, auth.ImpersonateUserExtraPrefix)
			if !isExtra {
				continue
			}
			key, err := url.PathUnescape(rest)
			if err != nil {
				key = rest
			}
			for _, v := range vals {
				checks = append(checks, authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "userextras", Subresource: strings.ToLower(key), Name: v})
			}
		}
		if uid := r.Header.Get(auth.ImpersonateUIDHeader); uid != "" {
			checks = append(checks, authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "uids", Name: uid})
		}
		for i := range checks {
			checks[i].Verb = "impersonate"
			attrs := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &checks[i], User: u.Name, UID: u.UID, Groups: u.Groups}
			if allowed, reason := s.authorizer().Authorize(u, attrs); !allowed {
				s.writeError(w, r, forbidden(u.Name, attrs, reason), schema.GroupResource{}, "")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

var (
	rolesGR               = rbacv1.Resource("roles")
	clusterRolesGR        = rbacv1.Resource("clusterroles")
	roleBindingsGR        = rbacv1.Resource("rolebindings")
	clusterRoleBindingsGR = rbacv1.Resource("clusterrolebindings")
	// fullAuthority is what using an aggregationRule requires (cluster-admin's rules).
	fullAuthority = []rbacv1.PolicyRule{
		{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
		{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
	}
)

// admitRBAC is kube-apiserver's RBAC registry check on create (old nil) and update of roles and bindings: the
// requester must hold every permission granted (or may escalate / bind); system:masters and in-process writes
// (no user) bypass it, as does an update that changes only ownerReferences, finalizers or managedFields.
func (s *APIServer) admitRBAC(ctx context.Context, obj, old runtime.Object) error {
	switch obj.(type) {
	case *rbacv1.Role, *rbacv1.ClusterRole, *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
	default:
		return nil
	}
	u, ok := auth.UserFrom(ctx)
	if !ok || u.InGroup(auth.SystemPrivileged) {
		return nil
	}
	if old != nil && onlyGCFieldsChanged(obj, old) {
		return nil
	}
	authz := s.authorizer()
	ra, ok := authz.(*rbac.Authorizer)
	if !ok {
		// Without RBAC nothing is checked beyond the authorizer's word on escalate and bind (AlwaysAllow: yes).
		return nil
	}
	allowed := func(verb string, gr schema.GroupResource, ns, name string) bool {
		ok, _ := authz.Authorize(u, authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: gr.Group, Version: "*", Resource: gr.Resource, Name: name}, User: u.Name, Groups: u.Groups})
		return ok
	}
	m := accessor(obj)
	ns, name := m.GetNamespace(), m.GetName()
	switch o := obj.(type) {
	case *rbacv1.Role:
		if allowed("escalate", rolesGR, ns, name) {
			return nil
		}
		if err := ra.ConfirmNoEscalation(u, ns, o.Rules); err != nil {
			return apierrors.NewForbidden(rolesGR, name, err)
		}
	case *rbacv1.ClusterRole:
		if allowed("escalate", clusterRolesGR, "", name) {
			return nil
		}
		if err := ra.ConfirmNoEscalation(u, "", o.Rules); err != nil {
			return apierrors.NewForbidden(clusterRolesGR, name, err)
		}
		oldAgg := false
		if oc, isCR := old.(*rbacv1.ClusterRole); isCR {
			oldAgg = hasAggregationRule(oc)
		}
		if hasAggregationRule(o) || oldAgg {
			if err := ra.ConfirmNoEscalation(u, "", fullAuthority); err != nil {
				return apierrors.NewForbidden(clusterRolesGR, name, errors.New("must have cluster-admin privileges to use the aggregationRule"))
			}
		}
	case *rbacv1.RoleBinding:
		return s.checkBinding(ctx, u, ra, allowed, roleBindingsGR, ns, name, o.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		return s.checkBinding(ctx, u, ra, allowed, clusterRoleBindingsGR, "", name, o.RoleRef)
	}
	return nil
}

// checkBinding allows a binding when the requester may bind its role or already holds the role's permissions.
func (s *APIServer) checkBinding(ctx context.Context, u *auth.User, ra *rbac.Authorizer, allowed func(string, schema.GroupResource, string, string) bool,
	gr schema.GroupResource, ns, name string, ref rbacv1.RoleRef) error {
	refGR := schema.GroupResource{Group: ref.APIGroup}
	switch ref.Kind {
	case "ClusterRole":
		refGR.Resource = "clusterroles"
	case "Role":
		refGR.Resource = "roles"
	}
	if refGR.Resource != "" && allowed("bind", refGR, ns, ref.Name) {
		return nil
	}
	rules, err := s.roleRefRules(ctx, ref, ns)
	if err != nil {
		return err
	}
	if err := ra.ConfirmNoEscalation(u, ns, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	return nil
}

// roleRefRules reads the rules of the role a binding refers to from storage, so that a role created just before
// its binding is found (the registry reads upstream's storage, not the authorizer's caches).
func (s *APIServer) roleRefRules(ctx context.Context, ref rbacv1.RoleRef, ns string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		res := s.byGVR[rbacv1.SchemeGroupVersion.WithResource("roles")]
		o, err := s.store.Get(ctx, res.keys.Key(ns, ref.Name), res.New)
		if err != nil {
			return nil, toAPIError(err, rolesGR, ref.Name)
		}
		return o.(*rbacv1.Role).Rules, nil
	case "ClusterRole":
		res := s.byGVR[rbacv1.SchemeGroupVersion.WithResource("clusterroles")]
		o, err := s.store.Get(ctx, res.keys.Key("", ref.Name), res.New)
		if err != nil {
			return nil, toAPIError(err, clusterRolesGR, ref.Name)
		}
		return o.(*rbacv1.ClusterRole).Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

func hasAggregationRule(cr *rbacv1.ClusterRole) bool {
	return cr.AggregationRule != nil && len(cr.AggregationRule.ClusterRoleSelectors) > 0
}

// onlyGCFieldsChanged is upstream's IsOnlyMutatingGCFields.
func onlyGCFieldsChanged(obj, old runtime.Object) bool {
	c := obj.DeepCopyObject()
	cm, err := meta.Accessor(c)
	if err != nil {
		return false
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return false
	}
	cm.SetOwnerReferences(om.GetOwnerReferences())
	cm.SetFinalizers(om.GetFinalizers())
	cm.SetSelfLink(om.GetSelfLink())
	cm.SetManagedFields(om.GetManagedFields())
	cm.SetResourceVersion(om.GetResourceVersion())
	cm.SetGeneration(om.GetGeneration())
	return reflect.DeepEqual(c, old)
}

// bootstrapRBAC creates the bootstrap ClusterRoles and ClusterRoleBindings and reconciles existing ones (upstream's
// rbac/bootstrap-roles post-start hook).
func (s *APIServer) bootstrapRBAC(ctx context.Context) error {
	wo := writeOptions{manager: "kube-apiserver"}
	crRes := s.byGVR[rbacv1.SchemeGroupVersion.WithResource("clusterroles")]
	for _, want := range rbac.ClusterRoles() {
		cur, err := s.store.Get(ctx, crRes.keys.Key("", want.Name), crRes.New)
		if err != nil {
			if !apierrors.IsNotFound(toAPIError(err, clusterRolesGR, want.Name)) {
				return fmt.Errorf("clusterrole %s: %w", want.Name, err)
			}
			if _, err := s.createObject(ctx, crRes, "", want.DeepCopy(), wo, false); err != nil && !isAlreadyExists(err) {
				return fmt.Errorf("clusterrole %s: %w", want.Name, err)
			}
			continue
		}
		if _, changed := rbac.ReconcileClusterRole(cur.(*rbacv1.ClusterRole), &want); !changed {
			continue
		}
		if _, err := s.updateObject(ctx, crRes, "", want.Name, "", wo, func(cur runtime.Object) (runtime.Object, error) {
			out, _ := rbac.ReconcileClusterRole(cur.(*rbacv1.ClusterRole), &want)
			if out == nil {
				return cur, nil
			}
			return out, nil
		}); err != nil {
			return fmt.Errorf("clusterrole %s: %w", want.Name, err)
		}
	}
	crbRes := s.byGVR[rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")]
	for _, want := range rbac.ClusterRoleBindings() {
		cur, err := s.store.Get(ctx, crbRes.keys.Key("", want.Name), crbRes.New)
		var existing *rbacv1.ClusterRoleBinding
		if err == nil {
			existing = cur.(*rbacv1.ClusterRoleBinding)
		} else if !apierrors.IsNotFound(toAPIError(err, clusterRoleBindingsGR, want.Name)) {
			return fmt.Errorf("clusterrolebinding %s: %w", want.Name, err)
		}
		out, changed, recreate := rbac.ReconcileClusterRoleBinding(existing, &want)
		switch {
		case !changed:
			continue
		case existing == nil || recreate:
			if recreate {
				if _, err := s.deleteObject(ctx, crbRes, "", want.Name, nil); err != nil && !apierrors.IsNotFound(toAPIError(err, clusterRoleBindingsGR, want.Name)) {
					return fmt.Errorf("clusterrolebinding %s: %w", want.Name, err)
				}
				out.ResourceVersion, out.UID = "", ""
			}
			if _, err := s.createObject(ctx, crbRes, "", out, wo, false); err != nil && !isAlreadyExists(err) {
				return fmt.Errorf("clusterrolebinding %s: %w", want.Name, err)
			}
		default:
			if _, err := s.updateObject(ctx, crbRes, "", want.Name, "", wo, func(cur runtime.Object) (runtime.Object, error) {
				o, _, _ := rbac.ReconcileClusterRoleBinding(cur.(*rbacv1.ClusterRoleBinding), &want)
				if o == nil {
					return cur, nil
				}
				return o, nil
			}); err != nil {
				return fmt.Errorf("clusterrolebinding %s: %w", want.Name, err)
			}
		}
	}
	return nil
}
