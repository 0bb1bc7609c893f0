package printers

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"reflect"
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
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ago returns the metav1.Time d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func ptr[T any](v T) *T { return &v }

// objMeta returns ObjectMeta created five minutes ago.
func objMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(5 * time.Minute)}
}

func podTemplate(containers ...corev1.Container) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}}
}

var (
	running    = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(4 * time.Minute)}}
	crashLoop  = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	completed0 = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", ExitCode: 0}}
	always     = corev1.ContainerRestartPolicyAlways
)

func twoContainers() []corev1.Container {
	return []corev1.Container{{Name: "app", Image: "app:1"}, {Name: "sidecar", Image: "sidecar:1"}}
}

type cellsCase struct {
	name string
	obj  runtime.Object
	want []interface{}
}

func runCellsCases(t *testing.T, cases []cellsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Cells(tc.obj, now)
			if err != nil {
				t.Fatalf("Cells: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Cells mismatch\n got: %#v\nwant: %#v", got, tc.want)
			}
			if cols := ColumnDefinitions(tc.obj); len(cols) != len(got) {
				t.Errorf("%d cells for %d columns", len(got), len(cols))
			}
		})
	}
}

func TestPodCells(t *testing.T) {
	lastTerm := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(2 * time.Minute)}}
	cases := []cellsCase{
		{
			name: "crashloop with restarts",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{NodeName: "node-1", Containers: twoContainers()},
				Status: corev1.PodStatus{
					Phase:  corev1.PodRunning,
					PodIPs: []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "fd00::5"}},
					ContainerStatuses: []corev1.ContainerStatus{
						{Name: "app", Ready: true, State: running},
						{Name: "sidecar", State: crashLoop, RestartCount: 3, LastTerminationState: lastTerm},
					},
				},
			},
			want: []interface{}{"web", "1/2", "CrashLoopBackOff", "3 (2m ago)", "5m", "10.244.0.5", "node-1", "<none>", "<none>"},
		},
		{
			name: "running, podIP without podIPs, nominated node, readiness gates",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec: corev1.PodSpec{
					Containers:     []corev1.Container{{Name: "app"}},
					ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}},
				},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					PodIP:             "10.244.0.6",
					NominatedNodeName: "node-2",
					Conditions: []corev1.PodCondition{
						{Type: "example.com/lb", Status: corev1.ConditionTrue},
						{Type: "example.com/dns", Status: corev1.ConditionFalse},
					},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}},
				},
			},
			want: []interface{}{"web", "1/1", "Running", "0", "5m", "10.244.0.6", "<none>", "node-2", "1/2"},
		},
		{
			name: "terminating",
			obj: &corev1.Pod{
				ObjectMeta: func() metav1.ObjectMeta {
					m := objMeta("web")
					m.DeletionTimestamp = agoPtr(time.Second)
					return m
				}(),
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}},
				},
			},
			want: []interface{}{"web", "1/1", "Terminating", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "succeeded pod being deleted is not Terminating",
			obj: &corev1.Pod{
				ObjectMeta: func() metav1.ObjectMeta {
					m := objMeta("job-abc")
					m.DeletionTimestamp = agoPtr(time.Second)
					return m
				}(),
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{
					Phase:             corev1.PodSucceeded,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: completed0}},
				},
			},
			want: []interface{}{"job-abc", "0/1", "Completed", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "node lost",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
			},
			want: []interface{}{"web", "0/1", "NodeLost", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "node lost and deleted prints Unknown",
			obj: &corev1.Pod{
				ObjectMeta: func() metav1.ObjectMeta {
					m := objMeta("web")
					m.DeletionTimestamp = agoPtr(time.Second)
					return m
				}(),
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
			},
			want: []interface{}{"web", "0/1", "Unknown", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "pending without statuses",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: twoContainers()},
				Status:     corev1.PodStatus{Phase: corev1.PodPending},
			},
			want: []interface{}{"web", "0/2", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "scheduling gated",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{
					Phase:      corev1.PodPending,
					Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}},
				},
			},
			want: []interface{}{"web", "0/1", "SchedulingGated", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "container creating",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}},
				},
			},
			want: []interface{}{"web", "0/1", "ContainerCreating", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init 1 of 3 running",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "i1"}, {Name: "i2"}, {Name: "i3"}},
					Containers:     []corev1.Container{{Name: "app"}},
				},
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "i1", State: completed0},
						{Name: "i2", State: running},
						{Name: "i3", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}},
					},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}},
				},
			},
			want: []interface{}{"web", "0/1", "Init:1/3", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init crashloop counts init restarts",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "migrate"}},
					Containers:     []corev1.Container{{Name: "app"}},
				},
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "migrate", State: crashLoop, RestartCount: 4, LastTerminationState: corev1.ContainerState{
							Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(90 * time.Second)}}},
					},
				},
			},
			want: []interface{}{"web", "0/1", "Init:CrashLoopBackOff", "4 (90s ago)", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init terminated with reason",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "i", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}},
			},
			want: []interface{}{"web", "0/1", "Init:Error", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init terminated by signal",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "i", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Signal: 9}}}}},
			},
			want: []interface{}{"web", "0/1", "Init:Signal:9", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init terminated with exit code only",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "i", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}},
			},
			want: []interface{}{"web", "0/1", "Init:ExitCode:2", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "main container exit code and signal",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: twoContainers()},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}}},
					{Name: "sidecar", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 143, Signal: 15}}},
				}},
			},
			// Statuses are scanned last to first, so the first container's state wins.
			want: []interface{}{"web", "0/2", "ExitCode:3", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "completed container next to a running one, pod ready",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: twoContainers()},
				Status: corev1.PodStatus{
					Phase:      corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
					ContainerStatuses: []corev1.ContainerStatus{
						{Name: "app", State: completed0},
						{Name: "sidecar", Ready: true, State: running},
					},
				},
			},
			want: []interface{}{"web", "1/2", "Running", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "completed container next to a running one, pod not ready",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: twoContainers()},
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{
						{Name: "app", State: completed0},
						{Name: "sidecar", Ready: true, State: running},
					},
				},
			},
			want: []interface{}{"web", "1/2", "NotReady", "0", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "restartable init container (sidecar) counts as a container",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "init"}, {Name: "proxy", RestartPolicy: &always}},
					Containers:     []corev1.Container{{Name: "app"}},
				},
				Status: corev1.PodStatus{
					Phase:      corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "init", State: completed0, RestartCount: 7, LastTerminationState: corev1.ContainerState{
							Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(time.Minute)}}},
						{Name: "proxy", Ready: true, Started: ptr(true), State: running, RestartCount: 1, LastTerminationState: corev1.ContainerState{
							Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(3 * time.Hour)}}},
					},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running, RestartCount: 2,
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(10 * time.Minute)}}}},
				},
			},
			// Regular init container restarts no longer count once initialized.
			want: []interface{}{"web", "2/2", "Running", "3 (10m ago)", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "restarts without a last termination time",
			obj: &corev1.Pod{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running, RestartCount: 2}}},
			},
			want: []interface{}{"web", "1/1", "Running", "2", "5m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "evicted pod reason",
			obj: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: ago(50 * time.Hour)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status:     corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			},
			want: []interface{}{"web", "0/1", "Evicted", "0", "2d2h", "<none>", "<none>", "<none>", "<none>"},
		},
	}
	runCellsCases(t, cases)
}

