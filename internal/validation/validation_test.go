package validation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages of k8s.io/apimachinery used in many expectations.
const (
	subdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
	labelMsg     = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	dns1035Msg   = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
	configKeyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
	portRangeMsg = "must be between 1 and 65535, inclusive"
	podUpdateMsg = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)

func ptr[T any](v T) *T { return &v }

func errStrings(errs field.ErrorList) []string {
	if errs == nil {
		return nil
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func checkErrs(t *testing.T, got field.ErrorList, want []string) {
	t.Helper()
	if len(want) == 0 {
		if got != nil {
			t.Fatalf("expected nil (valid), got %d errors:\n%s", len(got), strings.Join(errStrings(got), "\n"))
		}
		return
	}
	g := errStrings(got)
	if len(g) != len(want) {
		t.Fatalf("expected %d errors, got %d:\ngot:\n%s\nwant:\n%s", len(want), len(g), strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("error %d:\n got: %s\nwant: %s", i, g[i], want[i])
		}
	}
}

type createCase struct {
	name string
	obj  runtime.Object
	want []string
}

func runCreate(t *testing.T, cases []createCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, ValidateCreate(tc.obj), tc.want)
		})
	}
}

type updateCase struct {
	name     string
	obj, old runtime.Object
	want     []string
}

func runUpdate(t *testing.T, cases []updateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, ValidateUpdate(tc.obj, tc.old), tc.want)
		})
	}
}

func runStatusUpdate(t *testing.T, cases []updateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, ValidateStatusUpdate(tc.obj, tc.old), tc.want)
		})
	}
}

// Fixtures: valid objects as kube-apiserver's defaulting leaves them.

func objMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "1"}
}

func validContainer(name string) corev1.Container {
	return corev1.Container{
		Name:                     name,
		Image:                    "nginx:1.27",
		Ports:                    []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

func validPodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Containers:                    []corev1.Container{validContainer("app")},
		RestartPolicy:                 corev1.RestartPolicyAlways,
		DNSPolicy:                     corev1.DNSClusterFirst,
		TerminationGracePeriodSeconds: ptr(int64(30)),
		SchedulerName:                 corev1.DefaultSchedulerName,
		SecurityContext:               &corev1.PodSecurityContext{},
	}
}

func validPod(mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objMeta("web"), Spec: validPodSpec()}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func withSpec(mutate func(*corev1.PodSpec)) func(*corev1.Pod) {
	return func(p *corev1.Pod) { mutate(&p.Spec) }
}

func withContainer(mutate func(*corev1.Container)) func(*corev1.Pod) {
	return func(p *corev1.Pod) { mutate(&p.Spec.Containers[0]) }
}

func TestObjectMetaAndDispatch(t *testing.T) {
	runCreate(t, []createCase{
		{name: "bad pod name", obj: validPod(func(p *corev1.Pod) { p.Name = "Bad_Name" }),
			want: []string{`metadata.name: Invalid value: "Bad_Name": ` + subdomainMsg}},
		{name: "missing name", obj: validPod(func(p *corev1.Pod) { p.Name = "" }),
			want: []string{"metadata.name: Required value: name or generateName is required"}},
		{name: "missing namespace", obj: validPod(func(p *corev1.Pod) { p.Namespace = "" }),
			want: []string{"metadata.namespace: Required value"}},
		{name: "bad label", obj: validPod(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "a b"} }),
			want: []string{`metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
		{name: "non-standard finalizer", obj: validPod(func(p *corev1.Pod) { p.Finalizers = []string{"custom"} }),
			want: []string{`metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified`}},
		{name: "qualified finalizer", obj: validPod(func(p *corev1.Pod) { p.Finalizers = []string{"example.com/cleanup"} })},
		{name: "unknown type gets path-segment name check", obj: &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Name: "a/b", Namespace: "default"}},
			want: []string{`metadata.name: Invalid value: "a/b": may not contain '/'`}},
		{name: "unknown cluster-scoped type", obj: &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "Anything_Goes"}}},
	})

	t.Run("nil object", func(t *testing.T) {
		checkErrs(t, ValidateCreate((*corev1.Pod)(nil)), []string{"<nil>: Internal error: cannot validate a nil object"})
	})
	t.Run("type mismatch", func(t *testing.T) {
		checkErrs(t, ValidateUpdate(validPod(), &corev1.Service{}),
			[]string{"<nil>: Internal error: cannot validate an update of *v1.Pod from *v1.Service"})
	})
	t.Run("aggregate message", func(t *testing.T) {
		errs := ValidateCreate(validPod(func(p *corev1.Pod) {
			p.Name = "Bad_Name"
			p.Spec.Containers[0].Image = ""
		}))
		want := `[metadata.name: Invalid value: "Bad_Name": ` + subdomainMsg + `, spec.containers[0].image: Required value]`
		if got := errs.ToAggregate().Error(); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("input is not modified", func(t *testing.T) {
		svc := validService(func(s *corev1.Service) { s.Spec.ClusterIPs = nil })
		ValidateCreate(svc)
		if svc.Spec.ClusterIPs != nil {
			t.Fatalf("ValidateCreate changed spec.clusterIPs to %v", svc.Spec.ClusterIPs)
		}
	})
	runUpdate(t, []updateCase{
		{name: "missing resourceVersion", obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}},
			old:  &corev1.ConfigMap{ObjectMeta: objMeta("c")},
			want: []string{`metadata.resourceVersion: Invalid value: "": must be specified for an update`}},
		{name: "name is immutable", obj: &corev1.ConfigMap{ObjectMeta: objMeta("d")}, old: &corev1.ConfigMap{ObjectMeta: objMeta("c")},
			want: []string{`metadata.name: Invalid value: "d": field is immutable`}},
		{name: "unknown type update", obj: &corev1.PodTemplate{ObjectMeta: objMeta("t")}, old: &corev1.PodTemplate{ObjectMeta: objMeta("t")}},
	})
}

func TestNamespace(t *testing.T) {
	ns := func(mutate func(*corev1.Namespace)) *corev1.Namespace {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", ResourceVersion: "1"},
			Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
		if mutate != nil {
			mutate(n)
		}
		return n
	}
	runCreate(t, []createCase{
		{name: "valid", obj: ns(nil)},
		{name: "dots are not allowed", obj: ns(func(n *corev1.Namespace) { n.Name = "team.a" }),
			want: []string{`metadata.name: Invalid value: "team.a": must not contain dots`}},
		{name: "upper case", obj: ns(func(n *corev1.Namespace) { n.Name = "Team" }),
			want: []string{`metadata.name: Invalid value: "Team": ` + labelMsg}},
		{name: "cluster scoped", obj: ns(func(n *corev1.Namespace) { n.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "bad spec finalizer", obj: ns(func(n *corev1.Namespace) { n.Spec.Finalizers = []corev1.FinalizerName{"foo"} }),
			want: []string{`spec.finalizers: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "active", obj: ns(nil), old: ns(nil)},
		{name: "terminating without deletionTimestamp", obj: ns(func(n *corev1.Namespace) { n.Status.Phase = corev1.NamespaceTerminating }), old: ns(nil),
			want: []string{`status.Phase: Invalid value: "Terminating": may only be 'Active' if ` + "`deletionTimestamp`" + ` is empty`}},
	})
}

