package webhook

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	podGVR    = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	podGVK    = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	deployGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	nsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	nsGVK     = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	nodeGVR   = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

func rule(ops []admissionregistrationv1.OperationType, groups, versions, resources []string, scope admissionregistrationv1.ScopeType) admissionregistrationv1.RuleWithOperations {
	r := admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
		APIGroups: groups, APIVersions: versions, Resources: resources}}
	if scope != "" {
		r.Scope = &scope
	}
	return r
}

func ops(o ...admissionregistrationv1.OperationType) []admissionregistrationv1.OperationType {
	return o
}
func ss(s ...string) []string { return s }

func TestRuleMatching(t *testing.T) {
	podCreate := &Attributes{Operation: admissionv1.Create, Resource: podGVR, Kind: podGVK, Namespace: "default", Name: "p"}
	podStatus := &Attributes{Operation: admissionv1.Update, Resource: podGVR, Kind: podGVK, SubResource: "status", Namespace: "default", Name: "p"}
	podExec := &Attributes{Operation: admissionv1.Connect, Resource: podGVR, SubResource: "exec", Namespace: "default", Name: "p"}
	nodeUpdate := &Attributes{Operation: admissionv1.Update, Resource: nodeGVR, Name: "n1"}
	nsCreate := &Attributes{Operation: admissionv1.Create, Resource: nsGVR, Kind: nsGVK, Name: "team", Namespace: "team"}
	deployDelete := &Attributes{Operation: admissionv1.Delete, Resource: deployGVR, Kind: deployGVK, Namespace: "default", Name: "d"}
	tests := []struct {
		name string
		rule admissionregistrationv1.RuleWithOperations
		attr *Attributes
		want bool
	}{
		{"exact pods create", rule(ops("CREATE"), ss(""), ss("v1"), ss("pods"), ""), podCreate, true},
		{"wrong operation", rule(ops("UPDATE", "DELETE"), ss(""), ss("v1"), ss("pods"), ""), podCreate, false},
		{"operation *", rule(ops("*"), ss(""), ss("v1"), ss("pods"), ""), podCreate, true},
		{"wrong group", rule(ops("*"), ss("apps"), ss("v1"), ss("pods"), ""), podCreate, false},
		{"group *", rule(ops("*"), ss("*"), ss("*"), ss("pods"), ""), podCreate, true},
		{"resource * excludes subresources", rule(ops("*"), ss("*"), ss("*"), ss("*"), ""), podStatus, false},
		{"resource * matches main resource", rule(ops("*"), ss("*"), ss("*"), ss("*"), ""), podCreate, true},
		{"*/* matches subresources", rule(ops("*"), ss("*"), ss("*"), ss("*/*"), ""), podStatus, true},
		{"*/* matches main resource", rule(ops("*"), ss("*"), ss("*"), ss("*/*"), ""), podCreate, true},
		{"pods/* matches pods/exec", rule(ops("CONNECT"), ss(""), ss("v1"), ss("pods/*"), ""), podExec, true},
		{"pods/* also matches pods itself (upstream \"r & subresources\")", rule(ops("*"), ss(""), ss("v1"), ss("pods/*"), ""), podCreate, true},
		{"*/status does not match pods", rule(ops("*"), ss("*"), ss("*"), ss("*/status"), ""), podCreate, false},
		{"*/status matches pods/status", rule(ops("UPDATE"), ss("*"), ss("*"), ss("*/status"), ""), podStatus, true},
		{"pods does not match pods/status", rule(ops("UPDATE"), ss(""), ss("v1"), ss("pods"), ""), podStatus, false},
		{"namespaced scope matches pods", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Namespaced"), podCreate, true},
		{"namespaced scope excludes nodes", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Namespaced"), nodeUpdate, false},
		{"namespaced scope excludes namespaces", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Namespaced"), nsCreate, false},
		{"cluster scope matches nodes", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Cluster"), nodeUpdate, true},
		{"cluster scope matches namespaces", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Cluster"), nsCreate, true},
		{"cluster scope excludes pods", rule(ops("*"), ss("*"), ss("*"), ss("*"), "Cluster"), podCreate, false},
		{"scope * matches all", rule(ops("*"), ss("*"), ss("*"), ss("*"), "*"), nodeUpdate, true},
		{"delete deployments", rule(ops("DELETE"), ss("apps"), ss("v1"), ss("deployments"), ""), deployDelete, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ruleMatches(&tc.rule, tc.attr, tc.attr.Resource); got != tc.want {
				t.Errorf("ruleMatches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchPolicy(t *testing.T) {
	a := &Attributes{Operation: admissionv1.Create, Resource: deployGVR, Kind: deployGVK, Namespace: "default", Name: "d"}
	old := rule(ops("CREATE"), ss("apps"), ss("v1beta1"), ss("deployments"), "")
	for _, tc := range []struct {
		policy admissionregistrationv1.MatchPolicyType
		want   bool
	}{{admissionregistrationv1.Exact, false}, {admissionregistrationv1.Equivalent, true}} {
		h := &hook{common: common{rules: []admissionregistrationv1.RuleWithOperations{old}, matchPolicy: &tc.policy}}
		inv := matchRules(h, a)
		if (inv != nil) != tc.want {
			t.Errorf("%s: matched = %v, want %v", tc.policy, inv != nil, tc.want)
		}
		if inv != nil && (inv.resource != deployGVR || inv.kind != deployGVK) {
			t.Errorf("%s: invocation %+v, want the request's own resource and kind", tc.policy, inv)
		}
	}
	eq := admissionregistrationv1.Equivalent
	other := &hook{common: common{matchPolicy: &eq, rules: []admissionregistrationv1.RuleWithOperations{
		rule(ops("CREATE"), ss("extensions"), ss("v1beta1"), ss("deployments"), "")}}}
	if matchRules(other, a) != nil {
		t.Errorf("a rule for another group matched under Equivalent")
	}
}

func TestSelectors(t *testing.T) {
	nsLabels := func(name string) (map[string]string, bool) {
		switch name {
		case "prod":
			return map[string]string{"env": "prod"}, true
		case "dev":
			return map[string]string{"env": "dev"}, true
		}
		return nil, false
	}
	envProd := &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
	appWeb := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}}
	pod := func(lbls map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: lbls}}
	}
	allRule := []admissionregistrationv1.RuleWithOperations{rule(ops("*"), ss("*"), ss("*"), ss("*"), "")}
	tests := []struct {
		name    string
		ns, obj *metav1.LabelSelector
		attr    *Attributes
		want    bool
		wantErr string
	}{
		{"namespace matches", envProd, nil, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "prod", Object: pod(nil)}, true, ""},
		{"namespace does not match", envProd, nil, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "dev", Object: pod(nil)}, false, ""},
		{"cluster-scoped ignores namespaceSelector", envProd, nil, &Attributes{Operation: admissionv1.Update, Resource: nodeGVR, Name: "n1"}, true, ""},
		{"namespace object uses its own new labels", envProd, nil, &Attributes{Operation: admissionv1.Create, Resource: nsGVR, Name: "fresh", Namespace: "fresh",
			Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh", Labels: map[string]string{"env": "prod"}}}}, true, ""},
		{"namespace delete uses stored labels", envProd, nil, &Attributes{Operation: admissionv1.Delete, Resource: nsGVR, Name: "dev"}, false, ""},
		{"missing namespace is NotFound", envProd, nil, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "gone", Object: pod(nil)}, false, `namespaces "gone" not found`},
		{"object selector new object", nil, appWeb, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "dev", Object: pod(map[string]string{"app": "web"})}, true, ""},
		{"object selector old object", nil, appWeb, &Attributes{Operation: admissionv1.Delete, Resource: podGVR, Namespace: "dev", OldObject: pod(map[string]string{"app": "web"})}, true, ""},
		{"object selector no match", nil, appWeb, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "dev", Object: pod(map[string]string{"app": "db"})}, false, ""},
		{"empty selectors match", &metav1.LabelSelector{}, &metav1.LabelSelector{}, &Attributes{Operation: admissionv1.Create, Resource: podGVR, Namespace: "gone", Object: pod(nil)}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &hook{common: common{rules: allRule, namespaceSelector: tc.ns, objectSelector: tc.obj}}
			inv, err := shouldCall(context.Background(), h, tc.attr, nsLabels, newConditionCache())
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if (inv != nil) != tc.want {
				t.Errorf("called = %v, want %v", inv != nil, tc.want)
			}
		})
	}
}

func TestExemptAndOrder(t *testing.T) {
	if !exempt(&Attributes{Kind: schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration"}}) {
		t.Errorf("webhook configurations must be exempt")
	}
	if exempt(&Attributes{Kind: podGVK}) {
		t.Errorf("pods must not be exempt")
	}
	cs := []*admissionregistrationv1.MutatingWebhookConfiguration{
		{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "b1.x.io"}, {Name: "b2.x.io"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "a1.x.io"}}},
	}
	var got []string
	for _, h := range mutatingHooks(cs) {
		got = append(got, h.uid())
	}
	want := []string{"a/a1.x.io/0", "b/b1.x.io/0", "b/b2.x.io/1"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("order = %v, want %v", got, want)
	}
	if cs[0].Name != "b" {
		t.Errorf("the source's slice was reordered")
	}
}
