package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// logOptions are the query parameters of /containerLogs (those of pods/log).
type logOptions struct {
	follow, previous, timestamps bool
	tail                         int64 // -1: all
	since                        time.Time
	limitBytes                   int64 // 0: no limit
}

func parseLogOptions(r *http.Request, now time.Time) logOptions {
	q := r.URL.Query()
	b := func(k string) bool { v := q.Get(k); return v == "true" || v == "1" }
	o := logOptions{follow: b("follow"), previous: b("previous"), timestamps: b("timestamps"), tail: -1}
	if v, err := strconv.ParseInt(q.Get("tailLines"), 10, 64); err == nil && v >= 0 {
		o.tail = v
	}
	if v, err := strconv.ParseInt(q.Get("sinceSeconds"), 10, 64); err == nil && v > 0 {
		o.since = now.Add(-time.Duration(v) * time.Second)
	}
	if v, err := time.Parse(time.RFC3339, q.Get("sinceTime")); err == nil {
		o.since = v
	}
	if v, err := strconv.ParseInt(q.Get("limitBytes"), 10, 64); err == nil && v > 0 {
		o.limitBytes = v
	}
	return o
}

// logLine is one line of a CRI log file: "<RFC3339Nano> <stream> <P|F> <content>".
type logLine struct {
	ts      time.Time
	stream  string
	partial bool
	content []byte
}

func parseCRILine(b []byte) (logLine, bool) {
	var l logLine
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return l, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(b[:i]))
	if err != nil {
		return l, false
	}
	rest := b[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return l, false
	}
	l.ts, l.stream = ts, string(rest[:j])
	rest = rest[j+1:]
	if len(rest) >= 2 && (rest[0] == 'P' || rest[0] == 'F') && rest[1] == ' ' {
		l.partial = rest[0] == 'P'
		rest = rest[2:]
	} else if len(rest) == 1 && (rest[0] == 'P' || rest[0] == 'F') {
		l.partial = rest[0] == 'P'
		rest = nil
	}
	l.content = rest
	return l, true
}

// logWriter writes log lines in kubectl's format and stops at limitBytes.
type logWriter struct {
	w          io.Writer
	flush      func()
	timestamps bool
	left       int64 // <0: unlimited
}

func (lw *logWriter) write(l logLine) bool {
	var buf []byte
	if lw.timestamps {
		buf = append(buf, l.ts.UTC().Format(time.RFC3339Nano)...)
		buf = append(buf, ' ')
	}
	buf = append(buf, l.content...)
	if !l.partial {
		buf = append(buf, '\n')
	}
	if lw.left >= 0 {
		if int64(len(buf)) > lw.left {
			buf = buf[:lw.left]
		}
		lw.left -= int64(len(buf))
	}
	if _, err := lw.w.Write(buf); err != nil {
		return false
	}
	if lw.flush != nil {
		lw.flush()
	}
	return lw.left != 0
}

// serveLogFile writes the log at path with opts; with follow it keeps going until running() says false and the file
// has no more data, or ctx ends.
func serveLogFile(ctx context.Context, w io.Writer, flush func(), path string, o logOptions, running func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lw := &logWriter{w: w, flush: flush, timestamps: o.timestamps, left: -1}
	if o.limitBytes > 0 {
		lw.left = o.limitBytes
	}
	r := bufio.NewReaderSize(f, 64<<10)
	// Initial content: apply since and tail.
	var lines []logLine
	var pending []byte
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			if len(pending) > 0 {
				b = append(pending, b...)
				pending = nil
			}
			if l, ok := parseCRILine(bytes.TrimRight(b, "\n")); ok && (o.since.IsZero() || !l.ts.Before(o.since)) {
				lines = append(lines, l)
			}
		} else if len(b) > 0 {
			pending = append(pending, b...)
		}
		if err != nil {
			break
		}
	}
	if o.tail >= 0 {
		// Count whole lines (a line is complete at an F entry).
		n, start := int64(0), len(lines)
		for i := len(lines) - 1; i >= 0; i-- {
			if !lines[i].partial {
				if n == o.tail {
					break
				}
				n++
			}
			start = i
		}
		if o.tail == 0 {
			start = len(lines)
		}
		lines = lines[start:]
	}
	for _, l := range lines {
		if !lw.write(l) {
			return nil
		}
	}
	if !o.follow {
		return nil
	}
	idle := 0
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			pending = append(pending, b...)
			if pending[len(pending)-1] == '\n' {
				if l, ok := parseCRILine(bytes.TrimRight(pending, "\n")); ok {
					if !lw.write(l) {
						return nil
					}
				}
				pending = nil
			}
			idle = 0
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		idle++
		if idle%5 == 0 && !running() {
			// One more read to catch the last lines written before exit.
			if b, _ := r.ReadBytes('\n'); len(b) > 0 {
				pending = append(pending, b...)
				continue
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// containerRunning asks the runtime whether a container still runs.
func (k *Kubelet) containerRunning(ctx context.Context, id string) bool {
	st, err := k.cri.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	return err == nil && st.Status != nil && (st.Status.State == runtimeapi.ContainerState_CONTAINER_RUNNING || st.Status.State == runtimeapi.ContainerState_CONTAINER_CREATED)
}

// logTail returns the last lines (at most maxBytes) of a CRI log file, without timestamps.
func logTail(path string, lines, maxBytes int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		if ll, ok := parseCRILine(l); ok {
			out = append(out, string(ll.content))
		}
	}
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	s := strings.Join(out, "\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}
