package apiserver

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchServer is newTestServer for benchmarks: a real embedded etcd, HTTP on loopback, no TLS.
func benchServer(b *testing.B) *testServer { return newTestServerTB(b) }

// runClients runs n*per requests from n concurrent clients and reports throughput and p50/p99 latency.
func runClients(b *testing.B, clients int, do func(client, i int) error) {
	b.Helper()
	per := b.N/clients + 1
	lat := make([][]time.Duration, clients)
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			l := make([]time.Duration, 0, per)
			for i := 0; i < per; i++ {
				t0 := time.Now()
				if err := do(c, i); err != nil {
					failed.Add(1)
					continue
				}
				l = append(l, time.Since(t0))
			}
			lat[c] = l
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d requests failed", f)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

func (ts *testServer) send(method, path, body string) error {
	req, _ := http.NewRequest(method, ts.http.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
	}
	return nil
}

// BenchmarkAPI measures create, get and list of ConfigMaps at 1, 16 and 64 concurrent clients
// through the whole HTTP stack on a real embedded etcd.
func BenchmarkAPI(b *testing.B) {
	ts := benchServer(b)
	var seq atomic.Int64
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("create/clients=%d", clients), func(b *testing.B) {
			runClients(b, clients, func(c, i int) error {
				return ts.send("POST", "/api/v1/namespaces/default/configmaps", cm(fmt.Sprintf("b%d", seq.Add(1))))
			})
		})
		b.Run(fmt.Sprintf("get/clients=%d", clients), func(b *testing.B) {
			runClients(b, clients, func(c, i int) error {
				return ts.send("GET", "/api/v1/namespaces/default/configmaps/b1", "")
			})
		})
		b.Run(fmt.Sprintf("list100/clients=%d", clients), func(b *testing.B) {
			runClients(b, clients, func(c, i int) error {
				return ts.send("GET", "/api/v1/namespaces/default/configmaps?limit=100", "")
			})
		})
	}
}

func (ts *testServer) sendPatch(path, body string) error {
	req, _ := http.NewRequest("PATCH", ts.http.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("PATCH %s: %d", path, resp.StatusCode)
	}
	return nil
}
