// Package convert holds the conversions between two versions of a resource that skiff serves from one storage
// (its stored version and an older one), with Kubernetes' field mapping. Conversions never fail: what the older
// version has no field for travels in the annotations Kubernetes uses for it.
package convert

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The annotations that carry, in autoscaling/v1, what only autoscaling/v2 has fields for (as kube-apiserver's
// pkg/apis/autoscaling/v1 conversion).
const (
	HPAMetricsAnnotation        = "autoscaling.alpha.kubernetes.io/metrics"
	HPACurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	HPAConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	HPABehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
)

var hpaAnnotations = []string{HPAMetricsAnnotation, HPACurrentMetricsAnnotation, HPAConditionsAnnotation, HPABehaviorAnnotation}

// isCPUUtilization reports whether m is the cpu utilization target that autoscaling/v1 has a field for.
func isCPUUtilization(m *autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
		m.Resource.Target.AverageUtilization != nil
}

// HPAToV1 converts a stored autoscaling/v2 HorizontalPodAutoscaler to autoscaling/v1: the cpu utilization target
// and current value become targetCPUUtilizationPercentage and currentCPUUtilizationPercentage; other metrics, the
// conditions and the behavior go to the autoscaling.alpha.kubernetes.io annotations. in is not changed.
func HPAToV1(in *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv1.HorizontalPodAutoscaler {
	in = in.DeepCopy()
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: in.ObjectMeta,
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    in.Spec.MinReplicas,
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration,
			LastScaleTime:      in.Status.LastScaleTime,
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	if out.TypeMeta.APIVersion != "" {
		out.TypeMeta.APIVersion = autoscalingv1.SchemeGroupVersion.String()
	}
	var other []autoscalingv1.MetricSpec
	for i := range in.Spec.Metrics {
		m := &in.Spec.Metrics[i]
		if isCPUUtilization(m) {
			out.Spec.TargetCPUUtilizationPercentage = m.Resource.Target.AverageUtilization
			continue
		}
		other = append(other, metricSpecToV1(m))
	}
	var current []autoscalingv1.MetricStatus
	for i := range in.Status.CurrentMetrics {
		m := &in.Status.CurrentMetrics[i]
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU {
			out.Status.CurrentCPUUtilizationPercentage = m.Resource.Current.AverageUtilization
			continue
		}
		current = append(current, metricStatusToV1(m))
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, c := range in.Status.Conditions {
		conditions = append(conditions, autoscalingv1.HorizontalPodAutoscalerCondition{
			Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	setJSONAnnotation(&out.ObjectMeta.Annotations, HPAMetricsAnnotation, other, len(other) > 0)
	setJSONAnnotation(&out.ObjectMeta.Annotations, HPACurrentMetricsAnnotation, current, len(current) > 0)
	setJSONAnnotation(&out.ObjectMeta.Annotations, HPAConditionsAnnotation, conditions, len(conditions) > 0)
	setJSONAnnotation(&out.ObjectMeta.Annotations, HPABehaviorAnnotation, in.Spec.Behavior, in.Spec.Behavior != nil)
	return out
}

// HPAFromV1 converts an autoscaling/v1 HorizontalPodAutoscaler to the autoscaling/v2 form it is stored in (the
// inverse of HPAToV1): the annotations are read back into fields and removed. An annotation that does not parse
// is dropped, as kube-apiserver drops it. in is not changed.
func HPAFromV1(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	in = in.DeepCopy()
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: in.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    in.Spec.MinReplicas,
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration,
			LastScaleTime:      in.Status.LastScaleTime,
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	if out.TypeMeta.APIVersion != "" {
		out.TypeMeta.APIVersion = autoscalingv2.SchemeGroupVersion.String()
	}
	ann := in.ObjectMeta.Annotations
	var other []autoscalingv1.MetricSpec
	if s, ok := ann[HPAMetricsAnnotation]; ok {
		_ = json.Unmarshal([]byte(s), &other)
	}
	for i := range other {
		out.Spec.Metrics = append(out.Spec.Metrics, metricSpecFromV1(&other[i]))
	}
	// As kube-apiserver: the cpu target comes after the metrics of the annotation.
	if in.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: in.Spec.TargetCPUUtilizationPercentage,
			}},
		})
	}
	var current []autoscalingv1.MetricStatus
	if s, ok := ann[HPACurrentMetricsAnnotation]; ok {
		_ = json.Unmarshal([]byte(s), &current)
	}
	for i := range current {
		out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, metricStatusFromV1(&current[i]))
	}
	if in.Status.CurrentCPUUtilizationPercentage != nil {
		out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, autoscalingv2.MetricStatus{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{
				AverageUtilization: in.Status.CurrentCPUUtilizationPercentage,
			}},
		})
	}
	if s, ok := ann[HPAConditionsAnnotation]; ok {
		var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
		if json.Unmarshal([]byte(s), &conditions) == nil {
			for _, c := range conditions {
				out.Status.Conditions = append(out.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
					Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
					LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
				})
			}
		}
	}
	if s, ok := ann[HPABehaviorAnnotation]; ok {
		var b autoscalingv2.HorizontalPodAutoscalerBehavior
		if json.Unmarshal([]byte(s), &b) == nil {
			out.Spec.Behavior = &b
		}
	}
	for _, k := range hpaAnnotations {
		delete(out.ObjectMeta.Annotations, k)
	}
	if len(out.ObjectMeta.Annotations) == 0 {
		out.ObjectMeta.Annotations = nil
	}
	return out
}

