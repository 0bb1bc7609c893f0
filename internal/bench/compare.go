package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Row is one figure present in either of two results.
type Row struct {
	// Name is "create@16 throughput", "bind p99" or a metric's name.
	Name string
	Unit string
	A, B float64
	// InA and InB say whether the figure is in each result.
	InA, InB bool
	// Ratio is B/A (0 when A is 0 or either side is missing).
	Ratio float64
	// Verdict is "better", "worse" or "" (same within 5%, no direction, or missing), for B against A.
	Verdict string
}

// tolerance is the relative change Compare calls a difference.
const tolerance = 0.05

// Compare lines up the figures of a and b: every op's throughput and p50/p90/p99
// latency, and every metric, in a's order followed by figures only b has.
func Compare(a, b *Result) []Row {
	type fig struct {
		name, unit, better string
		v                  float64
	}
	flatten := func(r *Result) []fig {
		var out []fig
		for _, o := range r.Ops {
			k := o.Key()
			out = append(out,
				fig{k + " throughput", "/s", "higher", o.Throughput},
				fig{k + " p50", "ms", "lower", o.Latency.P50},
				fig{k + " p90", "ms", "lower", o.Latency.P90},
				fig{k + " p99", "ms", "lower", o.Latency.P99},
			)
		}
		for _, m := range r.Metrics {
			out = append(out, fig{m.Name, m.Unit, m.Better, m.Value})
		}
		return out
	}
	fa, fb := flatten(a), flatten(b)
	inB := map[string]fig{}
	for _, f := range fb {
		inB[f.name] = f
	}
	seen := map[string]bool{}
	var rows []Row
	for _, f := range fa {
		seen[f.name] = true
		row := Row{Name: f.name, Unit: f.unit, A: f.v, InA: true}
		if g, ok := inB[f.name]; ok {
			row.B, row.InB = g.v, true
			row.Ratio, row.Verdict = judge(f.v, g.v, f.better)
		}
		rows = append(rows, row)
	}
	for _, f := range fb {
		if !seen[f.name] {
			rows = append(rows, Row{Name: f.name, Unit: f.unit, B: f.v, InB: true})
		}
	}
	return rows
}

// judge returns b/a and whether b is better or worse than a given which direction is better.
func judge(a, b float64, better string) (ratio float64, verdict string) {
	if a == 0 {
		if b == 0 {
			return 0, ""
		}
		return 0, map[bool]string{true: "better", false: "worse"}[better == "higher"]
	}
	ratio = round3(b / a)
	if better == "" || (ratio > 1-tolerance && ratio < 1+tolerance) {
		return ratio, ""
	}
	if (ratio > 1) == (better == "higher") {
		return ratio, "better"
	}
	return ratio, "worse"
}

// WriteComparison prints the rows of Compare(a, b) as a table.
func WriteComparison(w io.Writer, a, b *Result, aName, bName string) error {
	fmt.Fprintf(w, "A: %s (%s, %s, %d cores)\nB: %s (%s, %s, %d cores)\n", aName, a.Scenario, orDash(a.Server.Version), a.Machine.Cores,
		bName, b.Scenario, orDash(b.Server.Version), b.Machine.Cores)
	if a.Scenario != b.Scenario {
		fmt.Fprintf(w, "warning: comparing different scenarios (%s, %s)\n", a.Scenario, b.Scenario)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tunit\tA\tB\tB/A\t")
	for _, r := range Compare(a, b) {
		av, bv, ratio := "-", "-", "-"
		if r.InA {
			av = fmtNum(r.A)
		}
		if r.InB {
			bv = fmtNum(r.B)
		}
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		if r.Verdict != "" {
			ratio += " " + r.Verdict
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Unit, av, bv, ratio)
	}
	return tw.Flush()
}
