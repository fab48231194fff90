package alfa_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/alfa"
	"hostdeck/core"
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
