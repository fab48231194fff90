package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"hostdeck/core"
)

const domainCols = `id, name, description, created_at`

func scanDomain(sc scanner) (*core.Domain, error) {
	var d core.Domain
	var created int64
	if err := sc.Scan(&d.ID, &d.Name, &d.Description, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(created)
	return &d, nil
}

func (q *queries) CreateDomain(ctx context.Context, d *core.Domain) error {
	q.stamp(&d.ID, &d.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO domains (`+domainCols+`) VALUES ($1, $2, $3, $4)`,
		d.ID, d.Name, d.Description, micros(d.CreatedAt))
	if err != nil {
		return q.writeErr(err, "domain", d.Name)
	}
	return nil
}

func (q *queries) GetDomain(ctx context.Context, id string) (*core.Domain, error) {
	d, err := scanDomain(q.r.QueryRowContext(ctx, `SELECT `+domainCols+` FROM domains WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "domain", id)
	}
	return d, nil
}

func (q *queries) GetDomainByName(ctx context.Context, name string) (*core.Domain, error) {
	d, err := scanDomain(q.r.QueryRowContext(ctx, `SELECT `+domainCols+` FROM domains WHERE name = $1`, name))
	if err != nil {
		return nil, readErr(err, "domain", name)
	}
	return d, nil
}

var userSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func (q *queries) ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error) {
	l := listQuery[*core.User]{what: "users", cols: userCols, from: "users", page: f.Page, sort: userSort, scan: scanUser}
	if f.DomainID != nil {
		l.where = append(l.where, "domain_id = "+l.args.add(*f.DomainID))
	}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	return l.run(ctx, q.r)
}

func (q *queries) UpdateUser(ctx context.Context, id string, u core.UserUpdate) (*core.User, error) {
	var s sets
	if u.Name != nil {
		s.set("name", *u.Name)
	}
	if u.Email != nil {
		s.set("email", *u.Email)
	}
	if u.PasswordHash != nil {
		s.set("password_hash", *u.PasswordHash)
	}
	if u.Disabled != nil {
		s.set("disabled", *u.Disabled)
	}
	return update(ctx, q, "users", "user", id, &s, userCols, scanUser)
}

// DeleteUser relies on the foreign keys' ON DELETE CASCADE for memberships,
// grants and tokens.
func (q *queries) DeleteUser(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM users WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "user", id)
	}
	return nil
}

const groupCols = `id, name, domain_id, description, created_at, updated_at`

var groupSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanGroup(sc scanner) (*core.Group, error) {
	var g core.Group
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.Name, &g.DomainID, &g.Description, &created, &updated); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &g, nil
}

func (q *queries) CreateGroup(ctx context.Context, g *core.Group) error {
	q.stamp(&g.ID, &g.CreatedAt, &g.UpdatedAt)
	if g.DomainID == "" {
		g.DomainID = core.DefaultDomainID
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO user_groups (`+groupCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		g.ID, g.Name, g.DomainID, g.Description, micros(g.CreatedAt), micros(g.UpdatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("domain", g.DomainID)
		}
		return q.writeErr(err, "group", g.Name)
	}
	return nil
}

func (q *queries) GetGroup(ctx context.Context, id string) (*core.Group, error) {
	g, err := scanGroup(q.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM user_groups WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "group", id)
	}
	return g, nil
}

func (q *queries) ListGroups(ctx context.Context, f core.GroupFilter) ([]*core.Group, int, error) {
	l := listQuery[*core.Group]{what: "groups", cols: groupCols, from: "user_groups", page: f.Page, sort: groupSort, scan: scanGroup}
	if f.DomainID != nil {
		l.where = append(l.where, "domain_id = "+l.args.add(*f.DomainID))
	}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	return l.run(ctx, q.r)
}

func (q *queries) AddGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, userID)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("group member", groupID+"/"+userID)
		}
		return q.writeErr(err, "group member", groupID+"/"+userID)
	}
	return nil
}

func (q *queries) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	var got string
	err := q.w.QueryRowContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 RETURNING user_id`, groupID, userID).Scan(&got)
	if err != nil {
		return q.writeErr(err, "group member", userID)
	}
	return nil
}

func (q *queries) ListGroupMembers(ctx context.Context, groupID string) ([]*core.User, error) {
	cols := "u." + strings.ReplaceAll(userCols, ", ", ", u.")
	rows, err := q.r.QueryContext(ctx, `SELECT `+cols+` FROM users u JOIN group_members m ON m.user_id = u.id
		WHERE m.group_id = $1 ORDER BY u.name, u.id`, groupID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list group members")
	}
	defer rows.Close()
	out := []*core.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list group members")
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list group members")
	}
	return out, nil
}

func (q *queries) FindProjectByName(ctx context.Context, name string) (*core.Project, error) {
	p, err := scanProject(q.r.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE name = $1 ORDER BY created_at, id LIMIT 1`, name))
	if err != nil {
		return nil, readErr(err, "project", name)
	}
	return p, nil
}

func (q *queries) GrantRole(ctx context.Context, g *core.RoleGrant) error {
	if g.CreatedAt.IsZero() {
		g.CreatedAt = q.now()
	}
	g.CreatedAt = norm(g.CreatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO role_grants (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, g.ProjectID, g.UserID, g.Role, micros(g.CreatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("user", g.UserID)
		}
		return q.writeErr(err, "role grant", g.ProjectID+"/"+g.UserID)
	}
	return nil
}

func (q *queries) ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT role FROM role_grants WHERE project_id = $1 AND user_id = $2 ORDER BY role`, projectID, userID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list role grants")
	}
	defer rows.Close()
	out := []core.Role{}
	for rows.Next() {
		var r core.Role
		if err := rows.Scan(&r); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list role grants")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list role grants")
	}
	return out, nil
}

const tokenCols = `id, token_hash, user_id, project_id, methods, issued_at, expires_at, revoked_at`

func scanToken(sc scanner) (*core.Token, error) {
	var t core.Token
	var methods string
	var issued, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Hash, &t.UserID, &t.ProjectID, &methods, &issued, &expires, &revoked); err != nil {
		return nil, err
	}
	if methods != "" {
		t.Methods = strings.Split(methods, ",")
	}
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = fromMicros(issued), fromMicros(expires), fromNullMicros(revoked)
	return &t, nil
}

func (q *queries) CreateToken(ctx context.Context, t *core.Token) error {
	if t.ID == "" {
		t.ID = newID()
	}
	t.IssuedAt, t.ExpiresAt = norm(t.IssuedAt), norm(t.ExpiresAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.Hash, t.UserID, t.ProjectID, strings.Join(t.Methods, ","), micros(t.IssuedAt), micros(t.ExpiresAt), microsPtr(normPtr(t.RevokedAt)))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("user", t.UserID)
		}
		return q.writeErr(err, "token", t.ID)
	}
	return nil
}

func (q *queries) GetTokenByHash(ctx context.Context, hash string) (*core.Token, error) {
	t, err := scanToken(q.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, readErr(err, "token", "")
	}
	return t, nil
}

func (q *queries) RevokeToken(ctx context.Context, id string, at time.Time) error {
	var got string
	err := q.w.QueryRowContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING id`,
		micros(norm(at)), id).Scan(&got)
	if err != nil {
		return q.writeErr(err, "token", id)
	}
	return nil
}

func (q *queries) DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := q.w.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at < $1`, micros(norm(before)))
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "delete expired tokens")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
