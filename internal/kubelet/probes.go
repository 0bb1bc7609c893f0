package kubelet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// probeState is the probing of one container (by ID): it starts afresh with every new container.
type probeState struct {
	startupDone bool
	ready       bool
	// unhealthy is set when liveness or startup failed failureThreshold times: the container is to be restarted.
	unhealthy string
	// consecutive results per probe kind
	succ, fail map[string]int
	next       map[string]time.Time
}

// Probe kinds, as events name them.
const (
	probeStartup   = "Startup"
	probeLiveness  = "Liveness"
	probeReadiness = "Readiness"
)

// runProbes runs the probes that are due for the running containers. It returns when the next one is due and whether
// a result changed what the pod shows (readiness, started) or asks for a restart.
func (w *podWorker) runProbes(ctx context.Context, pod *corev1.Pod, obs *observedPod) (time.Duration, bool) {
	now := w.k.clock.Now()
	var next time.Duration
	changed := false
	live := map[string]bool{}
	for _, c := range obs.Containers {
		if c.State != stateRunning {
			continue
		}
		live[c.ID] = true
		spec := findSpec(pod, c.Name)
		if spec == nil || pod.DeletionTimestamp != nil {
			continue
		}
		ps := w.probes[c.ID]
		if ps == nil {
			ps = &probeState{succ: map[string]int{}, fail: map[string]int{}, next: map[string]time.Time{}}
			ps.startupDone = spec.StartupProbe == nil
			w.probes[c.ID] = ps
			changed = true
		}
		if ps.unhealthy != "" {
			continue
		}
		type pk struct {
			kind  string
			probe *corev1.Probe
		}
		var todo []pk
		if !ps.startupDone {
			todo = append(todo, pk{probeStartup, spec.StartupProbe})
		} else {
			if spec.LivenessProbe != nil {
				todo = append(todo, pk{probeLiveness, spec.LivenessProbe})
			}
			if spec.ReadinessProbe != nil {
				todo = append(todo, pk{probeReadiness, spec.ReadinessProbe})
			}
		}
		for _, t := range todo {
			p := t.probe
			due, ok := ps.next[t.kind]
			if !ok {
				due = c.StartedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second)
				if c.StartedAt.IsZero() {
					due = now
				}
			}
			if now.Before(due) {
				if d := due.Sub(now); next == 0 || d < next {
					next = d
				}
				continue
			}
			period := time.Duration(max32(p.PeriodSeconds, 1)) * time.Second
			ps.next[t.kind] = now.Add(period)
			if next == 0 || period < next {
				next = period
			}
			ok2, msg := w.probeOnce(ctx, pod, spec, c, p)
			if ok2 {
				ps.succ[t.kind]++
				ps.fail[t.kind] = 0
			} else {
				ps.fail[t.kind]++
				ps.succ[t.kind] = 0
				w.cEvent(pod, c.Name, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", t.kind, msg)
			}
			succTh, failTh := int(max32(p.SuccessThreshold, 1)), int(max32(p.FailureThreshold, 3))
			if p.FailureThreshold == 0 {
				failTh = 3
			}
			switch t.kind {
			case probeStartup:
				if ps.succ[t.kind] >= 1 {
					ps.startupDone, changed = true, true
					next = 10 * time.Millisecond
				} else if ps.fail[t.kind] >= failTh {
					ps.unhealthy, changed = "failed startup probe", true
				}
			case probeLiveness:
				if ps.fail[t.kind] >= failTh {
					ps.unhealthy, changed = "failed liveness probe", true
				}
			case probeReadiness:
				if !ps.ready && ps.succ[t.kind] >= succTh {
					ps.ready, changed = true, true
				} else if ps.ready && ps.fail[t.kind] >= failTh {
					ps.ready, changed = false, true
				}
			}
		}
	}
	for id := range w.probes {
		if !live[id] {
			delete(w.probes, id)
		}
	}
	return next, changed
}

