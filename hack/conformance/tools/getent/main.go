// Command getent is `getent hosts NAME...` for the local e2e test image (the resolver of /etc/hosts and /etc/resolv.conf).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) < 3 || os.Args[1] != "hosts" {
		fmt.Fprintln(os.Stderr, "usage: getent hosts NAME...")
		os.Exit(1)
	}
	r := &net.Resolver{PreferGo: true}
	code := 0
	for _, name := range os.Args[2:] {
		addrs, err := r.LookupHost(context.Background(), name)
		if err != nil || len(addrs) == 0 {
			code = 2
			continue
		}
		fmt.Printf("%-15s %s\n", addrs[0], name)
	}
	os.Exit(code)
}
