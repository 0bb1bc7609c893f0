package apiserver

import (
	"context"
	"fmt"
	"github.com/skiff-sh/skiff/internal/admission/webhook"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/registry"
	"github.com/skiff-sh/skiff/internal/storage"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Config configures an APIServer.
type Config struct {
	Store *storage.Store
	// ServiceCIDR is where ClusterIPs come from; its first address belongs to the kubernetes Service.
	ServiceCIDR *net.IPNet
	// NodePortRange is the inclusive range of NodePorts, default 30000-32767.
	NodePortMin, NodePortMax int
	// AdvertiseAddress and SecurePort are where the kubernetes Service's endpoints point.
	AdvertiseAddress net.IP
	SecurePort       int
	// Clock is the time source; nil means the system clock.
	Clock clock.Clock
	Log   *slog.Logger
	// OpenAPI serves /openapi/v2 and /openapi/v3; nil means 404.
	OpenAPI http.Handler
	// Version is what /version reports.
	GitVersion string
	// RepairInterval is how often the ClusterIP and NodePort bitmaps are reconciled with the Services (they are
	// also at start); default 3 minutes.
	RepairInterval time.Duration
	// TokenAuthenticator answers TokenReviews; nil answers each with an error.
	TokenAuthenticator auth.Authenticator
	// APIAudiences are the audiences the server's own tokens are for (kube-apiserver's --api-audiences); a
	// TokenReview with no audiences is for these, and one whose audiences share none of them is not authenticated.
	// Default DefaultAPIAudiences.
	APIAudiences []string
	// Authorizer authorizes requests (WithAuthorization) and answers the access reviews; nil allows everything
	// (AlwaysAllow). EnableRBAC sets it.
	Authorizer Authorizer
	// CustomResourcesChanged, when set, is called with the established CRDs whenever the custom resources
	// served change (the OpenAPI documents follow them). Calls come from one goroutine, in order.
	CustomResourcesChanged func(crds []*apiextv1.CustomResourceDefinition)
}

// APIServer serves the Kubernetes REST API from a Store.
type APIServer struct {
	cfg    Config
	log    *slog.Logger
	clock  clock.Clock
	store  *storage.Store
	scheme *runtime.Scheme
	codecs *codecs
	// tc parses the schema of every built-in type (~0.3 s, ~10 MB): built on the first write that needs it.
	tcOnce sync.Once
	tc     managedfields.TypeConverter

	resources []*resource
	byGVR     map[schema.GroupVersionResource]*resource
	// byGroupResource finds the storage of a resource whatever the version asked.
	byGR map[schema.GroupResource]*resource

	ipAlloc   *ipAllocator
	portAlloc *portAllocator

	ready atomic.Bool
	// readyCh is closed the first time the server becomes ready.
	readyCh   chan struct{}
	readyOnce sync.Once
	inflight  sync.WaitGroup
	// stopping is closed when shutdown starts; watches end on it.
	stopping chan struct{}
	stopOnce sync.Once

	discoveryMu sync.Mutex // serializes rebuilds of discovery
	discovery   atomic.Pointer[discoveryDocs]

	// crs is the table of custom resources served (crd.go); crd is the state of the loop that keeps it.
	crs atomic.Pointer[crTable]
	crd crdState
	// apiServicesKick wakes the APIService loop (apiservices.go).
	apiServicesKick chan struct{}

	// Set before Run by the code that serves other paths (kubelet proxy, metrics).
	extraPodSubresources []subresourceInfo
	extraGroups          []extraGroup
	subresourceHook      func(w http.ResponseWriter, r *http.Request, ri requestInfo) bool

	// extraCoreSubresources are more subresources of core/v1 resources, by Kind (services/proxy, nodes/proxy).
	extraCoreSubresources map[string][]subresourceInfo

	// saAuthn authenticates service-account tokens; set, it also turns on the ServiceAccount admission plugin
	// (satoken.go).
	saAuthn *serviceaccount.Authenticator

	// prom holds the Prometheus metrics served on /metrics (prommetrics.go).
	prom *apiMetrics

	// webhooks calls the admission webhooks (webhooks.go).
	webhooks *webhook.Dispatcher
}

// resource is one served resource with its storage.
type resource struct {
	*registry.Resource
	keys   storage.KeyFunc
	cacher *storage.Cacher
	// storeNew makes the stored form of an object: New, or for a view of another resource's storage (StoredAs)
	// that resource's New. A view shares the other's keys and cache and converts at its edges (stored, external).
	storeNew func() runtime.Object
	view     bool

	fmOnce sync.Once
	fm     map[string]*managedfields.FieldManager // by subresource ("" main)
	fmErr  error

	// cr is set for a custom resource: what its CRD says about this version (customresource.go).
	cr *crInfo
}

var registerMetaOnce sync.Once

// New returns an API server for cfg; Run must be called before it is ready.
func New(cfg Config) (*APIServer, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("apiserver: Config.Store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ServiceCIDR == nil {
		_, cfg.ServiceCIDR, _ = net.ParseCIDR("10.43.0.0/16")
	}
	if cfg.NodePortMin == 0 {
		cfg.NodePortMin, cfg.NodePortMax = 30000, 32767
	}
	if cfg.RepairInterval == 0 {
		cfg.RepairInterval = defaultRepairInterval
	}
	if cfg.GitVersion == "" {
		cfg.GitVersion = "v1.32.4-skiff"
	}
	registerMetaOnce.Do(func() {
		// Bodies may name meta.k8s.io/v1 for DeleteOptions and friends; client-go's scheme knows them only per API group.
		metav1.AddToGroupVersion(scheme.Scheme, metav1.SchemeGroupVersion)
		_ = metav1.AddMetaToScheme(scheme.Scheme)
		_ = apiextv1.AddToScheme(scheme.Scheme)
		_ = apiregistrationv1.AddToScheme(scheme.Scheme)
	})
	s := &APIServer{
		cfg:      cfg,
		log:      cfg.Log,
		clock:    cfg.Clock,
		store:    cfg.Store,
		scheme:   scheme.Scheme,
		codecs:   newCodecs(scheme.Scheme),
		byGVR:    map[schema.GroupVersionResource]*resource{},
		byGR:     map[schema.GroupResource]*resource{},
		stopping: make(chan struct{}),
		readyCh:  make(chan struct{}),
		crd:      crdState{stores: map[string]*crStore{}, kick: make(chan struct{}, 1), synced: make(chan struct{})},

		apiServicesKick: make(chan struct{}, 1),
	}
	for _, r := range registry.Resources() {
		res := &resource{Resource: r, keys: storage.KeyFunc{GR: r.GroupResource(), Namespaced: r.Namespaced}, storeNew: r.New}
		if !r.StoredAs.Empty() {
			res.view = true
		} else {
			res.cacher = storage.NewCacher(cfg.Store, res.keys.Prefix(""), r.New, cfg.Log)
		}
		s.resources = append(s.resources, res)
		s.byGVR[r.GVR] = res
		s.byGR[r.GroupResource()] = res
	}
	for _, res := range s.resources {
		if res.view {
			st := s.byGVR[res.StoredAs]
			res.keys, res.cacher, res.storeNew = st.keys, st.cacher, st.storeNew
		}
	}
	s.registerReviews()
	s.ipAlloc = newIPAllocator(cfg.Store, cfg.ServiceCIDR)
	s.portAlloc = newPortAllocator(cfg.Store, cfg.NodePortMin, cfg.NodePortMax)
	s.prom = newAPIMetrics(s)
	s.webhooks = webhook.NewDispatcher(webhookSource{s}, s.scheme)
	return s, nil
}

// Run starts the watch caches, bootstraps the default objects and serves until ctx ends.
// It returns once every cache has stopped.
func (s *APIServer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, r := range s.resources {
		if r.view {
			continue
		}
		wg.Add(1)
		go func(r *resource) {
			defer wg.Done()
			_ = r.cacher.Run(ctx)
		}(r)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.progressLoop(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runCRDs(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runAPIServices(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runFlowSchemaStatus(ctx)
	}()
	err := s.bootstrap(ctx)
	if err == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.repairLoop(ctx, s.cfg.RepairInterval)
		}()
	}
	if err == nil {
		for _, r := range s.resources {
			if r.view {
				continue
			}
			if err = r.cacher.WaitReady(ctx); err != nil {
				break
			}
		}
	}
	if err == nil {
		select {
		case <-s.crd.synced:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		s.ready.Store(true)
		s.readyOnce.Do(func() { close(s.readyCh) })
	} else if ctx.Err() == nil {
		s.log.Error("apiserver: bootstrap failed", "err", err)
	}
	<-ctx.Done()
	s.ready.Store(false)
	wg.Wait()
	return err
}

// progressLoop asks etcd to report the current revision on the cachers' watch stream, so that idle caches stay fresh.
func (s *APIServer) progressLoop(ctx context.Context) {
	t := s.clock.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			_ = s.store.Client().RequestProgress(watchCtx(ctx))
		}
	}
}

// Ready reports whether the server has loaded its caches and storage answers.
func (s *APIServer) Ready() bool { return s.ready.Load() }

// ReadyC is closed once the server has become ready for the first time.
func (s *APIServer) ReadyC() <-chan struct{} { return s.readyCh }

// Shutdown ends watches and waits for in-flight requests (until ctx ends).
func (s *APIServer) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() { close(s.stopping) })
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Handler returns the HTTP handler of the API (authentication is added by the caller).
func (s *APIServer) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *APIServer) serve(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("%v", v)), schema.GroupResource{}, "")
		}
	}()
	path := r.URL.Path
	switch {
	case path == "/version" || path == "/version/":
		s.serveVersion(w, r)
		return
	case path == "/healthz" || path == "/livez" || strings.HasPrefix(path, "/healthz/") || strings.HasPrefix(path, "/livez/"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
		return
	case path == "/readyz" || strings.HasPrefix(path, "/readyz/"):
		s.serveReadyz(w, r)
		return
	case path == "/metrics":
		s.servePrometheus(w, r)
		return
	case path == "/api" || path == "/api/":
		s.serveAPIRoot(w, r)
		return
	case path == "/apis" || path == "/apis/":
		s.serveAPIsRoot(w, r)
		return
	case strings.HasPrefix(path, "/openapi/"):
		if s.cfg.OpenAPI != nil {
			s.cfg.OpenAPI.ServeHTTP(w, r)
			return
		}
	}
	ri, ok := parseRequestInfo(r)
	if !ok {
		if g, found := strings.CutPrefix(strings.Trim(path, "/"), "apis/"); found && !strings.Contains(g, "/") && s.serveGroup(w, r, g) {
			return
		}
		s.writeError(w, r, notFoundPath(), schema.GroupResource{}, "")
		return
	}
	if !ri.IsResource {
		s.serveGroupVersion(w, r, ri)
		return
	}
	s.prom.instrument(w, r, ri, s.serveResource)
}

