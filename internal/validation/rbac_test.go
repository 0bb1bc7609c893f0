package validation

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Fixtures: RBAC objects as kube-apiserver's defaulting leaves them.

func readPods() rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}
}

func role(mutate func(*rbacv1.Role)) *rbacv1.Role {
	r := &rbacv1.Role{ObjectMeta: objMeta("pod-reader"), Rules: []rbacv1.PolicyRule{readPods()}}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func clusterRole(mutate func(*rbacv1.ClusterRole)) *rbacv1.ClusterRole {
	r := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:reader", ResourceVersion: "1"},
		Rules: []rbacv1.PolicyRule{readPods(), {Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/metrics/*"}}}}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func roleBinding(mutate func(*rbacv1.RoleBinding)) *rbacv1.RoleBinding {
	b := &rbacv1.RoleBinding{ObjectMeta: objMeta("read-pods"),
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{user("jane"), {Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"},
			{Kind: rbacv1.ServiceAccountKind, Name: "builder"}}}
	if mutate != nil {
		mutate(b)
	}
	return b
}

func clusterRoleBinding(mutate func(*rbacv1.ClusterRoleBinding)) *rbacv1.ClusterRoleBinding {
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "devs-view", ResourceVersion: "1"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"}, {Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "ci"}}}
	if mutate != nil {
		mutate(b)
	}
	return b
}

func TestRole(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: role(nil)},
		{name: "no rules", obj: role(func(r *rbacv1.Role) { r.Rules = nil })},
		{name: "name with colon and capitals (path segment, not DNS)", obj: role(func(r *rbacv1.Role) { r.Name = "System:Controller_Reader" })},
		{name: "wildcards", obj: role(func(r *rbacv1.Role) {
			r.Rules = []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*", "*/scale"}, ResourceNames: []string{"a"}}}
		})},
		{name: "name with a slash", obj: role(func(r *rbacv1.Role) { r.Name = "a/b" }),
			want: []string{`metadata.name: Invalid value: "a/b": may not contain '/'`}},
		{name: "name with a percent sign", obj: role(func(r *rbacv1.Role) { r.Name = "100%" }),
			want: []string{`metadata.name: Invalid value: "100%": may not contain '%'`}},
		{name: "name ..", obj: role(func(r *rbacv1.Role) { r.Name = ".." }),
			want: []string{`metadata.name: Invalid value: "..": may not be '..'`}},
		{name: "no namespace", obj: role(func(r *rbacv1.Role) { r.Namespace = "" }),
			want: []string{"metadata.namespace: Required value"}},
		{name: "no verbs", obj: role(func(r *rbacv1.Role) { r.Rules[0].Verbs = nil }),
			want: []string{"rules[0].verbs: Required value: verbs must contain at least one value"}},
		{name: "no apiGroups or resources", obj: role(func(r *rbacv1.Role) {
			r.Rules = append(r.Rules, rbacv1.PolicyRule{Verbs: []string{"get"}})
		}), want: []string{
			"rules[1].apiGroups: Required value: resource rules must supply at least one api group",
			"rules[1].resources: Required value: resource rules must supply at least one resource",
		}},
		{name: "empty rule", obj: role(func(r *rbacv1.Role) { r.Rules = []rbacv1.PolicyRule{{}} }), want: []string{
			"rules[0].verbs: Required value: verbs must contain at least one value",
			"rules[0].apiGroups: Required value: resource rules must supply at least one api group",
			"rules[0].resources: Required value: resource rules must supply at least one resource",
		}},
		{name: "non-resource URLs in a namespaced role", obj: role(func(r *rbacv1.Role) {
			r.Rules = []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}}
		}), want: []string{`rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`}},
		{name: "non-resource URLs mixed with resources in a namespaced role", obj: role(func(r *rbacv1.Role) {
			r.Rules[0].NonResourceURLs = []string{"/api"}
		}), want: []string{
			`rules[0].nonResourceURLs: Invalid value: ["/api"]: namespaced rules cannot apply to non-resource URLs`,
			`rules[0].nonResourceURLs: Invalid value: ["/api"]: rules cannot apply to both regular resources and non-resource URLs`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "rules may change", old: role(nil), obj: role(func(r *rbacv1.Role) { r.Rules[0].Verbs = []string{"*"} })},
		{name: "rules are validated on update", old: role(nil), obj: role(func(r *rbacv1.Role) { r.Rules[0].Verbs = nil }),
			want: []string{"rules[0].verbs: Required value: verbs must contain at least one value"}},
		{name: "name is immutable", old: role(nil), obj: role(func(r *rbacv1.Role) { r.Name = "other" }),
			want: []string{`metadata.name: Invalid value: "other": field is immutable`}},
	})
}