func TestPodCreate(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validPod()},
		{name: "valid with volumes, probes, env and resources", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr(int32(0644))}}},
				{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					DefaultMode: ptr(int32(0644)),
					Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
						{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
							Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
						{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
							{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
					}}}},
			}
			c := &s.Containers[0]
			c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "cfg", MountPath: "/etc/cfg", SubPath: "app.conf"}}
			c.Env = []corev1.EnvVar{
				{Name: "MODE", Value: "prod"},
				{Name: "my.env-name", Value: "x"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
				{Name: "TIER", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['tier']"}}},
				{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
			}
			c.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("128Mi"), "example.com/gpu": resource.MustParse("1")},
			}
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 2, FailureThreshold: 3}
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
			s.InitContainers = []corev1.Container{validContainer("init")}
			s.InitContainers[0].Ports = nil
			s.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
			s.Tolerations = []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
				{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
				{Operator: corev1.TolerationOpExists},
			}
			s.ServiceAccountName = "default"
			s.HostAliases = []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"db.local"}}}
		}))},
		{name: "no containers", obj: validPod(withSpec(func(s *corev1.PodSpec) { s.Containers = nil })),
			want: []string{"spec.containers: Required value"}},
		{name: "image required", obj: validPod(withContainer(func(c *corev1.Container) { c.Image = "" })),
			want: []string{"spec.containers[0].image: Required value"}},
		{name: "image whitespace", obj: validPod(withContainer(func(c *corev1.Container) { c.Image = " nginx" })),
			want: []string{`spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace`}},
		{name: "container name required", obj: validPod(withContainer(func(c *corev1.Container) { c.Name = "" })),
			want: []string{"spec.containers[0].name: Required value"}},
		{name: "container name must be a DNS label", obj: validPod(withContainer(func(c *corev1.Container) { c.Name = "App_1" })),
			want: []string{`spec.containers[0].name: Invalid value: "App_1": ` + labelMsg}},
		{name: "duplicate container names", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, validContainer("app"))
			s.Containers[1].Ports = nil
		})), want: []string{`spec.containers[1].name: Duplicate value: "app"`}},
		{name: "init container name clashes with container", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{validContainer("app")}
			s.InitContainers[0].Ports = nil
		})), want: []string{`spec.initContainers[0].name: Duplicate value: "app"`}},
		{name: "bad ports", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Ports = []corev1.ContainerPort{
				{Name: "http", ContainerPort: 70000, Protocol: corev1.ProtocolTCP},
				{Name: "http", ContainerPort: 81, Protocol: "ICMP"},
				{Name: "Bad--Name", ContainerPort: 0, Protocol: corev1.ProtocolUDP},
			}
		})), want: []string{
			"spec.containers[0].ports[0].containerPort: Invalid value: 70000: " + portRangeMsg,
			`spec.containers[0].ports[1].name: Duplicate value: "http"`,
			`spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
			`spec.containers[0].ports[2].name: Invalid value: "Bad--Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			`spec.containers[0].ports[2].name: Invalid value: "Bad--Name": must not contain consecutive hyphens`,
			"spec.containers[0].ports[2].containerPort: Required value",
		}},
		{name: "host port conflict", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Containers[0].Ports[0].HostPort = 8080
			s.Containers = append(s.Containers, validContainer("sidecar"))
			s.Containers[1].Ports[0].HostPort = 8080
		})), want: []string{`spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"`}},
		{name: "env names", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{{Name: ""}, {Name: "A=B"}, {Name: "X", Value: "v", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}}}
		})), want: []string{
			"spec.containers[0].env[0].name: Required value",
			`spec.containers[0].env[0].name: Invalid value: "": environment variable name must be non-empty`,
			`spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
			"spec.containers[0].env[2].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
		}},
		{name: "env valueFrom", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.restartPolicy"}}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}},
				{Name: "D", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"}}},
			}
		})), want: []string{
			"spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
			`spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.restartPolicy": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`,
			"spec.containers[0].env[2].valueFrom.secretKeyRef.key: Required value",
			`spec.containers[0].env[3].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"`,
		}},
		{name: "requests above limits", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			}
		})), want: []string{`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{name: "bad resource names and quantities", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Resources = corev1.ResourceRequirements{
				Limits: corev1.ResourceList{
					corev1.ResourceMemory: resource.MustParse("-1"),
					"foo":                 resource.MustParse("1"),
					"pods":                resource.MustParse("1"),
					"example.com/gpu":     resource.MustParse("1500m"),
				},
				Requests: corev1.ResourceList{"example.com/gpu": resource.MustParse("1")},
			}
		})), want: []string{
			`spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "1500m": must be an integer`,
			`spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard resource type or fully qualified`,
			`spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard resource for containers`,
			`spec.containers[0].resources.limits[memory]: Invalid value: "-1": must be greater than or equal to 0`,
			`spec.containers[0].resources.limits[pods]: Invalid value: "pods": must be a standard resource for containers`,
			`spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 1500m`,
		}},
		{name: "extended resource needs a limit", obj: validPod(withContainer(func(c *corev1.Container) {
			c.Resources.Requests = corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
		})), want: []string{"spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"}},
		{name: "volumes", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{
				{Name: "a", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "a", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "none"},
				{Name: "two", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"}}},
				{Name: "Bad_Vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr(int32(01000))}}},
				{Name: "pvc", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}}},
			}
		})), want: []string{
			`spec.volumes[1].name: Duplicate value: "a"`,
			"spec.volumes[2]: Required value: must specify a volume type",
			"spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type",
			"spec.volumes[4].secret.secretName: Required value",
			"spec.volumes[4].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
			`spec.volumes[4].name: Invalid value: "Bad_Vol": ` + labelMsg,
			"spec.volumes[5].persistentVolumeClaim.claimName: Required value",
		}},
		{name: "volume mounts", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			s.Containers[0].VolumeMounts = []corev1.VolumeMount{
				{Name: "missing", MountPath: "/a"},
				{Name: "data", MountPath: "/a"},
				{Name: "data", MountPath: "/b", SubPath: "../x"},
				{Name: "data"},
			}
		})), want: []string{
			`spec.containers[0].volumeMounts[0].name: Not found: "missing"`,
			`spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique`,
			`spec.containers[0].volumeMounts.subPath: Invalid value: "../x": must not contain '..'`,
			"spec.containers[0].volumeMounts[3].mountPath: Required value",
		}},
		{name: "policies", obj: validPod(func(p *corev1.Pod) {
			p.Spec.RestartPolicy = "Sometimes"
			p.Spec.DNSPolicy = "Magic"
			p.Spec.Containers[0].ImagePullPolicy = "Daily"
			p.Spec.Containers[0].TerminationMessagePolicy = ""
		}), want: []string{
			"spec.containers[0].terminationMessagePolicy: Required value",
			`spec.containers[0].imagePullPolicy: Unsupported value: "Daily": supported values: "Always", "IfNotPresent", "Never"`,
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`,
			`spec.dnsPolicy: Unsupported value: "Magic": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`,
		}},
		{name: "probes", obj: validPod(withContainer(func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}},
				InitialDelaySeconds: -1, TimeoutSeconds: 1, PeriodSeconds: -10, SuccessThreshold: 2, FailureThreshold: 3}
			c.ReadinessProbe = &corev1.Probe{TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
			c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet:   &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(0), Scheme: "FTP"},
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		})), want: []string{
			"spec.containers[0].livenessProbe.exec.command: Required value",
			"spec.containers[0].livenessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0",
			"spec.containers[0].livenessProbe.periodSeconds: Invalid value: -10: must be greater than or equal to 0",
			"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
			"spec.containers[0].readinessProbe: Required value: must specify a handler type",
			"spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: " + portRangeMsg,
			`spec.containers[0].startupProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`,
			"spec.containers[0].startupProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
		}},
		{name: "init containers may not have probes", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{validContainer("init")}
			s.InitContainers[0].Ports = nil
			s.InitContainers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
		})), want: []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"}},
		{name: "node selector, grace period and deadlines", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"bad key!": "x"}
			s.TerminationGracePeriodSeconds = ptr(int64(-1))
			s.ActiveDeadlineSeconds = ptr(int64(0))
			s.ServiceAccountName = "Bad"
		})), want: []string{
			`spec.nodeSelector: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`spec.serviceAccountName: Invalid value: "Bad": ` + subdomainMsg,
			"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
			"spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
		}},
		{name: "tolerations", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"},
				{Key: "k", Operator: "Like", Effect: "Sometimes"},
				{Operator: corev1.TolerationOpEqual, Value: "v"},
				{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr(int64(5))},
			}
		})), want: []string{
			`spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: value must be empty when ` + "`operator`" + ` is 'Exists'`,
			`spec.tolerations[1].operator: Unsupported value: "Like": supported values: "Equal", "Exists"`,
			`spec.tolerations[1].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
			`spec.tolerations[2].operator: Invalid value: "Equal": operator must be Exists when ` + "`key`" + ` is empty, which means "match all values and all keys"`,
			`spec.tolerations[3].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when ` + "`tolerationSeconds`" + ` is set`,
		}},
		{name: "host network needs matching ports", obj: validPod(withSpec(func(s *corev1.PodSpec) { s.HostNetwork = true })),
			want: []string{"spec.containers[0].ports[0].containerPort: Invalid value: 80: must match `hostPort` when `hostNetwork` is true"}},
		{name: "dnsPolicy None needs dnsConfig", obj: validPod(withSpec(func(s *corev1.PodSpec) { s.DNSPolicy = corev1.DNSNone })),
			want: []string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
	})
}

