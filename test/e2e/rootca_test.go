package e2e

// The root CA publisher (kube-root-ca.crt) through the real kubectl against `skiff server --disable-agent`.
// No kubelet, proxy or DNS runs, so this file needs no machine lock.

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/rootcacertpublisher"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// rootCATimeout bounds how long the controller manager may take to publish or restore kube-root-ca.crt.
const rootCATimeout = 30 * time.Second

// TestRootCAConfigMap checks that every namespace gets kube-root-ca.crt holding the CA of admin.kubeconfig, and
// that a deleted or edited one comes back as it was.
func TestRootCAConfigMap(t *testing.T) {
	c := startServer(t)
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cluster := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	if cluster == nil || len(cluster.CertificateAuthorityData) == 0 {
		t.Fatalf("admin.kubeconfig has no certificate-authority-data")
	}
	want := map[string]string{"ca.crt": string(cluster.CertificateAuthorityData)}

	get := func(ns string) (*corev1.ConfigMap, string) {
		out, stderr, code := c.kubectl(t, "get", "configmap", rootcacertpublisher.ConfigMapName, "-n", ns, "-o", "json")
		if code != 0 {
			return nil, stderr
		}
		cm := &corev1.ConfigMap{}
		if err := json.Unmarshal([]byte(out), cm); err != nil {
			t.Fatalf("kubectl get -o json: %v\n%s", err, out)
		}
		return cm, fmt.Sprintf("uid %s data %q annotations %q", cm.UID, cm.Data, cm.Annotations)
	}
	// published waits until ns holds kube-root-ca.crt with exactly the CA and upstream's description, other than
	// the ConfigMap with UID notUID, and returns it.
	published := func(ns, notUID string) *corev1.ConfigMap {
		t.Helper()
		var cm *corev1.ConfigMap
		eventually(t, rootCATimeout, "kube-root-ca.crt published in "+ns, func() (bool, string) {
			var state string
			cm, state = get(ns)
			return cm != nil && string(cm.UID) != notUID && maps.Equal(cm.Data, want) &&
				cm.Annotations[rootcacertpublisher.DescriptionAnnotation] == rootcacertpublisher.Description, state
		})
		return cm
	}

	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		published(ns, "")
	}

	const ns = "rootca-e2e"
	c.mustKubectl(t, "create", "namespace", ns)
	first := published(ns, "")

	c.mustKubectl(t, "delete", "configmap", rootcacertpublisher.ConfigMapName, "-n", ns)
	second := published(ns, string(first.UID))

	c.mustKubectl(t, "patch", "configmap", rootcacertpublisher.ConfigMapName, "-n", ns, "--type=merge",
		"-p", `{"data":{"ca.crt":"tampered","extra":"x"}}`)
	c.mustKubectl(t, "annotate", "configmap", rootcacertpublisher.ConfigMapName, "-n", ns, rootcacertpublisher.DescriptionAnnotation+"-")
	if restored := published(ns, ""); restored.UID != second.UID {
		t.Errorf("the edited ConfigMap was replaced (uid %s, was %s), want it updated in place", restored.UID, second.UID)
	}
}
