package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestCheckCondition(t *testing.T) {
	tests := []struct {
		expr    string
		wantErr []string // substrings; none means the expression is valid
	}{
		{"object.metadata.name != 'skip-me'", nil},
		{"oldObject == null || object.spec != oldObject.spec", nil},
		{"request.userInfo.username == 'alice' && 'dev' in request.userInfo.groups", nil},
		{"has(object.metadata.labels) && object.metadata.labels.exists(k, k.startsWith('app'))", nil},
		{"'A'.lowerAscii() == 'a' && sets.contains([1, 2], [1]) && [2, 1].sort() == [1, 2]", nil},
		{"request.dryRun", nil},
		{"... [] bad expression", []string{"compilation failed: ERROR: <input>:1:2: Syntax error: "}},
		{"object.metadata.name", []string{"must evaluate to bool but got dyn"}},
		{"'true'", []string{"must evaluate to bool but got string"}},
		{"request.name", []string{"must evaluate to bool but got string"}},
		{"request.nosuch == 1", []string{"compilation failed: ", "undefined field 'nosuch'"}},
		{"nosuch == 1", []string{"compilation failed: ", "undeclared reference to 'nosuch'"}},
		{"authorizer.group('').resource('pods').check('get').allowed()",
			[]string{"compilation failed: ", "undeclared reference to 'authorizer'", "not supported by skiff"}},
		{"object.metadata.name.matches('[')", []string{"compilation failed: ", "invalid matches argument"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := checkCondition(tc.expr)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestValidateMatchConditionExpressions is the conformance spec "should reject validating/mutating webhook
// configurations with invalid match conditions".
func TestValidateMatchConditionExpressions(t *testing.T) {
	mcs := []admissionregistrationv1.MatchCondition{{Name: "ok", Expression: "true"}, {Name: "bad", Expression: " ... [] bad expression "},
		{Name: "upstream", Expression: "object.x in [1, 2,"}}
	want := []string{
		`webhooks[0].matchConditions[1].expression: Invalid value: "... [] bad expression": compilation failed: ERROR: <input>:1:2: Syntax error:`,
		// upstream's validation_test.go case
		`webhooks[0].matchConditions[2].expression: Invalid value: "object.x in [1, 2,": compilation failed: ERROR: <input>:1:19: Syntax error: missing ']' at '<EOF>'`,
	}
	h := validHook()
	h.MatchConditions = mcs
	v := errStrings(ValidateValidating(vwc(h)))
	m := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: h.Name, ClientConfig: h.ClientConfig, Rules: h.Rules,
			SideEffects: h.SideEffects, AdmissionReviewVersions: h.AdmissionReviewVersions, MatchConditions: mcs}}}
	SetDefaultsMutating(m)
	mu := errStrings(ValidateMutating(m))
	for name, got := range map[string][]string{"validating": v, "mutating": mu} {
		if len(got) != len(want) {
			t.Fatalf("%s: errors = %q, want %d", name, got, len(want))
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("%s: error %q, want it to start with %q", name, got[i], want[i])
			}
		}
	}
}

