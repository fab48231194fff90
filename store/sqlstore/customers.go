package sqlstore

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/tenancy"
)

// This file stores the storage service's customers' profiles and the
// projects they own (tenancy.Store).

var _ tenancy.Store = (*DB)(nil)

const profileCols = `user_id, full_name, short_name, project_limit, created_at, updated_at`

func scanProfile(sc scanner) (*tenancy.Profile, error) {
	var p tenancy.Profile
	var created, updated int64
	if err := sc.Scan(&p.UserID, &p.FullName, &p.ShortName, &p.ProjectLimit, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func (q *queries) GetUserProfile(ctx context.Context, userID string) (*tenancy.Profile, error) {
	p, err := scanProfile(q.r.QueryRowContext(ctx, `SELECT `+profileCols+` FROM user_profiles WHERE user_id = $1`, userID))
	if err != nil {
		return nil, readErr(err, "user profile", userID)
	}
	return p, nil
}

func (q *queries) PutUserProfile(ctx context.Context, p *tenancy.Profile) error {
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

func (q *queries) CreateCustomerProject(ctx context.Context, p *core.Project) error {
	q.stamp(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO projects (`+projectCols+`, project_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.Name, p.Description, p.OwnerID, jsonArg(p.Settings), micros(p.CreatedAt), micros(p.UpdatedAt), tenancy.ProjectTypeCustomer)
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
