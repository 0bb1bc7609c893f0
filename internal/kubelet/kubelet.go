package kubelet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/images"
	"github.com/skiff-sh/skiff/internal/informerutil"
	skiffruntime "github.com/skiff-sh/skiff/internal/kubelet/runtime"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Version is what the Node reports as kubeletVersion.
const Version = "v1.32.4-skiff"

// defaultPort is the kubelet API's port unless configured.
const defaultPort = 10250

// Config configures a Kubelet. Zero fields take the documented defaults.
type Config struct {
	// NodeName defaults to the lower-cased hostname.
	NodeName string
	// DataDir is skiff's data directory; the kubelet keeps its state in DATA/agent, containerd in DATA/containerd
	// and imports the image tarballs of DATA/images at start.
	DataDir string
	// RuntimeEndpoint is an existing CRI socket; empty starts skiff's own containerd.
	RuntimeEndpoint string
	// ClusterDNS and ClusterDomain go into pods' resolv.conf (dnsPolicy ClusterFirst); no ClusterDNS means the
	// host's resolv.conf.
	ClusterDNS    []string
	ClusterDomain string
	// Address is the node's InternalIP; empty picks the default route's.
	Address string
	// Port is the kubelet API's HTTPS port (default 10250; -1 picks a free port, reported in the Node).
	Port int
	// CgroupRoot is the parent of pod cgroups (default /kubepods): pods get CgroupRoot/pod<uid>.
	CgroupRoot string
	// ClientCA verifies the client certificates presented to the kubelet API (the API server's); required.
	ClientCA *x509.CertPool
	// EvictionHard are the thresholds of the MemoryPressure, DiskPressure and PIDPressure conditions
	// (--eviction-hard); nil takes DefaultEvictionHard. The kubelet reports pressure; it does not evict.
	EvictionHard EvictionThresholds
	// NodeStatusInterval (how often node status is computed) and LeaseInterval default to 10 s.
	NodeStatusInterval, LeaseInterval time.Duration
	// NodeStatusReportFrequency is how often node status is written when nothing in it changed (the kubelet's
	// nodeStatusReportFrequency, default 5 minutes); the Lease is the heartbeat.
	NodeStatusReportFrequency time.Duration
	Clock                     clock.Clock
	Log                       *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("kubelet: hostname: %w", err)
		}
		c.NodeName = strings.ToLower(h)
	}
	if c.DataDir == "" {
		c.DataDir = "/var/lib/skiff"
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	c.DataDir = abs
	if c.ClusterDomain == "" {
		c.ClusterDomain = "cluster.local"
	}
	if c.Port == 0 {
		c.Port = defaultPort
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = "/kubepods"
	}
	if c.EvictionHard == nil {
		th, err := ParseEvictionHard(DefaultEvictionHard)
		if err != nil {
			return fmt.Errorf("kubelet: default eviction thresholds: %w", err)
		}
		c.EvictionHard = th
	}
	if c.NodeStatusInterval == 0 {
		c.NodeStatusInterval = 10 * time.Second
	}
	if c.NodeStatusReportFrequency == 0 {
		c.NodeStatusReportFrequency = 5 * time.Minute
	}
	if c.LeaseInterval == 0 {
		c.LeaseInterval = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Address == "" {
		c.Address = defaultAddress().String()
	}
	return nil
}

// Kubelet runs the pods bound to one node.
type Kubelet struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock
	cs    kubernetes.Interface
	cri   *criClient

	agentDir, podsDir, logsDir, cniConfDir string

	recorder record.EventRecorder

	podLister corelisters.PodLister
	cmLister  corelisters.ConfigMapLister
	secLister corelisters.SecretLister
	svcLister corelisters.ServiceLister // nil in tests that run no informers: no service variables

	mu      sync.Mutex // guards the fields below
	workers map[types.UID]*podWorker
	// byName finds a pod's UID for the kubelet API.
	byName map[string]types.UID
	// finished holds pods this kubelet deleted (finalized), by UID.
	finished map[types.UID]time.Time

	admitMu sync.Mutex // serializes pod admission (admission.go); guards admitted and rejected
	// admitted holds the pods admitted to run here, until their worker ends; rejected those refused.
	admitted map[types.UID]*corev1.Pod
	rejected map[types.UID]bool
	// workerSeq numbers workers in the order their pods arrived (guarded by mu), so that admission gives way to
	// older pods as the kubelet admits additions in creation order.
	workerSeq uint64

	node        *corev1.Node // last written Node, owned by the node loop
	nodeVersion *runtimeapi.VersionResponse
	// lastStatusReport is when the node loop last wrote node status; lease the Lease it last wrote (nil: read
	// it first). Both are owned by the node loop.
	lastStatusReport time.Time
	lease            *coordinationv1.Lease
	podCIDR          string
	startedAt        time.Time
	stats            statsSampler
	metrics          *kubeletMetrics      // Prometheus metrics (metrics.go), nil until the runtime is dialled
	plegOwners       map[string]types.UID // owned by pleg
	wg               sync.WaitGroup
}

