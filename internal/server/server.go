package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/skiff-sh/skiff/internal/controller"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/apiserver"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/auth/serviceaccount"
	"github.com/skiff-sh/skiff/internal/openapi"
	"github.com/skiff-sh/skiff/internal/pki"
	"github.com/skiff-sh/skiff/internal/registry"
	"github.com/skiff-sh/skiff/internal/storage"
	"github.com/skiff-sh/skiff/internal/storage/embedded"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Config is what `skiff server` is told on its command line.
type Config struct {
	// clusterSigner is the cluster CA, set by Run for the csrsigning controller.
	clusterSigner *controller.ClusterSigner

	DataDir string
	// BindAddress is where HTTPS listens (default 0.0.0.0).
	BindAddress string
	Port        int
	// AuthorizationMode is AuthorizationRBAC (default) or AuthorizationAlwaysAllow (kube-apiserver's
	// --authorization-mode).
	AuthorizationMode string
	// Profiling serves /debug/pprof/ to system:masters (kube-apiserver's --profiling).
	Profiling bool
	// EtcdEndpoints selects an external etcd cluster; empty starts the embedded one.
	EtcdEndpoints                         []string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	ServiceCIDR                           string
	ClusterCIDR                           string
	TokenFile                             string
	// ServiceAccountIssuer is the iss of service-account tokens and their only API audience (kube-apiserver's
	// --service-account-issuer); default https://kubernetes.default.svc.cluster.local.
	ServiceAccountIssuer string
	TLSSANs              []string
	// AdvertiseAddress is the address other nodes reach this server at; empty picks the default route's.
	AdvertiseAddress string
	// Agent (the kubelet of this machine): DisableAgent turns it off; the other fields are its settings
	// (see internal/kubelet: zero values take its defaults).
	DisableAgent             bool
	ContainerRuntimeEndpoint string
	NodeName                 string
	KubeletPort              int
	ClusterDNS               []string
	ClusterDomain            string
	// EvictionHard is the node's --eviction-hard in the kubelet's syntax; empty takes the kubelet's default.
	EvictionHard string
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat before the node lifecycle controller
	// marks it Unknown (--node-monitor-grace-period); 0 takes its default (40 s).
	NodeMonitorGracePeriod time.Duration
	// TerminatedPodGCThreshold is how many terminated pods may exist before the pod GC deletes the oldest
	// (--terminated-pod-gc-threshold); nil takes its default (12500), 0 or less turns that off.
	TerminatedPodGCThreshold *int
	Log                      *slog.Logger
	// Ready, if set, is called once the server answers /readyz.
	Ready func()
}

func (c *Config) setDefaults() error {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/skiff"
	}
	if c.Port == 0 {
		c.Port = 6443
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = "10.43.0.0/16"
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.42.0.0/16"
	}
	if c.ServiceAccountIssuer == "" {
		c.ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	switch c.AuthorizationMode {
	case "":
		c.AuthorizationMode = AuthorizationRBAC
	case AuthorizationRBAC, AuthorizationAlwaysAllow:
	default:
		return fmt.Errorf("--authorization-mode %q: must be %s or %s", c.AuthorizationMode, AuthorizationRBAC, AuthorizationAlwaysAllow)
	}
	return nil
}

// The authorization modes of --authorization-mode.
const (
	AuthorizationRBAC        = "RBAC"
	AuthorizationAlwaysAllow = "AlwaysAllow"
)

