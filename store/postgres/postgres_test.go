package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hostdeck/core"
	"hostdeck/store/postgres"
	"hostdeck/store/storetest"
)

// testDSN is the server the tests use, from HOSTDECK_TEST_POSTGRES (scripts/pg-start
// prints one). Without it the tests skip, unless HOSTDECK_REQUIRE_POSTGRES=1.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("HOSTDECK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("HOSTDECK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("HOSTDECK_TEST_POSTGRES is not set and HOSTDECK_REQUIRE_POSTGRES=1")
		}
		t.Skip("PostgreSQL not available: set HOSTDECK_TEST_POSTGRES (e.g. HOSTDECK_TEST_POSTGRES=$(scripts/pg-start))")
	}
	return dsn
}

var schemaSeq atomic.Int64

// freshSchema creates an empty schema, dropped when the test ends, and returns a
// DSN whose search_path points at it.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
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
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("HOSTDECK_TEST_POSTGRES must be a postgres:// URL: %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB) core.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, open)
}

// TestConcurrentMigrate starts several stores on one empty schema at once: the
// advisory lock lets exactly one apply the migrations and the others see them.
func TestConcurrentMigrate(t *testing.T) {
	dsn := freshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
