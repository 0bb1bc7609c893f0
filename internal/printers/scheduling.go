package printers

import (
	"time"

	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func init() {
	register[*schedulingv1.PriorityClass, *schedulingv1.PriorityClassList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Value", Type: "integer", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["value"]},
		{Name: "Global-Default", Type: "boolean", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]},
		ageColumn,
		{Name: "PreemptionPolicy", Type: "string", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]},
	}, printPriorityClass)
}

func printPriorityClass(obj *schedulingv1.PriorityClass, now time.Time) []interface{} {
	policy := "<unset>"
	if obj.PreemptionPolicy != nil {
		policy = string(*obj.PreemptionPolicy)
	}
	return []interface{}{obj.Name, int64(obj.Value), obj.GlobalDefault, translateTimestampSince(obj.CreationTimestamp, now), policy}
}
