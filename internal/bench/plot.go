package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
)

// WriteSVGFile writes WriteSVG's drawing of r to path.
func WriteSVGFile(r *Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteSVG(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteSVG draws r's series as a standalone SVG: latency percentiles (p50, p90, p99)
// over time, throughput over time and, when known, the server's RSS over time, with
// the phases (labels) marked.
func WriteSVG(w io.Writer, r *Result) error {
	const (
		width  = 960
		left   = 70
		right  = 20
		top    = 50
		panelH = 200
		gap    = 50
	)
	pts := r.Series
	hasRSS := false
	for _, p := range pts {
		if p.RSSMiB > 0 {
			hasRSS = true
		}
	}
	type line struct {
		name  string
		color string
		v     func(Point) float64
	}
	panels := []struct {
		title string
		unit  string
		lines []line
	}{
		{"latency", "ms", []line{
			{"p50", "#1f77b4", func(p Point) float64 { return p.P50 }},
			{"p90", "#ff7f0e", func(p Point) float64 { return p.P90 }},
			{"p99", "#d62728", func(p Point) float64 { return p.P99 }},
		}},
		{"throughput", "ops/s", []line{{"completed", "#2ca02c", func(p Point) float64 { return p.Throughput }}}},
	}
	if hasRSS {
		panels = append(panels, struct {
			title string
			unit  string
			lines []line
		}{"server RSS", "MiB", []line{{"VmRSS", "#9467bd", func(p Point) float64 { return p.RSSMiB }}}})
	}
	height := top + len(panels)*(panelH+gap) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("skiff bench %s — %s, %s, %d cores", r.Scenario, orDash(r.Server.Version), r.Machine.CPUModel, r.Machine.Cores)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	tmax := 0.0
	for _, p := range pts {
		tmax = math.Max(tmax, p.T)
	}
	if tmax == 0 {
		tmax = 1
	}
	plotW := float64(width - left - right)
	x := func(t float64) float64 { return left + t/tmax*plotW }
	for i, pn := range panels {
		y0 := float64(top + i*(panelH+gap))
		vmax := 0.0
		for _, p := range pts {
			for _, l := range pn.lines {
				vmax = math.Max(vmax, l.v(p))
			}
		}
		vmax = niceCeil(vmax)
		y := func(v float64) float64 { return y0 + panelH - v/vmax*panelH }
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" font-weight="bold">%s (%s)</text>`+"\n", left, y0-8, pn.title, pn.unit)
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%.0f" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, plotW, panelH)
		for k := 0; k <= 4; k++ {
			v := vmax * float64(k) / 4
			fmt.Fprintf(&b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, left, left+plotW, y(v), y(v))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-4, y(v)+4, fmtAxis(v))
		}
		for k := 0; k <= 10; k++ {
			t := tmax * float64(k) / 10
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#666">%.0fs</text>`, x(t), y0+panelH+14, t)
		}
		b.WriteString("\n")
		// Phase boundaries.
		prev := ""
		for j, p := range pts {
			if p.Label != "" && p.Label != prev {
				xs := x(p.T - windowOf(pts, j))
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%d" stroke="#ccc" stroke-dasharray="3,3"/>`, xs, xs, y0, int(y0)+panelH)
				if i == 0 {
					fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" fill="#888" font-size="9" transform="rotate(-90 %.1f %.0f)">%s</text>`, xs+10, y0+panelH-4, xs+10, y0+panelH-4, html.EscapeString(p.Label))
				}
				b.WriteString("\n")
				prev = p.Label
			}
		}
		for li, l := range pn.lines {
			var coords []string
			for _, p := range pts {
				coords = append(coords, fmt.Sprintf("%.1f,%.1f", x(p.T), y(l.v(p))))
			}
			if len(coords) > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", l.color, strings.Join(coords, " "))
			}
			lx := left + int(plotW) - 90*(len(pn.lines)-li)
			fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="10" height="10" fill="%s"/><text x="%d" y="%.0f">%s</text>`+"\n", lx, y0-18, l.color, lx+14, y0-9, l.name)
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// windowOf is the length of the window ending at point j.
func windowOf(pts []Point, j int) float64 {
	if j > 0 {
		return pts[j].T - pts[j-1].T
	}
	return pts[0].T
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtAxis(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
