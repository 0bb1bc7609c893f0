package kubelet

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

func TestReadResolvConf(t *testing.T) {
	got := readResolvConf(strings.NewReader("# comment\nnameserver 192.0.2.1\nsearch old.example\nsearch corp.example. . lab.example\n" +
		"nameserver 192.0.2.2 ; trailing\noptions edns0 timeout:2\noptions rotate\nbogus\n"))
	want := &runtimeapi.DNSConfig{Servers: []string{"192.0.2.1", "192.0.2.2"}, Searches: []string{"corp.example", "lab.example"},
		Options: []string{"edns0", "timeout:2", "rotate"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestPodDNSConfig(t *testing.T) {
	host := &runtimeapi.DNSConfig{Servers: []string{"192.0.2.1"}, Searches: []string{"corp.example"}, Options: []string{"edns0"}}
	clusterSearch := []string{"web.svc.cluster.local", "svc.cluster.local", "cluster.local"}
	pod := func(policy corev1.DNSPolicy, hostNet bool, dc *corev1.PodDNSConfig) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: dc}}
		p.Namespace = "web"
		return p
	}
	var manySearches []string
	for i := range 40 {
		manySearches = append(manySearches, fmt.Sprintf("s%d.example", i))
	}
	long := strings.Repeat("a", 254)
	tests := []struct {
		name       string
		pod        *corev1.Pod
		clusterDNS []string
		want       *runtimeapi.DNSConfig
	}{
		{"ClusterFirst", pod(corev1.DNSClusterFirst, false, nil), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: append(clusterSearch, "corp.example"), Options: []string{"ndots:5"}}},
		{"empty policy is ClusterFirst", pod("", false, nil), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: append(clusterSearch, "corp.example"), Options: []string{"ndots:5"}}},
		{"ClusterFirst on the host network is Default", pod(corev1.DNSClusterFirst, true, nil), []string{"10.43.0.10"}, host},
		{"ClusterFirstWithHostNet", pod(corev1.DNSClusterFirstWithHostNet, true, nil), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: append(clusterSearch, "corp.example"), Options: []string{"ndots:5"}}},
		{"ClusterFirst without cluster DNS is Default", pod(corev1.DNSClusterFirst, false, nil), nil, host},
		{"Default", pod(corev1.DNSDefault, false, nil), []string{"10.43.0.10"}, host},
		{"Default merged with dnsConfig", pod(corev1.DNSDefault, false, &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.9", "192.0.2.1"},
			Searches: []string{"extra.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}}}), nil,
			&runtimeapi.DNSConfig{Servers: []string{"192.0.2.1", "192.0.2.9"}, Searches: []string{"corp.example", "extra.example"}, Options: []string{"edns0", "ndots:2"}}},
		{"None is only dnsConfig", pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "edns0"}}}), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"1.1.1.1"}, Searches: []string{"a.example"}, Options: []string{"edns0"}}},
		{"ClusterFirst dnsConfig options override ndots", pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("1")}, {Name: "single-request-reopen"}}}), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: append(clusterSearch, "corp.example"), Options: []string{"ndots:1", "single-request-reopen"}}},
		{"at most 3 nameservers", pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"}}), []string{"10.43.0.10"},
			&runtimeapi.DNSConfig{Servers: []string{"10.43.0.10", "1.1.1.1", "8.8.8.8"}, Searches: append(clusterSearch, "corp.example"), Options: []string{"ndots:5"}}},
		{"at most 32 search domains, none over 253 characters", pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Searches: append([]string{long}, manySearches...)}), nil,
			&runtimeapi.DNSConfig{Searches: manySearches[:32]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &runtimeapi.DNSConfig{Servers: append([]string(nil), host.Servers...), Searches: append([]string(nil), host.Searches...), Options: append([]string(nil), host.Options...)}
			got := podDNSConfig(tt.pod, tt.clusterDNS, "cluster.local", h)
			if !reflect.DeepEqual(norm(got), norm(tt.want)) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFitSearchesLineLength(t *testing.T) {
	var s []string
	for i := range 20 {
		s = append(s, fmt.Sprintf("%03d.%s", i, strings.Repeat("x", 196))) // 200 characters each
	}
	got := fitSearches(s)
	if line := strings.Join(got, " "); len(line) > maxDNSSearchListChars || len(got) != 10 || got[9] != s[9] {
		t.Fatalf("%d domains, %d characters; want the first 10 (2009 characters)", len(got), len(line))
	}
}

// norm makes nil and empty slices equal.
func norm(c *runtimeapi.DNSConfig) [3][]string {
	f := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return [3][]string{f(c.Servers), f(c.Searches), f(c.Options)}
}
