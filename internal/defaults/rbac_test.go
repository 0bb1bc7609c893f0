package defaults

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestRBACDefaults checks pkg/apis/rbac/v1/defaults.go: roleRef.apiGroup and
// the apiGroup of User and Group subjects default to rbac.authorization.k8s.io;
// ServiceAccount subjects and explicit values are left alone.
func TestRBACDefaults(t *testing.T) {
	subjects := func() []rbacv1.Subject {
		return []rbacv1.Subject{
			{Kind: rbacv1.UserKind, Name: "jane"},
			{Kind: rbacv1.GroupKind, Name: "devs"},
			{Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "ci"},
			{Kind: rbacv1.UserKind, APIGroup: "example.com", Name: "kept"},
			{Kind: "Robot", Name: "r2"},
		}
	}
	want := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "jane"},
		{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"},
		{Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "ci"},
		{Kind: rbacv1.UserKind, APIGroup: "example.com", Name: "kept"},
		{Kind: "Robot", Name: "r2"},
	}
	for _, tc := range []struct {
		name    string
		obj     runtime.Object
		ref     func(runtime.Object) rbacv1.RoleRef
		subs    func(runtime.Object) []rbacv1.Subject
		wantRef string
	}{
		{
			name:    "role binding",
			obj:     &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}, Subjects: subjects()},
			ref:     func(o runtime.Object) rbacv1.RoleRef { return o.(*rbacv1.RoleBinding).RoleRef },
			subs:    func(o runtime.Object) []rbacv1.Subject { return o.(*rbacv1.RoleBinding).Subjects },
			wantRef: rbacv1.GroupName,
		},
		{
			name:    "cluster role binding",
			obj:     &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}, Subjects: subjects()},
			ref:     func(o runtime.Object) rbacv1.RoleRef { return o.(*rbacv1.ClusterRoleBinding).RoleRef },
			subs:    func(o runtime.Object) []rbacv1.Subject { return o.(*rbacv1.ClusterRoleBinding).Subjects },
			wantRef: rbacv1.GroupName,
		},
		{
			name:    "explicit roleRef apiGroup is kept (validation refuses it)",
			obj:     &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{APIGroup: "example.com", Kind: "Role", Name: "r"}, Subjects: subjects()},
			ref:     func(o runtime.Object) rbacv1.RoleRef { return o.(*rbacv1.RoleBinding).RoleRef },
			subs:    func(o runtime.Object) []rbacv1.Subject { return o.(*rbacv1.RoleBinding).Subjects },
			wantRef: "example.com",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Apply(tc.obj)
			eq(t, "roleRef.apiGroup", tc.ref(tc.obj).APIGroup, tc.wantRef)
			eq(t, "subjects", tc.subs(tc.obj), want)
			Apply(tc.obj)
			eq(t, "subjects after a second Apply", tc.subs(tc.obj), want)
		})
	}
	t.Run("lists are defaulted item by item", func(t *testing.T) {
		list := &rbacv1.ClusterRoleBindingList{Items: []rbacv1.ClusterRoleBinding{{Subjects: subjects()}}}
		Apply(list)
		eq(t, "items[0].roleRef.apiGroup", list.Items[0].RoleRef.APIGroup, rbacv1.GroupName)
		eq(t, "items[0].subjects", list.Items[0].Subjects, want)
	})
	t.Run("roles are left unchanged", func(t *testing.T) {
		r := &rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}}
		Apply(r)
		eq(t, "rules[0].apiGroups", r.Rules[0].APIGroups, []string(nil))
	})
}
