package sqlstore

import (
	"context"
	"database/sql"

	"hostdeck/core"
)

const userCols = `id, name, email, role, password_hash, disabled, created_at, updated_at`

func scanUser(sc scanner) (*core.User, error) {
	var u core.User
	var created, updated int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *core.User) error {
	q.stamp(&u.ID, &u.CreatedAt, &u.UpdatedAt)
	if u.Role == "" {
		u.Role = core.RoleMember
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Name, u.Email, u.Role, u.PasswordHash, u.Disabled, micros(u.CreatedAt), micros(u.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "user", u.Name)
	}
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

func (q *queries) SetUserPassword(ctx context.Context, id, hash string) error {
	var got string
	err := q.w.QueryRowContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 RETURNING id`,
		hash, micros(norm(q.now())), id).Scan(&got)
	if err != nil {
		return q.writeErr(err, "user", id)
	}
	return nil
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

const imageCols = `id, name, ref, zone, owner_id, os_type, created_at`

var imageSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "zone": "zone", "os_type": "os_type", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanImage(sc scanner) (*core.Image, error) {
	var im core.Image
	var created int64
	if err := sc.Scan(&im.ID, &im.Name, &im.Ref, &im.Zone, &im.OwnerID, &im.OSType, &created); err != nil {
		return nil, err
	}
	im.CreatedAt = fromMicros(created)
	return &im, nil
}

func (q *queries) CreateImage(ctx context.Context, im *core.Image) error {
	q.stamp(&im.ID, &im.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO images (`+imageCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		im.ID, im.Name, im.Ref, im.Zone, im.OwnerID, im.OSType, micros(im.CreatedAt))
	if err != nil {
		return q.writeErr(err, "image", im.ID)
	}
	return nil
}

func (q *queries) GetImage(ctx context.Context, id string) (*core.Image, error) {
	im, err := scanImage(q.r.QueryRowContext(ctx, `SELECT `+imageCols+` FROM images WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "image", id)
	}
	return im, nil
}

func (q *queries) ListImages(ctx context.Context, p core.Page) ([]*core.Image, int, error) {
	l := listQuery[*core.Image]{what: "images", cols: imageCols, from: "images", page: p, sort: imageSort, scan: scanImage}
	return l.run(ctx, q.r)
}

const auditCols = `id, at, actor, face, source, action, target_type, target_id, detail`

var auditSort = sorting{
	fields: map[string]string{
		"id": "id", "at": "at", "actor": "actor", "action": "action", "face": "face", "target_type": "target_type",
	},
	def: []string{"-at", "-id"},
}

func scanAudit(sc scanner) (*core.AuditEvent, error) {
	var e core.AuditEvent
	var at int64
	var detail sql.NullString
	if err := sc.Scan(&e.ID, &at, &e.Actor, &e.Face, &e.Source, &e.Action, &e.TargetType, &e.TargetID, &detail); err != nil {
		return nil, err
	}
	e.At, e.Detail = fromMicros(at), fromNullJSON(detail)
	return &e, nil
}

func (q *queries) AddAudit(ctx context.Context, e *core.AuditEvent) error {
	q.stamp(&e.ID, &e.At, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, micros(e.At), e.Actor, e.Face, e.Source, e.Action, e.TargetType, e.TargetID, jsonArg(e.Detail))
	if err != nil {
		return q.writeErr(err, "audit event", e.ID)
	}
	return nil
}

// ListAudit lists audit events, newest first unless f sorts otherwise.
func (q *queries) ListAudit(ctx context.Context, f core.AuditFilter) ([]*core.AuditEvent, int, error) {
	l := listQuery[*core.AuditEvent]{what: "audit events", cols: auditCols, from: "audit_events", page: f.Page, sort: auditSort, scan: scanAudit}
	if f.Actor != nil {
		l.where = append(l.where, "actor = "+l.args.add(*f.Actor))
	}
	if f.Action != nil {
		l.where = append(l.where, "action = "+l.args.add(*f.Action))
	}
	if f.TargetType != nil {
		l.where = append(l.where, "target_type = "+l.args.add(*f.TargetType))
	}
	if f.TargetID != nil {
		l.where = append(l.where, "target_id = "+l.args.add(*f.TargetID))
	}
	return l.run(ctx, q.r)
}