func TestNodeCells(t *testing.T) {
	cases := []cellsCase{
		{
			name: "cordoned ready control plane",
			obj: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{
					Name:              "cp-1",
					CreationTimestamp: ago(30 * 24 * time.Hour),
					Labels: map[string]string{
						"node-role.kubernetes.io/control-plane": "",
						"node-role.kubernetes.io/etcd":          "true",
						"kubernetes.io/role":                    "control-plane",
						"node-role.kubernetes.io/":              "",
					},
				},
				Spec: corev1.NodeSpec{Unschedulable: true},
				Status: corev1.NodeStatus{
					Conditions: []corev1.NodeCondition{
						{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
						{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
					},
					Addresses: []corev1.NodeAddress{
						{Type: corev1.NodeHostName, Address: "cp-1"},
						{Type: corev1.NodeInternalIP, Address: "192.168.1.10"},
						{Type: corev1.NodeExternalIP, Address: "203.0.113.10"},
						{Type: corev1.NodeInternalIP, Address: "fd00::10"},
					},
					NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.33.1", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-18-amd64", ContainerRuntimeVersion: "containerd://1.7.13"},
				},
			},
			want: []interface{}{"cp-1", "Ready,SchedulingDisabled", "control-plane,etcd", "30d", "v1.33.1", "192.168.1.10", "203.0.113.10", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.13"},
		},
		{
			name: "not ready worker with legacy role label",
			obj: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "w-1", CreationTimestamp: ago(5 * time.Minute), Labels: map[string]string{"kubernetes.io/role": "worker"}},
				Status: corev1.NodeStatus{
					Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
					NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.33.1"},
				},
			},
			want: []interface{}{"w-1", "NotReady", "worker", "5m", "v1.33.1", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
		},
		{
			name: "no conditions, no roles",
			obj:  &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w-2"}, Spec: corev1.NodeSpec{Unschedulable: true}},
			want: []interface{}{"w-2", "Unknown,SchedulingDisabled", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
		},
	}
	runCellsCases(t, cases)
}

func TestServiceCells(t *testing.T) {
	lbIngress := []corev1.LoadBalancerIngress{{IP: "203.0.113.9"}, {Hostname: "lb.example.com"}, {IP: "198.51.100.7"}, {IP: "203.0.113.9"}}
	cases := []cellsCase{
		{
			name: "cluster IP with selector",
			obj: &corev1.Service{
				ObjectMeta: objMeta("kube-dns"),
				Spec: corev1.ServiceSpec{
					Type:       corev1.ServiceTypeClusterIP,
					ClusterIP:  "10.96.0.10",
					ClusterIPs: []string{"10.96.0.10", "fd00:10:96::a"},
					Ports: []corev1.ServicePort{
						{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
						{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
					},
					Selector: map[string]string{"k8s-app": "kube-dns", "app": "dns"},
				},
			},
			want: []interface{}{"kube-dns", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "5m", "app=dns,k8s-app=kube-dns"},
		},
		{
			name: "node port",
			obj: &corev1.Service{
				ObjectMeta: objMeta("web"),
				Spec: corev1.ServiceSpec{
					Type:        corev1.ServiceTypeNodePort,
					ClusterIPs:  []string{"10.96.1.1"},
					ExternalIPs: []string{"192.0.2.1", "192.0.2.2"},
					Ports:       []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}},
				},
			},
			want: []interface{}{"web", "NodePort", "10.96.1.1", "192.0.2.1,192.0.2.2", "80:30080/TCP", "5m", "<none>"},
		},
		{
			name: "load balancer without ingress",
			obj: &corev1.Service{
				ObjectMeta: objMeta("web"),
				Spec: corev1.ServiceSpec{
					Type:       corev1.ServiceTypeLoadBalancer,
					ClusterIP:  "10.96.1.2", // clusterIPs unset: fall back to clusterIP
					Ports:      []corev1.ServicePort{{Port: 443, NodePort: 31443, Protocol: corev1.ProtocolTCP}},
					Selector:   map[string]string{"app": "web"},
					ClusterIPs: nil,
				},
			},
			want: []interface{}{"web", "LoadBalancer", "10.96.1.2", "<pending>", "443:31443/TCP", "5m", "app=web"},
		},
		{
			name: "load balancer with ingress is sorted, de-duplicated and not clipped",
			obj: &corev1.Service{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.1.3"}},
				Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: lbIngress}},
			},
			want: []interface{}{"web", "LoadBalancer", "10.96.1.3", "198.51.100.7,203.0.113.9,lb.example.com", "<none>", "5m", "<none>"},
		},
		{
			name: "load balancer with ingress and external IPs",
			obj: &corev1.Service{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.1.4"}, ExternalIPs: []string{"192.0.2.5"}},
				Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.9"}}}},
			},
			want: []interface{}{"web", "LoadBalancer", "10.96.1.4", "203.0.113.9,192.0.2.5", "<none>", "5m", "<none>"},
		},
		{
			name: "external name",
			obj: &corev1.Service{
				ObjectMeta: objMeta("db"),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"},
			},
			want: []interface{}{"db", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"},
		},
		{
			name: "headless",
			obj: &corev1.Service{
				ObjectMeta: objMeta("db"),
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}, Ports: []corev1.ServicePort{{Port: 5432, Protocol: corev1.ProtocolTCP}}},
			},
			want: []interface{}{"db", "ClusterIP", "None", "<none>", "5432/TCP", "5m", "<none>"},
		},
		{
			name: "no type",
			obj:  &corev1.Service{ObjectMeta: objMeta("odd")},
			want: []interface{}{"odd", "", "<none>", "<unknown>", "<none>", "5m", "<none>"},
		},
	}
	runCellsCases(t, cases)
}

