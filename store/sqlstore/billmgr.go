package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"hostdeck/core"
)

func (q *queries) InstanceElids(ctx context.Context, instanceIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(instanceIDs))
	// In chunks, to stay below the databases' limits on bound parameters.
	for len(instanceIDs) > 0 {
		chunk := instanceIDs[:min(len(instanceIDs), 500)]
		instanceIDs = instanceIDs[len(chunk):]
		var a args
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = a.add(id)
		}
		rows, err := q.r.QueryContext(ctx, `SELECT instance_id, elid FROM instance_elids WHERE instance_id IN (`+strings.Join(ph, ", ")+`)`, a...)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list instance elids")
		}
		for rows.Next() {
			var id string
			var elid int64
			if err := rows.Scan(&id, &elid); err != nil {
				rows.Close()
				return nil, core.Wrap(core.KindInternal, err, "list instance elids")
			}
			out[id] = elid
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list instance elids")
		}
	}
	return out, nil
}

func (q *queries) InstanceIDByElid(ctx context.Context, elid int64) (string, error) {
	var id string
	err := q.r.QueryRowContext(ctx, `SELECT instance_id FROM instance_elids WHERE elid = $1`, elid).Scan(&id)
	if err != nil {
		return "", readErr(err, "instance", strconv.FormatInt(elid, 10))
	}
	return id, nil
}

func (q *queries) CreateBillmgrSession(ctx context.Context, s *core.BillmgrSession) error {
	now := norm(q.now())
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.LastUsedAt.IsZero() {
		s.LastUsedAt = s.CreatedAt
	}
	s.CreatedAt, s.LastUsedAt = norm(s.CreatedAt), norm(s.LastUsedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO billmgr_sessions (id_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $4)`,
		s.IDHash, s.UserID, micros(s.CreatedAt), micros(s.LastUsedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("user", s.UserID)
		}
		return q.writeErr(err, "session", "")
	}
	return nil
}

func (q *queries) GetBillmgrSession(ctx context.Context, idHash string) (*core.BillmgrSession, error) {
	var s core.BillmgrSession
	var created, used int64
	err := q.r.QueryRowContext(ctx, `SELECT id_hash, user_id, created_at, last_used_at FROM billmgr_sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.UserID, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, core.Errorf(core.KindNotFound, "session not found")
	}
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "get session")
	}
	s.CreatedAt, s.LastUsedAt = fromMicros(created), fromMicros(used)
	return &s, nil
}

func (q *queries) TouchBillmgrSession(ctx context.Context, idHash string, at time.Time) error {
	res, err := q.w.ExecContext(ctx, `UPDATE billmgr_sessions SET last_used_at = $1 WHERE id_hash = $2`, micros(norm(at)), idHash)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "touch session")
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return core.Errorf(core.KindNotFound, "session not found")
	}
	return nil
}

func (q *queries) DeleteBillmgrSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := q.w.ExecContext(ctx, `DELETE FROM billmgr_sessions WHERE last_used_at < $1`, micros(norm(before)))
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "delete idle sessions")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "delete idle sessions")
	}
	return int(n), nil
}
