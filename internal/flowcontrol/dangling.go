package flowcontrol

import (
	"fmt"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of the Dangling condition, as kube-apiserver's APF configuration controller writes them.
const (
	ReasonNotFound = "NotFound"
	ReasonFound    = "Found"
)

// Dangling returns the Dangling condition fs should carry given the existing levels, and whether it must be written (stamped now if so).
func Dangling(fs *flowcontrolv1.FlowSchema, levels []*flowcontrolv1.PriorityLevelConfiguration, now time.Time) (flowcontrolv1.FlowSchemaCondition, bool) {
	name := fs.Spec.PriorityLevelConfiguration.Name
	found := false
	for _, pl := range levels {
		if pl != nil && pl.Name == name {
			found = true
			break
		}
	}
	want := flowcontrolv1.FlowSchemaCondition{
		Type:    flowcontrolv1.FlowSchemaConditionDangling,
		Status:  flowcontrolv1.ConditionFalse,
		Reason:  ReasonFound,
		Message: fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q and it exists", name),
	}
	if !found {
		want.Status = flowcontrolv1.ConditionTrue
		want.Reason = ReasonNotFound
		want.Message = fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q but there is no such object", name)
	}
	if cur := FlowSchemaCondition(fs, flowcontrolv1.FlowSchemaConditionDangling); cur != nil &&
		cur.Status == want.Status && cur.Reason == want.Reason && cur.Message == want.Message {
		return *cur, false
	}
	want.LastTransitionTime = metav1.NewTime(now)
	return want, true
}

// FlowSchemaCondition returns fs's condition of type t, or nil.
func FlowSchemaCondition(fs *flowcontrolv1.FlowSchema, t flowcontrolv1.FlowSchemaConditionType) *flowcontrolv1.FlowSchemaCondition {
	for i := range fs.Status.Conditions {
		if fs.Status.Conditions[i].Type == t {
			return &fs.Status.Conditions[i]
		}
	}
	return nil
}

// SetFlowSchemaCondition replaces fs's condition of cond's type with cond, or appends cond, as a server-side apply of it does.
func SetFlowSchemaCondition(fs *flowcontrolv1.FlowSchema, cond flowcontrolv1.FlowSchemaCondition) {
	if cur := FlowSchemaCondition(fs, cond.Type); cur != nil {
		*cur = cond
		return
	}
	fs.Status.Conditions = append(fs.Status.Conditions, cond)
}
