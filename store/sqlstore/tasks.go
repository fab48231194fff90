package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hostdeck/core"
)

const taskCols = `id, kind, status, progress, message, payload, result, error, attempts, max_attempts, run_at,
	lease_owner, lease_until, creator, target_type, target_id, task_key, cancel_requested,
	created_at, updated_at, started_at, finished_at`

var taskSort = sorting{
	fields: map[string]string{
		"id": "id", "kind": "kind", "status": "status", "progress": "progress", "creator": "creator",
		"run_at": "run_at", "created_at": "created_at", "updated_at": "updated_at",
		"started_at": "started_at", "finished_at": "finished_at",
	},
	nullable: map[string]bool{"started_at": true, "finished_at": true},
	def:      []string{"created_at"},
}

func scanTask(sc scanner) (*core.Task, error) {
	var t core.Task
	var payload, result []byte // nil for NULL
	var key sql.NullString
	var runAt, created, updated int64
	var leaseUntil, started, finished sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Kind, &t.Status, &t.Progress, &t.Message, &payload, &result, &t.Error,
		&t.Attempts, &t.MaxAttempts, &runAt, &t.LeaseOwner, &leaseUntil, &t.Creator, &t.TargetType, &t.TargetID,
		&key, &t.CancelRequested, &created, &updated, &started, &finished); err != nil {
		return nil, err
	}
	t.Payload, t.Result, t.Key = payload, result, key.String
	t.RunAt, t.CreatedAt, t.UpdatedAt = fromMicros(runAt), fromMicros(created), fromMicros(updated)
	t.LeaseUntil, t.StartedAt, t.FinishedAt = fromNullMicros(leaseUntil), fromNullMicros(started), fromNullMicros(finished)
	return &t, nil
}

