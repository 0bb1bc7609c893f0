// Package e2e runs the real kubectl (and client-go) against a real `skiff server` child process.
//
// The binary comes from $SKIFF_BIN (hack/test.sh sets it to bin/skiff); when that is unset the
// package builds ./cmd/skiff once per test process. Every cluster runs on its own data dir and port,
// so tests may run side by side.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// readyTimeout bounds how long a server may take to answer /readyz after it starts.
	readyTimeout = 90 * time.Second
	// stopTimeout is how long a server gets to exit after SIGTERM before it is killed.
	stopTimeout = 20 * time.Second
	// kubectlTimeout bounds one kubectl invocation.
	kubectlTimeout = 60 * time.Second
)

// cluster is one running `skiff server` child process.
type cluster struct {
	// DataDir is the --data-dir of the server (a t.TempDir of the test that started it).
	DataDir string
	// Port is the HTTPS port; it stays the same across restart.
	Port int
	// Kubeconfig is DataDir/admin.kubeconfig, written by the server.
	Kubeconfig string
	// PID is the process id of the current server process (it changes on restart).
	PID int
	// LogFile collects the server's stdout and stderr over all its runs.
	LogFile string

	bin      string
	args     []string
	cacheDir string

	mu      sync.Mutex // guards proc
	proc    *serverProc
	stopped bool
}

// serverProc is one run of the server process.
type serverProc struct {
	cmd   *exec.Cmd
	done  chan struct{} // closed once the process has exited and state is set
	state *os.ProcessState
	err   error
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// skiffBinary returns $SKIFF_BIN, or builds ./cmd/skiff once per test process.
func skiffBinary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("SKIFF_BIN"); b != "" {
		if !filepath.IsAbs(b) {
			// Relative to the module root, so SKIFF_BIN=bin/skiff works from any directory.
			root, err := moduleRoot()
			if err != nil {
				t.Fatalf("SKIFF_BIN: %v", err)
			}
			b = filepath.Join(root, b)
		}
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("SKIFF_BIN: %v", err)
		}
		return b
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "skiff-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(buildDir, "skiff")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/skiff")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/skiff: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the module")
	}
	return filepath.Dir(gomod), nil
}

// freePort asks the kernel for a free TCP port on loopback.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts `skiff server` on a fresh data dir and free port, waits until /readyz answers 200 and
// registers a cleanup that stops it (SIGTERM, SIGKILL after 20 s) and fails the test if it exited badly.
// extraArgs are appended to the server's command line.
// testEvictionHard keeps the kubelet's memory threshold and turns the disk ones off.
const testEvictionHard = "memory.available<100Mi,nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%,imagefs.inodesFree<0%"

func startServer(t *testing.T, extraArgs ...string) *cluster {
	t.Helper()
	c := &cluster{
		bin:      skiffBinary(t),
		DataDir:  t.TempDir(),
		cacheDir: filepath.Join(t.TempDir(), "kube-cache"),
		args:     extraArgs,
	}
	c.LogFile = filepath.Join(t.TempDir(), "skiff.log")
	c.Kubeconfig = filepath.Join(c.DataDir, "admin.kubeconfig")
	// Registered after the TempDirs, so it runs before they are removed.
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			t.Logf("server log (%s), last lines:\n%s", c.LogFile, c.logTail(80))
		}
	})
	for attempt := 1; ; attempt++ {
		c.Port = freePort(t)
		err := c.start(t)
		if err == nil {
			return c
		}
		// Another process may have taken the port between freePort and the server's listen.
		if attempt < 3 && strings.Contains(c.logTail(20), "address already in use") {
			t.Logf("port %d was taken, retrying: %v", c.Port, err)
			continue
		}
		t.Fatalf("skiff server did not become ready: %v\nserver log:\n%s", err, c.logTail(80))
	}
}

