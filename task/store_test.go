package task_test

import (
	"path/filepath"
	"testing"

	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

// newStore opens a fresh SQLite store in a temporary directory.
func newStore(tb testing.TB) storetest.Store {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hostdeck.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return db
}
