package sim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/informerutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Errors returned by New and Start.
var (
	ErrNoClient = errors.New("sim: Config.Client is required")
	ErrNoNodes  = errors.New("sim: Config.Nodes must be at least 1")
)

// Config says what to simulate. Zero fields take the documented defaults.
type Config struct {
	// Client talks to the cluster for pods and registration; required.
	Client kubernetes.Interface
	// HeartbeatClient renews leases and node status; nil uses Client. Giving it its own
	// rate limiter (see Clients) keeps heartbeats flowing while pod work queues up.
	HeartbeatClient kubernetes.Interface
	// Nodes is how many nodes to simulate (at least 1).
	Nodes int
	// NamePrefix starts every node name; default "sim-" (nodes sim-node-00001, ...).
	NamePrefix string
	// Delays of the pod stages; zero moves a pod to Ready in one write.
	Delays Delays
	// LeaseInterval is how often each node renews its Lease; default 10s.
	LeaseInterval time.Duration
	// StatusInterval is how often each node posts its Ready heartbeat; default 5m, the kubelet's
	// nodeStatusReportFrequency (a kubelet posts unchanged status that seldom; its Lease is the heartbeat).
	StatusInterval time.Duration
	// LeaseDurationSeconds is written into each Lease; default 40.
	LeaseDurationSeconds int32
	// ClusterCIDR is where node pod CIDRs come from when the server sets no spec.podCIDR;
	// default 10.244.0.0/16 (continuing through 10.0.0.0/8 past 256 nodes, see NodeCIDR).
	ClusterCIDR netip.Prefix
	// Taint adds the taint skiff.dev/simulated=true:NoSchedule to every node, so only
	// pods that tolerate it land there.
	Taint bool
	// PodWorkers is how many pod requests are in flight; default 64 (a loaded server
	// answers in hundreds of milliseconds, and pod throughput is in-flight/latency).
	PodWorkers int
	// HeartbeatWorkers is how many heartbeat requests are in flight, a quarter of them
	// node status and the rest leases; default one per 10 nodes, at least 16. Real
	// kubelets renew independently, so a slow server must not cap renewals at
	// workers/latency: 375 lease workers for 5,000 nodes keep 500 renewals/s flowing
	// until a renewal takes 750 ms.
	HeartbeatWorkers int
	// RegisterWorkers is how many nodes register at once; default 32.
	RegisterWorkers int
	// ReportInterval is how often a progress line is logged; 0 means never.
	ReportInterval time.Duration
	// Cleanup deletes the nodes and their leases when Start returns.
	Cleanup bool
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Log receives progress and errors; nil means slog.Default().
	Log *slog.Logger
}

// tick is the heartbeat slot length: each node renews in one slot of its interval.
const tick = 100 * time.Millisecond

// retryAfter is how long a failed pod or heartbeat write waits before it is tried again.
const retryAfter = time.Second

