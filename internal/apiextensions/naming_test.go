package apiextensions

import (
	"reflect"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// accepted returns a CRD of group whose names (plural, singular, kind, short names) are already accepted.
func accepted(name, group, plural, singular, kind string, short ...string) *apiextv1.CustomResourceDefinition {
	crd := &apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name}}
	crd.Spec.Group = group
	crd.Spec.Names = apiextv1.CustomResourceDefinitionNames{Plural: plural, Singular: singular, Kind: kind, ListKind: kind + "List", ShortNames: short}
	crd.Status.AcceptedNames = crd.Spec.Names
	return crd
}

type cond struct {
	status         apiextv1.ConditionStatus
	reason, msg    string
	transitionSecs int64
}

func conditionOf(t *testing.T, s apiextv1.CustomResourceDefinitionStatus, ct apiextv1.CustomResourceDefinitionConditionType) cond {
	t.Helper()
	c := FindCondition(&s, ct)
	if c == nil {
		t.Fatalf("no %s condition in %+v", ct, s.Conditions)
	}
	return cond{c.Status, c.Reason, c.Message, c.LastTransitionTime.Unix()}
}

func TestNamingStatus(t *testing.T) {
	now := metav1.Unix(1000, 0)
	noConflicts := cond{apiextv1.ConditionTrue, "NoConflicts", "no conflicts found", 1000}
	established := cond{apiextv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted", 1000}
	notAccepted := cond{apiextv1.ConditionFalse, "NotAccepted", "not all names are accepted", 1000}
	widgetNames := apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", ShortNames: []string{"wd"}, Kind: "Widget", ListKind: "WidgetList"}

	tests := []struct {
		name       string
		crd        func() *apiextv1.CustomResourceDefinition
		others     []*apiextv1.CustomResourceDefinition
		wantNames  apiextv1.CustomResourceDefinitionNames
		wantNames2 cond // NamesAccepted
		wantEstabl cond
	}{
		{
			name: "fresh CRD gets its names and is established", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:    []*apiextv1.CustomResourceDefinition{accepted("gadgets.example.com", "example.com", "gadgets", "gadget", "Gadget")},
			wantNames: widgetNames, wantNames2: noConflicts, wantEstabl: established,
		},
		{
			name: "itself in the list is not a conflict", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:    []*apiextv1.CustomResourceDefinition{accepted("widgets.example.com", "example.com", "widgets", "widget", "Widget", "wd")},
			wantNames: widgetNames, wantNames2: noConflicts, wantEstabl: established,
		},
		{
			name: "same names in another group are no conflict", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:    []*apiextv1.CustomResourceDefinition{accepted("widgets.example.org", "example.org", "widgets", "widget", "Widget", "wd")},
			wantNames: widgetNames, wantNames2: noConflicts, wantEstabl: established,
		},
		{
			name: "plural taken", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:     []*apiextv1.CustomResourceDefinition{accepted("old.example.com", "example.com", "widgets", "oldwidget", "OldWidget")},
			wantNames:  apiextv1.CustomResourceDefinitionNames{Singular: "widget", ShortNames: []string{"wd"}, Kind: "Widget", ListKind: "WidgetList"},
			wantNames2: cond{apiextv1.ConditionFalse, "PluralConflict", `"widgets" is already in use`, 1000}, wantEstabl: notAccepted,
		},
		{
			name: "singular taken as another CRD's short name", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:     []*apiextv1.CustomResourceDefinition{accepted("old.example.com", "example.com", "olds", "old", "Old", "widget")},
			wantNames:  apiextv1.CustomResourceDefinitionNames{Plural: "widgets", ShortNames: []string{"wd"}, Kind: "Widget", ListKind: "WidgetList"},
			wantNames2: cond{apiextv1.ConditionFalse, "SingularConflict", `"widget" is already in use`, 1000}, wantEstabl: notAccepted,
		},
		{
			name: "short names taken", crd: func() *apiextv1.CustomResourceDefinition {
				c := validCRD()
				c.Spec.Names.ShortNames = []string{"wd", "w", "ok"}
				return c
			},
			others:     []*apiextv1.CustomResourceDefinition{accepted("old.example.com", "example.com", "olds", "old", "Old", "wd", "w")},
			wantNames:  apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			wantNames2: cond{apiextv1.ConditionFalse, "ShortNamesConflict", `["wd" is already in use, "w" is already in use]`, 1000}, wantEstabl: notAccepted,
		},
		{
			name: "kind and listKind taken: the last conflict is reported", crd: func() *apiextv1.CustomResourceDefinition { return validCRD() },
			others:     []*apiextv1.CustomResourceDefinition{accepted("old.example.com", "example.com", "olds", "old", "Widget")},
			wantNames:  apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", ShortNames: []string{"wd"}},
			wantNames2: cond{apiextv1.ConditionFalse, "ListKindConflict", `"WidgetList" is already in use`, 1000}, wantEstabl: notAccepted,
		},
		{
			name: "its own accepted singular blocks a rename of its plural", crd: func() *apiextv1.CustomResourceDefinition {
				c := validCRD()
				c.Status = NamingStatus(c, nil, metav1.Unix(10, 0))
				c.Spec.Names.Plural = "widget"
				return c
			},
			wantNames:  widgetNames,
			wantNames2: cond{apiextv1.ConditionFalse, "PluralConflict", `"widget" is already in use`, 1000},
			// Once established a CRD stays established, with its first transition time.
			wantEstabl: cond{apiextv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted", 10},
		},
		{
			name: "unchanged status keeps transition times", crd: func() *apiextv1.CustomResourceDefinition {
				c := validCRD()
				c.Status = NamingStatus(c, nil, metav1.Unix(10, 0))
				return c
			},
			wantNames:  widgetNames,
			wantNames2: cond{apiextv1.ConditionTrue, "NoConflicts", "no conflicts found", 10},
			wantEstabl: cond{apiextv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted", 10},
		},
		{
			name: "invalid caBundle keeps it from being established", crd: func() *apiextv1.CustomResourceDefinition {
				c := validCRD()
				c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
					ClientConfig: &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com"), CABundle: []byte("junk")}, ConversionReviewVersions: []string{"v1"},
				}}
				return c
			},
			wantNames: widgetNames, wantNames2: noConflicts,
			wantEstabl: cond{apiextv1.ConditionFalse, "InvalidCABundle", "The conversion webhook CABundle is invalid", 1000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			crd := tc.crd()
			before := crd.DeepCopy()
			got := NamingStatus(crd, tc.others, now)
			if !reflect.DeepEqual(crd, before) {
				t.Errorf("NamingStatus modified its input")
			}
			if !reflect.DeepEqual(got.AcceptedNames, tc.wantNames) {
				t.Errorf("acceptedNames = %+v, want %+v", got.AcceptedNames, tc.wantNames)
			}
			if c := conditionOf(t, got, apiextv1.NamesAccepted); c != tc.wantNames2 {
				t.Errorf("NamesAccepted = %+v, want %+v", c, tc.wantNames2)
			}
			if c := conditionOf(t, got, apiextv1.Established); c != tc.wantEstabl {
				t.Errorf("Established = %+v, want %+v", c, tc.wantEstabl)
			}
			if len(got.Conditions) != 2 {
				t.Errorf("conditions = %+v, want NamesAccepted and Established only", got.Conditions)
			}
			if !reflect.DeepEqual(got.StoredVersions, crd.Status.StoredVersions) {
				t.Errorf("storedVersions = %v, want them kept: %v", got.StoredVersions, crd.Status.StoredVersions)
			}
		})
	}
}

func TestSetCondition(t *testing.T) {
	var s apiextv1.CustomResourceDefinitionStatus
	SetCondition(&s, TerminatingInProgress(metav1.Unix(1, 0)))
	SetCondition(&s, TerminatingFailed(errString("boom"), metav1.Unix(2, 0)))
	c := FindCondition(&s, apiextv1.Terminating)
	if got, want := (cond{c.Status, c.Reason, c.Message, c.LastTransitionTime.Unix()}), (cond{apiextv1.ConditionTrue, "InstanceDeletionFailed", "could not issue all deletes: boom", 1}); got != want {
		t.Errorf("same status: got %+v, want %+v (time kept)", got, want)
	}
	SetCondition(&s, TerminatingCompleted(metav1.Unix(3, 0)))
	c = FindCondition(&s, apiextv1.Terminating)
	if got, want := (cond{c.Status, c.Reason, c.Message, c.LastTransitionTime.Unix()}), (cond{apiextv1.ConditionFalse, "InstanceDeletionCompleted", "removed all instances", 3}); got != want {
		t.Errorf("status change: got %+v, want %+v", got, want)
	}
	if len(s.Conditions) != 1 {
		t.Errorf("conditions = %+v, want one", s.Conditions)
	}
	RemoveCondition(&s, apiextv1.Terminating)
	if len(s.Conditions) != 0 {
		t.Errorf("after RemoveCondition: %+v", s.Conditions)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
