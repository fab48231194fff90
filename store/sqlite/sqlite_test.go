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
	"hostdeck/core/cloud"
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

// TestOneProcess: a database file is one store's at a time (replicas share
// PostgreSQL). A second open is refused at once with a message that says why,
// and the file opens again once the first store is closed.
func TestOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(path); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	again.Close()
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

// TestStampsAcrossReopen: the change counts that SQLite keeps in memory start
// from the file's and move with each commit, so a list's stamp read before the
// store closes is the one read after it opens again, and the next change moves it.
func TestStampsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	stamp := func(db interface {
		ListClients(context.Context, core.ClientFilter) (core.List[cloud.ClientRow], error)
	}) core.Stamp {
		l, err := db.ListClients(ctx, core.ClientFilter{Page: core.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		return l.Stamp
	}
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &core.Server{Name: "node", Capacity: 10, Status: core.ServerActive}
	if err := db.CreateServer(ctx, srv); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, &core.Client{Name: "acme", Email: "a@example.com", ServerID: srv.ID, Status: core.ClientActive}); err != nil {
		t.Fatal(err)
	}
	before := stamp(db)
	db.Close()

	db, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := stamp(db); got != before {
		t.Fatalf("stamp after reopening = %q, before closing %q", got, before)
	}
	if err := db.CreateClient(ctx, &core.Client{Name: "beta", Email: "b@example.com", ServerID: srv.ID, Status: core.ClientActive}); err != nil {
		t.Fatal(err)
	}
	if got := stamp(db); got == before {
		t.Fatalf("stamp %q did not move with a new client", got)
	}
}
