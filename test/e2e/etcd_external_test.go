package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// etcdMemberEnv carries a member's configuration (JSON memberSpec) to TestExternalEtcdMemberHelper in a child
// process of the test binary, so that a member can be SIGKILLed like a real etcd.
const etcdMemberEnv = "SKIFF_E2E_ETCD_MEMBER"

type memberSpec struct {
	Name, Dir, ClientURL, PeerURL, InitialCluster, State string
}

// TestExternalEtcdMemberHelper is not a test: it is the body of the etcd member processes started by
// TestExternalEtcd*. Run directly it skips.
func TestExternalEtcdMemberHelper(t *testing.T) {
	raw := os.Getenv(etcdMemberEnv)
	if raw == "" {
		t.Skip("runs only as an etcd member process started by TestExternalEtcd*")
	}
	var m memberSpec
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	// End with the parent: it holds our stdin open.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	cu, err := url.Parse(m.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(m.PeerURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = m.Name, m.Dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster, cfg.ClusterState, cfg.InitialClusterToken = m.InitialCluster, m.State, "skiff-e2e"
	cfg.TickMs, cfg.ElectionMs = 100, 1000
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.Server.ReadyNotify():
		fmt.Println("ETCD-READY")
	case err := <-e.Err():
		t.Fatal(err)
	case <-time.After(60 * time.Second):
		t.Fatal("not ready after 60s")
	}
	t.Fatal(<-e.Err()) // runs until killed
}

// etcdMember is one member process.
type etcdMember struct {
	spec  memberSpec
	cmd   *exec.Cmd
	stdin io.WriteCloser // held open: the member exits when it closes
	done  chan struct{}
	log   *syncBuffer
}

// etcdCluster is a 3-member etcd cluster on loopback, each member a child process.
type etcdCluster struct {
	members []*etcdMember
}

func startEtcdCluster(t *testing.T, n int) *etcdCluster {
	t.Helper()
	ec := &etcdCluster{}
	var peers []string
	for i := 0; i < n; i++ {
		s := memberSpec{
			Name:      fmt.Sprintf("m%d", i),
			Dir:       filepath.Join(t.TempDir(), "etcd"),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			State:     embed.ClusterStateFlagNew,
		}
		peers = append(peers, s.Name+"="+s.PeerURL)
		ec.members = append(ec.members, &etcdMember{spec: s})
	}
	for _, m := range ec.members {
		m.spec.InitialCluster = strings.Join(peers, ",")
	}
	t.Cleanup(func() {
		for _, m := range ec.members {
			m.kill()
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range ec.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.start()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("etcd member %d: %v\n%s", i, err, ec.members[i].log.String())
		}
	}
	return ec
}

// start runs the member process and waits until it serves.
func (m *etcdMember) start() error {
	spec, _ := json.Marshal(m.spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExternalEtcdMemberHelper$", "-test.timeout=0", "-test.v=false")
	cmd.Env = append(os.Environ(), etcdMemberEnv+"="+string(spec))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if m.stdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	m.log = &syncBuffer{}
	cmd.Stderr = m.log
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd, m.done = cmd, make(chan struct{})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ETCD-READY" {
				close(ready)
			}
			_, _ = m.log.Write([]byte(sc.Text() + "\n"))
		}
		_ = cmd.Wait()
		close(m.done)
	}()
	select {
	case <-ready:
		return nil
	case <-m.done:
		return fmt.Errorf("member %s exited: %v", m.spec.Name, cmd.ProcessState)
	case <-time.After(60 * time.Second):
		m.kill()
		return fmt.Errorf("member %s not ready after 60s", m.spec.Name)
	}
}

// kill SIGKILLs the member process (by its pid) and waits for it to exit.
func (m *etcdMember) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	_ = syscall.Kill(m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.done
}

func (ec *etcdCluster) endpoints() []string {
	var out []string
	for _, m := range ec.members {
		out = append(out, m.spec.ClientURL)
	}
	return out
}

// leader returns the index of the current leader, asking the members that are up.
func (ec *etcdCluster) leader(t *testing.T) int {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: ec.endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	idx := -1
	eventually(t, 20*time.Second, "an etcd leader", func() (bool, string) {
		var states []string
		for i, m := range ec.members {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := cli.Status(ctx, m.spec.ClientURL)
			cancel()
			if err != nil {
				states = append(states, fmt.Sprintf("%s: %v", m.spec.Name, err))
				continue
			}
			if st.Leader != 0 && st.Leader == st.Header.MemberId {
				idx = i
				return true, ""
			}
			states = append(states, fmt.Sprintf("%s: leader %x", m.spec.Name, st.Leader))
		}
		return false, strings.Join(states, "; ")
	})
	return idx
}

// writeLoad runs concurrent create-then-update writers against the API until stop is called.
type writeLoad struct {
	acks    *ackLog
	acked   atomic.Int64
	failed  atomic.Int64
	stopped atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	reasons map[string]int
	samples []string // the first error of each kind
}