func TestPodUpdate(t *testing.T) {
	old := validPod(withSpec(func(s *corev1.PodSpec) {
		s.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(60))}}
		s.ActiveDeadlineSeconds = ptr(int64(100))
	}))
	runUpdate(t, []updateCase{
		{name: "unchanged", obj: old.DeepCopy(), old: old},
		{name: "image, deadline and toleration additions are allowed", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Containers[0].Image = "nginx:1.28"
			s.ActiveDeadlineSeconds = ptr(int64(50))
			s.Tolerations = []corev1.Toleration{
				{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(10))},
				{Key: "b", Operator: corev1.TolerationOpExists},
			}
		})), old: old},
		{name: "other spec changes are forbidden", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = old.Spec.Tolerations
			s.ActiveDeadlineSeconds = ptr(int64(100))
			s.RestartPolicy = corev1.RestartPolicyNever
			s.Containers[0].Ports[0].ContainerPort = 8080
		})), old: old, want: []string{"spec: Forbidden: " + podUpdateMsg + "\n" +
			"  v1.PodSpec{\n" +
			"- \tcontainers[0].ports[0].containerPort: 80\n" +
			"+ \tcontainers[0].ports[0].containerPort: 8080\n" +
			"- \trestartPolicy: \"Always\"\n" +
			"+ \trestartPolicy: \"Never\"\n" +
			"  }"}},
		{name: "removing a toleration", obj: validPod(withSpec(func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr(int64(100)) })), old: old,
			want: []string{"spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"}},
		{name: "deadline may not grow", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = old.Spec.Tolerations
			s.ActiveDeadlineSeconds = ptr(int64(200))
		})), old: old, want: []string{"spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"}},
		{name: "containers may not be added", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = old.Spec.Tolerations
			s.ActiveDeadlineSeconds = ptr(int64(100))
			s.Containers = append(s.Containers, validContainer("two"))
			s.Containers[1].Ports = nil
		})), old: old, want: []string{"spec.containers: Forbidden: pod updates may not add or remove containers"}},
		{name: "image may not be cleared", obj: validPod(withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = old.Spec.Tolerations
			s.ActiveDeadlineSeconds = ptr(int64(100))
			s.Containers[0].Image = ""
		})), old: old, want: []string{"spec.containers[0].image: Required value"}},
	})

	oldRunning := validPod(withSpec(func(s *corev1.PodSpec) {
		s.RestartPolicy = corev1.RestartPolicyNever
		s.NodeName = "node-1"
	}), func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}}
	})
	runStatusUpdate(t, []updateCase{
		{name: "valid status", obj: validPod(func(p *corev1.Pod) {
			p.Spec = oldRunning.Spec
			p.Status = oldRunning.Status
			p.Status.PodIP = "10.244.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "fd00::5"}}
			p.Status.HostIP = "192.168.1.10"
			p.Status.HostIPs = []corev1.HostIP{{IP: "192.168.1.10"}}
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: "example.com/ready", Status: corev1.ConditionTrue}}
		}), old: oldRunning},
		{name: "bad status", obj: validPod(func(p *corev1.Pod) {
			p.Spec = oldRunning.Spec
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}
			p.Status.Conditions = []corev1.PodCondition{{Type: "bad type!"}}
		}), old: oldRunning, want: []string{
			`metadata.conditions[0].Type: Invalid value: "bad type!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			"status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state",
			`status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]: may specify no more than one IP for each IP family`,
		}},
		{name: "invalid pod IP", obj: validPod(func(p *corev1.Pod) {
			p.Spec = oldRunning.Spec
			p.Status = oldRunning.Status
			p.Status.PodIPs = []corev1.PodIP{{IP: "not-an-ip"}}
		}), old: oldRunning, want: []string{`status.podIPs[0]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
	})
}

func validNode(mutate func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "1"},
		Spec:   corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24"}, Taints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")}}}
	if mutate != nil {
		mutate(n)
	}
	return n
}

