package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podLogDir is DATA/agent/logs/pods/<ns>_<name>_<uid>, the sandbox's LogDirectory.
func (w *podWorker) podLogDir(pod *corev1.Pod) string {
	return filepath.Join(w.k.logsDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// sandboxHostname is the sandbox's hostname: none for a pod on the host's network, which keeps the node's (the
// kubelet sets one only with a private UTS namespace; runc refuses a hostname without one).
func sandboxHostname(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return ""
	}
	return podHostname(pod)
}

func podHostname(pod *corev1.Pod) string {
	h := pod.Name
	if pod.Spec.Hostname != "" {
		h = pod.Spec.Hostname
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// dnsConfig is the pod's resolv.conf for its dnsPolicy (see podDNSConfig), on the host's /etc/resolv.conf.
func (w *podWorker) dnsConfig(pod *corev1.Pod) *runtimeapi.DNSConfig {
	return podDNSConfig(pod, w.k.cfg.ClusterDNS, w.k.cfg.ClusterDomain, hostDNSConfig())
}

func (w *podWorker) cgroupParent(pod *corev1.Pod) string {
	return w.k.cfg.CgroupRoot + "/pod" + string(pod.UID)
}

func namespaceOptions(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

func (w *podWorker) sandboxConfig(pod *corev1.Pod, attempt uint32) *runtimeapi.PodSandboxConfig {
	labels := map[string]string{}
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[labelPodName], labels[labelPodNamespace], labels[labelPodUID] = pod.Name, pod.Namespace, string(pod.UID)
	labels[labelManagedBy] = "true"
	annotations := map[string]string{}
	for k, v := range pod.Annotations {
		annotations[k] = v
	}
	var ports []*runtimeapi.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := runtimeapi.Protocol_TCP
			switch p.Protocol {
			case corev1.ProtocolUDP:
				proto = runtimeapi.Protocol_UDP
			case corev1.ProtocolSCTP:
				proto = runtimeapi.Protocol_SCTP
			}
			ports = append(ports, &runtimeapi.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	sc := sandboxSecurityContext(pod)
	sysctls := map[string]string{}
	if pod.Spec.SecurityContext != nil {
		for _, s := range pod.Spec.SecurityContext.Sysctls {
			sysctls[s.Name] = s.Value
		}
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		Hostname:     sandboxHostname(pod),
		LogDirectory: w.podLogDir(pod),
		DnsConfig:    w.dnsConfig(pod),
		PortMappings: ports,
		Labels:       labels,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    w.cgroupParent(pod),
			SecurityContext: sc,
			Sysctls:         sysctls,
		},
	}
}

// sandboxSecurityContext is the sandbox's security context: namespaces, the pod's user and groups, and privileged when any container is (as the kubelet's generatePodSandboxLinuxConfig).
func sandboxSecurityContext(pod *corev1.Pod) *runtimeapi.LinuxSandboxSecurityContext {
	sc := &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaceOptions(pod), Privileged: hasPrivilegedContainer(pod)}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		sc.SupplementalGroups = psc.SupplementalGroups
	}
	return sc
}

// hasPrivilegedContainer reports whether any init, regular or ephemeral container asks for privileged mode.
func hasPrivilegedContainer(pod *corev1.Pod) bool {
	privileged := func(sc *corev1.SecurityContext) bool {
		return sc != nil && sc.Privileged != nil && *sc.Privileged
	}
	for i := range pod.Spec.InitContainers {
		if privileged(pod.Spec.InitContainers[i].SecurityContext) {
			return true
		}
	}
	for i := range pod.Spec.Containers {
		if privileged(pod.Spec.Containers[i].SecurityContext) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if privileged(pod.Spec.EphemeralContainers[i].SecurityContext) {
			return true
		}
	}
	return false
}

// createSandbox runs a new sandbox and returns it with its IP.
func (w *podWorker) createSandbox(ctx context.Context, pod *corev1.Pod, attempt uint32) (*observedSandbox, *runtimeapi.PodSandboxConfig, error) {
	cfg := w.sandboxConfig(pod, attempt)
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return nil, nil, err
	}
	resp, err := w.k.cri.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		return nil, nil, fmt.Errorf("%s", trimErr(err))
	}
	sb := &observedSandbox{ID: resp.PodSandboxId, Attempt: attempt, Ready: true, CreatedAt: w.k.clock.Now()}
	st, err := w.k.cri.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sb.ID})
	if err == nil && st.Status != nil && st.Status.Network != nil && st.Status.Network.Ip != "" {
		sb.IP = st.Status.Network.Ip
		sb.IPs = []string{sb.IP}
		for _, a := range st.Status.Network.AdditionalIps {
			sb.IPs = append(sb.IPs, a.Ip)
		}
	}
	// The IP may have belonged to a pod deleted just before: drop the host's stale neighbour entry for it.
	w.forgetNeighbours(ctx, sb.IPs)
	if err := w.writeHosts(pod, sb.IP); err != nil {
		return nil, nil, err
	}
	return sb, cfg, nil
}

