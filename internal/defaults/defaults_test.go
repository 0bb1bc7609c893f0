package defaults

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// eq fails the test when got and want differ (semantically, so quantities
// compare by value and pointers by what they point to).
func eq(t *testing.T, field string, got, want any) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s = %s, want %s", field, show(got), show(want))
	}
}

func show(v any) string {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "nil"
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return "nil"
	}
	b, err := json.Marshal(rv.Interface())
	if err != nil {
		return "<unmarshalable>"
	}
	return string(b)
}

func p[T any](v T) *T { return &v }

func quantity(s string) resource.Quantity { return resource.MustParse(s) }

func minimalPodSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}
}

func minimalTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec:       minimalPodSpec(),
	}
}

// checkPodSpecDefaults asserts the SetDefaults_PodSpec/SetDefaults_Container
// values on a spec built from minimalPodSpec.
func checkPodSpecDefaults(t *testing.T, spec *corev1.PodSpec) {
	t.Helper()
	eq(t, "restartPolicy", spec.RestartPolicy, corev1.RestartPolicyAlways)
	eq(t, "dnsPolicy", spec.DNSPolicy, corev1.DNSClusterFirst)
	eq(t, "terminationGracePeriodSeconds", spec.TerminationGracePeriodSeconds, p(int64(30)))
	eq(t, "schedulerName", spec.SchedulerName, "default-scheduler")
	eq(t, "securityContext", spec.SecurityContext, &corev1.PodSecurityContext{})
	if len(spec.Containers) == 0 {
		t.Fatal("no containers")
	}
	c := spec.Containers[0]
	eq(t, "imagePullPolicy", c.ImagePullPolicy, corev1.PullAlways)
	eq(t, "terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log")
	eq(t, "terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
}

// checkTemplateOnly asserts that the Pod-only defaults were not applied to
// a pod template.
func checkTemplateOnly(t *testing.T, spec *corev1.PodSpec) {
	t.Helper()
	eq(t, "template enableServiceLinks", spec.EnableServiceLinks, (*bool)(nil))
}

func TestImagePullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.25", corev1.PullIfNotPresent},
		{"nginx@" + testDigest, corev1.PullIfNotPresent},
		{"nginx:1.25@" + testDigest, corev1.PullIfNotPresent},
		{"nginx:latest@" + testDigest, corev1.PullAlways},
		{"docker.io/library/nginx", corev1.PullAlways},
		{"index.docker.io/nginx:1.25", corev1.PullIfNotPresent},
		{"library/nginx", corev1.PullAlways},
		{"localhost/app", corev1.PullAlways},
		{"localhost:5000/app", corev1.PullAlways},
		{"localhost:5000/app:v1", corev1.PullIfNotPresent},
		{"registry.example.com:5000/team/app:latest", corev1.PullAlways},
		{"registry.example.com/team/app:2", corev1.PullIfNotPresent},
		{"[::1]:5000/app", corev1.PullAlways},
		{"Example/app", corev1.PullAlways}, // upper-case first element is a domain
		{"nginx:Latest", corev1.PullIfNotPresent},
		// Invalid references parse to no tag, hence IfNotPresent.
		{"", corev1.PullIfNotPresent},
		{"NGINX", corev1.PullIfNotPresent},
		{"nginx:", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", corev1.PullIfNotPresent},
		{"nginx:latest@sha256:abc", corev1.PullIfNotPresent},
		{"nginx:latest@md5:0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"nginx:latest@" + strings.ToUpper(testDigest), corev1.PullIfNotPresent},
		{strings.Repeat("ab", 32), corev1.PullIfNotPresent},
		{"team/" + strings.Repeat("a", 251), corev1.PullIfNotPresent}, // path of 256 > 255
		{"team/" + strings.Repeat("a", 250), corev1.PullAlways},       // path of 255
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{{Name: "i", Image: tc.image}},
				Containers:          []corev1.Container{{Name: "c", Image: tc.image}},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e", Image: tc.image}}},
				Volumes:             []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: tc.image}}}},
			}}
			Apply(pod)
			eq(t, "containers[0].imagePullPolicy", pod.Spec.Containers[0].ImagePullPolicy, tc.want)
			eq(t, "initContainers[0].imagePullPolicy", pod.Spec.InitContainers[0].ImagePullPolicy, tc.want)
			eq(t, "ephemeralContainers[0].imagePullPolicy", pod.Spec.EphemeralContainers[0].ImagePullPolicy, tc.want)
			eq(t, "volumes[0].image.pullPolicy", pod.Spec.Volumes[0].Image.PullPolicy, tc.want)
		})
	}
}

type applyCase struct {
	name  string
	obj   runtime.Object
	check func(t *testing.T, obj runtime.Object)
}