func TestNode(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validNode(nil)},
		{name: "namespace forbidden", obj: validNode(func(n *corev1.Node) { n.Namespace = "default" }),
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{name: "taints and CIDRs", obj: validNode(func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}, corev1.Taint{Key: "x", Effect: ""})
			n.Spec.PodCIDRs = []string{"10.244.0.0/24", "10.245.0.0/24"}
		}), want: []string{
			`spec.taints[1]: Duplicate value: {"key":"dedicated","effect":"NoSchedule"}: taints must be unique by key and effect pair`,
			"spec.taints[2].effect: Required value",
			`spec.podCIDRs: Invalid value: ["10.244.0.0/24","10.245.0.0/24"]: may specify no more than one CIDR for each IP family`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "podCIDR set from empty", obj: validNode(nil), old: validNode(func(n *corev1.Node) { n.Spec.PodCIDRs = nil })},
		{name: "podCIDR change", obj: validNode(func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.9.0.0/24"} }), old: validNode(nil),
			want: []string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`}},
	})
}

func validService(mutate ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: objMeta("web"), Spec: corev1.ServiceSpec{
		Type:                  corev1.ServiceTypeClusterIP,
		Selector:              map[string]string{"app": "web"},
		Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}},
		ClusterIP:             "10.96.0.10",
		ClusterIPs:            []string{"10.96.0.10"},
		IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
		IPFamilyPolicy:        ptr(corev1.IPFamilyPolicySingleStack),
		SessionAffinity:       corev1.ServiceAffinityNone,
		InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
	}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func TestService(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validService()},
		{name: "valid headless without ports", obj: validService(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports = "None", []string{"None"}, nil
		})},
		{name: "valid clusterIP only (clusterIPs derived)", obj: validService(func(s *corev1.Service) { s.Spec.ClusterIPs = nil })},
		{name: "valid NodePort", obj: validService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			s.Spec.Ports[0].NodePort = 30080
		})},
		{name: "valid ExternalName", obj: &corev1.Service{ObjectMeta: objMeta("ext"), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com.", SessionAffinity: corev1.ServiceAffinityNone}}},
		{name: "name must be an RFC 1035 label", obj: validService(func(s *corev1.Service) { s.Name = "1web" }),
			want: []string{`metadata.name: Invalid value: "1web": ` + dns1035Msg}},
		{name: "ports required", obj: validService(func(s *corev1.Service) { s.Spec.Ports = nil }),
			want: []string{"spec.ports: Required value"}},
		{name: "bad ports", obj: validService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{
				{Name: "http", Port: 0, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)},
				{Name: "http", Port: 81, Protocol: "HTTP", TargetPort: intstr.FromString("web")},
				{Port: 81, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(81), NodePort: 30001},
			}
		}), want: []string{
			"spec.ports[0].port: Invalid value: 0: " + portRangeMsg,
			`spec.ports[1].name: Duplicate value: "http"`,
			`spec.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
			"spec.ports[2].name: Required value",
			"spec.ports[2].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
		}},
		{name: "duplicate port", obj: validService(func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "http2", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)})
		}), want: []string{`spec.ports[1]: Duplicate value: {"protocol":"TCP","port":80,"targetPort":0}`}},
		{name: "type, affinity and selector", obj: validService(func(s *corev1.Service) {
			s.Spec.Type = "Magic"
			s.Spec.SessionAffinity = "Sticky"
			s.Spec.Selector = map[string]string{"app": "-x"}
		}), want: []string{
			`spec.selector: Invalid value: "-x": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
			`spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"`,
			`spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
		}},
		{name: "bad cluster IPs", obj: validService(func(s *corev1.Service) {
			s.Spec.ClusterIP = "10.96.0.300"
			s.Spec.ClusterIPs = []string{"10.96.0.300"}
		}), want: []string{`spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{name: "NodePort needs externalTrafficPolicy", obj: validService(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }),
			want: []string{"spec.externalTrafficPolicy: Required value"}},
		{name: "ExternalName needs a name", obj: &corev1.Service{ObjectMeta: objMeta("ext"), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, SessionAffinity: corev1.ServiceAffinityNone}},
			want: []string{"spec.externalName: Required value"}},
		{name: "loopback external IP", obj: validService(func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"127.0.0.1"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}), want: []string{`spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
	})

	runUpdate(t, []updateCase{
		{name: "unchanged", obj: validService(), old: validService()},
		{name: "clusterIP is immutable", obj: validService(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.20", []string{"10.96.0.20"}
		}), old: validService(), want: []string{
			`spec.clusterIP: Invalid value: "10.96.0.20": field is immutable`,
			`spec.clusterIPs[0]: Invalid value: ["10.96.0.20"]: may not change once set`,
		}},
		{name: "clusterIP may change when moving to ExternalName", obj: &corev1.Service{ObjectMeta: objMeta("web"), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}},
			old: validService()},
		{name: "clusterIP may be set when moving from ExternalName", obj: validService(), old: &corev1.Service{ObjectMeta: objMeta("web"), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}}},
	})

	runStatusUpdate(t, []updateCase{
		{name: "load balancer ingress on ClusterIP service", obj: validService(func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
		}), old: validService(), want: []string{"status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"}},
		{name: "load balancer ingress", obj: validService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4", IPMode: ptr(corev1.LoadBalancerIPModeVIP)}, {Hostname: "1.2.3.5"}}
		}), old: validService(), want: []string{`status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.5": must be a DNS name, not an IP address`}},
	})
}

func TestEndpoints(t *testing.T) {
	ep := func(mutate func(*corev1.Endpoints)) *corev1.Endpoints {
		e := &corev1.Endpoints{ObjectMeta: objMeta("web"), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.0.5", NodeName: ptr("node-1")}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}},
		}}}
		if mutate != nil {
			mutate(e)
		}
		return e
	}
	runCreate(t, []createCase{
		{name: "valid", obj: ep(nil)},
		{name: "invalid", obj: ep(func(e *corev1.Endpoints) {
			e.Subsets = append(e.Subsets, corev1.EndpointSubset{}, corev1.EndpointSubset{
				Addresses: []corev1.EndpointAddress{{IP: "169.254.1.1"}, {IP: "nope"}},
				Ports:     []corev1.EndpointPort{{Port: 70000, Protocol: corev1.ProtocolTCP}, {Name: "b", Port: 1}},
			})
		}), want: []string{
			"subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`",
			`subsets[2].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`,
			`subsets[2].addresses[1].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
			"subsets[2].ports[0].name: Required value",
			"subsets[2].ports[0].port: Invalid value: 70000: " + portRangeMsg,
			"subsets[2].ports[1].protocol: Required value",
		}},
	})
}

func TestConfigMap(t *testing.T) {
	cm := func(mutate func(*corev1.ConfigMap)) *corev1.ConfigMap {
		c := &corev1.ConfigMap{ObjectMeta: objMeta("cfg"), Data: map[string]string{"app.conf": "x=1"}, BinaryData: map[string][]byte{"logo.png": {1, 2}}}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	runCreate(t, []createCase{
		{name: "valid", obj: cm(nil)},
		{name: "bad key", obj: cm(func(c *corev1.ConfigMap) { c.Data["bad key"] = "" }),
			want: []string{`data[bad key]: Invalid value: "bad key": ` + configKeyMsg}},
		{name: "dot-dot key", obj: cm(func(c *corev1.ConfigMap) { c.Data[".."] = "" }),
			want: []string{`data[..]: Invalid value: "..": must not be '..'`}},
		{name: "key in both data and binaryData", obj: cm(func(c *corev1.ConfigMap) { c.BinaryData["app.conf"] = nil }),
			want: []string{`data[app.conf]: Invalid value: "app.conf": duplicate of key present in binaryData`}},
		{name: "too large", obj: cm(func(c *corev1.ConfigMap) { c.Data["big"] = strings.Repeat("x", 1024*1024) }),
			// The whole object: upstream uses field.NewPath(""), printed "[]".
			want: []string{"[]: Too long: may not be more than 1048576 bytes"}},
	})
	immutable := cm(func(c *corev1.ConfigMap) { c.Immutable = ptr(true) })
	runUpdate(t, []updateCase{
		{name: "data change", obj: cm(func(c *corev1.ConfigMap) { c.Data["app.conf"] = "x=2" }), old: cm(nil)},
		{name: "immutable", obj: cm(func(c *corev1.ConfigMap) { c.Data["app.conf"] = "x=2" }), old: immutable, want: []string{
			"immutable: Forbidden: field is immutable when `immutable` is set",
			"data: Forbidden: field is immutable when `immutable` is set",
		}},
	})
}

func TestSecret(t *testing.T) {
	secret := func(typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: objMeta("s"), Type: typ, Data: data}
	}
	runCreate(t, []createCase{
		{name: "valid opaque", obj: secret(corev1.SecretTypeOpaque, map[string][]byte{"password": []byte("x")})},
		{name: "valid tls", obj: secret(corev1.SecretTypeTLS, map[string][]byte{"tls.crt": nil, "tls.key": nil})},
		{name: "valid tls from stringData", obj: &corev1.Secret{ObjectMeta: objMeta("s"), Type: corev1.SecretTypeTLS,
			StringData: map[string]string{"tls.crt": "c", "tls.key": "k"}}},
		{name: "tls needs cert and key", obj: secret(corev1.SecretTypeTLS, nil),
			want: []string{"data[tls.crt]: Required value", "data[tls.key]: Required value"}},
		{name: "bad key", obj: secret(corev1.SecretTypeOpaque, map[string][]byte{"a/b": nil}),
			want: []string{`data[a/b]: Invalid value: "a/b": ` + configKeyMsg}},
		{name: "dockerconfigjson must be JSON", obj: secret(corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte("{")}),
			want: []string{`data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input`}},
		{name: "basic auth", obj: secret(corev1.SecretTypeBasicAuth, map[string][]byte{}),
			want: []string{"data[username]: Required value", "data[password]: Required value"}},
		{name: "service account token", obj: secret(corev1.SecretTypeServiceAccountToken, nil),
			want: []string{"metadata.annotations[kubernetes.io/service-account.name]: Required value"}},
	})
	immutable := secret(corev1.SecretTypeOpaque, map[string][]byte{"a": []byte("1")})
	immutable.Immutable = ptr(true)
	runUpdate(t, []updateCase{
		{name: "type is immutable", obj: secret(corev1.SecretTypeTLS, map[string][]byte{"tls.crt": nil, "tls.key": nil}),
			old: secret(corev1.SecretTypeOpaque, nil), want: []string{`type: Invalid value: "kubernetes.io/tls": field is immutable`}},
		{name: "immutable data", obj: secret(corev1.SecretTypeOpaque, map[string][]byte{"a": []byte("2")}), old: immutable, want: []string{
			"immutable: Forbidden: field is immutable when `immutable` is set",
			"data: Forbidden: field is immutable when `immutable` is set",
		}},
	})
}

func TestServiceAccountAndEvents(t *testing.T) {
	runCreate(t, []createCase{
		{name: "service account", obj: &corev1.ServiceAccount{ObjectMeta: objMeta("builder")}},
		{name: "service account bad name", obj: &corev1.ServiceAccount{ObjectMeta: objMeta("Builder")},
			want: []string{`metadata.name: Invalid value: "Builder": ` + subdomainMsg}},
		{name: "core event", obj: &corev1.Event{ObjectMeta: objMeta("web.17a"), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
			Reason: "Started", Type: corev1.EventTypeNormal}},
		{name: "core event with loose name", obj: &corev1.Event{ObjectMeta: objMeta("Web_17a"), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}}},
		{name: "core event for cluster object in default", obj: &corev1.Event{ObjectMeta: objMeta("n.1"), InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}},
		{name: "core event namespace mismatch", obj: &corev1.Event{ObjectMeta: objMeta("web.17a"), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "other", Name: "web"}},
			want: []string{`involvedObject.namespace: Invalid value: "other": does not match event.namespace`}},
		{name: "core event new style needs reporting fields", obj: &corev1.Event{ObjectMeta: objMeta("web.17a"),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}, EventTime: metav1.NowMicro()},
			want: []string{
				"reportingComponent: Required value",
				`reportingComponent: Invalid value: "": name part must be non-empty`,
				`reportingComponent: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
				"reportingInstance: Required value", "action: Required value", "reason: Required value",
			}},
		{name: "events.k8s.io event", obj: validEventsV1(nil)},
		{name: "events.k8s.io event strict", obj: validEventsV1(func(e *eventsv1.Event) {
			e.Name = "Bad_Name"
			e.Type = "Info"
			e.DeprecatedCount = 3
		}), want: []string{
			`metadata.name: Invalid value: "Bad_Name": ` + subdomainMsg,
			`type: Invalid value: "": has invalid value: Info`,
			`count: Invalid value: "": needs to be unset`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "events.k8s.io note is immutable", obj: validEventsV1(func(e *eventsv1.Event) { e.Note = "changed" }), old: validEventsV1(nil),
			want: []string{`message: Invalid value: "changed": field is immutable`}},
	})
}

