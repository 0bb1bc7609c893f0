package bench

import (
	"slices"
	"testing"
	"time"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{name: "empty", samples: nil, p: 50, want: 0},
		{name: "one sample, any p", samples: durations(7), p: 99, want: 7 * time.Millisecond},
		{name: "p0 is the minimum", samples: durations(1, 2, 3), p: 0, want: time.Millisecond},
		{name: "p100 is the maximum", samples: durations(1, 2, 3), p: 100, want: 3 * time.Millisecond},
		{name: "median of odd count", samples: durations(1, 2, 3, 4, 5), p: 50, want: 3 * time.Millisecond},
		{name: "median of even count: lower middle (nearest rank)", samples: durations(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "1..100: p50", samples: hundred, p: 50, want: 50 * time.Millisecond},
		{name: "1..100: p90", samples: hundred, p: 90, want: 90 * time.Millisecond},
		{name: "1..100: p99", samples: hundred, p: 99, want: 99 * time.Millisecond},
		{name: "1..100: p99.9 rounds up", samples: hundred, p: 99.9, want: 100 * time.Millisecond},
		{name: "10 samples: p99 is the max", samples: durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 99, want: 10 * time.Millisecond},
		{name: "10 samples: p90", samples: durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 90, want: 9 * time.Millisecond},
		{name: "p above 100 is the maximum", samples: durations(1, 2), p: 150, want: 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("Percentile(p%v)=%v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// TestPercentileAgainstNaive checks nearest rank against counting: the result is the
// smallest sample with at least p% of the samples at or below it.
func TestPercentileAgainstNaive(t *testing.T) {
	samples := durations(5, 1, 9, 3, 3, 8, 2, 7, 7, 6, 4, 10, 1)
	slices.Sort(samples)
	for p := 1.0; p <= 100; p += 0.5 {
		got := Percentile(samples, p)
		var want time.Duration
		for _, c := range samples {
			n := 0
			for _, s := range samples {
				if s <= c {
					n++
				}
			}
			if float64(n)*100 >= p*float64(len(samples)) {
				want = c
				break
			}
		}
		if got != want {
			t.Fatalf("p%v: got %v, naive %v", p, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize(durations(4, 1, 3, 2))
	want := Latency{P50: 2, P90: 4, P99: 4, Max: 4, Mean: 2.5}
	if got != want {
		t.Errorf("Summarize=%+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (Latency{}) {
		t.Errorf("Summarize(nil)=%+v", got)
	}
	if got := Summarize([]time.Duration{1500 * time.Microsecond}); got.P50 != 1.5 {
		t.Errorf("sub-millisecond precision lost: %+v", got)
	}
}
