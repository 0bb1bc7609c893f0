package rbac

import (
	"reflect"
	"testing"

	"github.com/skiff-sh/skiff/internal/auth"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func res(verb, group, resource, sub, ns, name string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
		Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}}
}

func nonRes(verb, path string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: verb, Path: path}}
}

func TestRuleAllows(t *testing.T) {
	pods := rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	for _, tc := range []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs authorizationv1.SubjectAccessReviewSpec
		want  bool
	}{
		{"verb and resource", pods, res("list", "", "pods", "", "ns", ""), true},
		{"other verb", pods, res("delete", "", "pods", "", "ns", "p"), false},
		{"other group", pods, res("get", "apps", "pods", "", "ns", "p"), false},
		{"subresource needs its own entry", pods, res("get", "", "pods", "log", "ns", "p"), false},
		{"resource/subresource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}},
			res("get", "", "pods", "log", "ns", "p"), true},
		{"resource/subresource is not the resource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}},
			res("get", "", "pods", "", "ns", "p"), false},
		{"*/scale", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{"*"}, Resources: []string{"*/scale"}},
			res("update", "apps", "deployments", "scale", "ns", "d"), true},
		{"*/scale not status", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{"*"}, Resources: []string{"*/scale"}},
			res("update", "apps", "deployments", "status", "ns", "d"), false},
		{"* resources include subresources", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			res("create", "", "pods", "exec", "ns", "p"), true},
		{"resourceNames match", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}},
			res("get", "", "configmaps", "", "ns", "a"), true},
		{"resourceNames other", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}},
			res("get", "", "configmaps", "", "ns", "b"), false},
		{"resourceNames never match a list", rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}},
			res("list", "", "configmaps", "", "ns", ""), false},
		{"resource rule is not a URL rule", pods, nonRes("get", "/api"), false},
		{"URL exact", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}, nonRes("get", "/healthz"), true},
		{"URL exact not prefix", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}, nonRes("get", "/healthz/etcd"), false},
		{"URL trailing *", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/apis/*"}}, nonRes("get", "/apis/apps/v1"), true},
		{"URL *", rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}, nonRes("post", "/anything"), true},
		{"URL verb", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"*"}}, nonRes("post", "/x"), false},
		{"URL rule is not a resource rule", rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}, res("get", "", "pods", "", "", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RuleAllows(tc.attrs, &tc.rule); got != tc.want {
				t.Fatalf("RuleAllows = %v, want %v", got, tc.want)
			}
		})
	}
}

// staticStore is a Store over fixed objects.
type staticStore struct {
	roles        []*rbacv1.Role
	bindings     []*rbacv1.RoleBinding
	clusterRoles []*rbacv1.ClusterRole
	crbs         []*rbacv1.ClusterRoleBinding
}

func (s *staticStore) GetRole(ns, name string) (*rbacv1.Role, error) {
	for _, r := range s.roles {
		if r.Namespace == ns && r.Name == name {
			return r, nil
		}
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("role"), name)
}

func (s *staticStore) ListRoleBindings(ns string) ([]*rbacv1.RoleBinding, error) {
	var out []*rbacv1.RoleBinding
	for _, b := range s.bindings {
		if b.Namespace == ns {
			out = append(out, b)
		}
	}
	return out, nil
}

func (s *staticStore) GetClusterRole(name string) (*rbacv1.ClusterRole, error) {
	for _, r := range s.clusterRoles {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), name)
}

func (s *staticStore) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return s.crbs, nil
}

func testStore() *staticStore {
	read := func(resources ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: resources}
	}
	subj := func(kind, name, ns string) rbacv1.Subject {
		s := rbacv1.Subject{Kind: kind, Name: name, Namespace: ns}
		if kind != rbacv1.ServiceAccountKind {
			s.APIGroup = rbacv1.GroupName
		}
		return s
	}
	return &staticStore{
		roles: []*rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "pod-reader"}, Rules: []rbacv1.PolicyRule{read("pods")}}},
		bindings: []*rbacv1.RoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "readers"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
				Subjects: []rbacv1.Subject{subj(rbacv1.UserKind, "alice", ""), subj(rbacv1.ServiceAccountKind, "builder", "")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cm"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cm-reader"},
				Subjects: []rbacv1.Subject{subj(rbacv1.GroupKind, "devs", ""), subj(rbacv1.ServiceAccountKind, "robot", "ci")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "dangling"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "gone"},
				Subjects: []rbacv1.Subject{subj(rbacv1.UserKind, "dan", "")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "all-sas"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "secret-reader"},
				Subjects: []rbacv1.Subject{subj(rbacv1.GroupKind, "system:serviceaccounts:team", "")}},
		},
		clusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "cm-reader"}, Rules: []rbacv1.PolicyRule{read("configmaps")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"}, Rules: []rbacv1.PolicyRule{read("secrets")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "node-reader"}, Rules: []rbacv1.PolicyRule{read("nodes"),
				{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}}},
		},
		crbs: []*rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "nodes"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "node-reader"},
				Subjects: []rbacv1.Subject{subj(rbacv1.GroupKind, "system:authenticated", "")}},
		},
	}
}

func TestAuthorize(t *testing.T) {
	a := New(testStore())
	user := func(name string, groups ...string) *auth.User { return &auth.User{Name: name, Groups: groups} }
	sa := func(ns, name string) *auth.User {
		return user("system:serviceaccount:"+ns+":"+name, "system:serviceaccounts", "system:serviceaccounts:"+ns, "system:authenticated")
	}
	for _, tc := range []struct {
		name   string
		user   *auth.User
		attrs  authorizationv1.SubjectAccessReviewSpec
		want   bool
		reason string
	}{
		{"user via RoleBinding to Role", user("alice"), res("list", "", "pods", "", "team", ""), true,
			`RBAC: allowed by RoleBinding "readers/team" of Role "pod-reader" to User "alice"`},
		{"RoleBinding only in its namespace", user("alice"), res("list", "", "pods", "", "other", ""), false, ""},
		{"RoleBinding never cluster-wide", user("alice"), res("list", "", "pods", "", "", ""), false, ""},
		{"group via RoleBinding to ClusterRole", user("bob", "devs"), res("get", "", "configmaps", "", "team", "x"), true,
			`RBAC: allowed by RoleBinding "cm/team" of ClusterRole "cm-reader" to Group "devs"`},
		{"not in the group", user("bob", "ops"), res("get", "", "configmaps", "", "team", "x"), false, ""},
		{"service account defaults to the binding's namespace", sa("team", "builder"), res("watch", "", "pods", "", "team", ""), true,
			`RBAC: allowed by RoleBinding "readers/team" of Role "pod-reader" to ServiceAccount "builder/team"`},
		{"service account of another namespace", sa("other", "builder"), res("watch", "", "pods", "", "team", ""), false, ""},
		{"service account subject with a namespace", sa("ci", "robot"), res("list", "", "configmaps", "", "team", ""), true,
			`RBAC: allowed by RoleBinding "cm/team" of ClusterRole "cm-reader" to ServiceAccount "robot/ci"`},
		{"system:serviceaccounts:<ns> group", sa("team", "anyone"), res("get", "", "secrets", "", "team", "s"), true,
			`RBAC: allowed by RoleBinding "all-sas/team" of ClusterRole "secret-reader" to Group "system:serviceaccounts:team"`},
		{"system:authenticated via ClusterRoleBinding", user("carol", "system:authenticated"), res("list", "", "nodes", "", "", ""), true,
			`RBAC: allowed by ClusterRoleBinding "nodes" of ClusterRole "node-reader" to Group "system:authenticated"`},
		{"ClusterRoleBinding applies in every namespace", user("carol", "system:authenticated"), res("get", "", "nodes", "", "team", "n"), true,
			`RBAC: allowed by ClusterRoleBinding "nodes" of ClusterRole "node-reader" to Group "system:authenticated"`},
		{"non-resource URL", user("carol", "system:authenticated"), nonRes("get", "/metrics"), true,
			`RBAC: allowed by ClusterRoleBinding "nodes" of ClusterRole "node-reader" to Group "system:authenticated"`},
		{"non-resource URL denied", user("carol", "system:authenticated"), nonRes("get", "/logs"), false, ""},
		{"unresolvable role is the reason", user("dan"), res("get", "", "pods", "", "team", "p"), false,
			`RBAC: role.rbac.authorization.k8s.io "gone" not found`},
		{"system:masters always", user("root", "system:masters"), res("delete", "", "nodes", "", "", "n"), true, ""},
		{"no user", nil, nonRes("get", "/metrics"), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := a.Authorize(tc.user, tc.attrs)
			if got != tc.want || reason != tc.reason {
				t.Fatalf("Authorize = %v %q, want %v %q", got, reason, tc.want, tc.reason)
			}
		})
	}
}

func TestRulesFor(t *testing.T) {
	a := New(testStore())
	res, nonRes, incomplete := a.RulesFor(&auth.User{Name: "alice", Groups: []string{"system:authenticated"}}, "team")
	wantRes := []authorizationv1.ResourceRule{
		{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"nodes"}},
		{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}},
	}
	wantNonRes := []authorizationv1.NonResourceRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}}
	if !reflect.DeepEqual(res, wantRes) || !reflect.DeepEqual(nonRes, wantNonRes) || incomplete {
		t.Fatalf("RulesFor = %v %v %v", res, nonRes, incomplete)
	}
}

func TestCoversAndEscalation(t *testing.T) {
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	for _, tc := range []struct {
		name           string
		owner, servant []rbacv1.PolicyRule
		want           bool
		missing        []rbacv1.PolicyRule
	}{
		{"exact", []rbacv1.PolicyRule{rule([]string{"get", "list"}, []string{""}, []string{"pods"}, nil)},
			[]rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"pods"}, nil)}, true, nil},
		{"star covers all", []rbacv1.PolicyRule{rule([]string{"*"}, []string{"*"}, []string{"*"}, nil)},
			[]rbacv1.PolicyRule{rule([]string{"delete"}, []string{"apps"}, []string{"deployments/scale"}, []string{"d"})}, true, nil},
		{"*/subresource covers r/subresource", []rbacv1.PolicyRule{rule([]string{"get"}, []string{"apps"}, []string{"*/scale"}, nil)},
			[]rbacv1.PolicyRule{rule([]string{"get"}, []string{"apps"}, []string{"deployments/scale"}, nil)}, true, nil},
		{"names do not cover all", []rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"secrets"}, []string{"a"})},
			[]rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"secrets"}, nil)}, false,
			[]rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"secrets"}, nil)}},
		{"broken down per verb and resource", []rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"pods"}, nil)},
			[]rbacv1.PolicyRule{rule([]string{"get", "delete"}, []string{""}, []string{"pods", "secrets"}, nil)}, false,
			[]rbacv1.PolicyRule{rule([]string{"delete"}, []string{""}, []string{"pods"}, nil), rule([]string{"get"}, []string{""}, []string{"secrets"}, nil),
				rule([]string{"delete"}, []string{""}, []string{"secrets"}, nil)}},
		{"URL prefix", []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/apis/*"}}},
			[]rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/apis/apps"}}}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, missing := Covers(tc.owner, tc.servant)
			if got != tc.want || !reflect.DeepEqual(missing, tc.missing) {
				t.Fatalf("Covers = %v %v, want %v %v", got, missing, tc.want, tc.missing)
			}
		})
	}

	a := New(testStore())
	alice := &auth.User{Name: "alice", Groups: []string{"system:authenticated"}}
	if err := a.ConfirmNoEscalation(alice, "team", []rbacv1.PolicyRule{rule([]string{"list"}, []string{""}, []string{"pods", "nodes"}, nil)}); err != nil {
		t.Fatalf("held permissions: %v", err)
	}
	err := a.ConfirmNoEscalation(alice, "team", []rbacv1.PolicyRule{rule([]string{"get", "delete"}, []string{""}, []string{"pods", "secrets"}, nil)})
	want := `user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}`
	if err == nil || err.Error() != want {
		t.Fatalf("escalation error %v\nwant %s", err, want)
	}
	// Rules held only in a namespace do not count cluster-wide.
	if err := a.ConfirmNoEscalation(alice, "", []rbacv1.PolicyRule{rule([]string{"get"}, []string{""}, []string{"pods"}, nil)}); err == nil {
		t.Fatal("namespaced permissions covered a cluster-wide grant")
	}
}

func TestForbiddenMessage(t *testing.T) {
	for _, tc := range []struct {
		attrs authorizationv1.SubjectAccessReviewSpec
		want  string
	}{
		{res("list", "", "pods", "", "default", ""), `User "u" cannot list resource "pods" in API group "" in the namespace "default"`},
		{res("get", "", "pods", "log", "default", "p"), `User "u" cannot get resource "pods/log" in API group "" in the namespace "default"`},
		{res("create", "rbac.authorization.k8s.io", "clusterroles", "", "", ""), `User "u" cannot create resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope`},
		{nonRes("get", "/foo"), `User "u" cannot get path "/foo"`},
	} {
		if got := ForbiddenMessage("u", tc.attrs); got != tc.want {
			t.Errorf("ForbiddenMessage = %q, want %q", got, tc.want)
		}
	}
}

func TestBootstrapPolicyAndReconcile(t *testing.T) {
	roles := map[string]rbacv1.ClusterRole{}
	for _, r := range ClusterRoles() {
		if r.Labels[BootstrappingLabel] != BootstrappingValue || r.Annotations[rbacv1.AutoUpdateAnnotationKey] != "true" {
			t.Errorf("%s: metadata %v %v", r.Name, r.Labels, r.Annotations)
		}
		roles[r.Name] = r
	}
	for _, b := range ClusterRoleBindings() {
		if _, ok := roles[b.RoleRef.Name]; !ok {
			t.Errorf("binding %s refers to %s, not a bootstrap role", b.Name, b.RoleRef.Name)
		}
	}
	// system:masters is cluster-admin; the authenticated get discovery and self reviews.
	a := New(&staticStore{clusterRoles: func() []*rbacv1.ClusterRole {
		var out []*rbacv1.ClusterRole
		for _, r := range ClusterRoles() {
			out = append(out, &r)
		}
		return out
	}(), crbs: func() []*rbacv1.ClusterRoleBinding {
		var out []*rbacv1.ClusterRoleBinding
		for _, b := range ClusterRoleBindings() {
			out = append(out, &b)
		}
		return out
	}()})
	anyone := &auth.User{Name: "x", Groups: []string{"system:authenticated"}}
	anon := &auth.User{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}
	for _, tc := range []struct {
		u     *auth.User
		attrs authorizationv1.SubjectAccessReviewSpec
		want  bool
	}{
		{anyone, nonRes("get", "/apis/apps/v1"), true},
		{anyone, res("create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""), true},
		{anyone, res("list", "", "pods", "", "default", ""), false},
		{anon, nonRes("get", "/healthz"), true},
		{anon, nonRes("get", "/api"), false},
	} {
		if got, _ := a.Authorize(tc.u, tc.attrs); got != tc.want {
			t.Errorf("%s %+v: %v, want %v", tc.u.Name, tc.attrs, got, tc.want)
		}
	}

	view := roles["system:aggregate-to-view"]
	// A missing role is created as expected.
	if out, changed := ReconcileClusterRole(nil, &view); !changed || !reflect.DeepEqual(out, &view) {
		t.Fatalf("create: %v %v", changed, out)
	}
	// Existing rules, labels and annotations are kept; missing rules are added (broken down); user labels survive.
	existing := view.DeepCopy()
	existing.Rules = existing.Rules[1:]
	existing.Labels = map[string]string{"mine": "yes", BootstrappingLabel: "custom"}
	out, changed := ReconcileClusterRole(existing, &view)
	if !changed || out.Labels["mine"] != "yes" || out.Labels[BootstrappingLabel] != "custom" || out.Labels[AggregateToView] != "true" {
		t.Fatalf("reconciled labels: %v %v", changed, out.Labels)
	}
	if ok, _ := Covers(out.Rules, view.Rules); !ok || len(out.Rules) <= len(existing.Rules) {
		t.Fatalf("reconciled rules do not cover the default: %v", out.Rules)
	}
	if _, changed := ReconcileClusterRole(out, &view); changed {
		t.Fatal("reconciling twice changed the role again")
	}
	// autoupdate "false" opts out.
	existing.Annotations = map[string]string{rbacv1.AutoUpdateAnnotationKey: "false"}
	if _, changed := ReconcileClusterRole(existing, &view); changed {
		t.Fatal("a protected role was reconciled")
	}
	// Aggregated roles keep their aggregated rules and gain missing selectors.
	admin := roles["admin"]
	agg := admin.DeepCopy()
	agg.Rules = []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}
	agg.AggregationRule.ClusterRoleSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"custom": "true"}}}
	out, changed = ReconcileClusterRole(agg, &admin)
	if !changed || !reflect.DeepEqual(out.Rules, agg.Rules) || len(out.AggregationRule.ClusterRoleSelectors) != 2 {
		t.Fatalf("aggregated reconcile: %v %+v", changed, out)
	}

	// Bindings gain missing subjects; a different roleRef means recreate.
	var pub rbacv1.ClusterRoleBinding
	for _, b := range ClusterRoleBindings() {
		if b.Name == "system:public-info-viewer" {
			pub = b
		}
	}
	eb := pub.DeepCopy()
	eb.Subjects = append(eb.Subjects[:1:1], rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "extra"})
	ob, changed, recreate := ReconcileClusterRoleBinding(eb, &pub)
	if !changed || recreate || len(ob.Subjects) != 3 || ob.Subjects[1].Name != "extra" {
		t.Fatalf("binding reconcile: %v %v %v", changed, recreate, ob.Subjects)
	}
	if _, changed, _ := ReconcileClusterRoleBinding(ob, &pub); changed {
		t.Fatal("reconciling a binding twice changed it again")
	}
	eb.RoleRef.Name = "other"
	if _, changed, recreate := ReconcileClusterRoleBinding(eb, &pub); !changed || !recreate {
		t.Fatal("a binding with another roleRef is not recreated")
	}
}

// BenchmarkAuthorize measures one decision for a user who is not in system:masters, with the bootstrap policy
// plus 200 ClusterRoleBindings and 200 RoleBindings in the namespace that do not apply and one that does (last).
func BenchmarkAuthorize(b *testing.B) {
	st := &staticStore{}
	for _, r := range ClusterRoles() {
		st.clusterRoles = append(st.clusterRoles, &r)
	}
	for _, cb := range ClusterRoleBindings() {
		st.crbs = append(st.crbs, &cb)
	}
	other := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "someone-else"}}
	for i := 0; i < 200; i++ {
		st.crbs = append(st.crbs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"}, Subjects: other,
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}})
		st.bindings = append(st.bindings, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rb"}, Subjects: other,
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}})
	}
	st.bindings = append(st.bindings, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "mine"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "u"}}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "system:aggregate-to-edit"}})
	a := New(st)
	u := &auth.User{Name: "u", Groups: []string{"system:authenticated"}}
	attrs := res("create", "apps", "deployments", "", "ns", "")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := a.Authorize(u, attrs); !ok {
			b.Fatal("denied")
		}
	}
}