func (q *queries) CreateTask(ctx context.Context, t *core.Task) error {
	q.stamp(&t.ID, &t.CreatedAt, &t.UpdatedAt)
	if !t.Status.Done() {
		t.Status = core.TaskPending
	}
	t.LeaseOwner, t.LeaseUntil = "", nil
	if t.RunAt.IsZero() {
		t.RunAt = t.CreatedAt
	}
	t.RunAt, t.StartedAt, t.FinishedAt = norm(t.RunAt), normPtr(t.StartedAt), normPtr(t.FinishedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO tasks (`+taskCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		t.ID, t.Kind, t.Status, t.Progress, t.Message, jsonArg(t.Payload), jsonArg(t.Result), t.Error,
		t.Attempts, t.MaxAttempts, micros(t.RunAt), t.LeaseOwner, nil, t.Creator, t.TargetType, t.TargetID,
		nullIfEmpty(t.Key), t.CancelRequested, micros(t.CreatedAt), micros(t.UpdatedAt),
		microsPtr(t.StartedAt), microsPtr(t.FinishedAt))
	if err != nil {
		if t.Key != "" && q.d.IsUniqueViolation(err) {
			return core.Wrap(core.KindConflict, err, "a task with key %q exists", t.Key)
		}
		return q.writeErr(err, "task", t.ID)
	}
	return nil
}

func (q *queries) GetTask(ctx context.Context, id string) (*core.Task, error) {
	t, err := scanTask(q.r.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "task", id)
	}
	return t, nil
}

func (q *queries) ListTasks(ctx context.Context, f core.TaskFilter) ([]*core.Task, int, error) {
	l := listQuery[*core.Task]{what: "tasks", cols: taskCols, from: "tasks", page: f.Page, sort: taskSort, scan: scanTask}
	for _, c := range []struct {
		col string
		v   *string
	}{{"kind", f.Kind}, {"target_type", f.TargetType}, {"target_id", f.TargetID}, {"creator", f.Creator}} {
		if c.v != nil {
			l.where = append(l.where, c.col+" = "+l.args.add(*c.v))
		}
	}
	if f.Status != nil {
		l.where = append(l.where, "status = "+l.args.add(*f.Status))
	}
	return l.run(ctx, q.r)
}

// claimSQL picks and leases up to limit tasks in one UPDATE, by the claim's
// rule: the earliest (run_at, id) of the PENDING and RETRY tasks that are due
// and of the STARTED ones whose lease ran out (their worker died). Each status
// is read on its own in the order of tasks_claim (status, run_at, id), which
// stops at the limit however long the backlog, and the three are merged: the
// earliest limit of their union are the earliest limit of all. On PostgreSQL
// each read locks its rows and skips those another claimer holds (a row read
// but not chosen is unlocked when the statement ends); SQLite runs one writer at
// a time. The limit is part of the text, not a parameter: SQLite plans with a
// bound LIMIT's value and prepares the statement again whenever it changes, and
// the runner asks for as many tasks as it has free workers, which changes from
// one claim to the next.
func claimSQL(skipLocked bool, limit int) string {
	k := claimKey{skipLocked, limit}
	if q, ok := claimQueries.Load(k); ok {
		return q.(string)
	}
	if limit > maxCachedClaim {
		defer claimQueries.Delete(k)
	}
	lock := ""
	if skipLocked {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	n := strconv.Itoa(limit)
	pick := func(cond string) string {
		return `SELECT id, run_at FROM tasks WHERE ` + cond + ` ORDER BY run_at, id LIMIT ` + n + lock
	}
	q, _ := claimQueries.LoadOrStore(k, `WITH due AS (`+pick(`status = 'PENDING' AND run_at <= $3`)+`),
		retry AS (`+pick(`status = 'RETRY' AND run_at <= $3`)+`),
		orphaned AS (`+pick(`status = 'STARTED' AND lease_until < $3`)+`)
	UPDATE tasks SET status = 'STARTED', attempts = attempts + 1, lease_owner = $1, lease_until = $2,
		started_at = $3, updated_at = $3
	WHERE id IN (
		SELECT id FROM (
			SELECT id, run_at FROM due UNION ALL SELECT id, run_at FROM retry UNION ALL SELECT id, run_at FROM orphaned
		) c ORDER BY run_at, id LIMIT `+n+`
	) RETURNING `+taskCols)
	return q.(string)
}

// maxCachedClaim is the largest limit whose claim statement stays cached.
const maxCachedClaim = 256

// claimQueries caches claimSQL's statements.
var claimQueries sync.Map // claimKey → string

type claimKey struct {
	skipLocked bool
	limit      int
}

func (q *queries) ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*core.Task, error) {
	if limit <= 0 {
		return nil, nil
	}
	if owner == "" {
		return nil, core.Invalid("owner", "a lease owner is required")
	}
	now = norm(now)
	rows, err := q.w.QueryContext(q.unwatched(ctx), claimSQL(q.d.SkipLocked, limit), owner, micros(norm(now.Add(lease))), micros(now))
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "claim tasks")
	}
	defer rows.Close()
	out := make([]*core.Task, 0, min(limit, 64))
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "claim tasks")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "claim tasks")
	}
	slices.SortFunc(out, func(a, b *core.Task) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// leaseLost tells why an update of a leased task matched no row: the task does
// not exist (NotFound) or owner does not hold it (Conflict).
func (q *queries) leaseLost(ctx context.Context, id, owner string) error {
	var status string
	err := q.w.QueryRowContext(ctx, `SELECT status FROM tasks WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return core.NotFound("task", id)
	}
	if err != nil {
		return core.Wrap(core.KindInternal, err, "get task %s", id)
	}
	return core.Errorf(core.KindConflict, "task %s is not leased to %s", id, owner)
}

func (q *queries) ExtendTaskLease(ctx context.Context, id, owner string, until time.Time) (*core.Task, error) {
	t, err := scanTask(q.w.QueryRowContext(ctx, `UPDATE tasks SET lease_until = $1, updated_at = $2
		WHERE id = $3 AND lease_owner = $4 AND status = 'STARTED' RETURNING `+taskCols,
		micros(norm(until)), micros(norm(q.now())), id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, q.leaseLost(ctx, id, owner)
	}
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "extend lease of task %s", id)
	}
	return t, nil
}