func TestApplyCore(t *testing.T) {
	tests := []applyCase{
		{
			name: "pod: spec and container defaults",
			obj: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{
						Name: "init", Image: "busybox:1.36",
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: quantity("1")}},
					}},
					Containers: []corev1.Container{{
						Name: "c", Image: "nginx",
						Ports: []corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: corev1.ProtocolUDP}},
						Env: []corev1.EnvVar{
							{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
							{Name: "PLAIN", Value: "x"},
						},
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceCPU: quantity("2"), corev1.ResourceMemory: quantity("1Gi")},
							Requests: corev1.ResourceList{corev1.ResourceCPU: quantity("500m")},
						},
						LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}},
						StartupProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}},
						Lifecycle: &corev1.Lifecycle{
							PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}},
						},
					}},
					EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
						Name: "debug", Image: "busybox",
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: quantity("1")}},
					}}},
				},
			},
			check: func(t *testing.T, obj runtime.Object) {
				pod := obj.(*corev1.Pod)
				checkPodSpecDefaults(t, &pod.Spec)
				eq(t, "enableServiceLinks", pod.Spec.EnableServiceLinks, p(true))
				eq(t, "status.phase", pod.Status.Phase, corev1.PodPending)

				c := pod.Spec.Containers[0]
				eq(t, "ports[0].protocol", c.Ports[0].Protocol, corev1.ProtocolTCP)
				eq(t, "ports[1].protocol", c.Ports[1].Protocol, corev1.ProtocolUDP)
				eq(t, "ports[0].hostPort", c.Ports[0].HostPort, int32(0))
				eq(t, "env[0].fieldRef.apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1")
				eq(t, "env[1].valueFrom", c.Env[1].ValueFrom, (*corev1.EnvVarSource)(nil))
				eq(t, "requests", c.Resources.Requests, corev1.ResourceList{
					corev1.ResourceCPU:    quantity("500m"),
					corev1.ResourceMemory: quantity("1Gi"),
				})
				wantProbe := func(h corev1.ProbeHandler) *corev1.Probe {
					return &corev1.Probe{ProbeHandler: h, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
				}
				eq(t, "livenessProbe", c.LivenessProbe, wantProbe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Port: intstr.FromInt32(8080), Path: "/", Scheme: corev1.URISchemeHTTP,
				}}))
				eq(t, "readinessProbe", c.ReadinessProbe, wantProbe(corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090, Service: p("")}}))
				eq(t, "startupProbe", c.StartupProbe, wantProbe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}))
				eq(t, "lifecycle.preStop.httpGet", c.Lifecycle.PreStop.HTTPGet, &corev1.HTTPGetAction{
					Port: intstr.FromString("http"), Path: "/", Scheme: corev1.URISchemeHTTP,
				})
				eq(t, "lifecycle.postStart", c.Lifecycle.PostStart, (*corev1.LifecycleHandler)(nil))

				ic := pod.Spec.InitContainers[0]
				eq(t, "initContainers[0].imagePullPolicy", ic.ImagePullPolicy, corev1.PullIfNotPresent)
				eq(t, "initContainers[0].terminationMessagePath", ic.TerminationMessagePath, "/dev/termination-log")
				eq(t, "initContainers[0].requests", ic.Resources.Requests, corev1.ResourceList{corev1.ResourceCPU: quantity("1")})

				ec := pod.Spec.EphemeralContainers[0]
				eq(t, "ephemeralContainers[0].imagePullPolicy", ec.ImagePullPolicy, corev1.PullAlways)
				eq(t, "ephemeralContainers[0].terminationMessagePolicy", ec.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
				// Requests are only copied from limits for (init) containers.
				eq(t, "ephemeralContainers[0].requests", ec.Resources.Requests, corev1.ResourceList(nil))
			},
		},
		{
			name: "pod: volumes",
			obj: &corev1.Pod{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "nginx"}},
				Volumes: []corev1.Volume{
					{Name: "none"},
					{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
					{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
					{Name: "dapi", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
						Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
					}}},
					{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
						{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
					}}}},
					{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}},
					{Name: "eph", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
						Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")}}},
					}}}},
					{Name: "rbd", VolumeSource: corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{RBDImage: "img"}}},
					{Name: "iscsi", VolumeSource: corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{IQN: "iqn"}}},
					{Name: "azure", VolumeSource: corev1.VolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: "d"}}},
					{Name: "scaleio", VolumeSource: corev1.VolumeSource{ScaleIO: &corev1.ScaleIOVolumeSource{Gateway: "g"}}},
					{Name: "pvc", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
				},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				v := obj.(*corev1.Pod).Spec.Volumes
				eq(t, "none", v[0].VolumeSource, corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}})
				eq(t, "configMap.defaultMode", v[1].ConfigMap.DefaultMode, p(int32(0644)))
				eq(t, "secret.defaultMode", v[2].Secret.DefaultMode, p(int32(0644)))
				eq(t, "downwardAPI.defaultMode", v[3].DownwardAPI.DefaultMode, p(int32(0644)))
				eq(t, "downwardAPI.items[0].fieldRef.apiVersion", v[3].DownwardAPI.Items[0].FieldRef.APIVersion, "v1")
				eq(t, "projected.defaultMode", v[4].Projected.DefaultMode, p(int32(0644)))
				eq(t, "projected token expirationSeconds", v[4].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, p(int64(3600)))
				eq(t, "projected downwardAPI fieldRef.apiVersion", v[4].Projected.Sources[1].DownwardAPI.Items[0].FieldRef.APIVersion, "v1")
				eq(t, "hostPath.type", v[5].HostPath.Type, p(corev1.HostPathUnset))
				eq(t, "ephemeral volumeMode", v[6].Ephemeral.VolumeClaimTemplate.Spec.VolumeMode, p(corev1.PersistentVolumeFilesystem))
				eq(t, "rbd", *v[7].RBD, corev1.RBDVolumeSource{RBDImage: "img", RBDPool: "rbd", RadosUser: "admin", Keyring: "/etc/ceph/keyring"})
				eq(t, "iscsi.iscsiInterface", v[8].ISCSI.ISCSIInterface, "default")
				eq(t, "azureDisk", *v[9].AzureDisk, corev1.AzureDiskVolumeSource{
					DiskName: "d", CachingMode: p(corev1.AzureDataDiskCachingReadWrite), FSType: p("ext4"),
					ReadOnly: p(false), Kind: p(corev1.AzureSharedBlobDisk),
				})
				eq(t, "scaleIO", *v[10].ScaleIO, corev1.ScaleIOVolumeSource{Gateway: "g", StorageMode: "ThinProvisioned", FSType: "xfs"})
				eq(t, "pvc", v[11].VolumeSource, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}})
			},
		},
		{
			name: "pod: set values are kept",
			obj: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p", ResourceVersion: "7", UID: "u"},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyNever,
					DNSPolicy:                     corev1.DNSDefault,
					TerminationGracePeriodSeconds: p(int64(0)),
					SchedulerName:                 "mine",
					SecurityContext:               &corev1.PodSecurityContext{RunAsUser: p(int64(1000))},
					EnableServiceLinks:            p(false),
					Containers: []corev1.Container{{
						Name: "c", Image: "nginx", ImagePullPolicy: corev1.PullNever,
						TerminationMessagePath: "/tmp/log", TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceCPU: quantity("0.0001")},
							Requests: corev1.ResourceList{corev1.ResourceCPU: quantity("0.00001")},
						},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Scheme: corev1.URISchemeHTTPS}},
							TimeoutSeconds: 5, PeriodSeconds: 7, SuccessThreshold: 2, FailureThreshold: 9,
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{DefaultMode: p(int32(0400))}}},
						{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Type: p(corev1.HostPathDirectory)}}},
					},
				},
				Status: corev1.PodStatus{},
			},
			check: func(t *testing.T, obj runtime.Object) {
				pod := obj.(*corev1.Pod)
				s := pod.Spec
				eq(t, "restartPolicy", s.RestartPolicy, corev1.RestartPolicyNever)
				eq(t, "dnsPolicy", s.DNSPolicy, corev1.DNSDefault)
				eq(t, "terminationGracePeriodSeconds", s.TerminationGracePeriodSeconds, p(int64(0)))
				eq(t, "schedulerName", s.SchedulerName, "mine")
				eq(t, "securityContext", s.SecurityContext, &corev1.PodSecurityContext{RunAsUser: p(int64(1000))})
				eq(t, "enableServiceLinks", s.EnableServiceLinks, p(false))
				c := s.Containers[0]
				eq(t, "imagePullPolicy", c.ImagePullPolicy, corev1.PullNever)
				eq(t, "terminationMessagePath", c.TerminationMessagePath, "/tmp/log")
				eq(t, "terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageFallbackToLogsOnError)
				eq(t, "readinessProbe", c.ReadinessProbe, &corev1.Probe{
					ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Scheme: corev1.URISchemeHTTPS}},
					TimeoutSeconds: 5, PeriodSeconds: 7, SuccessThreshold: 2, FailureThreshold: 9,
				})
				// Quantities are rounded up to milli precision.
				lim := c.Resources.Limits[corev1.ResourceCPU]
				req := c.Resources.Requests[corev1.ResourceCPU]
				eq(t, "limits.cpu", lim.String(), "1m")
				eq(t, "requests.cpu", req.String(), "1m")
				eq(t, "configMap.defaultMode", s.Volumes[0].ConfigMap.DefaultMode, p(int32(0400)))
				eq(t, "hostPath.type", s.Volumes[1].HostPath.Type, p(corev1.HostPathDirectory))
				// Not a create body: the phase is the registry's business.
				eq(t, "status.phase", pod.Status.Phase, corev1.PodPhase(""))
			},
		},
		{
			name: "pod: hostNetwork defaults hostPort",
			obj: &corev1.Pod{Spec: corev1.PodSpec{
				HostNetwork:    true,
				InitContainers: []corev1.Container{{Name: "i", Image: "x", Ports: []corev1.ContainerPort{{ContainerPort: 9000}}}},
				Containers:     []corev1.Container{{Name: "c", Image: "x", Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 8443, HostPort: 443}}}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Pod).Spec
				eq(t, "initContainers[0].ports[0].hostPort", s.InitContainers[0].Ports[0].HostPort, int32(9000))
				eq(t, "containers[0].ports[0].hostPort", s.Containers[0].Ports[0].HostPort, int32(8080))
				eq(t, "containers[0].ports[1].hostPort", s.Containers[0].Ports[1].HostPort, int32(443))
			},
		},
		{
			name: "pod: status phase and resources",
			obj: &corev1.Pod{
				Spec: minimalPodSpec(),
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{{
						Name:               "c",
						AllocatedResources: corev1.ResourceList{corev1.ResourceCPU: quantity("0.0001")},
					}},
				},
			},
			check: func(t *testing.T, obj runtime.Object) {
				st := obj.(*corev1.Pod).Status
				eq(t, "status.phase", st.Phase, corev1.PodRunning)
				q := st.ContainerStatuses[0].AllocatedResources[corev1.ResourceCPU]
				eq(t, "allocatedResources.cpu", q.String(), "1m")
			},
		},
		{
			name: "podTemplate",
			obj:  &corev1.PodTemplate{Template: minimalTemplate()},
			check: func(t *testing.T, obj runtime.Object) {
				spec := &obj.(*corev1.PodTemplate).Template.Spec
				checkPodSpecDefaults(t, spec)
				checkTemplateOnly(t, spec)
			},
		},
		{
			name: "replicationController",
			obj: &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{
				Template: &corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "c", Image: "nginx",
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: quantity("1")}},
					}}},
				},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				rc := obj.(*corev1.ReplicationController)
				eq(t, "replicas", rc.Spec.Replicas, p(int32(1)))
				eq(t, "selector", rc.Spec.Selector, map[string]string{"app": "a"})
				eq(t, "labels", rc.Labels, map[string]string{"app": "a"})
				checkPodSpecDefaults(t, &rc.Spec.Template.Spec)
				checkTemplateOnly(t, &rc.Spec.Template.Spec)
				eq(t, "template requests", rc.Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceList(nil))
			},
		},
		{
			name: "replicationController: replicas 0 kept, no template",
			obj:  &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Replicas: p(int32(0))}},
			check: func(t *testing.T, obj runtime.Object) {
				rc := obj.(*corev1.ReplicationController)
				eq(t, "replicas", rc.Spec.Replicas, p(int32(0)))
				eq(t, "selector", rc.Spec.Selector, map[string]string(nil))
			},
		},
		{
			name: "service: ClusterIP",
			obj: &corev1.Service{Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": "a"},
				Ports: []corev1.ServicePort{
					{Name: "http", Port: 80},
					{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
					{Name: "alt", Port: 8080, TargetPort: intstr.FromInt32(9090)},
				},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "type", s.Type, corev1.ServiceTypeClusterIP)
				eq(t, "sessionAffinity", s.SessionAffinity, corev1.ServiceAffinityNone)
				eq(t, "sessionAffinityConfig", s.SessionAffinityConfig, (*corev1.SessionAffinityConfig)(nil))
				eq(t, "ports[0].protocol", s.Ports[0].Protocol, corev1.ProtocolTCP)
				eq(t, "ports[0].targetPort", s.Ports[0].TargetPort, intstr.FromInt32(80))
				eq(t, "ports[1].protocol", s.Ports[1].Protocol, corev1.ProtocolUDP)
				eq(t, "ports[1].targetPort", s.Ports[1].TargetPort, intstr.FromString("dns"))
				eq(t, "ports[2].targetPort", s.Ports[2].TargetPort, intstr.FromInt32(9090))
				eq(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicy(""))
				eq(t, "internalTrafficPolicy", s.InternalTrafficPolicy, p(corev1.ServiceInternalTrafficPolicyCluster))
				eq(t, "ipFamilyPolicy", s.IPFamilyPolicy, p(corev1.IPFamilyPolicySingleStack))
				eq(t, "ipFamilies", s.IPFamilies, []corev1.IPFamily{corev1.IPv4Protocol})
				eq(t, "allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts, (*bool)(nil))
				eq(t, "clusterIP", s.ClusterIP, "")
			},
		},
		{
			name: "service: NodePort with ClientIP affinity",
			obj: &corev1.Service{Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, SessionAffinity: corev1.ServiceAffinityClientIP,
				Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromString("")}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "sessionAffinityConfig", s.SessionAffinityConfig, &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: p(int32(10800))}})
				eq(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
				eq(t, "internalTrafficPolicy", s.InternalTrafficPolicy, p(corev1.ServiceInternalTrafficPolicyCluster))
				eq(t, "ports[0].targetPort", s.Ports[0].TargetPort, intstr.FromInt32(443))
				eq(t, "allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts, (*bool)(nil))
			},
		},
		{
			name: "service: LoadBalancer",
			obj: &corev1.Service{
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
					{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}, {IP: "192.0.2.2", IPMode: p(corev1.LoadBalancerIPModeProxy)},
				}}},
			},
			check: func(t *testing.T, obj runtime.Object) {
				svc := obj.(*corev1.Service)
				eq(t, "allocateLoadBalancerNodePorts", svc.Spec.AllocateLoadBalancerNodePorts, p(true))
				eq(t, "externalTrafficPolicy", svc.Spec.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
				ing := svc.Status.LoadBalancer.Ingress
				eq(t, "ingress[0].ipMode", ing[0].IPMode, p(corev1.LoadBalancerIPModeVIP))
				eq(t, "ingress[1].ipMode", ing[1].IPMode, (*corev1.LoadBalancerIPMode)(nil))
				eq(t, "ingress[2].ipMode", ing[2].IPMode, p(corev1.LoadBalancerIPModeProxy))
			},
		},
		{
			name: "service: set values are kept",
			obj: &corev1.Service{Spec: corev1.ServiceSpec{
				Type:                          corev1.ServiceTypeLoadBalancer,
				SessionAffinity:               corev1.ServiceAffinityClientIP,
				SessionAffinityConfig:         &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: p(int32(60))}},
				ExternalTrafficPolicy:         corev1.ServiceExternalTrafficPolicyLocal,
				InternalTrafficPolicy:         p(corev1.ServiceInternalTrafficPolicyLocal),
				AllocateLoadBalancerNodePorts: p(false),
				IPFamilyPolicy:                p(corev1.IPFamilyPolicyPreferDualStack),
				IPFamilies:                    []corev1.IPFamily{corev1.IPv6Protocol},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "sessionAffinityConfig", s.SessionAffinityConfig, &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: p(int32(60))}})
				eq(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyLocal)
				eq(t, "internalTrafficPolicy", s.InternalTrafficPolicy, p(corev1.ServiceInternalTrafficPolicyLocal))
				eq(t, "allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts, p(false))
				eq(t, "ipFamilyPolicy", s.IPFamilyPolicy, p(corev1.IPFamilyPolicyPreferDualStack))
				eq(t, "ipFamilies", s.IPFamilies, []corev1.IPFamily{corev1.IPv6Protocol})
			},
		},
		{
			name: "service: None affinity drops its config",
			obj: &corev1.Service{Spec: corev1.ServiceSpec{
				SessionAffinity:       corev1.ServiceAffinityNone,
				SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: p(int32(60))}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "sessionAffinityConfig", obj.(*corev1.Service).Spec.SessionAffinityConfig, (*corev1.SessionAffinityConfig)(nil))
			},
		},
		{
			name: "service: ExternalName",
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "internalTrafficPolicy", s.InternalTrafficPolicy, (*corev1.ServiceInternalTrafficPolicy)(nil))
				eq(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicy(""))
				eq(t, "ipFamilyPolicy", s.IPFamilyPolicy, (*corev1.IPFamilyPolicy)(nil))
				eq(t, "ipFamilies", s.IPFamilies, []corev1.IPFamily(nil))
				eq(t, "sessionAffinity", s.SessionAffinity, corev1.ServiceAffinityNone)
			},
		},
		{
			name: "service: ClusterIP with externalIPs",
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{ExternalIPs: []string{"198.51.100.1"}}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "externalTrafficPolicy", obj.(*corev1.Service).Spec.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
			},
		},
		{
			name: "service: headless without selector",
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "ipFamilyPolicy", s.IPFamilyPolicy, p(corev1.IPFamilyPolicyPreferDualStack))
				eq(t, "ipFamilies", s.IPFamilies, []corev1.IPFamily{corev1.IPv4Protocol})
				eq(t, "clusterIP", s.ClusterIP, corev1.ClusterIPNone)
			},
		},
		{
			name: "service: headless with selector",
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"a": "b"}}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "ipFamilyPolicy", obj.(*corev1.Service).Spec.IPFamilyPolicy, p(corev1.IPFamilyPolicySingleStack))
			},
		},
		{
			name: "service: families follow requested clusterIPs",
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{ClusterIPs: []string{"fd00::10", "10.0.0.10"}}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*corev1.Service).Spec
				eq(t, "ipFamilyPolicy", s.IPFamilyPolicy, p(corev1.IPFamilyPolicyRequireDualStack))
				eq(t, "ipFamilies", s.IPFamilies, []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol})
			},
		},
		{
			name: "namespace: create",
			obj:  &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
			check: func(t *testing.T, obj runtime.Object) {
				ns := obj.(*corev1.Namespace)
				eq(t, "status.phase", ns.Status.Phase, corev1.NamespaceActive)
				eq(t, "spec.finalizers", ns.Spec.Finalizers, []corev1.FinalizerName{corev1.FinalizerKubernetes})
				eq(t, "labels", ns.Labels, map[string]string{"kubernetes.io/metadata.name": "team-a"})
			},
		},
		{
			name: "namespace: other finalizers get kubernetes appended",
			obj: &corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{"kubernetes.io/metadata.name": "wrong", "x": "y"}},
				Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/f"}},
			},
			check: func(t *testing.T, obj runtime.Object) {
				ns := obj.(*corev1.Namespace)
				eq(t, "spec.finalizers", ns.Spec.Finalizers, []corev1.FinalizerName{"example.com/f", corev1.FinalizerKubernetes})
				eq(t, "labels", ns.Labels, map[string]string{"kubernetes.io/metadata.name": "n", "x": "y"})
			},
		},
		{
			name: "namespace: stored object keeps its finalizers and phase",
			obj: &corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "5", UID: "u"},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
			},
			check: func(t *testing.T, obj runtime.Object) {
				ns := obj.(*corev1.Namespace)
				eq(t, "spec.finalizers", ns.Spec.Finalizers, []corev1.FinalizerName(nil))
				eq(t, "status.phase", ns.Status.Phase, corev1.NamespaceTerminating)
			},
		},
		{
			name: "namespace: generateName only gets no label",
			obj:  &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "tmp-"}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "labels", obj.(*corev1.Namespace).Labels, map[string]string(nil))
			},
		},
		{
			name: "secret: type Opaque",
			obj:  &corev1.Secret{},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "type", obj.(*corev1.Secret).Type, corev1.SecretTypeOpaque)
			},
		},
		{
			name: "secret: type kept",
			obj:  &corev1.Secret{Type: corev1.SecretTypeTLS},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "type", obj.(*corev1.Secret).Type, corev1.SecretTypeTLS)
			},
		},
		{
			name: "configMap: data",
			obj:  &corev1.ConfigMap{},
			check: func(t *testing.T, obj runtime.Object) {
				if obj.(*corev1.ConfigMap).Data == nil {
					t.Error("data = nil, want empty map")
				}
			},
		},
		{
			name: "node: allocatable from capacity",
			obj: &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{
				corev1.ResourceCPU: quantity("4"), corev1.ResourcePods: quantity("110"),
			}}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "allocatable", obj.(*corev1.Node).Status.Allocatable, corev1.ResourceList{
					corev1.ResourceCPU: quantity("4"), corev1.ResourcePods: quantity("110"),
				})
			},
		},
		{
			name: "node: allocatable kept",
			obj: &corev1.Node{Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: quantity("4")},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: quantity("3500m")},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "allocatable", obj.(*corev1.Node).Status.Allocatable, corev1.ResourceList{corev1.ResourceCPU: quantity("3500m")})
			},
		},
		{
			name: "endpoints: port protocol",
			obj: &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
				Ports: []corev1.EndpointPort{{Port: 80}, {Port: 53, Protocol: corev1.ProtocolUDP}},
			}}},
			check: func(t *testing.T, obj runtime.Object) {
				ports := obj.(*corev1.Endpoints).Subsets[0].Ports
				eq(t, "ports[0].protocol", ports[0].Protocol, corev1.ProtocolTCP)
				eq(t, "ports[1].protocol", ports[1].Protocol, corev1.ProtocolUDP)
			},
		},
		{
			name: "persistentVolume",
			obj: &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/d"}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				pv := obj.(*corev1.PersistentVolume)
				eq(t, "status.phase", pv.Status.Phase, corev1.VolumePending)
				eq(t, "persistentVolumeReclaimPolicy", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
				eq(t, "volumeMode", pv.Spec.VolumeMode, p(corev1.PersistentVolumeFilesystem))
				eq(t, "hostPath.type", pv.Spec.HostPath.Type, p(corev1.HostPathUnset))
			},
		},
		{
			name: "persistentVolumeClaim",
			obj:  &corev1.PersistentVolumeClaim{},
			check: func(t *testing.T, obj runtime.Object) {
				pvc := obj.(*corev1.PersistentVolumeClaim)
				eq(t, "status.phase", pvc.Status.Phase, corev1.ClaimPending)
				eq(t, "volumeMode", pvc.Spec.VolumeMode, p(corev1.PersistentVolumeFilesystem))
			},
		},
		{
			name: "persistentVolumeClaim: set values kept",
			obj: &corev1.PersistentVolumeClaim{
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeMode: p(corev1.PersistentVolumeBlock)},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound},
			},
			check: func(t *testing.T, obj runtime.Object) {
				pvc := obj.(*corev1.PersistentVolumeClaim)
				eq(t, "status.phase", pvc.Status.Phase, corev1.ClaimBound)
				eq(t, "volumeMode", pvc.Spec.VolumeMode, p(corev1.PersistentVolumeBlock))
			},
		},
		{
			name: "limitRange: container defaults",
			obj: &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
				{
					Type: corev1.LimitTypeContainer,
					Max:  corev1.ResourceList{corev1.ResourceCPU: quantity("2"), corev1.ResourceMemory: quantity("1Gi")},
					Min:  corev1.ResourceList{corev1.ResourceEphemeralStorage: quantity("1Mi")},
				},
				{Type: corev1.LimitTypePod, Max: corev1.ResourceList{corev1.ResourceCPU: quantity("4")}},
			}}},
			check: func(t *testing.T, obj runtime.Object) {
				items := obj.(*corev1.LimitRange).Spec.Limits
				eq(t, "default", items[0].Default, corev1.ResourceList{corev1.ResourceCPU: quantity("2"), corev1.ResourceMemory: quantity("1Gi")})
				eq(t, "defaultRequest", items[0].DefaultRequest, corev1.ResourceList{
					corev1.ResourceCPU: quantity("2"), corev1.ResourceMemory: quantity("1Gi"), corev1.ResourceEphemeralStorage: quantity("1Mi"),
				})
				eq(t, "pod default", items[1].Default, corev1.ResourceList(nil))
			},
		},
		{
			name: "serviceAccount: no defaults",
			obj:  &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "serviceAccount", obj, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}})
			},
		},
		{
			name: "podList: items",
			obj:  &corev1.PodList{Items: []corev1.Pod{{Spec: minimalPodSpec()}, {Spec: minimalPodSpec()}}},
			check: func(t *testing.T, obj runtime.Object) {
				for i := range obj.(*corev1.PodList).Items {
					checkPodSpecDefaults(t, &obj.(*corev1.PodList).Items[i].Spec)
				}
			},
		},
	}
	runApplyCases(t, tests)
}

