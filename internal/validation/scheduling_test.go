package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPriorityClass(t *testing.T) {
	pc := func(name string, value int32, mutate func(*schedulingv1.PriorityClass)) *schedulingv1.PriorityClass {
		p := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1"}, Value: value,
			PreemptionPolicy: ptr(corev1.PreemptLowerPriority)}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	const reserved = "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: "
	runCreate(t, []createCase{
		{name: "valid", obj: pc("high", 1000, nil)},
		{name: "negative value", obj: pc("low", -10, nil)},
		{name: "highest user value", obj: pc("top", HighestUserDefinablePriority, nil)},
		{name: "built-in classes", obj: SystemPriorityClasses()[0]},
		{name: "built-in cluster-critical", obj: SystemPriorityClasses()[1]},
		{name: "above the user range", obj: pc("huge", HighestUserDefinablePriority+1, nil),
			want: []string{"value: Forbidden: maximum allowed value of a user defined priority is 1000000000"}},
		{name: "unknown system name", obj: pc("system-mine", 5, nil),
			want: []string{reserved + "system-mine is not a known system priority class"}},
		{name: "system name with another value", obj: pc("system-node-critical", 5, nil),
			want: []string{reserved + "value of system-node-critical PriorityClass must be 2000001000"}},
		{name: "system name made default", obj: pc("system-cluster-critical", 2000000000, func(p *schedulingv1.PriorityClass) { p.GlobalDefault = true }),
			want: []string{reserved + "globalDefault of system-cluster-critical PriorityClass must be false"}},
		{name: "name not a DNS subdomain", obj: pc("High_Prio", 1, nil),
			want: []string{"metadata.name: Invalid value: \"High_Prio\": " + subdomainMsg}},
		{name: "namespace given", obj: pc("ns", 1, func(p *schedulingv1.PriorityClass) { p.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "bad preemption policy", obj: pc("p", 1, func(p *schedulingv1.PriorityClass) { p.PreemptionPolicy = ptr(corev1.PreemptionPolicy("Sometimes")) }),
			want: []string{`preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"`}},
	})
	runUpdate(t, []updateCase{
		{name: "description and labels may change", old: pc("high", 1000, nil), obj: pc("high", 1000, func(p *schedulingv1.PriorityClass) {
			p.Description = "now documented"
			p.Labels = map[string]string{"tier": "gold"}
		})},
		{name: "globalDefault may change", old: pc("high", 1000, nil), obj: pc("high", 1000, func(p *schedulingv1.PriorityClass) { p.GlobalDefault = true })},
		{name: "value is immutable", old: pc("high", 1000, nil), obj: pc("high", 2000, nil),
			want: []string{"value: Forbidden: may not be changed in an update."}},
		{name: "preemptionPolicy is immutable", old: pc("high", 1000, nil), obj: pc("high", 1000, func(p *schedulingv1.PriorityClass) { p.PreemptionPolicy = ptr(corev1.PreemptNever) }),
			want: []string{`preemptionPolicy: Invalid value: "Never": field is immutable`}},
		{name: "a built-in class's value cannot change", old: pc("system-node-critical", 2000001000, nil), obj: pc("system-node-critical", 1, nil), want: []string{"value: Forbidden: may not be changed in an update."}},
	})
}

func TestIsSystemPriorityClass(t *testing.T) {
	for name, want := range map[string]bool{"system-node-critical": true, "system-cluster-critical": true, "system-mine": false, "high": false} {
		if got := IsSystemPriorityClass(name); got != want {
			t.Errorf("IsSystemPriorityClass(%q) = %v, want %v", name, got, want)
		}
	}
}