func TestCoreCells(t *testing.T) {
	addrs := []corev1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}
	cases := []cellsCase{
		{
			name: "namespace terminating",
			obj:  &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dev", CreationTimestamp: ago(400 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			want: []interface{}{"dev", "Terminating", "400d"},
		},
		{
			name: "namespace active, zero creation timestamp",
			obj:  &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			want: []interface{}{"default", "Active", "<unknown>"},
		},
		{
			name: "endpoints none",
			obj:  &corev1.Endpoints{ObjectMeta: objMeta("web")},
			want: []interface{}{"web", "<none>", "5m"},
		},
		{
			name: "endpoints more than three",
			obj: &corev1.Endpoints{ObjectMeta: objMeta("web"), Subsets: []corev1.EndpointSubset{{
				Addresses: addrs,
				Ports:     []corev1.EndpointPort{{Name: "http", Port: 80}, {Name: "https", Port: 443}},
			}}},
			want: []interface{}{"web", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...", "5m"},
		},
		{
			name: "endpoints headless without ports, IPv6",
			obj: &corev1.Endpoints{ObjectMeta: objMeta("web"), Subsets: []corev1.EndpointSubset{
				{Addresses: []corev1.EndpointAddress{{IP: "fd00::1"}}},
				{Addresses: []corev1.EndpointAddress{{IP: "fd00::2"}}, Ports: []corev1.EndpointPort{{Port: 8080}}},
			}},
			want: []interface{}{"web", "fd00::1,[fd00::2]:8080", "5m"},
		},
		{
			name: "configmap counts data and binary data",
			obj: &corev1.ConfigMap{ObjectMeta: objMeta("cfg"), Data: map[string]string{"a": "1", "b": "2"},
				BinaryData: map[string][]byte{"c": {0}}},
			want: []interface{}{"cfg", int64(3), "5m"},
		},
		{
			name: "secret counts data merged with stringData",
			obj: &corev1.Secret{ObjectMeta: objMeta("tls"), Type: corev1.SecretTypeTLS,
				Data:       map[string][]byte{"tls.crt": nil, "tls.key": nil},
				StringData: map[string]string{"tls.key": "x", "ca.crt": "y"}},
			want: []interface{}{"tls", "kubernetes.io/tls", int64(3), "5m"},
		},
		{
			name: "service account",
			obj:  &corev1.ServiceAccount{ObjectMeta: objMeta("default"), Secrets: []corev1.ObjectReference{{Name: "token"}}},
			want: []interface{}{"default", int64(1), "5m"},
		},
	}
	runCellsCases(t, cases)
}

func TestEventCells(t *testing.T) {
	cases := []cellsCase{
		{
			name: "core event with legacy timestamps",
			obj: &corev1.Event{
				ObjectMeta:     objMeta("web-0.17a1"),
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-0", FieldPath: "spec.containers{app}"},
				Reason:         "BackOff",
				Message:        "Back-off restarting failed container\n",
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
				FirstTimestamp: ago(10 * time.Minute),
				LastTimestamp:  ago(time.Minute),
				Count:          5,
				Type:           corev1.EventTypeWarning,
			},
			want: []interface{}{"60s", "Warning", "BackOff", "pod/web-0", "spec.containers{app}", "kubelet, node-1", "Back-off restarting failed container", "10m", int64(5), "web-0.17a1"},
		},
		{
			name: "core event with series and event time",
			obj: &corev1.Event{
				ObjectMeta:          objMeta("node-1.abc"),
				InvolvedObject:      corev1.ObjectReference{Kind: "Node"},
				Reason:              "Starting",
				EventTime:           metav1.NewMicroTime(now.Add(-3 * time.Minute)),
				Series:              &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-30 * time.Second))},
				ReportingController: "kubelet",
				ReportingInstance:   "node-1",
				Type:                corev1.EventTypeNormal,
			},
			want: []interface{}{"30s", "Normal", "Starting", "node", "", "kubelet, node-1", "", "3m", int64(4), "node-1.abc"},
		},
		{
			name: "singleton event without times",
			obj:  &corev1.Event{ObjectMeta: objMeta("x"), InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"}, Source: corev1.EventSource{Component: "deployment-controller"}},
			want: []interface{}{"<unknown>", "", "", "deployment/web", "", "deployment-controller", "", "<unknown>", int64(1), "x"},
		},
		{
			name: "events.k8s.io event",
			obj: &eventsv1.Event{
				ObjectMeta:          objMeta("web.1"),
				EventTime:           metav1.NewMicroTime(now.Add(-2 * time.Hour)),
				ReportingController: "default-scheduler",
				Reason:              "Scheduled",
				Regarding:           corev1.ObjectReference{Kind: "Pod", Name: "web"},
				Note:                "Successfully assigned default/web to node-1",
				Type:                corev1.EventTypeNormal,
			},
			want: []interface{}{"120m", "Normal", "Scheduled", "pod/web", "", "default-scheduler", "Successfully assigned default/web to node-1", "120m", int64(1), "web.1"},
		},
		{
			name: "events.k8s.io event with deprecated fields and series",
			obj: &eventsv1.Event{
				ObjectMeta:               objMeta("web.2"),
				Reason:                   "Pulled",
				Regarding:                corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
				DeprecatedSource:         corev1.EventSource{Component: "kubelet", Host: "node-2"},
				DeprecatedFirstTimestamp: ago(20 * time.Minute),
				DeprecatedLastTimestamp:  ago(15 * time.Minute),
				DeprecatedCount:          2,
				Series:                   &eventsv1.EventSeries{Count: 9, LastObservedTime: metav1.NewMicroTime(now.Add(-5 * time.Second))},
				Type:                     corev1.EventTypeNormal,
			},
			want: []interface{}{"5s", "Normal", "Pulled", "pod/web", "spec.containers{app}", "kubelet, node-2", "", "20m", int64(9), "web.2"},
		},
	}
	runCellsCases(t, cases)
}

