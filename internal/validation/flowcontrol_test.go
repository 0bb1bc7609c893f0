package validation

import (
	"strings"
	"testing"

	"github.com/skiff-sh/skiff/internal/flowcontrol"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validFlowSchema is the conformance test's FlowSchema as defaulting leaves it.
func validFlowSchema(mutate ...func(*flowcontrolv1.FlowSchema)) *flowcontrolv1.FlowSchema {
	fs := &flowcontrolv1.FlowSchema{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-example-fs-abcde", ResourceVersion: "1", Labels: map[string]string{"example-e2e-fs-label": "x"}},
		Spec: flowcontrolv1.FlowSchemaSpec{
			MatchingPrecedence:         10000,
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "global-default"},
			DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects:         []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: "example-e2e-non-existent-user"}}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		},
	}
	for _, m := range mutate {
		m(fs)
	}
	return fs
}

// withResourceRule replaces the first rule's non-resource rules with r.
func withResourceRule(r flowcontrolv1.ResourcePolicyRule) func(*flowcontrolv1.FlowSchema) {
	return func(fs *flowcontrolv1.FlowSchema) {
		fs.Spec.Rules[0].NonResourceRules = nil
		fs.Spec.Rules[0].ResourceRules = []flowcontrolv1.ResourcePolicyRule{r}
	}
}

func withSubject(s flowcontrolv1.Subject) func(*flowcontrolv1.FlowSchema) {
	return func(fs *flowcontrolv1.FlowSchema) { fs.Spec.Rules[0].Subjects = []flowcontrolv1.Subject{s} }
}

func withNonResourceURLs(urls ...string) func(*flowcontrolv1.FlowSchema) {
	return func(fs *flowcontrolv1.FlowSchema) { fs.Spec.Rules[0].NonResourceRules[0].NonResourceURLs = urls }
}