func (s *APIServer) serveReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-s.stopping:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("[-]shutdown failed: server is shutting down\nreadyz check failed\n"))
		return
	default:
	}
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("[-]etcd failed: storage not ready\nreadyz check failed\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.CurrentRevision(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "[-]etcd failed: %v\nreadyz check failed\n", err)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

// external returns a stored object in the form res serves (a new object for a view, obj itself otherwise). Only a
// custom resource's conversion webhook can fail.
func (r *resource) external(obj runtime.Object) (runtime.Object, error) {
	if !r.view || obj == nil {
		return obj, nil
	}
	if r.cr != nil {
		return r.cr.fromStored(obj)
	}
	return r.FromStored(obj), nil
}

// stored returns obj in the form it is stored in.
func (r *resource) stored(obj runtime.Object) (runtime.Object, error) {
	if !r.view || obj == nil {
		return obj, nil
	}
	if r.cr != nil {
		return r.cr.toStored(obj)
	}
	return r.ToStored(obj), nil
}

func (s *APIServer) lookup(ri requestInfo) *resource {
	gvr := schema.GroupVersionResource{Group: ri.Group, Version: ri.Version, Resource: ri.Resource}
	if r, ok := s.byGVR[gvr]; ok {
		return r
	}
	return s.crResources().byGVR[gvr]
}
