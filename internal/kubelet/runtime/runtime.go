// Package runtime starts and supervises the containerd that runs a node's pods, as k3s does: a child process with
// skiff's own configuration, root, state directory and socket under the data dir, so that it never conflicts with a
// system containerd. The kubelet talks to it only through the CRI socket (and `ctr` for image import).
//
// Caller's duties: call Check (or let Start call it) so that missing OS packages are reported by name; call Start
// once; the returned Containerd is stopped when ctx ends, and Wait returns after the child has exited.
package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sentinel errors.
var (
	// ErrMissing wraps the message naming the Debian packages to install.
	ErrMissing = errors.New("runtime: required programs are missing")
)

// Config says where containerd keeps its files and how the CRI is set up.
type Config struct {
	// Dir holds root/, state/, config.toml, containerd.sock and containerd.log (DATA/containerd).
	Dir string
	// SandboxImage is the pause image (containerd's sandbox_image).
	SandboxImage string
	// CNIBinDir is where the CNI plugins are (default /usr/lib/cni); CNIConfDir is written by the kubelet.
	CNIBinDir, CNIConfDir string
	// Log receives supervision messages; containerd's own output goes to Dir/containerd.log.
	Log *slog.Logger
}

// Requirement is one program the node needs and the Debian package that provides it.
type Requirement struct {
	Path    string // absolute path, or a name looked up in PATH
	Package string
}

// Requirements lists what a node needs from the OS.
func Requirements(cniBinDir string) []Requirement {
	if cniBinDir == "" {
		cniBinDir = "/usr/lib/cni"
	}
	return []Requirement{
		{"containerd", "containerd"},
		{"containerd-shim-runc-v2", "containerd"},
		{"ctr", "containerd"},
		{"runc", "runc"},
		{filepath.Join(cniBinDir, "bridge"), "containernetworking-plugins"},
		{filepath.Join(cniBinDir, "host-local"), "containernetworking-plugins"},
		{filepath.Join(cniBinDir, "portmap"), "containernetworking-plugins"},
		{filepath.Join(cniBinDir, "loopback"), "containernetworking-plugins"},
		{"nft", "nftables"},
		{"iptables", "iptables"},
	}
}

// Check returns an error naming the packages to install when a required program is missing.
func Check(cniBinDir string) error {
	var pkgs, progs []string
	seen := map[string]bool{}
	for _, r := range Requirements(cniBinDir) {
		var err error
		if filepath.IsAbs(r.Path) {
			_, err = os.Stat(r.Path)
		} else {
			_, err = exec.LookPath(r.Path)
		}
		if err != nil {
			progs = append(progs, r.Path)
			if !seen[r.Package] {
				seen[r.Package] = true
				pkgs = append(pkgs, r.Package)
			}
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s not found; install them with: apt-get install -y %s (or run `make deps`), or point skiff at an existing CRI socket with --container-runtime-endpoint",
		ErrMissing, strings.Join(progs, ", "), strings.Join(pkgs, " "))
}

// Containerd is a supervised containerd child process.
type Containerd struct {
	cfg    Config
	log    *slog.Logger
	Socket string

	mu  sync.Mutex // guards cmd
	cmd *exec.Cmd

	done chan struct{}
}

// ConfigTOML returns containerd's configuration for cfg (exported for tests and docs).
func ConfigTOML(cfg Config) string {
	d := cfg.Dir
	return fmt.Sprintf(`# Written by skiff; containerd run by skiff for its kubelet.
version = 2
root = %q
state = %q
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, filepath.Join(d, "root"), filepath.Join(d, "state"), SocketPath(d), SocketPath(d)+".ttrpc",
		filepath.Join(d, "opt"), cfg.SandboxImage, filepath.Join(d, "runc"), cfg.CNIBinDir, cfg.CNIConfDir)
}

// SocketPath is where the containerd in dir listens.
func SocketPath(dir string) string { return filepath.Join(dir, "containerd.sock") }

// Start checks the requirements, writes the configuration and starts containerd; it returns once the socket answers.
// The child is stopped (SIGTERM, then SIGKILL after 10 s) when ctx ends, and restarted with back-off if it dies.
func Start(ctx context.Context, cfg Config) (*Containerd, error) {
	if cfg.CNIBinDir == "" {
		cfg.CNIBinDir = "/usr/lib/cni"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := Check(cfg.CNIBinDir); err != nil {
		return nil, err
	}
	if len(SocketPath(cfg.Dir)) > 100 {
		return nil, fmt.Errorf("runtime: socket path %s is too long for a unix socket; use a shorter --data-dir", SocketPath(cfg.Dir))
	}
	for _, d := range []string{cfg.Dir, cfg.CNIConfDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
	}
	conf := filepath.Join(cfg.Dir, "config.toml")
	if err := os.WriteFile(conf, []byte(ConfigTOML(cfg)), 0o600); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	c := &Containerd{cfg: cfg, log: cfg.Log, Socket: SocketPath(cfg.Dir), done: make(chan struct{})}
	exited, err := c.spawn()
	if err != nil {
		return nil, err
	}
	if err := c.waitSocket(ctx, exited, 30*time.Second); err != nil {
		c.stop()
		<-exited
		return nil, err
	}
	go c.supervise(ctx, exited)
	return c, nil
}

func (c *Containerd) spawn() (<-chan error, error) {
	_ = os.Remove(c.Socket)
	logf, err := os.OpenFile(filepath.Join(c.cfg.Dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(c.cfg.Dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C on skiff's terminal must not kill containerd before skiff stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("runtime: starting containerd: %w", err)
	}
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		exited <- err
	}()
	c.log.Info("containerd started", "pid", cmd.Process.Pid, "socket", c.Socket, "log", logf.Name())
	return exited, nil
}

func (c *Containerd) waitSocket(ctx context.Context, exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if conn, err := net.DialTimeout("unix", c.Socket, time.Second); err == nil {
			conn.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("runtime: containerd exited during start (%v); see %s", err, filepath.Join(c.cfg.Dir, "containerd.log")+lastLines(filepath.Join(c.cfg.Dir, "containerd.log")))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("runtime: containerd socket %s did not answer within %s", c.Socket, limit)
		}
	}
}

func lastLines(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(b, nil))), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ":\n" + strings.Join(lines, "\n")
}

// supervise restarts containerd when it dies and stops it when ctx ends.
func (c *Containerd) supervise(ctx context.Context, exited <-chan error) {
	defer close(c.done)
	delay := time.Second
	for {
		select {
		case <-ctx.Done():
			c.stop()
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
			}
			return
		case err := <-exited:
			c.log.Error("containerd exited; restarting", "err", err, "in", delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if delay < 30*time.Second {
				delay *= 2
			}
			var serr error
			exited, serr = c.spawn()
			if serr != nil {
				c.log.Error("containerd restart failed", "err", serr)
				ch := make(chan error, 1)
				ch <- serr
				exited = ch
			}
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (c *Containerd) stop() {
	c.mu.Lock()
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	p := cmd.Process
	t := time.AfterFunc(10*time.Second, func() { _ = p.Kill() })
	go func() { <-c.done; t.Stop() }()
}

// Wait returns once the supervised containerd has stopped after ctx ended.
func (c *Containerd) Wait() { <-c.done }
