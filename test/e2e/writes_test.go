package e2e

// Helpers shared by the storage-durability tests (crash_test.go, etcd_external_test.go, clientgo_test.go):
// client-go clients with a request log, and a record of acknowledged writes to check after a failure.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/storage/embedded"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// wireReq is one request a client sent, as the transport saw it.
type wireReq struct {
	Method, Path string
	Query        url.Values
	ContentType  string
	Status       int // 0 when the round trip failed
	// Expired is set when the response (a watch stream included) carried a 410 Status.
	Expired bool
}

// wireLog records the requests of every client built from a rest.Config it wrapped.
type wireLog struct {
	mu      sync.Mutex
	reqs    []*wireReq
	watches []*sniffBody // open watch responses
}

// cutWatches ends every open watch stream as if the server had closed it cleanly (EOF): a reflector then
// re-watches from its last resourceVersion without relisting. Call it only while no events are flowing.
func (l *wireLog) cutWatches() int {
	l.mu.Lock()
	ws := l.watches
	l.watches = nil
	l.mu.Unlock()
	for _, w := range ws {
		w.cut.Store(true)
		_ = w.ReadCloser.Close()
	}
	return len(ws)
}

// wrap makes rc's clients record their requests in l.
func (l *wireLog) wrap(rc *rest.Config) {
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &wireRT{log: l, next: rt} })
}

// requests returns a copy of the requests that match.
func (l *wireLog) requests(match func(*wireReq) bool) []wireReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []wireReq
	for _, r := range l.reqs {
		if match(r) {
			out = append(out, *r)
		}
	}
	return out
}

type wireRT struct {
	log  *wireLog
	next http.RoundTripper
}

func (rt *wireRT) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := &wireReq{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type")}
	rt.log.mu.Lock()
	rt.log.reqs = append(rt.log.reqs, rec)
	rt.log.mu.Unlock()
	resp, err := rt.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	rt.log.mu.Lock()
	rec.Status = resp.StatusCode
	if resp.StatusCode == http.StatusGone {
		rec.Expired = true
	}
	rt.log.mu.Unlock()
	if rec.Query.Get("watch") == "true" || rec.Query.Get("watch") == "1" {
		sb := &sniffBody{ReadCloser: resp.Body, onMatch: func() {
			rt.log.mu.Lock()
			rec.Expired = true
			rt.log.mu.Unlock()
		}}
		rt.log.mu.Lock()
		rt.log.watches = append(rt.log.watches, sb)
		rt.log.mu.Unlock()
		resp.Body = sb
	}
	return resp, nil
}

// sniffBody watches a (watch) response stream for an ERROR event with code 410, and can be cut.
type sniffBody struct {
	io.ReadCloser
	cut     atomic.Bool
	tail    []byte
	matched bool
	onMatch func()
}

// expiredMsg is in the message of the 410 Expired Status, whether the stream is JSON or protobuf.
var expiredMsg = []byte("too old resource version")

func (s *sniffBody) Read(p []byte) (int, error) {
	if s.cut.Load() {
		return 0, io.EOF
	}
	n, err := s.ReadCloser.Read(p)
	if s.cut.Load() {
		return 0, io.EOF
	}
	if n > 0 && !s.matched {
		buf := append(s.tail, p[:n]...)
		if bytes.Contains(buf, expiredMsg) {
			s.matched = true
			s.onMatch()
		}
		if len(buf) > len(expiredMsg) {
			buf = buf[len(buf)-len(expiredMsg):]
		}
		s.tail = append(s.tail[:0], buf...)
	}
	return n, err
}

// clientFor returns an admin clientset of c (typed: protobuf request bodies), without client-side rate limits.
func clientFor(t *testing.T, c *cluster, log *wireLog) *kubernetes.Clientset {
	t.Helper()
	rc, err := c.RESTConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	rc.QPS, rc.Burst = 10000, 10000
	rc.Timeout = 30 * time.Second
	if log != nil {
		log.wrap(rc)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func createNamespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// startTestEtcd runs an etcd member in the test process, as an external etcd for `skiff server --etcd-endpoints`.
func startTestEtcd(t *testing.T) *embedded.Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// ackLog records what each ConfigMap should hold: the last value a write of it was acknowledged with, and the
// value of a write that failed after that (which may or may not have happened).
type ackLog struct {
	mu   sync.Mutex
	objs map[string]*ackObj
}

type ackObj struct {
	acked     bool
	value     string // the acknowledged data["v"]
	uid, rv   string // from the acknowledged response
	attempted []string
	lastErr   error
}

func newAckLog() *ackLog { return &ackLog{objs: map[string]*ackObj{}} }

func (l *ackLog) get(name string) *ackObj {
	o := l.objs[name]
	if o == nil {
		o = &ackObj{}
		l.objs[name] = o
	}
	return o
}

// ok records an acknowledged write of value with the server's response.
func (l *ackLog) ok(name, value string, resp *corev1.ConfigMap) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.get(name)
	o.acked, o.value, o.uid, o.rv, o.attempted = true, value, string(resp.UID), resp.ResourceVersion, nil
}

// failed records a write of value that returned err to the client.
func (l *ackLog) failed(name, value string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.get(name)
	o.attempted = append(o.attempted, value)
	o.lastErr = err
}

func (l *ackLog) counts() (acked, failedObjs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.objs {
		if o.acked {
			acked++
		}
		if len(o.attempted) > 0 {
			failedObjs++
		}
	}
	return
}

// verify lists the namespace (a consistent read from etcd) and checks every acknowledged write is there with its
// content; exactRV also requires the acknowledged uid and resourceVersion to be unchanged (no later writes).
// Objects whose only writes failed may be absent or hold an attempted value; nothing else may exist.
func (l *ackLog) verify(t *testing.T, cs kubernetes.Interface, ns, prefix string, exactRV bool) (present int) {
	t.Helper()
	var items []corev1.ConfigMap
	eventually(t, 30*time.Second, "a consistent list of "+ns, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		items = list.Items
		return true, ""
	})
	got := map[string]corev1.ConfigMap{}
	for _, cm := range items {
		if strings.HasPrefix(cm.Name, prefix) {
			got[cm.Name] = cm
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.objs))
	for n := range l.objs {
		names = append(names, n)
	}
	sort.Strings(names)
	var lost []string
	for _, name := range names {
		o := l.objs[name]
		cm, exists := got[name]
		delete(got, name)
		if !exists {
			if o.acked {
				lost = append(lost, name)
			}
			continue
		}
		present++
		v := cm.Data["v"]
		allowed := append([]string{}, o.attempted...)
		if o.acked {
			allowed = append(allowed, o.value)
		}
		if !contains(allowed, v) {
			t.Errorf("%s holds v=%q; acknowledged %q (acked=%v), failed attempts %q", name, v, o.value, o.acked, o.attempted)
		}
		if o.acked && exactRV && len(o.attempted) == 0 && (string(cm.UID) != o.uid || cm.ResourceVersion != o.rv) {
			t.Errorf("%s: uid/resourceVersion %s/%s, acknowledged %s/%s", name, cm.UID, cm.ResourceVersion, o.uid, o.rv)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost)
	}
	for name := range got {
		t.Errorf("%s exists but was never written by the test", name)
	}
	return present
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describeErr classifies a failed write: the Status code and reason the server sent, or "transport".
func describeErr(err error) string {
	if se, ok := err.(apierrors.APIStatus); ok {
		return fmt.Sprintf("%d %s", se.Status().Code, se.Status().Reason)
	}
	return "transport"
}
