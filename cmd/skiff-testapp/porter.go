package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// porter is agnhost's porter: for every environment variable SERVE_PORT_N or SERVE_TCP_PORT_N it serves the
// variable's value over HTTP on port N, for SERVE_TLS_PORT_N over HTTPS (CERT_FILE and KEY_FILE, default
// localhost.crt and localhost.key in the working directory) and for SERVE_UDP_PORT_N as the answer to every
// datagram. SERVE_SCTP_PORT_N is not supported (the image has no SCTP library); it is logged and skipped.
func porter(args []string) error {
	fs := flag.NewFlagSet("porter", flag.ContinueOnError)
	jsonResp := fs.Bool("json-response", false, "answer with a JSON object holding the request method and the value")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("porter: unexpected arguments %q", fs.Args())
	}
	for _, kv := range os.Environ() {
		key, value, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(key, "SERVE_PORT_"):
			go serveHTTPValue(strings.TrimPrefix(key, "SERVE_PORT_"), value, *jsonResp, false)
		case strings.HasPrefix(key, "SERVE_TCP_PORT_"):
			go serveHTTPValue(strings.TrimPrefix(key, "SERVE_TCP_PORT_"), value, *jsonResp, false)
		case strings.HasPrefix(key, "SERVE_TLS_PORT_"):
			go serveHTTPValue(strings.TrimPrefix(key, "SERVE_TLS_PORT_"), value, *jsonResp, true)
		case strings.HasPrefix(key, "SERVE_UDP_PORT_"):
			go func(port string) {
				if err := serveUDPValue("0.0.0.0:"+port, value, nil); err != nil {
					log.Printf("UDP server on port %s failed: %v", port, err)
				}
			}(strings.TrimPrefix(key, "SERVE_UDP_PORT_"))
		case strings.HasPrefix(key, "SERVE_SCTP_PORT_"):
			log.Printf("SCTP is not supported by this image; %s ignored", key)
		}
	}
	select {}
}

// porterHandler answers every request with value, or with {"Method":…,"Body":value} when jsonResp is set.
func porterHandler(value string, jsonResp bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !jsonResp {
			fmt.Fprint(w, value)
			return
		}
		j, err := json.Marshal(struct{ Method, Body string }{r.Method, value})
		if err != nil {
			http.Error(w, fmt.Sprintf("Internal Server Error: %v", err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, string(j))
	})
}

func serveHTTPValue(port, value string, jsonResp, tls bool) {
	s := &http.Server{Addr: "0.0.0.0:" + port, Handler: porterHandler(value, jsonResp), ReadHeaderTimeout: 10 * time.Second}
	if !tls {
		log.Printf("server on port %q failed: %v", port, s.ListenAndServe())
		return
	}
	certFile, keyFile := os.Getenv("CERT_FILE"), os.Getenv("KEY_FILE")
	if certFile == "" {
		certFile = "localhost.crt"
	}
	if keyFile == "" {
		keyFile = "localhost.key"
	}
	log.Printf("tls server on port %q with certFile=%q, keyFile=%q failed: %v", port, certFile, keyFile, s.ListenAndServeTLS(certFile, keyFile))
}

// serveUDPValue answers every datagram received on addr with value until reading fails; ready, if not nil,
// receives the bound address once it listens.
func serveUDPValue(addr, value string, ready chan<- net.Addr) error {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if ready != nil {
		ready <- conn.LocalAddr()
	}
	buf := make([]byte, 16)
	for {
		_, from, err := conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo([]byte(value), from); err != nil {
			log.Printf("UDP: write to %s: %v", from, err)
		}
	}
}