func setJSONAnnotation(ann *map[string]string, key string, v any, present bool) {
	if !present {
		delete(*ann, key)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	if *ann == nil {
		*ann = map[string]string{}
	}
	(*ann)[key] = string(b)
}

func quantityOr0(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return *q
}

func ref(q resource.Quantity) *resource.Quantity { return &q }

func metricSpecToV1(in *autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(in.Type)}
	switch {
	case in.Object != nil:
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target: autoscalingv1.CrossVersionObjectReference(in.Object.DescribedObject), MetricName: in.Object.Metric.Name,
			Selector: in.Object.Metric.Selector, TargetValue: quantityOr0(in.Object.Target.Value), AverageValue: in.Object.Target.AverageValue,
		}
	case in.Pods != nil:
		out.Pods = &autoscalingv1.PodsMetricSource{MetricName: in.Pods.Metric.Name, Selector: in.Pods.Metric.Selector,
			TargetAverageValue: quantityOr0(in.Pods.Target.AverageValue)}
	case in.Resource != nil:
		out.Resource = &autoscalingv1.ResourceMetricSource{Name: in.Resource.Name,
			TargetAverageUtilization: in.Resource.Target.AverageUtilization, TargetAverageValue: in.Resource.Target.AverageValue}
	case in.ContainerResource != nil:
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{Name: in.ContainerResource.Name, Container: in.ContainerResource.Container,
			TargetAverageUtilization: in.ContainerResource.Target.AverageUtilization, TargetAverageValue: in.ContainerResource.Target.AverageValue}
	case in.External != nil:
		out.External = &autoscalingv1.ExternalMetricSource{MetricName: in.External.Metric.Name, MetricSelector: in.External.Metric.Selector,
			TargetValue: in.External.Target.Value, TargetAverageValue: in.External.Target.AverageValue}
	}
	return out
}

// averageTarget is the target type of a v1 resource metric: Utilization when a utilization is given, else
// AverageValue.
func averageTarget(utilization *int32) autoscalingv2.MetricTargetType {
	if utilization != nil {
		return autoscalingv2.UtilizationMetricType
	}
	return autoscalingv2.AverageValueMetricType
}

