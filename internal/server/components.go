package server

import (
	"context"
	"fmt"
	"log/slog"

	"sync"

	"github.com/skiff-sh/skiff/internal/pki"
	"k8s.io/client-go/rest"
)

// Component is a long-running part started beside the API server (controller manager, scheduler, kubelet, proxy).
// Run blocks until ctx ends; an error stops the whole server.
type Component struct {
	Name string
	// User and Groups are the identity of its client certificate.
	User   string
	Groups []string
	// Enabled reports whether it runs under cfg (nil: always).
	Enabled func(cfg *Config) bool
	Run     func(ctx context.Context, rc *rest.Config, cfg *Config, log *slog.Logger) error
}

var (
	componentsMu sync.Mutex // guards components
	components   []Component
)

// Register adds a component; called from init functions of the packages that wire components in.
func Register(c Component) {
	componentsMu.Lock()
	defer componentsMu.Unlock()
	components = append(components, c)
}

func registered() []Component {
	componentsMu.Lock()
	defer componentsMu.Unlock()
	return append([]Component(nil), components...)
}

// clientConfig returns a rest.Config for a component, authenticated by its own client certificate.
func clientConfig(bundle *pki.Bundle, tlsDir, host string, name, user string, groups []string) (*rest.Config, error) {
	certPEM, keyPEM, err := bundle.ClientCert(tlsDir, name, user, groups)
	if err != nil {
		return nil, fmt.Errorf("%s certificate: %w", name, err)
	}
	return &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: bundle.CAPEM, CertData: certPEM, KeyData: keyPEM,
		},
		// Protobuf, as Kubernetes' own components speak: decoding JSON watch events was a fifth of the server's CPU.
		ContentConfig: rest.ContentConfig{
			ContentType:        "application/vnd.kubernetes.protobuf",
			AcceptContentTypes: "application/vnd.kubernetes.protobuf,application/json",
		},
		QPS:   200,
		Burst: 400,
	}, nil
}
