package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileServer(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "localhost.crt"), []byte("CERT"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "index.html"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fileServer(root))
	defer srv.Close()
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)

	for _, tc := range []struct {
		name, path, ifModifiedSince string
		code                        int
		body                        string // substring the body must contain
	}{
		{name: "serves a file", path: "/localhost.crt", code: 200, body: "CERT"},
		{name: "ignores If-Modified-Since", path: "/localhost.crt", ifModifiedSince: future, code: 200, body: "CERT"},
		{name: "a missing file is 404", path: "/gone.crt", code: 404},
		{name: "index.html answers its directory", path: "/data/", code: 200, body: "hi"},
		{name: "lists a directory", path: "/", code: 200, body: "localhost.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ifModifiedSince != "" {
				req.Header.Set("If-Modified-Since", tc.ifModifiedSince)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.body) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, resp.StatusCode, body, tc.code, tc.body)
			}
			if resp.StatusCode != 200 {
				return // net/http drops the caching headers from error answers, for agnhost too
			}
			for h, want := range map[string]string{
				"Cache-Control":                    "private",
				"Access-Control-Allow-Origin":      "*",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, POST, OPTIONS",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
		})
	}
}

func TestTestWebserverRejectsArguments(t *testing.T) {
	if err := testWebserver([]string{"--port=8080", "extra"}); err == nil {
		t.Error("test-webserver accepted a positional argument")
	}
	if err := testWebserver([]string{"--port=notanumber"}); err == nil {
		t.Error("test-webserver accepted --port=notanumber")
	}
}
