package alfa_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/alfa"
	"hostdeck/core"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

// BenchmarkListClients serves GET /clients?page[size]=50 in process, through auth,
// core and SQLite, over 100,000 clients: the first page, a page in the middle and
// the last page. It reports the p99 latency next to the mean.
func BenchmarkListClients(b *testing.B) {
	env := testenv.New(b)
	srv := env.Server(b, "big", 200_000)
	const n = 100_000
	ctx := context.Background()
	err := env.Store.InTx(ctx, func(q services.Queries) error {
		for i := range n {
			in := &core.Instance{ServerID: srv.ID, Name: fmt.Sprintf("hd-bench-%06d", i), State: core.StateActive}
			if err := q.CreateInstance(ctx, in); err != nil {
				return err
			}
			c := &core.Client{
				Name: fmt.Sprintf("lab-%06d", i), Email: fmt.Sprintf("lab%06d@example.test", i), Lang: "ru",
				ServerID: srv.ID, InstanceID: in.ID, Status: core.ClientActive, URL: "http://127.0.0.1/" + in.Name,
			}
			if err := q.CreateClient(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	h := alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	last := n / 50
	for _, page := range []int{1, last / 2, last} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			url := fmt.Sprintf("/clients?page[size]=50&page[number]=%d", page)
			var took []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, url, nil)
				req.SetBasicAuth(testenv.AdminUser, testenv.AdminPassword)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				took = append(took, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkAuthBasic is a request authenticated by HTTP Basic through the
// face: a path no route serves, so that after the credential is checked the
// face only renders the router's 404. Its anchor is a handler that writes the
// same bytes. The first request (one argon2id at production cost) is made
// before the timer starts: this measures the requests that follow it.
func BenchmarkAuthBasic(b *testing.B) {
	env := testenv.NewWith(b, testenv.Options{Hasher: secret.Hasher{Params: secret.DefaultParams}})
	h := alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	req := httptest.NewRequest(http.MethodGet, "/no-such-route", nil)
	req.SetBasicAuth(testenv.AdminUser, testenv.AdminPassword)
	first := httptest.NewRecorder()
	h.ServeHTTP(first, req)
	if first.Code != http.StatusNotFound {
		b.Fatalf("status %d: %s", first.Code, first.Body)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"face", h}, {"replay", replay(first)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNotFound {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// replay is a handler that writes what rec holds: the status, the headers and
// the body of an answer, from memory.
func replay(rec *httptest.ResponseRecorder) http.Handler {
	status, header, body := rec.Code, rec.Header().Clone(), rec.Body.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		maps.Copy(w.Header(), header)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}
