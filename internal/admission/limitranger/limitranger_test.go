package limitranger

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func lr(items ...corev1.LimitRangeItem) []*corev1.LimitRange {
	return []*corev1.LimitRange{{ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Spec: corev1.LimitRangeSpec{Limits: items}}}
}

func TestDefaultPod(t *testing.T) {
	ranges := lr(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
		Default: rl("cpu", "500m", "memory", "500Mi"), DefaultRequest: rl("cpu", "100m", "memory", "200Mi")})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{
			{Name: "empty"},
			{Name: "partial", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "300m"), Limits: rl("cpu", "1")}},
		},
		InitContainers: []corev1.Container{{Name: "init"}},
	}}
	DefaultPod(pod, ranges)
	want := "LimitRanger plugin set: cpu, memory request for container empty; cpu, memory limit for container empty; " +
		"memory request for container partial; memory limit for container partial; " +
		"cpu, memory request for init container init; cpu, memory limit for init container init"
	if got := pod.Annotations[Annotation]; got != want {
		t.Errorf("annotation\n got %q\nwant %q", got, want)
	}
	checks := []struct {
		c        corev1.Container
		req, lim corev1.ResourceList
	}{
		{pod.Spec.Containers[0], rl("cpu", "100m", "memory", "200Mi"), rl("cpu", "500m", "memory", "500Mi")},
		{pod.Spec.Containers[1], rl("cpu", "300m", "memory", "200Mi"), rl("cpu", "1", "memory", "500Mi")},
		{pod.Spec.InitContainers[0], rl("cpu", "100m", "memory", "200Mi"), rl("cpu", "500m", "memory", "500Mi")},
	}
	for _, c := range checks {
		for n, q := range c.req {
			if got := c.c.Resources.Requests[n]; got.Cmp(q) != 0 {
				t.Errorf("%s requests %s = %s, want %s", c.c.Name, n, got.String(), q.String())
			}
		}
		for n, q := range c.lim {
			if got := c.c.Resources.Limits[n]; got.Cmp(q) != 0 {
				t.Errorf("%s limits %s = %s, want %s", c.c.Name, n, got.String(), q.String())
			}
		}
	}

	// Nothing to set: no annotation.
	full := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
		Requests: rl("cpu", "1", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "1Gi")}}}}}
	DefaultPod(full, ranges)
	if _, ok := full.Annotations[Annotation]; ok {
		t.Errorf("annotation set on a pod that needed no defaults: %v", full.Annotations)
	}
}

func TestValidatePod(t *testing.T) {
	container := func(req, lim corev1.ResourceList) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
	}
	containerItem := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m"), Max: rl("cpu", "500m"),
		MaxLimitRequestRatio: rl("cpu", "2")}
	tests := []struct {
		name   string
		pod    *corev1.Pod
		ranges []*corev1.LimitRange
		want   string
	}{
		{"within", container(rl("cpu", "200m"), rl("cpu", "400m")), lr(containerItem), ""},
		{"over max", container(rl("cpu", "500m"), rl("cpu", "1")), lr(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "500m")}),
			"maximum cpu usage per Container is 500m, but limit is 1"},
		{"no limit under max", container(rl("cpu", "200m"), nil), lr(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "500m")}),
			"maximum cpu usage per Container is 500m.  No limit is specified"},
		{"under min", container(rl("cpu", "50m"), rl("cpu", "50m")), lr(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m")}),
			"minimum cpu usage per Container is 100m, but request is 50m"},
		{"ratio", container(rl("cpu", "100m"), rl("cpu", "300m")), lr(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl("cpu", "2")}),
			"cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000"},
		{"several errors", container(rl("cpu", "50m"), rl("cpu", "1")), lr(containerItem),
			"[minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 500m, but limit is 1, cpu max limit to request ratio per Container is 2, but provided ratio is 20.000000]"},
		{"pod max sums containers", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "a", Resources: corev1.ResourceRequirements{Requests: rl("memory", "300Mi"), Limits: rl("memory", "300Mi")}},
			{Name: "b", Resources: corev1.ResourceRequirements{Requests: rl("memory", "300Mi"), Limits: rl("memory", "300Mi")}},
		}}}, lr(corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("memory", "500Mi")}),
			"maximum memory usage per Pod is 500Mi, but limit is 600Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePod(tt.pod, tt.ranges)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidatePVC(t *testing.T) {
	ranges := lr(corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Min: rl("storage", "1Gi"), Max: rl("storage", "2Gi")})
	claim := func(size string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", size)}}}
	}
	for size, want := range map[string]string{
		"1Gi":   "",
		"500Mi": "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi",
		"3Gi":   "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi",
	} {
		err := ValidatePVC(claim(size), ranges)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", size, got, want)
		}
	}
}
