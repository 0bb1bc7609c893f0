// Package embedded runs an etcd member inside the skiff process, listening only on loopback ports it picks itself.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Etcd is a running embedded etcd member.
type Etcd struct {
	e *embed.Etcd
	// Endpoint is the client URL, e.g. http://127.0.0.1:41234.
	Endpoint string
}

// Config configures the embedded member.
type Config struct {
	// Dir holds the member's data (DATA/etcd).
	Dir string
	// CompactionRetention is how long old revisions are kept (e.g. 5m); "" keeps the default of 5 minutes.
	CompactionRetention string
}

// Start starts the member and waits until it serves; the error says why it could not.
func Start(ctx context.Context, cfg Config) (*Etcd, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd dir: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		e, err := startOnce(ctx, cfg)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, cfg Config) (*Etcd, error) {
	// Reuse the ports of the last start when they are free, so the member's recorded peer URL stays true;
	// otherwise pick new ones and rewrite the single-member cluster view.
	portsFile := filepath.Join(cfg.Dir, "ports")
	clientPort, peerPort, reused := lastPorts(portsFile)
	if !reused {
		var err error
		if clientPort, err = freePort(); err != nil {
			return nil, err
		}
		if peerPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	ec := embed.NewConfig()
	ec.Name = "skiff"
	ec.Dir = filepath.Clean(cfg.Dir)
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}
	ec.ListenClientUrls = []url.URL{cu}
	ec.AdvertiseClientUrls = []url.URL{cu}
	ec.ListenPeerUrls = []url.URL{pu}
	ec.AdvertisePeerUrls = []url.URL{pu}
	ec.InitialCluster = ec.Name + "=" + pu.String()
	// A single member: short ticks make the first election (and so readiness) fast.
	ec.TickMs = 10
	ec.ElectionMs = 100
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = cfg.CompactionRetention
	if ec.AutoCompactionRetention == "" {
		ec.AutoCompactionRetention = "5m"
	}
	ec.QuotaBackendBytes = 8 << 30
	ec.MaxRequestBytes = 4 << 20
	// The member's own peer/client address changes at each start; etcd keeps the member record from the
	// first start, so force a new cluster view from the existing data.
	if _, err := os.Stat(filepath.Join(ec.Dir, "member")); err == nil && !reused {
		ec.ClusterState = embed.ClusterStateFlagExisting
		ec.ForceNewCluster = true
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("etcd: not ready after 60s")
	}
	_ = os.WriteFile(portsFile, []byte(strconv.Itoa(clientPort)+" "+strconv.Itoa(peerPort)+"\n"), 0o600)
	return &Etcd{e: e, Endpoint: cu.String()}, nil
}

// lastPorts returns the ports recorded by the last start if both can be bound now.
func lastPorts(path string) (client, peer int, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(string(data), "%d %d", &client, &peer); err != nil {
		return 0, 0, false
	}
	for _, p := range []int{client, peer} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return 0, 0, false
		}
		l.Close()
	}
	return client, peer, true
}

// Err reports a fatal error of the running member.
func (e *Etcd) Err() <-chan error { return e.e.Err() }

// Close stops the member, finishing in-flight requests.
func (e *Etcd) Close() { e.e.Close() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
