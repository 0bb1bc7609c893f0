package rbac

import (
	"errors"
	"fmt"
	"strings"

	"github.com/skiff-sh/skiff/internal/auth"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Store reads roles and bindings; the objects it returns are shared and must not be mutated.
type Store interface {
	// GetRole returns namespace/name or a NotFound error.
	GetRole(namespace, name string) (*rbacv1.Role, error)
	// ListRoleBindings returns the RoleBindings of namespace.
	ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error)
	// GetClusterRole returns name or a NotFound error.
	GetClusterRole(name string) (*rbacv1.ClusterRole, error)
	// ListClusterRoleBindings returns every ClusterRoleBinding.
	ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error)
}

// Authorizer decides requests from the RBAC objects of a Store.
type Authorizer struct {
	store Store
}

// New returns an Authorizer reading from store.
func New(store Store) *Authorizer { return &Authorizer{store: store} }

// Authorize allows attrs for u when u is in system:masters or an applicable rule allows it; see the package doc.
func (a *Authorizer) Authorize(u *auth.User, attrs authorizationv1.SubjectAccessReviewSpec) (bool, string) {
	if u == nil {
		return false, ""
	}
	if u.InGroup(auth.SystemPrivileged) {
		return true, ""
	}
	ns := ""
	if attrs.ResourceAttributes != nil {
		ns = attrs.ResourceAttributes.Namespace
	}
	var errs []error
	allowed, reason := false, ""
	a.VisitRulesFor(u, ns, func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil && RuleAllows(attrs, rule) {
			allowed, reason = true, "RBAC: allowed by "+source.String()
			return false
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	if allowed {
		return true, reason
	}
	if len(errs) > 0 {
		return false, fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs))
	}
	return false, ""
}

// RulesFor lists what u may do in namespace as SelfSubjectRulesReview reports it.
func (a *Authorizer) RulesFor(u *auth.User, namespace string) ([]authorizationv1.ResourceRule, []authorizationv1.NonResourceRule, bool) {
	rules, _ := a.PolicyRules(u, namespace)
	var res []authorizationv1.ResourceRule
	var nonRes []authorizationv1.NonResourceRule
	for _, r := range rules {
		if len(r.Resources) > 0 {
			res = append(res, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			nonRes = append(nonRes, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return res, nonRes, false
}

// PolicyRules returns every rule that applies to u in namespace (cluster-wide only when namespace is empty) and
// the errors met resolving them.
func (a *Authorizer) PolicyRules(u *auth.User, namespace string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	a.VisitRulesFor(u, namespace, func(_ fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil {
			rules = append(rules, *rule)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return rules, utilerrors.NewAggregate(errs)
}

// VisitRulesFor calls visit with each rule that applies to u in namespace (and its source), or with each error
// met; visit returning false stops the walk (upstream's DefaultRuleResolver.VisitRulesFor).
func (a *Authorizer) VisitRulesFor(u *auth.User, namespace string, visit func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool) {
	crbs, err := a.store.ListClusterRoleBindings()
	if err != nil {
		if !visit(nil, nil, err) {
			return
		}
	} else {
		for _, b := range crbs {
			i, ok := appliesTo(u, b.Subjects, "")
			if !ok {
				continue
			}
			rules, err := a.RoleRefRules(b.RoleRef, "")
			if err != nil {
				if !visit(nil, nil, err) {
					return
				}
				continue
			}
			src := clusterRoleBindingSource{b, &b.Subjects[i]}
			for j := range rules {
				if !visit(src, &rules[j], nil) {
					return
				}
			}
		}
	}
	if namespace == "" {
		return
	}
	rbs, err := a.store.ListRoleBindings(namespace)
	if err != nil {
		visit(nil, nil, err)
		return
	}
	for _, b := range rbs {
		i, ok := appliesTo(u, b.Subjects, namespace)
		if !ok {
			continue
		}
		rules, err := a.RoleRefRules(b.RoleRef, namespace)
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := roleBindingSource{b, &b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
}

// RoleRefRules returns the rules of the role ref names, a Role of bindingNamespace or a ClusterRole.
func (a *Authorizer) RoleRefRules(ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		r, err := a.store.GetRole(bindingNamespace, ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	case "ClusterRole":
		r, err := a.store.GetClusterRole(ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

// ConfirmNoEscalation returns an error unless u (in namespace) already holds every permission rules grant, with
// upstream's message.
func (a *Authorizer) ConfirmNoEscalation(u *auth.User, namespace string, rules []rbacv1.PolicyRule) error {
	owner, resolveErr := a.PolicyRules(u, namespace)
	ok, missing := Covers(owner, rules)
	if ok {
		return nil
	}
	var lines []string
	for _, m := range compactRules(missing) {
		lines = append(lines, CompactString(m))
	}
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.Name, u.Groups, strings.Join(sortedUnique(lines), "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: %v", []error{resolveErr})
	}
	return errors.New(msg)
}

func appliesTo(u *auth.User, subjects []rbacv1.Subject, namespace string) (int, bool) {
	for i := range subjects {
		if appliesToUser(u, &subjects[i], namespace) {
			return i, true
		}
	}
	return 0, false
}

func appliesToUser(u *auth.User, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return u.InGroup(s.Name)
	case rbacv1.ServiceAccountKind:
		ns := namespace
		if s.Namespace != "" {
			ns = s.Namespace
		}
		return ns != "" && u.Name == "system:serviceaccount:"+ns+":"+s.Name
	}
	return false
}

func describeSubject(s *rbacv1.Subject, bindingNamespace string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

type clusterRoleBindingSource struct {
	b *rbacv1.ClusterRoleBinding
	s *rbacv1.Subject
}

func (d clusterRoleBindingSource) String() string {
	return fmt.Sprintf("ClusterRoleBinding %q of %s %q to %s", d.b.Name, d.b.RoleRef.Kind, d.b.RoleRef.Name, describeSubject(d.s, ""))
}

type roleBindingSource struct {
	b *rbacv1.RoleBinding
	s *rbacv1.Subject
}

func (d roleBindingSource) String() string {
	return fmt.Sprintf("RoleBinding %q of %s %q to %s", d.b.Name+"/"+d.b.Namespace, d.b.RoleRef.Kind, d.b.RoleRef.Name, describeSubject(d.s, d.b.Namespace))
}

// ForbiddenMessage is upstream's text for a denied request (before any reason): User "u" cannot verb resource
// "r/sub" in API group "g" in the namespace "ns" (or at the cluster scope), or User "u" cannot verb path "/p".
func ForbiddenMessage(userName string, attrs authorizationv1.SubjectAccessReviewSpec) string {
	if ra := attrs.ResourceAttributes; ra != nil {
		res := ra.Resource
		if ra.Subresource != "" {
			res += "/" + ra.Subresource
		}
		if ra.Namespace != "" {
			return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", userName, ra.Verb, res, ra.Group, ra.Namespace)
		}
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", userName, ra.Verb, res, ra.Group)
	}
	if nra := attrs.NonResourceAttributes; nra != nil {
		return fmt.Sprintf("User %q cannot %s path %q", userName, nra.Verb, nra.Path)
	}
	return fmt.Sprintf("User %q cannot do this", userName)
}
