package clusterroleaggregation

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

func rule(verb, resource string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{""}, Resources: []string{resource}}
}

func role(name string, labels map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
}

func aggregated(name string, rules []rbacv1.PolicyRule, selectors ...map[string]string) *rbacv1.ClusterRole {
	r := role(name, nil, rules...)
	r.AggregationRule = &rbacv1.AggregationRule{}
	for _, s := range selectors {
		r.AggregationRule.ClusterRoleSelectors = append(r.AggregationRule.ClusterRoleSelectors, metav1.LabelSelector{MatchLabels: s})
	}
	return r
}

func TestSync(t *testing.T) {
	toView := map[string]string{"aggregate-to-view": "true"}
	toEdit := map[string]string{"aggregate-to-edit": "true"}
	for _, tc := range []struct {
		name      string
		objs      []runtime.Object
		sync      string
		wantRules []rbacv1.PolicyRule // nil: no write
	}{
		{name: "union in name order, each rule once",
			objs: []runtime.Object{
				aggregated("view", nil, toView),
				role("b", toView, rule("get", "pods"), rule("list", "pods")),
				role("a", toView, rule("get", "secrets"), rule("get", "pods")),
				role("c", map[string]string{"other": "true"}, rule("delete", "pods")),
			},
			sync:      "view",
			wantRules: []rbacv1.PolicyRule{rule("get", "secrets"), rule("get", "pods"), rule("list", "pods")}},
		{name: "selectors in order; the role itself is skipped",
			objs: []runtime.Object{
				aggregated("edit", nil, toEdit, toView),
				role("edit-extra", toEdit, rule("create", "pods")),
				role("view-extra", toView, rule("get", "pods")),
				func() *rbacv1.ClusterRole { r := aggregated("self", nil, toView); r.Labels = toView; return r }(),
			},
			sync:      "edit",
			wantRules: []rbacv1.PolicyRule{rule("create", "pods"), rule("get", "pods")}},
		{name: "stale rules are replaced",
			objs:      []runtime.Object{aggregated("view", []rbacv1.PolicyRule{rule("delete", "nodes")}, toView), role("a", toView, rule("get", "pods"))},
			sync:      "view",
			wantRules: []rbacv1.PolicyRule{rule("get", "pods")}},
		{name: "nothing selected empties the rules",
			objs:      []runtime.Object{aggregated("view", []rbacv1.PolicyRule{rule("delete", "nodes")}, toView)},
			sync:      "view",
			wantRules: []rbacv1.PolicyRule{}},
		{name: "up to date: no write",
			objs: []runtime.Object{aggregated("view", []rbacv1.PolicyRule{rule("get", "pods")}, toView), role("a", toView, rule("get", "pods"))},
			sync: "view"},
		{name: "not aggregated: no write",
			objs: []runtime.Object{role("plain", nil, rule("get", "pods")), role("a", toView, rule("get", "pods"))},
			sync: "plain"},
		{name: "gone: no write", sync: "ghost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := controllertest.NewEnv(t, 0, tc.objs...)
			cc := env.Context(nil)
			cc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			c, err := newController(cc)
			if err != nil {
				t.Fatal(err)
			}
			env.Cache(tc.objs...)
			before := make([]runtime.Object, len(tc.objs))
			for i, o := range tc.objs {
				before[i] = o.DeepCopyObject()
			}
			env.Client.ClearActions()
			if _, err := c.sync(context.Background(), tc.sync); err != nil {
				t.Fatal(err)
			}
			writes := controllertest.Writes(env.Client.Actions())
			if tc.wantRules == nil {
				if len(writes) != 0 {
					t.Fatalf("writes %v, want none", writes)
				}
				return
			}
			if !reflect.DeepEqual(writes, []string{"update clusterroles"}) {
				t.Fatalf("writes %v", writes)
			}
			got := env.Client.Actions()[0].(k8stesting.UpdateAction).GetObject().(*rbacv1.ClusterRole)
			if !reflect.DeepEqual(got.Rules, tc.wantRules) {
				t.Fatalf("rules %v\nwant %v", got.Rules, tc.wantRules)
			}
			// The cached objects are never mutated.
			if !reflect.DeepEqual(before, tc.objs) {
				t.Fatal("sync mutated the cached objects")
			}
		})
	}
}
