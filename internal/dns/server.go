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
	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/informerutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Config is what Run needs.
type Config struct {
	// Addr is where the server listens (UDP and TCP), host:port; the host must be this node's address.
	Addr string
	// ServiceIP is the ClusterIP of the kube-dns Service (e.g. 10.43.0.10); empty: no Service is created.
	ServiceIP string
	// ServiceCIDRs are the Service IP ranges, whose reverse names are answered here and never forwarded.
	ServiceCIDRs []string
	// Domain is the cluster domain; default "cluster.local".
	Domain string
	// Upstreams are host:port of the servers other names are forwarded to; default the nameservers of
	// /etc/resolv.conf.
	Upstreams []string
	// Clock stamps the SOA serial; default clock.Real.
	Clock clock.Clock
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// ErrNoAddr is returned by Run when Config.Addr is empty.
var ErrNoAddr = errors.New("dns: no listen address")

// errNoUpstream is the forwarding error when there is no upstream server.
var errNoUpstream = errors.New("dns: no upstream server")

const (
	serviceName = "kube-dns"
	managedBy   = "skiff-dns"
	// ipIndex indexes Services by ClusterIP and EndpointSlices by endpoint address.
	ipIndex = "ip"
	// serviceIndex indexes EndpointSlices by "<ns>/<service>".
	serviceIndex = "service"
	// upstreamTimeout bounds one exchange with an upstream server.
	upstreamTimeout = 2 * time.Second
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
	if c.Clock == nil {
		c.Clock = clock.Real{}
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

// zone is the Zone cfg serves.
func (c *Config) zone() (Zone, error) {
	z := Zone{Domain: c.Domain, Serial: uint32(c.Clock.Now().Unix())}
	for _, s := range c.ServiceCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return z, fmt.Errorf("service CIDR: %w", err)
		}
		z.ServiceCIDRs = append(z.ServiceCIDRs, p)
	}
	if c.ServiceIP != "" {
		ip, err := netip.ParseAddr(c.ServiceIP)
		if err != nil {
			return z, fmt.Errorf("service IP: %w", err)
		}
		z.NameserverIPs = []netip.Addr{ip}
	}
	return z, nil
}

// listerSource is a Source on informer caches.
type listerSource struct {
	ns     corelisters.NamespaceLister
	svcs   corelisters.ServiceLister
	svcIdx cache.Indexer
	slices cache.Indexer
}

var _ Source = listerSource{}

func (l listerSource) Namespace(name string) bool {
	_, err := l.ns.Get(name)
	return err == nil
}

func (l listerSource) Service(ns, name string) *corev1.Service {
	s, err := l.svcs.Services(ns).Get(name)
	if err != nil {
		return nil
	}
	return s
}

func (l listerSource) Slices(ns, name string) []*discoveryv1.EndpointSlice {
	objs, _ := l.slices.ByIndex(serviceIndex, ns+"/"+name)
	return slicesOf(objs)
}

func (l listerSource) ServicesByIP(ip string) []*corev1.Service {
	objs, _ := l.svcIdx.ByIndex(ipIndex, ip)
	out := make([]*corev1.Service, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*corev1.Service); ok {
			out = append(out, s)
		}
	}
	return out
}

func (l listerSource) SlicesByIP(ip string) []*discoveryv1.EndpointSlice {
	objs, _ := l.slices.ByIndex(ipIndex, ip)
	return slicesOf(objs)
}

func slicesOf(objs []any) []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			out = append(out, s)
		}
	}
	return out
}

// serviceIPs indexes a Service by its ClusterIPs, in netip's canonical form.
func serviceIPs(obj any) ([]string, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil, nil
	}
	var out []string
	for _, ip := range clusterIPs(svc) {
		out = append(out, ip.String())
	}
	return out, nil
}

// sliceIPs indexes an EndpointSlice by its endpoint addresses, in netip's canonical form.
func sliceIPs(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	var out []string
	for _, e := range s.Endpoints {
		for _, a := range e.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil {
				out = append(out, ip.Unmap().String())
			}
		}
	}
	return out, nil
}

// sliceService indexes an EndpointSlice by its Service's "<ns>/<name>".
func sliceService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelServiceName] == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]}, nil
}

// NewSource starts nothing: it registers the informers and indexes Answer needs on factory and returns a Source
// on them; the caller starts the factory and waits for its caches.
func NewSource(factory informers.SharedInformerFactory) (Source, error) {
	svcs := factory.Core().V1().Services().Informer()
	if err := svcs.AddIndexers(serviceIndexers); err != nil {
		return nil, fmt.Errorf("service index: %w", err)
	}
	slices := factory.Discovery().V1().EndpointSlices().Informer()
	if err := slices.AddIndexers(sliceIndexers); err != nil {
		return nil, fmt.Errorf("endpointslice index: %w", err)
	}
	return newIndexSource(factory.Core().V1().Namespaces().Informer().GetIndexer(), svcs.GetIndexer(), slices.GetIndexer()), nil
}

var (
	serviceIndexers = cache.Indexers{ipIndex: serviceIPs}
	sliceIndexers   = cache.Indexers{ipIndex: sliceIPs, serviceIndex: sliceService}
)

