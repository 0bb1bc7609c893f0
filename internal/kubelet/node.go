package kubelet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// maxPods is the node's pod capacity, as the kubelet's default.
const maxPods = 110

func readMeminfo() (total, available uint64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		v, _ := strconv.ParseUint(fs[1], 10, 64)
		switch fs[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			available = v * 1024
		}
	}
	return total, available
}

// fsStats is a filesystem's size and what is available to unprivileged users, in bytes and in inodes; all zero
// when path cannot be read.
type fsStats struct{ bytes, bytesAvail, inodes, inodesFree uint64 }

func diskStats(path string) fsStats {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return fsStats{}
	}
	return fsStats{st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), st.Files, st.Ffree}
}

func osImage() string {
	b, _ := os.ReadFile("/etc/os-release")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

func kernelVersion() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// imageFsPath is a path on the filesystem that holds the images: containerd's root when the kubelet runs its own,
// else the data dir's.
func (k *Kubelet) imageFsPath() string {
	if k.cfg.RuntimeEndpoint == "" {
		return filepath.Join(k.cfg.DataDir, "containerd")
	}
	return k.cfg.DataDir
}

// nodeConditions computes Ready and the pressure conditions, keeping transition times of unchanged ones.
func (k *Kubelet) nodeConditions(old []corev1.NodeCondition, runtimeErr error) []corev1.NodeCondition {
	now := metav1.NewTime(k.clock.Now().Truncate(time.Second))
	memTotal, memAvail := readMeminfo()
	nodefs := diskStats(k.cfg.DataDir)
	imagefs := diskStats(k.imageFsPath())
	pidMax, _ := strconv.Atoi(readTrim("/proc/sys/kernel/pid_max"))
	procs := 0
	if ents, err := os.ReadDir("/proc"); err == nil {
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				procs++
			}
		}
	}
	th := k.cfg.EvictionHard
	mk := func(t corev1.NodeConditionType, bad bool, badReason, badMsg, okReason, okMsg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: okReason, Message: okMsg, LastHeartbeatTime: now, LastTransitionTime: now}
		if bad {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, badReason, badMsg
		}
		return c
	}
	conds := []corev1.NodeCondition{
		mk(corev1.NodeMemoryPressure, memAvail > 0 && th.Below(SignalMemoryAvailable, memAvail, memTotal), "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		mk(corev1.NodeDiskPressure, th.Below(SignalNodeFsAvailable, nodefs.bytesAvail, nodefs.bytes) ||
			th.Below(SignalNodeFsInodesFree, nodefs.inodesFree, nodefs.inodes) ||
			th.Below(SignalImageFsAvailable, imagefs.bytesAvail, imagefs.bytes) ||
			th.Below(SignalImageFsInodesFree, imagefs.inodesFree, imagefs.inodes),
			"KubeletHasDiskPressure", "kubelet has disk pressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		mk(corev1.NodePIDPressure, pidMax > procs && th.Below(SignalPIDAvailable, uint64(pidMax-procs), uint64(pidMax)), "KubeletHasInsufficientPID", "kubelet has insufficient PID available", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	if runtimeErr != nil {
		ready.Status, ready.Reason, ready.Message = corev1.ConditionFalse, "KubeletNotReady", "container runtime is down: "+runtimeErr.Error()
	}
	conds = append(conds, ready)
	for i := range conds {
		for _, o := range old {
			if o.Type == conds[i].Type && o.Status == conds[i].Status {
				conds[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return conds
}

// runtimeReady asks the CRI for RuntimeReady and NetworkReady.
func (k *Kubelet) runtimeReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := k.cri.rt.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return err
	}
	if st.Status == nil {
		return fmt.Errorf("no status")
	}
	for _, c := range st.Status.Conditions {
		if !c.Status && (c.Type == runtimeapi.RuntimeReady || (c.Type == runtimeapi.NetworkReady && k.podCIDR != "")) {
			return fmt.Errorf("%s=false reason:%s message:%s", c.Type, c.Reason, c.Message)
		}
	}
	return nil
}

func (k *Kubelet) nodeStatus(ver *runtimeapi.VersionResponse) corev1.NodeStatus {
	memTotal, _ := readMeminfo()
	dTotal := diskStats(k.cfg.DataDir).bytes
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(int64(memTotal), resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(int64(dTotal), resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(maxPods, resource.DecimalSI),
	}
	// As the kubelet's node allocatable: capacity less the hard eviction thresholds.
	allocatable := capacity.DeepCopy()
	allocatable[corev1.ResourceMemory] = *resource.NewQuantity(int64(memTotal-k.cfg.EvictionHard.Reserve(SignalMemoryAvailable, memTotal)), resource.BinarySI)
	allocatable[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(dTotal-k.cfg.EvictionHard.Reserve(SignalNodeFsAvailable, dTotal)), resource.BinarySI)
	hostname, _ := os.Hostname()
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: allocatable,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: k.cfg.Address},
			{Type: corev1.NodeHostName, Address: hostname},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.cfg.Port)}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               readTrim("/etc/machine-id"),
			SystemUUID:              readTrim("/sys/class/dmi/id/product_uuid"),
			BootID:                  readTrim("/proc/sys/kernel/random/boot_id"),
			KernelVersion:           kernelVersion(),
			OSImage:                 osImage(),
			ContainerRuntimeVersion: ver.RuntimeName + "://" + ver.RuntimeVersion,
			KubeletVersion:          Version,
			KubeProxyVersion:        Version,
			OperatingSystem:         goruntime.GOOS,
			Architecture:            goruntime.GOARCH,
		},
	}
}

