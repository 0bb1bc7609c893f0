package sim

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// CPUTime returns the user+system CPU time a process has used so far, from /proc/PID/stat
// (pid 0 means this process).
func CPUTime(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime+stime from the text of /proc/PID/stat.
func ParseStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may contain spaces; fields after it are plain.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("sim: /proc stat: no command field")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("sim: /proc stat: %d fields", len(f)+2)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sim: /proc stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// CPUMeter turns successive CPU-time readings into a share of one core.
type CPUMeter struct {
	lastCPU  time.Duration
	lastWall time.Time
}

// Share returns the CPU used since the previous call as a fraction of one core
// (1.0 = one core fully busy); the first call returns 0.
func (m *CPUMeter) Share(cpu time.Duration, now time.Time) float64 {
	defer func() { m.lastCPU, m.lastWall = cpu, now }()
	if m.lastWall.IsZero() {
		return 0
	}
	wall := now.Sub(m.lastWall)
	if wall <= 0 {
		return 0
	}
	return float64(cpu-m.lastCPU) / float64(wall)
}
