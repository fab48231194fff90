// Package sqlite opens hostdeck's store in an SQLite file: the embedded default,
// with no server to run. It uses the pure-Go modernc.org/sqlite driver.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"hostdeck/store/sqlstore"
)

// Dialect describes SQLite to sqlstore. Writers are serialised (one connection,
// BEGIN IMMEDIATE), so neither SKIP LOCKED nor server locks are needed; the file
// is one process's at a time (Open locks it).
var Dialect = sqlstore.Dialect{
	Name:        "sqlite",
	BatchWrites: true,
	InProcess:   true,
	Exclusive:   true,
	IsUniqueViolation: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKeyViolation: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

func hasCode(err error, codes ...int) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// Open opens (creating if needed) the database at path and applies migrations.
// The database is this process's while it is open: Open holds an exclusive lock
// on path+"-lock" until Close, and fails at once when another process (or
// another Open) holds it. Replicas share a PostgreSQL database, not a file.
//
// Writes go through a single connection whose transactions begin IMMEDIATE, so
// writers queue on the Go side instead of failing with SQLITE_BUSY or deadlocking
// when a read transaction upgrades. Reads outside transactions use a separate pool
// of read-only connections, which WAL lets run beside the writer. ":memory:" gives
// a private in-memory database on one connection (tests).
func Open(path string) (*sqlstore.DB, error) {
	ctx := context.Background()
	if path == ":memory:" {
		w := openDB("file::memory:?" + params(false, true))
		w.SetMaxOpenConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		db, err := sqlstore.New(ctx, w, nil, Dialect)
		if err != nil {
			w.Close()
			return nil, err
		}
		return db, nil
	}

	lock, err := lockFile(path + "-lock")
	if err != nil {
		return nil, err
	}
	db, err := open(ctx, path)
	if err != nil {
		lock.Close()
		return nil, err
	}
	db.OnClose(lock.Close)
	return db, nil
}

// lockFile takes the exclusive lock of path, creating the file if needed; it
// is held until the file is closed (or the process ends, kill -9 included).
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite %s is in use by another process (its lock %s is held): one hostdeck serves a data directory at a time", strings.TrimSuffix(path, "-lock"), path)
		}
		return nil, fmt.Errorf("lock sqlite: %w", err)
	}
	return f, nil
}

// open opens the database file at path, whose lock the caller holds.
func open(ctx context.Context, path string) (*sqlstore.DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath()
	w := openDB(dsn + "?" + params(false, true))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The writer creates the file and switches it to WAL before readers open it.
	r := openDB(dsn + "?" + params(true, false))
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	db, err := sqlstore.New(ctx, w, r, Dialect)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	cp := openDB(dsn + "?" + params(false, false))
	cp.SetMaxOpenConns(1)
	stop := checkpoint(cp, CheckpointEvery)
	db.OnClose(func() error {
		stop()
		return cp.Close()
	})
	return db, nil
}

// CheckpointEvery is how often the WAL is copied into the database file (often
// enough that each copy is small: under load 100 ms gave the best tail latency
// of 50 ms, 100 ms, 250 ms, 1 s and 5 s).
var CheckpointEvery = 100 * time.Millisecond

// checkpoint copies the WAL into the database file in the background, every
// interval, on a connection of its own. The writer does not checkpoint itself
// (wal_autocheckpoint is 0): on the commit path, a checkpoint's copying and
// fsyncs made every thousandth commit slow, which was a quarter of the time
// of a broker hand-out under load. A PASSIVE checkpoint waits for no one; one
// that fails (the database is busy) is tried again at the next tick.
func checkpoint(db *sql.DB, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// params is the connection's query string: WAL, a busy timeout, foreign keys;
// IMMEDIATE transactions for the writer, query_only for readers.
func params(readOnly, writer bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	// Each connection keeps 8 MB of pages; the file is read, not mapped: every
	// connection's map of it counted again in the process's RSS (460 MB for a
	// 115 MB file over the readers), while the kernel's page cache holds it once.
	v.Add("_pragma", "cache_size(-8000)")
	v.Add("_pragma", "mmap_size(0)")
	if writer {
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "wal_autocheckpoint(0)") // see checkpoint
		// The savepoints of group commit (sqlstore/batch.go) keep the original
		// of every page a transaction changes in a sub-journal, which past 64 KiB
		// went to a temporary file: two writes per page, a fifth of the writes
		// of a client's creation. In memory it stays as large as one batch's
		// changes and goes with the batch.
		v.Add("_pragma", "temp_store(MEMORY)")
		v.Set("_txlock", "immediate")
	}
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	}
	return v.Encode()
}
