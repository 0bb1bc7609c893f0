package printers

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

func TestPriorityClassTable(t *testing.T) {
	// kubectl get priorityclass in Kubernetes 1.32 shows the preemption policy without -o wide.
	want := "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY"
	if got := strings.Join(colSpec(ColumnDefinitions(&schedulingv1.PriorityClassList{})), " "); got != want {
		t.Errorf("columns\n got: %s\nwant: %s", got, want)
	}
	never := corev1.PreemptNever
	runCellsCases(t, []cellsCase{
		{
			name: "global default that never preempts",
			obj:  &schedulingv1.PriorityClass{ObjectMeta: objMeta("batch"), Value: 1000, GlobalDefault: true, PreemptionPolicy: &never},
			want: []interface{}{"batch", int64(1000), true, "5m", "Never"},
		},
		{
			name: "preemption policy unset",
			obj:  &schedulingv1.PriorityClass{ObjectMeta: objMeta("low"), Value: -5},
			want: []interface{}{"low", int64(-5), false, "5m", "<unset>"},
		},
	})
}
