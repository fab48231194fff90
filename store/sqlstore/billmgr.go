package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"hostdeck/core"
)

// billmgrInstances is instances with their elids. The join is LEFT on a unique
// key, so it never changes which rows match: the total is counted from instances
// alone, the OFFSET subquery uses no column of instance_elids (the databases
// leave the join out of it), and only the rows of the page are joined.
const billmgrInstances = "instances LEFT JOIN instance_elids ON instance_elids.instance_id = instances.id"

func (q *queries) ListBillmgrInstances(ctx context.Context, f core.InstanceFilter) ([]*core.BillmgrInstance, int, error) {
	l := listQuery[*core.BillmgrInstance]{what: "instances", cols: instanceCols + ", COALESCE(elid, 0)", from: billmgrInstances,
		countFrom: "instances", page: f.Page, sort: instanceSort, scan: scanBillmgrInstance}
	l.where = append(l.where, "state <> 'deleted'")
	if !instanceWhere(&l, f) {
		return []*core.BillmgrInstance{}, 0, nil
	}
	return l.run(ctx, q.r)
}

func scanBillmgrInstance(sc scanner) (*core.BillmgrInstance, error) {
	var elid int64
	in, err := scanInstanceAnd(sc, &elid)
	if err != nil {
		return nil, err
	}
	return &core.BillmgrInstance{Instance: in, Elid: elid}, nil
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
