// Command dig is a small dig subset for the local e2e test image (+[no]tcp +noall +answer +search +short, @server, type).
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func main() {
	tcp, search, short := false, false, false
	server := ""
	qtype := dns.TypeA
	var name string
	for _, a := range os.Args[1:] {
		switch {
		case a == "+tcp":
			tcp = true
		case a == "+notcp":
			tcp = false
		case a == "+search":
			search = true
		case a == "+short":
			short = true
		case strings.HasPrefix(a, "+"):
		case strings.HasPrefix(a, "@"):
			server = a[1:]
		default:
			if t, ok := dns.StringToType[strings.ToUpper(a)]; ok && name != "" {
				qtype = t
			} else {
				name = a
			}
		}
	}
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dig:", err)
		os.Exit(10)
	}
	if server == "" && len(cfg.Servers) > 0 {
		server = cfg.Servers[0]
	}
	names := []string{dns.Fqdn(name)}
	if search && !strings.HasSuffix(name, ".") {
		names = cfg.NameList(name)
	}
	c := &dns.Client{Timeout: 5 * time.Second}
	if tcp {
		c.Net = "tcp"
	}
	for _, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, qtype)
		r, _, err := c.Exchange(m, server+":53")
		if err != nil {
			fmt.Fprintf(os.Stderr, ";; connection timed out; no servers could be reached: %v\n", err)
			os.Exit(9)
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			continue
		}
		for _, rr := range r.Answer {
			if short {
				s := rr.String()
				h := rr.Header().String()
				fmt.Println(strings.TrimPrefix(s, h))
			} else {
				fmt.Println(rr.String())
			}
		}
		return
	}
}
