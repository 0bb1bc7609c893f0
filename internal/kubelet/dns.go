package kubelet

import (
	"bufio"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The limits the kubelet applies to a pod's resolv.conf (k8s.io/kubernetes/pkg/apis/core/validation).
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
	maxDNSSearchLen       = 253 // glibc aborts on longer search domains
)

// hostResolvConf is the host's resolver configuration, the base of dnsPolicy Default (and of the search list of
// ClusterFirst).
const hostResolvConf = "/etc/resolv.conf"

// readResolvConf parses the nameserver, search and options lines of a resolv.conf, as the kubelet does: the last
// search line wins, "." and trailing dots are dropped.
func readResolvConf(r io.Reader) *runtimeapi.DNSConfig {
	cfg := &runtimeapi.DNSConfig{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			cfg.Servers = append(cfg.Servers, f[1])
		case "search":
			cfg.Searches = nil
			for _, s := range f[1:] {
				if s != "." {
					cfg.Searches = append(cfg.Searches, strings.TrimSuffix(s, "."))
				}
			}
		case "options":
			cfg.Options = append(cfg.Options, f[1:]...)
		}
	}
	return cfg
}

// podDNSConfig is the pod's resolver configuration, as the kubelet forms it: ClusterFirst (not on the host network)
// and ClusterFirstWithHostNet use the cluster DNS, its search domains before the host's, and ndots:5; Default (and
// ClusterFirst without cluster DNS) the host's; None nothing. The pod's dnsConfig is then merged in (options by
// name, the pod's winning) and the result cut to 3 nameservers and 32 search domains of at most 2048 characters.
func podDNSConfig(pod *corev1.Pod, clusterDNS []string, domain string, host *runtimeapi.DNSConfig) *runtimeapi.DNSConfig {
	cfg := &runtimeapi.DNSConfig{Servers: host.Servers, Searches: host.Searches, Options: host.Options}
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	cluster := policy == corev1.DNSClusterFirstWithHostNet || (policy == corev1.DNSClusterFirst && !pod.Spec.HostNetwork)
	switch {
	case policy == corev1.DNSNone:
		cfg = &runtimeapi.DNSConfig{}
	case cluster && len(clusterDNS) > 0:
		cfg.Servers = append([]string(nil), clusterDNS...)
		if domain != "" {
			cfg.Searches = uniq(append([]string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}, host.Searches...))
		}
		cfg.Options = []string{"ndots:5"}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = uniq(append(append([]string(nil), cfg.Servers...), dc.Nameservers...))
		cfg.Searches = uniq(append(append([]string(nil), cfg.Searches...), dc.Searches...))
		cfg.Options = mergeDNSOptions(cfg.Options, dc.Options)
	}
	if len(cfg.Servers) > maxDNSNameservers {
		cfg.Servers = cfg.Servers[:maxDNSNameservers]
	}
	cfg.Searches = fitSearches(cfg.Searches)
	return cfg
}

// fitSearches drops search domains longer than 253 characters, keeps the first 32, and drops from the end until the
// line fits in 2048 characters.
func fitSearches(searches []string) []string {
	var out []string
	for _, s := range searches {
		if len(s) <= maxDNSSearchLen {
			out = append(out, s)
		}
	}
	if len(out) > maxDNSSearchPaths {
		out = out[:maxDNSSearchPaths]
	}
	for len(out) > 0 && len(strings.Join(out, " ")) > maxDNSSearchListChars {
		out = out[:len(out)-1]
	}
	return out
}

// mergeDNSOptions merges the pod's options into base; an option the pod names replaces base's of that name.
func mergeDNSOptions(base []string, pod []corev1.PodDNSConfigOption) []string {
	var names []string
	values := map[string]string{}
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = value
	}
	for _, o := range base {
		name, value, _ := strings.Cut(o, ":")
		set(name, value)
	}
	for _, o := range pod {
		value := ""
		if o.Value != nil {
			value = *o.Value
		}
		set(o.Name, value)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if values[n] != "" {
			out = append(out, n+":"+values[n])
		} else {
			out = append(out, n)
		}
	}
	return out
}

// uniq drops repeated strings, keeping the first.
func uniq(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// hostDNSConfig is the host's resolv.conf; empty when it cannot be read (the runtime then copies the host's file).
func hostDNSConfig() *runtimeapi.DNSConfig {
	f, err := os.Open(hostResolvConf)
	if err != nil {
		return &runtimeapi.DNSConfig{}
	}
	defer f.Close()
	return readResolvConf(f)
}