func TestWorkloadCells(t *testing.T) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tmpl := podTemplate(corev1.Container{Name: "nginx", Image: "nginx:1.27"}, corev1.Container{Name: "log", Image: "busybox"})
	cases := []cellsCase{
		{
			name: "deployment",
			obj: &appsv1.Deployment{
				ObjectMeta: objMeta("web"),
				Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: selector, Template: tmpl},
				Status:     appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
			},
			want: []interface{}{"web", "2/3", int64(3), int64(2), "5m", "nginx,log", "nginx:1.27,busybox", "app=web"},
		},
		{
			name: "deployment with expression selector",
			obj: &appsv1.Deployment{
				ObjectMeta: objMeta("web"),
				Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(0)), Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}}}},
			},
			want: []interface{}{"web", "0/0", int64(0), int64(0), "5m", "", "", "tier in (api,web)"},
		},
		{
			name: "deployment with invalid selector",
			obj: &appsv1.Deployment{
				ObjectMeta: objMeta("web"),
				Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "tier", Operator: "Bogus"}}}},
			},
			want: []interface{}{"web", "0/1", int64(0), int64(0), "5m", "", "", "<invalid>"},
		},
		{
			name: "replicaset",
			obj: &appsv1.ReplicaSet{
				ObjectMeta: objMeta("web-7d9f8"),
				Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: selector, Template: tmpl},
				Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
			},
			want: []interface{}{"web-7d9f8", int64(3), int64(3), int64(1), "5m", "nginx,log", "nginx:1.27,busybox", "app=web"},
		},
		{
			name: "replicationcontroller",
			obj: &corev1.ReplicationController{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.ReplicationControllerSpec{Replicas: ptr(int32(3)), Selector: map[string]string{"app": "web", "tier": "fe"}, Template: &tmpl},
				Status:     corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1},
			},
			want: []interface{}{"web", int64(3), int64(2), int64(1), "5m", "nginx,log", "nginx:1.27,busybox", "app=web,tier=fe"},
		},
		{
			name: "replicationcontroller without template",
			obj: &corev1.ReplicationController{
				ObjectMeta: objMeta("web"),
				Spec:       corev1.ReplicationControllerSpec{Replicas: ptr(int32(0))},
			},
			want: []interface{}{"web", int64(0), int64(0), int64(0), "5m", "", "", "<none>"},
		},
		{
			name: "daemonset",
			obj: &appsv1.DaemonSet{
				ObjectMeta: objMeta("agent"),
				Spec: appsv1.DaemonSetSpec{Selector: selector, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
					Containers:   []corev1.Container{{Name: "agent", Image: "agent:2"}},
				}}},
				Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 4, CurrentNumberScheduled: 4, NumberReady: 3, UpdatedNumberScheduled: 2, NumberAvailable: 3},
			},
			want: []interface{}{"agent", int64(4), int64(4), int64(3), int64(2), int64(3), "kubernetes.io/os=linux", "5m", "agent", "agent:2", "app=web"},
		},
		{
			name: "daemonset without node selector",
			obj:  &appsv1.DaemonSet{ObjectMeta: objMeta("agent")},
			want: []interface{}{"agent", int64(0), int64(0), int64(0), int64(0), int64(0), "<none>", "5m", "", "", "<none>"},
		},
		{
			name: "statefulset",
			obj: &appsv1.StatefulSet{
				ObjectMeta: objMeta("db"),
				Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), Template: podTemplate(corev1.Container{Name: "pg", Image: "postgres:16"})},
				Status:     appsv1.StatefulSetStatus{ReadyReplicas: 1},
			},
			want: []interface{}{"db", "1/3", "5m", "pg", "postgres:16"},
		},
		{
			name: "job complete",
			obj: &batchv1.Job{
				ObjectMeta: objMeta("pi"),
				Spec:       batchv1.JobSpec{Completions: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "abc"}}, Template: podTemplate(corev1.Container{Name: "pi", Image: "perl:5.34"})},
				Status: batchv1.JobStatus{
					Succeeded: 1, StartTime: agoPtr(4 * time.Minute), CompletionTime: agoPtr(time.Minute),
					Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue}, {Type: batchv1.JobComplete, Status: corev1.ConditionTrue}},
				},
			},
			want: []interface{}{"pi", "Complete", "1/1", "3m", "5m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"},
		},
		{
			name: "job running with parallelism",
			obj: &batchv1.Job{
				ObjectMeta: objMeta("work"),
				Spec:       batchv1.JobSpec{Parallelism: ptr(int32(3))},
				Status:     batchv1.JobStatus{Succeeded: 0, StartTime: agoPtr(90 * time.Second)},
			},
			want: []interface{}{"work", "Running", "0/1 of 3", "90s", "5m", "", "", "<none>"},
		},
		{
			name: "job failed",
			obj: &batchv1.Job{
				ObjectMeta: objMeta("bad"),
				Spec:       batchv1.JobSpec{Completions: ptr(int32(5)), Parallelism: ptr(int32(1))},
				Status: batchv1.JobStatus{Succeeded: 2,
					Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue}, {Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}},
			},
			want: []interface{}{"bad", "Failed", "2/5", "", "5m", "", "", "<none>"},
		},
		{
			name: "job terminating",
			obj: &batchv1.Job{
				ObjectMeta: func() metav1.ObjectMeta { m := objMeta("bye"); m.DeletionTimestamp = agoPtr(0); return m }(),
				Status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue}}},
			},
			want: []interface{}{"bye", "Terminating", "0/1", "", "5m", "", "", "<none>"},
		},
		{
			name: "job suspended",
			obj: &batchv1.Job{
				ObjectMeta: objMeta("later"),
				Status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}, {Type: batchv1.JobSuspended, Status: corev1.ConditionTrue}}},
			},
			want: []interface{}{"later", "Suspended", "0/1", "", "5m", "", "", "<none>"},
		},
		{
			name: "job failure target",
			obj: &batchv1.Job{
				ObjectMeta: objMeta("failing"),
				Status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue}}},
			},
			want: []interface{}{"failing", "FailureTarget", "0/1", "", "5m", "", "", "<none>"},
		},
		{
			name: "cronjob",
			obj: &batchv1.CronJob{
				ObjectMeta: objMeta("backup"),
				Spec: batchv1.CronJobSpec{
					Schedule: "*/5 * * * *",
					Suspend:  ptr(false),
					JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
						Selector: selector,
						Template: podTemplate(corev1.Container{Name: "backup", Image: "backup:1"}),
					}},
				},
				Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "backup-1"}}, LastScheduleTime: agoPtr(2 * time.Minute)},
			},
			want: []interface{}{"backup", "*/5 * * * *", "<none>", "False", int64(1), "2m", "5m", "backup", "backup:1", "app=web"},
		},
		{
			name: "cronjob with time zone, suspend unset, never scheduled",
			obj: &batchv1.CronJob{
				ObjectMeta: objMeta("report"),
				Spec:       batchv1.CronJobSpec{Schedule: "0 9 * * 1", TimeZone: ptr("Europe/Paris")},
			},
			want: []interface{}{"report", "0 9 * * 1", "Europe/Paris", "<unset>", int64(0), "<none>", "5m", "", "", "<none>"},
		},
		{
			name: "cronjob suspended",
			obj:  &batchv1.CronJob{ObjectMeta: objMeta("off"), Spec: batchv1.CronJobSpec{Schedule: "@daily", Suspend: ptr(true)}},
			want: []interface{}{"off", "@daily", "<none>", "True", int64(0), "<none>", "5m", "", "", "<none>"},
		},
	}
	runCellsCases(t, cases)
}

