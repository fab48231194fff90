// Package sqlstore implements hostdeck's store once, in hand-written SQL that runs on both
// SQLite and PostgreSQL. The sqlite and postgres packages open a connection, describe
// their few differences in a Dialect and hand both to New, which runs the embedded
// migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hostdeck/core"
	"hostdeck/core/services"
	"hostdeck/task"
)

// Dialect is what differs between the databases sqlstore runs on.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// IsUniqueViolation reports whether err is a unique-constraint violation.
	IsUniqueViolation func(err error) bool
	// BatchWrites runs concurrent transactions together, one commit for all
	// (batch.go): for a database with a single writer.
	BatchWrites bool
	// InProcess says statements run in this process on local files, with no
	// network to hang on: a context's cancellation can only interrupt them.
	// Watching a context costs each statement two goroutines (database/sql's
	// and the driver's), which was a fifth of the time of the task runner's
	// claims and finishes, so those run without (unwatched).
	InProcess bool
	// IsForeignKeyViolation reports whether err is a foreign-key violation.
	IsForeignKeyViolation func(err error) bool
	// SkipLocked says the database has SELECT … FOR UPDATE SKIP LOCKED, so that
	// concurrent claimers of tasks pass over each other's rows. Without it the
	// database must serialise writers (SQLite does).
	SkipLocked bool
	// LockServersSQL, when set, is run by LockServers inside a transaction to lock
	// the server rows until it ends.
	LockServersSQL string
	// MigrateLockSQL, when set, is run first in the migration transaction so that
	// processes starting at once apply migrations one after the other.
	MigrateLockSQL string
	// Exclusive says only this process writes the database (SQLite: its file is
	// locked while open), so that the change counts of lists are kept in memory
	// as it commits rather than read on every list (changes.go).
	Exclusive bool
	// AuditNumberSQL, when set, is the expression that numbers a new audit
	// event (a sequence's nextval); without it the database must be
	// Exclusive, and this process numbers them (audit.go).
	AuditNumberSQL string
	// ChangeShards is how many rows each followed table's change count is spread
	// over (changes.go): more than one lets concurrent writers of a table commit
	// without waiting on one row; 0 or 1 for a database with a single writer.
	ChangeShards int
}

// dbtx is what queries run on: a pool or a transaction (changes.go).
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) scanner
}

// DB is a store of every capability (services.Store) and of the task runner
// (task.Store) on a database/sql pool.
type DB struct {
	queries
	write   *sql.DB
	read    *sql.DB
	closers []func() error
	batch   *batcher     // group commit (batch.go), when the dialect asks for it
	counts  *localCounts // with Dialect.Exclusive (changes.go)
}

// OnClose has Close run f first, before the pools close (a dialect's background
// work).
func (db *DB) OnClose(f func() error) { db.closers = append(db.closers, f) }

var (
	_ services.Store = (*DB)(nil)
	_ task.Store     = (*DB)(nil)
)

// New returns a store that writes (and runs transactions) on write and reads on
// read, after applying the pending migrations. read may be nil or equal to write
// when one pool serves both; SQLite uses a single-connection writer and a pool of
// readers. The DB owns the pools: Close closes them.
func New(ctx context.Context, write, read *sql.DB, d Dialect) (*DB, error) {
	if read == nil {
		read = write
	}
	if d.IsForeignKeyViolation == nil {
		d.IsForeignKeyViolation = func(error) bool { return false }
	}
	var counts *localCounts
	if d.Exclusive {
		counts = &localCounts{}
	}
	db := &DB{
		queries: queries{r: pool{write}, w: ownTx{write, &d, counts}, d: &d, now: time.Now, lists: newListCache(), audits: &auditNumbers{}},
		write:   write,
		read:    read,
		counts:  counts,
	}
	if err := migrate(ctx, write, &d); err != nil {
		return nil, err
	}
	if counts != nil {
		if err := counts.load(ctx, write); err != nil {
			return nil, err
		}
		if err := db.audits.load(ctx, write); err != nil {
			return nil, err
		}
	}
	db.queries.r = pool{read}
	db.queries.db = db
	if d.BatchWrites {
		db.startBatcher()
	}
	return db, nil
}

// SetClock replaces the clock that stamps CreatedAt and UpdatedAt (time.Now by
// default); tests use it to control time.
func (db *DB) SetClock(now func() time.Time) { db.queries.now = now }

// WritePool is the pool that writes and transactions run on. It is for
// benchmarks whose anchor is hand-written SQL on the very pool and driver the
// store uses; code that changes data goes through the store's methods. On SQLite
// it holds the only writer connection, so using it inside InTx waits forever.
func (db *DB) WritePool() *sql.DB { return db.write }

// Dialect names the database the store runs on.
func (db *DB) Dialect() string { return db.d.Name }

// Transact is InTx with the transaction's queries untyped (core.InTx).
func (db *DB) Transact(ctx context.Context, fn func(tx any) error) error {
	return db.InTx(ctx, func(q services.Queries) error { return fn(q) })
}

// inTx is InTx with the transaction's queries as they are.
func (db *DB) inTx(ctx context.Context, fn func(q *queries) error) error {
	return db.InTx(ctx, func(q services.Queries) error { return fn(q.(*queries)) })
}

// InTx runs fn in one transaction: it commits when fn returns nil and rolls back
// when fn fails or panics. fn must use only q: on SQLite the transaction holds the
// only writer connection, so writing through db inside fn would wait forever.
// With Dialect.BatchWrites, concurrent calls share one commit (batch.go), each
// still all or nothing.
func (db *DB) InTx(ctx context.Context, fn func(q services.Queries) error) (err error) {
	if db.batch != nil {
		return db.inBatch(ctx, fn)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "begin transaction")
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	changed := &changeSet{}
	w := tracked{txdb{tx}, changed}
	q := &queries{r: w, w: w, d: db.d, now: db.now, inTx: true, audits: db.audits}
	if err := fn(q); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	written := changed.written()
	if err := countChanges(ctx, txdb{tx}, db.d, written); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		if db.d.IsUniqueViolation(err) {
			return core.Wrap(core.KindConflict, err, "conflicting change")
		}
		return core.Wrap(core.KindInternal, err, "commit transaction")
	}
	db.counts.committed(written)
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	var err error
	for _, f := range db.closers {
		err = errors.Join(err, f())
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// queries implements services.Queries on a pool or a transaction. Reads go to r and
// writes to w; inside a transaction both are the transaction. lists is the DB's
// cache of lists' totals and page starts (lists.go), which a transaction does
// not use.
type queries struct {
	r, w  dbtx
	d     *Dialect
	now   func() time.Time
	inTx  bool
	lists *listCache
	// audits gives audit events their numbers (audit.go).
	audits *auditNumbers
	db     *DB // outside a transaction: the store, to begin one (load.go)
}

var _ services.Queries = (*queries)(nil)

// unwatched is ctx for a short statement that has nothing to wait on but the
// writer: without its cancellation where statements run in process
// (Dialect.InProcess), as it is elsewhere.
func (q *queries) unwatched(ctx context.Context) context.Context {
	if q.d.InProcess {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// LockServers locks the server rows until the transaction ends (PostgreSQL); on
// SQLite write transactions are serial already.
func (q *queries) LockServers(ctx context.Context) error {
	if q.d.LockServersSQL == "" || !q.inTx {
		return nil
	}
	rows, err := q.w.QueryContext(ctx, q.d.LockServersSQL)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "lock servers")
	}
	defer rows.Close()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return core.Wrap(core.KindInternal, err, "lock servers")
	}
	return nil
}