// writeHosts writes the pod's /etc/hosts (mounted into every container, as the kubelet does).
func (w *podWorker) writeHosts(pod *corev1.Pod, ip string) error {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if ip != "" {
		name := podHostname(pod)
		if pod.Spec.Subdomain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, name, pod.Spec.Subdomain, pod.Namespace, w.k.cfg.ClusterDomain, name)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, name)
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
	}
	for _, ha := range pod.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", ha.IP, strings.Join(ha.Hostnames, "\t"))
	}
	dir := w.k.podDir(pod.UID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "etc-hosts"), []byte(b.String()), 0o644)
}

// ensureImage enforces imagePullPolicy (the CRI never pulls on create) and returns the image reference to use.
func (w *podWorker) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sbCfg *runtimeapi.PodSandboxConfig) (string, error) {
	img := c.Image
	st, err := w.k.cri.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: img}})
	present := err == nil && st.Image != nil
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = corev1.PullIfNotPresent
		if !strings.Contains(lastPart(img), ":") || strings.HasSuffix(img, ":latest") {
			policy = corev1.PullAlways
		}
	}
	if policy == corev1.PullNever && !present {
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", img)
		w.waiting[c.Name] = waiting{Reason: "ErrImageNeverPull", Message: msg}
		w.cEvent(pod, c.Name, corev1.EventTypeWarning, "ErrImageNeverPull", "%s", msg)
		return "", fmt.Errorf("%w: %s", errImage, msg)
	}
	if present && policy != corev1.PullAlways {
		if _, had := w.waiting[c.Name]; had || !w.pulledOnce(c.Name) {
			w.cEvent(pod, c.Name, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", img)
		}
		return st.Image.Id, nil
	}
	now := w.k.clock.Now()
	if e := w.imageBackoff[img]; e != nil {
		if wait, _ := inBackoff(e, e.LastUpdate, now); wait {
			msg := fmt.Sprintf("Back-off pulling image %q", img)
			w.waiting[c.Name] = waiting{Reason: "ImagePullBackOff", Message: msg}
			w.cEvent(pod, c.Name, corev1.EventTypeNormal, "BackOff", "%s", msg)
			return "", fmt.Errorf("%w: %s", errImage, msg)
		}
	}
	w.cEvent(pod, c.Name, corev1.EventTypeNormal, "Pulling", "Pulling image %q", img)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := w.k.clock.Now()
	resp, err := w.k.cri.img.PullImage(pctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: img}, SandboxConfig: sbCfg})
	if err != nil {
		w.imageBackoff[img] = ptrTo(backoffNext(w.imageBackoff[img], w.k.clock.Now()))
		msg := fmt.Sprintf("Failed to pull image %q: %s", img, trimErr(err))
		w.waiting[c.Name] = waiting{Reason: "ErrImagePull", Message: msg}
		w.cEvent(pod, c.Name, corev1.EventTypeWarning, "Failed", "%s", msg)
		w.cEvent(pod, c.Name, corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
		return "", fmt.Errorf("%w: %s", errImage, msg)
	}
	delete(w.imageBackoff, img)
	w.cEvent(pod, c.Name, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", img, w.k.clock.Since(start).Round(time.Millisecond))
	return resp.ImageRef, nil
}

// pulledOnce records that the Pulled event was sent for a container name (once per worker).
func (w *podWorker) pulledOnce(name string) bool {
	if w.pulled == nil {
		w.pulled = map[string]bool{}
	}
	if w.pulled[name] {
		return true
	}
	w.pulled[name] = true
	return false
}

func lastPart(img string) string {
	if i := strings.LastIndex(img, "/"); i >= 0 {
		return img[i+1:]
	}
	return img
}

// startContainer pulls (per policy), creates and starts one container and runs its postStart hook.
func (w *podWorker) startContainer(ctx context.Context, pod *corev1.Pod, sb *observedSandbox, sbCfg *runtimeapi.PodSandboxConfig, s containerStart) error {
	spec := findSpec(pod, s.Name)
	if spec == nil {
		return fmt.Errorf("no container %q", s.Name)
	}
	imageRef, err := w.ensureImage(ctx, pod, spec, sbCfg)
	if err != nil {
		return err
	}
	cfg, err := w.containerConfig(pod, spec, sb, s.Attempt, imageRef)
	if err != nil {
		w.waiting[s.Name] = waiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		w.cEvent(pod, s.Name, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	joinTarget(cfg, s)
	created, err := w.k.cri.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.ID, Config: cfg, SandboxConfig: sbCfg})
	if err != nil {
		msg := trimErr(err)
		w.waiting[s.Name] = waiting{Reason: "CreateContainerError", Message: msg}
		w.cEvent(pod, s.Name, corev1.EventTypeWarning, "Failed", "Error: %s", msg)
		return err
	}
	w.cEvent(pod, s.Name, corev1.EventTypeNormal, "Created", "Created container %s", s.Name)
	if _, err := w.k.cri.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: created.ContainerId}); err != nil {
		msg := trimErr(err)
		w.cEvent(pod, s.Name, corev1.EventTypeWarning, "Failed", "Error: %s", msg)
		// The runtime reports it exited (e.g. executable not found); the back-off applies as for a crash.
		return err
	}
	w.cEvent(pod, s.Name, corev1.EventTypeNormal, "Started", "Started container %s", s.Name)
	if spec.Lifecycle != nil && spec.Lifecycle.PostStart != nil {
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := w.runHandler(hctx, pod, spec, created.ContainerId, spec.Lifecycle.PostStart)
		cancel()
		if err != nil {
			w.cEvent(pod, s.Name, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %v %s", err, msg)
			w.killContainer(ctx, pod, observedContainer{ID: created.ContainerId, Name: s.Name, State: stateRunning}, gracePeriod(pod))
			return err
		}
	}
	return nil
}

