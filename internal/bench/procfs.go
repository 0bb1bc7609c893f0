package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// ErrNoListener is returned by PIDByPort when no process on this machine listens on the port.
var ErrNoListener = errors.New("bench: no local process listens on the port")

// procRoot is where /proc is; tests point it at a fixture tree.
var procRoot = "/proc"

// ReadMachine describes this machine from runtime, /proc/cpuinfo and /proc/meminfo.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile(filepath.Join(procRoot, "cpuinfo")); err == nil {
		m.CPUModel = parseCPUModel(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(procRoot, "meminfo")); err == nil {
		m.MemoryBytes = parseKB(string(b), "MemTotal")
	}
	if b, err := os.ReadFile(filepath.Join(procRoot, "loadavg")); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.LoadAvg1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return m
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo text.
func parseCPUModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseKB returns the value in bytes of a "Key:   1234 kB" line of /proc/meminfo or
// /proc/PID/status text; 0 if absent.
func parseKB(text, key string) uint64 {
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n
	}
	return 0
}

// Memory is a process's resident set now (VmRSS) and its high-water mark (VmHWM), in bytes.
type Memory struct{ RSS, HWM uint64 }

// ReadMemory reads /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	m := Memory{RSS: parseKB(string(b), "VmRSS"), HWM: parseKB(string(b), "VmHWM")}
	if m.RSS == 0 {
		return m, fmt.Errorf("bench: /proc/%d/status has no VmRSS", pid)
	}
	return m, nil
}

// PIDByPort finds the process listening on TCP port: the socket's inode from
// /proc/net/tcp and tcp6 (state 0A, LISTEN), then the process holding that inode
// among /proc/*/fd. It needs permission to read other processes' fds (same user or root).
func PIDByPort(port int) (int, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		b, err := os.ReadFile(filepath.Join(procRoot, f))
		if err != nil {
			continue
		}
		for _, ino := range listenInodes(string(b), port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return 0, ErrNoListener
	}
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: socket found but no process holding it is visible", ErrNoListener)
}

// listenInodes returns the inodes of the LISTEN sockets on port in /proc/net/tcp{,6} text.
func listenInodes(table string, port int) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		if f[9] != "0" {
			out = append(out, f[9])
		}
	}
	return out
}

// isLocalHost reports whether host (a name or address) is this machine.
func isLocalHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.LookupIP(host)
		if err != nil {
			return false
		}
		ips = addrs
	}
	local, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		for _, a := range local {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}
