package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hostdeck/store/postgres"
)

var schemaSeq atomic.Int64

// PostgresDSN returns a DSN of the server in HOSTDECK_TEST_POSTGRES (scripts/pg-start
// prints one) whose search_path is an empty schema of its own, dropped when the
// test ends. Without a server the test skips, or fails when
// HOSTDECK_REQUIRE_POSTGRES=1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("HOSTDECK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("HOSTDECK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("HOSTDECK_TEST_POSTGRES is not set and HOSTDECK_REQUIRE_POSTGRES=1")
		}
		t.Skip("PostgreSQL not available: set HOSTDECK_TEST_POSTGRES (e.g. HOSTDECK_TEST_POSTGRES=$(scripts/pg-start))")
	}
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("HOSTDECK_TEST_POSTGRES must be a postgres:// URL: %q", dsn)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("connect to drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a store on a fresh schema (PostgresDSN), closed when the test ends.
func Postgres(t testing.TB) Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
