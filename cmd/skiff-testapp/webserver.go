package main

import (
	"flag"
	"fmt"
	"net/http"
)

// testWebserver is agnhost's test-webserver: an HTTP file server on --port (default 80) answering every path
// with that file of the container's filesystem (a directory gets a listing), e.g. /localhost.crt.
func testWebserver(args []string) error {
	fs := flag.NewFlagSet("test-webserver", flag.ContinueOnError)
	port := fs.Int("port", 80, "Port number.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("test-webserver: unexpected arguments %q", fs.Args())
	}
	ctx, cancel := stopSignals()
	defer cancel()
	return serve(ctx, fmt.Sprintf(":%d", *port), fileServer("/"))
}

// fileServer serves the files under root with agnhost test-webserver's headers: no caching by shared caches,
// permissive CORS (for a local proxy to the API server), and If-Modified-Since ignored so that it never answers 304.
func fileServer(root string) http.Handler {
	files := http.StripPrefix("/", http.FileServer(http.Dir(root)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "private")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "DNT,X-Mx-ReqToken,Keep-Alive,User-Agent,X-Requested-With,Cache-Control,Content-Type")
		r.Header.Del("If-Modified-Since")
		files.ServeHTTP(w, r)
	})
}