var eventTime = metav1.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))

func validEventsV1(mutate func(*eventsv1.Event)) *eventsv1.Event {
	e := &eventsv1.Event{ObjectMeta: objMeta("web.17a"), EventTime: eventTime, ReportingController: "kubelet", ReportingInstance: "node-1",
		Action: "Started", Reason: "Started", Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
		Note: "Started container", Type: corev1.EventTypeNormal}
	if mutate != nil {
		mutate(e)
	}
	return e
}

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: validPodSpec()}
}

func validDeployment(mutate ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: objMeta("web"), Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(3)),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: podTemplate(map[string]string{"app": "web"}),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr(intstr.FromString("25%")), MaxSurge: ptr(intstr.FromString("25%"))}},
		RevisionHistoryLimit:    ptr(int32(10)),
		ProgressDeadlineSeconds: ptr(int32(600)),
	}}
	for _, m := range mutate {
		m(d)
	}
	return d
}

func TestDeployment(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validDeployment()},
		{name: "negative replicas", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(-1)) }),
			want: []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "selector does not match template", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "x"} }),
			want: []string{`spec.template.metadata.labels: Invalid value: {"app":"x"}: ` + "`selector` does not match template `labels`"}},
		{name: "selector required", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = nil }), want: []string{
			"spec.selector: Required value",
			`spec.template.metadata.labels: Invalid value: {"app":"web"}: ` + "`selector` does not match template `labels`",
		}},
		{name: "empty selector", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
			want: []string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"}},
		{name: "template must restart always", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(10))
		}), want: []string{
			`spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`,
			"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
		}},
		{name: "template pod spec is validated", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
			want: []string{"spec.template.spec.containers[0].image: Required value"}},
		{name: "template labels path", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Labels["bad/key/x"] = "v"
		}), want: []string{`spec.template.labels: Invalid value: "bad/key/x": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`}},
		{name: "strategy", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromString("0%"))}
		}), want: []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"}},
		{name: "bad percent", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromString("150%")), MaxSurge: ptr(intstr.FromString("1.5"))}
		}), want: []string{
			`spec.strategy.rollingUpdate.maxSurge: Invalid value: "1.5": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
			`spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`,
		}},
		{name: "unknown strategy", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen"}
		}), want: []string{`spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"`}},
		{name: "recreate with rolling update params", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
		}), want: []string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}},
		{name: "history, min ready and progress deadline", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.RevisionHistoryLimit = ptr(int32(-1))
			d.Spec.MinReadySeconds = 700
		}), want: []string{
			"spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
			"spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
		}},
		{name: "negative min ready", obj: validDeployment(func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = -5 }),
			want: []string{"spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0"}},
	})
	runUpdate(t, []updateCase{
		{name: "scale and new image", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr(int32(5))
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
		}), old: validDeployment()},
		{name: "selector is immutable", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}
			d.Spec.Template.Labels = map[string]string{"app": "web", "tier": "fe"}
		}), old: validDeployment(),
			want: []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"fe"}}: field is immutable`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "valid status", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Status = appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
		}), old: validDeployment()},
		{name: "bad status", obj: validDeployment(func(d *appsv1.Deployment) {
			d.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 3, UnavailableReplicas: -1}
		}), old: validDeployment(), want: []string{
			"status.unavailableReplicas: Invalid value: -1: must be greater than or equal to 0",
			"status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
			"status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas",
			"status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
		}},
	})
}

func validReplicaSet(mutate func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: objMeta("web-5d4f"), Spec: appsv1.ReplicaSetSpec{
		Replicas: ptr(int32(2)),
		Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}},
		Template: podTemplate(map[string]string{"app": "web"}),
	}}
	if mutate != nil {
		mutate(rs)
	}
	return rs
}

func TestReplicaSet(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validReplicaSet(nil)},
		{name: "bad selector and replicas", obj: validReplicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Replicas = ptr(int32(-2))
			rs.Spec.Selector.MatchExpressions[0].Values = nil
		}), want: []string{
			"spec.replicas: Invalid value: -2: must be greater than or equal to 0",
			"spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
			`spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"In"}]}: invalid label selector`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "selector immutable", obj: validReplicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}), old: validReplicaSet(nil), want: []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web"}}: field is immutable`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "fully labeled above replicas", obj: validReplicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 2}
		}), old: validReplicaSet(nil), want: []string{"status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas"}},
	})
}