// Run starts the runtime (unless cfg.RuntimeEndpoint), imports images, registers the node and runs pods until ctx
// ends. It returns an error naming the packages to install when the runtime's programs are missing.
func Run(ctx context.Context, rc *rest.Config, cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	if cfg.ClientCA == nil {
		return errors.New("kubelet: Config.ClientCA is required")
	}
	k := &Kubelet{
		cfg: cfg, log: cfg.Log, clock: cfg.Clock,
		agentDir: filepath.Join(cfg.DataDir, "agent"),
		workers:  map[types.UID]*podWorker{}, byName: map[string]types.UID{},
	}
	k.podsDir = filepath.Join(k.agentDir, "pods")
	k.logsDir = filepath.Join(k.agentDir, "logs", "pods")
	k.cniConfDir = filepath.Join(k.agentDir, "cni", "net.d")
	for _, d := range []string{k.podsDir, k.logsDir, k.cniConfDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("kubelet: %w", err)
		}
	}
	// The kubelet's own context: containerd is stopped (and waited for) whenever Run returns.
	ctx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	ln, err := k.listen()
	if err != nil {
		return err
	}
	defer ln.Close()
	endpoint := cfg.RuntimeEndpoint
	var ctrd *skiffruntime.Containerd
	if endpoint == "" {
		var err error
		ctrd, err = skiffruntime.Start(ctx, skiffruntime.Config{
			Dir: filepath.Join(cfg.DataDir, "containerd"), SandboxImage: images.PauseImage,
			CNIConfDir: k.cniConfDir, Log: k.log.With("sub", "containerd"),
		})
		if err != nil {
			return err
		}
		defer func() { cancelRun(); ctrd.Wait() }()
		endpoint = ctrd.Socket
	}
	cri, err := dialCRI(endpoint)
	if err != nil {
		return err
	}
	defer cri.Close()
	k.metrics = newKubeletMetrics(k)
	k.metrics.cri.instrument(cri)
	k.cri = cri
	// The CRI answers "server is not initialized yet" while containerd recovers its state.
	var ver *runtimeapi.VersionResponse
	for deadline := k.clock.Now().Add(60 * time.Second); ; {
		vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ver, err = cri.rt.Version(vctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil || k.clock.Now().After(deadline) {
			return fmt.Errorf("kubelet: container runtime at %s does not answer: %w", endpoint, err)
		}
		select {
		case <-ctx.Done():
		case <-k.clock.After(50 * time.Millisecond):
		}
	}
	k.log.Info("container runtime ready", "runtime", ver.RuntimeName, "version", ver.RuntimeVersion, "endpoint", endpoint)

	// The air-gap images.
	imgDir := filepath.Join(cfg.DataDir, "images")
	start := k.clock.Now()
	done, skipped, err := images.ImportDir(ctx, strings.TrimPrefix(endpoint, "unix://"), imgDir, func(img images.ArchiveImage) bool {
		for _, tag := range img.Tags {
			st, err := cri.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: tag}})
			if err != nil || st.Image == nil || st.Image.Id != img.ID {
				return false
			}
		}
		return len(img.Tags) > 0
	})
	if err != nil {
		k.log.Error("image import failed", "err", err)
	} else if len(done) > 0 {
		k.log.Info("imported images", "dir", imgDir, "files", len(done), "took", k.clock.Since(start).Round(time.Millisecond))
	}
	if len(skipped) > 0 {
		k.log.Info("air-gap images already present", "dir", imgDir, "files", len(skipped))
	}
	if _, err := cri.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: images.PauseImage}}); err == nil {
		if st, _ := cri.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: images.PauseImage}}); st == nil || st.Image == nil {
			k.log.Warn("pause image missing: pods cannot start; run `make images DATA=" + cfg.DataDir + "` (writes " + imgDir + ") and restart, or `skiff images import`")
		}
	}

	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	k.cs = cs
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	defer bc.Shutdown()
	k.recorder = bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: cfg.NodeName})

	if err := k.registerNode(ctx, ver); err != nil {
		return err
	}
	if err := k.waitPodCIDR(ctx); err != nil {
		return err
	}
	if err := k.writeCNIConfig(); err != nil {
		return err
	}

	// Informers: the pods bound here, and the configMaps and secrets their volumes and env read.
	podFactory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informerutil.Options(informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
	}))...)
	podInf := podFactory.Core().V1().Pods()
	k.podLister = podInf.Lister()
	all := informers.NewSharedInformerFactoryWithOptions(cs, 0, informerutil.Options()...)
	k.cmLister = all.Core().V1().ConfigMaps().Lister()
	k.secLister = all.Core().V1().Secrets().Lister()
	k.svcLister = all.Core().V1().Services().Lister()
	_, _ = podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { k.podChanged(ctx, o) },
		UpdateFunc: func(_, o any) { k.podChanged(ctx, o) },
		DeleteFunc: func(o any) { k.podChanged(ctx, o) },
	})
	refresh := func(o any) { k.configChanged(o) }
	_, _ = all.Core().V1().ConfigMaps().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, o any) { refresh(o) }, AddFunc: refresh})
	_, _ = all.Core().V1().Secrets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, o any) { refresh(o) }, AddFunc: refresh})
	all.Start(ctx.Done())
	all.WaitForCacheSync(ctx.Done())
	podFactory.Start(ctx.Done())
	podFactory.WaitForCacheSync(ctx.Done())
	// Adopt what the runtime runs: pods bound here already have workers (they keep running untouched); the others
	// (deleted while the kubelet was down) get workers that stop and remove them.
	k.startedAt = k.clock.Now()
	if err := k.adoptRuntimePods(ctx); err != nil {
		k.log.Warn("adopting runtime pods", "err", err)
	}
	k.log.Info("kubelet started", "node", cfg.NodeName, "podCIDR", k.podCIDR, "port", k.cfg.Port)

	errc := make(chan error, 2)
	k.wg.Add(5)
	go func() { defer k.wg.Done(); k.pleg(ctx) }()
	go func() { defer k.wg.Done(); k.nodeLoop(ctx) }()
	go func() { defer k.wg.Done(); k.statsLoop(ctx) }()
	go func() { defer k.wg.Done(); k.housekeeping(ctx) }()
	go func() {
		defer k.wg.Done()
		if err := k.serve(ctx, ln); err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()
	select {
	case <-ctx.Done():
	case err = <-errc:
		k.log.Error("kubelet stopping", "err", err)
	}
	cancelRun()
	k.wg.Wait()
	podFactory.Shutdown()
	all.Shutdown()
	return err
}