func TestApplyApps(t *testing.T) {
	tests := []applyCase{
		{
			name: "deployment",
			obj: &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name: "c", Image: "nginx",
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: quantity("1")}},
				}},
			}}}},
			check: func(t *testing.T, obj runtime.Object) {
				d := obj.(*appsv1.Deployment)
				eq(t, "replicas", d.Spec.Replicas, p(int32(1)))
				eq(t, "strategy", d.Spec.Strategy, appsv1.DeploymentStrategy{
					Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{
						MaxUnavailable: p(intstr.FromString("25%")),
						MaxSurge:       p(intstr.FromString("25%")),
					},
				})
				eq(t, "maxSurge type", d.Spec.Strategy.RollingUpdate.MaxSurge.Type, intstr.String)
				eq(t, "revisionHistoryLimit", d.Spec.RevisionHistoryLimit, p(int32(10)))
				eq(t, "progressDeadlineSeconds", d.Spec.ProgressDeadlineSeconds, p(int32(600)))
				checkPodSpecDefaults(t, &d.Spec.Template.Spec)
				checkTemplateOnly(t, &d.Spec.Template.Spec)
				// Requests are only copied from limits on Pods, not templates.
				eq(t, "template requests", d.Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceList(nil))
			},
		},
		{
			name: "deployment: set values are kept",
			obj: &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
				Replicas:                p(int32(0)),
				RevisionHistoryLimit:    p(int32(0)),
				ProgressDeadlineSeconds: p(int32(30)),
				Strategy: appsv1.DeploymentStrategy{
					Type:          appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: p(intstr.FromInt32(0))},
				},
				Template: minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				d := obj.(*appsv1.Deployment)
				eq(t, "replicas", d.Spec.Replicas, p(int32(0)))
				eq(t, "revisionHistoryLimit", d.Spec.RevisionHistoryLimit, p(int32(0)))
				eq(t, "progressDeadlineSeconds", d.Spec.ProgressDeadlineSeconds, p(int32(30)))
				eq(t, "maxUnavailable", d.Spec.Strategy.RollingUpdate.MaxUnavailable, p(intstr.FromInt32(0)))
				eq(t, "maxSurge", d.Spec.Strategy.RollingUpdate.MaxSurge, p(intstr.FromString("25%")))
			},
		},
		{
			name: "deployment: Recreate gets no rollingUpdate",
			obj: &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
				Template: minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "rollingUpdate", obj.(*appsv1.Deployment).Spec.Strategy.RollingUpdate, (*appsv1.RollingUpdateDeployment)(nil))
			},
		},
		{
			name: "replicaSet",
			obj:  &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Template: minimalTemplate()}},
			check: func(t *testing.T, obj runtime.Object) {
				rs := obj.(*appsv1.ReplicaSet)
				eq(t, "replicas", rs.Spec.Replicas, p(int32(1)))
				checkPodSpecDefaults(t, &rs.Spec.Template.Spec)
				checkTemplateOnly(t, &rs.Spec.Template.Spec)
			},
		},
		{
			name: "replicaSet: replicas 0 kept",
			obj:  &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: p(int32(0)), Template: minimalTemplate()}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "replicas", obj.(*appsv1.ReplicaSet).Spec.Replicas, p(int32(0)))
			},
		},
		{
			name: "daemonSet",
			obj:  &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: minimalTemplate()}},
			check: func(t *testing.T, obj runtime.Object) {
				ds := obj.(*appsv1.DaemonSet)
				eq(t, "updateStrategy", ds.Spec.UpdateStrategy, appsv1.DaemonSetUpdateStrategy{
					Type: appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{
						MaxUnavailable: p(intstr.FromInt32(1)),
						MaxSurge:       p(intstr.FromInt32(0)),
					},
				})
				eq(t, "revisionHistoryLimit", ds.Spec.RevisionHistoryLimit, p(int32(10)))
				checkPodSpecDefaults(t, &ds.Spec.Template.Spec)
				checkTemplateOnly(t, &ds.Spec.Template.Spec)
			},
		},
		{
			name: "daemonSet: OnDelete",
			obj: &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
				Template:       minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "rollingUpdate", obj.(*appsv1.DaemonSet).Spec.UpdateStrategy.RollingUpdate, (*appsv1.RollingUpdateDaemonSet)(nil))
			},
		},
		{
			name: "statefulSet",
			obj: &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
				Template: minimalTemplate(),
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data"},
					Spec: corev1.PersistentVolumeClaimSpec{
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")}},
					},
				}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				ss := obj.(*appsv1.StatefulSet)
				eq(t, "replicas", ss.Spec.Replicas, p(int32(1)))
				eq(t, "podManagementPolicy", ss.Spec.PodManagementPolicy, appsv1.OrderedReadyPodManagement)
				eq(t, "updateStrategy", ss.Spec.UpdateStrategy, appsv1.StatefulSetUpdateStrategy{
					Type:          appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: p(int32(0))},
				})
				eq(t, "revisionHistoryLimit", ss.Spec.RevisionHistoryLimit, p(int32(10)))
				eq(t, "persistentVolumeClaimRetentionPolicy", ss.Spec.PersistentVolumeClaimRetentionPolicy, &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				})
				checkPodSpecDefaults(t, &ss.Spec.Template.Spec)
				checkTemplateOnly(t, &ss.Spec.Template.Spec)
				vct := ss.Spec.VolumeClaimTemplates[0]
				eq(t, "volumeClaimTemplates[0].status.phase", vct.Status.Phase, corev1.ClaimPending)
				eq(t, "volumeClaimTemplates[0].volumeMode", vct.Spec.VolumeMode, p(corev1.PersistentVolumeFilesystem))
			},
		},
		{
			name: "statefulSet: set values are kept",
			obj: &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
				Replicas:             p(int32(0)),
				PodManagementPolicy:  appsv1.ParallelPodManagement,
				RevisionHistoryLimit: p(int32(2)),
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
					Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: p(int32(3))},
				},
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
				},
				Template: minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				ss := obj.(*appsv1.StatefulSet)
				eq(t, "replicas", ss.Spec.Replicas, p(int32(0)))
				eq(t, "podManagementPolicy", ss.Spec.PodManagementPolicy, appsv1.ParallelPodManagement)
				eq(t, "revisionHistoryLimit", ss.Spec.RevisionHistoryLimit, p(int32(2)))
				eq(t, "partition", ss.Spec.UpdateStrategy.RollingUpdate.Partition, p(int32(3)))
				eq(t, "persistentVolumeClaimRetentionPolicy", ss.Spec.PersistentVolumeClaimRetentionPolicy, &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				})
			},
		},
		{
			name: "statefulSet: explicit RollingUpdate without rollingUpdate stays without",
			obj: &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
				Template:       minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "rollingUpdate", obj.(*appsv1.StatefulSet).Spec.UpdateStrategy.RollingUpdate, (*appsv1.RollingUpdateStatefulSetStrategy)(nil))
			},
		},
		{
			name: "statefulSet: OnDelete",
			obj: &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
				Template:       minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "rollingUpdate", obj.(*appsv1.StatefulSet).Spec.UpdateStrategy.RollingUpdate, (*appsv1.RollingUpdateStatefulSetStrategy)(nil))
			},
		},
	}
	runApplyCases(t, tests)
}

