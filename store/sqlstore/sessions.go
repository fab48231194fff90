package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/session"
)

// This file stores desktop users' sessions, floating IPs and volume
// assignments (session.Store).

var _ session.Store = (*DB)(nil)

// --- sessions ---

const sessionCols = `id, user_id, user_name, instance_id, instance_name, project_id, conn_type, client_ip,
	client_os, client_info, created_at, closed_at`

var sessionSort = sorting{
	fields:   map[string]string{"id": "id", "created_at": "created_at", "closed_at": "closed_at", "user_name": "user_name", "instance_name": "instance_name"},
	nullable: map[string]bool{"closed_at": true},
	def:      []string{"-created_at", "-id"},
}

func scanSession(sc scanner) (*session.Session, error) {
	var s session.Session
	var created int64
	var closed sql.NullInt64
	if err := sc.Scan(&s.ID, &s.UserID, &s.UserName, &s.InstanceID, &s.InstanceName, &s.ProjectID, &s.ConnType,
		&s.ClientIP, &s.ClientOS, &s.ClientInfo, &created, &closed); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ClosedAt = fromMicros(created), fromNullMicros(closed)
	return &s, nil
}

func (q *queries) CreateSession(ctx context.Context, s *session.Session) error {
	q.stamp(&s.ID, &s.CreatedAt, nil)
	s.ClosedAt = normPtr(s.ClosedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.ID, s.UserID, s.UserName, s.InstanceID, s.InstanceName, s.ProjectID, s.ConnType, s.ClientIP,
		s.ClientOS, s.ClientInfo, micros(s.CreatedAt), microsPtr(s.ClosedAt))
	if err != nil {
		return q.writeErr(err, "session", s.ID)
	}
	return nil
}

func (q *queries) GetSession(ctx context.Context, id string) (*session.Session, error) {
	s, err := scanSession(q.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "session", id)
	}
	return s, nil
}

// sessionQuery is the list of sessions f selects.
func sessionQuery(f session.SessionFilter) listQuery[*session.Session] {
	l := listQuery[*session.Session]{what: "sessions", cols: sessionCols, from: "sessions", page: f.Page, sort: sessionSort, scan: scanSession}
	eq := func(col string, v *string) {
		if v != nil {
			l.where = append(l.where, col+" = "+l.args.add(*v))
		}
	}
	l.cond("user_id", f.UserID)
	l.cond("user_name", f.UserName)
	l.cond("instance_id", f.InstanceID)
	eq("instance_name", f.InstanceName)
	eq("project_id", f.ProjectID)
	eq("conn_type", f.ConnType)
	bound := func(op string, t *time.Time) {
		if t != nil {
			l.where = append(l.where, "created_at "+op+" "+l.args.add(micros(norm(*t))))
		}
	}
	bound(">", f.CreatedAt.GT)
	bound(">=", f.CreatedAt.GTE)
	bound("<", f.CreatedAt.LT)
	bound("<=", f.CreatedAt.LTE)
	if f.Last {
		// The newest of each (user, machine): no later session of the pair exists.
		l.where = append(l.where, `NOT EXISTS (SELECT 1 FROM sessions later
			WHERE later.user_id = sessions.user_id AND later.instance_id = sessions.instance_id
			AND (later.created_at > sessions.created_at OR (later.created_at = sessions.created_at AND later.id > sessions.id)))`)
	}
	return l
}

func (q *queries) ListSessions(ctx context.Context, f session.SessionFilter) ([]*session.Session, int, error) {
	return sessionQuery(f).run(ctx, q.r)
}

func (q *queries) CountSessions(ctx context.Context, f session.SessionFilter) (int, error) {
	return sessionQuery(f).total(ctx, q.r)
}

func (q *queries) CloseSession(ctx context.Context, id string, at time.Time) (*session.Session, error) {
	s, err := scanSession(q.w.QueryRowContext(ctx, `UPDATE sessions SET closed_at = COALESCE(closed_at, $1)
		WHERE id = $2 RETURNING `+sessionCols, micros(norm(at)), id))
	if err != nil {
		return nil, q.writeErr(err, "session", id)
	}
	return s, nil
}

func (q *queries) CloseOpenSessions(ctx context.Context, userID, instanceID string, at time.Time) (int, error) {
	res, err := q.w.ExecContext(ctx, `UPDATE sessions SET closed_at = $1
		WHERE user_id = $2 AND instance_id = $3 AND closed_at IS NULL`, micros(norm(at)), userID, instanceID)
	if err != nil {
		return 0, q.writeErr(err, "session", userID+"/"+instanceID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "close sessions")
	}
	return int(n), nil
}

// --- floating IPs ---

const floatingCols = `user_id, id, address, created_at, updated_at`

