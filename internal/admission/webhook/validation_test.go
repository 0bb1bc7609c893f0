package webhook

import (
	"reflect"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func ptrTo[T any](v T) *T { return &v }

func validHook() admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:                    "deny.example.com",
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptrTo("https://hook.example.com/validate")},
		Rules:                   []admissionregistrationv1.RuleWithOperations{podRule("CREATE")},
		SideEffects:             ptrTo(admissionregistrationv1.SideEffectClassNone),
		AdmissionReviewVersions: []string{"v1"},
	}
}

func podRule(ops ...admissionregistrationv1.OperationType) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{Operations: ops,
		Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}
}

func vwc(hooks ...admissionregistrationv1.ValidatingWebhook) *admissionregistrationv1.ValidatingWebhookConfiguration {
	return &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Webhooks: hooks}
}

func errStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestValidateValidating(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(h *admissionregistrationv1.ValidatingWebhook)
		want   []string
	}{
		{"valid", func(*admissionregistrationv1.ValidatingWebhook) {}, nil},
		{"short name", func(h *admissionregistrationv1.ValidatingWebhook) { h.Name = "x" },
			[]string{`webhooks[0].name: Invalid value: "x": should be a domain with at least three segments separated by dots`}},
		{"no review versions", func(h *admissionregistrationv1.ValidatingWebhook) { h.AdmissionReviewVersions = nil },
			[]string{`webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1`}},
		{"unknown review version", func(h *admissionregistrationv1.ValidatingWebhook) { h.AdmissionReviewVersions = []string{"v2"} },
			[]string{`webhooks[0].admissionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1`}},
		{"duplicate review version", func(h *admissionregistrationv1.ValidatingWebhook) { h.AdmissionReviewVersions = []string{"v1", "v1"} },
			[]string{`webhooks[0].admissionReviewVersions[1]: Invalid value: "v1": duplicate version`}},
		{"no side effects", func(h *admissionregistrationv1.ValidatingWebhook) { h.SideEffects = nil },
			[]string{`webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun`}},
		{"side effects some", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.SideEffects = ptrTo(admissionregistrationv1.SideEffectClassSome)
		},
			[]string{`webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"`}},
		{"both url and service", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.ClientConfig.Service = &admissionregistrationv1.ServiceReference{Namespace: "ns", Name: "svc"}
		}, []string{`webhooks[0].clientConfig: Required value: exactly one of url or service is required`}},
		{"neither url nor service", func(h *admissionregistrationv1.ValidatingWebhook) { h.ClientConfig.URL = nil },
			[]string{`webhooks[0].clientConfig: Required value: exactly one of url or service is required`}},
		{"http url", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.ClientConfig.URL = ptrTo("http://hook.example.com")
		},
			[]string{`webhooks[0].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`}},
		{"url with user, fragment and query", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.ClientConfig.URL = ptrTo("https://me@hook.example.com/x?a=b#frag")
		}, []string{
			`webhooks[0].clientConfig.url: Invalid value: "me": user information is not permitted in the URL`,
			`webhooks[0].clientConfig.url: Invalid value: "frag": fragments are not permitted in the URL`,
			`webhooks[0].clientConfig.url: Invalid value: "a=b": query parameters are not permitted in the URL`,
		}},
		{"service path and port", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.ClientConfig = admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Name: "svc", Path: ptrTo("validate//x"), Port: ptrTo(int32(0))}}
		}, []string{
			`webhooks[0].clientConfig.service.namespace: Required value`,
			`webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive`,
			`webhooks[0].clientConfig.service.path: Invalid value: "validate//x": must start with a '/'`,
			`webhooks[0].clientConfig.service.path: Invalid value: "validate//x": segment[1] may not be empty`,
		}},
		{"rule problems", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.Rules = []admissionregistrationv1.RuleWithOperations{
				{Operations: []admissionregistrationv1.OperationType{"*", "GET"}, Rule: admissionregistrationv1.Rule{
					APIGroups: []string{"*", "apps"}, APIVersions: []string{""}, Resources: []string{"*/*", "pods"},
					Scope: ptrTo(admissionregistrationv1.ScopeType("Global"))}},
				{Rule: admissionregistrationv1.Rule{Resources: []string{"pods/*", "pods/status", "*", "deployments"}}},
			}
		}, []string{
			`webhooks[0].rules[0].operations: Invalid value: ["*","GET"]: if '*' is present, must not specify other operations`,
			`webhooks[0].rules[0].operations[1]: Unsupported value: "GET": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"`,
			`webhooks[0].rules[0].apiGroups: Invalid value: ["*","apps"]: if '*' is present, must not specify other API groups`,
			`webhooks[0].rules[0].apiVersions[0]: Required value`,
			`webhooks[0].rules[0].resources: Invalid value: ["*/*","pods"]: if '*/*' is present, must not specify other resources`,
			`webhooks[0].rules[0].scope: Unsupported value: "Global": supported values: "*", "Cluster", "Namespaced"`,
			`webhooks[0].rules[1].operations: Required value`,
			`webhooks[0].rules[1].apiGroups: Required value`,
			`webhooks[0].rules[1].apiVersions: Required value`,
			`webhooks[0].rules[1].resources[1]: Invalid value: "pods/status": if 'pods/*' is present, must not specify pods/status`,
			`webhooks[0].rules[1].resources: Invalid value: ["pods/*","pods/status","*","deployments"]: if '*' is present, must not specify other resources without subresources`,
		}},
		{"timeout and policies", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.TimeoutSeconds = ptrTo(int32(31))
			h.FailurePolicy = ptrTo(admissionregistrationv1.FailurePolicyType("Maybe"))
			h.MatchPolicy = ptrTo(admissionregistrationv1.MatchPolicyType("Close"))
		}, []string{
			`webhooks[0].failurePolicy: Unsupported value: "Maybe": supported values: "Fail", "Ignore"`,
			`webhooks[0].matchPolicy: Unsupported value: "Close": supported values: "Equivalent", "Exact"`,
			`webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds`,
		}},
		{"match conditions", func(h *admissionregistrationv1.ValidatingWebhook) {
			h.MatchConditions = []admissionregistrationv1.MatchCondition{
				{Name: "a", Expression: "true"}, {Name: "a", Expression: " "}, {Expression: "request.dryRun"},
			}
		}, []string{
			`webhooks[0].matchConditions[1].expression: Required value`,
			`webhooks[0].matchConditions[1].name: Duplicate value: "a"`,
			`webhooks[0].matchConditions[2].name: Required value`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := validHook()
			tc.mutate(&h)
			if got := errStrings(ValidateValidating(vwc(h))); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateDuplicateNamesAndMetadata(t *testing.T) {
	c := vwc(validHook(), validHook())
	c.Name = ""
	got := errStrings(ValidateValidating(c))
	want := []string{`metadata.name: Required value: name or generateName is required`, `webhooks[1].name: Duplicate value: "deny.example.com"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

func TestValidateMutatingReinvocationPolicy(t *testing.T) {
	v := validHook()
	c := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: v.Name, ClientConfig: v.ClientConfig, Rules: v.Rules,
			SideEffects: v.SideEffects, AdmissionReviewVersions: v.AdmissionReviewVersions,
			ReinvocationPolicy: ptrTo(admissionregistrationv1.ReinvocationPolicyType("Always"))}}}
	got := errStrings(ValidateMutating(c))
	want := []string{`webhooks[0].reinvocationPolicy: Unsupported value: "Always": supported values: "IfNeeded", "Never"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

// TestValidateUpdateLeniency checks that an update may keep what the stored object already had, as upstream allows.
func TestValidateUpdateLeniency(t *testing.T) {
	old := validHook()
	old.AdmissionReviewVersions = []string{"v2"}
	old.SideEffects = ptrTo(admissionregistrationv1.SideEffectClassSome)
	newer := old
	newer.TimeoutSeconds = ptrTo(int32(5))
	if errs := ValidateValidatingUpdate(vwc(newer), vwc(old)); len(errs) != 0 {
		t.Errorf("update keeping stored values: %v", errs)
	}
	if errs := ValidateValidating(vwc(newer)); len(errs) != 2 {
		t.Errorf("create with the same values: got %v, want 2 errors", errs)
	}
	// A stored object that was valid keeps the strict rules.
	if errs := ValidateValidatingUpdate(vwc(newer), vwc(validHook())); len(errs) != 2 {
		t.Errorf("update introducing bad values: got %v, want 2 errors", errs)
	}
}

func TestSetDefaults(t *testing.T) {
	c := &admissionregistrationv1.MutatingWebhookConfiguration{Webhooks: []admissionregistrationv1.MutatingWebhook{{
		Name:         "m.example.com",
		ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "ns", Name: "svc"}},
		Rules:        []admissionregistrationv1.RuleWithOperations{podRule("CREATE")},
	}}}
	SetDefaultsMutating(c)
	h := c.Webhooks[0]
	if *h.FailurePolicy != admissionregistrationv1.Fail || *h.MatchPolicy != admissionregistrationv1.Equivalent ||
		*h.TimeoutSeconds != 10 || *h.ReinvocationPolicy != admissionregistrationv1.NeverReinvocationPolicy ||
		h.NamespaceSelector == nil || h.ObjectSelector == nil || *h.Rules[0].Scope != admissionregistrationv1.AllScopes ||
		*h.ClientConfig.Service.Port != 443 {
		t.Errorf("defaults not applied: %+v", h)
	}
	v := vwc(validHook())
	v.Webhooks[0].TimeoutSeconds = ptrTo(int32(3))
	SetDefaultsValidating(v)
	if *v.Webhooks[0].TimeoutSeconds != 3 || *v.Webhooks[0].FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("validating defaults: %+v", v.Webhooks[0])
	}
}