func TestApplyBatch(t *testing.T) {
	tests := []applyCase{
		{
			name: "job",
			obj:  &batchv1.Job{Spec: batchv1.JobSpec{Template: minimalTemplate()}},
			check: func(t *testing.T, obj runtime.Object) {
				j := obj.(*batchv1.Job)
				eq(t, "completions", j.Spec.Completions, p(int32(1)))
				eq(t, "parallelism", j.Spec.Parallelism, p(int32(1)))
				eq(t, "backoffLimit", j.Spec.BackoffLimit, p(int32(6)))
				eq(t, "completionMode", j.Spec.CompletionMode, p(batchv1.NonIndexedCompletion))
				eq(t, "suspend", j.Spec.Suspend, p(false))
				eq(t, "podReplacementPolicy", j.Spec.PodReplacementPolicy, p(batchv1.TerminatingOrFailed))
				eq(t, "manualSelector", j.Spec.ManualSelector, p(false))
				eq(t, "labels", j.Labels, map[string]string{"app": "a"})
				checkPodSpecDefaults(t, &j.Spec.Template.Spec)
				checkTemplateOnly(t, &j.Spec.Template.Spec)
			},
		},
		{
			name: "job: parallel with set values",
			obj: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"own": "x"}},
				Spec: batchv1.JobSpec{
					Parallelism:    p(int32(3)),
					BackoffLimit:   p(int32(0)),
					CompletionMode: p(batchv1.IndexedCompletion),
					Suspend:        p(true),
					ManualSelector: p(true),
					Template:       minimalTemplate(),
				},
			},
			check: func(t *testing.T, obj runtime.Object) {
				j := obj.(*batchv1.Job)
				eq(t, "completions", j.Spec.Completions, (*int32)(nil))
				eq(t, "parallelism", j.Spec.Parallelism, p(int32(3)))
				eq(t, "backoffLimit", j.Spec.BackoffLimit, p(int32(0)))
				eq(t, "completionMode", j.Spec.CompletionMode, p(batchv1.IndexedCompletion))
				eq(t, "suspend", j.Spec.Suspend, p(true))
				eq(t, "manualSelector", j.Spec.ManualSelector, p(true))
				eq(t, "labels", j.Labels, map[string]string{"own": "x"})
			},
		},
		{
			name: "job: completions only",
			obj:  &batchv1.Job{Spec: batchv1.JobSpec{Completions: p(int32(5)), Template: minimalTemplate()}},
			check: func(t *testing.T, obj runtime.Object) {
				j := obj.(*batchv1.Job)
				eq(t, "completions", j.Spec.Completions, p(int32(5)))
				eq(t, "parallelism", j.Spec.Parallelism, p(int32(1)))
			},
		},
		{
			name: "job: backoffLimitPerIndex and podFailurePolicy",
			obj: &batchv1.Job{Spec: batchv1.JobSpec{
				BackoffLimitPerIndex: p(int32(2)),
				PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action: batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
						{Type: corev1.DisruptionTarget},
						{Type: "Custom", Status: corev1.ConditionFalse},
					},
				}}},
				Template: minimalTemplate(),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				j := obj.(*batchv1.Job)
				eq(t, "backoffLimit", j.Spec.BackoffLimit, p(int32(math.MaxInt32)))
				eq(t, "podReplacementPolicy", j.Spec.PodReplacementPolicy, p(batchv1.Failed))
				conds := j.Spec.PodFailurePolicy.Rules[0].OnPodConditions
				eq(t, "onPodConditions[0].status", conds[0].Status, corev1.ConditionTrue)
				eq(t, "onPodConditions[1].status", conds[1].Status, corev1.ConditionFalse)
			},
		},
		{
			name: "cronJob",
			obj: &batchv1.CronJob{Spec: batchv1.CronJobSpec{
				Schedule: "* * * * *",
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
					PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
						Action:          batchv1.PodFailurePolicyActionIgnore,
						OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}},
					}}},
					Template: minimalTemplate(),
				}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				cj := obj.(*batchv1.CronJob)
				eq(t, "concurrencyPolicy", cj.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent)
				eq(t, "suspend", cj.Spec.Suspend, p(false))
				eq(t, "successfulJobsHistoryLimit", cj.Spec.SuccessfulJobsHistoryLimit, p(int32(3)))
				eq(t, "failedJobsHistoryLimit", cj.Spec.FailedJobsHistoryLimit, p(int32(1)))
				js := cj.Spec.JobTemplate.Spec
				checkPodSpecDefaults(t, &js.Template.Spec)
				checkTemplateOnly(t, &js.Template.Spec)
				eq(t, "jobTemplate onPodConditions[0].status", js.PodFailurePolicy.Rules[0].OnPodConditions[0].Status, corev1.ConditionTrue)
				// SetDefaults_Job does not apply to a jobTemplate.
				eq(t, "jobTemplate backoffLimit", js.BackoffLimit, (*int32)(nil))
				eq(t, "jobTemplate completions", js.Completions, (*int32)(nil))
				eq(t, "jobTemplate suspend", js.Suspend, (*bool)(nil))
			},
		},
		{
			name: "cronJob: set values are kept",
			obj: &batchv1.CronJob{Spec: batchv1.CronJobSpec{
				ConcurrencyPolicy:          batchv1.ForbidConcurrent,
				Suspend:                    p(true),
				SuccessfulJobsHistoryLimit: p(int32(0)),
				FailedJobsHistoryLimit:     p(int32(0)),
			}},
			check: func(t *testing.T, obj runtime.Object) {
				cj := obj.(*batchv1.CronJob)
				eq(t, "concurrencyPolicy", cj.Spec.ConcurrencyPolicy, batchv1.ForbidConcurrent)
				eq(t, "suspend", cj.Spec.Suspend, p(true))
				eq(t, "successfulJobsHistoryLimit", cj.Spec.SuccessfulJobsHistoryLimit, p(int32(0)))
				eq(t, "failedJobsHistoryLimit", cj.Spec.FailedJobsHistoryLimit, p(int32(0)))
			},
		},
	}
	runApplyCases(t, tests)
}