func (c *Config) validate() error {
	if c.Client == nil {
		return ErrNoClient
	}
	if c.Nodes < 1 {
		return ErrNoNodes
	}
	if c.HeartbeatClient == nil {
		c.HeartbeatClient = c.Client
	}
	if c.NamePrefix == "" {
		c.NamePrefix = "sim-"
	}
	if c.LeaseInterval <= 0 {
		c.LeaseInterval = 10 * time.Second
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = 5 * time.Minute
	}
	if c.LeaseInterval < tick || c.StatusInterval < tick {
		return fmt.Errorf("sim: lease and status intervals must be at least %s", tick)
	}
	if c.LeaseDurationSeconds <= 0 {
		c.LeaseDurationSeconds = 40
	}
	if !c.ClusterCIDR.IsValid() {
		c.ClusterCIDR = netip.MustParsePrefix(ClusterCIDRDefault)
	}
	if _, err := NodeCIDR(c.ClusterCIDR, c.Nodes-1); err != nil {
		return err
	}
	if c.Delays.Start < 0 || c.Delays.Ready < 0 {
		return errors.New("sim: pod delays must not be negative")
	}
	if c.PodWorkers <= 0 {
		c.PodWorkers = 64
	}
	if c.HeartbeatWorkers <= 0 {
		c.HeartbeatWorkers = max(16, c.Nodes/10)
	}
	if c.RegisterWorkers <= 0 {
		c.RegisterWorkers = 32
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Clients builds the two clients a Sim of n nodes wants from one rest.Config: a pod and
// registration client limited to qps requests per second, and a heartbeat client whose
// limit is twice the steady heartbeat rate (n/10s + n/300s). Both speak protobuf.
func Clients(rc *rest.Config, n int, qps float32) (pods, heartbeats kubernetes.Interface, err error) {
	if qps <= 0 {
		qps = 1000
	}
	pc := rest.CopyConfig(rc)
	pc.ContentType = "application/vnd.kubernetes.protobuf"
	pc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pc.QPS, pc.Burst = qps, int(2*qps)
	pc.UserAgent = "skiff-sim"
	hc := rest.CopyConfig(pc)
	hbRate := float32(n)/10 + float32(n)/300
	hc.QPS = max(50, 2*hbRate)
	hc.Burst = int(max(100, hbRate))
	if pods, err = kubernetes.NewForConfig(pc); err != nil {
		return nil, nil, err
	}
	if heartbeats, err = kubernetes.NewForConfig(hc); err != nil {
		return nil, nil, err
	}
	return pods, heartbeats, nil
}

// Stats counts what a Sim has done since it started.
type Stats struct {
	Nodes, Registered int
	LeaseRenewals     int64
	StatusUpdates     int64
	PodStatusWrites   int64
	PodsReady         int64
	PodDeletes        int64
	Errors            int64
	// MaxLeaseGap is the longest time between two renewals of one lease (target: LeaseInterval).
	MaxLeaseGap time.Duration
	// PodQueue, LeaseQueue and StatusQueue are the work waiting now.
	PodQueue, LeaseQueue, StatusQueue int
}

// Sim simulates Config.Nodes nodes; see the package documentation.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	clk    clock.Clock
	nodes  []*simNode
	byName map[string]*simNode // read-only after New

	podQ workqueue.TypedInterface[cache.ObjectName]
	// leaseQ and statusQ hold node indexes due a lease renewal or a status heartbeat.
	// They have their own workers (3:1, as the rates are 4:1 and status writes are
	// bigger), so a backlog of status writes cannot hold up the leases that keep the
	// nodes alive, nor the other way round.
	leaseQ  workqueue.TypedInterface[int32]
	statusQ workqueue.TypedInterface[int32]
	delayed *delayQueue
	pods    cache.SharedIndexInformer
	ready   chan struct{}

	registered    atomic.Int64
	leaseRenewals atomic.Int64
	statusUpdates atomic.Int64
	podWrites     atomic.Int64
	podsReady     atomic.Int64
	podDeletes    atomic.Int64
	errs          atomic.Int64
	maxLeaseGap   atomic.Int64 // nanoseconds, since the start
	recentGap     atomic.Int64 // nanoseconds, since the last report
}

// simNode is one hollow node.
type simNode struct {
	idx    int
	name   string
	hostIP netip.Addr

	mu    sync.Mutex // guards the fields below
	obj   *corev1.Node
	lease *coordinationv1.Lease
	pool  *ipPool
	// own is true while pool is the simulator's CIDR rather than the server's spec.podCIDR.
	own bool
	ips map[types.UID]netip.Addr
}

// New checks cfg and prepares a Sim; nothing talks to the cluster until Start.
func New(cfg Config) (*Sim, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg: cfg, log: cfg.Log, clk: cfg.Clock,
		byName:  make(map[string]*simNode, cfg.Nodes),
		podQ:    workqueue.NewTyped[cache.ObjectName](),
		leaseQ:  workqueue.NewTyped[int32](),
		statusQ: workqueue.NewTyped[int32](),
		ready:   make(chan struct{}),
	}
	s.delayed = newDelayQueue(cfg.Clock, s.podQ)
	for i := range cfg.Nodes {
		cidr, err := NodeCIDR(cfg.ClusterCIDR, i)
		if err != nil {
			return nil, err
		}
		n := &simNode{idx: i, name: NodeName(cfg.NamePrefix, i), hostIP: HostIP(i),
			pool: newIPPool(cidr), own: true, ips: map[types.UID]netip.Addr{}}
		s.nodes = append(s.nodes, n)
		s.byName[n.name] = n
	}
	return s, nil
}

// Ready is closed once every node has been registered (or has failed to) and the pod
// informer has synced.
func (s *Sim) Ready() <-chan struct{} { return s.ready }

// NodeNames lists the simulated nodes' names in order.
func (s *Sim) NodeNames() []string {
	out := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = n.name
	}
	return out
}

