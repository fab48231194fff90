package sqlite_test

import (
	"path/filepath"
	"testing"

	"hostdeck/core"
	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

func open(t testing.TB) core.Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hostdeck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

func TestStoreInMemory(t *testing.T) {
	storetest.Run(t, func(t testing.TB) core.Store {
		t.Helper()
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestReopen checks that opening an existing database applies no migration twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	for i := 0; i < 2; i++ {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