func TestOtherCells(t *testing.T) {
	ep := func(addrs ...string) discoveryv1.Endpoint { return discoveryv1.Endpoint{Addresses: addrs} }
	cases := []cellsCase{
		{
			name: "lease",
			obj:  &coordinationv1.Lease{ObjectMeta: objMeta("kube-scheduler"), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("cp-1_1234")}},
			want: []interface{}{"kube-scheduler", "cp-1_1234", "5m"},
		},
		{
			name: "lease without holder",
			obj:  &coordinationv1.Lease{ObjectMeta: objMeta("free")},
			want: []interface{}{"free", "", "5m"},
		},
		{
			name: "endpointslice",
			obj: &discoveryv1.EndpointSlice{
				ObjectMeta:  objMeta("web-abcde"),
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Port: ptr(int32(80))}, {Name: ptr("https")}, {}},
				Endpoints:   []discoveryv1.Endpoint{ep("10.0.0.1"), ep("10.0.0.2", "10.0.0.3"), ep("10.0.0.4")},
			},
			want: []interface{}{"web-abcde", "IPv4", "80,https,*", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "5m"},
		},
		{
			name: "endpointslice with many ports, no endpoints",
			obj: &discoveryv1.EndpointSlice{
				ObjectMeta:  objMeta("web-fghij"),
				AddressType: discoveryv1.AddressTypeIPv6,
				Ports:       []discoveryv1.EndpointPort{{Port: ptr(int32(1))}, {Port: ptr(int32(2))}, {Port: ptr(int32(3))}, {Port: ptr(int32(4))}, {Port: ptr(int32(5))}},
			},
			want: []interface{}{"web-fghij", "IPv6", "1,2,3 + 2 more...", "<unset>", "5m"},
		},
		{
			name: "pdb min available",
			obj: &policyv1.PodDisruptionBudget{
				ObjectMeta: objMeta("web"),
				Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(2))},
				Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1},
			},
			want: []interface{}{"web", "2", "N/A", int64(1), "5m"},
		},
		{
			name: "pdb max unavailable percent",
			obj: &policyv1.PodDisruptionBudget{
				ObjectMeta: objMeta("web"),
				Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromString("25%"))},
			},
			want: []interface{}{"web", "N/A", "25%", int64(0), "5m"},
		},
	}
	runCellsCases(t, cases)
}