func TestApplyOtherGroups(t *testing.T) {
	tests := []applyCase{
		{
			name: "hpa v2: minReplicas and default metric",
			obj:  &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5}},
			check: func(t *testing.T, obj runtime.Object) {
				h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
				eq(t, "minReplicas", h.Spec.MinReplicas, p(int32(1)))
				eq(t, "metrics", h.Spec.Metrics, []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{
						Name:   corev1.ResourceCPU,
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: p(int32(80))},
					},
				}})
				eq(t, "behavior", h.Spec.Behavior, (*autoscalingv2.HorizontalPodAutoscalerBehavior)(nil))
			},
		},
		{
			name: "hpa v2: behavior completed",
			obj: &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				MinReplicas: p(int32(2)),
				Metrics: []autoscalingv2.MetricSpec{{
					Type:     autoscalingv2.PodsMetricSourceType,
					Resource: nil,
				}},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleDown: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: p(int32(60)),
						Tolerance:                  p(quantity("50m")),
					},
				},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
				eq(t, "minReplicas", h.Spec.MinReplicas, p(int32(2)))
				eq(t, "metrics", h.Spec.Metrics, []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}})
				eq(t, "behavior.scaleUp", h.Spec.Behavior.ScaleUp, &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: p(int32(0)),
					SelectPolicy:               p(autoscalingv2.MaxChangePolicySelect),
					Policies: []autoscalingv2.HPAScalingPolicy{
						{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
						{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
					},
				})
				eq(t, "behavior.scaleDown", h.Spec.Behavior.ScaleDown, &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: p(int32(60)),
					SelectPolicy:               p(autoscalingv2.MaxChangePolicySelect),
					Policies: []autoscalingv2.HPAScalingPolicy{
						{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
					},
					Tolerance: p(quantity("50m")),
				})
			},
		},
		{
			name: "hpa v2: scaleDown without stabilization window keeps it nil",
			obj: &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{}},
				},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				b := obj.(*autoscalingv2.HorizontalPodAutoscaler).Spec.Behavior
				eq(t, "scaleDown.stabilizationWindowSeconds", b.ScaleDown.StabilizationWindowSeconds, (*int32)(nil))
				// An explicit empty policy list is kept.
				if b.ScaleUp.Policies == nil || len(b.ScaleUp.Policies) != 0 {
					t.Errorf("scaleUp.policies = %s, want []", show(b.ScaleUp.Policies))
				}
				eq(t, "scaleUp.selectPolicy", b.ScaleUp.SelectPolicy, p(autoscalingv2.MaxChangePolicySelect))
			},
		},
		{
			name: "hpa v1",
			obj:  &autoscalingv1.HorizontalPodAutoscaler{},
			check: func(t *testing.T, obj runtime.Object) {
				h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
				eq(t, "minReplicas", h.Spec.MinReplicas, p(int32(1)))
				eq(t, "targetCPUUtilizationPercentage", h.Spec.TargetCPUUtilizationPercentage, (*int32)(nil))
			},
		},
		{
			name: "endpointSlice",
			obj: &discoveryv1.EndpointSlice{
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Port: p(int32(80))}, {Name: p("dns"), Protocol: p(corev1.ProtocolUDP)}},
			},
			check: func(t *testing.T, obj runtime.Object) {
				ports := obj.(*discoveryv1.EndpointSlice).Ports
				eq(t, "ports[0]", ports[0], discoveryv1.EndpointPort{Name: p(""), Protocol: p(corev1.ProtocolTCP), Port: p(int32(80))})
				eq(t, "ports[1]", ports[1], discoveryv1.EndpointPort{Name: p("dns"), Protocol: p(corev1.ProtocolUDP)})
			},
		},
		{
			name: "networkPolicy",
			obj: &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{}}}},
				Egress:  []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: p(corev1.ProtocolUDP)}}}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				s := obj.(*networkingv1.NetworkPolicy).Spec
				eq(t, "policyTypes", s.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress})
				eq(t, "ingress port protocol", s.Ingress[0].Ports[0].Protocol, p(corev1.ProtocolTCP))
				eq(t, "egress port protocol", s.Egress[0].Ports[0].Protocol, p(corev1.ProtocolUDP))
			},
		},
		{
			name: "networkPolicy: ingress only",
			obj:  &networkingv1.NetworkPolicy{},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "policyTypes", obj.(*networkingv1.NetworkPolicy).Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})
			},
		},
		{
			name: "ingressClass",
			obj: &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{
				Parameters: &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n"},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "parameters.scope", obj.(*networkingv1.IngressClass).Spec.Parameters.Scope, p("Cluster"))
			},
		},
		{
			name: "roleBinding",
			obj: &rbacv1.RoleBinding{
				RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"},
				Subjects: []rbacv1.Subject{
					{Kind: rbacv1.UserKind, Name: "u"},
					{Kind: rbacv1.GroupKind, Name: "g"},
					{Kind: rbacv1.ServiceAccountKind, Name: "sa", Namespace: "ns"},
				},
			},
			check: func(t *testing.T, obj runtime.Object) {
				rb := obj.(*rbacv1.RoleBinding)
				eq(t, "roleRef.apiGroup", rb.RoleRef.APIGroup, "rbac.authorization.k8s.io")
				eq(t, "subjects[0].apiGroup", rb.Subjects[0].APIGroup, "rbac.authorization.k8s.io")
				eq(t, "subjects[1].apiGroup", rb.Subjects[1].APIGroup, "rbac.authorization.k8s.io")
				eq(t, "subjects[2].apiGroup", rb.Subjects[2].APIGroup, "")
			},
		},
		{
			name: "clusterRoleBinding",
			obj:  &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "r"}, Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "u"}}},
			check: func(t *testing.T, obj runtime.Object) {
				crb := obj.(*rbacv1.ClusterRoleBinding)
				eq(t, "roleRef.apiGroup", crb.RoleRef.APIGroup, "rbac.authorization.k8s.io")
				eq(t, "subjects[0].apiGroup", crb.Subjects[0].APIGroup, "rbac.authorization.k8s.io")
			},
		},
		{
			name: "priorityClass",
			obj:  &schedulingv1.PriorityClass{Value: 10},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "preemptionPolicy", obj.(*schedulingv1.PriorityClass).PreemptionPolicy, p(corev1.PreemptLowerPriority))
			},
		},
		{
			name: "storageClass",
			obj:  &storagev1.StorageClass{Provisioner: "x"},
			check: func(t *testing.T, obj runtime.Object) {
				sc := obj.(*storagev1.StorageClass)
				eq(t, "reclaimPolicy", sc.ReclaimPolicy, p(corev1.PersistentVolumeReclaimDelete))
				eq(t, "volumeBindingMode", sc.VolumeBindingMode, p(storagev1.VolumeBindingImmediate))
			},
		},
		{
			name: "csiDriver",
			obj:  &storagev1.CSIDriver{},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "spec", obj.(*storagev1.CSIDriver).Spec, storagev1.CSIDriverSpec{
					AttachRequired:       p(true),
					PodInfoOnMount:       p(false),
					StorageCapacity:      p(false),
					FSGroupPolicy:        p(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
					VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
					RequiresRepublish:    p(false),
					SELinuxMount:         p(false),
				})
			},
		},
		{
			name: "podDisruptionBudget: no defaults",
			obj:  &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: p(intstr.FromInt32(1))}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "pdb", obj, &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: p(intstr.FromInt32(1))}})
			},
		},
		{
			name: "lease: no defaults",
			obj:  &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: p("me")}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "lease", obj, &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: p("me")}})
			},
		},
		{
			name: "unstructured: unchanged",
			obj: &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx"}}},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "unstructured", obj.(*unstructured.Unstructured).Object, map[string]any{
					"apiVersion": "v1", "kind": "Pod",
					"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx"}}},
				})
			},
		},
		{
			name: "metav1.List of typed objects",
			obj: &metav1.List{Items: []runtime.RawExtension{
				{Object: &corev1.Secret{}},
				{Raw: []byte(`{"kind":"Secret","apiVersion":"v1"}`)},
			}},
			check: func(t *testing.T, obj runtime.Object) {
				eq(t, "items[0].type", obj.(*metav1.List).Items[0].Object.(*corev1.Secret).Type, corev1.SecretTypeOpaque)
			},
		},
	}
	runApplyCases(t, tests)
}