func (q *queries) SetTaskProgress(ctx context.Context, id, owner string, progress int, message string) error {
	progress = min(max(progress, 0), 100)
	res, err := q.w.ExecContext(ctx, `UPDATE tasks SET progress = $1, message = $2, updated_at = $3
		WHERE id = $4 AND lease_owner = $5 AND status = 'STARTED'`,
		progress, message, micros(norm(q.now())), id, owner)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "set progress of task %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return core.Wrap(core.KindInternal, err, "set progress of task %s", id)
	} else if n == 0 {
		return q.leaseLost(ctx, id, owner)
	}
	return nil
}

// maxFinish bounds how many outcomes one statement of FinishTasks records.
const maxFinish = 64

// FinishTasks records the outcomes in one UPDATE per maxFinish of them. Each
// sets what its status asks (a success its Result and progress 100, a failure
// or revocation its Error and finished_at, a retry its Error and next run_at)
// and the progress report it carries, and clears the lease. Outcomes alike but
// for their task (the usual batch: successes without a result) are one UPDATE
// of the tasks by id; others are joined with a list of their values. A task
// owner does not hold (its lease ran out and another worker took it over, or it
// is gone) is left as it is and its ID returned in lost.
func (q *queries) FinishTasks(ctx context.Context, owner string, outcomes []core.TaskOutcome, now time.Time) (lost []string, err error) {
	for _, o := range outcomes {
		switch o.Status {
		case core.TaskSuccess, core.TaskFailure, core.TaskRevoked, core.TaskRetry:
		default:
			return nil, core.Invalid("status", "a task cannot finish as %q", o.Status)
		}
	}
	now = norm(now)
	ctx = q.unwatched(ctx)
	for len(outcomes) > 0 {
		n := min(len(outcomes), maxFinish)
		l, err := q.finishTasks(ctx, owner, outcomes[:n], now)
		if err != nil {
			return nil, err
		}
		lost = append(lost, l...)
		outcomes = outcomes[n:]
	}
	return lost, nil
}

// finishSet is the SET clause of a finish, given each value of the outcome as
// an SQL expression (v("status"), …): the one place that says what finishing
// writes. $1 is the time.
func finishSet(v func(col string) string) string {
	return `status = ` + v("status") + `, result = ` + v("result") + `, error = ` + v("error") + `,
		progress = CASE WHEN ` + v("status") + ` = 'SUCCESS' THEN 100 ELSE COALESCE(` + v("progress") + `, tasks.progress) END,
		message = COALESCE(` + v("message") + `, tasks.message),
		run_at = COALESCE(` + v("run_at") + `, tasks.run_at),
		finished_at = CASE WHEN ` + v("status") + ` = 'RETRY' THEN tasks.finished_at ELSE CAST($1 AS BIGINT) END,
		lease_owner = '', lease_until = NULL, updated_at = $1`
}

// finishCols are an outcome's values, in the order finishValues gives them;
// the numbers are cast, for PostgreSQL to know their types.
var finishCols = []struct{ name, typ string }{
	{"status", ""}, {"result", ""}, {"error", ""}, {"run_at", "BIGINT"}, {"progress", "INTEGER"}, {"message", ""},
}

// finishValues are o's values for finishCols.
func finishValues(o core.TaskOutcome, now time.Time) [6]any {
	var runAt, pct, msg any
	if o.Status == core.TaskRetry {
		at := now
		if !o.RunAt.IsZero() {
			at = norm(o.RunAt)
		}
		runAt = micros(at)
	}
	if p := o.Progress; p != nil {
		pct, msg = min(max(p.Percent, 0), 100), p.Message
	}
	return [6]any{string(o.Status), jsonArg(o.Result), o.Error, runAt, pct, msg}
}

// alike says whether outcomes a and b write the same values (their tasks aside).
func alike(a, b core.TaskOutcome) bool {
	return a.Status == b.Status && bytes.Equal(a.Result, b.Result) && a.Error == b.Error && a.RunAt.Equal(b.RunAt) &&
		(a.Progress == nil) == (b.Progress == nil) && (a.Progress == nil || *a.Progress == *b.Progress)
}

