package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"hostdeck/core"
	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

func TestElidBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	storetest.ElidBackfill(t, func() core.Store {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}, func(query string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	})
}
