package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"hostdeck/internal/testenv"
	"hostdeck/store/postgres"
	"hostdeck/store/storetest"
)

// reopenable is a database for a migration test: open opens it as a store
// (running pending migrations), exec runs raw SQL on it.
func reopenable(t *testing.T) (open func() storetest.Store, exec func(query string)) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	open = func() storetest.Store {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	exec = func(query string) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	return open, exec
}

func TestInstanceNumberBackfill(t *testing.T) {
	open, exec := reopenable(t)
	storetest.InstanceNumberBackfill(t, open, exec)
}

func TestServerLoadBackfill(t *testing.T) {
	open, exec := reopenable(t)
	storetest.ServerLoadBackfill(t, open, exec)
}

func TestTokenKindsMigration(t *testing.T) {
	open, exec := reopenable(t)
	storetest.TokenKindsMigration(t, open, exec)
}
