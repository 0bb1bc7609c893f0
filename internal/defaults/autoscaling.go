package defaults

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// This file holds the autoscaling defaulters
// (k8s.io/kubernetes/pkg/apis/autoscaling/{v1,v2}/defaults.go).

// defaultCPUUtilization is autoscaling.DefaultCPUUtilization.
const defaultCPUUtilization = 80

func defaultHPAv1(hpa *autoscalingv1.HorizontalPodAutoscaler) {
	if hpa.Spec.MinReplicas == nil {
		hpa.Spec.MinReplicas = ptrTo(int32(1))
	}
}

func defaultHPAv2(hpa *autoscalingv2.HorizontalPodAutoscaler) {
	if hpa.Spec.MinReplicas == nil {
		hpa.Spec.MinReplicas = ptrTo(int32(1))
	}
	if len(hpa.Spec.Metrics) == 0 {
		hpa.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptrTo(int32(defaultCPUUtilization)),
				},
			},
		}}
	}
	// The behavior is only completed when present at all.
	if b := hpa.Spec.Behavior; b != nil {
		b.ScaleUp = mergeHPAScalingRules(b.ScaleUp, defaultHPAScaleUpRules())
		b.ScaleDown = mergeHPAScalingRules(b.ScaleDown, defaultHPAScaleDownRules())
	}
}

// defaultHPAScaleUpRules: no stabilization, scale up by at most 4 pods or
// 100% (whichever is more) every 15 seconds.
func defaultHPAScaleUpRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptrTo(int32(0)),
		SelectPolicy:               ptrTo(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// defaultHPAScaleDownRules: scale down by at most 100% every 15 seconds.
// The stabilization window stays nil: the controller applies its
// command-line default.
func defaultHPAScaleDownRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: ptrTo(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// mergeHPAScalingRules is copyHPAScalingRules: every non-nil field of from
// overrides the default.
func mergeHPAScalingRules(from, to *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if from == nil {
		return to
	}
	if from.SelectPolicy != nil {
		to.SelectPolicy = from.SelectPolicy
	}
	if from.StabilizationWindowSeconds != nil {
		to.StabilizationWindowSeconds = from.StabilizationWindowSeconds
	}
	if from.Policies != nil {
		to.Policies = from.Policies
	}
	// Not known to v1.32 (HPAConfigurableTolerance), but dropping a value
	// the client sent would lose data.
	if from.Tolerance != nil {
		to.Tolerance = from.Tolerance
	}
	return to
}
