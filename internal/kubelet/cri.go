package kubelet

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels skiff puts on sandboxes and containers (the kubelet's own names), so that state can be recovered from the
// runtime alone after a restart.
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
	labelManagedBy     = "io.skiff.managed"
	annoTermMsgPath    = "io.kubernetes.container.terminationMessagePath"
	annoTermMsgHost    = "io.skiff.terminationMessageHostPath"
	annoRestartCount   = "io.kubernetes.container.restartCount"
)

// criClient is the CRI over gRPC on a unix socket.
type criClient struct {
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
	img  runtimeapi.ImageServiceClient

	mu sync.Mutex // guards the caches below
	// exited caches the statuses of exited containers, which never change.
	exited map[string]*runtimeapi.ContainerStatus
	// sandboxIPs caches sandbox IPs, fixed for a sandbox's life.
	sandboxIPs map[string][]string
}

func dialCRI(endpoint string) (*criClient, error) {
	if !strings.HasPrefix(endpoint, "unix://") {
		endpoint = "unix://" + endpoint
	}
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("cri: %w", err)
	}
	return &criClient{
		conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn), img: runtimeapi.NewImageServiceClient(conn),
		exited: map[string]*runtimeapi.ContainerStatus{}, sandboxIPs: map[string][]string{},
	}, nil
}

func (c *criClient) Close() error { return c.conn.Close() }

func nsTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// observe returns the runtime state of the pod with uid.
func (c *criClient) observe(ctx context.Context, uid types.UID) (observedPod, error) {
	var obs observedPod
	sbs, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		LabelSelector: map[string]string{labelPodUID: string(uid)}}})
	if err != nil {
		return obs, fmt.Errorf("list sandboxes: %w", err)
	}
	for _, s := range sbs.Items {
		o := observedSandbox{ID: s.Id, Ready: s.State == runtimeapi.PodSandboxState_SANDBOX_READY, CreatedAt: nsTime(s.CreatedAt)}
		if s.Metadata != nil {
			o.Attempt = s.Metadata.Attempt
		}
		obs.Sandboxes = append(obs.Sandboxes, o)
	}
	sort.Slice(obs.Sandboxes, func(i, j int) bool { return obs.Sandboxes[i].CreatedAt.After(obs.Sandboxes[j].CreatedAt) })
	if sb := obs.sandbox(); sb != nil && sb.Ready {
		c.mu.Lock()
		ips, ok := c.sandboxIPs[sb.ID]
		c.mu.Unlock()
		if !ok {
			st, err := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sb.ID})
			if err == nil && st.Status != nil && st.Status.Network != nil {
				if st.Status.Network.Ip != "" {
					ips = append(ips, st.Status.Network.Ip)
				}
				for _, a := range st.Status.Network.AdditionalIps {
					ips = append(ips, a.Ip)
				}
				c.mu.Lock()
				c.sandboxIPs[sb.ID] = ips
				c.mu.Unlock()
			}
		}
		if len(ips) > 0 {
			sb.IP, sb.IPs = ips[0], ips
		}
	}
	cs, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		LabelSelector: map[string]string{labelPodUID: string(uid)}}})
	if err != nil {
		return obs, fmt.Errorf("list containers: %w", err)
	}
	for _, ct := range cs.Containers {
		st, err := c.containerStatus(ctx, ct.Id, ct.State)
		if err != nil {
			continue // removed meanwhile
		}
		obs.Containers = append(obs.Containers, toObserved(st, ct.PodSandboxId))
	}
	return obs, nil
}

func (c *criClient) containerStatus(ctx context.Context, id string, listed runtimeapi.ContainerState) (*runtimeapi.ContainerStatus, error) {
	c.mu.Lock()
	st, ok := c.exited[id]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	resp, err := c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil || resp.Status == nil {
		return nil, fmt.Errorf("container status %s: %v", id, err)
	}
	st = resp.Status
	if st.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		c.mu.Lock()
		c.exited[id] = st
		c.mu.Unlock()
	}
	return st, nil
}

func (c *criClient) forget(id string) {
	c.mu.Lock()
	delete(c.exited, id)
	delete(c.sandboxIPs, id)
	c.mu.Unlock()
}

func toObserved(st *runtimeapi.ContainerStatus, sandboxID string) observedContainer {
	o := observedContainer{
		ID: st.Id, SandboxID: sandboxID, ExitCode: st.ExitCode, Reason: st.Reason, Message: st.Message,
		CreatedAt: nsTime(st.CreatedAt), StartedAt: nsTime(st.StartedAt), FinishedAt: nsTime(st.FinishedAt),
		ImageRef: st.ImageRef, LogPath: st.LogPath,
	}
	if st.Image != nil {
		o.Image = st.Image.Image
	}
	if st.Metadata != nil {
		o.Name, o.Attempt = st.Metadata.Name, st.Metadata.Attempt
	}
	if o.Name == "" {
		o.Name = st.Labels[labelContainerName]
	}
	switch st.State {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		o.State = stateRunning
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		o.State = stateCreated
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		o.State = stateExited
	default:
		o.State = stateUnknown
	}
	return o
}
