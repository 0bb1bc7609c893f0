package manager

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	"github.com/skiff-sh/skiff/internal/informerutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// Registration is one entry of the controller registry.
type Registration struct {
	// Name identifies the controller in logs and errors.
	Name string
	// Workers is how many keys the controller syncs at once (passed to Run).
	Workers int
	// New builds the controller; it is called once per leadership term.
	New controller.Constructor
}

// Options configures Run. The zero value runs the default registry with upstream's leader-election timing.
type Options struct {
	// Controllers to run; nil means the Controllers registry.
	Controllers []Registration
	// Identity is this manager's name in the lease; default hostname_uuid.
	Identity string
	// LeaseNamespace and LeaseName name the Lease; default kube-system/kube-controller-manager.
	LeaseNamespace, LeaseName string
	// LeaseDuration (default 15 s) is how long followers wait before taking an unrenewed lease; the leader gives
	// up after RenewDeadline (default 10 s) without a renewal and retries every RetryPeriod (default 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Clock is given to controllers; default the real clock. (Leader election keeps its own real clock.)
	Clock clock.Clock
	// Log receives the manager's, the controllers' and client-go's contextual logs; default slog.Default().
	Log *slog.Logger
	// ClusterSigner is given to controllers (the csrsigning controller signs with it); nil: approved CSRs are not signed.
	ClusterSigner *controller.ClusterSigner
}

// validate fills in defaults and rejects impossible timings.
func (o *Options) validate() error {
	if o.Controllers == nil {
		o.Controllers = Controllers
	}
	if o.Identity == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("manager: hostname: %w", err)
		}
		o.Identity = host + "_" + uuid.NewString()
	}
	if o.LeaseNamespace == "" {
		o.LeaseNamespace = metav1.NamespaceSystem
	}
	if o.LeaseName == "" {
		o.LeaseName = "kube-controller-manager"
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = 10 * time.Second
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = 2 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	for _, r := range o.Controllers {
		if r.Name == "" || r.New == nil {
			return fmt.Errorf("manager: registration %q needs a name and a constructor", r.Name)
		}
	}
	return nil
}

// Run runs the controllers while this process holds the leader lease, until ctx ends; see the package
// documentation. It returns nil when ctx ends, or the error of a controller or of the configuration.
func Run(ctx context.Context, rc *rest.Config, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(opts.Log.Handler()))
	m, err := newManager(rc, opts)
	if err != nil {
		return err
	}
	for {
		if err := m.campaign(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		opts.Log.Warn("lost the controller-manager lease; campaigning again", "identity", opts.Identity)
	}
}

type manager struct {
	opts     Options
	client   kubernetes.Interface
	metadata metadata.Interface
	lock     resourcelock.Interface
	rootCA   []byte // the cluster CA PEM from the client config, for controller.Context.RootCA
}

func newManager(rc *rest.Config, opts Options) (*manager, error) {
	cfg := rest.CopyConfig(rc)
	cfg.UserAgent = "kube-controller-manager"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("manager: client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("manager: metadata client: %w", err)
	}
	// Leader election gets its own client, so that controller traffic cannot delay renewals, with the renew
	// deadline as its request timeout, as upstream.
	leCfg := rest.CopyConfig(rc)
	leCfg.UserAgent = "kube-controller-manager/leader-election"
	leCfg.Timeout = opts.RenewDeadline
	leClient, err := kubernetes.NewForConfig(leCfg)
	if err != nil {
		return nil, fmt.Errorf("manager: leader-election client: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: opts.LeaseNamespace, Name: opts.LeaseName},
		Client:     leClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity},
	}
	rootCA := rc.CAData
	if len(rootCA) == 0 && rc.CAFile != "" {
		if rootCA, err = os.ReadFile(rc.CAFile); err != nil {
			return nil, fmt.Errorf("manager: root CA: %w", err)
		}
	}
	return &manager{opts: opts, client: client, metadata: md, lock: lock, rootCA: rootCA}, nil
}

// campaign waits for the lease, runs the controllers while it is held and returns when ctx ends or the lease is
// lost, after every controller has stopped.
func (m *manager) campaign(ctx context.Context) error {
	termCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := m.opts.Log
	var (
		mu      sync.Mutex // guards the fields below
		ended   bool
		running sync.WaitGroup
		termErr error
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            m.lock,
		LeaseDuration:   m.opts.LeaseDuration,
		RenewDeadline:   m.opts.RenewDeadline,
		RetryPeriod:     m.opts.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            m.opts.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			// client-go starts this in a goroutine it does not wait for; the WaitGroup below makes campaign
			// wait for it, and ended makes a late start a no-op.
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if ended {
					mu.Unlock()
					return
				}
				running.Add(1)
				mu.Unlock()
				defer running.Done()
				log.Info("became leader; starting controllers", "identity", m.opts.Identity)
				if err := m.runControllers(lctx); err != nil {
					mu.Lock()
					termErr = err
					mu.Unlock()
					cancel()
				}
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != m.opts.Identity {
					log.Info("another controller manager leads", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("manager: leader election: %w", err)
	}
	le.Run(termCtx)
	mu.Lock()
	ended = true
	mu.Unlock()
	running.Wait()
	mu.Lock()
	defer mu.Unlock()
	return termErr
}

// runControllers builds the shared context and the controllers of one term, runs them until ctx ends or one
// fails, and returns after all of them and the informers have stopped.
func (m *manager) runControllers(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := m.opts.Log
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: m.client.CoreV1().Events("")})
	factory := informers.NewSharedInformerFactoryWithOptions(m.client, 0, informerutil.Options()...)
	mfactory := metadatainformer.NewSharedInformerFactoryWithOptions(m.metadata, 0, informerutil.MetadataOptions()...)
	cc := controller.Context{
		Client:            m.client,
		Metadata:          m.metadata,
		Discovery:         m.client.Discovery(),
		RESTMapper:        restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(m.client.Discovery())),
		Informers:         factory,
		MetadataInformers: mfactory,
		Clock:             m.opts.Clock,
		Recorder: func(component string) record.EventRecorder {
			return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
		},
		Log:           log,
		RootCA:        m.rootCA,
		ClusterSigner: m.opts.ClusterSigner,
	}
	type built struct {
		reg Registration
		c   controller.Controller
	}
	var ctrls []built
	for _, r := range m.opts.Controllers {
		c, err := r.New(cc)
		if err != nil {
			return fmt.Errorf("%s controller: %w", r.Name, err)
		}
		ctrls = append(ctrls, built{r, c})
	}
	factory.Start(ctx.Done())
	mfactory.Start(ctx.Done())
	defer mfactory.Shutdown() // after the controllers have returned (defers run last-in first-out)
	defer factory.Shutdown()

	errc := make(chan error, len(ctrls))
	var wg sync.WaitGroup
	for _, b := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.c.Run(ctx, b.reg.Workers); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s controller: %w", b.reg.Name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("controller failed; stopping the controller manager", "err", err)
	}
	cancel()
	wg.Wait()
	return err
}
