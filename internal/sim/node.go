package sim

import (
	"fmt"
	"net/netip"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// LabelSimulated marks every simulated node (value "true").
	LabelSimulated = "skiff.dev/simulated"
	// KubeletVersion is what simulated nodes report in nodeInfo.
	KubeletVersion = "v1.32.4-skiff-sim"
	// LeaseNamespace holds node leases.
	LeaseNamespace = "kube-node-lease"
	// ClusterCIDRDefault is where the simulator takes node pod CIDRs from when the server allocates none.
	ClusterCIDRDefault = "10.244.0.0/16"
	// NodeCIDRBits is the size of a node's pod CIDR.
	NodeCIDRBits = 24
)

// NodeName is the name of the i-th simulated node (0-based): prefix + "node-00001" for i = 0.
func NodeName(prefix string, i int) string { return fmt.Sprintf("%snode-%05d", prefix, i+1) }

// HostIP is the InternalIP of the i-th simulated node, taken from 172.16.0.0/12 (.0 and .255 avoided).
func HostIP(i int) netip.Addr {
	// 254 usable addresses per /24, so no node gets a .0 or .255.
	n := uint32(i/254)<<8 | uint32(i%254+1)
	base := uint32(172)<<24 | uint32(16)<<16
	v := base + n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// NodeCIDR is the pod CIDR the simulator gives the i-th node when the server allocated none:
// the i-th /24 counted from the start of base. A /16 holds only 256 of them, so past its end
// the count continues through the enclosing 10.0.0.0/8 (wrapping), which is enough for 65,536
// nodes; an error is returned beyond that or for a base outside IPv4.
func NodeCIDR(base netip.Prefix, i int) (netip.Prefix, error) {
	if !base.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("sim: cluster CIDR %s is not IPv4", base)
	}
	if i < 0 || i >= 1<<16 {
		return netip.Prefix{}, fmt.Errorf("sim: node %d: no /24 left in the /8 around %s", i, base)
	}
	a := base.Masked().Addr().As4()
	start := uint32(a[1])<<16 | uint32(a[2])<<8
	off := (start + uint32(i)<<8) & 0xffffff
	addr := netip.AddrFrom4([4]byte{a[0], byte(off >> 16), byte(off >> 8), 0})
	return netip.PrefixFrom(addr, NodeCIDRBits), nil
}

// nodeObject is the Node a simulated node registers, with a fresh Ready status at now.
func nodeObject(name string, hostIP netip.Addr, taint bool, now time.Time) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				LabelSimulated:           "true",
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "skiff-sim",
			},
			Annotations: map[string]string{"skiff.dev/simulated-by": "skiff sim"},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Phase:       corev1.NodeRunning,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: hostIP.String()},
				{Type: corev1.NodeHostName, Address: name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID:               name,
				SystemUUID:              name,
				BootID:                  name,
				KernelVersion:           "skiff-sim",
				OSImage:                 "skiff simulated node",
				ContainerRuntimeVersion: "skiff-sim://0.1.0",
				KubeletVersion:          KubeletVersion,
				KubeProxyVersion:        KubeletVersion,
				OperatingSystem:         "linux",
				Architecture:            "amd64",
			},
		},
	}
	if taint {
		n.Spec.Taints = []corev1.Taint{{Key: LabelSimulated, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	}
	setNodeConditions(&n.Status, now)
	return n
}

// setNodeConditions marks a node Ready and free of pressure, heartbeat at now.
func setNodeConditions(st *corev1.NodeStatus, now time.Time) {
	t := metav1.NewTime(now)
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "simulated"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "simulated"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "simulated"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "simulated kubelet is posting ready status"},
	}
	for _, w := range want {
		found := false
		for i := range st.Conditions {
			c := &st.Conditions[i]
			if c.Type != w.Type {
				continue
			}
			found = true
			if c.Status != w.Status {
				c.LastTransitionTime = t
			}
			c.Status, c.Reason, c.Message, c.LastHeartbeatTime = w.Status, w.Reason, w.Message, t
		}
		if !found {
			w.LastHeartbeatTime, w.LastTransitionTime = t, t
			st.Conditions = append(st.Conditions, w)
		}
	}
}

// leaseObject is the Lease of a node, owned by it, renewed at now.
func leaseObject(node *corev1.Node, durationSeconds int32, now time.Time) *coordinationv1.Lease {
	renew := metav1.NewMicroTime(now)
	holder := node.Name
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: LeaseNamespace,
			Labels: map[string]string{LabelSimulated: "true"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &durationSeconds, RenewTime: &renew},
	}
	if node.UID != "" {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
	}
	return l
}

// ipPool hands out pod IPs from one node's CIDR; not safe for concurrent use.
type ipPool struct {
	cidr netip.Prefix
	next netip.Addr
	used map[netip.Addr]bool
}

func newIPPool(cidr netip.Prefix) *ipPool {
	cidr = cidr.Masked()
	return &ipPool{cidr: cidr, next: cidr.Addr().Next().Next(), used: map[netip.Addr]bool{}}
}

// take reserves a free address, skipping the network address, .1 (the gateway) and the last
// (broadcast); ok is false when the CIDR is full.
func (p *ipPool) take() (netip.Addr, bool) {
	first := p.cidr.Addr().Next().Next()
	a := p.next
	for range p.size() {
		if !p.cidr.Contains(a) || !p.cidr.Contains(a.Next()) {
			a = first
		}
		if !p.used[a] {
			p.used[a] = true
			p.next = a.Next()
			return a, true
		}
		a = a.Next()
	}
	return netip.Addr{}, false
}

// mark records an address already in use (a pod that had one before the simulator started).
func (p *ipPool) mark(a netip.Addr) {
	if p.cidr.Contains(a) {
		p.used[a] = true
	}
}

func (p *ipPool) release(a netip.Addr) { delete(p.used, a) }

func (p *ipPool) size() int {
	bits := p.cidr.Addr().BitLen() - p.cidr.Bits()
	if bits > 16 {
		bits = 16
	}
	return 1 << bits
}