// registerNode creates the Node, or takes over the existing one, and writes its status.
func (k *Kubelet) registerNode(ctx context.Context, ver *runtimeapi.VersionResponse) error {
	nodes := k.cs.CoreV1().Nodes()
	labels := map[string]string{
		"kubernetes.io/hostname": k.cfg.NodeName, "kubernetes.io/os": goruntime.GOOS, "kubernetes.io/arch": goruntime.GOARCH,
		"beta.kubernetes.io/os": goruntime.GOOS, "beta.kubernetes.io/arch": goruntime.GOARCH,
	}
	st := k.nodeStatus(ver)
	st.Conditions = k.nodeConditions(nil, k.runtimeReady(ctx))
	for {
		n, err := nodes.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			n = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Labels: labels,
				Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}}}
			n, err = nodes.Create(ctx, n, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("kubelet: register node: %w", err)
			}
			if err != nil {
				continue
			}
			k.log.Info("node registered", "node", k.cfg.NodeName)
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			k.log.Warn("get node", "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-k.clock.After(time.Second):
			}
			continue
		default:
			changed := false
			if n.Labels == nil {
				n.Labels = map[string]string{}
			}
			for key, v := range labels {
				if n.Labels[key] != v {
					n.Labels[key], changed = v, true
				}
			}
			if changed {
				if n, err = nodes.Update(ctx, n, metav1.UpdateOptions{}); err != nil {
					if apierrors.IsConflict(err) {
						continue
					}
					return fmt.Errorf("kubelet: update node: %w", err)
				}
			}
		}
		st.Conditions = k.nodeConditions(n.Status.Conditions, k.runtimeReady(ctx))
		n.Status = st
		out, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("kubelet: node status: %w", err)
		}
		k.node = out
		k.nodeVersion = ver
		k.lastStatusReport = k.clock.Now()
		return nil
	}
}

// nodeStatusChanged reports whether a node status differs from the written one other than in its conditions'
// heartbeat times (the kubelet's nodeStatusHasChanged).
func nodeStatusChanged(written, st *corev1.NodeStatus) bool {
	if len(written.Conditions) != len(st.Conditions) {
		return true
	}
	byType := make(map[corev1.NodeConditionType]corev1.NodeCondition, len(written.Conditions))
	for _, c := range written.Conditions {
		byType[c.Type] = c
	}
	for _, c := range st.Conditions {
		o, ok := byType[c.Type]
		if !ok || o.Status != c.Status || o.Reason != c.Reason || o.Message != c.Message || !o.LastTransitionTime.Equal(&c.LastTransitionTime) {
			return true
		}
	}
	a, b := written.DeepCopy(), st.DeepCopy()
	a.Conditions, b.Conditions = nil, nil
	return !apiequality.Semantic.DeepEqual(a, b)
}

// waitPodCIDR waits until the server's node-IPAM component has set spec.podCIDR.
func (k *Kubelet) waitPodCIDR(ctx context.Context) error {
	warned := false
	start := k.clock.Now()
	for {
		n, err := k.cs.CoreV1().Nodes().Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			k.podCIDR = n.Spec.PodCIDR
			k.node = n
			return nil
		}
		if !warned && k.clock.Since(start) > 10*time.Second {
			k.log.Warn("waiting for the server to allocate spec.podCIDR to this node (node IPAM)", "node", k.cfg.NodeName)
			warned = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-k.clock.After(200 * time.Millisecond):
		}
	}
}

