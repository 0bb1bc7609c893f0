package rbac

import (
	"maps"
	"reflect"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The bootstrap policy's metadata (upstream's bootstrappolicy Label and Annotation).
const (
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	BootstrappingValue = "rbac-defaults"
)

// The aggregation labels of the user-facing roles.
const (
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

var (
	read      = []string{"get", "list", "watch"}
	write     = []string{"create", "update", "patch", "delete", "deletecollection"}
	readWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// rule builds a resource rule with upstream's sorted fields.
func rule(verbs, groups []string, resources ...string) rbacv1.PolicyRule {
	r := rbacv1.PolicyRule{Verbs: sortedCopy(verbs), APIGroups: sortedCopy(groups), Resources: sortedCopy(resources)}
	return r
}

// urlRule builds a non-resource rule.
func urlRule(verbs []string, urls ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: sortedCopy(verbs), NonResourceURLs: sortedCopy(urls)}
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func g(groups ...string) []string { return groups }
func v(verbs ...string) []string  { return verbs }

func viewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(read, g(""), "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
		rule(read, g(""), "limitranges", "resourcequotas", "bindings", "pods/status", "resourcequotas/status",
			"namespaces/status", "replicationcontrollers/status", "pods/log"),
		rule(read, g(""), "namespaces"),
		rule(read, g("", "events.k8s.io"), "events"),
		rule(read, g("discovery.k8s.io"), "endpointslices"),
		rule(read, g("apps"), "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
			"daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
			"replicasets", "replicasets/status", "replicasets/scale"),
		rule(read, g("autoscaling"), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(read, g("batch"), "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
		rule(read, g("extensions"), "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
			"networkpolicies"),
		rule(read, g("policy"), "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(read, g("networking.k8s.io"), "networkpolicies", "ingresses", "ingresses/status"),
	}
}

func editRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(read, g(""), "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
		rule(v("impersonate"), g(""), "serviceaccounts"),
		rule(write, g(""), "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		rule(v("create"), g(""), "pods/eviction"),
		rule(write, g(""), "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"),
		rule(v("create"), g(""), "serviceaccounts/token"),
		rule(write, g("", "events.k8s.io"), "events"),
		rule(write, g("apps"), "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
			"deployments/rollback", "replicasets", "replicasets/scale"),
		rule(write, g("autoscaling"), "horizontalpodautoscalers"),
		rule(write, g("batch"), "jobs", "cronjobs"),
		rule(write, g("extensions"), "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses",
			"replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"),
		rule(write, g("policy"), "poddisruptionbudgets"),
		rule(write, g("networking.k8s.io"), "networkpolicies", "ingresses"),
		rule(readWrite, g("coordination.k8s.io"), "leases"),
	}
}

// ClusterRoles returns the bootstrap ClusterRoles skiff reconciles at start (a subset of kube-apiserver's: the
// user-facing, discovery and aggregation roles; skiff's own components are in system:masters).
func ClusterRoles() []rbacv1.ClusterRole {
	selector := func(label string) *rbacv1.AggregationRule {
		return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}}
	}
	roles := []rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}, Rules: []rbacv1.PolicyRule{
			rule(v("*"), g("*"), "*"),
			urlRule(v("*"), "*"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:discovery"}, Rules: []rbacv1.PolicyRule{
			urlRule(v("get"), "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
				"/api", "/api/*", "/apis", "/apis/*"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:monitoring"}, Rules: []rbacv1.PolicyRule{
			urlRule(v("get"), "/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"),
			rule(v("get"), g(""), "nodes/metrics"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:basic-user"}, Rules: []rbacv1.PolicyRule{
			rule(v("create"), g("authorization.k8s.io"), "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule(v("create"), g("authentication.k8s.io"), "selfsubjectreviews"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:public-info-viewer"}, Rules: []rbacv1.PolicyRule{
			urlRule(v("get"), "/livez", "/readyz", "/healthz", "/version", "/version/"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, AggregationRule: selector(AggregateToAdmin)},
		{ObjectMeta: metav1.ObjectMeta{Name: "edit", Labels: map[string]string{AggregateToAdmin: "true"}}, AggregationRule: selector(AggregateToEdit)},
		{ObjectMeta: metav1.ObjectMeta{Name: "view", Labels: map[string]string{AggregateToEdit: "true"}}, AggregationRule: selector(AggregateToView)},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:aggregate-to-admin", Labels: map[string]string{AggregateToAdmin: "true"}}, Rules: []rbacv1.PolicyRule{
			rule(v("create"), g("authorization.k8s.io"), "localsubjectaccessreviews"),
			rule(readWrite, g("rbac.authorization.k8s.io"), "roles", "rolebindings"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:aggregate-to-edit", Labels: map[string]string{AggregateToEdit: "true"}}, Rules: editRules()},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:aggregate-to-view", Labels: map[string]string{AggregateToView: "true"}}, Rules: viewRules()},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:auth-delegator"}, Rules: []rbacv1.PolicyRule{
			rule(v("create"), g("authentication.k8s.io"), "tokenreviews"),
			rule(v("create"), g("authorization.k8s.io"), "subjectaccessreviews"),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:service-account-issuer-discovery"}, Rules: []rbacv1.PolicyRule{
			urlRule(v("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"),
		}},
	}
	for i := range roles {
		addDefaultMetadata(&roles[i].ObjectMeta)
	}
	return roles
}

// ClusterRoleBindings returns the bootstrap ClusterRoleBindings for ClusterRoles.
func ClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	bind := func(role string, groups ...string) rbacv1.ClusterRoleBinding {
		b := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
		for _, gr := range groups {
			b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: gr})
		}
		addDefaultMetadata(&b.ObjectMeta)
		return b
	}
	return []rbacv1.ClusterRoleBinding{
		bind("cluster-admin", "system:masters"),
		bind("system:monitoring", "system:monitoring"),
		bind("system:discovery", "system:authenticated"),
		bind("system:basic-user", "system:authenticated"),
		bind("system:public-info-viewer", "system:authenticated", "system:unauthenticated"),
		bind("system:service-account-issuer-discovery", "system:serviceaccounts"),
	}
}