// podChanged hands the pod to its worker, starting one if needed.
func (k *Kubelet) podChanged(ctx context.Context, o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, done := k.finished[pod.UID]; done {
		return
	}
	w := k.workers[pod.UID]
	if w == nil {
		w = k.newWorkerLocked(ctx, pod.UID, pod.Namespace, pod.Name)
	}
	k.byName[pod.Namespace+"/"+pod.Name] = pod.UID
	w.kick()
}

// configChanged wakes the workers of pods in the namespace of a changed configMap or secret, so that volumes and
// env follow.
func (k *Kubelet) configChanged(o any) {
	var ns string
	switch v := o.(type) {
	case *corev1.ConfigMap:
		ns = v.Namespace
	case *corev1.Secret:
		ns = v.Namespace
	default:
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range k.workers {
		if w.namespace == ns {
			w.refreshVolumes.Store(true)
			w.kick()
		}
	}
}

func (k *Kubelet) newWorkerLocked(ctx context.Context, uid types.UID, ns, name string) *podWorker {
	wctx, cancel := context.WithCancel(ctx)
	k.workerSeq++
	w := &podWorker{k: k, uid: uid, namespace: ns, name: name, cancel: cancel, wake: make(chan struct{}, 1), seq: k.workerSeq,
		backoff: map[string]*backoffEntry{}, probes: map[string]*probeState{}, waiting: map[string]waiting{},
		imageBackoff: map[string]*backoffEntry{}}
	k.workers[uid] = w
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		w.run(wctx)
		k.admitMu.Lock()
		delete(k.admitted, uid)
		delete(k.rejected, uid)
		k.admitMu.Unlock()
		k.mu.Lock()
		if k.workers[uid] == w {
			delete(k.workers, uid)
			if k.byName[ns+"/"+name] == uid {
				delete(k.byName, ns+"/"+name)
			}
		}
		k.mu.Unlock()
	}()
	return w
}

// adoptRuntimePods starts a worker for every pod the runtime knows, so that a restarted kubelet keeps (or, when the
// pod is gone from the API, removes) them.
func (k *Kubelet) adoptRuntimePods(ctx context.Context) error {
	sbs, err := k.cri.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range sbs.Items {
		uid := types.UID(s.Labels[labelPodUID])
		if uid == "" || k.workers[uid] != nil {
			continue
		}
		w := k.newWorkerLocked(ctx, uid, s.Labels[labelPodNamespace], s.Labels[labelPodName])
		w.adopted = true
		k.byName[w.namespace+"/"+w.name] = uid
	}
	return nil
}

// podDir is DATA/agent/pods/<uid>.
func (k *Kubelet) podDir(uid types.UID) string { return filepath.Join(k.podsDir, string(uid)) }

// defaultAddress returns the IPv4 address of the default route, or 127.0.0.1.
func defaultAddress() net.IP {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsUnspecified() {
			return a.IP
		}
	}
	return net.ParseIP("127.0.0.1")
}

// markFinished remembers a pod the kubelet deleted, so that its DELETED event does not start a worker again.
func (k *Kubelet) markFinished(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.finished == nil {
		k.finished = map[types.UID]time.Time{}
	}
	k.finished[uid] = k.clock.Now()
}
