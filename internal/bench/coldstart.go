package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
)

// ColdStartConfig sets up the coldstart scenario, which runs `skiff server` itself.
type ColdStartConfig struct {
	// Binary is the skiff binary; required.
	Binary string
	// Runs is how many starts with a fresh data directory to time; default 10.
	Runs int
	// RestartRuns is how many restarts on an existing data directory to time; default 10.
	RestartRuns int
	// Idle is how long the server runs idle before its RSS is read; default 30s (0 keeps
	// the default, negative skips the idle measurement).
	Idle time.Duration
	// Timeout bounds one start; default 60s.
	Timeout time.Duration
	// Dir holds the data directories; default a temporary directory, removed afterwards.
	Dir string
	// ExtraArgs are passed to `skiff server`.
	ExtraArgs []string
	// FirstPodRuns, when > 0, times process start → a first pod Running on the server's own node, once on a fresh
	// data directory and then on restarts of it (see firstPods); the server must run its agent.
	FirstPodRuns int
	// ImagesDir holds the node's image tarballs (`make images` puts them in DATA/images), copied into the first-pod
	// data directory's air-gap directory before its first start.
	ImagesDir string
	// Image is the first pod's image; default skiff.local/testapp:dev.
	Image string
	Clock clock.Clock
}

func (c *ColdStartConfig) validate() error {
	if c.Binary == "" {
		return errors.New("bench: coldstart needs the skiff binary (--server-bin)")
	}
	if c.Runs <= 0 {
		c.Runs = 10
	}
	if c.RestartRuns < 0 {
		c.RestartRuns = 0
	} else if c.RestartRuns == 0 {
		c.RestartRuns = 10
	}
	if c.Idle == 0 {
		c.Idle = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Minute
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Image == "" {
		c.Image = "skiff.local/testapp:dev"
	}
	return nil
}

// RunColdStart times process start → first 200 on /readyz for Runs fresh starts and
// RestartRuns restarts, process start → a first pod Running for FirstPodRuns starts, then
// reads the RSS of a server left idle for Idle.
func RunColdStart(ctx context.Context, cfg ColdStartConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	clk := cfg.Clock
	start := clk.Now()
	res := &Result{Scenario: "coldstart", OK: true, Started: start.UTC(), Machine: ReadMachine()}
	rec := NewRecorder(clk, start)
	res.Param("binary", cfg.Binary)
	res.Param("runs", cfg.Runs)
	res.Param("restart_runs", cfg.RestartRuns)
	res.Param("idle", cfg.Idle)
	res.Param("first_pod_runs", cfg.FirstPodRuns)
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "skiff-coldstart-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fail := func(err error) (*Result, error) {
		res.Fail(err)
		res.Ops = rec.Ops()
		res.Seconds = round3(clk.Since(start).Seconds())
		return res, nil
	}
	for i := range cfg.Runs {
		srv, err := startServer(ctx, cfg, filepath.Join(dir, fmt.Sprintf("fresh-%02d", i)))
		if err != nil {
			return fail(err)
		}
		rec.Add("readyz-fresh", 0, srv.ready, nil)
		if res.Server.Version == "" {
			res.Server.URL, res.Server.Version = srv.url, srv.version()
		}
		if err := srv.stop(); err != nil {
			res.Note("fresh run %d: %v", i, err)
		}
	}
	restartDir := filepath.Join(dir, "fresh-00")
	for i := range cfg.RestartRuns {
		srv, err := startServer(ctx, cfg, restartDir)
		if err != nil {
			return fail(err)
		}
		rec.Add("readyz-restart", 0, srv.ready, nil)
		if err := srv.stop(); err != nil {
			res.Note("restart run %d: %v", i, err)
		}
	}
	if cfg.FirstPodRuns > 0 {
		res.Param("image", cfg.Image)
		if err := firstPods(ctx, cfg, filepath.Join(dir, "first-pod"), rec); err != nil {
			return fail(err)
		}
	}
	if cfg.Idle > 0 {
		srv, err := startServer(ctx, cfg, filepath.Join(dir, "idle"))
		if err != nil {
			return fail(err)
		}
		select {
		case <-ctx.Done():
		case <-clk.After(cfg.Idle):
		}
		mem, merr := ReadMemory(srv.cmd.Process.Pid)
		res.Server.PID, res.Server.PIDSource = srv.cmd.Process.Pid, "started"
		if serr := srv.stop(); serr != nil {
			res.Note("idle run: %v", serr)
		}
		if merr != nil {
			return fail(merr)
		}
		res.Server.PeakRSSBytes, res.Server.VmHWMBytes = mem.RSS, mem.HWM
		res.Metric("idle_rss", float64(mem.RSS)/(1<<20), "MiB", "lower")
		res.Metric("idle_vm_hwm", float64(mem.HWM)/(1<<20), "MiB", "lower")
		res.Note("idle_rss is VmRSS of a fresh server %s after it became ready, with no clients", cfg.Idle)
	}
	if err := ctx.Err(); err != nil {
		res.Fail(err)
	}
	res.Ops = rec.Ops()
	res.Seconds = round3(clk.Since(start).Seconds())
	return res, nil
}

// startedServer is a `skiff server` process this package started.
type startedServer struct {
	cmd     *exec.Cmd
	url     string
	started time.Time     // process start
	ready   time.Duration // process start → first 200 on /readyz
	client  *http.Client
	stderr  *tailBuffer
	done    chan error
	clk     clock.Clock
}

// startServer runs the binary on a free port with data directory dir and waits for /readyz.
func startServer(ctx context.Context, cfg ColdStartConfig, dir string) (*startedServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--data-dir", dir, "--port", strconv.Itoa(port), "--bind-address", "127.0.0.1", "--log-level", "warn"}, cfg.ExtraArgs...)
	s := &startedServer{
		cmd:    exec.Command(cfg.Binary, args...),
		url:    "https://127.0.0.1:" + strconv.Itoa(port),
		stderr: &tailBuffer{max: 8 << 10},
		done:   make(chan error, 1),
		clk:    cfg.Clock,
		client: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the server's CA is created on its first start
		}},
	}
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	clk := cfg.Clock
	t0 := clk.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	s.started = t0
	go func() { s.done <- s.cmd.Wait() }()
	deadline := clk.After(cfg.Timeout)
	for {
		resp, err := s.client.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = clk.Since(t0)
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server exited before ready (%v): %s", err, s.stderr.String())
		case <-deadline:
			_ = s.stop()
			return nil, fmt.Errorf("server not ready within %s: %s", cfg.Timeout, s.stderr.String())
		case <-ctx.Done():
			_ = s.stop()
			return nil, ctx.Err()
		case <-clk.After(2 * time.Millisecond):
		}
	}
}

// version reads gitVersion from /version (anonymous).
func (s *startedServer) version() string {
	resp, err := s.client.Get(s.url + "/version")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return v.GitVersion
}

// stop sends SIGTERM and waits up to 30s, then kills.
func (s *startedServer) stop() error {
	s.client.CloseIdleConnections()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return err
		}
		return nil
	case <-s.clk.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("server did not stop within 30s of SIGTERM; killed")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex // guards b
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
