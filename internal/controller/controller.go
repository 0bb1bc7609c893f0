package controller

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Controller is one control loop run by the controller manager.
type Controller interface {
	// Name identifies the controller in logs.
	Name() string
	// Run waits for the caches the controller reads, runs workers sync goroutines and blocks until ctx ends.
	// It returns after every goroutine it started has stopped. A non-nil error stops the controller manager.
	Run(ctx context.Context, workers int) error
}

// Constructor builds a controller from the shared Context; see the package documentation for its duties.
type Constructor func(cc Context) (Controller, error)

// Context is what the controller manager shares between the controllers of one leadership term.
// Everything in it is safe for concurrent use; nothing in it may be mutated.
type Context struct {
	// Client is the typed clientset; Metadata reads and writes any resource as PartialObjectMetadata.
	Client   kubernetes.Interface
	Metadata metadata.Interface
	// Discovery answers which resources the server serves (uncached: every call asks the server).
	Discovery discovery.DiscoveryInterface
	// RESTMapper maps kinds to resources; it is discovery-backed and cached, Reset it after a NoKindMatch to re-read.
	RESTMapper meta.ResettableRESTMapper
	// Informers and MetadataInformers are the shared informer factories (resync 0). The manager starts them
	// after every controller has been constructed and shuts them down after every controller has returned.
	// A controller that requests informers later (in Run) calls Start(ctx.Done()) on the factory itself;
	// Start only starts informers not yet running.
	Informers         informers.SharedInformerFactory
	MetadataInformers metadatainformer.SharedInformerFactory
	// Clock is the only source of time a controller may read.
	Clock clock.Clock
	// Recorder returns an event recorder whose core/v1 Events name component as their source
	// (deduplicated and counted as Kubernetes does).
	Recorder func(component string) record.EventRecorder
	// Log is the manager's logger; controllers add their name.
	Log *slog.Logger
	// RootCA is the PEM of the CA the manager's client config trusts for the API server (the cluster CA).
	RootCA []byte
	// ClusterSigner is the cluster CA's certificate and key the csrsigning controller signs with; nil when the
	// manager has no key (it then signs nothing).
	ClusterSigner *ClusterSigner
}

// ClusterSigner is a CA certificate and its private key.
type ClusterSigner struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// ClockOrReal returns cc.Clock, or the real clock if it is nil.
func (cc Context) ClockOrReal() clock.Clock {
	if cc.Clock == nil {
		return clock.Real{}
	}
	return cc.Clock
}

// LogOrDefault returns cc.Log, or slog.Default() if it is nil.
func (cc Context) LogOrDefault() *slog.Logger {
	if cc.Log == nil {
		return slog.Default()
	}
	return cc.Log
}

// Handler is an event handler to register on an informer; What names the informer in the error if that fails.
type Handler struct {
	What     string
	Informer cache.SharedInformer
	Handler  cache.ResourceEventHandler
}

// AddHandlers registers each handler on its informer, in order, and returns the registrations' HasSynced funcs for
// Run to wait on. It stops at the first failure and returns it wrapped as "<What> informer: <err>".
func AddHandlers(hs ...Handler) ([]cache.InformerSynced, error) {
	synced := make([]cache.InformerSynced, 0, len(hs))
	for _, h := range hs {
		reg, err := h.Informer.AddEventHandler(h.Handler)
		if err != nil {
			return nil, fmt.Errorf("%s informer: %w", h.What, err)
		}
		synced = append(synced, reg.HasSynced)
	}
	return synced, nil
}

// Result tells the worker loop what to do after a successful sync.
type Result struct {
	// RequeueAfter > 0 adds the key again after this delay.
	RequeueAfter time.Duration
}

type terminalError struct{ err error }

func (e terminalError) Error() string { return e.err.Error() }
func (e terminalError) Unwrap() error { return e.err }

// Terminal marks err as one that retrying will not fix: the worker logs it and drops the key.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return terminalError{err}
}

// IsTerminal reports whether err was marked by Terminal.
func IsTerminal(err error) bool {
	var t terminalError
	return errors.As(err, &t)
}

// SyncFunc is a controller's synchronous core for one key.
type SyncFunc[K comparable] func(ctx context.Context, key K) (Result, error)

// NewQueue returns a rate-limited work queue with the default controller back-off (5 ms doubling to 1000 s
// per key, 10 qps overall for retries).
func NewQueue[K comparable](name string) workqueue.TypedRateLimitingInterface[K] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[K](),
		workqueue.TypedRateLimitingQueueConfig[K]{Name: name})
}

// RunQueue is the usual body of a controller's Run: it waits for the informers in synced, then runs workers
// goroutines over q with syncFn until ctx ends, and shuts q down. It returns nil; a cache that never syncs (ctx
// ended first) is not an error.
func RunQueue[K comparable](ctx context.Context, name string, log *slog.Logger, q workqueue.TypedRateLimitingInterface[K], synced []cache.InformerSynced, workers int, syncFn SyncFunc[K]) error {
	defer q.ShutDown()
	if !cache.WaitForNamedCacheSync(name, ctx.Done(), synced...) {
		return nil
	}
	RunWorkers(ctx, log, q, workers, syncFn)
	return nil
}

// RunWorkers runs workers goroutines that call sync for the keys of q until ctx ends; it then shuts q down
// and returns after the workers have stopped.
func RunWorkers[K comparable](ctx context.Context, log *slog.Logger, q workqueue.TypedRateLimitingInterface[K], workers int, syncFn SyncFunc[K]) {
	if workers < 1 {
		workers = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer utilruntime.HandleCrashWithContext(ctx)
			for ProcessNext(ctx, log, q, syncFn) {
			}
		}()
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}

// ProcessNext takes one key from q, syncs it and applies the retry contract. It blocks while q is empty and
// returns false once q is shut down. Tests drain a queue with `for q.Len() > 0 { ProcessNext(...) }`.
func ProcessNext[K comparable](ctx context.Context, log *slog.Logger, q workqueue.TypedRateLimitingInterface[K], syncFn SyncFunc[K]) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	res, err := syncFn(ctx, key)
	switch {
	case err == nil:
		q.Forget(key)
		if res.RequeueAfter > 0 {
			q.AddAfter(key, res.RequeueAfter)
		}
	case IsTerminal(err):
		q.Forget(key)
		log.Warn("sync failed, not retrying", "key", key, "err", err)
	case ctx.Err() != nil:
		q.Forget(key)
	default:
		lvl := slog.LevelInfo
		if apierrors.IsConflict(err) {
			lvl = slog.LevelDebug
		}
		log.Log(ctx, lvl, "sync failed, will retry", "key", key, "err", err, "retries", q.NumRequeues(key))
		q.AddRateLimited(key)
	}
	return true
}
