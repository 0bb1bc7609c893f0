package kubelet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// listen opens the kubelet API's port (Config.Port; -1 picks a free one) and records the port in use.
func (k *Kubelet) listen() (net.Listener, error) {
	port := k.cfg.Port
	if port < 0 {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil && port == defaultPort && errors.Is(err, syscall.EADDRINUSE) {
		// Another node (or cluster) on this machine has the default port: any port will do, the Node reports it.
		k.log.Warn("kubelet port in use; using a free one", "port", port)
		ln, err = net.Listen("tcp", ":0")
	}
	if err != nil {
		return nil, fmt.Errorf("kubelet: listen on :%d (--kubelet-port): %w", k.cfg.Port, err)
	}
	k.cfg.Port = ln.Addr().(*net.TCPAddr).Port
	return ln, nil
}

// serve runs the kubelet API on HTTPS on ln until ctx ends. Clients must present a certificate signed by the
// cluster CA.
func (k *Kubelet) serve(ctx context.Context, ln net.Listener) error {
	cert, err := selfSignedCert(k.cfg.NodeName, k.cfg.Address)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/containerLogs/", k.serveLogs)
	mux.HandleFunc("/exec/", k.serveStream("exec"))
	mux.HandleFunc("/attach/", k.serveStream("attach"))
	mux.HandleFunc("/portForward/", k.serveStream("portForward"))
	mux.HandleFunc("/pods", k.servePods)
	// As the kubelet's /logs/: the node's /var/log, files and directory listings.
	mux.Handle("/logs/", http.StripPrefix("/logs/", http.FileServer(http.Dir("/var/log/"))))
	mux.HandleFunc("/stats/skiff", k.serveStats)
	k.metrics.handlers(mux) // /metrics, /metrics/resource
	srv := &http.Server{
		Handler: mux,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    k.cfg.ClientCA,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		},
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func selfSignedCert(name, ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name + "@kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{name, "localhost"},
	}
	if p := net.ParseIP(ip); p != nil {
		tmpl.IPAddresses = []net.IP{p, net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), code)
}

// lookupPod finds a pod this kubelet runs by namespace and name.
func (k *Kubelet) lookupPod(ns, name string) (types.UID, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	uid, ok := k.byName[ns+"/"+name]
	return uid, ok
}

// findContainer returns the newest (or with previous, the one before) container of the pod named container; an
// empty name picks the pod's only or first container.
func (k *Kubelet) findContainer(ctx context.Context, uid types.UID, container string, previous bool) (*observedContainer, error) {
	obs, err := k.cri.observe(ctx, uid)
	if err != nil {
		return nil, err
	}
	if container == "" {
		names := containerNames(&obs)
		if len(names) == 0 {
			return nil, fmt.Errorf("pod has no containers yet")
		}
		container = names[0]
	}
	h := obs.history(container)
	if previous {
		if len(h) < 2 {
			return nil, fmt.Errorf("previous terminated container %q in pod not found", container)
		}
		return h[1], nil
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("container %q in pod is waiting to start: ContainerCreating", container)
	}
	return h[0], nil
}

// splitPath returns the parts after the first segment: /containerLogs/ns/pod/container.
func splitPath(p string) []string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) > 0 {
		parts = parts[1:]
	}
	return parts
}

func (k *Kubelet) serveLogs(w http.ResponseWriter, r *http.Request) {
	parts := splitPath(r.URL.Path)
	if len(parts) < 3 {
		httpError(w, http.StatusBadRequest, "path must be /containerLogs/{namespace}/{pod}/{container}")
		return
	}
	uid, ok := k.lookupPod(parts[0], parts[1])
	if !ok {
		httpError(w, http.StatusNotFound, "pod %s/%s not found on this node", parts[0], parts[1])
		return
	}
	o := parseLogOptions(r, k.clock.Now())
	c, err := k.findContainer(r.Context(), uid, parts[2], o.previous)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if c.LogPath == "" {
		httpError(w, http.StatusNotFound, "container %q has no log", c.Name)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
		flush()
	}
	id := c.ID
	running := func() bool { return !o.previous && k.containerRunning(r.Context(), id) }
	if err := serveLogFile(r.Context(), w, flush, c.LogPath, o, running); err != nil {
		k.log.Debug("serve logs", "err", err)
	}
}

func boolParam(q url.Values, names ...string) bool {
	for _, n := range names {
		if v := q.Get(n); v == "1" || v == "true" {
			return true
		}
	}
	return false
}

