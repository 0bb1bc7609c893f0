package pki

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigName is the name of the cluster, user and context in kubeconfigs
// written by this package.
const KubeconfigName = "skiff"

// WriteKubeconfig writes a kubeconfig at path for server (https://host:port)
// with the given client certificate (cluster, user and context named
// "skiff", "default" namespace), atomically, mode 0600.
func WriteKubeconfig(path, server string, caPEM, certPEM, keyPEM []byte) error {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return errors.New("pki: kubeconfig needs a client certificate and key")
	}
	auth := clientcmdapi.NewAuthInfo()
	auth.ClientCertificateData = certPEM
	auth.ClientKeyData = keyPEM
	return writeKubeconfig(path, server, caPEM, auth)
}

// WriteTokenKubeconfig writes a kubeconfig that authenticates with a bearer
// token instead.
func WriteTokenKubeconfig(path, server string, caPEM []byte, token string) error {
	if token == "" {
		return errors.New("pki: kubeconfig needs a token")
	}
	auth := clientcmdapi.NewAuthInfo()
	auth.Token = token
	return writeKubeconfig(path, server, caPEM, auth)
}

func writeKubeconfig(path, server string, caPEM []byte, auth *clientcmdapi.AuthInfo) error {
	if server == "" {
		return errors.New("pki: kubeconfig needs a server URL")
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = server
	cluster.CertificateAuthorityData = caPEM
	ctx := clientcmdapi.NewContext()
	ctx.Cluster = KubeconfigName
	ctx.AuthInfo = KubeconfigName
	ctx.Namespace = "default"
	cfg.Clusters[KubeconfigName] = cluster
	cfg.AuthInfos[KubeconfigName] = auth
	cfg.Contexts[KubeconfigName] = ctx
	cfg.CurrentContext = KubeconfigName

	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("pki: encoding kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return writeFileAtomic(path, data, 0o600)
}