// bridgeName names the node's bridge after its podCIDR ("sk" and the CIDR's first three octets in hex), so that
// several skiff nodes on one machine (tests, a second node in a netns) never share a bridge with another subnet.
func bridgeName(podCIDR string) string {
	p, err := netip.ParsePrefix(podCIDR)
	if err != nil || !p.Addr().Is4() {
		return "cni0"
	}
	a := p.Addr().As4()
	return fmt.Sprintf("sk%02x%02x%02x", a[0], a[1], a[2])
}

// cniConfig is the conflist skiff writes: a bridge with host-local on the podCIDR, then portmap.
func cniConfig(podCIDR, ipamDir string) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "skiff",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": bridgeName(podCIDR), "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type": "host-local", "ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}}, "dataDir": ipamDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

func (k *Kubelet) writeCNIConfig() error {
	b, err := cniConfig(k.podCIDR, filepath.Join(k.agentDir, "cni", "ipam"))
	if err != nil {
		return err
	}
	path := filepath.Join(k.cniConfDir, "10-skiff.conflist")
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return nil
	}
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("kubelet: cni config: %w", err)
	}
	return os.Rename(path+".tmp", path)
}

// nodeLoop renews the Lease every LeaseInterval and computes node status every NodeStatusInterval, writing it
// when it changed or NodeStatusReportFrequency has passed.
func (k *Kubelet) nodeLoop(ctx context.Context) {
	lease := k.clock.NewTicker(k.cfg.LeaseInterval)
	defer lease.Stop()
	status := k.clock.NewTicker(k.cfg.NodeStatusInterval)
	defer status.Stop()
	k.renewLease(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-lease.C():
			k.renewLease(ctx)
		case <-status.C():
			k.updateNodeStatus(ctx)
		}
	}
}

// renewLease writes the node's Lease with a new renewTime: from the Lease it last wrote, as the kubelet's lease
// controller does, or after reading it when there is none or that write failed.
func (k *Kubelet) renewLease(ctx context.Context) {
	leases := k.cs.CoordinationV1().Leases("kube-node-lease")
	now := metav1.NewMicroTime(k.clock.Now())
	if k.lease != nil {
		l := k.lease.DeepCopy()
		l.Spec.RenewTime = &now
		out, err := leases.Update(ctx, l, metav1.UpdateOptions{})
		if err == nil {
			k.lease = out
			return
		}
		k.lease = nil // a conflict or another failure: read it again
	}
	l, err := leases.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Namespace: "kube-node-lease"},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(k.cfg.NodeName), LeaseDurationSeconds: ptr.To(int32(40)), RenewTime: &now},
		}
		if k.node != nil {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: k.node.Name, UID: k.node.UID}}
		}
		out, err := leases.Create(ctx, l, metav1.CreateOptions{})
		if err != nil && ctx.Err() == nil {
			k.log.Warn("create lease", "err", err)
		}
		if err == nil {
			k.lease = out
		}
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			k.log.Warn("get lease", "err", err)
		}
		return
	}
	l.Spec.RenewTime = &now
	l.Spec.HolderIdentity = ptr.To(k.cfg.NodeName)
	out, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil && ctx.Err() == nil {
		k.log.Warn("renew lease", "err", err)
	}
	if err == nil {
		k.lease = out
	}
}

func (k *Kubelet) updateNodeStatus(ctx context.Context) {
	nodes := k.cs.CoreV1().Nodes()
	for i := 0; i < 3; i++ {
		n, err := nodes.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// Deleted: register again.
			if err := k.registerNode(ctx, k.nodeVersion); err != nil && ctx.Err() == nil {
				k.log.Warn("re-register node", "err", err)
			}
			return
		}
		if err != nil {
			return
		}
		if n.Spec.PodCIDR != "" && n.Spec.PodCIDR != k.podCIDR {
			k.podCIDR = n.Spec.PodCIDR
			_ = k.writeCNIConfig()
		}
		st := k.nodeStatus(k.nodeVersion)
		st.Conditions = k.nodeConditions(n.Status.Conditions, k.runtimeReady(ctx))
		st.Images = n.Status.Images
		// As the kubelet with node leases: write only what changed, or every NodeStatusReportFrequency.
		if !nodeStatusChanged(&n.Status, &st) && !k.lastStatusReport.IsZero() && k.clock.Since(k.lastStatusReport) < k.cfg.NodeStatusReportFrequency {
			return
		}
		n.Status = st
		out, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err == nil {
			k.lastStatusReport = k.clock.Now()
			k.node = out
		}
		return
	}
}
