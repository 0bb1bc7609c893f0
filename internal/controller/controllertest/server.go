package controllertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ReadyTimeout bounds how long StartServer waits for /readyz.
const ReadyTimeout = 60 * time.Second

var (
	buildOnce sync.Once
	skiffBin  string
	built     bool
	buildErr  error
)

// Binary returns the skiff binary: $SKIFF_BIN if set (make test builds it), else ./cmd/skiff built once into a
// temporary directory that Main removes.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if b := os.Getenv("SKIFF_BIN"); b != "" {
			skiffBin, buildErr = filepath.Abs(b)
			return
		}
		dir, err := os.MkdirTemp("", "skiff-controllertest-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		skiffBin, built = filepath.Join(dir, "skiff"), true
		cmd := exec.Command("go", "build", "-o", skiffBin, "./cmd/skiff")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/skiff: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return skiffBin
}

// Main runs m's tests, removes the binary Binary built (if it built one) and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	if built {
		_ = os.RemoveAll(filepath.Dir(skiffBin))
	}
	os.Exit(code)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ServerOptions are the per-test choices of StartServer.
type ServerOptions struct {
	// Args are added to `skiff server --data-dir D --port P --disable-agent --log-level warn`.
	Args []string
	// QPS and Burst, if not zero, override client-go's client-side rate limit of Client.
	QPS   float32
	Burst int
}

// Server is a running `skiff server` and an admin client of it.
type Server struct {
	Client     kubernetes.Interface
	Kubeconfig string
	// CacheDir and Home keep kubectl's discovery cache and home directory apart from the user's.
	CacheDir, Home string
}

// StartServer runs `skiff server` until the test ends (SIGTERM, then a kill after 20 s) and waits for /readyz; the
// server's output is logged if the test failed.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	data := t.TempDir()
	var logBuf syncBuffer
	cmd := exec.Command(Binary(t), append([]string{"server", "--data-dir", data, "--port", strconv.Itoa(FreePort(t)),
		"--disable-agent", "--log-level", "warn"}, opts.Args...)...)
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("skiff server log:\n%s", logBuf.String())
		}
	})
	s := &Server{Kubeconfig: filepath.Join(data, "admin.kubeconfig"), CacheDir: t.TempDir(), Home: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-exited:
			return false, fmt.Errorf("skiff server exited: %v\n%s", err, logBuf.String())
		default:
		}
		if s.Client == nil {
			rc, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
			if err != nil {
				return false, nil // not written yet
			}
			if opts.QPS != 0 {
				rc.QPS, rc.Burst = opts.QPS, opts.Burst
			}
			if s.Client, err = kubernetes.NewForConfig(rc); err != nil {
				return false, err
			}
		}
		body, err := s.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
	if err != nil {
		t.Fatalf("server not ready: %v", err)
	}
	return s
}

// Kubectl runs the real kubectl against s until ctx ends and returns its combined output.
func (s *Server) Kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--cache-dir", s.CacheDir}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig, "HOME="+s.Home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
