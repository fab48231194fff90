package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"hostdeck/core"
	"hostdeck/store/sqlite"
)

const benchClients = 100_000

// seedClients writes n clients in one transaction through a prepared statement,
// on a connection of its own, after Open has created the schema and before the
// store lists anything: writes that bypass the store are not counted
// (table_changes), so nothing the store keeps of its lists may predate them.
func seedClients(b *testing.B, path string, n int) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO clients (id, name, email, lang, server_id, status, expire_date, created_at, updated_at)
		VALUES ($1, $2, $3, 'en', $4, $5, $6, $7, $7)`)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		status := core.ClientActive
		if i%1000 == 0 {
			status = core.ClientDeleted
		}
		at := start.Add(time.Duration(i) * time.Second)
		if _, err := stmt.Exec(uuid.Must(uuid.NewV7()).String(), fmt.Sprintf("client-%06d", i),
			fmt.Sprintf("owner%d@example.com", i), fmt.Sprintf("s%d", i%8), status,
			at.AddDate(0, 0, 30).Truncate(24*time.Hour).UnixMicro(), at.UnixMicro()); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListClients lists 50 clients of 100,000, with the total, as the client
// list page of a face does: the first page and a deep one.
func BenchmarkListClients(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	seedClients(b, path, benchClients)
	b.Logf("seeded %d clients in %v", benchClients, time.Since(t0).Round(time.Millisecond))
	ctx := context.Background()

	for _, bc := range []struct {
		name string
		f    core.ClientFilter
	}{
		{"first", core.ClientFilter{Page: core.Page{Limit: 50}}},
		{"middle", core.ClientFilter{Page: core.Page{Limit: 50, Offset: 50_000}}},
		{"deep", core.ClientFilter{Page: core.Page{Limit: 50, Offset: 99_000}}},
		{"deep_server", core.ClientFilter{ServerID: ptr("s3"), Page: core.Page{Limit: 50, Offset: 6_000}}},
		{"name_search", core.ClientFilter{Name: ptr("ent-0999"), Page: core.Page{Limit: 50}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t := time.Now()
				got, err := db.ListClients(ctx, bc.f)
				took = append(took, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				if len(got.Items) == 0 || got.Total == 0 {
					b.Fatalf("empty page: %d clients, total %d", len(got.Items), got.Total)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100]), "p99-ns")
		})
	}
}

func ptr[T any](v T) *T { return &v }
