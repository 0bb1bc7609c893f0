package e2e

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/bench"
)

// TestBenchSmoke runs every `skiff bench` scenario with tiny sizes against one `skiff server`,
// and checks that each writes a well-formed result. It asserts no figures: only that the
// harness measures. Binding and startup are asserted only when a scheduler and a kubelet that
// can run the image are there; otherwise the scenario must say so and exit non-zero.
func TestBenchSmoke(t *testing.T) {
	c := startServer(t)
	bin := skiffBinary(t)
	dir := t.TempDir()

	// benchRun runs `skiff bench ARGS --kubeconfig K --server-pid P --out DIR/NAME.json`, and
	// returns the result read back and the command's error (non-nil on a non-zero exit).
	benchRun := func(t *testing.T, name string, args ...string) (*bench.Result, string, error) {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		args = append(args, "--kubeconfig", c.Kubeconfig, "--server-pid", strconv.Itoa(c.PID), "--out", out, "--log-level", "warn")
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"bench"}, args...)...)
		output, runErr := cmd.CombinedOutput()
		res, err := bench.ReadResult(out)
		if err != nil {
			t.Fatalf("skiff bench %s: no well-formed result (%v); exit %v, output:\n%s", strings.Join(args, " "), err, runErr, output)
		}
		benchCheckResult(t, res, name)
		return res, string(output), runErr
	}

	t.Run("api", func(t *testing.T) {
		res, output, err := benchRun(t, "api", "api", "--concurrency", "1,4", "--duration", "1s", "--plot", filepath.Join(dir, "api.svg"))
		if err != nil || !res.OK {
			t.Fatalf("api failed: %v %s\n%s", err, res.Error, output)
		}
		ops := map[string]bench.Op{}
		for _, o := range res.Ops {
			ops[o.Key()] = o
		}
		for _, verb := range bench.AllVerbs {
			for _, conc := range []string{"1", "4"} {
				if o, ok := ops[verb+"@"+conc]; !ok || o.Count == 0 {
					t.Errorf("op %s@%s missing or empty: %+v", verb, conc, o)
				}
			}
		}
		if res.Server.PeakRSSBytes == 0 || res.Server.Version == "" {
			t.Errorf("server figures missing: %+v", res.Server)
		}
		if len(res.Series) == 0 {
			t.Error("no time series")
		}
		benchCheckSVG(t, filepath.Join(dir, "api.svg"))
		if !strings.Contains(output, "create") || !strings.Contains(output, "p99 ms") {
			t.Errorf("no readable table in the output:\n%s", output)
		}
	})

	t.Run("schedule", func(t *testing.T) {
		res, output, err := benchRun(t, "schedule", "schedule", "--nodes", "5", "--pods", "10", "--bind-timeout", "15s", "--timeout", "40s")
		if err != nil {
			if !res.OK && strings.Contains(res.Error, bench.ErrNoBinding.Error()) {
				t.Logf("no scheduler bound any pod; binding assertions skipped: %s", res.Error)
				return
			}
			t.Fatalf("schedule failed: %v %s\n%s", err, res.Error, output)
		}
		if got := benchMetric(res, "pods_bound"); got != 10 {
			t.Errorf("pods_bound=%v, want 10\n%s", got, output)
		}
		if got := benchMetric(res, "nodes_registered"); got != 5 {
			t.Errorf("nodes_registered=%v, want 5", got)
		}
	})

	t.Run("startup", func(t *testing.T) {
		res, output, err := benchRun(t, "startup", "startup", "--pods", "1", "--timeout", "15s")
		if err != nil {
			if !res.OK && strings.Contains(res.Error, bench.ErrNotRunning.Error()) {
				t.Logf("no pod ran on a real node (no kubelet, or the image is missing); startup assertions skipped: %s", res.Error)
				return
			}
			t.Fatalf("startup failed: %v %s\n%s", err, res.Error, output)
		}
		if got := benchMetric(res, "pods_ready"); got != 1 {
			t.Errorf("pods_ready=%v, want 1\n%s", got, output)
		}
	})

	t.Run("churn", func(t *testing.T) {
		res, output, err := benchRun(t, "churn", "churn", "--rate", "20", "--duration", "2s", "--live", "5")
		if err != nil || !res.OK {
			t.Fatalf("churn failed: %v %s\n%s", err, res.Error, output)
		}
		var creates, deletes int
		for _, o := range res.Ops {
			switch o.Name {
			case "create":
				creates = o.Count
			case "delete":
				deletes = o.Count
			}
		}
		if creates == 0 || deletes == 0 {
			t.Errorf("creates=%d deletes=%d\n%s", creates, deletes, output)
		}
		rss := false
		for _, p := range res.Series {
			rss = rss || p.RSSMiB > 0
		}
		if !rss {
			t.Error("no server RSS in the time series")
		}
	})

	t.Run("compare", func(t *testing.T) {
		a := filepath.Join(dir, "api.json")
		for _, args := range [][]string{{"bench", "compare", a, a}, {"bench", "--compare", a, a}} {
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("skiff %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if !strings.Contains(string(out), "create@1 throughput") || !strings.Contains(string(out), "1.00x") {
				t.Errorf("skiff %s: no ratios:\n%s", strings.Join(args, " "), out)
			}
		}
	})
}

// benchCheckResult checks what every result must have, whatever the scenario measured.
func benchCheckResult(t *testing.T, r *bench.Result, scenario string) {
	t.Helper()
	if r.Scenario != scenario {
		t.Errorf("scenario=%q, want %q", r.Scenario, scenario)
	}
	if !r.OK && r.Error == "" {
		t.Error("a failed result without an error")
	}
	if r.Machine.Cores < 1 || r.Machine.CPUModel == "" || r.Machine.MemoryBytes == 0 {
		t.Errorf("machine: %+v", r.Machine)
	}
	if r.Server.Version == "" || r.Server.URL == "" {
		t.Errorf("server: %+v", r.Server)
	}
	if r.Started.IsZero() || r.Seconds <= 0 {
		t.Errorf("started %v, seconds %v", r.Started, r.Seconds)
	}
	for _, o := range r.Ops {
		if o.Latency.P50 > o.Latency.P90 || o.Latency.P90 > o.Latency.P99 || o.Latency.P99 > o.Latency.Max {
			t.Errorf("%s: percentiles out of order: %+v", o.Key(), o.Latency)
		}
	}
}

func benchCheckSVG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	for {
		if _, err := d.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s: not well-formed XML: %v", path, err)
			}
			return
		}
	}
}

func benchMetric(r *bench.Result, name string) float64 {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}
