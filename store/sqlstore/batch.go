package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"hostdeck/core"
	"hostdeck/core/services"
)

// Group commit. With Dialect.BatchWrites (SQLite: one writer), the transactions
// of concurrent InTx calls run one after the other in one database transaction
// that commits once for all of them: each caller's work runs inside a SAVEPOINT
// of its own, so one that fails or panics is rolled back alone, and every caller
// returns only once the shared commit is done (or has failed, which fails them
// all). Under load the commit was a third of the time the writer was held.

// maxBatch bounds how many transactions share one commit.
const maxBatch = 64

// batchReq is one InTx handed to the batch writer.
type batchReq struct {
	fn    func(q services.Queries) error
	err   error
	panic any
	done  chan struct{}
}

// batcher is the batch writer of a DB.
type batcher struct {
	reqs   chan *batchReq // unbuffered: a request sent is a request taken
	closed chan struct{}
	wg     sync.WaitGroup
}

func (db *DB) startBatcher() {
	b := &batcher{reqs: make(chan *batchReq), closed: make(chan struct{})}
	b.wg.Go(func() { db.runBatches(b) })
	db.batch = b
	db.OnClose(func() error {
		close(b.closed)
		b.wg.Wait()
		return nil
	})
}

// inBatch is InTx through the batch writer.
func (db *DB) inBatch(ctx context.Context, fn func(q services.Queries) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &batchReq{fn: fn, done: make(chan struct{})}
	select {
	case db.batch.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.batch.closed:
		return core.Errorf(core.KindUnavailable, "the store is closed")
	}
	<-r.done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (db *DB) runBatches(b *batcher) {
	for {
		var reqs []*batchReq
		select {
		case r := <-b.reqs:
			reqs = append(reqs, r)
		case <-b.closed:
			return
		}
	more:
		for len(reqs) < maxBatch {
			select {
			case r := <-b.reqs:
				reqs = append(reqs, r)
			default:
				break more
			}
		}
		db.runBatch(reqs)
		for _, r := range reqs {
			close(r.done)
		}
	}
}

// runBatch runs reqs in one transaction.
func (db *DB) runBatch(reqs []*batchReq) {
	ctx := context.Background()
	failAll := func(err error) {
		for _, r := range reqs {
			if r.panic == nil {
				r.err = err
			}
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		failAll(core.Wrap(core.KindInternal, err, "begin transaction"))
		return
	}
	// A caller's context must not interrupt the statements of a transaction
	// others share (an interrupted write may roll all of it back), so statements
	// run to their end whatever the caller's context.
	changed := &changeSet{}
	w := tracked{uncancelled{tx}, changed}
	q := &queries{r: w, w: w, d: db.d, now: db.now, inTx: true, audits: db.audits}
	for _, r := range reqs {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT batched"); err != nil {
			_ = tx.Rollback()
			failAll(core.Wrap(core.KindInternal, err, "begin transaction"))
			return
		}
		func() {
			defer func() { r.panic = recover() }()
			r.err = r.fn(q)
		}()
		if r.err != nil || r.panic != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO batched"); err != nil {
				_ = tx.Rollback()
				failAll(fmt.Errorf("%w (rollback: %v)", r.err, err))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE batched"); err != nil {
			_ = tx.Rollback()
			failAll(core.Wrap(core.KindInternal, err, "end transaction"))
			return
		}
	}
	// The changes of the batch are counted once, those of a caller rolled back
	// to its savepoint included: a count too many costs a cached list a read.
	written := changed.written()
	if err := countChanges(ctx, txdb{tx}, db.d, written); err != nil {
		_ = tx.Rollback()
		failAll(err)
		return
	}
	if err := tx.Commit(); err != nil {
		if db.d.IsUniqueViolation(err) {
			failAll(core.Wrap(core.KindConflict, err, "conflicting change"))
		} else {
			failAll(core.Wrap(core.KindInternal, err, "commit transaction"))
		}
		return
	}
	db.counts.committed(written)
}

// uncancelled runs statements with their context's values but not its
// cancellation.
type uncancelled struct{ tx *sql.Tx }

func (u uncancelled) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return u.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return u.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	return u.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}