// heldBy is the condition that $2 holds a task's lease. A lease (owner and
// until) is set exactly while a task is STARTED (a claim sets both, finishing
// and releasing clear both), so it needs no test of the status: with one, on
// PostgreSQL, the planner may choose an index of the STARTED tasks over the
// tasks' ids, and such an index holds an entry for every task that has since
// finished, until vacuum, which the finish of a few would then all read.
const heldBy = `tasks.lease_owner = $2 AND tasks.lease_until IS NOT NULL`

// finishQueries caches the statements of finishTasks by form and size.
var finishQueries sync.Map // finishKey → string

type finishKey struct {
	joined bool
	plain  core.TaskStatus
	n      int
}

// plain says whether o writes nothing but its status (no result, error or
// progress), which a statement can then say in literals: the usual outcome,
// whose statement is then the cheapest.
func plain(o core.TaskOutcome) bool {
	return o.Result == nil && o.Error == "" && o.Progress == nil && o.Status != core.TaskRetry
}

// finishQuery is the statement that finishes n tasks: with one set of values
// ($3…$8, or in literals for plain outcomes of status plain) and the ids after
// them, or, joined, with the values of each task.
func finishQuery(joined bool, plainStatus core.TaskStatus, n int) string {
	k := finishKey{joined, plainStatus, n}
	if q, ok := finishQueries.Load(k); ok {
		return q.(string)
	}
	var b strings.Builder
	p := 2
	next := func() string { p++; return "$" + strconv.Itoa(p) }
	cast := func(ph, typ string) string {
		if typ == "" {
			return ph
		}
		return "CAST(" + ph + " AS " + typ + ")"
	}
	if joined {
		b.WriteString(`WITH o (id`)
		for _, c := range finishCols {
			b.WriteString(", " + c.name)
		}
		b.WriteString(`) AS (VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + next())
			for _, c := range finishCols {
				b.WriteString(", " + cast(next(), c.typ))
			}
			b.WriteString(")")
		}
		b.WriteString(`)
	UPDATE tasks SET ` + finishSet(func(col string) string { return "o." + col }) + `
	FROM o WHERE tasks.id = o.id AND ` + heldBy)
	} else {
		vals := map[string]string{}
		if plainStatus != "" {
			// A status is one of four words (FinishTasks checks it), no input.
			vals = map[string]string{"status": "'" + string(plainStatus) + "'", "result": "NULL", "error": "''",
				"run_at": "NULL", "progress": "NULL", "message": "NULL"}
		} else {
			for _, c := range finishCols {
				vals[c.name] = cast(next(), c.typ)
			}
		}
		b.WriteString(`UPDATE tasks SET ` + finishSet(func(col string) string { return vals[col] }) + `
	WHERE ` + heldBy + ` AND tasks.id IN (`)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(next())
		}
		b.WriteString(`)`)
	}
	q, _ := finishQueries.LoadOrStore(k, b.String())
	return q.(string)
}

func (q *queries) finishTasks(ctx context.Context, owner string, outcomes []core.TaskOutcome, now time.Time) ([]string, error) {
	joined := false
	for _, o := range outcomes[1:] {
		if !alike(o, outcomes[0]) {
			joined = true
			break
		}
	}
	a := make([]any, 0, 2+(1+len(finishCols))*len(outcomes))
	a = append(a, micros(now), owner)
	var plainStatus core.TaskStatus
	switch {
	case joined:
		for _, o := range outcomes {
			v := finishValues(o, now)
			a = append(append(a, o.ID), v[:]...)
		}
	case plain(outcomes[0]):
		plainStatus = outcomes[0].Status
	default:
		v := finishValues(outcomes[0], now)
		a = append(a, v[:]...)
	}
	if !joined {
		for _, o := range outcomes {
			a = append(a, o.ID)
		}
	}
	res, err := q.w.ExecContext(ctx, finishQuery(joined, plainStatus, len(outcomes)), a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "finish tasks")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "finish tasks")
	}
	if int(n) == len(outcomes) {
		return nil, nil
	}
	return q.unfinished(ctx, outcomes, now)
}

// unfinished lists the tasks of outcomes that a finish at now did not finish:
// those that do not show what it wrote (their outcome, no lease, updated at
// now). It is the rare case, when a lease was lost, so that the finish itself
// need not return its rows (RETURNING was a third of its cost on SQLite). A
// task showing the very same outcome written at the same microsecond holds
// this outcome, whoever wrote it, and counts as finished.
func (q *queries) unfinished(ctx context.Context, outcomes []core.TaskOutcome, now time.Time) ([]string, error) {
	a := make(args, 0, len(outcomes))
	ph := make([]string, len(outcomes))
	for i, o := range outcomes {
		ph[i] = a.add(o.ID)
	}
	rows, err := q.w.QueryContext(ctx, `SELECT id, status, result, error, run_at, lease_owner, lease_until, updated_at
		FROM tasks WHERE id IN (`+strings.Join(ph, ", ")+`)`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "finish tasks")
	}
	defer rows.Close()
	type row struct {
		status           core.TaskStatus
		result           sql.NullString
		errText, owner   string
		runAt, updatedAt int64
		until            sql.NullInt64
	}
	got := make(map[string]row, len(outcomes))
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.status, &r.result, &r.errText, &r.runAt, &r.owner, &r.until, &r.updatedAt); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "finish tasks")
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "finish tasks")
	}
	var lost []string
	for _, o := range outcomes {
		r, ok := got[o.ID]
		v := finishValues(o, now)
		shows := ok && r.owner == "" && !r.until.Valid && r.updatedAt == micros(now) && r.status == o.Status &&
			r.errText == o.Error && r.result.Valid == (o.Result != nil) && r.result.String == string(o.Result) &&
			(v[3] == nil || r.runAt == v[3].(int64))
		if !shows {
			lost = append(lost, o.ID)
		}
	}
	return lost, nil
}

// RequestTaskCancel revokes a waiting task at once and flags a running one; the
// flag reaches its worker through ExtendTaskLease.
func (q *queries) RequestTaskCancel(ctx context.Context, id string, now time.Time) (*core.Task, error) {
	t, err := scanTask(q.w.QueryRowContext(ctx, `UPDATE tasks SET
			status = CASE WHEN status = 'STARTED' THEN status ELSE 'REVOKED' END,
			finished_at = CASE WHEN status = 'STARTED' THEN finished_at ELSE CAST($1 AS BIGINT) END,
			error = CASE WHEN status = 'STARTED' THEN error ELSE 'revoked by request' END,
			cancel_requested = TRUE,
			updated_at = $1
		WHERE id = $2 AND status IN ('PENDING', 'RETRY', 'STARTED') RETURNING `+taskCols,
		micros(norm(now)), id))
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := q.GetTask(ctx, id); gerr != nil {
			return nil, gerr
		}
		return nil, core.Errorf(core.KindConflict, "task %s has already finished", id)
	}
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "cancel task %s", id)
	}
	return t, nil
}

// ReleaseTasks hands owner's running tasks back as PENDING without counting the
// attempt. A task whose cancellation was requested is revoked instead: running it
// again would go against the request.
func (q *queries) ReleaseTasks(ctx context.Context, owner string, now time.Time) error {
	_, err := q.w.ExecContext(ctx, `UPDATE tasks SET
			status = CASE WHEN cancel_requested THEN 'REVOKED' ELSE 'PENDING' END,
			finished_at = CASE WHEN cancel_requested THEN CAST($1 AS BIGINT) ELSE NULL END,
			error = CASE WHEN cancel_requested THEN 'revoked by request' ELSE error END,
			started_at = CASE WHEN cancel_requested THEN started_at ELSE NULL END,
			attempts = CASE WHEN cancel_requested OR attempts = 0 THEN attempts ELSE attempts - 1 END,
			lease_owner = '', lease_until = NULL, updated_at = $1
		WHERE lease_owner = $2 AND status = 'STARTED'`, micros(norm(now)), owner)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "release tasks of %s", owner)
	}
	return nil
}

func (q *queries) CountTasksByStatus(ctx context.Context) (map[core.TaskStatus]int, error) {
	return countBy[core.TaskStatus](ctx, q.r, "tasks", `SELECT status, count(*) FROM tasks GROUP BY status`)
}
