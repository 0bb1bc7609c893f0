package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/rest"
)

// Config is what Run needs.
type Config struct {
	// Addr is where the server listens (UDP and TCP), host:port; the host must be this node's address.
	Addr string
	// ServiceIP is the ClusterIP of the kube-dns Service (e.g. 10.43.0.10); empty: no Service is created.
	ServiceIP string
	// Domain is the cluster domain; default "cluster.local".
	Domain string
	// Upstreams are host:port of the servers other names are forwarded to; default the nameservers of
	// /etc/resolv.conf.
	Upstreams []string
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// ErrNoAddr is returned by Run when Config.Addr is empty.
var ErrNoAddr = errors.New("dns: no listen address")

const (
	serviceName = "kube-dns"
	managedBy   = "skiff-dns"
)

func (c *Config) validate() error {
	if c.Addr == "" {
		return ErrNoAddr
	}
	if c.Domain == "" {
		c.Domain = "cluster.local"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Upstreams == nil {
		cc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err == nil {
			for _, s := range cc.Servers {
				c.Upstreams = append(c.Upstreams, net.JoinHostPort(s, cc.Port))
			}
		}
	}
	return nil
}

// listerSource is a Source on informer listers.
type listerSource struct {
	svcs   corelisters.ServiceLister
	slices discoverylisters.EndpointSliceLister
}

func (l listerSource) Service(ns, name string) *corev1.Service {
	s, err := l.svcs.Services(ns).Get(name)
	if err != nil {
		return nil
	}
	return s
}

func (l listerSource) Slices(ns, name string) []*discoveryv1.EndpointSlice {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	s, _ := l.slices.EndpointSlices(ns).List(sel)
	return s
}

// Handler answers cluster names from src and forwards the others to upstreams.
func Handler(domain string, src Source, upstreams []string, log *slog.Logger) mdns.Handler {
	client := &mdns.Client{Timeout: 2 * time.Second}
	tcpClient := &mdns.Client{Net: "tcp", Timeout: 2 * time.Second}
	return mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		if m := Answer(req, domain, src); m != nil {
			_ = w.WriteMsg(m)
			return
		}
		c := client
		if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
			c = tcpClient
		}
		for _, up := range upstreams {
			resp, _, err := c.Exchange(req, up)
			if err == nil && resp != nil {
				resp.Id = req.Id
				_ = w.WriteMsg(resp)
				return
			}
			log.Debug("dns: upstream failed", "upstream", up, "name", req.Question, "err", err)
		}
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeServerFailure)
		_ = w.WriteMsg(m)
	})
}

// Run serves cluster DNS until ctx ends.
func Run(ctx context.Context, rc *rest.Config, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("dns: client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	src := listerSource{svcs: factory.Core().V1().Services().Lister(), slices: factory.Discovery().V1().EndpointSlices().Lister()}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("dns: %v cache did not sync: %w", typ, ctx.Err())
		}
	}
	h := Handler(cfg.Domain, src, cfg.Upstreams, cfg.Log)
	pc, err := net.ListenPacket("udp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("dns: %w", err)
	}
	servers := []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ActivateAndServe() }()
	}
	cfg.Log.Info("dns: serving", "addr", cfg.Addr, "domain", cfg.Domain, "upstreams", cfg.Upstreams)
	if cfg.ServiceIP != "" {
		if err := ensureService(ctx, cs, cfg); err != nil {
			cfg.Log.Error("dns: kube-dns Service", "err", err)
		}
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	for _, s := range servers {
		_ = s.Shutdown()
	}
	return runErr
}

// ensureService creates or updates kube-system/kube-dns and its EndpointSlice pointing at cfg.Addr.
func ensureService(ctx context.Context, cs kubernetes.Interface, cfg Config) error {
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return err
	}
	port := int32(ap.Port())
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: serviceName, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
		Spec: corev1.ServiceSpec{ClusterIP: cfg.ServiceIP, Ports: []corev1.ServicePort{
			{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(port)},
			{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(port)},
		}},
	}
	if _, err := cs.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service: %w", err)
	}
	udp, tcp, ready := corev1.ProtocolUDP, corev1.ProtocolTCP, true
	dnsName, tcpName := "dns", "dns-tcp"
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: serviceName + "-" + managedBy, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{discoveryv1.LabelServiceName: serviceName, discoveryv1.LabelManagedBy: managedBy}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ap.Addr().String()}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports: []discoveryv1.EndpointPort{
			{Name: &dnsName, Protocol: &udp, Port: &port},
			{Name: &tcpName, Protocol: &tcp, Port: &port},
		},
	}
	slices := cs.DiscoveryV1().EndpointSlices(slice.Namespace)
	old, err := slices.Get(ctx, slice.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = slices.Create(ctx, slice, metav1.CreateOptions{})
	case err == nil:
		slice.ResourceVersion = old.ResourceVersion
		_, err = slices.Update(ctx, slice, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("endpointslice: %w", err)
	}
	return nil
}

// ListenAddr joins a node IP and port.
func ListenAddr(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }
