package nodeipam

import (
	"net/netip"
	"testing"
)

func TestAllocate(t *testing.T) {
	cluster := netip.MustParsePrefix("10.42.0.0/16")
	tests := []struct {
		name string
		used []string
		want string
	}{
		{"first", nil, "10.42.0.0/24"},
		{"skips used", []string{"10.42.0.0/24", "10.42.1.0/24"}, "10.42.2.0/24"},
		{"fills a hole", []string{"10.42.0.0/24", "10.42.2.0/24"}, "10.42.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used := map[netip.Prefix]bool{}
			for _, u := range tt.used {
				used[netip.MustParsePrefix(u)] = true
			}
			got, err := Allocate(cluster, used)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Fatalf("Allocate=%v, want %v", got, tt.want)
			}
		})
	}
	if _, err := Allocate(netip.MustParsePrefix("10.42.0.0/24"), map[netip.Prefix]bool{netip.MustParsePrefix("10.42.0.0/24"): true}); err != ErrFull {
		t.Fatalf("full: err=%v, want ErrFull", err)
	}
}
