package sqlstore

import (
	"context"
	"database/sql"

	"hostdeck/core"
)

const userCols = `id, name, email, role, password_hash, disabled, created_at, updated_at, domain_id,
	password_changed_at, grace_logins_used, realm, number, phone`

func scanUser(sc scanner) (*core.User, error) {
	var u core.User
	var created, updated, pwChanged int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.PasswordHash, &u.Disabled, &created, &updated, &u.DomainID,
		&pwChanged, &u.GraceLoginsUsed, &u.Realm, &u.Number, &u.Phone); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = fromMicros(created), fromMicros(updated), fromMicros(pwChanged)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *core.User) error {
	q.stamp(&u.ID, &u.CreatedAt, &u.UpdatedAt)
	if u.Role == "" {
		u.Role = core.RoleMember
	}
	if u.DomainID == "" {
		u.DomainID = core.DefaultDomainID
	}
	if u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	if u.Realm == "" {
		u.Realm = core.RealmHostdeck
	}
	u.PasswordChangedAt = norm(u.PasswordChangedAt)
	n, err := q.nextNumber(ctx, core.NumberUser)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		u.ID, u.Name, u.Email, u.Role, u.PasswordHash, u.Disabled, micros(u.CreatedAt), micros(u.UpdatedAt), u.DomainID,
		micros(u.PasswordChangedAt), u.GraceLoginsUsed, u.Realm, n, u.Phone)
	if err != nil {
		return q.writeErr(err, "user", u.Name)
	}
	u.Number = n
	return nil
}

func (q *queries) GetUser(ctx context.Context, id string) (*core.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "user", id)
	}
	return u, nil
}

func (q *queries) GetUserByName(ctx context.Context, name string) (*core.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if err != nil {
		return nil, readErr(err, "user", name)
	}
	return u, nil
}

const projectCols = `id, name, description, owner_id, settings, created_at, updated_at`

func scanProject(sc scanner) (*core.Project, error) {
	var p core.Project
	var settings sql.NullString
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Description, &p.OwnerID, &settings, &created, &updated); err != nil {
		return nil, err
	}
	p.Settings = fromNullJSON(settings)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func (q *queries) CreateProject(ctx context.Context, p *core.Project) error {
	q.stamp(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO projects (`+projectCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.Name, p.Description, p.OwnerID, jsonArg(p.Settings), micros(p.CreatedAt), micros(p.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "project", p.ID)
	}
	return nil
}

func (q *queries) GetProject(ctx context.Context, id string) (*core.Project, error) {
	p, err := scanProject(q.r.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "project", id)
	}
	return p, nil
}
