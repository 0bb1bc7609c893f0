package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/sim"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Env is what every scenario runs against.
type Env struct {
	// REST reaches the cluster; Client is built from it when nil.
	REST   *rest.Config
	Client kubernetes.Interface
	// ServerPID is the server's process on this machine; 0 finds it from REST.Host's port
	// when that host is local, and gives up quietly otherwise.
	ServerPID int
	// Window is the length of one Series point; default 1s.
	Window time.Duration
	// Clock tells the time; nil is the system clock.
	Clock clock.Clock
	// Log gets progress lines; nil is slog.Default().
	Log *slog.Logger
}

// Protobuf is the media type scenarios speak unless told JSON.
const Protobuf = "application/vnd.kubernetes.protobuf"

// ClientConfig returns a copy of rc for benchmarking: no client-side rate limit (qps <= 0)
// or the given one, and the given content type ("json" or "protobuf").
func ClientConfig(rc *rest.Config, contentType string, qps float32) (*rest.Config, error) {
	c := rest.CopyConfig(rc)
	switch contentType {
	case "", "protobuf":
		c.ContentType = Protobuf
		c.AcceptContentTypes = Protobuf + ",application/json"
	case "json":
		c.ContentType = "application/json"
		c.AcceptContentTypes = "application/json"
	default:
		return nil, fmt.Errorf("bench: content type %q: want json or protobuf", contentType)
	}
	if qps <= 0 {
		qps = 1e6
	}
	c.QPS, c.Burst = qps, int(min(qps, 1e6))
	c.UserAgent = "skiff-bench"
	return c, nil
}

func (e *Env) setDefaults() error {
	if e.Clock == nil {
		e.Clock = clock.Real{}
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	if e.Window <= 0 {
		e.Window = time.Second
	}
	if e.Client == nil {
		if e.REST == nil {
			return fmt.Errorf("bench: Env needs REST or Client")
		}
		c, err := kubernetes.NewForConfig(e.REST)
		if err != nil {
			return err
		}
		e.Client = c
	}
	return nil
}

// run is one scenario in progress: its result, recorder and server sampler.
type run struct {
	env   *Env
	res   *Result
	start time.Time
	rec   *Recorder
	mem   *memSampler
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// begin starts a scenario: it fills in the machine and server, and starts sampling
// the server's memory every Window if it runs here.
func (e *Env) begin(ctx context.Context, scenario string) (*run, error) {
	if err := e.setDefaults(); err != nil {
		return nil, err
	}
	r := &run{env: e, start: e.Clock.Now(),
		res: &Result{Scenario: scenario, OK: true, Machine: ReadMachine()}}
	r.res.Started = r.start.UTC()
	r.rec = NewRecorder(e.Clock, r.start)
	if e.REST != nil {
		r.res.Server.URL = e.REST.Host
	}
	if v, err := e.Client.Discovery().ServerVersion(); err == nil {
		r.res.Server.Version = v.GitVersion
	} else {
		r.res.Note("server version: %v", err)
	}
	pid, source := e.ServerPID, "flag"
	if pid == 0 && e.REST != nil {
		pid, source = findServerPID(e.REST.Host)
	}
	if pid > 0 {
		r.setServerPID(ctx, pid, source)
	}
	return r, nil
}

// setServerPID starts sampling the memory and CPU of the server process pid.
func (r *run) setServerPID(ctx context.Context, pid int, source string) {
	r.res.Server.PID, r.res.Server.PIDSource = pid, source
	r.mem = &memSampler{pid: pid, clk: r.env.Clock, start: r.start, every: r.env.Window}
	if cpu, err := sim.CPUTime(pid); err == nil {
		r.mem.cpu0 = cpu
	}
	ctx, r.stop = context.WithCancel(ctx)
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.mem.run(ctx) }()
}

// findServerPID looks for the local process listening on the port of the server URL.
func findServerPID(host string) (int, string) {
	u, err := url.Parse(host)
	if err != nil {
		return 0, ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80"}[u.Scheme]
		if port == "" {
			port = "443"
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || !isLocalHost(u.Hostname()) {
		return 0, ""
	}
	pid, err := PIDByPort(p)
	if err != nil {
		return 0, ""
	}
	return pid, "port " + port
}

// finish stops sampling and completes the result: duration, ops, series, server memory.
func (r *run) finish() *Result {
	res := r.res
	if r.stop != nil {
		r.stop()
		r.wg.Wait()
	}
	res.Seconds = round3(r.env.Clock.Since(r.start).Seconds())
	res.Ops = append(res.Ops, r.rec.Ops()...)
	var mem []memSample
	if r.mem != nil {
		r.mem.sample() // one last reading
		mem = r.mem.samples
		res.Server.PeakRSSBytes, res.Server.VmHWMBytes = r.mem.peak, r.mem.hwm
		if cpu, err := sim.CPUTime(r.mem.pid); err == nil && r.mem.cpu0 > 0 {
			res.Server.CPUSeconds = round3((cpu - r.mem.cpu0).Seconds())
		} else if err != nil {
			res.Note("server process %d: %v (did it exit?)", r.mem.pid, err)
		}
		if res.Server.PeakRSSBytes > 0 {
			res.Metric("server_peak_rss", float64(res.Server.PeakRSSBytes)/(1<<20), "MiB", "lower")
		}
	} else {
		res.Note("server process not found on this machine: no RSS figures (give --server-pid)")
	}
	res.Series = r.rec.Series(r.env.Window, mem)
	return res
}

// memSample is the server's RSS at offset t from the start.
type memSample struct {
	t   time.Duration
	rss uint64
}

// memSampler reads /proc/PID/status every interval; peak and hwm are the largest VmRSS
// and the last VmHWM seen.
type memSampler struct {
	pid   int
	clk   clock.Clock
	start time.Time
	every time.Duration
	cpu0  time.Duration

	mu      sync.Mutex // guards the fields below
	samples []memSample
	peak    uint64
	hwm     uint64
}

func (m *memSampler) run(ctx context.Context) {
	t := m.clk.NewTicker(m.every / 2)
	defer t.Stop()
	m.sample()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			m.sample()
		}
	}
}

func (m *memSampler) sample() {
	mem, err := ReadMemory(m.pid)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, memSample{t: m.clk.Since(m.start), rss: mem.RSS})
	m.peak = max(m.peak, mem.RSS)
	m.hwm = max(m.hwm, mem.HWM)
}

