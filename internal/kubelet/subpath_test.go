package kubelet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSubPath(t *testing.T) {
	vars := map[string]string{"POD_NAME": "web-0", "UP": "..", "ABS": "/tmp", "EMPTY": ""}
	for _, tc := range []struct {
		name    string
		vm      corev1.VolumeMount
		want    string
		wantErr string
	}{
		{name: "plain", vm: corev1.VolumeMount{SubPath: "logs/a"}, want: "logs/a"},
		{name: "dots inside a name", vm: corev1.VolumeMount{SubPath: "a..b"}, want: "a..b"},
		{name: "expr", vm: corev1.VolumeMount{SubPathExpr: "logs/$(POD_NAME)"}, want: "logs/web-0"},
		{name: "escaped", vm: corev1.VolumeMount{SubPathExpr: "$$(POD_NAME)"}, want: "$(POD_NAME)"},
		{name: "expr to backstep", vm: corev1.VolumeMount{SubPathExpr: "$(UP)"}, wantErr: "unable to provision SubPath `..`: must not contain '..'"},
		{name: "expr to absolute", vm: corev1.VolumeMount{SubPathExpr: "$(ABS)"}, wantErr: "error SubPath `/tmp` must not be an absolute path"},
		{name: "missing variables", vm: corev1.VolumeMount{SubPathExpr: "$(NOPE)/$(EMPTY)/$(NOPE)"}, wantErr: "missing value for EMPTY, NOPE"},
		{name: "backstep", vm: corev1.VolumeMount{SubPath: "a/../../b"}, wantErr: "must not contain '..'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subPath(tc.vm, vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("subPath = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("subPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// The pod's /etc/hosts starts as the kubelet's does, which tools and the upstream conformance spec look for.
func TestWriteHosts(t *testing.T) {
	w := &podWorker{k: &Kubelet{podsDir: t.TempDir(), cfg: Config{ClusterDomain: "cluster.local"}}}
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace, pod.UID = "web-0", "ns", "u1"
	pod.Spec.Hostname, pod.Spec.Subdomain = "web-0", "web"
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.9", Hostnames: []string{"db", "db.local"}}}
	if err := w.writeHosts(pod, "10.42.0.7"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(w.k.podDir(pod.UID), "etc-hosts"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
		"10.42.0.7\tweb-0.web.ns.svc.cluster.local\tweb-0\n\n# Entries added by HostAliases.\n10.0.0.9\tdb\tdb.local\n"
	if string(b) != want {
		t.Fatalf("etc-hosts =\n%q\nwant\n%q", b, want)
	}
}
