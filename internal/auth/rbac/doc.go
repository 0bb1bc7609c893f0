// Package rbac is kube-apiserver's RBAC authorizer (plugin/pkg/auth/authorizer/rbac and
// pkg/registry/rbac/validation): it decides requests from Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
//
// Contract:
//
//  1. RuleAllows matches one request's attributes against one PolicyRule exactly as upstream: verbs and apiGroups
//     match by value or "*"; resources by value, "*", "resource/subresource" or "*/subresource"; resourceNames
//     (when set) by the request's name; nonResourceURLs by value, "*" or a trailing-"*" prefix.
//  2. A subject applies to a user by name (User), by group membership (Group, including system:authenticated and
//     system:serviceaccounts[:<ns>], which the authenticator puts in the user's groups) or as
//     system:serviceaccount:<ns>:<name> (ServiceAccount; a binding's own namespace when the subject names none).
//  3. Authorizer.Authorize allows members of system:masters outright (upstream's privileged-group authorizer);
//     otherwise it visits the rules of every ClusterRoleBinding that applies, then, for a namespaced request, of
//     the RoleBindings in that namespace (a RoleBinding's roleRef is a Role of its namespace or a ClusterRole), and
//     allows on the first matching rule with upstream's reason ("RBAC: allowed by ..."). A denial's reason is
//     empty unless rules could not be resolved ("RBAC: " and the errors).
//  4. Authorizer.RulesFor lists the resource and non-resource rules that apply to a user in a namespace
//     (SelfSubjectRulesReview, `kubectl auth can-i --list`); it is never incomplete.
//  5. ConfirmNoEscalation is the registry's escalation check: every rule granted must be covered by the rules the
//     user holds (Covers), with upstream's error text.
//  6. ClusterRoles and ClusterRoleBindings are the bootstrap policy; ReconcileClusterRole and
//     ReconcileClusterRoleBinding compute what kube-apiserver's start-up reconciliation would store (missing rules,
//     labels, annotations, selectors and subjects added to objects annotated autoupdate "true").
//
// Roles and bindings come from a Store (in skiff the API server's own watch caches). Objects it returns are shared
// with the cache: nothing in this package mutates them. The package is pure and safe for concurrent use.
package rbac
