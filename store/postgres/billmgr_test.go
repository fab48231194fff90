package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"hostdeck/core"
	"hostdeck/internal/testenv"
	"hostdeck/store/postgres"
	"hostdeck/store/storetest"
)

func TestElidBackfill(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	storetest.ElidBackfill(t, func() core.Store {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}, func(query string) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	})
}