func runApplyCases(t *testing.T, tests []applyCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.check == nil {
				t.Fatal("test case has no check")
			}
			Apply(tc.obj)
			tc.check(t, tc.obj)

			// Applying the defaults again changes nothing.
			once := tc.obj.DeepCopyObject()
			Apply(tc.obj)
			if !equality.Semantic.DeepEqual(once, tc.obj) {
				t.Errorf("second Apply changed the object:\nonce:  %s\ntwice: %s", show(once), show(tc.obj))
			}
		})
	}
}

func TestApplyNil(t *testing.T) {
	Apply(nil)
	Apply((*corev1.Pod)(nil))
	Apply((*appsv1.Deployment)(nil))
	Apply((*corev1.PodList)(nil))
}

// TestApplyDoesNotAlias checks that defaults are fresh values, not shared
// pointers or maps: changing one defaulted object must not change another.
func TestApplyDoesNotAlias(t *testing.T) {
	a := &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{}}}
	b := &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{}}}
	Apply(a)
	Apply(b)
	*a.Ports[0].Name = "changed"
	*a.Ports[0].Protocol = corev1.ProtocolUDP
	eq(t, "b.ports[0].name", b.Ports[0].Name, p(""))
	eq(t, "b.ports[0].protocol", b.Ports[0].Protocol, p(corev1.ProtocolTCP))

	h1 := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}}}
	h2 := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}}}
	Apply(h1)
	Apply(h2)
	h1.Spec.Behavior.ScaleUp.Policies[0].Value = 99
	*h1.Spec.Behavior.ScaleUp.SelectPolicy = autoscalingv2.DisabledPolicySelect
	eq(t, "h2 scaleUp.policies[0].value", h2.Spec.Behavior.ScaleUp.Policies[0].Value, int32(4))
	eq(t, "h2 scaleUp.selectPolicy", h2.Spec.Behavior.ScaleUp.SelectPolicy, p(autoscalingv2.MaxChangePolicySelect))

	n := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: quantity("4")}}}
	Apply(n)
	n.Status.Allocatable[corev1.ResourceCPU] = quantity("1")
	eq(t, "node capacity", n.Status.Capacity, corev1.ResourceList{corev1.ResourceCPU: quantity("4")})
}