// Recorder collects operation latencies from many goroutines.
type Recorder struct {
	clk   clock.Clock
	start time.Time

	mu     sync.Mutex // guards the fields below
	ops    map[string]*opRecord
	order  []string
	events []event
}

type opRecord struct {
	op          Op
	lats        []time.Duration
	first, last time.Duration // completion offsets
	span        float64       // seconds, if set explicitly
}

// event is one completed operation, for the time series.
type event struct {
	done  time.Duration // offset from start
	lat   time.Duration
	label string
}

// NewRecorder starts a recorder whose offsets count from start.
func NewRecorder(clk clock.Clock, start time.Time) *Recorder {
	return &Recorder{clk: clk, start: start, ops: map[string]*opRecord{}}
}

// Add records one operation of kind name at concurrency conc that took lat and
// completed now; failed operations count as errors and add no latency.
func (r *Recorder) Add(name string, conc int, lat time.Duration, err error) {
	r.AddAt(name, conc, r.clk.Since(r.start), lat, err)
}

// AddAt is Add for an operation that completed at offset done from the start.
func (r *Recorder) AddAt(name string, conc int, done, lat time.Duration, err error) {
	key := Op{Name: name, Concurrency: conc}.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.ops[key]
	if o == nil {
		o = &opRecord{op: Op{Name: name, Concurrency: conc}, first: done}
		r.ops[key] = o
		r.order = append(r.order, key)
	}
	o.first, o.last = min(o.first, done), max(o.last, done)
	if err != nil {
		o.op.Errors++
		return
	}
	o.lats = append(o.lats, lat)
	r.events = append(r.events, event{done: done, lat: lat, label: key})
}

// Span sets the time over which name@conc ran (for its throughput); without it the
// span is first to last completion.
func (r *Recorder) Span(name string, conc int, d time.Duration) {
	key := Op{Name: name, Concurrency: conc}.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.ops[key]; o != nil {
		o.span = d.Seconds()
	} else {
		r.ops[key] = &opRecord{op: Op{Name: name, Concurrency: conc}, span: d.Seconds()}
		r.order = append(r.order, key)
	}
}

// Ops returns the statistics of every kind of operation, in the order first seen.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Op, 0, len(r.order))
	for _, k := range r.order {
		o := r.ops[k]
		op := o.op
		op.Count = len(o.lats)
		op.Seconds = o.span
		if op.Seconds == 0 {
			op.Seconds = (o.last - o.first).Seconds()
		}
		op.Throughput = perSecond(op.Count, op.Seconds)
		op.Seconds = math.Round(op.Seconds*1e6) / 1e6
		op.Latency = Summarize(slices.Clone(o.lats))
		out = append(out, op)
	}
	return out
}

// Series cuts the recorded operations into windows: per window the completions per
// second, their latency percentiles, the most common label, and the server RSS.
func (r *Recorder) Series(window time.Duration, mem []memSample) []Point {
	r.mu.Lock()
	events := slices.Clone(r.events)
	r.mu.Unlock()
	return series(events, mem, window)
}

func series(events []event, mem []memSample, window time.Duration) []Point {
	var end time.Duration
	for _, e := range events {
		end = max(end, e.done)
	}
	for _, m := range mem {
		end = max(end, m.t)
	}
	if end == 0 {
		return nil
	}
	n := int(end/window) + 1
	lats := make([][]time.Duration, n)
	labels := make([]map[string]int, n)
	for _, e := range events {
		i := int(e.done / window)
		lats[i] = append(lats[i], e.lat)
		if labels[i] == nil {
			labels[i] = map[string]int{}
		}
		labels[i][e.label]++
	}
	out := make([]Point, n)
	mi := 0
	var rss uint64
	for i := range out {
		wend := time.Duration(i+1) * window
		p := Point{T: round3(wend.Seconds()), Throughput: round3(float64(len(lats[i])) / window.Seconds())}
		l := Summarize(lats[i])
		p.P50, p.P90, p.P99 = l.P50, l.P90, l.P99
		best := 0
		for label, c := range labels[i] {
			if c > best || (c == best && label < p.Label) {
				p.Label, best = label, c
			}
		}
		for mi < len(mem) && mem[mi].t <= wend {
			rss = mem[mi].rss
			mi++
		}
		p.RSSMiB = round3(float64(rss) / (1 << 20))
		out[i] = p
	}
	return out
}