func TestEvalConditions(t *testing.T) {
	mc := func(pairs ...string) []admissionregistrationv1.MatchCondition {
		var out []admissionregistrationv1.MatchCondition
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, admissionregistrationv1.MatchCondition{Name: pairs[i], Expression: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name       string
		conds      []admissionregistrationv1.MatchCondition
		wantMatch  bool
		wantFailed string
		wantErr    string // substring
	}{
		{"all true", mc("name", "object.metadata.name == 'web'", "create", "request.operation == 'CREATE'",
			"old", "oldObject == null"), true, "", ""},
		{"request fields", mc("r", `request.kind.kind == 'Pod' && request.resource.resource == 'pods' &&
			request.requestKind.version == 'v1' && request.namespace == 'default' && request.name == 'web' &&
			request.userInfo.username == 'alice' && 'dev' in request.userInfo.groups && !request.dryRun &&
			request.subResource == '' && has(request.options) && request.options.fieldManager == 'kubectl' && request.options.kind == 'CreateOptions'`),
			true, "", ""},
		{"object as JSON", mc("o", "object.kind == 'Pod' && object.apiVersion == 'v1' && object.spec.containers[0].image == 'nginx' && object.metadata.labels.app == 'web'"),
			true, "", ""},
		{"false", mc("yes", "true", "skip", "object.metadata.name == 'skip-me'"), false, "skip", ""},
		{"error", mc("missing", "object.metadata.labels.missing == 'x'"), false, "",
			"expression 'object.metadata.labels.missing == 'x'' resulted in error: no such key: missing"},
		{"false wins over an earlier error", mc("e", "object.nosuch == 1", "f", "false"), false, "f", ""},
		{"errors are aggregated", mc("e1", "object.a == 1", "t", "true", "e2", "object.b == 1"), false, "",
			"[expression 'object.a == 1' resulted in error: no such key: a, expression 'object.b == 1' resulted in error: no such key: b]"},
		{"stored expression that does not compile", mc("bad", "nosuch"), false, "", "compilation error: compilation failed: "},
		{"per-call cost limit", mc("costly", "lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))"), false, "",
			"actual cost limit exceeded"},
	}
	cache := newConditionCache()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := podCreate()
			inv := &invocation{resource: a.Resource, kind: a.Kind}
			match, failed, err := evalConditions(context.Background(), tc.conds, cache, newConditionVars(inv, a))
			if match != tc.wantMatch || failed != tc.wantFailed {
				t.Errorf("match, failed = %v, %q, want %v, %q", match, failed, tc.wantMatch, tc.wantFailed)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestMatchConditionsFailurePolicy(t *testing.T) {
	erring := []admissionregistrationv1.MatchCondition{{Name: "e", Expression: "object.metadata.labels.missing == 'x'"}}
	tests := []struct {
		name      string
		policy    *admissionregistrationv1.FailurePolicyType
		conds     []admissionregistrationv1.MatchCondition
		wantMatch bool
		wantErr   string
	}{
		{"no conditions", nil, nil, true, ""},
		{"true", ptrTo(admissionregistrationv1.Fail), []admissionregistrationv1.MatchCondition{{Name: "t", Expression: "true"}}, true, ""},
		{"false", ptrTo(admissionregistrationv1.Fail), []admissionregistrationv1.MatchCondition{{Name: "f", Expression: "false"}}, false, ""},
		{"error under Fail", ptrTo(admissionregistrationv1.Fail), erring, false,
			`pods "web" is forbidden: expression 'object.metadata.labels.missing == 'x'' resulted in error: no such key: missing`},
		{"error with no policy (Fail)", nil, erring, false, `pods "web" is forbidden: `},
		{"error under Ignore", ptrTo(admissionregistrationv1.Ignore), erring, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := podCreate()
			h := &hook{common: common{name: "h", failurePolicy: tc.policy, matchConditions: tc.conds}}
			match, err := matchConditions(context.Background(), h, &invocation{resource: a.Resource, kind: a.Kind}, a, newConditionCache())
			if match != tc.wantMatch {
				t.Errorf("match = %v, want %v", match, tc.wantMatch)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) || err.ErrStatus.Code != http.StatusForbidden {
				t.Errorf("err = %v, want a 403 starting with %q", err, tc.wantErr)
			}
		})
	}
}

// TestDispatcherMatchConditions is the conformance spec "should mutate everything except 'skip-me' configmaps", and
// failing conditions under both failure policies, through webhooks served over TLS.
func TestDispatcherMatchConditions(t *testing.T) {
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	cmGVK := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	mut := newReviewServer(t, patchResponse(`[{"op":"add","path":"/data","value":{"mutation-stage-1":"yes"}}]`))
	mh := mHook("skip-me.example.com", mut, func(h *admissionregistrationv1.MutatingWebhook) {
		h.Rules = []admissionregistrationv1.RuleWithOperations{rule(ops("CREATE"), ss(""), ss("v1"), ss("configmaps"), "")}
		h.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "skip-me", Expression: "object.metadata.name != 'skip-me'"}}
	})
	val := newReviewServer(t, respond(admissionv1.AdmissionResponse{Allowed: true}))
	failing := func(name string, policy admissionregistrationv1.FailurePolicyType) admissionregistrationv1.ValidatingWebhook {
		return vHook(name, val, func(h *admissionregistrationv1.ValidatingWebhook) {
			h.Rules = []admissionregistrationv1.RuleWithOperations{rule(ops("CREATE"), ss(""), ss("v1"), ss("configmaps"), "")}
			h.FailurePolicy = &policy
			h.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "e", Expression: "object.data.missing == 'x'"}}
		})
	}
	src := &fakeSource{mutating: mConfigs(mh), validating: vConfigs(failing("ignore.example.com", admissionregistrationv1.Ignore))}
	d := NewDispatcher(src, scheme.Scheme)
	create := func(name string) *Attributes {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"k": "v"}}
		return &Attributes{Operation: admissionv1.Create, Kind: cmGVK, Resource: cmGVR, Name: name, Namespace: "default", Object: cm}
	}
	for _, name := range []string{"skip-me", "mutate-me", "skip-me", "other"} {
		a := create(name)
		obj := a.Object
		if _, err := d.Mutate(context.Background(), a, &obj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, mutated := obj.(*corev1.ConfigMap).Data["mutation-stage-1"]
		if mutated != (name != "skip-me") {
			t.Errorf("%s: mutated = %v", name, mutated)
		}
		if _, err := d.Validate(context.Background(), a); err != nil {
			t.Errorf("%s: Validate with an erring condition under Ignore: %v", name, err)
		}
	}
	if n := len(mut.reviews()); n != 2 {
		t.Errorf("mutating webhook called %d times, want 2", n)
	}
	if n := len(val.reviews()); n != 0 {
		t.Errorf("validating webhook (erring condition, Ignore) called %d times, want 0", n)
	}
	if n := len(d.conds.m); n != 2 {
		t.Errorf("%d compiled expressions cached, want 2 (one per expression)", n)
	}

	src.validating = vConfigs(failing("fail.example.com", admissionregistrationv1.Fail))
	_, err := d.Validate(context.Background(), create("cm"))
	st := statusOf(t, err)
	want := `configmaps "cm" is forbidden: expression 'object.data.missing == 'x'' resulted in error: no such key: missing`
	if st.Code != http.StatusForbidden || st.Reason != metav1.StatusReasonForbidden || st.Message != want {
		t.Errorf("status = %d %s %q, want 403 Forbidden %q", st.Code, st.Reason, st.Message, want)
	}
	if n := len(val.reviews()); n != 0 {
		t.Errorf("validating webhook (erring condition, Fail) called %d times, want 0", n)
	}
}
