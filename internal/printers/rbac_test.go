package printers

import (
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestRBACColumns(t *testing.T) {
	// kubectl get in Kubernetes 1.32: roles and cluster roles use the default
	// table convertor (NAME CREATED AT), bindings their own printer.
	for _, c := range []struct {
		item, list runtime.Object
		want       string
	}{
		{&rbacv1.Role{}, &rbacv1.RoleList{}, "NAME CREATED AT"},
		{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}, "NAME CREATED AT"},
		{&rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}, "NAME ROLE AGE USERS(wide) GROUPS(wide) SERVICEACCOUNTS(wide)"},
		{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}, "NAME ROLE AGE USERS(wide) GROUPS(wide) SERVICEACCOUNTS(wide)"},
	} {
		for _, obj := range []runtime.Object{c.item, c.list} {
			cols := ColumnDefinitions(obj)
			if got := strings.Join(colSpec(cols), " "); got != c.want {
				t.Errorf("%T columns\n got: %s\nwant: %s", obj, got, c.want)
			}
			if cols[0].Format != "name" {
				t.Errorf("%T: first column format %q, want name", obj, cols[0].Format)
			}
			for _, col := range cols {
				if col.Description == "" {
					t.Errorf("%T: column %q has no description", obj, col.Name)
				}
			}
		}
	}
	if got := ColumnDefinitions(&rbacv1.Role{})[1].Type; got != "date" {
		t.Errorf("Created At type = %q, want date (as the default table convertor)", got)
	}
	if got := ColumnDefinitions(&rbacv1.ClusterRoleBinding{})[3].Description; got != "Users in the clusterRoleBinding" {
		t.Errorf("Users description = %q", got)
	}
}

func TestRBACCells(t *testing.T) {
	created := metav1.NewTime(time.Date(2025, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600)))
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "jane"},
		{Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "default"},
		{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"},
		{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"},
		{Kind: rbacv1.ServiceAccountKind, Name: "ci", Namespace: "tools"},
		{Kind: "Robot", Name: "r2"},
	}
	runCellsCases(t, []cellsCase{
		{
			name: "role: name and creation time in UTC",
			obj:  &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "default", CreationTimestamp: created}},
			want: []interface{}{"pod-reader", "2025-03-01T11:30:00Z"},
		},
		{
			name: "cluster role",
			obj:  &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view", CreationTimestamp: created}},
			want: []interface{}{"view", "2025-03-01T11:30:00Z"},
		},
		{
			name: "role binding with every subject kind",
			obj: &rbacv1.RoleBinding{ObjectMeta: objMeta("read-pods"),
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"}, Subjects: subjects},
			want: []interface{}{"read-pods", "Role/pod-reader", "5m", "jane, bob", "devs", "default/builder, tools/ci"},
		},
		{
			name: "role binding to a cluster role without subjects",
			obj: &rbacv1.RoleBinding{ObjectMeta: objMeta("view"),
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}},
			want: []interface{}{"view", "ClusterRole/view", "5m", "", "", ""},
		},
		{
			name: "cluster role binding, service account without namespace",
			obj: &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admins", CreationTimestamp: ago(5 * time.Minute)},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:masters"}, {Kind: rbacv1.ServiceAccountKind, Name: "x"}}},
			want: []interface{}{"admins", "ClusterRole/cluster-admin", "5m", "", "system:masters", "/x"},
		},
	})
}