func TestHorizontalPodAutoscalerCells(t *testing.T) {
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(50))}}}
	cpuStatus := autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
		Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr(int32(30))}}}
	mem := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("100Mi"))}}}
	memStatus := autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
		Name: corev1.ResourceMemory, Current: autoscalingv2.MetricValueStatus{AverageValue: ptr(resource.MustParse("50Mi"))}}}
	pods := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("1k"))}}}
	external := autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "queue"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("30"))}}}
	object := autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "hits"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(resource.MustParse("10"))}}}
	objectStatus := autoscalingv2.MetricStatus{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
		Current: autoscalingv2.MetricValueStatus{Value: ptr(resource.MustParse("7"))}}}
	containerCPU := autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}}}

	hpa := func(minReplicas *int32, specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: objMeta("web"),
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: minReplicas, MaxReplicas: 10, Metrics: specs},
			Status:     autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentMetrics: statuses},
		}
	}
	cases := []cellsCase{
		{
			name: "cpu utilization",
			obj:  hpa(ptr(int32(1)), []autoscalingv2.MetricSpec{cpu}, []autoscalingv2.MetricStatus{cpuStatus}),
			want: []interface{}{"web", "Deployment/web", "cpu: 30%/50%", "1", int64(10), int64(2), "5m"},
		},
		{
			name: "no status yet",
			obj:  hpa(nil, []autoscalingv2.MetricSpec{cpu, mem}, nil),
			want: []interface{}{"web", "Deployment/web", "cpu: <unknown>/50%, memory: <unknown>/100Mi", "<unset>", int64(10), int64(2), "5m"},
		},
		{
			name: "more than two metrics",
			obj:  hpa(ptr(int32(2)), []autoscalingv2.MetricSpec{mem, cpu, pods}, []autoscalingv2.MetricStatus{memStatus, cpuStatus}),
			want: []interface{}{"web", "Deployment/web", "memory: 50Mi/100Mi, cpu: 30%/50% + 1 more...", "2", int64(10), int64(2), "5m"},
		},
		{
			name: "pods and external",
			obj:  hpa(ptr(int32(1)), []autoscalingv2.MetricSpec{pods, external}, nil),
			want: []interface{}{"web", "Deployment/web", "<unknown>/1k, <unknown>/30 (avg)", "1", int64(10), int64(2), "5m"},
		},
		{
			name: "object and container resource",
			obj:  hpa(ptr(int32(1)), []autoscalingv2.MetricSpec{object, containerCPU}, []autoscalingv2.MetricStatus{objectStatus}),
			want: []interface{}{"web", "Deployment/web", "7/10, cpu: <unknown>/<auto>", "1", int64(10), int64(2), "5m"},
		},
		{
			name: "no metrics",
			obj:  hpa(ptr(int32(1)), nil, nil),
			want: []interface{}{"web", "Deployment/web", "<none>", "1", int64(10), int64(2), "5m"},
		},
		{
			name: "malformed metric type",
			obj:  hpa(ptr(int32(1)), []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}, nil),
			want: []interface{}{"web", "Deployment/web", "<unknown type>", "1", int64(10), int64(2), "5m"},
		},
		{
			name: "autoscaling/v1",
			obj: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: objMeta("web"),
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "StatefulSet", Name: "db"},
					MinReplicas:    ptr(int32(1)), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr(int32(80)),
				},
				Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, CurrentCPUUtilizationPercentage: ptr(int32(45))},
			},
			want: []interface{}{"web", "StatefulSet/db", "cpu: 45%/80%", "1", int64(5), int64(3), "5m"},
		},
	}
	runCellsCases(t, cases)
}

func TestDefaultCells(t *testing.T) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("example.com/v1")
	u.SetKind("Widget")
	u.SetName("w1")
	cases := []cellsCase{
		{
			name: "scale uses the default table",
			obj:  &autoscalingv1.Scale{ObjectMeta: objMeta("web"), Spec: autoscalingv1.ScaleSpec{Replicas: 3}},
			want: []interface{}{"web", "5m"},
		},
		{
			name: "uncovered built-in type",
			obj:  &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", CreationTimestamp: ago(3 * time.Hour)}},
			want: []interface{}{"data", "3h"},
		},
		{
			name: "unstructured without creation timestamp",
			obj:  u,
			want: []interface{}{"w1", "<unknown>"},
		},
	}
	runCellsCases(t, cases)
}

func TestCellsErrors(t *testing.T) {
	for name, obj := range map[string]runtime.Object{
		"nil":                    nil,
		"typed nil":              (*corev1.Pod)(nil),
		"covered list":           &corev1.PodList{Items: []corev1.Pod{{}}},
		"uncovered list":         &corev1.PersistentVolumeClaimList{},
		"unstructured list":      &unstructured.UnstructuredList{},
		"object without meta":    &metav1.Status{},
		"covered list, no items": &appsv1.DeploymentList{},
	} {
		t.Run(name, func(t *testing.T) {
			if cells, err := Cells(obj, now); err == nil {
				t.Errorf("Cells(%T) = %v, want an error", obj, cells)
			}
		})
	}
}

// colSpec is the observable shape of a column: "NAME" or "NAME(wide)".
func colSpec(cols []metav1.TableColumnDefinition) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.ToUpper(c.Name)
		if c.Priority == 1 {
			out[i] += "(wide)"
		}
	}
	return out
}