// start launches the server process on c.DataDir and c.Port and waits for /readyz.
func (c *cluster) start(t *testing.T) error {
	t.Helper()
	logf, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"server", "--data-dir", c.DataDir, "--port", strconv.Itoa(c.Port)}, c.args...)
	if !wantsAgent(c.args) {
		// API-only tests do not start a kubelet and containerd (see kubelet_test.go for the tests that do).
		args = append(args, "--disable-agent")
	} else if !slices.ContainsFunc(c.args, func(a string) bool { return strings.HasPrefix(a, "--eviction-hard") }) {
		// As kind and minikube: the disk of a test machine may be nearly full, and DiskPressure would taint the
		// only node and leave every scheduled pod Pending.
		args = append(args, "--eviction-hard", testEvictionHard)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	p := &serverProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.state = cmd.ProcessState
		logf.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.proc, c.PID, c.stopped = p, cmd.Process.Pid, false
	c.mu.Unlock()
	began := time.Now()
	if err := c.waitReady(p); err != nil {
		// Do not leave a half-started server behind.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		c.mu.Lock()
		c.stopped = true
		c.mu.Unlock()
		return err
	}
	t.Logf("skiff server pid %d on port %d: ready after %v", c.PID, c.Port, time.Since(began).Round(time.Millisecond))
	return nil
}

// waitReady polls GET /readyz with the admin credentials until it answers 200.
func (c *cluster) waitReady(p *serverProc) error {
	deadline := time.Now().Add(readyTimeout)
	var client *http.Client
	var last string
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		select {
		case <-p.done:
			return fmt.Errorf("server exited before it was ready: %v", p.err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v (last: %s)", readyTimeout, last)
		}
		if client == nil {
			if cl, err := c.httpClient(); err == nil {
				client = cl
			} else {
				last = err.Error()
			}
		}
		if client != nil {
			code, body, err := getURL(client, fmt.Sprintf("https://127.0.0.1:%d/readyz", c.Port))
			switch {
			case err != nil:
				last = err.Error()
			case code == http.StatusOK:
				return nil
			default:
				last = fmt.Sprintf("%d %s", code, strings.TrimSpace(body))
			}
		}
		time.Sleep(delay)
	}
}

func getURL(client *http.Client, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), nil
}

// RESTConfig returns the admin client configuration of the cluster.
func (c *cluster) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
}

// httpClient is an HTTP client that trusts the cluster CA and presents the admin certificate.
func (c *cluster) httpClient() (*http.Client, error) {
	rc, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	return rest.HTTPClientFor(rc)
}

// stop sends SIGTERM, waits for the exit (SIGKILL after stopTimeout) and reports a bad exit as a test error.
// It does nothing when the server is not running.
func (c *cluster) stop(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	p, stopped := c.proc, c.stopped
	c.stopped = true
	c.mu.Unlock()
	if p == nil || stopped {
		return
	}
	select {
	case <-p.done:
		t.Errorf("skiff server (pid %d) exited on its own before the test stopped it: %v", p.cmd.Process.Pid, p.err)
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	began := time.Now()
	defer func() {
		t.Logf("skiff server pid %d: stopped after %v", p.cmd.Process.Pid, time.Since(began).Round(time.Millisecond))
	}()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("skiff server (pid %d) did not exit within %v of SIGTERM; killed", p.cmd.Process.Pid, stopTimeout)
		return
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return // ended by our signal
	}
	if code := p.state.ExitCode(); code != 0 {
		t.Errorf("skiff server (pid %d) exited with status %d after SIGTERM: %v", p.cmd.Process.Pid, code, p.err)
	}
}

// Stop stops the server gracefully (as the cleanup does); start it again with Start.
func (c *cluster) Stop(t *testing.T) { t.Helper(); c.stop(t) }