func validDaemonSet(mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: objMeta("agent"), Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
		Template: podTemplate(map[string]string{"app": "agent"}),
		UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
			MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromInt32(0))}},
		RevisionHistoryLimit: ptr(int32(10)),
	}}
	if mutate != nil {
		mutate(ds)
	}
	return ds
}

func TestDaemonSet(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validDaemonSet(nil)},
		{name: "surge and unavailable both set", obj: validDaemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr(intstr.FromString("10%"))
		}), want: []string{`spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero`}},
		{name: "both zero", obj: validDaemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromInt32(0))
		}), want: []string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"}},
		{name: "template, selector and strategy", obj: validDaemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Labels = nil
			ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
			ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: "Surge"}
		}), want: []string{
			"spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`",
			`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`,
			`spec.updateStrategy: Unsupported value: {"type":"Surge"}: supported values: "RollingUpdate", "OnDelete"`,
		}},
	})
	runUpdate(t, []updateCase{
		{name: "template change", obj: validDaemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" }), old: validDaemonSet(nil)},
		{name: "selector immutable", obj: validDaemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector.MatchLabels = map[string]string{"app": "agent", "v": "2"}
			ds.Spec.Template.Labels = map[string]string{"app": "agent", "v": "2"}
		}), old: validDaemonSet(nil), want: []string{`spec.selector: Invalid value: {"matchLabels":{"app":"agent","v":"2"}}: field is immutable`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "negative counts", obj: validDaemonSet(func(ds *appsv1.DaemonSet) { ds.Status.NumberReady = -1 }), old: validDaemonSet(nil),
			want: []string{"status.numberReady: Invalid value: -1: must be greater than or equal to 0"}},
	})
}

func validStatefulSet(mutate func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	ss := &appsv1.StatefulSet{ObjectMeta: objMeta("db"), Spec: appsv1.StatefulSetSpec{
		Replicas:            ptr(int32(3)),
		Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Template:            podTemplate(map[string]string{"app": "db"}),
		ServiceName:         "db",
		PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
		RevisionHistoryLimit: ptr(int32(10)),
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
	}}
	ss.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/db"}}
	if mutate != nil {
		mutate(ss)
	}
	return ss
}

func TestStatefulSet(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid, mounting a claim template", obj: validStatefulSet(nil)},
		{name: "invalid", obj: validStatefulSet(func(ss *appsv1.StatefulSet) {
			ss.Spec.PodManagementPolicy = "Random"
			ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(-1))
			ss.Spec.Replicas = ptr(int32(-1))
			ss.Spec.Selector = &metav1.LabelSelector{}
			ss.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		}), want: []string{
			`spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'`,
			"spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
			"spec.replicas: Invalid value: -1: must be greater than or equal to 0",
			"spec.selector: Invalid value: {}: empty selector is invalid for statefulset",
			`spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`,
		}},
		{name: "mount of unknown volume", obj: validStatefulSet(func(ss *appsv1.StatefulSet) { ss.Spec.VolumeClaimTemplates = nil }),
			want: []string{`spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
	})
	runUpdate(t, []updateCase{
		{name: "replicas and template", obj: validStatefulSet(func(ss *appsv1.StatefulSet) {
			ss.Spec.Replicas = ptr(int32(5))
			ss.Spec.Template.Spec.Containers[0].Image = "postgres:17"
		}), old: validStatefulSet(nil)},
		{name: "service name is immutable", obj: validStatefulSet(func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "db2" }), old: validStatefulSet(nil),
			want: []string{"spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "collision count decremented", obj: validStatefulSet(func(ss *appsv1.StatefulSet) { ss.Status.CollisionCount = ptr(int32(1)) }),
			old:  validStatefulSet(func(ss *appsv1.StatefulSet) { ss.Status.CollisionCount = ptr(int32(2)) }),
			want: []string{"status.collisionCount: Invalid value: 1: cannot be decremented"}},
	})
}

const jobUID = "0f5c6b0e-1b1f-4a4e-9c8e-1f0a3f7c2d11"

func validJob(mutate func(*batchv1.Job)) *batchv1.Job {
	labels := map[string]string{
		batchv1.ControllerUidLabel: jobUID, batchv1.JobNameLabel: "pi",
		"controller-uid": jobUID, "job-name": "pi",
	}
	j := &batchv1.Job{ObjectMeta: objMeta("pi"), Spec: batchv1.JobSpec{
		Parallelism:          ptr(int32(1)),
		Completions:          ptr(int32(1)),
		BackoffLimit:         ptr(int32(6)),
		CompletionMode:       ptr(batchv1.NonIndexedCompletion),
		Suspend:              ptr(false),
		ManualSelector:       nil,
		Selector:             &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: jobUID}},
		Template:             podTemplate(labels),
		PodReplacementPolicy: ptr(batchv1.TerminatingOrFailed),
	}}
	j.UID = jobUID
	j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	if mutate != nil {
		mutate(j)
	}
	return j
}

func TestJob(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validJob(nil)},
		{name: "valid manual selector", obj: validJob(func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
			j.Spec.Template.Labels = map[string]string{"app": "pi"}
		})},
		{name: "negative counts", obj: validJob(func(j *batchv1.Job) {
			j.Spec.Parallelism = ptr(int32(-1))
			j.Spec.Completions = ptr(int32(-1))
			j.Spec.BackoffLimit = ptr(int32(-1))
		}), want: []string{
			"spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
			"spec.completions: Invalid value: -1: must be greater than or equal to 0",
			"spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
		}},
		{name: "restart policy Always", obj: validJob(func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }),
			want: []string{`spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
		{name: "selector required", obj: validJob(func(j *batchv1.Job) { j.Spec.Selector = nil }), want: []string{
			"spec.selector: Required value",
			`spec.template.metadata.labels: Invalid value: {"batch.kubernetes.io/controller-uid":"` + jobUID + `","batch.kubernetes.io/job-name":"pi","controller-uid":"` + jobUID + `","job-name":"pi"}: ` + "`selector` does not match template `labels`",
		}},
		{name: "generated labels missing", obj: validJob(func(j *batchv1.Job) { delete(j.Spec.Template.Labels, "job-name") }),
			want: []string{"spec.template.metadata.labels[job-name]: Required value"}},
		{name: "indexed job", obj: validJob(func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
			j.Spec.Completions = nil
			j.Spec.MaxFailedIndexes = ptr(int32(1))
		}), want: []string{
			"spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
			"spec.completions: Required value: when completion mode is Indexed",
		}},
		{name: "pod failure policy", obj: validJob(func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{0, 2, 1}}},
				{Action: "Explode"},
			}}
		}), want: []string{
			"spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
			"spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,2,1]: must be ordered",
			`spec.podFailurePolicy.rules[1].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"`,
			"spec.podFailurePolicy.rules[1]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
		}},
	})
	suspended := validJob(func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) })
	runUpdate(t, []updateCase{
		{name: "parallelism may change", obj: validJob(func(j *batchv1.Job) { j.Spec.Parallelism = ptr(int32(3)) }), old: validJob(nil)},
		{name: "template and completions are immutable", obj: validJob(func(j *batchv1.Job) {
			j.Spec.Completions = ptr(int32(2))
			j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		}), old: validJob(nil), want: []string{
			"spec.completions: Invalid value: 2: field is immutable",
			"spec.template: Invalid value: " + mustJSON(t, validJob(func(j *batchv1.Job) {
				j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
			}).Spec.Template) + ": field is immutable",
		}},
		{name: "suspended job may change scheduling directives", obj: validJob(func(j *batchv1.Job) {
			j.Spec.Suspend = ptr(true)
			j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		}), old: suspended},
		{name: "selector immutable", obj: validJob(func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "pi"}}
		}), old: validJob(nil), want: []string{`spec.selector: Invalid value: {"matchLabels":{"job-name":"pi"}}: field is immutable`}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "valid", obj: validJob(func(j *batchv1.Job) { j.Status.Active = 1; j.Status.Ready = ptr(int32(1)) }), old: validJob(nil)},
		{name: "invalid", obj: validJob(func(j *batchv1.Job) {
			j.Status.Failed = -1
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}, {Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}
		}), old: validJob(nil), want: []string{
			"status.failed: Invalid value: -1: must be greater than or equal to 0",
			"status.conditions: Invalid value: cannot set Complete=True and Failed=true conditions",
		}},
	})
}