// covered lists each covered kind with its List and the columns kubectl get
// shows for it.
var covered = []struct {
	item, list runtime.Object
	columns    string
}{
	{&corev1.Pod{}, &corev1.PodList{}, "NAME READY STATUS RESTARTS AGE IP(wide) NODE(wide) NOMINATED NODE(wide) READINESS GATES(wide)"},
	{&corev1.Namespace{}, &corev1.NamespaceList{}, "NAME STATUS AGE"},
	{&corev1.Node{}, &corev1.NodeList{}, "NAME STATUS ROLES AGE VERSION INTERNAL-IP(wide) EXTERNAL-IP(wide) OS-IMAGE(wide) KERNEL-VERSION(wide) CONTAINER-RUNTIME(wide)"},
	{&corev1.Service{}, &corev1.ServiceList{}, "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR(wide)"},
	{&corev1.Endpoints{}, &corev1.EndpointsList{}, "NAME ENDPOINTS AGE"},
	{&corev1.ConfigMap{}, &corev1.ConfigMapList{}, "NAME DATA AGE"},
	{&corev1.Secret{}, &corev1.SecretList{}, "NAME TYPE DATA AGE"},
	{&corev1.ServiceAccount{}, &corev1.ServiceAccountList{}, "NAME SECRETS AGE"},
	{&corev1.Event{}, &corev1.EventList{}, "LAST SEEN TYPE REASON OBJECT SUBOBJECT(wide) SOURCE(wide) MESSAGE FIRST SEEN(wide) COUNT(wide) NAME(wide)"},
	{&eventsv1.Event{}, &eventsv1.EventList{}, "LAST SEEN TYPE REASON OBJECT SUBOBJECT(wide) SOURCE(wide) MESSAGE FIRST SEEN(wide) COUNT(wide) NAME(wide)"},
	{&appsv1.Deployment{}, &appsv1.DeploymentList{}, "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{}, "NAME DESIRED CURRENT READY AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&corev1.ReplicationController{}, &corev1.ReplicationControllerList{}, "NAME DESIRED CURRENT READY AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&appsv1.DaemonSet{}, &appsv1.DaemonSetList{}, "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&appsv1.StatefulSet{}, &appsv1.StatefulSetList{}, "NAME READY AGE CONTAINERS(wide) IMAGES(wide)"},
	{&batchv1.Job{}, &batchv1.JobList{}, "NAME STATUS COMPLETIONS DURATION AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&batchv1.CronJob{}, &batchv1.CronJobList{}, "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE CONTAINERS(wide) IMAGES(wide) SELECTOR(wide)"},
	{&coordinationv1.Lease{}, &coordinationv1.LeaseList{}, "NAME HOLDER AGE"},
	{&discoveryv1.EndpointSlice{}, &discoveryv1.EndpointSliceList{}, "NAME ADDRESSTYPE PORTS ENDPOINTS AGE"},
	{&policyv1.PodDisruptionBudget{}, &policyv1.PodDisruptionBudgetList{}, "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE"},
	{&autoscalingv2.HorizontalPodAutoscaler{}, &autoscalingv2.HorizontalPodAutoscalerList{}, "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE"},
	{&autoscalingv1.HorizontalPodAutoscaler{}, &autoscalingv1.HorizontalPodAutoscalerList{}, "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE"},
	{&schedulingv1.PriorityClass{}, &schedulingv1.PriorityClassList{}, "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY"},
	{&apiextv1.CustomResourceDefinition{}, &apiextv1.CustomResourceDefinitionList{}, "NAME CREATED AT"},
	{&apiregistrationv1.APIService{}, &apiregistrationv1.APIServiceList{}, "NAME SERVICE AVAILABLE AGE"},
	{&certificatesv1.CertificateSigningRequest{}, &certificatesv1.CertificateSigningRequestList{}, "NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION"},
	{&admissionregistrationv1.MutatingWebhookConfiguration{}, &admissionregistrationv1.MutatingWebhookConfigurationList{}, "NAME WEBHOOKS AGE"},
	{&admissionregistrationv1.ValidatingWebhookConfiguration{}, &admissionregistrationv1.ValidatingWebhookConfigurationList{}, "NAME WEBHOOKS AGE"},
	{&flowcontrolv1.FlowSchema{}, &flowcontrolv1.FlowSchemaList{}, "NAME PRIORITYLEVEL MATCHINGPRECEDENCE DISTINGUISHERMETHOD AGE MISSINGPL"},
	{&flowcontrolv1.PriorityLevelConfiguration{}, &flowcontrolv1.PriorityLevelConfigurationList{}, "NAME TYPE NOMINALCONCURRENCYSHARES QUEUES HANDSIZE QUEUELENGTHLIMIT AGE"},
	{&networkingv1.Ingress{}, &networkingv1.IngressList{}, "NAME CLASS HOSTS ADDRESS PORTS AGE"},
	{&networkingv1.IngressClass{}, &networkingv1.IngressClassList{}, "NAME CONTROLLER PARAMETERS AGE"},
	{&networkingv1.NetworkPolicy{}, &networkingv1.NetworkPolicyList{}, "NAME POD-SELECTOR AGE"},
	{&rbacv1.Role{}, &rbacv1.RoleList{}, "NAME CREATED AT"},
	{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}, "NAME CREATED AT"},
	{&rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}, "NAME ROLE AGE USERS(wide) GROUPS(wide) SERVICEACCOUNTS(wide)"},
	{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}, "NAME ROLE AGE USERS(wide) GROUPS(wide) SERVICEACCOUNTS(wide)"},
	{&storagev1.StorageClass{}, &storagev1.StorageClassList{}, "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE"},
	{&storagev1.CSIDriver{}, &storagev1.CSIDriverList{}, "NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE"},
	{&storagev1.CSINode{}, &storagev1.CSINodeList{}, "NAME DRIVERS AGE"},
	{&storagev1.VolumeAttachment{}, &storagev1.VolumeAttachmentList{}, "NAME ATTACHER PV NODE ATTACHED AGE"},
	{&nodev1.RuntimeClass{}, &nodev1.RuntimeClassList{}, "NAME HANDLER AGE"},
}

