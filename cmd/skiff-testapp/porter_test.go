package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPorterHandler(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		json         bool
		body, ctype  string
	}{
		{name: "plain", method: "GET", body: "foo"},
		{name: "json", method: "POST", json: true, body: `{"Method":"POST","Body":"foo"}`, ctype: "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(porterHandler("foo", tc.json))
			defer srv.Close()
			req, _ := http.NewRequest(tc.method, srv.URL+"/any/path", strings.NewReader("x"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tc.body {
				t.Errorf("body = %q, want %q", b, tc.body)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
		})
	}
}

func TestPorterUDP(t *testing.T) {
	ready := make(chan net.Addr, 1)
	go func() { _ = serveUDPValue("127.0.0.1:0", "udp-value", ready) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("UDP server did not start")
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "udp-value" {
		t.Errorf("answer = %q, want udp-value", got)
	}
}
