package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
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
	var payload, result, key sql.NullString
	var runAt, created, updated int64
	var leaseUntil, started, finished sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Kind, &t.Status, &t.Progress, &t.Message, &payload, &result, &t.Error,
		&t.Attempts, &t.MaxAttempts, &runAt, &t.LeaseOwner, &leaseUntil, &t.Creator, &t.TargetType, &t.TargetID,
		&key, &t.CancelRequested, &created, &updated, &started, &finished); err != nil {
		return nil, err
	}
	t.Payload, t.Result, t.Key = fromNullJSON(payload), fromNullJSON(result), key.String
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

// ClaimTasks picks and leases the tasks in one UPDATE. On PostgreSQL the inner
// SELECT locks its rows and skips those another claimer holds; SQLite runs one
// writer at a time.
func (q *queries) ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*core.Task, error) {
	if limit <= 0 {
		return nil, nil
	}
	if owner == "" {
		return nil, core.Invalid("owner", "a lease owner is required")
	}
	now = norm(now)
	lock := ""
	if q.d.SkipLocked {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := `UPDATE tasks SET status = 'STARTED', attempts = attempts + 1, lease_owner = $1, lease_until = $2,
			started_at = $3, updated_at = $3
		WHERE id IN (
			SELECT id FROM tasks
			WHERE (status IN ('PENDING', 'RETRY') AND run_at <= $3) OR (status = 'STARTED' AND lease_until < $3)
			ORDER BY run_at, id LIMIT $4` + lock + `
		) RETURNING ` + taskCols
	rows, err := q.w.QueryContext(ctx, query, owner, micros(norm(now.Add(lease))), micros(now), limit)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "claim tasks")
	}
	defer rows.Close()
	var out []*core.Task
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

func (q *queries) FinishTask(ctx context.Context, id, owner string, o core.TaskOutcome, now time.Time) error {
	now = norm(now)
	var s sets
	switch o.Status {
	case core.TaskSuccess:
		s.set("finished_at", micros(now))
		s.set("progress", 100)
	case core.TaskFailure, core.TaskRevoked:
		s.set("finished_at", micros(now))
	case core.TaskRetry:
		runAt := now
		if !o.RunAt.IsZero() {
			runAt = norm(o.RunAt)
		}
		s.set("run_at", micros(runAt))
	default:
		return core.Invalid("status", "a task cannot finish as %q", o.Status)
	}
	s.set("status", o.Status)
	s.set("result", jsonArg(o.Result))
	s.set("error", o.Error)
	s.set("lease_owner", "")
	s.set("lease_until", nil)
	s.set("updated_at", micros(now))
	query := "UPDATE tasks SET " + strings.Join(s.parts, ", ") +
		" WHERE id = " + s.a.add(id) + " AND lease_owner = " + s.a.add(owner) + " AND status = 'STARTED'"
	res, err := q.w.ExecContext(ctx, query, s.a...)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "finish task %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return core.Wrap(core.KindInternal, err, "finish task %s", id)
	} else if n == 0 {
		return q.leaseLost(ctx, id, owner)
	}
	return nil
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
