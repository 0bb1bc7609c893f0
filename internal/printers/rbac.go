package printers

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Roles and cluster roles have no printer upstream: kube-apiserver serves
// them with its default table convertor (rest.NewDefaultTableConvertor),
// whose columns are Name and "Created At", an RFC 3339 date in UTC. The
// bindings have printRoleBinding/printClusterRoleBinding of
// pkg/printers/internalversion.

// createdAtColumn is the default table convertor's second column.
var createdAtColumn = metav1.TableColumnDefinition{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}

func init() {
	register[*rbacv1.Role, *rbacv1.RoleList]([]metav1.TableColumnDefinition{nameColumn, createdAtColumn},
		func(obj *rbacv1.Role, _ time.Time) []interface{} { return createdAtCells(obj.ObjectMeta) })
	register[*rbacv1.ClusterRole, *rbacv1.ClusterRoleList]([]metav1.TableColumnDefinition{nameColumn, createdAtColumn},
		func(obj *rbacv1.ClusterRole, _ time.Time) []interface{} { return createdAtCells(obj.ObjectMeta) })
	register[*rbacv1.RoleBinding, *rbacv1.RoleBindingList](bindingColumns("roleBinding", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]),
		func(obj *rbacv1.RoleBinding, now time.Time) []interface{} {
			return bindingCells(obj.ObjectMeta, obj.RoleRef, obj.Subjects, now)
		})
	register[*rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList](bindingColumns("clusterRoleBinding", rbacv1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"]),
		func(obj *rbacv1.ClusterRoleBinding, now time.Time) []interface{} {
			return bindingCells(obj.ObjectMeta, obj.RoleRef, obj.Subjects, now)
		})
}

// createdAtCells is the default table convertor's row: the name and the creation time in UTC.
func createdAtCells(m metav1.ObjectMeta) []interface{} {
	return []interface{}{m.Name, m.CreationTimestamp.UTC().Format(time.RFC3339)}
}

// bindingColumns are NAME ROLE AGE, with USERS GROUPS SERVICEACCOUNTS for -o wide.
func bindingColumns(kind, roleRefDoc string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Role", Type: "string", Description: roleRefDoc},
		ageColumn,
		{Name: "Users", Type: "string", Priority: 1, Description: "Users in the " + kind},
		{Name: "Groups", Type: "string", Priority: 1, Description: "Groups in the " + kind},
		{Name: "ServiceAccounts", Type: "string", Priority: 1, Description: "ServiceAccounts in the " + kind},
	}
}

// bindingCells prints roleRef as Kind/name and the subjects by kind, joined by ", ".
func bindingCells(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	users, groups, sas := subjectsStrings(subjects)
	return []interface{}{
		m.Name, ref.Kind + "/" + ref.Name, translateTimestampSince(m.CreationTimestamp, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "),
	}
}

// subjectsStrings is rbac.SubjectsStrings: service accounts print as namespace/name; other kinds are left out.
func subjectsStrings(subjects []rbacv1.Subject) (users, groups, sas []string) {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return users, groups, sas
}