// Run starts the server and blocks until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	log := cfg.Log
	start := time.Now()
	step := func(what string) { log.Debug("startup", "step", what, "elapsed", time.Since(start)) }
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	_, serviceNet, err := net.ParseCIDR(cfg.ServiceCIDR)
	if err != nil || serviceNet.IP.To4() == nil {
		return fmt.Errorf("--service-cidr %q: must be an IPv4 CIDR", cfg.ServiceCIDR)
	}
	serviceIP := make(net.IP, 4)
	copy(serviceIP, serviceNet.IP.To4())
	serviceIP[3]++

	// Certificates and kubeconfig.
	tlsDir := filepath.Join(dataDir, "tls")
	bundle, err := pki.Ensure(pki.Config{Dir: tlsDir, ExtraSANs: cfg.TLSSANs, ServiceIP: serviceIP})
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	cfg.clusterSigner = &controller.ClusterSigner{Cert: bundle.CA, Key: bundle.CAKey}
	certPEM, keyPEM, err := bundle.ClientCert(tlsDir, "admin", pki.AdminUser, []string{pki.AdminGroup})
	if err != nil {
		return fmt.Errorf("admin certificate: %w", err)
	}
	kubeconfig := filepath.Join(dataDir, "admin.kubeconfig")
	if err := pki.WriteKubeconfig(kubeconfig, "https://127.0.0.1:"+strconv.Itoa(cfg.Port), bundle.CAPEM, certPEM, keyPEM); err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	step("certificates")
	tokenFile := cfg.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(dataDir, "tokens.csv")
		if err := ensureTokenFile(tokenFile); err != nil {
			return err
		}
	}
	tokens, err := auth.LoadTokenFile(tokenFile)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(bundle.CA)
	saKey, err := pki.EnsureServiceAccountKey(tlsDir)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	saSigner, err := serviceaccount.NewSigner(saKey)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}

	// Storage.
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var etcd *embedded.Etcd
	endpoints := cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		etcd, err = embedded.Start(ctx, embedded.Config{Dir: filepath.Join(dataDir, "etcd")})
		if err != nil {
			return err
		}
		defer etcd.Close()
		endpoints = []string{etcd.Endpoint}
	}
	client, err := newEtcdClient(endpoints, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	store := storage.New(client, scheme.Scheme)
	step("etcd")

	// API.
	// The OpenAPI documents take a few hundred milliseconds and tens of MB to build: do it on first use.
	oapi := &lazyOpenAPI{log: log}
	step("openapi")
	advertise := net.ParseIP(cfg.AdvertiseAddress)
	if advertise == nil {
		advertise = defaultAddress()
	}
	api, err := apiserver.New(apiserver.Config{
		Store: store, ServiceCIDR: serviceNet, AdvertiseAddress: advertise, SecurePort: cfg.Port,
		Log: log, OpenAPI: oapi, TokenAuthenticator: tokens, APIAudiences: []string{cfg.ServiceAccountIssuer},
		CustomResourcesChanged: oapi.setCustomResources,
	})
	if err != nil {
		return err
	}
	saAuthn := api.EnableServiceAccountTokens(saSigner, cfg.ServiceAccountIssuer)
	if cfg.AuthorizationMode == AuthorizationRBAC {
		api.EnableRBAC()
	}
	authn := auth.Union(auth.NewX509(roots), tokens, saAuthn)
	oidc, err := serviceaccount.OIDCHandler(cfg.ServiceAccountIssuer, "", net.JoinHostPort(advertise.String(), strconv.Itoa(cfg.Port)), saSigner)
	if err != nil {
		return err
	}
	step("apiserver")
	// pods/log, exec, attach and portforward are proxied to the node's kubelet with this client certificate.
	kcCert, kcKey, err := bundle.ClientCert(tlsDir, "kube-apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{pki.AdminGroup})
	if err != nil {
		return fmt.Errorf("kubelet client certificate: %w", err)
	}
	if err := api.EnableNodeProxy(kcCert, kcKey); err != nil {
		return err
	}
	var apiHandler http.Handler = api.Handler()
	if cfg.Profiling {
		apiHandler = withProfiling(apiHandler)
	}
	apiHandler = withOIDCDiscovery(oidc, apiHandler)
	// As kube-apiserver: authenticate, authorize and apply impersonation, authorize the (impersonated) request.
	handler := auth.Middleware(authn, auth.DefaultAnonymousPaths,
		api.WithImpersonationAuthorization(auth.Impersonation(api.WithAuthorization(apiHandler))))

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: handler,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{bundle.Serving},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"},
		},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}

	var wg sync.WaitGroup
	errc := make(chan error, 16)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := api.Run(runCtx); err != nil && runCtx.Err() == nil {
			errc <- fmt.Errorf("apiserver: %w", err)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: %w", err)
		}
	}()
	// Components stop before the API server, so that they never see it gone.
	compCtx, cancelComponents := context.WithCancel(runCtx)
	defer cancelComponents()
	var compWG sync.WaitGroup
	host := "https://127.0.0.1:" + strconv.Itoa(cfg.Port)
	for _, c := range registered() {
		if c.Enabled != nil && !c.Enabled(&cfg) {
			continue
		}
		rc, err := clientConfig(bundle, tlsDir, host, c.Name, c.User, c.Groups)
		if err != nil {
			cancelComponents()
			compWG.Wait()
			cancel()
			wg.Wait()
			return err
		}
		compWG.Add(1)
		go func(c Component) {
			defer compWG.Done()
			// Components talk to the API like any client; wait until it serves.
			select {
			case <-api.ReadyC():
			case <-compCtx.Done():
				return
			}
			if err := c.Run(compCtx, rc, &cfg, log.With("component", c.Name)); err != nil && compCtx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", c.Name, err)
			}
		}(c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-api.ReadyC():
			step("ready")
			if cfg.Ready != nil {
				cfg.Ready()
			}
		case <-runCtx.Done():
		}
	}()
	var etcdErr <-chan error
	if etcd != nil {
		etcdErr = etcd.Err()
	}
	log.Info("skiff server listening", "address", ln.Addr().String(), "kubeconfig", kubeconfig, "etcd", strings.Join(endpoints, ","))
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	case err := <-etcdErr:
		runErr = fmt.Errorf("etcd: %w", err)
	}
	// Graceful shutdown: stop the components, then stop accepting, end watches, let in-flight requests finish.
	shutdownCtx, done := context.WithTimeout(context.Background(), 20*time.Second)
	defer done()
	cancelComponents()
	compStopped := make(chan struct{})
	go func() { compWG.Wait(); close(compStopped) }()
	select {
	case <-compStopped:
	case <-shutdownCtx.Done():
	}
	go api.Shutdown(shutdownCtx)
	_ = srv.Shutdown(shutdownCtx)
	api.Shutdown(shutdownCtx)
	cancel()
	wg.Wait()
	<-compStopped
	return runErr
}

