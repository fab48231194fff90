package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

// reopenable is a database file for a migration test: open opens it as a
// store (running pending migrations), exec runs raw SQL on it.
func reopenable(t *testing.T) (open func() storetest.Store, exec func(query string)) {
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	open = func() storetest.Store {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	exec = func(query string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(query); err != nil {
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
