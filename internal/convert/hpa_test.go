package convert

import (
	"encoding/json"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func q(s string) *resource.Quantity { v := resource.MustParse(s); return &v }

func v2HPA() *autoscalingv2.HorizontalPodAutoscaler {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "jobs"}}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "rps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("100")}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("1Gi")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "depth", Selector: sel}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("30")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "hits"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("2k")}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
					Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70)}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](60)}}},
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: ptr.To[int64](3), LastScaleTime: &now, CurrentReplicas: 4, DesiredReplicas: 5,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
					Metric: autoscalingv2.MetricIdentifier{Name: "rps"}, Current: autoscalingv2.MetricValueStatus{AverageValue: q("90")}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
					Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](55)}}},
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, LastTransitionTime: now, Reason: "ReadyForNewScale", Message: "recommended size matches current size"},
			},
		},
	}
}

func TestHPAToV1(t *testing.T) {
	in := v2HPA()
	before := in.DeepCopy()
	out := HPAToV1(in)
	if !equality.Semantic.DeepEqual(in, before) {
		t.Fatalf("HPAToV1 changed its input:\n%s\nwas\n%s", js(in), js(before))
	}
	if got := ptr.Deref(out.Spec.TargetCPUUtilizationPercentage, -1); got != 60 {
		t.Errorf("targetCPUUtilizationPercentage = %d, want 60", got)
	}
	if got := ptr.Deref(out.Status.CurrentCPUUtilizationPercentage, -1); got != 55 {
		t.Errorf("currentCPUUtilizationPercentage = %d, want 55", got)
	}
	if out.Spec.MaxReplicas != 10 || *out.Spec.MinReplicas != 2 || out.Spec.ScaleTargetRef.Name != "web" || out.Status.DesiredReplicas != 5 {
		t.Errorf("spec/status fields: %+v %+v", out.Spec, out.Status)
	}
	for _, k := range []string{HPAMetricsAnnotation, HPACurrentMetricsAnnotation, HPAConditionsAnnotation, HPABehaviorAnnotation, "team"} {
		if _, ok := out.Annotations[k]; !ok {
			t.Errorf("annotation %s missing; have %v", k, out.Annotations)
		}
	}
	// As kube-apiserver: the v1 metric form (v2beta1's), without the cpu utilization target.
	if want := `[{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"100"}},{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}},{"type":"External","external":{"metricName":"depth","metricSelector":{"matchLabels":{"queue":"jobs"}},"targetValue":"30"}},{"type":"Object","object":{"target":{"kind":"Ingress","name":"main","apiVersion":"networking.k8s.io/v1"},"metricName":"hits","targetValue":"2k"}},{"type":"ContainerResource","containerResource":{"name":"cpu","targetAverageUtilization":70,"container":"app"}}]`; out.Annotations[HPAMetricsAnnotation] != want {
		t.Errorf("metrics annotation\n got %s\nwant %s", out.Annotations[HPAMetricsAnnotation], want)
	}
	if want := `{"scaleDown":{"stabilizationWindowSeconds":60}}`; out.Annotations[HPABehaviorAnnotation] != want {
		t.Errorf("behavior annotation %s, want %s", out.Annotations[HPABehaviorAnnotation], want)
	}

	// Without anything v1 lacks, no annotation is added.
	plain := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 3}}
	if got := HPAToV1(plain); got.Annotations != nil || got.Spec.TargetCPUUtilizationPercentage != nil {
		t.Errorf("plain: annotations %v, target %v", got.Annotations, got.Spec.TargetCPUUtilizationPercentage)
	}
}

// TestHPARoundTrip: v2 → v1 → v2 keeps everything (the cpu target moves last, as kube-apiserver orders it), and
// v1 → v2 → v1 is the identity.
func TestHPARoundTrip(t *testing.T) {
	in := v2HPA()
	back := HPAFromV1(HPAToV1(in))
	if !equality.Semantic.DeepEqual(in, back) {
		t.Errorf("v2 → v1 → v2:\n%s\nwant\n%s", js(back), js(in))
	}

	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MinReplicas:    ptr.To[int32](1), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr.To[int32](50),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, DesiredReplicas: 2, CurrentCPUUtilizationPercentage: ptr.To[int32](80)},
	}
	stored := HPAFromV1(v1)
	if len(stored.Spec.Metrics) != 1 || stored.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		stored.Spec.Metrics[0].Resource.Target.Type != autoscalingv2.UtilizationMetricType || *stored.Spec.Metrics[0].Resource.Target.AverageUtilization != 50 {
		t.Errorf("stored metrics: %+v", stored.Spec.Metrics)
	}
	if back := HPAToV1(stored); !equality.Semantic.DeepEqual(v1, back) {
		t.Errorf("v1 → v2 → v1:\n%s\nwant\n%s", js(back), js(v1))
	}

	// A broken annotation is dropped, the rest converts.
	v1.Annotations = map[string]string{HPAMetricsAnnotation: "{not json", HPABehaviorAnnotation: "[]"}
	got := HPAFromV1(v1)
	if got.Annotations != nil || len(got.Spec.Metrics) != 1 || got.Spec.Behavior != nil {
		t.Errorf("broken annotations: annotations %v, metrics %d, behavior %v", got.Annotations, len(got.Spec.Metrics), got.Spec.Behavior)
	}
}
