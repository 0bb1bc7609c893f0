package runtime

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigTOMLHasRequiredSettings(t *testing.T) {
	s := ConfigTOML(Config{Dir: "/d/containerd", SandboxImage: "skiff.local/pause:3.10", CNIBinDir: "/usr/lib/cni", CNIConfDir: "/d/cni"})
	for _, want := range []string{
		`restrict_oom_score_adj = true`, `SystemdCgroup = false`, `sandbox_image = "skiff.local/pause:3.10"`,
		`address = "/d/containerd/containerd.sock"`, `root = "/d/containerd/root"`, `bin_dir = "/usr/lib/cni"`, `conf_dir = "/d/cni"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %q", want)
		}
	}
}

func TestCheckNamesPackages(t *testing.T) {
	err := Check("/nonexistent-cni")
	if err == nil {
		t.Fatal("Check passed with a missing CNI dir")
	}
	if !strings.Contains(err.Error(), "containernetworking-plugins") || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("error does not name the package: %v", err)
	}
}

// TestStartContainerd starts a real containerd (root and the packages needed) and stops it.
func TestStartContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	if err := Check(""); err != nil {
		t.Skipf("runtime not installed: %v", err)
	}
	dir, err := os.MkdirTemp("/tmp", "skrt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Start(ctx, Config{Dir: filepath.Join(dir, "containerd"), SandboxImage: "skiff.local/pause:3.10", CNIConfDir: filepath.Join(dir, "cni")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out, err := exec.Command("ctr", "--address", c.Socket, "version").CombinedOutput()
	if err != nil {
		t.Errorf("ctr version: %v: %s", err, out)
	}
	cancel()
	c.Wait()
	if _, err := os.Stat(c.Socket); err == nil {
		if conn, err := exec.Command("ctr", "--address", c.Socket, "version").CombinedOutput(); err == nil {
			t.Errorf("containerd still answers after stop: %s", conn)
		}
	}
}
