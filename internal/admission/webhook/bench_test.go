package webhook

import (
	"context"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// benchConfigs makes n configurations of two webhooks each, for other resources than pods, half of them with selectors
// that would be evaluated (a namespaceSelector and an objectSelector), so only the matching work is measured.
func benchConfigs(n int) []*admissionregistrationv1.ValidatingWebhookConfiguration {
	var out []*admissionregistrationv1.ValidatingWebhookConfiguration
	for i := range n {
		c := vwc()
		c.Name = fmt.Sprintf("cfg-%03d", n-i)
		for j := range 2 {
			h := validHook()
			h.Name = fmt.Sprintf("h%d.cfg%d.example.com", j, i)
			h.Rules = []admissionregistrationv1.RuleWithOperations{
				rule(ops("CREATE", "UPDATE"), ss("apps"), ss("v1"), ss(fmt.Sprintf("res%d", i), "deployments/scale"), ""),
				rule(ops("*"), ss(""), ss("v1beta1"), ss("configmaps"), "Namespaced"),
			}
			if i%2 == 0 {
				h.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
				h.ObjectSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}}}
			}
			c.Webhooks = append(c.Webhooks, h)
		}
		SetDefaultsValidating(c)
		out = append(out, c)
	}
	return out
}

// BenchmarkValidateMatch50Configs measures deciding that none of 50 configurations (100 webhooks) applies to a pod.
func BenchmarkValidateMatch50Configs(b *testing.B) {
	src := &fakeSource{validating: benchConfigs(50), namespaces: map[string]map[string]string{"default": {"env": "prod"}}}
	d := NewDispatcher(src, scheme.Scheme)
	a := podCreate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Validate(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateMatch50ConfigsOneCall adds one matching webhook, called over TLS on loopback, to the 50 configurations.
func BenchmarkValidateMatch50ConfigsOneCall(b *testing.B) {
	srv := newReviewServer(b, respond(admissionv1.AdmissionResponse{Allowed: true}))
	cs := benchConfigs(50)
	cs = append(cs, vConfigs(vHook("pods.example.com", srv))...)
	d := NewDispatcher(&fakeSource{validating: cs, namespaces: map[string]map[string]string{"default": {"env": "prod"}}}, scheme.Scheme)
	a := podCreate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Validate(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchOneCondition measures matching one webhook whose rules match a pod and that has one matchCondition
// (compiled once, then cached): on the object (converted to its JSON map per request), or on the request only.
func BenchmarkMatchOneCondition(b *testing.B) {
	for _, expr := range []string{"object.metadata.name != 'skip-me'", "request.operation == 'CREATE'"} {
		b.Run(expr, func(b *testing.B) {
			h := &hook{common: fromValidating(&admissionregistrationv1.ValidatingWebhook{Name: "h",
				Rules:           []admissionregistrationv1.RuleWithOperations{podRule("*")},
				MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "c", Expression: expr}}})}
			a := podCreate()
			conds := newConditionCache()
			nsLabels := func(string) (map[string]string, bool) { return nil, true }
			b.ReportAllocs()
			for b.Loop() {
				if inv, err := shouldCall(context.Background(), h, a, nsLabels, conds); inv == nil || err != nil {
					b.Fatal("not matched", err)
				}
			}
		})
	}
}
