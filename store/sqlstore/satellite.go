package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"hostdeck/core"
)

// This file stores the satellite's records: user profiles, satellite projects,
// coupons, project limits, monthly project usage and egress counters.

const profileCols = `user_id, full_name, short_name, project_limit, created_at, updated_at`

func scanProfile(sc scanner) (*core.UserProfile, error) {
	var p core.UserProfile
	var created, updated int64
	if err := sc.Scan(&p.UserID, &p.FullName, &p.ShortName, &p.ProjectLimit, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func (q *queries) GetUserProfile(ctx context.Context, userID string) (*core.UserProfile, error) {
	p, err := scanProfile(q.r.QueryRowContext(ctx, `SELECT `+profileCols+` FROM user_profiles WHERE user_id = $1`, userID))
	if err != nil {
		return nil, readErr(err, "user profile", userID)
	}
	return p, nil
}

func (q *queries) PutUserProfile(ctx context.Context, p *core.UserProfile) error {
	id := p.UserID
	q.stamp(&id, &p.CreatedAt, &p.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO user_profiles (`+profileCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET full_name = excluded.full_name, short_name = excluded.short_name,
		project_limit = excluded.project_limit, updated_at = excluded.updated_at`,
		p.UserID, p.FullName, p.ShortName, p.ProjectLimit, micros(p.CreatedAt), micros(p.UpdatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("user", p.UserID)
		}
		return q.writeErr(err, "user profile", p.UserID)
	}
	return nil
}

func (q *queries) DeleteUserProfile(ctx context.Context, userID string) error {
	if _, err := q.w.ExecContext(ctx, `DELETE FROM user_profiles WHERE user_id = $1`, userID); err != nil {
		return q.writeErr(err, "user profile", userID)
	}
	return nil
}

// --- projects ---

func (q *queries) CreateSatelliteProject(ctx context.Context, p *core.Project) error {
	q.stamp(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO projects (`+projectCols+`, project_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.Name, p.Description, p.OwnerID, jsonArg(p.Settings), micros(p.CreatedAt), micros(p.UpdatedAt), core.ProjectTypeSatellite)
	if err != nil {
		return q.writeErr(err, "project", p.Name)
	}
	return nil
}

func (q *queries) ProjectType(ctx context.Context, id string) (string, error) {
	var typ string
	if err := q.r.QueryRowContext(ctx, `SELECT project_type FROM projects WHERE id = $1`, id).Scan(&typ); err != nil {
		return "", readErr(err, "project", id)
	}
	return typ, nil
}

func (q *queries) ListProjectsByOwner(ctx context.Context, ownerID string) ([]*core.Project, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+projectCols+` FROM projects WHERE owner_id = $1 ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list projects of %s", ownerID)
	}
	return collect(rows, scanProject, "projects of "+ownerID)
}

func (q *queries) UpdateProjectInfo(ctx context.Context, id string, name, description *string) (*core.Project, error) {
	var s sets
	if name != nil {
		s.set("name", *name)
	}
	if description != nil {
		s.set("description", *description)
	}
	return update(ctx, q, "projects", "project", id, &s, projectCols, scanProject)
}

func (q *queries) RemoveProject(ctx context.Context, id string) error {
	for _, stmt := range []string{
		`DELETE FROM project_limits WHERE project_id = $1`,
		`DELETE FROM project_usage WHERE project_id = $1`,
		`DELETE FROM role_grants WHERE project_id = $1`,
	} {
		if _, err := q.w.ExecContext(ctx, stmt, id); err != nil {
			return q.writeErr(err, "project", id)
		}
	}
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM projects WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "project", id)
	}
	return nil
}

// --- coupons ---

const couponCols = `id, user_id, duration, amount, description, coupon_type, status, created_at`

func scanCoupon(sc scanner) (*core.Coupon, error) {
	var c core.Coupon
	var created int64
	if err := sc.Scan(&c.ID, &c.UserID, &c.Duration, &c.Amount, &c.Description, &c.Type, &c.Status, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

func (q *queries) CreateCoupon(ctx context.Context, c *core.Coupon) error {
	q.stamp(&c.ID, &c.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO coupons (`+couponCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.UserID, c.Duration, c.Amount, c.Description, c.Type, c.Status, micros(c.CreatedAt))
	if err != nil {
		return q.writeErr(err, "coupon", c.ID)
	}
	return nil
}

func (q *queries) GetCoupon(ctx context.Context, id string) (*core.Coupon, error) {
	c, err := scanCoupon(q.r.QueryRowContext(ctx, `SELECT `+couponCols+` FROM coupons WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "coupon", id)
	}
	return c, nil
}

func (q *queries) ListCoupons(ctx context.Context, userID string) ([]*core.Coupon, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+couponCols+` FROM coupons WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list coupons of %s", userID)
	}
	return collect(rows, scanCoupon, "coupons of "+userID)
}

func (q *queries) DeleteCoupon(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM coupons WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "coupon", id)
	}
	return nil
}

// --- limits ---

const limitCols = `project_id, usage_bytes, bandwidth_bytes, rate_rps, buckets, updated_at`

func (q *queries) GetProjectLimits(ctx context.Context, projectID string) (*core.ProjectLimits, error) {
	var l core.ProjectLimits
	var updated int64
	err := q.r.QueryRowContext(ctx, `SELECT `+limitCols+` FROM project_limits WHERE project_id = $1`, projectID).
		Scan(&l.ProjectID, &l.Usage, &l.Bandwidth, &l.Rate, &l.Buckets, &updated)
	if err != nil {
		return nil, readErr(err, "project limits", projectID)
	}
	l.UpdatedAt = fromMicros(updated)
	return &l, nil
}

func (q *queries) PutProjectLimits(ctx context.Context, l *core.ProjectLimits) error {
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = q.now()
	}
	l.UpdatedAt = norm(l.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO project_limits (`+limitCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id) DO UPDATE SET usage_bytes = excluded.usage_bytes, bandwidth_bytes = excluded.bandwidth_bytes,
		rate_rps = excluded.rate_rps, buckets = excluded.buckets, updated_at = excluded.updated_at`,
		l.ProjectID, l.Usage, l.Bandwidth, l.Rate, l.Buckets, micros(l.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "project limits", l.ProjectID)
	}
	return nil
}

// --- usage ---

const usageCols = `project_id, month, stored_bytes, egress_bytes, updated_at`

func scanUsage(sc scanner) (*core.ProjectUsage, error) {
	var u core.ProjectUsage
	var updated int64
	if err := sc.Scan(&u.ProjectID, &u.Month, &u.StoredBytes, &u.EgressBytes, &updated); err != nil {
		return nil, err
	}
	u.UpdatedAt = fromMicros(updated)
	return &u, nil
}

func (q *queries) PutProjectUsage(ctx context.Context, u *core.ProjectUsage) error {
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = q.now()
	}
	u.UpdatedAt = norm(u.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO project_usage (`+usageCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (project_id, month) DO UPDATE SET stored_bytes = excluded.stored_bytes,
		egress_bytes = excluded.egress_bytes, updated_at = excluded.updated_at`,
		u.ProjectID, u.Month, u.StoredBytes, u.EgressBytes, micros(u.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "project usage", u.ProjectID+" "+u.Month)
	}
	return nil
}

func (q *queries) GetProjectUsage(ctx context.Context, projectID, month string) (*core.ProjectUsage, error) {
	u, err := scanUsage(q.r.QueryRowContext(ctx, `SELECT `+usageCols+` FROM project_usage WHERE project_id = $1 AND month = $2`, projectID, month))
	if err != nil {
		return nil, readErr(err, "project usage", projectID+" "+month)
	}
	return u, nil
}

func (q *queries) ListProjectUsage(ctx context.Context, projectID, month string) ([]*core.ProjectUsage, error) {
	var a args
	var w where
	if projectID != "" {
		w = append(w, "project_id = "+a.add(projectID))
	}
	if month != "" {
		w = append(w, "month = "+a.add(month))
	}
	rows, err := q.r.QueryContext(ctx, `SELECT `+usageCols+` FROM project_usage`+w.String()+` ORDER BY month, project_id`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list project usage")
	}
	return collect(rows, scanUsage, "project usage")
}

func (q *queries) EgressCounters(ctx context.Context) (map[string]int64, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT instance_id, tx_bytes FROM instance_egress`)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list egress counters")
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list egress counters")
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list egress counters")
	}
	return out, nil
}

func (q *queries) PutEgressCounter(ctx context.Context, instanceID string, txBytes int64) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO instance_egress (instance_id, tx_bytes, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (instance_id) DO UPDATE SET tx_bytes = excluded.tx_bytes, updated_at = excluded.updated_at`,
		instanceID, txBytes, micros(norm(q.now())))
	if err != nil {
		return q.writeErr(err, "egress counter", instanceID)
	}
	return nil
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "scan %s", strings.TrimSpace(what))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list %s", what)
	}
	return out, nil
}
