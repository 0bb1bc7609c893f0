// Command skiff-testapp is the entry point of the test image skiff.local/testapp:dev. Its command line follows
// Kubernetes' agnhost test image, so manifests written for agnhost run on it unchanged:
//
//	netexec --http-port=8080      HTTP: /hostname /echo?msg= /healthz /exit?code= /shutdown /clientip /header?key=
//	serve-hostname --port=9376    HTTP: every path answers the hostname
//	pause                         sleeps until SIGTERM/SIGINT
//	liveness                      HTTP :8080 /healthz: 200 for 10 s, then 500
//	test-webserver --port=80      HTTP: every path answers that file of the container's filesystem
//	porter [--json-response]      HTTP/HTTPS/UDP: the value of each SERVE_{,TCP_,TLS_,UDP_}PORT_N variable on port N
//
// Build it static: CGO_ENABLED=0.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: agnhost netexec|serve-hostname|pause|liveness|test-webserver|porter [flags]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "netexec":
		err = netexec(args)
	case "serve-hostname":
		err = serveHostname(args)
	case "pause":
		pause()
	case "liveness":
		err = liveness(args)
	case "test-webserver":
		err = testWebserver(args)
	case "porter":
		err = porter(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agnhost:", err)
		os.Exit(1)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func stopSignals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("Started HTTP server on %s\n", addr)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func netexec(args []string) error {
	fs := flag.NewFlagSet("netexec", flag.ContinueOnError)
	port := fs.Int("http-port", 8080, "HTTP port")
	_ = fs.Int("udp-port", 8081, "UDP port (accepted, not served)")
	_ = fs.Int("sctp-port", -1, "SCTP port (accepted, not served)")
	delay := fs.Int("delay-shutdown", 0, "seconds to wait after SIGTERM before exiting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := stopSignals()
	defer cancel()
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		<-ctx.Done()
		if *delay > 0 {
			fmt.Printf("Sleeping %d seconds before shutdown\n", *delay)
			time.Sleep(time.Duration(*delay) * time.Second)
		}
		stop()
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "NOW: ", time.Now()) })
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, hostname()) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		msg := r.URL.Query().Get("msg")
		fmt.Printf("GET /echo?msg=%s\n", msg)
		fmt.Fprint(w, msg)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.RemoteAddr) })
	mux.HandleFunc("/header", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get(r.URL.Query().Get("key"))) })
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			code = 0
		}
		fmt.Printf("GET /exit?code=%d\n", code)
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(code) }()
	})
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("GET /shutdown")
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(0) }()
	})
	return serve(srvCtx, fmt.Sprintf(":%d", *port), mux)
}

func serveHostname(args []string) error {
	fs := flag.NewFlagSet("serve-hostname", flag.ContinueOnError)
	port := fs.Int("port", 9376, "port")
	_ = fs.Bool("http", true, "serve HTTP")
	_ = fs.Bool("tcp", false, "serve TCP (not supported)")
	_ = fs.Bool("udp", false, "serve UDP (not supported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := stopSignals()
	defer cancel()
	return serve(ctx, fmt.Sprintf(":%d", *port), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, hostname())
	}))
}

func pause() {
	ctx, cancel := stopSignals()
	defer cancel()
	fmt.Println("Paused")
	<-ctx.Done()
	fmt.Println("Signal received, exiting")
}

func liveness(args []string) error {
	ctx, cancel := stopSignals()
	defer cancel()
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if d := time.Since(started); d > 10*time.Second {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "error: %v", d.Seconds())
			return
		}
		fmt.Fprint(w, "ok")
	})
	return serve(ctx, ":8080", mux)
}
