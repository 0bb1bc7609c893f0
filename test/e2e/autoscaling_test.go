package e2e

// HorizontalPodAutoscalers in both versions kube-apiserver serves, autoscaling/v2 (stored, preferred) and
// autoscaling/v1 (what `kubectl autoscale` writes), through the real kubectl against `skiff server
// --disable-agent`. No kubelet runs, so this test needs no machine lock.

import (
	"encoding/json"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestHorizontalPodAutoscalerVersions(t *testing.T) {
	c := startServer(t)
	const v1, v2 = "horizontalpodautoscalers.v1.autoscaling", "horizontalpodautoscalers.v2.autoscaling"

	t.Run("discovery", func(t *testing.T) {
		var group struct {
			Versions         []struct{ Version string }
			PreferredVersion struct{ Version string }
		}
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "--raw", "/apis/autoscaling")), &group); err != nil {
			t.Fatal(err)
		}
		if len(group.Versions) != 2 || group.Versions[0].Version != "v2" || group.Versions[1].Version != "v1" || group.PreferredVersion.Version != "v2" {
			t.Errorf("autoscaling group: %+v, want versions v2, v1 with v2 preferred", group)
		}
	})

	t.Run("kubectl autoscale writes v1, read in both versions", func(t *testing.T) {
		c.mustKubectl(t, "create", "deployment", "web", "--image=skiff.local/testapp:dev", "--replicas=2")
		if out := c.mustKubectl(t, "autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=60"); strings.TrimSpace(out) != "horizontalpodautoscaler.autoscaling/web autoscaled" {
			t.Errorf("autoscale: %q", out)
		}
		row := strings.Join(strings.Fields(c.mustKubectl(t, "get", "hpa", "web", "--no-headers")), " ")
		if want := "web Deployment/web cpu: <unknown>/60% 2 5 0"; !strings.HasPrefix(row, want) {
			t.Errorf("get hpa: %q, want prefix %q", row, want)
		}
		var got1 autoscalingv1.HorizontalPodAutoscaler
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", v1, "web", "-o", "json")), &got1); err != nil {
			t.Fatal(err)
		}
		if got1.APIVersion != "autoscaling/v1" || got1.Spec.TargetCPUUtilizationPercentage == nil || *got1.Spec.TargetCPUUtilizationPercentage != 60 ||
			got1.Spec.MaxReplicas != 5 || *got1.Spec.MinReplicas != 2 || got1.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("v1 HPA: %+v", got1)
		}
		var got2 autoscalingv2.HorizontalPodAutoscaler
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", v2, "web", "-o", "json")), &got2); err != nil {
			t.Fatal(err)
		}
		if m := got2.Spec.Metrics; got2.APIVersion != "autoscaling/v2" || len(m) != 1 || m[0].Type != autoscalingv2.ResourceMetricSourceType ||
			m[0].Resource.Name != "cpu" || m[0].Resource.Target.Type != autoscalingv2.UtilizationMetricType || *m[0].Resource.Target.AverageUtilization != 60 {
			t.Errorf("v2 HPA: %+v", got2)
		}
		if got1.ResourceVersion != got2.ResourceVersion || got1.UID != got2.UID {
			t.Errorf("one object in two versions: v1 rv %s uid %s, v2 rv %s uid %s", got1.ResourceVersion, got1.UID, got2.ResourceVersion, got2.UID)
		}
	})

	t.Run("v2-only fields survive a v1 update", func(t *testing.T) {
		c.mustStdin(t, `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: queue}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 6
  metrics:
  - type: Pods
    pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: "100"}}
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 30}
`, "apply", "-f", "-")
		ann := c.mustKubectl(t, "get", v1, "queue", "-o", `jsonpath={.metadata.annotations.autoscaling\.alpha\.kubernetes\.io/metrics}`)
		if want := `[{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"100"}}]`; ann != want {
			t.Errorf("v1 metrics annotation %q, want %q", ann, want)
		}
		if cpu := c.mustKubectl(t, "get", v1, "queue", "-o", "jsonpath={.spec.targetCPUUtilizationPercentage}"); cpu != "70" {
			t.Errorf("v1 targetCPUUtilizationPercentage %q, want 70", cpu)
		}
		c.mustKubectl(t, "patch", v1, "queue", "--type=merge", "-p", `{"spec":{"maxReplicas":8,"targetCPUUtilizationPercentage":75}}`)
		var got autoscalingv2.HorizontalPodAutoscaler
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", v2, "queue", "-o", "json")), &got); err != nil {
			t.Fatal(err)
		}
		m := got.Spec.Metrics
		if got.Spec.MaxReplicas != 8 || len(m) != 2 || m[0].Type != autoscalingv2.PodsMetricSourceType || m[0].Pods.Metric.Name != "rps" ||
			m[1].Resource == nil || *m[1].Resource.Target.AverageUtilization != 75 {
			t.Errorf("after the v1 patch: maxReplicas %d, metrics %+v", got.Spec.MaxReplicas, m)
		}
		if got.Spec.Behavior == nil || got.Spec.Behavior.ScaleDown == nil || *got.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != 30 {
			t.Errorf("after the v1 patch: behavior %+v", got.Spec.Behavior)
		}
		if _, ok := got.Annotations["autoscaling.alpha.kubernetes.io/metrics"]; ok {
			t.Errorf("the v1 annotations are stored: %v", got.Annotations)
		}
	})

	t.Run("v1 validation names the field", func(t *testing.T) {
		_, errOut, code := c.stdin(t, `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 2
`, "create", "-f", "-")
		want := `The HorizontalPodAutoscaler "bad" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to ` + "`minReplicas`"
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q, want it to contain %q", code, errOut, want)
		}
		if _, _, code := c.kubectl(t, "get", v1, "bad"); code == 0 {
			t.Errorf("the invalid HPA was stored")
		}
	})

	t.Run("delete through v1", func(t *testing.T) {
		c.mustKubectl(t, "delete", v1, "web")
		if out := c.mustKubectl(t, "get", v2, "-o", "name"); strings.TrimSpace(out) != "horizontalpodautoscaler.autoscaling/queue" {
			t.Errorf("after deleting web through v1, v2 lists %q", out)
		}
	})
}
