package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		a, b        float64
		better      string
		wantRatio   float64
		wantVerdict string
	}{
		{100, 200, "higher", 2, "better"},
		{100, 50, "higher", 0.5, "worse"},
		{10, 5, "lower", 0.5, "better"},
		{10, 20, "lower", 2, "worse"},
		{100, 103, "higher", 1.03, ""}, // within 5%
		{100, 97, "lower", 0.97, ""},
		{100, 200, "", 2, ""}, // no direction
		{0, 0, "lower", 0, ""},
		{0, 5, "higher", 0, "better"},
		{0, 5, "lower", 0, "worse"},
	}
	for _, tt := range tests {
		r, v := judge(tt.a, tt.b, tt.better)
		if r != tt.wantRatio || v != tt.wantVerdict {
			t.Errorf("judge(%v, %v, %q)=(%v, %q), want (%v, %q)", tt.a, tt.b, tt.better, r, v, tt.wantRatio, tt.wantVerdict)
		}
	}
}

func TestCompare(t *testing.T) {
	a := &Result{Scenario: "api",
		Ops: []Op{
			{Name: "create", Concurrency: 1, Throughput: 100, Latency: Latency{P50: 2, P90: 4, P99: 8}},
			{Name: "get", Concurrency: 1, Throughput: 1000, Latency: Latency{P50: 1, P90: 1, P99: 2}},
		},
		Metrics: []Metric{{Name: "server_peak_rss", Value: 200, Unit: "MiB", Better: "lower"}},
	}
	b := &Result{Scenario: "api",
		Ops: []Op{
			{Name: "create", Concurrency: 1, Throughput: 150, Latency: Latency{P50: 2, P90: 3, P99: 16}},
			{Name: "list", Concurrency: 1, Throughput: 10},
		},
		Metrics: []Metric{{Name: "server_peak_rss", Value: 100, Unit: "MiB", Better: "lower"}},
	}
	rows := Compare(a, b)
	byName := map[string]Row{}
	var order []string
	for _, r := range rows {
		byName[r.Name] = r
		order = append(order, r.Name)
	}
	tests := []struct {
		name     string
		inA, inB bool
		ratio    float64
		verdict  string
	}{
		{"create@1 throughput", true, true, 1.5, "better"},
		{"create@1 p50", true, true, 1, ""},
		{"create@1 p90", true, true, 0.75, "better"},
		{"create@1 p99", true, true, 2, "worse"},
		{"get@1 throughput", true, false, 0, ""},
		{"list@1 throughput", false, true, 0, ""},
		{"server_peak_rss", true, true, 0.5, "better"},
	}
	for _, tt := range tests {
		r, ok := byName[tt.name]
		if !ok {
			t.Errorf("row %q missing; rows: %v", tt.name, order)
			continue
		}
		if r.InA != tt.inA || r.InB != tt.inB || r.Ratio != tt.ratio || r.Verdict != tt.verdict {
			t.Errorf("%s: got %+v, want inA %v inB %v ratio %v verdict %q", tt.name, r, tt.inA, tt.inB, tt.ratio, tt.verdict)
		}
	}
	// a's figures first, in a's order; b-only figures last.
	if order[0] != "create@1 throughput" || !strings.HasPrefix(order[len(order)-1], "list@1") {
		t.Errorf("order: %v", order)
	}
	var out bytes.Buffer
	if err := WriteComparison(&out, a, b, "a.json", "b.json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"create@1 throughput", "1.50x better", "2.00x worse", "a.json"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison output lacks %q:\n%s", want, out.String())
		}
	}
}
