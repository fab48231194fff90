package sqlstore

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// This file stores projects' limits, their monthly usage and the runtimes'
// egress counters that usage is counted from.

// --- limits ---

const limitCols = `project_id, usage_bytes, bandwidth_bytes, rate_rps, buckets, updated_at`

func (q *queries) GetProjectLimits(ctx context.Context, projectID string) (*quota.ProjectLimits, error) {
	var l quota.ProjectLimits
	var updated int64
	err := q.r.QueryRowContext(ctx, `SELECT `+limitCols+` FROM project_limits WHERE project_id = $1`, projectID).
		Scan(&l.ProjectID, &l.Usage, &l.Bandwidth, &l.Rate, &l.Buckets, &updated)
	if err != nil {
		return nil, readErr(err, "project limits", projectID)
	}
	l.UpdatedAt = fromMicros(updated)
	return &l, nil
}

func (q *queries) PutProjectLimits(ctx context.Context, l *quota.ProjectLimits) error {
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

func scanUsage(sc scanner) (*quota.ProjectUsage, error) {
	var u quota.ProjectUsage
	var updated int64
	if err := sc.Scan(&u.ProjectID, &u.Month, &u.StoredBytes, &u.EgressBytes, &updated); err != nil {
		return nil, err
	}
	u.UpdatedAt = fromMicros(updated)
	return &u, nil
}

func (q *queries) PutProjectUsage(ctx context.Context, u *quota.ProjectUsage) error {
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

func (q *queries) GetProjectUsage(ctx context.Context, projectID, month string) (*quota.ProjectUsage, error) {
	u, err := scanUsage(q.r.QueryRowContext(ctx, `SELECT `+usageCols+` FROM project_usage WHERE project_id = $1 AND month = $2`, projectID, month))
	if err != nil {
		return nil, readErr(err, "project usage", projectID+" "+month)
	}
	return u, nil
}

func (q *queries) ListProjectUsage(ctx context.Context, projectID, month string) ([]*quota.ProjectUsage, error) {
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
