package quota

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func pod(name string, req, lim corev1.ResourceList, mut ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func assertList(t *testing.T, got, want corev1.ResourceList) {
	t.Helper()
	if !Equal(got, want) {
		t.Errorf("got %v, want %v", prettyPrint(got), prettyPrint(want))
	}
}

func TestUsage(t *testing.T) {
	deleted := metav1.NewTime(now.Add(-time.Minute))
	grace := int64(30)
	sc := "gold"
	no := false
	tests := []struct {
		name string
		gr   schema.GroupResource
		obj  runtime.Object
		want corev1.ResourceList
	}{
		{"pod requests and limits", Pods, pod("p", rl("cpu", "500m", "memory", "252Mi", "ephemeral-storage", "30Gi", "example.com/dongle", "2"), rl("cpu", "1", "example.com/dongle", "2")),
			rl("pods", "1", "count/pods", "1", "cpu", "500m", "requests.cpu", "500m", "memory", "252Mi", "requests.memory", "252Mi",
				"ephemeral-storage", "30Gi", "requests.ephemeral-storage", "30Gi", "requests.example.com/dongle", "2", "limits.cpu", "1")},
		{"init container larger than containers", Pods, pod("p", rl("cpu", "100m"), nil, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "300m")}}}
		}), rl("pods", "1", "count/pods", "1", "cpu", "300m", "requests.cpu", "300m")},
		{"sidecar adds to containers", Pods, pod("p", rl("cpu", "100m"), nil, func(p *corev1.Pod) {
			always := corev1.ContainerRestartPolicyAlways
			p.Spec.InitContainers = []corev1.Container{{Name: "s", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: rl("cpu", "50m")}}}
		}), rl("pods", "1", "count/pods", "1", "cpu", "150m", "requests.cpu", "150m")},
		{"terminal pod counts only as an object", Pods, pod("p", rl("cpu", "1"), nil, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			rl("count/pods", "1")},
		{"pod past its deletion grace period", Pods, pod("p", rl("cpu", "1"), nil, func(p *corev1.Pod) {
			p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &deleted, &grace
		}), rl("count/pods", "1")},
		{"clusterIP service", Services, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}},
			rl("services", "1", "count/services", "1", "services.nodeports", "0", "services.loadbalancers", "0")},
		{"nodeport service counts its ports", Services, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 81}}}},
			rl("services", "1", "count/services", "1", "services.nodeports", "2", "services.loadbalancers", "0")},
		{"loadbalancer without node ports", Services, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: &no, Ports: []corev1.ServicePort{{Port: 80}}}},
			rl("services", "1", "count/services", "1", "services.nodeports", "0", "services.loadbalancers", "1")},
		{"claim with a storage class", PersistentVolumeClaims, &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &sc,
			Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "1Gi")}}},
			rl("persistentvolumeclaims", "1", "count/persistentvolumeclaims", "1", "requests.storage", "1Gi",
				"gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1", "gold.storageclass.storage.k8s.io/requests.storage", "1Gi")},
		{"configmap", ConfigMaps, &corev1.ConfigMap{}, rl("configmaps", "1", "count/configmaps", "1")},
		{"replicaset", schema.GroupResource{Group: "apps", Resource: "replicasets"}, &metav1.PartialObjectMetadata{}, rl("count/replicasets.apps", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertList(t, Usage(tt.gr, tt.obj, now), tt.want) })
	}
}

func TestParseCountName(t *testing.T) {
	for in, want := range map[string]schema.GroupResource{
		"count/pods":                   {Resource: "pods"},
		"count/replicasets.apps":       {Group: "apps", Resource: "replicasets"},
		"count/widgets.example.com":    {Group: "example.com", Resource: "widgets"},
		"count/deployments.extensions": {Group: "extensions", Resource: "deployments"},
	} {
		got, ok := ParseCountName(corev1.ResourceName(in))
		if !ok || got != want {
			t.Errorf("ParseCountName(%q) = %v, %v; want %v", in, got, ok, want)
		}
		if CountName(want) != corev1.ResourceName(in) {
			t.Errorf("CountName(%v) = %q, want %q", want, CountName(want), in)
		}
	}
}

