package sim

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestNodeName(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		i      int
		want   string
	}{
		{"sim-", 0, "sim-node-00001"},
		{"sim-", 4999, "sim-node-05000"},
		{"x-", 123455, "x-node-123456"},
	} {
		if got := NodeName(tt.prefix, tt.i); got != tt.want {
			t.Errorf("NodeName(%q, %d)=%q, want %q", tt.prefix, tt.i, got, tt.want)
		}
	}
}

func TestHostIP(t *testing.T) {
	seen := map[netip.Addr]bool{}
	for i := range 5000 {
		a := HostIP(i)
		b := a.As4()
		if !netip.MustParsePrefix("172.16.0.0/12").Contains(a) || b[3] == 0 || b[3] == 255 {
			t.Fatalf("HostIP(%d)=%s", i, a)
		}
		if seen[a] {
			t.Fatalf("HostIP(%d)=%s repeats", i, a)
		}
		seen[a] = true
	}
	if got, want := HostIP(0).String(), "172.16.0.1"; got != want {
		t.Errorf("HostIP(0)=%s, want %s", got, want)
	}
	if got, want := HostIP(254).String(), "172.16.1.1"; got != want {
		t.Errorf("HostIP(254)=%s, want %s", got, want)
	}
}

func TestNodeCIDR(t *testing.T) {
	base := netip.MustParsePrefix(ClusterCIDRDefault)
	tests := []struct {
		base    netip.Prefix
		i       int
		want    string
		wantErr bool
	}{
		{base: base, i: 0, want: "10.244.0.0/24"},
		{base: base, i: 1, want: "10.244.1.0/24"},
		{base: base, i: 255, want: "10.244.255.0/24"},
		{base: base, i: 256, want: "10.245.0.0/24"},
		{base: base, i: 4999, want: "10.7.135.0/24"}, // wrapped inside 10.0.0.0/8
		{base: netip.MustParsePrefix("10.244.7.9/16"), i: 2, want: "10.244.2.0/24"},
		{base: base, i: 1 << 16, wantErr: true},
		{base: base, i: -1, wantErr: true},
		{base: netip.MustParsePrefix("fd00::/48"), i: 0, wantErr: true},
	}
	for _, tt := range tests {
		got, err := NodeCIDR(tt.base, tt.i)
		if (err != nil) != tt.wantErr {
			t.Errorf("NodeCIDR(%s, %d) err=%v, wantErr %v", tt.base, tt.i, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("NodeCIDR(%s, %d)=%s, want %s", tt.base, tt.i, got, tt.want)
		}
	}
	// 5,000 nodes get 5,000 different CIDRs.
	seen := map[netip.Prefix]bool{}
	for i := range 5000 {
		p, _ := NodeCIDR(base, i)
		if seen[p] {
			t.Fatalf("node %d: %s repeats", i, p)
		}
		seen[p] = true
	}
}

func TestIPPool(t *testing.T) {
	p := newIPPool(netip.MustParsePrefix("10.244.3.0/24"))
	a, ok := p.take()
	if !ok || a.String() != "10.244.3.2" {
		t.Fatalf("first take=%s %v, want 10.244.3.2", a, ok)
	}
	p.mark(netip.MustParseAddr("10.244.3.3"))
	p.mark(netip.MustParseAddr("10.9.9.9")) // outside: ignored
	if b, _ := p.take(); b.String() != "10.244.3.4" {
		t.Errorf("take after mark=%s, want 10.244.3.4", b)
	}
	n := 2
	for {
		if _, ok := p.take(); !ok {
			break
		}
		n++
	}
	// .2 to .254 are usable: 253 addresses, 1 of them marked.
	if got, want := n+1, 253; got != want {
		t.Errorf("pool held %d addresses, want %d", got, want)
	}
	p.release(a)
	if b, ok := p.take(); !ok || b != a {
		t.Errorf("take after release=%s %v, want %s", b, ok, a)
	}
}

func TestNodeObject(t *testing.T) {
	n := nodeObject("sim-node-00001", HostIP(0), true, t0)
	if n.Labels[LabelSimulated] != "true" || n.Status.NodeInfo.KubeletVersion != KubeletVersion {
		t.Errorf("node not marked as simulated: %v %q", n.Labels, n.Status.NodeInfo.KubeletVersion)
	}
	for res, want := range map[string]string{"cpu": "32", "memory": "256Gi", "pods": "110"} {
		q := n.Status.Capacity[corev1.ResourceName(res)]
		if q.String() != want {
			t.Errorf("capacity %s=%s, want %s", res, q.String(), want)
		}
	}
	if len(n.Spec.Taints) != 1 {
		t.Errorf("taints=%v", n.Spec.Taints)
	}
	if !hasReady(n) {
		t.Error("no Ready condition")
	}
	// A heartbeat moves lastHeartbeatTime, not lastTransitionTime.
	later := t0.Add(40 * time.Second)
	setNodeConditions(&n.Status, later)
	for _, c := range n.Status.Conditions {
		if !c.LastHeartbeatTime.Time.Equal(later) || !c.LastTransitionTime.Time.Equal(t0) {
			t.Errorf("condition %s: heartbeat %v transition %v", c.Type, c.LastHeartbeatTime, c.LastTransitionTime)
		}
	}
	if len(n.Status.Conditions) != 4 {
		t.Errorf("%d conditions, want 4", len(n.Status.Conditions))
	}
}