// containerConfig builds the CRI container config: command, env, mounts, resources, security context, logs.
func (w *podWorker) containerConfig(pod *corev1.Pod, c *corev1.Container, sb *observedSandbox, attempt uint32, imageRef string) (*runtimeapi.ContainerConfig, error) {
	envs, err := w.k.containerEnv(pod, c, sb.IP)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	var kvs []*runtimeapi.KeyValue
	for _, e := range envs {
		vars[e.Name] = e.Value
		kvs = append(kvs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	command := expandAll(c.Command, vars)
	args := expandAll(c.Args, vars)
	mounts, err := w.mounts(pod, c, attempt, vars)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		labelPodName: pod.Name, labelPodNamespace: pod.Namespace, labelPodUID: string(pod.UID), labelContainerName: c.Name, labelManagedBy: "true",
	}
	annotations := map[string]string{
		annoRestartCount: strconv.Itoa(int(attempt)),
		annoTermMsgPath:  c.TerminationMessagePath,
	}
	img := imageRef
	if img == "" {
		img = c.Image
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:       &runtimeapi.ImageSpec{Image: img, UserSpecifiedImage: c.Image},
		Command:     command,
		Args:        args,
		WorkingDir:  c.WorkingDir,
		Envs:        kvs,
		Mounts:      mounts,
		Labels:      labels,
		Annotations: annotations,
		LogPath:     filepath.Join(c.Name, fmt.Sprintf("%d.log", attempt)),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       linuxResources(c),
			SecurityContext: securityContext(pod, c),
		},
	}
	return cfg, nil
}

// linuxResources maps requests and limits to CPU shares/quota and the memory limit, as the kubelet does.
func linuxResources(c *corev1.Container) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{CpuPeriod: 100000}
	req, hasReq := c.Resources.Requests[corev1.ResourceCPU]
	lim, hasLim := c.Resources.Limits[corev1.ResourceCPU]
	if !hasReq && hasLim {
		req, hasReq = lim, true
	}
	shares := int64(2)
	if hasReq {
		shares = req.MilliValue() * 1024 / 1000
		if shares < 2 {
			shares = 2
		}
	}
	r.CpuShares = shares
	if hasLim {
		q := lim.MilliValue() * 100000 / 1000
		if q < 1000 {
			q = 1000
		}
		r.CpuQuota = q
	}
	if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		r.MemoryLimitInBytes = m.Value()
	}
	return r
}

func securityContext(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerSecurityContext {
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(pod)}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		sc.SupplementalGroups = append(sc.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			sc.SupplementalGroups = append(sc.SupplementalGroups, *psc.FSGroup)
		}
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
		}
		if csc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
		}
		if csc.Privileged != nil {
			sc.Privileged = *csc.Privileged
		}
		if csc.ReadOnlyRootFilesystem != nil {
			sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
		}
		if csc.AllowPrivilegeEscalation != nil {
			sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
		}
		if caps := csc.Capabilities; caps != nil {
			sc.Capabilities = &runtimeapi.Capability{}
			for _, a := range caps.Add {
				sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(a))
			}
			for _, d := range caps.Drop {
				sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(d))
			}
		}
	}
	if sc.Privileged {
		sc.NamespaceOptions = namespaceOptions(pod)
	} else {
		sc.MaskedPaths = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}
		sc.ReadonlyPaths = []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	}
	return sc
}