func metricSpecFromV1(in *autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(in.Type)}
	switch {
	case in.Object != nil:
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ref(in.Object.TargetValue), AverageValue: in.Object.AverageValue}
		if in.Object.AverageValue != nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.Object = &autoscalingv2.ObjectMetricSource{DescribedObject: autoscalingv2.CrossVersionObjectReference(in.Object.Target),
			Metric: autoscalingv2.MetricIdentifier{Name: in.Object.MetricName, Selector: in.Object.Selector}, Target: t}
	case in.Pods != nil:
		out.Pods = &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: in.Pods.MetricName, Selector: in.Pods.Selector},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ref(in.Pods.TargetAverageValue)}}
	case in.Resource != nil:
		out.Resource = &autoscalingv2.ResourceMetricSource{Name: in.Resource.Name, Target: autoscalingv2.MetricTarget{
			Type: averageTarget(in.Resource.TargetAverageUtilization), AverageUtilization: in.Resource.TargetAverageUtilization,
			AverageValue: in.Resource.TargetAverageValue}}
	case in.ContainerResource != nil:
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{Name: in.ContainerResource.Name, Container: in.ContainerResource.Container,
			Target: autoscalingv2.MetricTarget{Type: averageTarget(in.ContainerResource.TargetAverageUtilization),
				AverageUtilization: in.ContainerResource.TargetAverageUtilization, AverageValue: in.ContainerResource.TargetAverageValue}}
	case in.External != nil:
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: in.External.TargetValue, AverageValue: in.External.TargetAverageValue}
		if in.External.TargetValue != nil {
			t.Type = autoscalingv2.ValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: in.External.MetricName, Selector: in.External.MetricSelector}, Target: t}
	}
	return out
}

func metricStatusToV1(in *autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(in.Type)}
	switch {
	case in.Object != nil:
		out.Object = &autoscalingv1.ObjectMetricStatus{Target: autoscalingv1.CrossVersionObjectReference(in.Object.DescribedObject),
			MetricName: in.Object.Metric.Name, Selector: in.Object.Metric.Selector, CurrentValue: quantityOr0(in.Object.Current.Value),
			AverageValue: in.Object.Current.AverageValue}
	case in.Pods != nil:
		out.Pods = &autoscalingv1.PodsMetricStatus{MetricName: in.Pods.Metric.Name, Selector: in.Pods.Metric.Selector,
			CurrentAverageValue: quantityOr0(in.Pods.Current.AverageValue)}
	case in.Resource != nil:
		out.Resource = &autoscalingv1.ResourceMetricStatus{Name: in.Resource.Name,
			CurrentAverageUtilization: in.Resource.Current.AverageUtilization, CurrentAverageValue: quantityOr0(in.Resource.Current.AverageValue)}
	case in.ContainerResource != nil:
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{Name: in.ContainerResource.Name, Container: in.ContainerResource.Container,
			CurrentAverageUtilization: in.ContainerResource.Current.AverageUtilization, CurrentAverageValue: quantityOr0(in.ContainerResource.Current.AverageValue)}
	case in.External != nil:
		out.External = &autoscalingv1.ExternalMetricStatus{MetricName: in.External.Metric.Name, MetricSelector: in.External.Metric.Selector,
			CurrentValue: quantityOr0(in.External.Current.Value), CurrentAverageValue: in.External.Current.AverageValue}
	}
	return out
}

func metricStatusFromV1(in *autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(in.Type)}
	switch {
	case in.Object != nil:
		out.Object = &autoscalingv2.ObjectMetricStatus{DescribedObject: autoscalingv2.CrossVersionObjectReference(in.Object.Target),
			Metric:  autoscalingv2.MetricIdentifier{Name: in.Object.MetricName, Selector: in.Object.Selector},
			Current: autoscalingv2.MetricValueStatus{Value: ref(in.Object.CurrentValue), AverageValue: in.Object.AverageValue}}
	case in.Pods != nil:
		out.Pods = &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: in.Pods.MetricName, Selector: in.Pods.Selector},
			Current: autoscalingv2.MetricValueStatus{AverageValue: ref(in.Pods.CurrentAverageValue)}}
	case in.Resource != nil:
		out.Resource = &autoscalingv2.ResourceMetricStatus{Name: in.Resource.Name,
			Current: autoscalingv2.MetricValueStatus{AverageUtilization: in.Resource.CurrentAverageUtilization, AverageValue: ref(in.Resource.CurrentAverageValue)}}
	case in.ContainerResource != nil:
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: in.ContainerResource.Name, Container: in.ContainerResource.Container,
			Current: autoscalingv2.MetricValueStatus{AverageUtilization: in.ContainerResource.CurrentAverageUtilization, AverageValue: ref(in.ContainerResource.CurrentAverageValue)}}
	case in.External != nil:
		out.External = &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: in.External.MetricName, Selector: in.External.MetricSelector},
			Current: autoscalingv2.MetricValueStatus{Value: ref(in.External.CurrentValue), AverageValue: in.External.CurrentAverageValue}}
	}
	return out
}
