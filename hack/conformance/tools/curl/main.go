// Command curl is a small curl subset for the local e2e test image (flags the upstream e2e suite uses).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		silent, insecure, verbose, include, head, fail bool
		out, wfmt, method, iface, data                 string
		connectTimeout, maxTime                        time.Duration
		headers                                        []string
		url                                            string
	)
	args := os.Args[1:]
	next := func(i *int) string {
		*i++
		if *i >= len(args) {
			fmt.Fprintln(os.Stderr, "curl: option needs an argument")
			os.Exit(2)
		}
		return args[*i]
	}
	secs := func(s string) time.Duration {
		f, _ := strconv.ParseFloat(s, 64)
		return time.Duration(f * float64(time.Second))
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-q" || a == "-g" || a == "-4" || a == "-L" || a == "--globoff":
		case a == "-s" || a == "--silent":
			silent = true
		case a == "-k" || a == "--insecure":
			insecure = true
		case a == "-v":
			verbose = true
		case a == "-i":
			include = true
		case a == "-I" || a == "--head":
			head = true
		case a == "-f" || a == "--fail":
			fail = true
		case a == "-sk" || a == "-ks":
			silent, insecure = true, true
		case a == "-sI" || a == "-sIk" || a == "-sik":
			silent, head = true, true
			insecure = strings.Contains(a, "k")
		case a == "-o":
			out = next(&i)
		case a == "-w":
			wfmt = next(&i)
		case a == "-X" || a == "--request":
			method = next(&i)
		case strings.HasPrefix(a, "-X"):
			method = a[2:]
		case a == "-H" || a == "--header":
			headers = append(headers, next(&i))
		case a == "-d" || a == "--data":
			data = next(&i)
		case a == "--interface":
			iface = next(&i)
		case a == "--connect-timeout":
			connectTimeout = secs(next(&i))
		case a == "-m" || a == "--max-time":
			maxTime = secs(next(&i))
		case strings.HasPrefix(a, "-"):
			// ignore unknown flags
		default:
			url = a
		}
	}
	_ = silent
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	d := &net.Dialer{Timeout: connectTimeout}
	if iface != "" {
		if ip := net.ParseIP(iface); ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
	}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}}
	c := &http.Client{Transport: tr}
	ctx := context.Background()
	if maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxTime)
		defer cancel()
	}
	if method == "" {
		method = "GET"
		if head {
			method = "HEAD"
		}
		if data != "" {
			method = "POST"
		}
	}
	var body io.Reader
	if data != "" {
		body = strings.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "curl: (3)", err)
		os.Exit(3)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		code := 7
		var dnsErr *net.DNSError
		var ne net.Error
		switch {
		case errors.As(err, &dnsErr):
			code = 6
		case errors.As(err, &ne) && ne.Timeout():
			code = 28
		}
		if !silent || verbose {
			fmt.Fprintf(os.Stderr, "curl: (%d) %v\n", code, err)
		}
		if wfmt != "" {
			fmt.Print(strings.ReplaceAll(wfmt, "%{http_code}", "000"))
		}
		os.Exit(code)
	}
	defer resp.Body.Close()
	w := io.Writer(os.Stdout)
	if out != "" && out != "-" {
		f, err := os.Create(out)
		if err == nil {
			defer f.Close()
			w = f
		}
	}
	if include || head || verbose {
		hw := w
		if verbose && !include && !head {
			hw = os.Stderr
		}
		fmt.Fprintf(hw, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
		_ = resp.Header.Write(hw)
		fmt.Fprint(hw, "\r\n")
	}
	if fail && resp.StatusCode >= 400 {
		os.Exit(22)
	}
	_, _ = io.Copy(w, resp.Body)
	if wfmt != "" {
		fmt.Print(strings.ReplaceAll(wfmt, "%{http_code}", strconv.Itoa(resp.StatusCode)))
	}
}