func TestClusterRole(t *testing.T) {
	selector := func(labels map[string]string) metav1.LabelSelector { return metav1.LabelSelector{MatchLabels: labels} }
	aggregated := func(sels ...metav1.LabelSelector) func(*rbacv1.ClusterRole) {
		return func(r *rbacv1.ClusterRole) {
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: sels}
		}
	}
	runCreate(t, []createCase{
		{name: "valid with non-resource URLs", obj: clusterRole(nil)},
		{name: "aggregated, rules empty", obj: clusterRole(func(r *rbacv1.ClusterRole) {
			aggregated(selector(map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}))(r)
			r.Rules = nil
		})},
		{name: "aggregated, rules kept (the controller fills them)", obj: clusterRole(aggregated(
			selector(map[string]string{"a": "b"}),
			metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}))},
		{name: "namespace given", obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "name with a slash", obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Name = "a/b" }),
			want: []string{`metadata.name: Invalid value: "a/b": may not contain '/'`}},
		{name: "no verbs", obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Rules[1].Verbs = nil }),
			want: []string{"rules[1].verbs: Required value: verbs must contain at least one value"}},
		{name: "non-resource URLs mixed with resource names", obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Rules[1].ResourceNames = []string{"x"} }),
			want: []string{`rules[1].nonResourceURLs: Invalid value: ["/healthz","/metrics/*"]: rules cannot apply to both regular resources and non-resource URLs`}},
		{name: "resource rule without apiGroups", obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Rules[0].APIGroups = nil }),
			want: []string{"rules[0].apiGroups: Required value: resource rules must supply at least one api group"}},
		{name: "aggregation without selectors", obj: clusterRole(aggregated()),
			want: []string{"aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"}},
		{name: "aggregation selector with a bad operator", obj: clusterRole(aggregated(metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}})),
			want: []string{
				`aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`,
				`aggregationRule.clusterRoleSelectors[0]: Invalid value: {"matchExpressions":[{"key":"tier","operator":"Near"}]}: invalid label selector.`,
			}},
		{name: "aggregation selector with an invalid label value", obj: clusterRole(aggregated(selector(map[string]string{"a": "not valid"}))),
			want: []string{
				`aggregationRule.clusterRoleSelectors[0].matchLabels: Invalid value: "not valid": ` + rbacLabelValueMsg,
				`aggregationRule.clusterRoleSelectors[0]: Invalid value: {"matchLabels":{"a":"not valid"}}: invalid label selector.`,
			}},
	})
	// Only matchExpressions values are relaxed for a stored object (matchLabels never are), and the
	// selector must still parse, exactly as upstream's ValidateClusterRole with AllowInvalidLabelValueInSelector.
	badValue := func(r *rbacv1.ClusterRole) {
		aggregated(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"not valid"}}}})(r)
	}
	const unparsable = `aggregationRule.clusterRoleSelectors[0]: Invalid value: {"matchExpressions":[{"key":"tier","operator":"In","values":["not valid"]}]}: invalid label selector.`
	runUpdate(t, []updateCase{
		{name: "rules may change", old: clusterRole(nil), obj: clusterRole(func(r *rbacv1.ClusterRole) { r.Rules = r.Rules[:1] })},
		{name: "aggregation may be added", old: clusterRole(nil), obj: clusterRole(aggregated(selector(map[string]string{"a": "b"})))},
		{name: "a stored invalid expression value is not reported again", old: clusterRole(badValue), obj: clusterRole(badValue),
			want: []string{unparsable}},
		{name: "a new invalid expression value is refused", old: clusterRole(nil), obj: clusterRole(badValue), want: []string{
			`aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values[0]: Invalid value: "not valid": ` + rbacLabelValueMsg,
			unparsable,
		}},
	})
}