func addDefaultMetadata(m *metav1.ObjectMeta) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[BootstrappingLabel] = BootstrappingValue
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[rbacv1.AutoUpdateAnnotationKey] = "true"
}

// protected reports whether an existing object opted out of reconciliation (autoupdate "false").
func protected(m *metav1.ObjectMeta) bool {
	return m.Annotations[rbacv1.AutoUpdateAnnotationKey] == "false"
}

// mergeMeta adds expected's labels and annotations to out where out has none of that key (existing values win).
func mergeMeta(out, expected *metav1.ObjectMeta) {
	labels := maps.Clone(expected.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, out.Labels)
	out.Labels = labels
	ann := maps.Clone(expected.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	maps.Copy(ann, out.Annotations)
	out.Annotations = ann
}

// ReconcileClusterRole returns what start-up reconciliation stores for expected given existing (nil: absent) and
// whether that differs from existing: a copy of existing with expected's missing labels, annotations, aggregation
// selectors and (unless both aggregate) rules added; nothing when existing is annotated autoupdate "false".
func ReconcileClusterRole(existing, expected *rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool) {
	if existing == nil {
		return expected.DeepCopy(), true
	}
	if protected(&existing.ObjectMeta) {
		return nil, false
	}
	out := existing.DeepCopy()
	mergeMeta(&out.ObjectMeta, &expected.ObjectMeta)
	if expected.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, want := range expected.AggregationRule.ClusterRoleSelectors {
			found := false
			for _, have := range out.AggregationRule.ClusterRoleSelectors {
				if reflect.DeepEqual(have, want) {
					found = true
					break
				}
			}
			if !found {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, *want.DeepCopy())
			}
		}
	}
	if expected.AggregationRule == nil || existing.AggregationRule == nil {
		if ok, missing := Covers(existing.Rules, expected.Rules); !ok {
			out.Rules = append(out.Rules, missing...)
		}
	}
	changed := !reflect.DeepEqual(out.Labels, existing.Labels) || !reflect.DeepEqual(out.Annotations, existing.Annotations) ||
		!reflect.DeepEqual(out.AggregationRule, existing.AggregationRule) || len(out.Rules) != len(existing.Rules)
	return out, changed
}

// ReconcileClusterRoleBinding returns what start-up reconciliation stores for expected given existing (nil:
// absent), whether that differs, and whether the binding must be deleted and recreated (its roleRef, which is
// immutable, differs): expected's missing labels, annotations and subjects are added.
func ReconcileClusterRoleBinding(existing, expected *rbacv1.ClusterRoleBinding) (out *rbacv1.ClusterRoleBinding, changed, recreate bool) {
	if existing == nil {
		return expected.DeepCopy(), true, false
	}
	if protected(&existing.ObjectMeta) {
		return nil, false, false
	}
	out = existing.DeepCopy()
	mergeMeta(&out.ObjectMeta, &expected.ObjectMeta)
	if out.RoleRef != expected.RoleRef {
		out.RoleRef = expected.RoleRef
		recreate = true
	}
	for _, want := range expected.Subjects {
		found := false
		for _, have := range out.Subjects {
			if have == want {
				found = true
				break
			}
		}
		if !found {
			out.Subjects = append(out.Subjects, want)
		}
	}
	changed = recreate || !reflect.DeepEqual(out.Labels, existing.Labels) || !reflect.DeepEqual(out.Annotations, existing.Annotations) ||
		len(out.Subjects) != len(existing.Subjects)
	return out, changed, recreate
}