func TestColumnDefinitions(t *testing.T) {
	for _, c := range covered {
		t.Run(reflect.TypeOf(c.item).String(), func(t *testing.T) {
			cols := ColumnDefinitions(c.item)
			if got := strings.Join(colSpec(cols), " "); got != c.columns {
				t.Errorf("columns\n got: %s\nwant: %s", got, c.columns)
			}
			if got := ColumnDefinitions(c.list); !reflect.DeepEqual(got, cols) {
				t.Errorf("List columns differ from item columns:\n%v\n%v", colSpec(got), colSpec(cols))
			}
			names := 0
			for i, col := range cols {
				if col.Type != "string" && col.Type != "integer" && col.Type != "boolean" && col.Type != "date" {
					t.Errorf("column %q has type %q", col.Name, col.Type)
				}
				if col.Description == "" {
					t.Errorf("column %q has no description", col.Name)
				}
				if col.Format == "name" && !(col.Name == "Attacher" && reflect.TypeOf(c.item) == reflect.TypeOf(&storagev1.VolumeAttachment{})) {
					// VolumeAttachment's Attacher column also has format "name", as upstream.
					names++
					if col.Name != "Name" || col.Type != "string" {
						t.Errorf("name-format column is %q of type %q", col.Name, col.Type)
					}
					if _, isEvent := eventKinds[reflect.TypeOf(c.item)]; i != 0 && !isEvent {
						t.Errorf("Name is column %d, want 0", i)
					}
				}
			}
			if names != 1 {
				t.Errorf("%d name-format columns, want 1", names)
			}
		})
	}
}

var eventKinds = map[reflect.Type]struct{}{
	reflect.TypeOf(&corev1.Event{}):   {},
	reflect.TypeOf(&eventsv1.Event{}): {},
}

func TestColumnTypesAndPriorities(t *testing.T) {
	type col struct {
		typ      string
		priority int32
	}
	check := func(obj runtime.Object, name string, want col) {
		t.Helper()
		for _, c := range ColumnDefinitions(obj) {
			if c.Name == name {
				if got := (col{c.Type, c.Priority}); got != want {
					t.Errorf("%T column %q = %+v, want %+v", obj, name, got, want)
				}
				return
			}
		}
		t.Errorf("%T has no column %q", obj, name)
	}
	check(&corev1.Pod{}, "Restarts", col{"string", 0})
	check(&corev1.Pod{}, "Nominated Node", col{"string", 1})
	check(&appsv1.ReplicaSet{}, "Desired", col{"integer", 0})
	check(&appsv1.DaemonSet{}, "Available", col{"integer", 0})
	check(&appsv1.Deployment{}, "Available", col{"string", 0})
	check(&batchv1.CronJob{}, "Suspend", col{"boolean", 0})
	check(&batchv1.CronJob{}, "Active", col{"integer", 0})
	check(&policyv1.PodDisruptionBudget{}, "Allowed Disruptions", col{"integer", 0})
	check(&corev1.Event{}, "Name", col{"string", 1})
	check(&corev1.Service{}, "Selector", col{"string", 1})
}

func TestColumnDefinitionsDefault(t *testing.T) {
	for _, obj := range []runtime.Object{
		&autoscalingv1.Scale{},
		&corev1.PersistentVolumeClaim{},
		&corev1.PersistentVolumeClaimList{},
		&unstructured.Unstructured{},
		nil,
	} {
		got := colSpec(ColumnDefinitions(obj))
		if want := []string{"NAME", "AGE"}; !reflect.DeepEqual(got, want) {
			t.Errorf("ColumnDefinitions(%T) = %v, want %v", obj, got, want)
		}
		if cols := ColumnDefinitions(obj); cols[0].Format != "name" || cols[1].Format != "" {
			t.Errorf("ColumnDefinitions(%T) formats = %q, %q", obj, cols[0].Format, cols[1].Format)
		}
	}
}

func TestColumnDefinitionsReturnsCopy(t *testing.T) {
	for _, obj := range []runtime.Object{&corev1.Pod{}, &corev1.PersistentVolume{}} {
		cols := ColumnDefinitions(obj)
		cols[0].Name = "Mutated"
		if got := ColumnDefinitions(obj)[0].Name; got != "Name" {
			t.Errorf("%T: mutating the result changed the package's columns to %q", obj, got)
		}
	}
}

// TestCellsMatchColumns prints a zero value and a list-typed lookup of every
// registered kind: the row must have one cell per column, and the registry
// must hold every covered kind.
func TestCellsMatchColumns(t *testing.T) {
	if len(itemHandlers) != len(covered) {
		t.Errorf("%d registered kinds, %d covered in tests", len(itemHandlers), len(covered))
	}
	for _, c := range covered {
		if _, ok := itemHandlers[reflect.TypeOf(c.item)]; !ok {
			t.Errorf("%T is not registered", c.item)
		}
		if _, ok := listHandlers[reflect.TypeOf(c.list)]; !ok {
			t.Errorf("%T is not registered", c.list)
		}
	}
	for typ := range itemHandlers {
		obj := reflect.New(typ.Elem()).Interface().(runtime.Object)
		cells, err := Cells(obj, now)
		if err != nil {
			t.Errorf("Cells(zero %v): %v", typ, err)
			continue
		}
		if cols := ColumnDefinitions(obj); len(cells) != len(cols) {
			t.Errorf("%v: %d cells for %d columns", typ, len(cells), len(cols))
		}
		for i, cell := range cells {
			switch cell.(type) {
			case string, int64, bool:
			default:
				t.Errorf("%v cell %d has type %T", typ, i, cell)
			}
		}
	}
}

func TestAges(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                              "0s",
		119 * time.Second:              "119s",
		2 * time.Minute:                "2m",
		9*time.Minute + 30*time.Second: "9m30s",
		47 * time.Minute:               "47m",
		3*time.Hour + 5*time.Minute:    "3h5m",
		9 * time.Hour:                  "9h",
		36 * time.Hour:                 "36h",
		3 * 24 * time.Hour:             "3d",
		-time.Hour:                     "<invalid>",
	} {
		cells, err := Cells(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", CreationTimestamp: ago(d)}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := cells[2]; got != want {
			t.Errorf("age of %v = %q, want %q", d, got, want)
		}
	}
}