func max32(v, min int32) int32 {
	if v < min {
		return min
	}
	return v
}

// probeOnce runs one probe with its timeout.
func (w *podWorker) probeOnce(ctx context.Context, pod *corev1.Pod, spec *corev1.Container, c observedContainer, p *corev1.Probe) (bool, string) {
	timeout := time.Duration(max32(p.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		resp, err := w.k.cri.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: c.ID, Cmd: p.Exec.Command, Timeout: int64(timeout / time.Second)})
		if err != nil {
			return false, trimErr(err)
		}
		if resp.ExitCode != 0 {
			return false, fmt.Sprintf("command %q exited with %d: %s", strings.Join(p.Exec.Command, " "), resp.ExitCode, strings.TrimSpace(string(resp.Stdout)+string(resp.Stderr)))
		}
		return true, ""
	case p.HTTPGet != nil:
		return w.httpGet(ctx, pod, spec, p.HTTPGet, timeout)
	case p.TCPSocket != nil:
		host := p.TCPSocket.Host
		if host == "" {
			host = w.podIP(pod)
		}
		port, err := resolvePort(p.TCPSocket.Port, spec)
		if err != nil {
			return false, err.Error()
		}
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false, fmt.Sprintf("dial tcp %s:%d: %v", host, port, err)
		}
		conn.Close()
		return true, ""
	case p.GRPC != nil:
		// gRPC health checking is not implemented; a TCP connect stands in for it.
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(w.podIP(pod), strconv.Itoa(int(p.GRPC.Port))))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	}
	return true, ""
}

func (w *podWorker) podIP(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return w.k.cfg.Address
	}
	if w.lastStatus != nil && w.lastStatus.PodIP != "" {
		return w.lastStatus.PodIP
	}
	if pod.Status.PodIP != "" {
		return pod.Status.PodIP
	}
	if obs, err := w.k.cri.observe(context.Background(), pod.UID); err == nil {
		if sb := obs.sandbox(); sb != nil {
			return sb.IP
		}
	}
	return ""
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("port %q not found in container ports", p.StrVal)
}

// probeClient sends HTTP probes and lifecycle hooks. As the kubelet's prober, HTTPS probes do not verify the
// container's certificate: it is usually self-signed and never issued for the pod IP.
var probeClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	},
}

func (w *podWorker) httpGet(ctx context.Context, pod *corev1.Pod, spec *corev1.Container, g *corev1.HTTPGetAction, timeout time.Duration) (bool, string) {
	host := g.Host
	if host == "" {
		host = w.podIP(pod)
	}
	port, err := resolvePort(g.Port, spec)
	if err != nil {
		return false, err.Error()
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "kube-probe/1.32")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false, fmt.Sprintf("Get %q: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, ""
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

// runHandler runs a lifecycle hook (exec, httpGet, sleep) and returns its output on failure.
func (w *podWorker) runHandler(ctx context.Context, pod *corev1.Pod, spec *corev1.Container, id string, h *corev1.LifecycleHandler) (string, error) {
	switch {
	case h.Exec != nil:
		timeout := int64(0)
		if dl, ok := ctx.Deadline(); ok {
			timeout = int64(time.Until(dl) / time.Second)
		}
		resp, err := w.k.cri.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: h.Exec.Command, Timeout: timeout})
		if err != nil {
			return "", fmt.Errorf("%s", trimErr(err))
		}
		if resp.ExitCode != 0 {
			return string(resp.Stdout) + string(resp.Stderr), fmt.Errorf("command %q exited with %d", strings.Join(h.Exec.Command, " "), resp.ExitCode)
		}
		return "", nil
	case h.HTTPGet != nil:
		ok, msg := w.httpGet(ctx, pod, spec, h.HTTPGet, 0)
		if !ok {
			return msg, fmt.Errorf("http lifecycle hook failed")
		}
		return "", nil
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		}
		return "", nil
	}
	return "", nil
}
