package task_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/internal/testenv"
	"hostdeck/store/storetest"
	"hostdeck/task"
)

// benchTasks is how many no-op tasks BenchmarkRunNoopTasks drains at a time.
const benchTasks = 1000

// benchBatch is how many tasks the SQL anchor claims and finishes at a time: as
// many as a runner with default options runs at once.
const benchBatch = 8

// BenchmarkRunNoopTasks measures how fast one runner with default options drains
// 1,000 tasks that do nothing, on each store: the cost of claiming and recording
// outcomes. Beside it, in the same op, its anchor drains as many tasks with
// hand-written SQL on the store's own pool and driver, one goroutine doing
// nothing else: claim a batch of 8 in one UPDATE … RETURNING (the same rule of
// what is runnable, dead workers' tasks included), finish the batch in one
// UPDATE. That is the least work a runner of 8 workers could do with this
// schema. The two take turns (which goes first alternates), each on a table
// of its own 1,000 tasks, so that both see the same noise; ns/op is the
// runner's drain. Metrics (medians of the ops): tasks/s (the runner), sql-tasks/s (the
// anchor) and runner/sql, the figure to read.
func BenchmarkRunNoopTasks(b *testing.B) {
	for _, st := range []struct {
		name       string
		open       func(testing.TB) testenv.Store
		skipLocked bool
		empty      string // empties the table of tasks
	}{
		{"sqlite", newStore, false, `DELETE FROM tasks`},
		{"postgres", testenv.Postgres, true, `TRUNCATE tasks`},
	} {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			anchor := newSQLAnchor(s, st.skipLocked)
			var runner, raw []time.Duration
			for i := range b.N {
				for turn := range 2 {
					// Each drain starts from a table of its own tasks only, so
					// that neither pays for what the other left (on PostgreSQL,
					// the dead rows of the tasks it finished, until vacuum).
					if _, err := anchor.db.Exec(st.empty); err != nil {
						b.Fatal(err)
					}
					createNoops(b, s)
					if (i+turn)%2 == 0 {
						runner = append(runner, drainRunner(b, s))
					} else {
						t0 := time.Now()
						anchor.drain(b)
						raw = append(raw, time.Since(t0))
					}
				}
			}
			var sum time.Duration
			for _, d := range runner {
				sum += d
			}
			b.ReportMetric(float64(sum.Nanoseconds())/float64(b.N), "ns/op")
			perSec := func(d time.Duration) float64 { return benchTasks / d.Seconds() }
			b.ReportMetric(perSec(median(runner)), "tasks/s")
			b.ReportMetric(perSec(median(raw)), "sql-tasks/s")
			b.ReportMetric(median(raw).Seconds()/median(runner).Seconds(), "runner/sql")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// drainRunner starts a runner with default options and waits until it has
// recorded the outcomes of benchTasks no-op tasks; it returns how long that
// took (the runner's start included, its shutdown not).
func drainRunner(b *testing.B, s storetest.Store) time.Duration {
	handlers := map[string]core.TaskFunc{
		"noop": func(context.Context, *core.Task, func(int, string)) (any, error) { return nil, nil },
	}
	w := &recordWatch{Store: s, want: benchTasks, done: make(chan struct{})}
	t0 := time.Now()
	r := startRunner(b, w, handlers, nil, task.Options{Owner: "bench"})
	<-w.done
	d := time.Since(t0)
	if err := r.stop(); err != nil {
		b.Fatal(err)
	}
	return d
}

// recordWatch closes done once want outcomes are recorded through it.
type recordWatch struct {
	storetest.Store
	mu   sync.Mutex
	want int
	done chan struct{}
}

func (w *recordWatch) FinishTasks(ctx context.Context, owner string, outcomes []core.TaskOutcome, now time.Time) ([]string, error) {
	lost, err := w.Store.FinishTasks(ctx, owner, outcomes, now)
	if err == nil {
		w.mu.Lock()
		if w.want > 0 {
			if w.want -= len(outcomes) - len(lost); w.want <= 0 {
				close(w.done)
			}
		}
		w.mu.Unlock()
	}
	return lost, err
}

// sqlAnchor drains no-op tasks with hand-written SQL on a store's own pool.
type sqlAnchor struct {
	db     *sql.DB
	claim  string
	finish []string // by batch size
}

func newSQLAnchor(s storetest.Store, skipLocked bool) *sqlAnchor {
	lock := ""
	if skipLocked {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	limit := strconv.Itoa(benchBatch)
	pick := func(cond string) string {
		return `SELECT id, run_at FROM tasks WHERE ` + cond + ` ORDER BY run_at, id LIMIT ` + limit + lock
	}
	a := &sqlAnchor{
		db: s.(interface{ WritePool() *sql.DB }).WritePool(),
		claim: `WITH due AS (` + pick(`status = 'PENDING' AND run_at <= $3`) + `),
			retry AS (` + pick(`status = 'RETRY' AND run_at <= $3`) + `),
			orphaned AS (` + pick(`status = 'STARTED' AND lease_until < $3`) + `)
		UPDATE tasks SET status = 'STARTED', attempts = attempts + 1, lease_owner = $1, lease_until = $2,
			started_at = $3, updated_at = $3
		WHERE id IN (
			SELECT id FROM (
				SELECT id, run_at FROM due UNION ALL SELECT id, run_at FROM retry UNION ALL SELECT id, run_at FROM orphaned
			) c ORDER BY run_at, id LIMIT ` + limit + `
		) RETURNING id, kind, status, progress, message, payload, result, error, attempts, max_attempts, run_at,
			lease_owner, lease_until, creator, target_type, target_id, task_key, cancel_requested,
			created_at, updated_at, started_at, finished_at`,
		finish: make([]string, benchBatch+1),
	}
	for k := 1; k <= benchBatch; k++ {
		ph := make([]string, k)
		for i := range ph {
			ph[i] = fmt.Sprintf("$%d", i+3)
		}
		a.finish[k] = `UPDATE tasks SET status = 'SUCCESS', progress = 100, result = NULL, error = '',
				lease_owner = '', lease_until = NULL, finished_at = $1, updated_at = $1
			WHERE lease_owner = $2 AND lease_until IS NOT NULL AND id IN (` + strings.Join(ph, ", ") + `)`
	}
	return a
}

// drain claims and finishes benchTasks tasks, benchBatch at a time, scanning
// every column a runner hands its handlers.
func (a *sqlAnchor) drain(b *testing.B) {
	ctx := context.Background()
	var (
		t                       core.Task
		payload, result, key    sql.NullString
		runAt, created, updated int64
		until, started, ended   sql.NullInt64
	)
	args := make([]any, 0, benchBatch+2)
	for done := 0; done < benchTasks; {
		now := time.Now().UTC().Truncate(time.Microsecond)
		rows, err := a.db.QueryContext(ctx, a.claim, "bench", now.Add(30*time.Second).UnixMicro(), now.UnixMicro())
		if err != nil {
			b.Fatal(err)
		}
		args = append(args[:0], now.UnixMicro(), "bench")
		for rows.Next() {
			if err := rows.Scan(&t.ID, &t.Kind, &t.Status, &t.Progress, &t.Message, &payload, &result, &t.Error,
				&t.Attempts, &t.MaxAttempts, &runAt, &t.LeaseOwner, &until, &t.Creator, &t.TargetType, &t.TargetID,
				&key, &t.CancelRequested, &created, &updated, &started, &ended); err != nil {
				b.Fatal(err)
			}
			args = append(args, t.ID)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		k := len(args) - 2
		if k == 0 {
			b.Fatalf("claimed nothing after %d of %d tasks", done, benchTasks)
		}
		res, err := a.db.ExecContext(ctx, a.finish[k], args...)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(k) {
			b.Fatalf("finished %d of %d tasks: %v", n, k, err)
		}
		done += k
	}
}

// createNoops stores benchTasks no-op tasks.
func createNoops(b *testing.B, s storetest.Store) {
	b.Helper()
	for range benchTasks {
		createTask(b, s, "noop", func(t *core.Task) { t.Payload = json.RawMessage(`{}`) })
	}
}