func validCronJob(mutate func(*batchv1.CronJob)) *batchv1.CronJob {
	tmpl := podTemplate(nil)
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	cj := &batchv1.CronJob{ObjectMeta: objMeta("nightly"), Spec: batchv1.CronJobSpec{
		Schedule:                   "*/15 2-4 * JAN-jun MON,fri",
		ConcurrencyPolicy:          batchv1.AllowConcurrent,
		Suspend:                    ptr(false),
		SuccessfulJobsHistoryLimit: ptr(int32(3)),
		FailedJobsHistoryLimit:     ptr(int32(1)),
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			BackoffLimit: ptr(int32(6)), Template: tmpl,
		}},
	}}
	if mutate != nil {
		mutate(cj)
	}
	return cj
}

func TestCronJob(t *testing.T) {
	schedule := func(s string) *batchv1.CronJob {
		return validCronJob(func(cj *batchv1.CronJob) { cj.Spec.Schedule = s })
	}
	runCreate(t, []createCase{
		{name: "valid", obj: validCronJob(nil)},
		{name: "hourly macro", obj: schedule("@hourly")},
		{name: "every", obj: schedule("@every 1h30m")},
		{name: "valid time zone", obj: validCronJob(func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr("Europe/Berlin") })},
		{name: "empty schedule", obj: schedule(""), want: []string{"spec.schedule: Required value"}},
		{name: "too few fields", obj: schedule("* * *"),
			want: []string{`spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]`}},
		{name: "minute out of range", obj: schedule("60 * * * *"),
			want: []string{`spec.schedule: Invalid value: "60 * * * *": end of range (60) above maximum (59): 60`}},
		{name: "day of month zero", obj: schedule("0 0 0 * *"),
			want: []string{`spec.schedule: Invalid value: "0 0 0 * *": beginning of range (0) below minimum (1): 0`}},
		{name: "day of week seven", obj: schedule("0 0 * * 7"),
			want: []string{`spec.schedule: Invalid value: "0 0 * * 7": end of range (7) above maximum (6): 7`}},
		{name: "not a number", obj: schedule("x * * * *"),
			want: []string{`spec.schedule: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax`}},
		{name: "backwards range", obj: schedule("0 5-2 * * *"),
			want: []string{`spec.schedule: Invalid value: "0 5-2 * * *": beginning of range (5) beyond end of range (2): 5-2`}},
		{name: "zero step", obj: schedule("*/0 * * * *"),
			want: []string{`spec.schedule: Invalid value: "*/0 * * * *": step of range should be a positive number: */0`}},
		{name: "unknown macro", obj: schedule("@fortnightly"),
			want: []string{`spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly`}},
		{name: "TZ in schedule", obj: schedule("TZ=UTC 0 * * * *"),
			want: []string{`spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`}},
		{name: "bad time zone", obj: validCronJob(func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr("Mars/Olympus") }),
			want: []string{`spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus`}},
		{name: "template and policy", obj: validCronJob(func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = "Sometimes"
			cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{}
			cj.Spec.SuccessfulJobsHistoryLimit = ptr(int32(-1))
		}), want: []string{
			`spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"`,
			`spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`,
			"spec.jobTemplate.spec.selector: Invalid value: {}: `selector` will be auto-generated",
			"spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
		}},
		{name: "name too long", obj: validCronJob(func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) }),
			want: []string{`metadata.name: Invalid value: "` + strings.Repeat("a", 53) + `": must be no more than 52 characters`}},
	})
	runUpdate(t, []updateCase{
		{name: "long name is fine on update", obj: validCronJob(func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) }),
			old: validCronJob(func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) })},
		{name: "TZ kept from old schedule", obj: schedule("TZ=UTC 5 * * * *"), old: schedule("TZ=UTC 0 * * * *")},
	})
}

func TestCronParser(t *testing.T) {
	for _, s := range []string{"0 0 1 1 *", "5,10-20/5 * * * ?", "0 0 * * sun-sat", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "CRON_TZ=UTC @daily"} {
		if err := parseCronSchedule(s); err != nil {
			t.Errorf("%q: unexpected error %v", s, err)
		}
	}
	for s, want := range map[string]string{
		"":                  "empty spec string",
		"1-2-3 * * * *":     "too many hyphens: 1-2-3",
		"1/2/3 * * * *":     "too many slashes: 1/2/3",
		"-1 * * * *":        `failed to parse int from : strconv.Atoi: parsing "": invalid syntax`,
		"0 24 * * *":        "end of range (24) above maximum (23): 24",
		"0 0 * 13 *":        "end of range (13) above maximum (12): 13",
		"@every 1x":         `failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"`,
		"TZ=Nowhere/City *": "provided bad location Nowhere/City: unknown time zone Nowhere/City",
	} {
		err := parseCronSchedule(s)
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", s, err, want)
		}
	}
}

func TestLease(t *testing.T) {
	lease := func(mutate func(*coordinationv1.Lease)) *coordinationv1.Lease {
		l := &coordinationv1.Lease{ObjectMeta: objMeta("node-1"), Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr("node-1"), LeaseDurationSeconds: ptr(int32(40)), LeaseTransitions: ptr(int32(0))}}
		if mutate != nil {
			mutate(l)
		}
		return l
	}
	runCreate(t, []createCase{
		{name: "valid", obj: lease(nil)},
		{name: "invalid", obj: lease(func(l *coordinationv1.Lease) {
			l.Spec.LeaseDurationSeconds = ptr(int32(0))
			l.Spec.LeaseTransitions = ptr(int32(-1))
			l.Spec.PreferredHolder = ptr("x")
		}), want: []string{
			"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
			"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
			"spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
		}},
	})
	runUpdate(t, []updateCase{
		{name: "renew", obj: lease(func(l *coordinationv1.Lease) { l.Spec.RenewTime = ptr(metav1.NowMicro()) }), old: lease(nil)},
	})
}

