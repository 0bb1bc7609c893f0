// Command nc is the netcat-openbsd subset the upstream e2e suite uses: nc [-v] [-t|-u] [-z] [-w secs] host port.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	verbose, udp, zero := false, false, false
	wait := time.Duration(0)
	var pos []string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'v':
					verbose = true
				case 'u':
					udp = true
				case 't', 'n', 'N', 'q':
				case 'z':
					zero = true
				case 'w':
					if j+1 < len(a) {
						n, _ := strconv.Atoi(a[j+1:])
						wait = time.Duration(n) * time.Second
					} else if i+1 < len(args) {
						i++
						n, _ := strconv.Atoi(args[i])
						wait = time.Duration(n) * time.Second
					}
					j = len(a)
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) != 2 {
		fmt.Fprintln(os.Stderr, "usage: nc [-vtuz] [-w secs] host port")
		os.Exit(1)
	}
	network := "tcp"
	if udp {
		network = "udp"
	}
	addr := net.JoinHostPort(pos[0], pos[1])
	d := net.Dialer{Timeout: wait}
	if wait == 0 {
		d.Timeout = 30 * time.Second
	}
	c, err := d.Dial(network, addr)
	if err != nil {
		if verbose {
			fmt.Fprintf(os.Stderr, "nc: connect to %s port %s (%s) failed: %v\n", pos[0], pos[1], network, err)
		}
		os.Exit(1)
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "Connection to %s %s port [%s/*] succeeded!\n", pos[0], pos[1], network)
	}
	if zero {
		c.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(os.Stdout, c)
		close(done)
	}()
	_, _ = io.Copy(c, os.Stdin)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	if wait > 0 {
		if udp {
			_ = c.SetReadDeadline(time.Now().Add(wait))
		}
		select {
		case <-done:
		case <-time.After(wait):
		}
	} else {
		<-done
	}
	c.Close()
}