func newEtcdClient(endpoints []string, cfg Config) (*clientv3.Client, error) {
	cc := clientv3.Config{
		Endpoints:          endpoints,
		DialTimeout:        5 * time.Second,
		DialKeepAliveTime:  30 * time.Second,
		MaxCallSendMsgSize: 8 << 20,
		MaxCallRecvMsgSize: 1 << 30,
		Logger:             zap.NewNop(),
	}
	if cfg.EtcdCAFile != "" || cfg.EtcdCertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.EtcdCAFile != "" {
			pem, err := os.ReadFile(cfg.EtcdCAFile)
			if err != nil {
				return nil, fmt.Errorf("etcd CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("etcd CA %s: no certificates", cfg.EtcdCAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.EtcdCertFile != "" {
			pair, err := tls.LoadX509KeyPair(cfg.EtcdCertFile, cfg.EtcdKeyFile)
			if err != nil {
				return nil, fmt.Errorf("etcd client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		cc.TLS = tc
	}
	c, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return c, nil
}

// ensureTokenFile creates the static token file with one token for joining agents.
func ensureTokenFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	line := fmt.Sprintf("# token,user,uid,\"groups\"\n%s,system:node-bootstrap,skiff-agent,\"system:nodes,system:masters\"\n", auth.GenerateToken())
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return nil
}

// defaultAddress returns the first non-loopback IPv4 address, or 127.0.0.1.
func defaultAddress() net.IP {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsUnspecified() {
			return a.IP
		}
	}
	return net.ParseIP("127.0.0.1")
}

// openAPIRoutes lists every served resource for the OpenAPI documents.
func openAPIRoutes() []openapi.Route {
	var out []openapi.Route
	for _, r := range registry.Resources() {
		rt := openapi.Route{GVK: r.GVK(), Resource: r.GVR.Resource, Namespaced: r.Namespaced, Verbs: r.VerbList()}
		if r.Status {
			rt.Subresources = append(rt.Subresources, openapi.Subresource{Name: "status", GVK: r.GVK(), Verbs: []string{"get", "patch", "update"}})
		}
		if r.Scale {
			rt.Subresources = append(rt.Subresources, openapi.Subresource{Name: "scale",
				GVK: schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: []string{"get", "patch", "update"}})
		}
		if r.Kind == "CertificateSigningRequest" {
			rt.Subresources = append(rt.Subresources, openapi.Subresource{Name: "approval", GVK: r.GVK(), Verbs: []string{"get", "patch", "update"}})
		}
		if r.Kind == "Pod" {
			rt.Subresources = append(rt.Subresources,
				openapi.Subresource{Name: "binding", GVK: schema.GroupVersionKind{Version: "v1", Kind: "Binding"}, Verbs: []string{"create"}},
				openapi.Subresource{Name: "eviction", GVK: schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, Verbs: []string{"create"}})
		}
		out = append(out, rt)
	}
	return out
}

// lazyOpenAPI builds the OpenAPI documents on the first request for them.
type lazyOpenAPI struct {
	log  *slog.Logger
	once sync.Once
	svc  *openapi.Service
	err  error

	mu   sync.Mutex // guards crds and calls to svc.SetCustomResources
	crds []*apiextv1.CustomResourceDefinition
}

// setCustomResources publishes the documents of the established CRDs (now, or when the documents are built).
func (l *lazyOpenAPI) setCustomResources(crds []*apiextv1.CustomResourceDefinition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.crds = crds
	if l.svc != nil {
		if err := l.svc.SetCustomResources(crds); err != nil {
			l.log.Error("openapi: custom resource documents", "err", err)
		}
	}
}

func (l *lazyOpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.once.Do(func() {
		svc, err := openapi.New(openAPIRoutes())
		if err != nil {
			l.log.Error("openapi: building documents failed", "err", err)
		}
		l.mu.Lock()
		l.svc, l.err = svc, err
		if svc != nil && len(l.crds) > 0 {
			if err := svc.SetCustomResources(l.crds); err != nil {
				l.log.Error("openapi: custom resource documents", "err", err)
			}
		}
		l.mu.Unlock()
		// Building allocates far more than the documents keep; give it back.
		debug.FreeOSMemory()
	})
	if l.err != nil {
		http.Error(w, l.err.Error(), http.StatusInternalServerError)
		return
	}
	l.svc.ServeHTTP(w, r)
}

// withOIDCDiscovery serves the service-account issuer discovery documents (to authenticated users, as upstream's
// system:service-account-issuer-discovery role grants them) and everything else from next.
func withOIDCDiscovery(oidc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == serviceaccount.OpenIDConfigPath || r.URL.Path == serviceaccount.JWKSPath {
			oidc.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