func TestMatchesScopes(t *testing.T) {
	deadline := int64(10)
	terminating := pod("t", nil, nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &deadline })
	burstable := pod("b", rl("cpu", "1"), nil)
	high := pod("h", nil, nil, func(p *corev1.Pod) { p.Spec.PriorityClassName = "high" })
	hard := rl("pods", "5")
	scoped := func(scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: hard, Scopes: scopes}}
	}
	selector := func(op corev1.ScopeSelectorOperator, values ...string) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: hard, ScopeSelector: &corev1.ScopeSelector{
			MatchExpressions: []corev1.ScopedResourceSelectorRequirement{{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: op, Values: values}}}}}
	}
	tests := []struct {
		name string
		q    *corev1.ResourceQuota
		gr   schema.GroupResource
		obj  runtime.Object
		want bool
	}{
		{"unscoped matches any pod", scoped(), Pods, burstable, true},
		{"Terminating matches a pod with a deadline", scoped(corev1.ResourceQuotaScopeTerminating), Pods, terminating, true},
		{"Terminating skips a pod without one", scoped(corev1.ResourceQuotaScopeTerminating), Pods, burstable, false},
		{"NotTerminating", scoped(corev1.ResourceQuotaScopeNotTerminating), Pods, burstable, true},
		{"BestEffort matches a pod without requests", scoped(corev1.ResourceQuotaScopeBestEffort), Pods, terminating, true},
		{"BestEffort skips a burstable pod", scoped(corev1.ResourceQuotaScopeBestEffort), Pods, burstable, false},
		{"NotBestEffort", scoped(corev1.ResourceQuotaScopeNotBestEffort), Pods, burstable, true},
		{"PriorityClass In", selector(corev1.ScopeSelectorOpIn, "high"), Pods, high, true},
		{"PriorityClass In other", selector(corev1.ScopeSelectorOpIn, "low"), Pods, high, false},
		{"PriorityClass NotIn", selector(corev1.ScopeSelectorOpNotIn, "low"), Pods, high, true},
		{"PriorityClass Exists without class", selector(corev1.ScopeSelectorOpExists), Pods, burstable, false},
		{"PriorityClass DoesNotExist", selector(corev1.ScopeSelectorOpDoesNotExist), Pods, burstable, true},
		{"scoped quota never matches a service", scoped(corev1.ResourceQuotaScopeNotTerminating), Services, &corev1.Service{}, false},
		{"quota without the resource", &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("services", "1")}}, Pods, burstable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Matches(tt.q, tt.q.Spec.Hard, tt.gr, tt.obj)
			if err != nil || got != tt.want {
				t.Errorf("Matches = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	q := func(name string, hard, used corev1.ResourceList) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ResourceQuotaSpec{Hard: hard}, Status: corev1.ResourceQuotaStatus{Hard: hard, Used: used}}
	}
	tests := []struct {
		name    string
		gr      schema.GroupResource
		obj     runtime.Object
		quotas  []*corev1.ResourceQuota
		charges []Charge
		err     string
	}{
		{"fits: charged", Pods, pod("p", rl("cpu", "500m", "memory", "100Mi"), nil),
			[]*corev1.ResourceQuota{q("test-quota", rl("pods", "5", "cpu", "1", "memory", "500Mi"), rl("pods", "0", "cpu", "0", "memory", "0"))},
			[]Charge{{Name: "test-quota", Delta: rl("pods", "1", "cpu", "500m", "memory", "100Mi")}}, ""},
		{"exceeds", Pods, pod("fail-pod", rl("cpu", "600m", "memory", "100Mi"), nil),
			[]*corev1.ResourceQuota{q("test-quota", rl("pods", "5", "cpu", "1", "memory", "500Mi"), rl("pods", "1", "cpu", "500m", "memory", "252Mi"))},
			nil, "exceeded quota: test-quota, requested: cpu=600m, used: cpu=500m, limited: cpu=1"},
		{"must specify limits", Pods, pod("p", rl("cpu", "100m"), nil),
			[]*corev1.ResourceQuota{q("compute", rl("limits.cpu", "2", "limits.memory", "1Gi", "requests.memory", "1Gi"), rl("limits.cpu", "0", "limits.memory", "0", "requests.memory", "0"))},
			nil, "failed quota: compute: must specify limits.cpu for: c; limits.memory for: c; requests.memory for: c"},
		{"status not yet calculated", Pods, pod("p", nil, nil),
			[]*corev1.ResourceQuota{q("new", rl("pods", "1"), nil)},
			nil, "status unknown for quota: new, resources: pods"},
		{"quota without status.hard is ignored", Pods, pod("p", nil, nil),
			[]*corev1.ResourceQuota{{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}, Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "0")}}}, nil, ""},
		{"service node ports", Services, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}},
			[]*corev1.ResourceQuota{q("test-quota", rl("services", "10", "services.nodeports", "1", "services.loadbalancers", "1"), rl("services", "2", "services.nodeports", "1", "services.loadbalancers", "0"))},
			nil, "exceeded quota: test-quota, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1"},
		{"count of another resource", schema.GroupResource{Group: "apps", Resource: "replicasets"}, &metav1.PartialObjectMetadata{},
			[]*corev1.ResourceQuota{q("test-quota", rl("count/replicasets.apps", "5", "pods", "5"), rl("count/replicasets.apps", "4", "pods", "0"))},
			[]Charge{{Name: "test-quota", Delta: rl("count/replicasets.apps", "1")}}, ""},
		{"two quotas, one scoped away", Pods, pod("p", rl("cpu", "1", "memory", "1Gi"), nil),
			[]*corev1.ResourceQuota{
				q("a", rl("pods", "2"), rl("pods", "1")),
				{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}},
					Status: corev1.ResourceQuotaStatus{Hard: rl("pods", "0"), Used: rl("pods", "0")}},
			},
			[]Charge{{Name: "a", Delta: rl("pods", "1")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			charges, err := Admit(tt.gr, tt.obj, tt.quotas, now)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrForbidden) {
					t.Fatalf("err = %v, want forbidden %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(charges) != len(tt.charges) {
				t.Fatalf("charges = %v, want %v", charges, tt.charges)
			}
			for i := range charges {
				if charges[i].Name != tt.charges[i].Name {
					t.Errorf("charge %d for %s, want %s", i, charges[i].Name, tt.charges[i].Name)
				}
				assertList(t, charges[i].Delta, tt.charges[i].Delta)
			}
		})
	}
}