var floatingSort = sorting{
	fields: map[string]string{"id": "id", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanFloatingIP(sc scanner) (*session.FloatingIP, error) {
	var ip session.FloatingIP
	var created, updated int64
	if err := sc.Scan(&ip.UserID, &ip.ID, &ip.Address, &created, &updated); err != nil {
		return nil, err
	}
	ip.CreatedAt, ip.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &ip, nil
}

func (q *queries) CreateFloatingIP(ctx context.Context, ip *session.FloatingIP) error {
	q.stamp(&ip.ID, &ip.CreatedAt, &ip.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO floating_ips (`+floatingCols+`) VALUES ($1, $2, $3, $4, $5)`,
		ip.UserID, ip.ID, ip.Address, micros(ip.CreatedAt), micros(ip.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "floating IP", ip.Address)
	}
	return nil
}

func (q *queries) GetFloatingIP(ctx context.Context, userID string) (*session.FloatingIP, error) {
	ip, err := scanFloatingIP(q.r.QueryRowContext(ctx, `SELECT `+floatingCols+` FROM floating_ips WHERE user_id = $1`, userID))
	if err != nil {
		return nil, readErr(err, "floating IP of user", userID)
	}
	return ip, nil
}

func (q *queries) ListFloatingIPs(ctx context.Context, p core.Page) ([]*session.FloatingIP, int, error) {
	l := listQuery[*session.FloatingIP]{what: "floating IPs", cols: floatingCols, from: "floating_ips", page: p, sort: floatingSort, scan: scanFloatingIP}
	return l.run(ctx, q.r)
}

func (q *queries) UpdateFloatingIP(ctx context.Context, userID, id, address string) (*session.FloatingIP, error) {
	ip, err := scanFloatingIP(q.w.QueryRowContext(ctx, `UPDATE floating_ips SET id = $1, address = $2, updated_at = $3
		WHERE user_id = $4 RETURNING `+floatingCols, id, address, micros(norm(q.now())), userID))
	if err != nil {
		return nil, q.writeErr(err, "floating IP of user", userID)
	}
	return ip, nil
}

func (q *queries) DeleteFloatingIP(ctx context.Context, userID string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM floating_ips WHERE user_id = $1 RETURNING user_id`, userID).Scan(&got); err != nil {
		return q.writeErr(err, "floating IP of user", userID)
	}
	return nil
}

// --- volume assignments ---

const volumeCols = `id, user_id, project_id, volume_id, created_at`

var volumeSort = sorting{
	fields: map[string]string{"id": "id", "created_at": "created_at"},
	def:    []string{"id"},
}

func scanVolumeAssignment(sc scanner) (*core.VolumeAssignment, error) {
	var a core.VolumeAssignment
	var created int64
	if err := sc.Scan(&a.ID, &a.UserID, &a.ProjectID, &a.VolumeID, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func (q *queries) CreateVolumeAssignment(ctx context.Context, a *core.VolumeAssignment) error {
	var dummy string
	q.stamp(&dummy, &a.CreatedAt, nil)
	// On PostgreSQL the counter row stays locked until the transaction ends, so
	// concurrent assignments take numbers one after the other.
	if err := q.w.QueryRowContext(ctx, `UPDATE volume_assignment_seq SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id`).Scan(&a.ID); err != nil {
		return core.Wrap(core.KindInternal, err, "number volume assignment")
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO volume_assignments (`+volumeCols+`) VALUES ($1, $2, $3, $4, $5)`,
		a.ID, a.UserID, a.ProjectID, a.VolumeID, micros(a.CreatedAt))
	if err != nil {
		return q.writeErr(err, "volume assignment", a.VolumeID)
	}
	return nil
}

func (q *queries) GetVolumeAssignment(ctx context.Context, id int64) (*core.VolumeAssignment, error) {
	a, err := scanVolumeAssignment(q.r.QueryRowContext(ctx, `SELECT `+volumeCols+` FROM volume_assignments WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "volume assignment", strconv.FormatInt(id, 10))
	}
	return a, nil
}

func (q *queries) ListVolumeAssignments(ctx context.Context, f core.VolumeAssignmentFilter) ([]*core.VolumeAssignment, int, error) {
	l := listQuery[*core.VolumeAssignment]{what: "volume assignments", cols: volumeCols, from: "volume_assignments",
		page: f.Page, sort: volumeSort, scan: scanVolumeAssignment}
	l.cond("user_id", f.UserID)
	l.cond("project_id", f.ProjectID)
	l.cond("volume_id", f.VolumeID)
	return l.run(ctx, q.r)
}

func (q *queries) DeleteVolumeAssignment(ctx context.Context, id int64) error {
	var got int64
	if err := q.w.QueryRowContext(ctx, `DELETE FROM volume_assignments WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "volume assignment", strconv.FormatInt(id, 10))
	}
	return nil
}
