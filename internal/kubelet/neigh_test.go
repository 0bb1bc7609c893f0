package kubelet

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestNeighFlushArgs(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want []string
	}{
		{"10.199.0.5", []string{"-4", "neigh", "flush", "to", "10.199.0.5"}},
		{"fd00::5", []string{"-6", "neigh", "flush", "to", "fd00::5"}},
	} {
		got, err := neighFlushArgs(tc.ip)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("neighFlushArgs(%q) = %q, %v; want %q", tc.ip, got, err, tc.want)
		}
	}
	if _, err := neighFlushArgs("not-an-ip"); err == nil {
		t.Errorf("neighFlushArgs(not-an-ip): no error")
	}
}

// TestNeighFlushRemovesStaleEntry runs the command in a throwaway network namespace: a stale entry that maps the
// IP to an old MAC (as a deleted pod leaves on the bridge) is gone afterwards, and another IP's entry stays.
func TestNeighFlushRemovesStaleEntry(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	for _, bin := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s", bin)
		}
	}
	args, err := neighFlushArgs("10.254.0.5")
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"set -e",
		"ip link add br-test type bridge",
		"ip link set br-test up",
		"ip addr add 10.254.0.1/24 dev br-test",
		"ip neigh add 10.254.0.5 lladdr 02:00:00:00:00:05 dev br-test nud stale",
		"ip neigh add 10.254.0.6 lladdr 02:00:00:00:00:06 dev br-test nud stale",
		"ip " + strings.Join(args, " "),
		"ip -4 neigh show dev br-test",
	}, "\n")
	out, err := exec.Command("unshare", "--net", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("unshare: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "10.254.0.5 ") || !strings.Contains(string(out), "10.254.0.6 ") {
		t.Fatalf("neighbours after the flush:\n%s", out)
	}
}