func validSlice(mutate func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: objMeta("web-abc12"), AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.7"}, NodeName: ptr("node-1"),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(int32(8080))}}}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func TestEndpointSlice(t *testing.T) {
	many := make([]discoveryv1.Endpoint, 1001)
	for i := range many {
		many[i] = discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)}}
	}
	runCreate(t, []createCase{
		{name: "valid", obj: validSlice(nil)},
		{name: "valid FQDN", obj: validSlice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeFQDN
			s.Endpoints[0].Addresses = []string{"db.example.com"}
		})},
		{name: "address type", obj: validSlice(func(s *discoveryv1.EndpointSlice) { s.AddressType = "IPX" }),
			want: []string{`addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"`}},
		{name: "addresses must fit the type", obj: validSlice(func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = append(s.Endpoints,
				discoveryv1.Endpoint{Addresses: []string{"fd00::1", "127.0.0.1"}},
				discoveryv1.Endpoint{})
		}), want: []string{
			`endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address`,
			`endpoints[1].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
			"endpoints[2].addresses: Required value: must contain at least 1 address",
		}},
		{name: "too many endpoints", obj: validSlice(func(s *discoveryv1.EndpointSlice) { s.Endpoints = many }),
			want: []string{"endpoints: Too many: 1001: must have at most 1000 items"}},
		{name: "ports", obj: validSlice(func(s *discoveryv1.EndpointSlice) {
			s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr("http"), Protocol: ptr(corev1.Protocol("QUIC"))}, discoveryv1.EndpointPort{Name: ptr("Bad")})
		}), want: []string{
			`ports[1].name: Duplicate value: "http"`,
			`ports[1].protocol: Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"`,
			`ports[2].name: Invalid value: "Bad": ` + labelMsg,
			"ports[2].protocol: Required value",
		}},
	})
	runUpdate(t, []updateCase{
		{name: "address type immutable", obj: validSlice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeIPv6
			s.Endpoints[0].Addresses = []string{"fd00::7"}
		}), old: validSlice(nil), want: []string{`addressType: Invalid value: "IPv6": field is immutable`}},
	})
}

func TestPodDisruptionBudget(t *testing.T) {
	pdb := func(mutate func(*policyv1.PodDisruptionBudget)) *policyv1.PodDisruptionBudget {
		p := &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("web"), Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr(intstr.FromInt32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	runCreate(t, []createCase{
		{name: "valid", obj: pdb(nil)},
		{name: "both set", obj: pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MaxUnavailable = ptr(intstr.FromString("10%"))
			p.Spec.Selector = nil
		}), want: []string{`spec: Invalid value: {"minAvailable":2,"maxUnavailable":"10%"}: minAvailable and maxUnavailable cannot be both set`}},
		{name: "negative and over 100%", obj: pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = ptr(intstr.FromInt32(-1))
			p.Spec.UnhealthyPodEvictionPolicy = ptr(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}), want: []string{
			"spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
			`spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"`,
		}},
		{name: "percent over 100", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr(intstr.FromString("120%")) }),
			want: []string{`spec.minAvailable: Invalid value: "120%": must not be greater than 100%`}},
		{name: "name only needs to be path-safe", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Name = "Web_PDB" })},
	})
	runStatusUpdate(t, []updateCase{
		{name: "negative disruptions allowed", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Status.DisruptionsAllowed = -1 }), old: pdb(nil),
			want: []string{"status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"}},
	})
}

func validHPA(mutate func(*autoscalingv2.HorizontalPodAutoscaler)) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta("web"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
		MinReplicas:    ptr(int32(1)), MaxReplicas: 10,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(80))}}}},
		Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr(int32(300)), SelectPolicy: ptr(autoscalingv2.MaxChangePolicySelect),
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}},
	}}
	if mutate != nil {
		mutate(h)
	}
	return h
}

func TestHorizontalPodAutoscaler(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid", obj: validHPA(nil)},
		{name: "replica bounds", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.MinReplicas = ptr(int32(0))
			h.Spec.MaxReplicas = 0
		}), want: []string{
			"spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
			"spec.maxReplicas: Invalid value: 0: must be greater than 0",
			"spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas",
		}},
		{name: "max below min", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.MinReplicas = ptr(int32(5))
			h.Spec.MaxReplicas = 3
		}),
			want: []string{"spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"}},
		{name: "scale target required", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{}
		}), want: []string{"spec.scaleTargetRef.kind: Required value", "spec.scaleTargetRef.name: Required value"}},
		{name: "metrics", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(0))}}},
				{Type: autoscalingv2.PodsMetricSourceType},
			}
		}), want: []string{
			"spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
			"spec.metrics[1].pods: Required value: must populate information for the given metric source",
		}},
		{name: "behavior", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior.ScaleDown.Policies = []autoscalingv2.HPAScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 1801}}
		}), want: []string{
			`spec.behavior.scaleDown.policies[0].type: Unsupported value: "Nodes": supported values: "Percent", "Pods"`,
			"spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero",
			"spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
		}},
	})
	runStatusUpdate(t, []updateCase{
		{name: "negative replicas", obj: validHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.CurrentReplicas = -1 }), old: validHPA(nil),
			want: []string{"status.currentReplicas: Invalid value: -1: must be greater than or equal to 0"}},
	})
}

func TestScale(t *testing.T) {
	scale := func(replicas int32) *autoscalingv1.Scale {
		return &autoscalingv1.Scale{ObjectMeta: objMeta("web"), Spec: autoscalingv1.ScaleSpec{Replicas: replicas}}
	}
	checkErrs(t, ValidateUpdate(scale(5), scale(3)), nil)
	checkErrs(t, ValidateUpdate(scale(0), scale(3)), nil)
	checkErrs(t, ValidateUpdate(scale(-1), scale(3)), []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"})
	checkErrs(t, ValidateStatusUpdate(scale(-1), scale(3)), []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestZeroValues feeds empty objects of every covered kind through all three
// entry points: each must report problems (every kind needs at least a name)
// and none may panic.
func TestZeroValues(t *testing.T) {
	objs := []func() runtime.Object{
		func() runtime.Object { return &corev1.Namespace{} },
		func() runtime.Object { return &corev1.Pod{} },
		func() runtime.Object { return &corev1.Node{} },
		func() runtime.Object { return &corev1.Service{} },
		func() runtime.Object { return &corev1.Endpoints{} },
		func() runtime.Object { return &corev1.ConfigMap{} },
		func() runtime.Object { return &corev1.Secret{} },
		func() runtime.Object { return &corev1.ServiceAccount{} },
		func() runtime.Object { return &corev1.Event{} },
		func() runtime.Object { return &appsv1.Deployment{} },
		func() runtime.Object { return &appsv1.ReplicaSet{} },
		func() runtime.Object { return &appsv1.DaemonSet{} },
		func() runtime.Object { return &appsv1.StatefulSet{} },
		func() runtime.Object { return &batchv1.Job{} },
		func() runtime.Object { return &batchv1.CronJob{} },
		func() runtime.Object { return &coordinationv1.Lease{} },
		func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		func() runtime.Object { return &eventsv1.Event{} },
		func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
		func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		func() runtime.Object { return &autoscalingv1.Scale{} },
	}
	for _, mk := range objs {
		obj := mk()
		t.Run(fmt.Sprintf("%T", obj), func(t *testing.T) {
			if errs := ValidateCreate(obj); len(errs) == 0 {
				t.Error("ValidateCreate: expected errors for an empty object")
			}
			if errs := ValidateUpdate(mk(), mk()); len(errs) == 0 {
				t.Error("ValidateUpdate: expected errors for an empty object")
			}
			if errs := ValidateStatusUpdate(mk(), mk()); len(errs) == 0 {
				t.Error("ValidateStatusUpdate: expected errors for an empty object")
			}
		})
	}
}