// newIndexSource is a Source on indexers of Namespaces, Services (with serviceIndexers) and EndpointSlices (with
// sliceIndexers).
func newIndexSource(ns, svcs, slices cache.Indexer) listerSource {
	return listerSource{ns: corelisters.NewNamespaceLister(ns), svcs: corelisters.NewServiceLister(svcs), svcIdx: svcs, slices: slices}
}

// forwarder sends queries to upstream servers in order, over UDP with a TCP retry on truncation.
type forwarder struct {
	upstreams []string
	udp, tcp  *mdns.Client
}

// exchange asks each upstream in turn and returns the first answer; over TCP when tcp is set.
func (f *forwarder) exchange(req *mdns.Msg, tcp bool) (*mdns.Msg, error) {
	err := errNoUpstream
	for _, up := range f.upstreams {
		var resp *mdns.Msg
		if tcp {
			resp, _, err = f.tcp.Exchange(req, up)
		} else if resp, _, err = f.udp.Exchange(req, up); err == nil && resp.Truncated {
			resp, _, err = f.tcp.Exchange(req, up)
		}
		if err == nil {
			return resp, nil
		}
		err = fmt.Errorf("upstream %s: %w", up, err)
	}
	return nil, err
}

// Handler answers names of z from src and forwards the others to upstreams (SERVFAIL when none answers).
func Handler(z Zone, src Source, upstreams []string, log *slog.Logger) mdns.Handler {
	f := &forwarder{upstreams: upstreams,
		udp: &mdns.Client{Net: "udp", Timeout: upstreamTimeout, UDPSize: mdns.DefaultMsgSize},
		tcp: &mdns.Client{Net: "tcp", Timeout: upstreamTimeout}}
	return mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		_, tcp := w.RemoteAddr().(*net.TCPAddr)
		if req.Opcode != mdns.OpcodeQuery {
			m := new(mdns.Msg)
			m.SetRcode(req, mdns.RcodeNotImplemented)
			write(w, req, m, tcp)
			return
		}
		m := Answer(req, z, src)
		if m != nil {
			chaseExternal(f, req, m, tcp, log)
			write(w, req, m, tcp)
			return
		}
		resp, err := f.exchange(req, tcp)
		if err != nil {
			log.Warn("dns: forwarding failed", "name", req.Question, "err", err)
			m = new(mdns.Msg)
			m.SetRcode(req, mdns.RcodeServerFailure)
			m.RecursionAvailable = true
			write(w, req, m, tcp)
			return
		}
		resp.Id = req.Id
		write(w, req, resp, tcp)
	})
}

// chaseExternal appends the upstream's answer for the target of an out-of-zone CNAME that ends m's answers (an
// ExternalName Service asked for A or AAAA), as CoreDNS does; on failure m keeps the CNAME alone.
func chaseExternal(f *forwarder, req, m *mdns.Msg, tcp bool, log *slog.Logger) {
	if m.Rcode != mdns.RcodeSuccess || len(m.Answer) == 0 || len(req.Question) != 1 {
		return
	}
	qt := req.Question[0].Qtype
	cname, ok := m.Answer[len(m.Answer)-1].(*mdns.CNAME)
	if !ok || (qt != mdns.TypeA && qt != mdns.TypeAAAA) {
		return
	}
	sub := new(mdns.Msg)
	sub.SetQuestion(cname.Target, qt)
	resp, err := f.exchange(sub, tcp)
	if err != nil {
		log.Debug("dns: ExternalName target", "target", cname.Target, "err", err)
		return
	}
	m.Answer = append(m.Answer, resp.Answer...)
	m.Ns = nil
}

// write sends m, truncated to what the client can receive over UDP (512 bytes, or its EDNS0 buffer size).
func write(w mdns.ResponseWriter, req, m *mdns.Msg, tcp bool) {
	size := mdns.MaxMsgSize
	if opt := req.IsEdns0(); opt != nil {
		if m.IsEdns0() == nil {
			m.SetEdns0(max(opt.UDPSize(), mdns.MinMsgSize), false)
		}
		if !tcp {
			size = int(max(opt.UDPSize(), mdns.MinMsgSize))
		}
	} else if !tcp {
		size = mdns.MinMsgSize
	}
	m.Truncate(size)
	_ = w.WriteMsg(m)
}

// Serve answers with h on pc (UDP) and ln (TCP) until ctx ends or a listener fails; it closes both.
func Serve(ctx context.Context, pc net.PacketConn, ln net.Listener, h mdns.Handler) error {
	servers := []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ActivateAndServe() }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, s := range servers {
		_ = s.Shutdown()
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Run serves cluster DNS until ctx ends.
func Run(ctx context.Context, rc *rest.Config, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	z, err := cfg.zone()
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("dns: client: %w", err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informerutil.Options()...)
	src, err := NewSource(factory)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("dns: %v cache did not sync: %w", typ, ctx.Err())
		}
	}
	pc, err := net.ListenPacket("udp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("dns: %w", err)
	}
	cfg.Log.Info("dns: serving", "addr", cfg.Addr, "domain", cfg.Domain, "upstreams", cfg.Upstreams)
	if cfg.ServiceIP != "" {
		// Queries meanwhile wait in the bound sockets.
		if err := ensureService(ctx, cs, cfg); err != nil {
			cfg.Log.Error("dns: kube-dns Service", "err", err)
		}
	}
	if err := Serve(ctx, pc, ln, Handler(z, src, cfg.Upstreams, cfg.Log)); err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	return nil
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
