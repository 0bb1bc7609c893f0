package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one scenario run measured. Its JSON form is the file format of
// `skiff bench --out` and the input of Compare.
type Result struct {
	Scenario string `json:"scenario"`
	// OK is false when the scenario could not measure what it is for (for example no
	// pod was ever bound); Error says why. The rest of the result is still valid.
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Notes   []string  `json:"notes,omitempty"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// Params are the scenario's settings, as given on the command line.
	Params  map[string]string `json:"params,omitempty"`
	Machine Machine           `json:"machine"`
	Server  Server            `json:"server"`
	Ops     []Op              `json:"ops,omitempty"`
	Metrics []Metric          `json:"metrics,omitempty"`
	// Series is the run over time, one point per window (usually a second).
	Series []Point `json:"series,omitempty"`
}

// Op is the statistics of one kind of operation (a verb at one concurrency, or a
// derived latency such as create→bound).
type Op struct {
	Name        string `json:"name"`
	Concurrency int    `json:"concurrency,omitempty"`
	Count       int    `json:"count"`
	Errors      int    `json:"errors"`
	// Seconds is the time the operations took place in; Throughput is Count/Seconds.
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_per_s"`
	Latency    Latency `json:"latency"`
}

// Key names an Op uniquely within a result: "create@16", or "bind" with no concurrency.
func (o Op) Key() string {
	if o.Concurrency == 0 {
		return o.Name
	}
	return fmt.Sprintf("%s@%d", o.Name, o.Concurrency)
}

// Metric is one scenario-level figure.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	// Better is "higher" or "lower" (empty: neither); Compare uses it.
	Better string `json:"better,omitempty"`
}

// Point is one window of a run.
type Point struct {
	// T is the end of the window, in seconds since the scenario started.
	T float64 `json:"t"`
	// Label names the phase the window belongs to (e.g. "create@16").
	Label string `json:"label,omitempty"`
	// Throughput is the operations completed in the window, per second.
	Throughput float64 `json:"throughput_per_s"`
	P50        float64 `json:"p50_ms"`
	P90        float64 `json:"p90_ms"`
	P99        float64 `json:"p99_ms"`
	// RSSMiB is the server's resident set at the end of the window (0: unknown).
	RSSMiB float64 `json:"rss_mib,omitempty"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	Hostname    string `json:"hostname"`
	Cores       int    `json:"cores"`
	CPUModel    string `json:"cpu_model"`
	MemoryBytes uint64 `json:"memory_bytes"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	GoVersion   string `json:"go_version"`
	// LoadAvg1 is the 1-minute load average when the run started: other work on a
	// shared machine shows up here.
	LoadAvg1 float64 `json:"load_avg_1m"`
}

// Server describes the cluster measured.
type Server struct {
	URL     string `json:"url"`
	Version string `json:"version"`
	// PID is the server's process when it runs on this machine (0: not found or remote);
	// PIDSource says how it was found ("flag", "port 6443", "started").
	PID       int    `json:"pid,omitempty"`
	PIDSource string `json:"pid_source,omitempty"`
	// PeakRSSBytes is the largest VmRSS sampled during the run; VmHWMBytes is the
	// process's lifetime high-water mark at the end of the run.
	PeakRSSBytes uint64 `json:"peak_rss_bytes,omitempty"`
	VmHWMBytes   uint64 `json:"vm_hwm_bytes,omitempty"`
	// CPUSeconds is the server's CPU time used during the run.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// Param records a setting in r.Params.
func (r *Result) Param(name string, v any) {
	if r.Params == nil {
		r.Params = map[string]string{}
	}
	r.Params[name] = fmt.Sprint(v)
}

// Metric adds a scenario-level figure.
func (r *Result) Metric(name string, v float64, unit, better string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Value: round3(v), Unit: unit, Better: better})
}

// Note records something a reader of the result should know.
func (r *Result) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Fail marks the result as not OK with reason err (the first failure wins).
func (r *Result) Fail(err error) {
	if r.OK || r.Error == "" {
		r.Error = err.Error()
	}
	r.OK = false
}

// WriteJSON writes r, indented, to path.
func (r *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadResult reads a result written by WriteJSON.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Scenario == "" {
		return nil, fmt.Errorf("%s: not a bench result (no scenario)", path)
	}
	return &r, nil
}

// WriteTable prints r for people.
func (r *Result) WriteTable(w io.Writer) error {
	status := "ok"
	if !r.OK {
		status = "FAILED: " + r.Error
	}
	fmt.Fprintf(w, "scenario %s: %s (%.1fs)\n", r.Scenario, status, r.Seconds)
	fmt.Fprintf(w, "machine:  %d cores, %s, %s memory (%s/%s, %s), load average %.2f at start\n", r.Machine.Cores, r.Machine.CPUModel,
		bytesIEC(r.Machine.MemoryBytes), r.Machine.OS, r.Machine.Arch, r.Machine.GoVersion, r.Machine.LoadAvg1)
	srv := fmt.Sprintf("server:   %s at %s", orDash(r.Server.Version), orDash(r.Server.URL))
	if r.Server.PID > 0 {
		srv += fmt.Sprintf(", pid %d (%s), peak RSS %s (VmHWM %s)", r.Server.PID, r.Server.PIDSource,
			bytesIEC(r.Server.PeakRSSBytes), bytesIEC(r.Server.VmHWMBytes))
		if r.Server.CPUSeconds > 0 {
			srv += fmt.Sprintf(", CPU %.1fs", r.Server.CPUSeconds)
		}
	}
	fmt.Fprintln(w, srv)
	if len(r.Params) > 0 {
		keys := make([]string, 0, len(r.Params))
		for k := range r.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+r.Params[k])
		}
		fmt.Fprintf(w, "params:   %s\n", strings.Join(parts, " "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note:     %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(r.Ops) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "op\tconc\tcount\terrors\tper s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
		for _, o := range r.Ops {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", o.Name, o.Concurrency, o.Count, o.Errors,
				o.Throughput, o.Latency.P50, o.Latency.P90, o.Latency.P99, o.Latency.Max)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Metrics) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\tvalue\tunit")
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, fmtNum(m.Value), m.Unit)
		}
		return tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func bytesIEC(b uint64) string {
	switch {
	case b == 0:
		return "-"
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
}

func fmtNum(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3f", v)
}

// round3 rounds to three decimals; NaN and infinities (which JSON cannot hold) become 0.
func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

// perSecond is n/seconds, 0 when no time passed.
func perSecond(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return round3(float64(n) / seconds)
}