// serveStream handles exec, attach and portForward: it asks the CRI for a streaming URL and proxies the (upgraded)
// connection to the runtime's streaming server.
func (k *Kubelet) serveStream(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		parts := splitPath(r.URL.Path)
		if len(parts) < 2 {
			httpError(w, http.StatusBadRequest, "path must be /%s/{namespace}/{pod}[/{container}]", kind)
			return
		}
		uid, ok := k.lookupPod(parts[0], parts[1])
		if !ok {
			httpError(w, http.StatusNotFound, "pod %s/%s not found on this node", parts[0], parts[1])
			return
		}
		q := r.URL.Query()
		ctx := r.Context()
		var target string
		switch kind {
		case "exec", "attach":
			container := ""
			if len(parts) >= 3 {
				container = parts[len(parts)-1]
			}
			c, err := k.findContainer(ctx, uid, container, false)
			if err != nil {
				httpError(w, http.StatusBadRequest, "%v", err)
				return
			}
			if c.State != stateRunning {
				httpError(w, http.StatusBadRequest, "container %s is not running", c.Name)
				return
			}
			stdin, stdout, stderr, tty := boolParam(q, "input", "stdin"), boolParam(q, "output", "stdout"), boolParam(q, "error", "stderr"), boolParam(q, "tty")
			if kind == "exec" {
				resp, err := k.cri.rt.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: c.ID, Cmd: q["command"], Tty: tty, Stdin: stdin, Stdout: stdout, Stderr: stderr && !tty})
				if err != nil {
					httpError(w, http.StatusInternalServerError, "exec: %s", trimErr(err))
					return
				}
				target = resp.Url
			} else {
				resp, err := k.cri.rt.Attach(ctx, &runtimeapi.AttachRequest{ContainerId: c.ID, Tty: tty, Stdin: stdin, Stdout: stdout, Stderr: stderr && !tty})
				if err != nil {
					httpError(w, http.StatusInternalServerError, "attach: %s", trimErr(err))
					return
				}
				target = resp.Url
			}
		case "portForward":
			obs, err := k.cri.observe(ctx, uid)
			if err != nil || obs.sandbox() == nil || !obs.sandbox().Ready {
				httpError(w, http.StatusBadRequest, "pod sandbox is not ready")
				return
			}
			var ports []int32
			for _, p := range q["port"] {
				if n, err := strconv.Atoi(p); err == nil {
					ports = append(ports, int32(n))
				}
			}
			resp, err := k.cri.rt.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: obs.sandbox().ID, Port: ports})
			if err != nil {
				httpError(w, http.StatusInternalServerError, "port-forward: %s", trimErr(err))
				return
			}
			target = resp.Url
		}
		u, err := url.Parse(target)
		if err != nil {
			httpError(w, http.StatusInternalServerError, "bad streaming URL %q", target)
			return
		}
		proxyTo(w, r, u)
	}
}

// proxyTo reverse-proxies r (including an Upgrade) to u exactly.
func proxyTo(w http.ResponseWriter, r *http.Request, u *url.URL) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawQuery: u.RawQuery}
			pr.Out.Host = u.Host
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			httpError(w, http.StatusBadGateway, "streaming proxy: %v", err)
		},
	}
	rp.ServeHTTP(w, r)
}

// servePods answers the kubelet's /pods: a v1 PodList of the pods bound to this node.
func (k *Kubelet) servePods(w http.ResponseWriter, r *http.Request) {
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{}}
	if k.podLister != nil {
		pods, err := k.podLister.List(labels.Everything())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sort.Slice(pods, func(i, j int) bool {
			return pods[i].Namespace+"/"+pods[i].Name < pods[j].Namespace+"/"+pods[j].Name
		})
		for _, p := range pods {
			list.Items = append(list.Items, *p)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// housekeeping removes leaked pod cgroups and forgets old finished pods, every 30 s.
func (k *Kubelet) housekeeping(ctx context.Context) {
	t := k.clock.NewTicker(30 * time.Second)
	defer t.Stop()
	k.cleanupCgroups()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			k.cleanupCgroups()
			k.mu.Lock()
			for uid, at := range k.finished {
				if k.clock.Since(at) > 10*time.Minute {
					delete(k.finished, uid)
				}
			}
			k.mu.Unlock()
		}
	}
}

func (k *Kubelet) cleanupCgroups() {
	for uid := range leakedPodCgroups(k.cfg.CgroupRoot) {
		k.mu.Lock()
		_, live := k.workers[types.UID(uid)]
		k.mu.Unlock()
		if !live {
			removePodCgroups(k.cfg.CgroupRoot, uid)
		}
	}
}