// Stats reports the counters so far.
func (s *Sim) Stats() Stats {
	return Stats{
		Nodes: len(s.nodes), Registered: int(s.registered.Load()),
		LeaseRenewals: s.leaseRenewals.Load(), StatusUpdates: s.statusUpdates.Load(),
		PodStatusWrites: s.podWrites.Load(), PodsReady: s.podsReady.Load(), PodDeletes: s.podDeletes.Load(),
		Errors: s.errs.Load(), MaxLeaseGap: time.Duration(s.maxLeaseGap.Load()),
		PodQueue: s.podQ.Len(), LeaseQueue: s.leaseQ.Len(), StatusQueue: s.statusQ.Len(),
	}
}

// Start registers the nodes, then heartbeats and drives their pods until ctx ends.
// It returns after every goroutine it started has stopped (and, with Cleanup, after the
// nodes and leases are deleted). It returns an error only if no node could be registered.
func (s *Sim) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup

	factory := informers.NewSharedInformerFactoryWithOptions(s.cfg.Client, 0, informerutil.Options()...)
	s.pods = factory.Core().V1().Pods().Informer()
	if _, err := s.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.podChanged,
		UpdateFunc: func(_, obj any) { s.podChanged(obj) },
		DeleteFunc: s.podDeleted,
	}); err != nil {
		return fmt.Errorf("sim: pod informer: %w", err)
	}

	if s.cfg.ReportInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.report(ctx) }()
	}

	stop := func(err error) error {
		cancel()
		s.podQ.ShutDown()
		s.leaseQ.ShutDown()
		s.statusQ.ShutDown()
		wg.Wait()
		factory.Shutdown()
		select {
		case <-s.ready:
		default:
			close(s.ready)
		}
		if s.cfg.Cleanup {
			s.cleanup()
		}
		return err
	}
	start := s.clk.Now()
	s.registerAll(ctx)
	if ctx.Err() != nil {
		return stop(nil)
	}
	if s.registered.Load() == 0 {
		return stop(fmt.Errorf("sim: no node could be registered (%d errors)", s.errs.Load()))
	}
	s.log.Info("sim: nodes registered", "nodes", s.registered.Load(), "of", len(s.nodes), "took", s.clk.Since(start).Round(time.Millisecond))

	factory.Start(ctx.Done())
	wg.Add(2)
	go func() { defer wg.Done(); s.delayed.run(ctx) }()
	go func() { defer wg.Done(); s.heartbeatSlots(ctx) }()
	for range s.cfg.PodWorkers {
		wg.Add(1)
		go func() { defer wg.Done(); s.podWorker(ctx) }()
	}
	statusWorkers := max(1, s.cfg.HeartbeatWorkers/4)
	for i := range s.cfg.HeartbeatWorkers {
		wg.Add(1)
		go func() { defer wg.Done(); s.heartbeatWorker(ctx, i < statusWorkers) }()
	}
	if !cache.WaitForCacheSync(ctx.Done(), s.pods.HasSynced) {
		return stop(nil)
	}
	close(s.ready)
	<-ctx.Done()
	return stop(nil)
}

// registerAll registers every node with RegisterWorkers in parallel.
func (s *Sim) registerAll(ctx context.Context) {
	work := make(chan *simNode)
	var wg sync.WaitGroup
	for range min(s.cfg.RegisterWorkers, len(s.nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				for attempt := 1; ; attempt++ {
					err := s.register(ctx, n)
					if err == nil {
						s.registered.Add(1)
						break
					}
					s.errs.Add(1)
					if ctx.Err() != nil || attempt == 5 {
						s.log.Error("sim: register node", "node", n.name, "err", err)
						break
					}
					select {
					case <-ctx.Done():
					case <-s.clk.After(time.Duration(attempt) * retryAfter):
					}
				}
			}
		}()
	}
	for _, n := range s.nodes {
		select {
		case work <- n:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
}

// register creates (or takes over) the Node and its Lease.
func (s *Sim) register(ctx context.Context, n *simNode) error {
	nodes := s.cfg.Client.CoreV1().Nodes()
	want := nodeObject(n.name, n.hostIP, s.cfg.Taint, s.clk.Now())
	got, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// A node left by an earlier run: take it over.
		if got, err = nodes.Get(ctx, n.name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("get node: %w", err)
		}
		if got.Labels[LabelSimulated] != "true" {
			return fmt.Errorf("node %s exists and is not simulated", n.name)
		}
		want.Status.Conditions = got.Status.Conditions
		setNodeConditions(&want.Status, s.clk.Now())
		got.Status = want.Status
		if got, err = nodes.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("take over node: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("create node: %w", err)
	} else if !hasReady(got) {
		// A server that drops status on create: post it.
		got.Status = want.Status
		if got, err = nodes.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("node status: %w", err)
		}
	}
	n.mu.Lock()
	n.obj = got
	n.adoptCIDRLocked()
	n.mu.Unlock()

	lease, err := s.ensureLease(ctx, got)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.lease = lease
	n.mu.Unlock()
	return nil
}

func hasReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return true
		}
	}
	return false
}

// ensureLease creates the node's Lease, or renews one that exists.
func (s *Sim) ensureLease(ctx context.Context, node *corev1.Node) (*coordinationv1.Lease, error) {
	leases := s.cfg.HeartbeatClient.CoordinationV1().Leases(LeaseNamespace)
	want := leaseObject(node, s.cfg.LeaseDurationSeconds, s.clk.Now())
	got, err := leases.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) {
		// No kube-node-lease namespace yet.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LeaseNamespace}}
		if _, err := s.cfg.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("lease namespace: %w", err)
		}
		got, err = leases.Create(ctx, want, metav1.CreateOptions{})
	}
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := leases.Get(ctx, node.Name, metav1.GetOptions{})
		if gerr != nil {
			return nil, fmt.Errorf("get lease: %w", gerr)
		}
		cur.Spec = want.Spec
		cur.OwnerReferences = want.OwnerReferences
		got, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	return got, nil
}

// adoptCIDRLocked switches to the server's spec.podCIDR once there is one; n.mu must be held.
func (n *simNode) adoptCIDRLocked() {
	if !n.own || n.obj == nil || n.obj.Spec.PodCIDR == "" {
		return
	}
	p, err := netip.ParsePrefix(n.obj.Spec.PodCIDR)
	if err != nil || !p.Addr().Is4() {
		return
	}
	pool := newIPPool(p)
	for _, a := range n.ips {
		pool.mark(a)
	}
	n.pool, n.own = pool, false
}

// podIP returns the pod's address: the one in its status, the one reserved for it, or a new one.
func (n *simNode) podIP(pod *corev1.Pod) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
		n.ips[pod.UID] = a
		n.pool.mark(a)
		return pod.Status.PodIP
	}
	if a, ok := n.ips[pod.UID]; ok {
		return a.String()
	}
	a, ok := n.pool.take()
	if !ok {
		return ""
	}
	n.ips[pod.UID] = a
	return a.String()
}

func (n *simNode) releaseIP(uid types.UID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a, ok := n.ips[uid]; ok {
		n.pool.release(a)
		delete(n.ips, uid)
	}
}

func (s *Sim) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || s.byName[pod.Spec.NodeName] == nil {
		return
	}
	s.podQ.Add(cache.ObjectName{Namespace: pod.Namespace, Name: pod.Name})
}

func (s *Sim) podDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if n := s.byName[pod.Spec.NodeName]; n != nil {
		n.releaseIP(pod.UID)
	}
}

func (s *Sim) podWorker(ctx context.Context) {
	for {
		key, shutdown := s.podQ.Get()
		if shutdown {
			return
		}
		if err := s.syncPod(ctx, key); err != nil {
			s.errs.Add(1)
			if ctx.Err() == nil {
				s.log.Debug("sim: pod", "pod", key.String(), "err", err)
				s.delayed.add(s.clk.Now().Add(retryAfter), key)
			}
		}
		s.podQ.Done(key)
	}
}