func TestRoleBinding(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: roleBinding(nil)},
		{name: "to a cluster role, no subjects", obj: roleBinding(func(b *rbacv1.RoleBinding) {
			b.RoleRef.Kind, b.RoleRef.Name, b.Subjects = "ClusterRole", "system:aggregate-to-view", nil
		})},
		{name: "service account in another namespace", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[2].Namespace = "ci" })},
		{name: "no namespace", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Namespace = "" }),
			want: []string{"metadata.namespace: Required value"}},
		{name: "roleRef of another group", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.APIGroup = "" }),
			want: []string{`roleRef.apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"`}},
		{name: "roleRef of another kind", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "Group" }),
			want: []string{`roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole"`}},
		{name: "roleRef without name", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "" }),
			want: []string{"roleRef.name: Required value"}},
		{name: "roleRef name with a slash", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "a/b" }),
			want: []string{`roleRef.name: Invalid value: "a/b": may not contain '/'`}},
		{name: "user without apiGroup", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[0].APIGroup = "" }),
			want: []string{`subjects[0].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"`}},
		{name: "user without name", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[0].Name = "" }),
			want: []string{"subjects[0].name: Required value"}},
		{name: "group of another apiGroup", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[1].APIGroup = "example.com" }),
			want: []string{`subjects[1].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"`}},
		{name: "service account with an apiGroup", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[2].APIGroup = rbacv1.GroupName }),
			want: []string{`subjects[2].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""`}},
		{name: "service account name not a DNS subdomain", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[2].Name = "Builder" }),
			want: []string{`subjects[2].name: Invalid value: "Builder": ` + subdomainMsg}},
		{name: "service account without name", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[2].Name = "" }),
			want: []string{"subjects[2].name: Required value"}},
		{name: "unknown subject kind", obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[0].Kind = "Robot" }),
			want: []string{`subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`}},
	})
	runUpdate(t, []updateCase{
		{name: "subjects may change", old: roleBinding(nil), obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects = b.Subjects[:1] })},
		{name: "roleRef name is immutable", old: roleBinding(nil), obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "admin" }),
			want: []string{`roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"admin"}: cannot change roleRef`}},
		{name: "roleRef kind is immutable", old: roleBinding(nil), obj: roleBinding(func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "ClusterRole" }),
			want: []string{`roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pod-reader"}: cannot change roleRef`}},
		{name: "subjects are validated on update", old: roleBinding(nil), obj: roleBinding(func(b *rbacv1.RoleBinding) { b.Subjects[1].Kind = "" }),
			want: []string{`subjects[1].kind: Unsupported value: "": supported values: "ServiceAccount", "User", "Group"`}},
	})
}

func TestClusterRoleBinding(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: clusterRoleBinding(nil)},
		{name: "name with colons", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.Name = "system:node-proxier" })},
		{name: "namespace given", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "roleRef to a Role", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.Kind = "Role" }),
			want: []string{`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`}},
		{name: "roleRef apiGroup and name missing", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.APIGroup, b.RoleRef.Name = "", "" }),
			want: []string{
				`roleRef.apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"`,
				"roleRef.name: Required value",
			}},
		{name: "service account without namespace", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.Subjects[1].Namespace = "" }),
			want: []string{"subjects[1].namespace: Required value"}},
		{name: "unknown kind without name", obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects = []rbacv1.Subject{{Kind: "Robot"}}
		}), want: []string{
			"subjects[0].name: Required value",
			`subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "subjects may change", old: clusterRoleBinding(nil), obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects = append(b.Subjects, user("jane"))
		})},
		{name: "roleRef is immutable", old: clusterRoleBinding(nil), obj: clusterRoleBinding(func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.Name = "edit" }),
			want: []string{`roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: cannot change roleRef`}},
	})
}

// rbacLabelValueMsg is apimachinery's message for an invalid label value.
const rbacLabelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