func TestCalculate(t *testing.T) {
	deadline := int64(10)
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "5", "requests.cpu", "2", "limits.memory", "1Gi", "configmaps", "3", "services.nodeports", "2")}}
	objects := []Objects{
		{GR: Pods, Items: []runtime.Object{
			pod("a", rl("cpu", "100m"), rl("memory", "64Mi")),
			pod("b", rl("cpu", "200m"), nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &deadline }),
			pod("done", rl("cpu", "1"), nil, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
		}},
		{GR: ConfigMaps, Items: []runtime.Object{&corev1.ConfigMap{}, &corev1.ConfigMap{}}},
	}
	assertList(t, Calculate(q, objects, now), rl("pods", "2", "requests.cpu", "300m", "limits.memory", "64Mi", "configmaps", "2", "services.nodeports", "0"))

	q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating}
	assertList(t, Calculate(q, objects, now), rl("pods", "1", "requests.cpu", "200m", "limits.memory", "0", "configmaps", "0", "services.nodeports", "0"))
}

func TestAdmitUpdate(t *testing.T) {
	deadline := int64(30)
	hard := rl("pods", "1", "requests.cpu", "1")
	terminating := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "terminating"},
		Spec:   corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating}},
		Status: corev1.ResourceQuotaStatus{Hard: hard, Used: rl("pods", "0", "requests.cpu", "0")}}
	plain := pod("p", rl("cpu", "500m"), nil)
	withDeadline := pod("p", rl("cpu", "500m"), nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &deadline })
	relabeled := plain.DeepCopy()
	relabeled.Labels = map[string]string{"a": "b"}

	// A pod that becomes Terminating is charged in full to the quota it now matches.
	charges, err := AdmitUpdate(Pods, withDeadline, plain, []*corev1.ResourceQuota{terminating}, now)
	if err != nil || len(charges) != 1 {
		t.Fatalf("deadline set: charges %v, err %v", charges, err)
	}
	assertList(t, charges[0].Delta, rl("pods", "1", "requests.cpu", "500m"))

	// Other pod updates are not charged.
	if charges, err := AdmitUpdate(Pods, relabeled, plain, []*corev1.ResourceQuota{terminating}, now); err != nil || len(charges) != 0 {
		t.Errorf("label change: charges %v, err %v", charges, err)
	}

	// A service is charged only what it grows by, and refused past the limit.
	svcQuota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "svc"},
		Status: corev1.ResourceQuotaStatus{Hard: rl("services", "2", "services.nodeports", "1"), Used: rl("services", "1", "services.nodeports", "0")}}
	cip := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}, {Port: 81}}}}
	np := cip.DeepCopy()
	np.Spec.Type = corev1.ServiceTypeNodePort
	_, err = AdmitUpdate(Services, np, cip, []*corev1.ResourceQuota{svcQuota}, now)
	if want := "exceeded quota: svc, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1"; err == nil || err.Error() != want {
		t.Errorf("service to NodePort: err %v, want %q", err, want)
	}
}