// syncPod applies NextPod to one pod from the informer's cache.
func (s *Sim) syncPod(ctx context.Context, key cache.ObjectName) error {
	obj, exists, err := s.pods.GetStore().GetByKey(key.String())
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	n := s.byName[pod.Spec.NodeName]
	if n == nil {
		return nil
	}
	now := s.clk.Now()
	env := PodEnv{HostIP: n.hostIP.String(), Now: now, Delays: s.cfg.Delays}
	if pod.DeletionTimestamp == nil {
		env.PodIP = n.podIP(pod)
	}
	step := NextPod(pod, env)
	pods := s.cfg.Client.CoreV1().Pods(pod.Namespace)
	switch {
	case step.Delete:
		zero := int64(0)
		uid := pod.UID
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete: %w", err)
		}
		n.releaseIP(pod.UID)
		s.podDeletes.Add(1)
		return nil
	case step.Status != nil:
		p := pod.DeepCopy()
		p.Status = *step.Status
		if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			if apierrors.IsConflict(err) {
				// The informer brings the newer version and with it another look.
				return nil
			}
			return fmt.Errorf("status: %w", err)
		}
		s.podWrites.Add(1)
		if StageOf(step.Status) == StageReady {
			s.podsReady.Add(1)
		}
	}
	if step.RequeueAfter > 0 {
		s.delayed.add(now.Add(step.RequeueAfter), key)
	}
	return nil
}

// heartbeatSlots queues each node's lease renewal and status heartbeat in its slot:
// node i renews its lease in slot i mod (LeaseInterval/tick), its status in slot
// i mod (StatusInterval/tick), so writes are spread flat over each interval.
func (s *Sim) heartbeatSlots(ctx context.Context) {
	leaseSlots := int(s.cfg.LeaseInterval / tick)
	statusSlots := int(s.cfg.StatusInterval / tick)
	t := s.clk.NewTicker(tick)
	defer t.Stop()
	start := s.clk.Now()
	done := int64(0) // slots handled so far
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		due := int64(s.clk.Since(start)/tick) + 1
		if due-done > int64(max(leaseSlots, statusSlots)) {
			// Far behind (a stalled process): one full round is enough.
			done = due - int64(max(leaseSlots, statusSlots))
		}
		for ; done < due; done++ {
			ls, ss := int(done%int64(leaseSlots)), int(done%int64(statusSlots))
			for i := ls; i < len(s.nodes); i += leaseSlots {
				s.leaseQ.Add(int32(i))
			}
			for i := ss; i < len(s.nodes); i += statusSlots {
				s.statusQ.Add(int32(i))
			}
		}
	}
}

// heartbeatWorker renews leases (status false) or posts node status (status true) from its queue.
func (s *Sim) heartbeatWorker(ctx context.Context, status bool) {
	q, do := s.leaseQ, s.renewLease
	if status {
		q, do = s.statusQ, s.postStatus
	}
	for {
		i, shutdown := q.Get()
		if shutdown {
			return
		}
		n := s.nodes[i]
		if err := do(ctx, n); err != nil && ctx.Err() == nil {
			s.errs.Add(1)
			s.log.Debug("sim: heartbeat", "node", n.name, "status", status, "err", err)
		}
		q.Done(i)
	}
}

// renewLease writes the node's Lease with renewTime now, starting from the copy the last
// write returned (no read); after a conflict it reads the Lease again.
func (s *Sim) renewLease(ctx context.Context, n *simNode) error {
	n.mu.Lock()
	cur, node := n.lease, n.obj
	n.mu.Unlock()
	if node == nil {
		return nil // never registered
	}
	leases := s.cfg.HeartbeatClient.CoordinationV1().Leases(LeaseNamespace)
	if cur == nil {
		l, err := s.ensureLease(ctx, node)
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.lease = l
		n.mu.Unlock()
		s.leaseRenewals.Add(1)
		return nil
	}
	now := s.clk.Now()
	l := cur.DeepCopy()
	renew := metav1.NewMicroTime(now)
	l.Spec.RenewTime = &renew
	got, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			n.mu.Lock()
			n.lease = nil // read or recreate next time
			n.mu.Unlock()
		}
		return fmt.Errorf("renew lease: %w", err)
	}
	if cur.Spec.RenewTime != nil {
		gap := int64(now.Sub(cur.Spec.RenewTime.Time))
		storeMax(&s.maxLeaseGap, gap)
		storeMax(&s.recentGap, gap)
	}
	n.mu.Lock()
	n.lease = got
	n.mu.Unlock()
	s.leaseRenewals.Add(1)
	return nil
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// postStatus refreshes the node's conditions (heartbeat now) through nodes/status.
func (s *Sim) postStatus(ctx context.Context, n *simNode) error {
	n.mu.Lock()
	cur := n.obj
	n.mu.Unlock()
	if cur == nil {
		return nil
	}
	nodes := s.cfg.HeartbeatClient.CoreV1().Nodes()
	obj := cur.DeepCopy()
	setNodeConditions(&obj.Status, s.clk.Now())
	got, err := nodes.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		if fresh, gerr := nodes.Get(ctx, n.name, metav1.GetOptions{}); gerr == nil {
			setNodeConditions(&fresh.Status, s.clk.Now())
			got, err = nodes.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	n.mu.Lock()
	n.obj = got
	n.adoptCIDRLocked()
	n.mu.Unlock()
	s.statusUpdates.Add(1)
	return nil
}

// cleanup deletes the nodes and leases, bounded by one minute plus a second per 50 nodes.
func (s *Sim) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+time.Duration(len(s.nodes)/50)*time.Second)
	defer cancel()
	work := make(chan *simNode)
	var wg sync.WaitGroup
	var deleted atomic.Int64
	for range min(2*s.cfg.RegisterWorkers, len(s.nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				err := s.cfg.Client.CoreV1().Nodes().Delete(ctx, n.name, metav1.DeleteOptions{})
				if err == nil {
					deleted.Add(1)
				}
				_ = s.cfg.Client.CoordinationV1().Leases(LeaseNamespace).Delete(ctx, n.name, metav1.DeleteOptions{})
			}
		}()
	}
	for _, n := range s.nodes {
		n.mu.Lock()
		registered := n.obj != nil
		n.mu.Unlock()
		if registered {
			work <- n
		}
	}
	close(work)
	wg.Wait()
	s.log.Info("sim: nodes deleted", "nodes", deleted.Load())
}

