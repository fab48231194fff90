// Package loadbench measures a handler the way the team measures hostdeck from
// outside: over real HTTP, with many concurrent keep-alive connections, beside
// an anchor in the same run. The anchor is a server that replays, from memory,
// the exact answer the handler gave (status, headers and body), driven by the
// same client code; what counts is the ratio of the two, which the noise of a
// shared machine moves far less than either figure alone.
package loadbench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Connections is how many clients send requests at once, each on its own
// keep-alive connection (wrk's -c 50 of the figures).
const Connections = 50

// rounds is how many times the handler and the anchor take turns within one
// run, so that a burst of noise from elsewhere falls on both.
const rounds = 4

// Request is what every client sends: a GET of Path (with its query) and
// Header.
type Request struct {
	Path   string
	Header http.Header
}

// Compare serves h on a loopback HTTP server, takes its answer to req once,
// and runs b.N requests against h and b.N against a server replaying that
// answer, interleaved in rounds, Connections at a time. The benchmark's time is
// the handler's alone; it reports each side's requests per second and 99th
// percentile latency, and their ratios (rps-ratio: the handler's rps over the
// anchor's; p99-ratio: the handler's p99 over the anchor's). Every answer is
// checked to be the status and length of the first one, so that an error
// cannot pass for speed.
func Compare(b *testing.B, h http.Handler, req Request) {
	b.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: Connections * 2, MaxIdleConnsPerHost: Connections * 2, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()

	status, header, body := fetch(b, client, srv.URL, req)
	if status != http.StatusOK {
		b.Fatalf("GET %s: %d %.300s", req.Path, status, body)
	}
	anchor := httptest.NewServer(replay(status, header, body))
	defer anchor.Close()
	if s, _, got := fetch(b, client, anchor.URL, req); s != status || !bytes.Equal(got, body) {
		b.Fatalf("the anchor answers %d, %d bytes; want %d, %d", s, len(got), status, len(body))
	}

	// What setting up left behind (a seed of 100,000 rows) is collected before,
	// not during, the rounds.
	runtime.GC()
	var mine, theirs side
	b.ResetTimer()
	left := b.N
	for r := range rounds {
		n := left / (rounds - r)
		left -= n
		b.StartTimer()
		mine.run(b, client, srv.URL, req, n, status, len(body))
		b.StopTimer()
		theirs.run(b, client, anchor.URL, req, n, status, len(body))
	}
	b.SetBytes(int64(len(body)))
	b.ReportMetric(mine.rps(), "rps")
	b.ReportMetric(mine.p99(), "p99-ms")
	b.ReportMetric(theirs.rps(), "anchor-rps")
	b.ReportMetric(theirs.p99(), "anchor-p99-ms")
	b.ReportMetric(mine.rps()/theirs.rps(), "rps-ratio")
	b.ReportMetric(mine.p99()/theirs.p99(), "p99-ratio")
}

// side is what one server's requests took: their latencies and the wall time
// of the rounds.
type side struct {
	took    []time.Duration
	elapsed time.Duration
}

func (s *side) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(len(s.took)) / s.elapsed.Seconds()
}

func (s *side) p99() float64 {
	if len(s.took) == 0 {
		return 0
	}
	slices.Sort(s.took)
	return float64(s.took[len(s.took)*99/100].Nanoseconds()) / 1e6
}

// run sends n requests to base, Connections at a time.
func (s *side) run(b *testing.B, client *http.Client, base string, req Request, n, status, size int) {
	var next atomic.Int64
	var mu sync.Mutex
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range min(Connections, n) {
		wg.Go(func() {
			took := make([]time.Duration, 0, n/Connections+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				got, size0, err := get(client, base, req)
				took = append(took, time.Since(t0))
				if err == nil && (got != status || size0 != size) {
					err = fmt.Errorf("GET %s: %d, %d bytes; want %d, %d bytes", req.Path, got, size0, status, size)
				}
				if err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
			mu.Lock()
			s.took = append(s.took, took...)
			mu.Unlock()
		})
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

// get sends req to base and reads the body to its end; it returns the status
// and the body's length.
func get(client *http.Client, base string, req Request) (int, int, error) {
	r, err := http.NewRequest(http.MethodGet, base+req.Path, nil)
	if err != nil {
		return 0, 0, err
	}
	r.Header = req.Header.Clone()
	resp, err := client.Do(r)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, int(n), err
}

// fetch sends req to base once and returns the whole answer.
func fetch(b *testing.B, client *http.Client, base string, req Request) (int, http.Header, []byte) {
	b.Helper()
	r, err := http.NewRequest(http.MethodGet, base+req.Path, nil)
	if err != nil {
		b.Fatal(err)
	}
	r.Header = req.Header.Clone()
	resp, err := client.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// replay answers every request with status, the headers the handler set and
// body, from memory.
func replay(status int, header http.Header, body []byte) http.Handler {
	header = header.Clone()
	header.Del("Date") // the server sets these two itself
	header.Del("Content-Length")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	})
}

// InProcess runs h on req in process (no HTTP), as "face", beside "replay", a
// handler writing h's first answer to req from memory: the cost of the face's
// own work on one request (authentication, routing, rendering). Every answer
// must have the first one's status.
func InProcess(b *testing.B, h http.Handler, req *http.Request) {
	first := httptest.NewRecorder()
	h.ServeHTTP(first, req)
	status := first.Code
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"face", h}, {"replay", replay(status, first.Header().Clone(), first.Body.Bytes())}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != status {
					b.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
				}
			}
		})
	}
}
