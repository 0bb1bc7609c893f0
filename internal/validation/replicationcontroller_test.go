package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func validReplicationController(mutate func(*corev1.ReplicationController)) *corev1.ReplicationController {
	tmpl := podTemplate(map[string]string{"app": "web"})
	rc := &corev1.ReplicationController{ObjectMeta: objMeta("web"), Spec: corev1.ReplicationControllerSpec{
		Replicas: ptr(int32(2)),
		Selector: map[string]string{"app": "web"},
		Template: &tmpl,
	}}
	if mutate != nil {
		mutate(rc)
	}
	return rc
}

func TestReplicationController(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validReplicationController(nil)},
		{name: "empty selector, no replicas, no template", obj: validReplicationController(func(rc *corev1.ReplicationController) {
			rc.Spec.Selector = nil
			rc.Spec.Replicas = nil
			rc.Spec.Template = nil
		}), want: []string{
			"spec.selector: Required value",
			"spec.replicas: Required value",
			"spec.template: Required value",
		}},
		{name: "negative counts", obj: validReplicationController(func(rc *corev1.ReplicationController) {
			rc.Spec.Replicas = ptr(int32(-1))
			rc.Spec.MinReadySeconds = -1
		}), want: []string{
			"spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
			"spec.replicas: Invalid value: -1: must be greater than or equal to 0",
		}},
		{name: "template that the selector does not match, restartPolicy and deadline", obj: validReplicationController(func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Labels = map[string]string{"app": "db"}
			rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			rc.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(30))
		}), want: []string{
			`spec.template.metadata.labels: Invalid value: {"app":"db"}: ` + "`selector` does not match template `labels`",
			`spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`,
			"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported",
		}},
	})
	runUpdate(t, []updateCase{
		// Unlike a ReplicaSet's, an RC's selector may change.
		{name: "selector change", obj: validReplicationController(func(rc *corev1.ReplicationController) {
			rc.Spec.Selector = map[string]string{"app": "web", "v": "2"}
			rc.Spec.Template.Labels = map[string]string{"app": "web", "v": "2"}
		}), old: validReplicationController(nil)},
		{name: "replicas negative", obj: validReplicationController(func(rc *corev1.ReplicationController) { rc.Spec.Replicas = ptr(int32(-3)) }),
			old: validReplicationController(nil), want: []string{"spec.replicas: Invalid value: -3: must be greater than or equal to 0"}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "counts", obj: validReplicationController(func(rc *corev1.ReplicationController) {
			rc.Status = corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 3, ObservedGeneration: -1}
		}), old: validReplicationController(nil), want: []string{
			"status.observedGeneration: Invalid value: -1: must be greater than or equal to 0",
			"status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
			"status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas",
			"status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
		}},
	})
}
