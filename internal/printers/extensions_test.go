package printers

import (
	"fmt"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestExtensionCells(t *testing.T) {
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	created := metav1.NewTime(now.Add(-2 * time.Hour))
	om := metav1.ObjectMeta{Name: "x", CreationTimestamp: created}
	for _, tc := range []struct {
		obj  runtime.Object
		cols string
		want string
	}{
		{&apiextv1.CustomResourceDefinition{ObjectMeta: om}, "[Name Created At]", "[x 2025-12-31T23:00:00Z]"},
		{&apiregistrationv1.APIService{ObjectMeta: om, Spec: apiregistrationv1.APIServiceSpec{Service: &apiregistrationv1.ServiceReference{Namespace: "ns", Name: "api"}},
			Status: apiregistrationv1.APIServiceStatus{Conditions: []apiregistrationv1.APIServiceCondition{{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionFalse, Reason: "ServiceNotProxied"}}}},
			"[Name Service Available Age]", "[x ns/api False (ServiceNotProxied) 120m]"},
		{&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: om, Webhooks: make([]admissionregistrationv1.ValidatingWebhook, 2)}, "[Name Webhooks Age]", "[x 2 120m]"},
		{&flowcontrolv1.FlowSchema{ObjectMeta: om, Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload-low"}, MatchingPrecedence: 9000,
			DistinguisherMethod: &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType}},
			Status: flowcontrolv1.FlowSchemaStatus{Conditions: []flowcontrolv1.FlowSchemaCondition{{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse}}}},
			"[Name PriorityLevel MatchingPrecedence DistinguisherMethod Age MissingPL]", "[x workload-low 9000 ByUser 120m False]"},
		{&flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(30)), LimitResponse: flowcontrolv1.LimitResponse{
				Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{Queues: 64, HandSize: 6, QueueLengthLimit: 50}}}}},
			"[Name Type NominalConcurrencyShares Queues HandSize QueueLengthLimit Age]", "[x Limited 30 64 6 50 120m]"},
		{&flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt}},
			"[Name Type NominalConcurrencyShares Queues HandSize QueueLengthLimit Age]", "[x Exempt <none> <none> <none> <none> 120m]"},
	} {
		var names []string
		for _, c := range ColumnDefinitions(tc.obj) {
			names = append(names, c.Name)
		}
		if got := fmt.Sprint(names); got != tc.cols {
			t.Errorf("%T columns = %s, want %s", tc.obj, got, tc.cols)
		}
		cells, err := Cells(tc.obj, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cells); got != tc.want {
			t.Errorf("%T cells = %s, want %s", tc.obj, got, tc.want)
		}
	}
}