func startWriteLoad(t *testing.T, c *cluster, ns string, writers int) *writeLoad {
	wl := &writeLoad{acks: newAckLog(), reasons: map[string]int{}}
	cs := clientFor(t, c, nil)
	cms := cs.CoreV1().ConfigMaps(ns)
	fail := func(name, v string, err error) {
		wl.failed.Add(1)
		wl.acks.failed(name, v, err)
		wl.mu.Lock()
		r := describeErr(err)
		if wl.reasons[r] == 0 {
			wl.samples = append(wl.samples, r+": "+err.Error())
		}
		wl.reasons[r]++
		wl.mu.Unlock()
	}
	for w := 0; w < writers; w++ {
		wl.wg.Add(1)
		go func() {
			defer wl.wg.Done()
			for i := 0; !wl.stopped.Load(); i++ {
				name := fmt.Sprintf("w%02d-%05d", w, i)
				v0 := name + "/0"
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				out, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": v0}}, metav1.CreateOptions{})
				cancel()
				if err != nil {
					fail(name, v0, err)
					continue
				}
				wl.acked.Add(1)
				wl.acks.ok(name, v0, out)
				v1 := name + "/1"
				out.Data["v"] = v1
				ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
				out2, err := cms.Update(ctx, out, metav1.UpdateOptions{})
				cancel()
				if err != nil {
					fail(name, v1, err)
					continue
				}
				wl.acked.Add(1)
				wl.acks.ok(name, v1, out2)
			}
		}()
	}
	return wl
}

func (wl *writeLoad) stop() {
	wl.stopped.Store(true)
	wl.wg.Wait()
}

// waitAcked waits until n more writes than base are acknowledged.
func (wl *writeLoad) waitAcked(t *testing.T, what string, base, n int64) {
	t.Helper()
	eventually(t, 30*time.Second, what, func() (bool, string) {
		return wl.acked.Load()-base >= n, fmt.Sprintf("%d acked since, %d failed in all", wl.acked.Load()-base, wl.failed.Load())
	})
}

func (wl *writeLoad) failureReasons() string {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	var out []string
	for k, v := range wl.reasons {
		out = append(out, k+"×"+strconv.Itoa(v))
	}
	sort.Strings(out)
	return strings.Join(out, ", ") + "; first of each: " + strings.Join(wl.samples, " | ")
}

// TestExternalEtcdKillMembersDuringWrites: skiff on an external 3-member etcd cluster; while clients create and
// update ConfigMaps concurrently a follower is SIGKILLed, restarted, and then the leader is SIGKILLed. Writes keep
// being acknowledged with one member down, and every acknowledged write is readable afterwards with its content.
func TestExternalEtcdKillMembersDuringWrites(t *testing.T) {
	etcd := startEtcdCluster(t, 3)
	c := startServer(t, "--etcd-endpoints", strings.Join(etcd.endpoints(), ","))
	const ns = "extetcd"
	createNamespace(t, clientFor(t, c, nil), ns)

	wl := startWriteLoad(t, c, ns, 8)
	defer wl.stop()
	wl.waitAcked(t, "writes before any failure", 0, 100)

	// A follower dies.
	leader := etcd.leader(t)
	follower := (leader + 1) % 3
	base := wl.acked.Load()
	etcd.members[follower].kill()
	t.Logf("SIGKILLed follower %s (pid %d) after %d acknowledged writes", etcd.members[follower].spec.Name, etcd.members[follower].cmd.Process.Pid, base)
	wl.waitAcked(t, "writes with a follower down", base, 200)

	// It comes back; then the leader dies.
	etcd.members[follower].spec.State = embed.ClusterStateFlagExisting
	if err := etcd.members[follower].start(); err != nil {
		t.Fatalf("restart %s: %v\n%s", etcd.members[follower].spec.Name, err, etcd.members[follower].log.String())
	}
	wl.waitAcked(t, "writes with the follower back", wl.acked.Load(), 50)
	leader = etcd.leader(t)
	base = wl.acked.Load()
	etcd.members[leader].kill()
	t.Logf("SIGKILLed leader %s (pid %d) after %d acknowledged writes", etcd.members[leader].spec.Name, etcd.members[leader].cmd.Process.Pid, base)
	wl.waitAcked(t, "writes after the leader was killed", base, 200)
	wl.stop()

	acked, failedObjs := wl.acks.counts()
	t.Logf("%d writes acknowledged (%d objects), %d failed: %s", wl.acked.Load(), acked, wl.failed.Load(), wl.failureReasons())
	present := wl.acks.verify(t, clientFor(t, c, nil), ns, "w", true)
	t.Logf("%d objects present; %d objects had a failed write", present, failedObjs)
	if newLeader := etcd.leader(t); newLeader == leader {
		t.Errorf("member %d still leads after it was killed", leader)
	}
}
