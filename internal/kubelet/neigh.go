package kubelet

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
)

// neighFlushArgs is the `ip` command line that removes the host's neighbour (ARP/NDP) entries for a pod IP.
//
// A new pod often gets the IP of a pod deleted a moment (or a data-dir reset) ago, and the host's neighbour cache on
// the pod bridge still maps that IP to the old pod's MAC address: the host's traffic to the new pod (probes, and
// Service traffic the proxy DNATs on the host) then goes nowhere until the entry has gone STALE → DELAY → PROBE →
// FAILED, 5 to 10 s (containernetworking/plugins#858). Removing the entry once the sandbox has the IP makes the next
// packet resolve the right MAC.
func neighFlushArgs(ip string) ([]string, error) {
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return nil, fmt.Errorf("neighbour flush: bad IP %q", ip)
	}
	family := "-6"
	if parsed.To4() != nil {
		family = "-4"
	}
	return []string{family, "neigh", "flush", "to", parsed.String()}, nil
}

// forgetNeighbours removes the host's neighbour entries for ips (best effort: a host without `ip` keeps the delay).
func (w *podWorker) forgetNeighbours(ctx context.Context, ips []string) {
	for _, ip := range ips {
		args, err := neighFlushArgs(ip)
		if err != nil {
			w.k.log.Debug("forget neighbour", "pod", w.namespace+"/"+w.name, "err", err)
			continue
		}
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			w.k.log.Debug("forget neighbour", "pod", w.namespace+"/"+w.name, "ip", ip, "err", err, "out", strings.TrimSpace(string(out)))
		}
	}
}
