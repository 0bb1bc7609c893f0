package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
)

func TestRecorder(t *testing.T) {
	clk := clock.NewFake(t0)
	r := NewRecorder(clk, t0)
	r.AddAt("create", 4, 100*time.Millisecond, 2*time.Millisecond, nil)
	r.AddAt("create", 4, 900*time.Millisecond, 4*time.Millisecond, nil)
	r.AddAt("create", 4, 1100*time.Millisecond, 0, errors.New("boom"))
	r.AddAt("get", 4, 1500*time.Millisecond, time.Millisecond, nil)
	r.Span("get", 4, 2*time.Second)
	ops := r.Ops()
	if len(ops) != 2 || ops[0].Key() != "create@4" || ops[1].Key() != "get@4" {
		t.Fatalf("ops=%+v", ops)
	}
	c := ops[0]
	if c.Count != 2 || c.Errors != 1 || c.Seconds != 1 || c.Throughput != 2 || c.Latency.P50 != 2 || c.Latency.Max != 4 {
		t.Errorf("create=%+v (span first to last completion: 0.1s..1.1s)", c)
	}
	if g := ops[1]; g.Seconds != 2 || g.Throughput != 0.5 {
		t.Errorf("get=%+v (explicit span 2s)", g)
	}
}

func TestSeries(t *testing.T) {
	events := []event{
		{done: 100 * time.Millisecond, lat: 1 * time.Millisecond, label: "create@1"},
		{done: 200 * time.Millisecond, lat: 3 * time.Millisecond, label: "create@1"},
		{done: 900 * time.Millisecond, lat: 2 * time.Millisecond, label: "get@1"},
		{done: 2500 * time.Millisecond, lat: 10 * time.Millisecond, label: "get@1"},
	}
	mem := []memSample{{t: 0, rss: 100 << 20}, {t: 1500 * time.Millisecond, rss: 150 << 20}}
	pts := series(events, mem, time.Second)
	want := []Point{
		{T: 1, Label: "create@1", Throughput: 3, P50: 2, P90: 3, P99: 3, RSSMiB: 100},
		{T: 2, Throughput: 0, RSSMiB: 150},
		{T: 3, Label: "get@1", Throughput: 1, P50: 10, P90: 10, P99: 10, RSSMiB: 150},
	}
	if len(pts) != len(want) {
		t.Fatalf("points=%+v", pts)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Errorf("point %d=%+v, want %+v", i, pts[i], want[i])
		}
	}
	if got := series(nil, nil, time.Second); got != nil {
		t.Errorf("empty series=%v", got)
	}
}

func sampleResult() *Result {
	return &Result{
		Scenario: "api", OK: true, Started: t0, Seconds: 3,
		Machine: Machine{Cores: 2, CPUModel: "Test CPU <x&y>", MemoryBytes: 8 << 30},
		Server:  Server{URL: "https://127.0.0.1:6443", Version: "v1.32.4-skiff", PID: 42, PIDSource: "flag", PeakRSSBytes: 200 << 20},
		Params:  map[string]string{"duration": "1s"},
		Ops:     []Op{{Name: "create", Concurrency: 1, Count: 10, Seconds: 1, Throughput: 10, Latency: Latency{P50: 1, P90: 2, P99: 3, Max: 3, Mean: 1.5}}},
		Metrics: []Metric{{Name: "server_peak_rss", Value: 200, Unit: "MiB", Better: "lower"}},
		Series: []Point{
			{T: 1, Label: "create@1", Throughput: 10, P50: 1, P90: 2, P99: 3, RSSMiB: 190},
			{T: 2, Label: "get@1", Throughput: 50, P50: 0.5, P90: 1, P99: 2, RSSMiB: 200},
		},
	}
}

func TestResultJSONAndTable(t *testing.T) {
	r := sampleResult()
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scenario != "api" || len(got.Ops) != 1 || got.Ops[0].Latency.P99 != 3 || got.Server.PeakRSSBytes != 200<<20 {
		t.Errorf("round trip: %+v", got)
	}
	var out bytes.Buffer
	if err := got.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario api: ok", "2 cores", "v1.32.4-skiff", "create", "server_peak_rss"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	r.Fail(errors.New("first"))
	r.Fail(errors.New("second"))
	if r.OK || r.Error != "first" {
		t.Errorf("Fail: ok=%v error=%q, want the first error kept", r.OK, r.Error)
	}
}

func TestWriteSVG(t *testing.T) {
	for _, r := range []*Result{sampleResult(), {Scenario: "empty"}} {
		var b bytes.Buffer
		if err := WriteSVG(&b, r); err != nil {
			t.Fatal(err)
		}
		// Well-formed XML all the way through.
		d := xml.NewDecoder(&b)
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: SVG not well-formed: %v", r.Scenario, err)
				}
				break
			}
		}
	}
	var b bytes.Buffer
	_ = WriteSVG(&b, sampleResult())
	for _, want := range []string{"<polyline", "p99", "server RSS", "Test CPU &lt;x&amp;y&gt;"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 1}, {0.3, 1}, {1.2, 2}, {3, 5}, {7, 10}, {12, 20}, {480, 500}, {501, 1000}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%v)=%v, want %v", tt.in, got, tt.want)
		}
	}
}
