package bench

import (
	"net"
	"os"
	"strings"
	"testing"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:192B 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7777 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0
`

func TestListenInodes(t *testing.T) {
	tests := []struct {
		port int
		want string
	}{
		{6443, "4242"}, // 0x192B; the established connection on the same port (5555) is not a listener
		{3306, "7777"}, // 0x0CEA
		{6667, ""},     // 0x1A0B has inode 0 (no owner visible)
		{8080, ""},     // absent
	}
	for _, tt := range tests {
		got := strings.Join(listenInodes(tcpTable, tt.port), ",")
		if got != tt.want {
			t.Errorf("port %d: inodes %q, want %q", tt.port, got, tt.want)
		}
	}
}

func TestParseProcText(t *testing.T) {
	status := "Name:\tskiff\nVmPeak:\t 2000 kB\nVmHWM:\t  300 kB\nVmRSS:\t  200 kB\nThreads:\t12\n"
	if got := parseKB(status, "VmRSS"); got != 200*1024 {
		t.Errorf("VmRSS=%d", got)
	}
	if got := parseKB(status, "VmHWM"); got != 300*1024 {
		t.Errorf("VmHWM=%d", got)
	}
	if got := parseKB(status, "Threads"); got != 12 {
		t.Errorf("Threads=%d (no unit: as is)", got)
	}
	if got := parseKB(status, "VmSwap"); got != 0 {
		t.Errorf("absent key=%d", got)
	}
	if got := parseKB("MemTotal:       24576000 kB\nMemFree: 1 kB\n", "MemTotal"); got != 24576000*1024 {
		t.Errorf("MemTotal=%d", got)
	}
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor @ 2.80GHz\n\nprocessor\t: 1\nmodel name\t: other\n"
	if got := parseCPUModel(cpuinfo); got != "Intel(R) Xeon(R) Processor @ 2.80GHz" {
		t.Errorf("model=%q", got)
	}
}

func TestPIDByPortFindsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pid, err := PIDByPort(l.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	if pid != os.Getpid() {
		t.Errorf("PIDByPort=%d, want this process %d", pid, os.Getpid())
	}
	m, err := ReadMemory(pid)
	if err != nil || m.RSS == 0 || m.HWM < m.RSS {
		t.Errorf("ReadMemory=%+v, %v", m, err)
	}
	if pid, source := findServerPID("https://127.0.0.1:" + strings.Split(l.Addr().String(), ":")[1]); pid != os.Getpid() || source == "" {
		t.Errorf("findServerPID=%d %q", pid, source)
	}
	if pid, _ := findServerPID("https://192.0.2.1:6443"); pid != 0 {
		t.Errorf("findServerPID on a remote host=%d, want 0", pid)
	}
}

func TestReadMachine(t *testing.T) {
	m := ReadMachine()
	if m.Cores < 1 || m.OS == "" || m.GoVersion == "" {
		t.Errorf("ReadMachine=%+v", m)
	}
}