// Kill SIGKILLs the server's process group without a graceful shutdown (for crash tests) and waits for it.
func (c *cluster) Kill(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	p, stopped := c.proc, c.stopped
	c.stopped = true
	c.mu.Unlock()
	if p == nil || stopped {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Start starts a stopped (or killed) server again on the same data dir and port and waits until it is ready.
func (c *cluster) Start(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	running := !c.stopped
	c.mu.Unlock()
	if running {
		t.Fatalf("Start: server pid %d is still running", c.PID)
	}
	if err := c.start(t); err != nil {
		t.Fatalf("skiff server did not become ready again: %v\nserver log:\n%s", err, c.logTail(80))
	}
}

// restart stops the server with SIGTERM and starts it again on the same data dir and port.
func (c *cluster) restart(t *testing.T) {
	t.Helper()
	c.stop(t)
	c.Start(t)
}

// Exited is closed when the current server process has exited.
func (c *cluster) Exited() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc.done
}

// Logs returns everything the server has written so far.
func (c *cluster) Logs() string {
	b, _ := os.ReadFile(c.LogFile)
	return string(b)
}

func (c *cluster) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(c.Logs(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kubectlOpts are the less common settings of one kubectl run.
type kubectlOpts struct {
	stdin   string
	env     []string // extra KEY=VALUE entries
	timeout time.Duration
	// kubeconfig overrides the admin kubeconfig.
	kubeconfig string
}

// kubectl runs the real kubectl against the cluster and returns its output and exit code.
func (c *cluster) kubectl(t *testing.T, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return c.kubectlWith(t, kubectlOpts{}, args...)
}

// stdin runs kubectl with in as its standard input (for -f -).
func (c *cluster) stdin(t *testing.T, in string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return c.kubectlWith(t, kubectlOpts{stdin: in}, args...)
}

// mustKubectl runs kubectl and fails the test unless it exits 0; it returns stdout.
func (c *cluster) mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := c.kubectl(t, args...)
	if code != 0 {
		t.Fatalf("kubectl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// mustStdin is mustKubectl with standard input.
func (c *cluster) mustStdin(t *testing.T, in string, args ...string) string {
	t.Helper()
	out, errOut, code := c.stdin(t, in, args...)
	if code != 0 {
		t.Fatalf("kubectl %s (stdin): exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c *cluster) kubectlCmd(ctx context.Context, o kubectlOpts, args ...string) *exec.Cmd {
	kc := c.Kubeconfig
	if o.kubeconfig != "" {
		kc = o.kubeconfig
	}
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--cache-dir=" + c.cacheDir}, args...)...)
	env := []string{"KUBECONFIG=" + kc}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KUBECONFIG=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, o.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// kubectlWith runs kubectl with options.
func (c *cluster) kubectlWith(t *testing.T, o kubectlOpts, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = kubectlTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := c.kubectlCmd(ctx, o, args...)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	if o.stdin != "" {
		cmd.Stdin = strings.NewReader(o.stdin)
	}
	err := cmd.Run()
	stdout, stderr = outBuf.String(), errBuf.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Errorf("kubectl %s: timed out after %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), o.timeout, stdout, stderr)
		exitCode = -1
	case errors.As(err, &ee):
		exitCode = ee.ExitCode()
	default:
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("kubectl %s -> exit %d%s", strings.Join(args, " "), exitCode, indentStderr(stderr))
	return stdout, stderr, exitCode
}

func indentStderr(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return "\n\tstderr: " + strings.ReplaceAll(s, "\n", "\n\t")
}

// bgKubectl is a kubectl process running in the background (for -w), read line by line.
type bgKubectl struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan string
	stderr *syncBuffer
	done   chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
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

// startKubectl starts kubectl in the background; its stdout lines arrive on Lines. It is killed at cleanup
// or by stop.
func (c *cluster) startKubectl(t *testing.T, args ...string) *bgKubectl {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	cmd := c.kubectlCmd(ctx, kubectlOpts{}, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	b := &bgKubectl{cmd: cmd, cancel: cancel, lines: make(chan string, 100), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		close(b.lines)
		_ = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.stop)
	return b
}

// stop kills the background kubectl (our own child, by its pid) and waits for it.
func (b *bgKubectl) stop() {
	b.cancel()
	<-b.done
}

// waitLine returns the next stdout line for which match is true, failing the test after timeout.
func (b *bgKubectl) waitLine(t *testing.T, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				t.Fatalf("kubectl %s ended before %s; lines: %q\nstderr: %s", strings.Join(b.cmd.Args[1:], " "), what, seen, b.stderr.String())
			}
			seen = append(seen, l)
			if match(l) {
				return l
			}
		case <-timer.C:
			t.Fatalf("kubectl %s: no %s within %v; lines: %q\nstderr: %s", strings.Join(b.cmd.Args[1:], " "), what, timeout, seen, b.stderr.String())
		}
	}
}

// eventually polls cond until it returns true or timeout passes; msg describes the last state on failure.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, state)
		}
		time.Sleep(delay)
		delay = min(delay*2, 500*time.Millisecond)
	}
}