// report logs progress and the simulator's own CPU share every ReportInterval.
func (s *Sim) report(ctx context.Context) {
	t := s.clk.NewTicker(s.cfg.ReportInterval)
	defer t.Stop()
	var meter CPUMeter
	last, lastAt := s.Stats(), s.clk.Now()
	if cpu, err := CPUTime(0); err == nil {
		meter.Share(cpu, lastAt)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		now, st := s.clk.Now(), s.Stats()
		secs := now.Sub(lastAt).Seconds()
		rate := func(a, b int64) string { return fmt.Sprintf("%.1f/s", float64(a-b)/secs) }
		attrs := []any{
			"nodes", fmt.Sprintf("%d/%d", st.Registered, st.Nodes),
			"leases", rate(st.LeaseRenewals, last.LeaseRenewals),
			"status", rate(st.StatusUpdates, last.StatusUpdates),
			"podWrites", rate(st.PodStatusWrites, last.PodStatusWrites),
			"podDeletes", rate(st.PodDeletes, last.PodDeletes),
			"podsReady", st.PodsReady, "errors", st.Errors,
			"maxLeaseGap", time.Duration(s.recentGap.Swap(0)).Round(10 * time.Millisecond),
			"queue", fmt.Sprintf("pods:%d leases:%d status:%d", st.PodQueue, st.LeaseQueue, st.StatusQueue),
		}
		if cpu, err := CPUTime(0); err == nil {
			attrs = append(attrs, "cpu", fmt.Sprintf("%.1f%% of one core", 100*meter.Share(cpu, now)))
		}
		s.log.Info("sim", attrs...)
		last, lastAt = st, now
	}
}

// delayQueue adds keys to a work queue when they fall due, by the injected clock.
type delayQueue struct {
	clk  clock.Clock
	out  workqueue.TypedInterface[cache.ObjectName]
	kick chan struct{}

	mu sync.Mutex // guards h
	h  delayHeap
}

func newDelayQueue(clk clock.Clock, out workqueue.TypedInterface[cache.ObjectName]) *delayQueue {
	return &delayQueue{clk: clk, out: out, kick: make(chan struct{}, 1)}
}

func (d *delayQueue) add(at time.Time, key cache.ObjectName) {
	d.mu.Lock()
	heap.Push(&d.h, delayed{at: at, key: key})
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *delayQueue) run(ctx context.Context) {
	for {
		now := d.clk.Now()
		var wait <-chan time.Time
		d.mu.Lock()
		for d.h.Len() > 0 && !d.h[0].at.After(now) {
			d.out.Add(heap.Pop(&d.h).(delayed).key)
		}
		if d.h.Len() > 0 {
			wait = d.clk.After(d.h[0].at.Sub(now))
		}
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-wait:
		}
	}
}

type delayed struct {
	at  time.Time
	key cache.ObjectName
}

type delayHeap []delayed

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(delayed)) }
func (h *delayHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
