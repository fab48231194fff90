package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

func open(t testing.TB) storetest.Store {
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
	storetest.Run(t, func(t testing.TB) storetest.Store {
		t.Helper()
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestReplicas runs two stores on one database file, as two processes would.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t testing.TB) (storetest.Store, storetest.Store) {
		path := filepath.Join(t.TempDir(), "hostdeck.db")
		var dbs [2]storetest.Store
		for i := range dbs {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return dbs[0], dbs[1]
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

// TestBackgroundCheckpoint: commits go to the WAL only; the background
// checkpoint copies them into the database file.
func TestBackgroundCheckpoint(t *testing.T) {
	every := sqlite.CheckpointEvery
	sqlite.CheckpointEvery = 20 * time.Millisecond
	t.Cleanup(func() { sqlite.CheckpointEvery = every })
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(100 * time.Millisecond) // the migrations' pages are checkpointed
	before := size()
	ctx := context.Background()
	for i := range 200 {
		srv := &core.Server{Name: fmt.Sprintf("node-%03d", i), Runtime: "sim", Capacity: 1, Status: core.ServerActive, Location: strings.Repeat("x", 2000)}
		if err := db.CreateServer(ctx, srv); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size() < before+200*2000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, %d before 400 kB of rows: not checkpointed", size(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