func TestFlowSchemaValidation(t *testing.T) {
	const (
		rule0    = "spec.rules[0]"
		subject0 = rule0 + ".subjects[0]"
		res0     = rule0 + ".resourceRules[0]"
		urls     = rule0 + ".nonResourceRules[0].nonResourceURLs"
	)
	everything := flowcontrolv1.ResourcePolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, Namespaces: []string{"*"}}
	resource := func(m func(*flowcontrolv1.ResourcePolicyRule)) func(*flowcontrolv1.FlowSchema) {
		r := *everything.DeepCopy()
		m(&r)
		return withResourceRule(r)
	}
	for _, tc := range []struct {
		name string
		fs   *flowcontrolv1.FlowSchema
		want []string
	}{
		{name: "conformance test's FlowSchema", fs: validFlowSchema()},
		{name: "resource rule for every namespace", fs: validFlowSchema(withResourceRule(everything))},
		{name: "cluster-scoped resource rule without namespaces", fs: validFlowSchema(resource(func(r *flowcontrolv1.ResourcePolicyRule) {
			r.Namespaces, r.ClusterScope = nil, true
		}))},
		{name: "service account subject for all names", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "ServiceAccount",
			ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Name: "*", Namespace: "kube-system"}}))},
		{name: "URL paths with a suffix wildcard", fs: validFlowSchema(withNonResourceURLs("/", "/healthz", "/apis/*"))},
		{name: "matchingPrecedence zero", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.MatchingPrecedence = 0 }),
			want: []string{"spec.matchingPrecedence: Invalid value: 0: must be a positive value"}},
		{name: "matchingPrecedence too large", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.MatchingPrecedence = 10001 }),
			want: []string{"spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000"}},
		{name: "matchingPrecedence 1 is exempt's", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.MatchingPrecedence = 1 }),
			want: []string{"spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1"}},
		{name: "unknown distinguisher", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.DistinguisherMethod.Type = "ByGroup" }),
			want: []string{`spec.distinguisherMethod.type: Unsupported value: {"type":"ByGroup"}: supported values: "ByNamespace", "ByUser"`}},
		{name: "no priority level", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.PriorityLevelConfiguration.Name = "" }),
			want: []string{"spec.priorityLevelConfiguration.name: Required value: must reference a priority level"}},
		{name: "priority level name not a subdomain", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.PriorityLevelConfiguration.Name = "Global" }),
			want: []string{`spec.priorityLevelConfiguration.name: Invalid value: "Global": ` + subdomainMsg}},
		{name: "name not a subdomain", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Name = "Mine" }),
			want: []string{`metadata.name: Invalid value: "Mine": ` + subdomainMsg}},
		{name: "namespace given", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "rule without subjects or rules", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) {
			fs.Spec.Rules[0] = flowcontrolv1.PolicyRulesWithSubjects{}
		}), want: []string{
			rule0 + ".subjects: Required value: subjects must contain at least one value",
			rule0 + ": Required value: at least one of resourceRules and nonResourceRules has to be non-empty",
		}},
		{name: "unknown subject kind", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "Robot"})),
			want: []string{subject0 + `.kind: Unsupported value: "Robot": supported values: "Group", "ServiceAccount", "User"`}},
		{name: "user subject without user, with group", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "User", Group: &flowcontrolv1.GroupSubject{Name: "g"}})),
			want: []string{
				subject0 + ".user: Required value: user is required when subject kind is 'User'",
				subject0 + ".group: Forbidden: group is forbidden when subject kind is not 'Group'",
			}},
		{name: "group subject with empty name and a user", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "Group", Group: &flowcontrolv1.GroupSubject{},
			User: &flowcontrolv1.UserSubject{Name: "u"}})),
			want: []string{
				subject0 + ".group.name: Required value",
				subject0 + ".user: Forbidden: user is forbidden when subject kind is not 'User'",
			}},
		{name: "service account subject without namespace, bad name, with a user", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "ServiceAccount",
			ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Name: "Bob"}, User: &flowcontrolv1.UserSubject{Name: "u"}})),
			want: []string{
				subject0 + `.serviceAccount.name: Invalid value: "Bob": ` + subdomainMsg,
				subject0 + ".serviceAccount.namespace: Required value: must specify namespace for service account",
				subject0 + ".user: Forbidden: user is forbidden when subject kind is not 'User'",
			}},
		{name: "service account subject missing", fs: validFlowSchema(withSubject(flowcontrolv1.Subject{Kind: "ServiceAccount"})),
			want: []string{subject0 + ".serviceAccount: Required value: serviceAccount is required when subject kind is 'ServiceAccount'"}},
		{name: "wildcard verb with others", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) { fs.Spec.Rules[0].NonResourceRules[0].Verbs = []string{"*", "get"} }),
			want: []string{rule0 + `.nonResourceRules[0].verbs: Invalid value: ["*","get"]: if '*' is present, must not specify other verbs`}},
		{name: "unknown verb", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) {
			fs.Spec.Rules[0].NonResourceRules[0].Verbs = []string{"get", "fly"}
		}),
			want: []string{rule0 + `.nonResourceRules[0].verbs: Unsupported value: ["get","fly"]: supported values: "create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"`}},
		{name: "no verbs or URLs", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) {
			fs.Spec.Rules[0].NonResourceRules[0] = flowcontrolv1.NonResourcePolicyRule{}
		}), want: []string{
			rule0 + ".nonResourceRules[0].verbs: Required value: verbs must contain at least one value",
			urls + ": Required value: nonResourceURLs must contain at least one value",
		}},
		{name: "bad URL paths", fs: validFlowSchema(withNonResourceURLs("", "healthz", "/a b", "/a//b", "/a*", "/*/b/*")),
			want: []string{
				urls + `[0]: Invalid value: "": must not be empty`,
				urls + `[1]: Invalid value: "healthz": must start with slash`,
				urls + `[2]: Invalid value: "/a b": must not contain white-space`,
				urls + `[3]: Invalid value: "/a//b": must not contain double slash`,
				urls + `[4]: Invalid value: "/a*": wildcard can only do suffix matching`,
				urls + `[5]: Invalid value: "/*/b/*": wildcard can only do suffix matching`,
			}},
		{name: "wildcard URL with others", fs: validFlowSchema(withNonResourceURLs("*", "/healthz")),
			want: []string{urls + `: Invalid value: ["*","/healthz"]: if '*' is present, must not specify other non-resource URLs`}},
		{name: "empty resource rule", fs: validFlowSchema(withResourceRule(flowcontrolv1.ResourcePolicyRule{})),
			want: []string{
				res0 + ".verbs: Required value: verbs must contain at least one value",
				res0 + ".apiGroups: Required value: resource rules must supply at least one api group",
				res0 + ".resources: Required value: resource rules must supply at least one resource",
				res0 + ".namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace",
			}},
		{name: "wildcards mixed with names", fs: validFlowSchema(resource(func(r *flowcontrolv1.ResourcePolicyRule) {
			r.APIGroups, r.Resources, r.Namespaces = []string{"*", "apps"}, []string{"pods", "*"}, []string{"*", "default"}
		})), want: []string{
			res0 + `.apiGroups: Invalid value: ["*","apps"]: if '*' is present, must not specify other api groups`,
			res0 + `.resources: Invalid value: ["pods","*"]: if '*' is present, must not specify other resources`,
			res0 + `.namespaces: Invalid value: ["*","default"]: if '*' is present, must not specify other namespaces`,
		}},
		{name: "namespace not a label", fs: validFlowSchema(resource(func(r *flowcontrolv1.ResourcePolicyRule) { r.Namespaces = []string{"default", "Kube"} })),
			want: []string{res0 + `.namespaces[1]: Invalid value: "Kube": each member of this list must be '*' or a DNS-1123 label; ` + labelMsg}},
		{name: "status conditions without type or duplicated", fs: validFlowSchema(func(fs *flowcontrolv1.FlowSchema) {
			fs.Status.Conditions = []flowcontrolv1.FlowSchemaCondition{{Type: "Dangling"}, {}, {Type: "Dangling"}}
		}), want: []string{
			"status.conditions[1].type: Required value",
			`status.conditions[2].type: Duplicate value: "Dangling"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, finish(validateFlowSchema(tc.fs)), tc.want)
			checkErrs(t, finish(validateFlowSchemaUpdate(tc.fs, validFlowSchema())), tc.want)
		})
	}
}

// TestFlowSchemaStatusUpdate checks that a status write is judged by its status alone, as the conformance test's status patch needs.
func TestFlowSchemaStatusUpdate(t *testing.T) {
	old := validFlowSchema()
	fs := validFlowSchema(func(fs *flowcontrolv1.FlowSchema) {
		fs.Status.Conditions = []flowcontrolv1.FlowSchemaCondition{
			{Type: "PatchStatusFailed", Status: "False", Reason: "e2e"},
			{Type: "StatusUpdateFailed", Status: "False", Reason: "E2E", Message: "Set from an e2e test"},
		}
	})
	checkErrs(t, finish(validateFlowSchemaStatusUpdate(fs, old)), nil)
	fs.Status.Conditions = append(fs.Status.Conditions, flowcontrolv1.FlowSchemaCondition{Type: "PatchStatusFailed"})
	checkErrs(t, finish(validateFlowSchemaStatusUpdate(fs, old)), []string{`status.conditions[2].type: Duplicate value: "PatchStatusFailed"`})
}

// validPriorityLevel is the conformance test's level as defaulting leaves it.
func validPriorityLevel(mutate ...func(*flowcontrolv1.PriorityLevelConfiguration)) *flowcontrolv1.PriorityLevelConfiguration {
	pl := &flowcontrolv1.PriorityLevelConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-example-pl-abcde", ResourceVersion: "1"},
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr(int32(2)),
				LendablePercent:          ptr(int32(0)),
				LimitResponse:            flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject},
			},
		},
	}
	for _, m := range mutate {
		m(pl)
	}
	return pl
}

func withQueuing(queues, handSize, length int32) func(*flowcontrolv1.PriorityLevelConfiguration) {
	return func(pl *flowcontrolv1.PriorityLevelConfiguration) {
		pl.Spec.Limited.LimitResponse = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
			Queuing: &flowcontrolv1.QueuingConfiguration{Queues: queues, HandSize: handSize, QueueLengthLimit: length}}
	}
}

func TestPriorityLevelConfigurationValidation(t *testing.T) {
	const queuing = "spec.limited.limitResponse.queuing"
	exemptSpec := func(pl *flowcontrolv1.PriorityLevelConfiguration) {
		pl.Spec = flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(0)), LendablePercent: ptr(int32(0))}}
	}
	named := func(name string) func(*flowcontrolv1.PriorityLevelConfiguration) {
		return func(pl *flowcontrolv1.PriorityLevelConfiguration) { pl.Name = name }
	}
	limited := func(m func(*flowcontrolv1.LimitedPriorityLevelConfiguration)) func(*flowcontrolv1.PriorityLevelConfiguration) {
		return func(pl *flowcontrolv1.PriorityLevelConfiguration) { m(pl.Spec.Limited) }
	}
	for _, tc := range []struct {
		name string
		pl   *flowcontrolv1.PriorityLevelConfiguration
		want []string
	}{
		{name: "conformance test's level", pl: validPriorityLevel()},
		{name: "patched and updated shares", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.NominalConcurrencyShares = ptr(int32(6)) }))},
		{name: "zero shares (v1 keeps them)", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.NominalConcurrencyShares = ptr(int32(0)) }))},
		{name: "queuing", pl: validPriorityLevel(withQueuing(128, 6, 50))},
		{name: "largest queue count", pl: validPriorityLevel(withQueuing(10000000, 2, 50))},
		{name: "exempt level with its own shares", pl: validPriorityLevel(named("exempt"), exemptSpec, func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Spec.Exempt = &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(10)), LendablePercent: ptr(int32(50))}
		})},
		{name: "Exempt type on another name", pl: validPriorityLevel(exemptSpec),
			want: []string{`spec.type: Invalid value: "Exempt": must be 'Exempt' if and only if ` + "`name`" + ` is 'exempt'`}},
		{name: "name exempt with Limited type", pl: validPriorityLevel(named("exempt")),
			want: []string{
				`spec.type: Invalid value: "Limited": must be 'Exempt' if and only if ` + "`name`" + ` is 'exempt'`,
				`spec: Invalid value: {"type":"Limited","limited":{"nominalConcurrencyShares":2,"limitResponse":{"type":"Reject"},"lendablePercent":0}}: spec of 'exempt' except the 'spec.exempt' field must equal the fixed value`,
			}},
		{name: "no type", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Spec = flowcontrolv1.PriorityLevelConfigurationSpec{}
		}),
			want: []string{"spec.type: Required value"}},
		{name: "unknown type with limited", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) { pl.Spec.Type = "Unlimited" }),
			want: []string{`spec.type: Unsupported value: "Unlimited": supported values: "Exempt", "Limited"`, "spec.limited: Forbidden"}},
		{name: "Limited without limited", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) { pl.Spec.Limited = nil }),
			want: []string{"spec.limited: Required value"}},
		{name: "Limited with exempt too", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Spec.Exempt = &flowcontrolv1.ExemptPriorityLevelConfiguration{}
		}), want: []string{"spec.exempt: Forbidden"}},
		{name: "Exempt with limited too", pl: validPriorityLevel(named("exempt"), exemptSpec, func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Spec.Limited = validPriorityLevel().Spec.Limited
		}), want: []string{
			`spec: Invalid value: {"type":"Exempt","limited":{"nominalConcurrencyShares":2,"limitResponse":{"type":"Reject"},"lendablePercent":0},"exempt":{"nominalConcurrencyShares":0,"lendablePercent":0}}: spec of 'exempt' except the 'spec.exempt' field must equal the fixed value`,
			"spec.limited: Forbidden",
		}},
		{name: "negative values", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) {
			l.NominalConcurrencyShares, l.LendablePercent, l.BorrowingLimitPercent = ptr(int32(-1)), ptr(int32(-1)), ptr(int32(-1))
		})), want: []string{
			"spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer",
			"spec.limited.lendablePercent: Invalid value: -1: must be between 0 and 100, inclusive",
			"spec.limited.borrowingLimitPercent: Invalid value: -1: if specified, must be a non-negative integer",
		}},
		{name: "exempt values out of range", pl: validPriorityLevel(named("exempt"), exemptSpec, func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Spec.Exempt = &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(-5)), LendablePercent: ptr(int32(101))}
		}), want: []string{
			"spec.exempt.nominalConcurrencyShares: Invalid value: -5: must be a non-negative integer",
			"spec.exempt.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
		}},
		{name: "Queue without queuing", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.LimitResponse.Type = "Queue" })),
			want: []string{queuing + ": Required value"}},
		{name: "Reject with queuing", pl: validPriorityLevel(withQueuing(64, 8, 50), limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.LimitResponse.Type = "Reject" })),
			want: []string{queuing + ": Forbidden"}},
		{name: "no limitResponse type", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.LimitResponse.Type = "" })),
			want: []string{"spec.limited.limitResponse.type: Required value"}},
		{name: "unknown limitResponse type", pl: validPriorityLevel(limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.LimitResponse.Type = "Drop" })),
			want: []string{`spec.limited.limitResponse.type: Unsupported value: "Drop": supported values: "Queue", "Reject"`}},
		{name: "zero queuing parameters", pl: validPriorityLevel(withQueuing(0, 0, 0)),
			want: []string{
				queuing + ".queueLengthLimit: Invalid value: 0: must be positive",
				queuing + ".queues: Invalid value: 0: must be positive",
				queuing + ".handSize: Invalid value: 0: must be positive",
			}},
		{name: "too many queues", pl: validPriorityLevel(withQueuing(10000001, 2, 50)),
			want: []string{queuing + ".queues: Invalid value: 10000001: must not be greater than 10000000"}},
		{name: "hand larger than deck", pl: validPriorityLevel(withQueuing(4, 5, 50)),
			want: []string{queuing + ".handSize: Invalid value: 5: should not be greater than queues (4)"}},
		{name: "hand needing too much entropy", pl: validPriorityLevel(withQueuing(128, 9, 50)),
			want: []string{queuing + ".handSize: Invalid value: 9: required entropy bits of deckSize 128 and handSize 9 should not be greater than 60"}},
		{name: "v1beta3 round-trip annotation", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Annotations = map[string]string{"flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares": ""}
		}), want: []string{"metadata.annotations: Forbidden: annotation 'flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares' is forbidden"}},
		{name: "catch-all changed", pl: validPriorityLevel(named("catch-all"), limited(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) { l.NominalConcurrencyShares = ptr(int32(6)) })),
			want: []string{`spec: Invalid value: {"type":"Limited","limited":{"nominalConcurrencyShares":6,"limitResponse":{"type":"Reject"},"lendablePercent":0}}: spec of 'catch-all' must equal the fixed value`}},
		{name: "status conditions", pl: validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Status.Conditions = []flowcontrolv1.PriorityLevelConfigurationCondition{{Type: "A"}, {Type: "A"}, {}}
		}), want: []string{`status.conditions[1].type: Duplicate value: "A"`, "status.conditions[2].type: Required value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, finish(validatePriorityLevelConfiguration(tc.pl)), tc.want)
			checkErrs(t, finish(validatePriorityLevelConfigurationUpdate(tc.pl, validPriorityLevel())), tc.want)
		})
	}
}

func TestPriorityLevelConfigurationStatusUpdate(t *testing.T) {
	old := validPriorityLevel()
	pl := validPriorityLevel(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
		pl.Status.Conditions = []flowcontrolv1.PriorityLevelConfigurationCondition{{Type: "PatchStatusFailed", Status: "False", Reason: "e2e"}}
	})
	checkErrs(t, finish(validatePriorityLevelConfigurationStatusUpdate(pl, old)), nil)
	pl.Status.Conditions = append(pl.Status.Conditions, flowcontrolv1.PriorityLevelConfigurationCondition{Status: "True"})
	checkErrs(t, finish(validatePriorityLevelConfigurationStatusUpdate(pl, old)), []string{"status.conditions[1].type: Required value"})
}

// TestMandatoryFlowControlObjects checks that the mandatory objects' specs are fixed and the suggested ones' are not.
func TestMandatoryFlowControlObjects(t *testing.T) {
	flowSchemas, levels := flowcontrol.Bootstrap()
	for _, fs := range flowSchemas {
		checkErrs(t, finish(validateFlowSchema(fs)), nil)
		changed := fs.DeepCopy()
		changed.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByNamespaceType}
		errs := finish(validateFlowSchemaUpdate(changed, fs))
		mandatory := flowcontrol.MandatoryFlowSchema(fs.Name) != nil
		if !mandatory {
			checkErrs(t, errs, nil)
			continue
		}
		if len(errs) != 1 || errs[0].Type != field.ErrorTypeInvalid || errs[0].Field != "spec" ||
			errs[0].Detail != "spec of '"+fs.Name+"' must equal the fixed value" {
			t.Errorf("changing mandatory FlowSchema %s: got %v, want one spec Invalid error", fs.Name, errStrings(errs))
		}
	}
	for _, pl := range levels {
		checkErrs(t, finish(validatePriorityLevelConfiguration(pl)), nil)
		if pl.Spec.Limited == nil {
			continue
		}
		changed := pl.DeepCopy()
		*changed.Spec.Limited.NominalConcurrencyShares++
		errs := finish(validatePriorityLevelConfigurationUpdate(changed, pl))
		if pl.Name != "catch-all" {
			checkErrs(t, errs, nil)
			continue
		}
		if len(errs) != 1 || !strings.HasSuffix(errs[0].Error(), ": spec of 'catch-all' must equal the fixed value") {
			t.Errorf("changing catch-all: got %v", errStrings(errs))
		}
	}
}
