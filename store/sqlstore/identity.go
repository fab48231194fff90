package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
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
	if f.Realm != nil {
		l.where = append(l.where, "realm = "+l.args.add(*f.Realm))
	}
	if f.ProjectID != nil {
		l.where = append(l.where, "id IN (SELECT user_id FROM role_grants WHERE project_id = "+l.args.add(*f.ProjectID)+")")
	}
	if f.Email != nil { // the index users_email
		l.where = append(l.where, "lower(email) = lower("+l.args.add(*f.Email)+")")
	}
	if f.Phone != nil {
		l.where = append(l.where, "phone = "+l.args.add(*f.Phone))
	}
	if f.Disabled != nil {
		l.where = append(l.where, "disabled = "+l.args.add(*f.Disabled))
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
	if u.Phone != nil {
		s.set("phone", *u.Phone)
	}
	if u.PasswordHash != nil {
		s.set("password_hash", *u.PasswordHash)
	}
	if u.Disabled != nil {
		s.set("disabled", *u.Disabled)
	}
	if u.PasswordChangedAt != nil {
		s.set("password_changed_at", micros(norm(*u.PasswordChangedAt)))
	}
	if u.GraceLoginsUsed != nil {
		s.set("grace_logins_used", *u.GraceLoginsUsed)
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

const groupCols = `id, name, domain_id, description, created_at, updated_at, number, creator`

var groupSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanGroup(sc scanner) (*core.Group, error) {
	var g core.Group
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.Name, &g.DomainID, &g.Description, &created, &updated, &g.Number, &g.Creator); err != nil {
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
	n, err := q.nextNumber(ctx, core.NumberGroup)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO user_groups (`+groupCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ID, g.Name, g.DomainID, g.Description, micros(g.CreatedAt), micros(g.UpdatedAt), n, g.Creator)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("domain", g.DomainID)
		}
		return q.writeErr(err, "group", g.Name)
	}
	g.Number = n
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

func (q *queries) UpdateGroup(ctx context.Context, id string, u core.GroupUpdate) (*core.Group, error) {
	var s sets
	if u.Name != nil {
		s.set("name", *u.Name)
	}
	if u.Description != nil {
		s.set("description", *u.Description)
	}
	return update(ctx, q, "user_groups", "group", id, &s, groupCols, scanGroup)
}

// DeleteGroup relies on the foreign keys' ON DELETE CASCADE for memberships
// and grants.
func (q *queries) DeleteGroup(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM user_groups WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "group", id)
	}
	return nil
}

func (q *queries) ListUserGroups(ctx context.Context, userID string) ([]*core.Group, error) {
	cols := "g." + strings.ReplaceAll(groupCols, ", ", ", g.")
	rows, err := q.r.QueryContext(ctx, `SELECT `+cols+` FROM user_groups g JOIN group_members m ON m.group_id = g.id
		WHERE m.user_id = $1 ORDER BY g.name, g.id`, userID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list the groups of user %s", userID)
	}
	return collect(rows, scanGroup, "groups of a user")
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
	return collect(rows, scanUser, "group members")
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

const tokenCols = `id, token_hash, kind, user_id, project_id, methods, issued_at, expires_at, last_used_at, idle_timeout, revoked_at,
	number, name, description, hint`

func scanToken(sc scanner, more ...any) (*core.Token, error) {
	var t core.Token
	var methods string
	var issued, expires, used, idle int64
	var revoked sql.NullInt64
	dest := append([]any{&t.ID, &t.Hash, &t.Kind, &t.UserID, &t.ProjectID, &methods, &issued, &expires, &used, &idle, &revoked,
		&t.Number, &t.Name, &t.Description, &t.Hint}, more...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if methods != "" {
		t.Methods = strings.Split(methods, ",")
	}
	t.IssuedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMicros(issued), fromMicros(expires), fromMicros(used), fromNullMicros(revoked)
	t.IdleTimeout = time.Duration(idle) * time.Microsecond
	return &t, nil
}

// CreateToken stores t; an API key (core.TokenKey) is numbered.
func (q *queries) CreateToken(ctx context.Context, t *core.Token) error {
	if t.ID == "" {
		t.ID = newID()
	}
	if t.Kind == "" {
		t.Kind = core.TokenAPI
	}
	if t.LastUsedAt.IsZero() {
		t.LastUsedAt = t.IssuedAt
	}
	t.IssuedAt, t.ExpiresAt, t.LastUsedAt = norm(t.IssuedAt), norm(t.ExpiresAt), norm(t.LastUsedAt)
	var n int64
	if t.Kind == core.TokenKey {
		var err error
		if n, err = q.nextNumber(ctx, core.NumberToken); err != nil {
			return err
		}
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		t.ID, t.Hash, t.Kind, t.UserID, t.ProjectID, strings.Join(t.Methods, ","), micros(t.IssuedAt), micros(t.ExpiresAt),
		micros(t.LastUsedAt), t.IdleTimeout.Microseconds(), microsPtr(normPtr(t.RevokedAt)), n, t.Name, t.Description, t.Hint)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("user", t.UserID)
		}
		return q.writeErr(err, "token", t.ID)
	}
	t.Number = n
	return nil
}

func (q *queries) GetTokenByHash(ctx context.Context, hash string) (*core.Token, error) {
	t, err := scanToken(q.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, readErr(err, "token", "")
	}
	return t, nil
}

func (q *queries) TouchToken(ctx context.Context, id string, at time.Time) error {
	var got string
	err := q.w.QueryRowContext(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2 RETURNING id`, micros(norm(at)), id).Scan(&got)
	if err != nil {
		return q.writeErr(err, "token", id)
	}
	return nil
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
	at := micros(norm(before))
	res, err := q.w.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at < $1 OR (idle_timeout > 0 AND last_used_at + idle_timeout < $2)`, at, at)
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "delete expired tokens")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (q *queries) UseGraceLogin(ctx context.Context, userID string, limit int) (int, error) {
	var used int
	err := q.w.QueryRowContext(ctx, `UPDATE users SET grace_logins_used = grace_logins_used + 1
		WHERE id = $1 AND grace_logins_used < $2 RETURNING grace_logins_used`, userID, limit).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, q.noRowBecause(ctx, "users", "user", userID, "no grace login left for user "+userID)
	}
	if err != nil {
		return 0, q.writeErr(err, "user", userID)
	}
	return used, nil
}

// noRowBecause tells why a conditional UPDATE touched no row: NotFound when
// the record is missing, else Conflict with msg.
func (q *queries) noRowBecause(ctx context.Context, table, what, id, msg string) error {
	var n int
	if err := q.w.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
		return core.Wrap(core.KindInternal, err, "get %s %s", what, id)
	}
	if n == 0 {
		return core.NotFound(what, id)
	}
	return core.Errorf(core.KindConflict, "%s", msg)
}

const credentialCols = `id, user_id, type, blob, last_step, created_at`

var credentialSort = sorting{
	fields: map[string]string{"id": "id", "created_at": "created_at"},
	def:    []string{"created_at", "id"},
}

func scanCredential(sc scanner) (*core.Credential, error) {
	var c core.Credential
	var blob string
	var created int64
	if err := sc.Scan(&c.ID, &c.UserID, &c.Type, &blob, &c.LastStep, &created); err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		return nil, err
	}
	c.Blob, c.CreatedAt = b, fromMicros(created)
	return &c, nil
}

func (q *queries) CreateCredential(ctx context.Context, c *core.Credential) error {
	q.stamp(&c.ID, &c.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO credentials (`+credentialCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.UserID, c.Type, base64.StdEncoding.EncodeToString(c.Blob), c.LastStep, micros(c.CreatedAt))
	if err != nil {
		return q.writeErr(err, "credential", c.ID)
	}
	return nil
}

func (q *queries) GetCredential(ctx context.Context, id string) (*core.Credential, error) {
	c, err := scanCredential(q.r.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "credential", id)
	}
	return c, nil
}

func (q *queries) ListCredentials(ctx context.Context, f core.CredentialFilter) ([]*core.Credential, int, error) {
	l := listQuery[*core.Credential]{what: "credentials", cols: credentialCols, from: "credentials", page: f.Page,
		sort: credentialSort, scan: scanCredential}
	if f.UserID != nil {
		l.where = append(l.where, "user_id = "+l.args.add(*f.UserID))
	}
	if f.Type != nil {
		l.where = append(l.where, "type = "+l.args.add(*f.Type))
	}
	return l.run(ctx, q.r)
}

func (q *queries) DeleteCredential(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM credentials WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "credential", id)
	}
	return nil
}

func (q *queries) AdvanceCredentialStep(ctx context.Context, id string, step int64) error {
	var got string
	err := q.w.QueryRowContext(ctx, `UPDATE credentials SET last_step = $1 WHERE id = $2 AND last_step < $1 RETURNING id`,
		step, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return q.noRowBecause(ctx, "credentials", "credential", id, "the passcode of credential "+id+" was used already")
	}
	if err != nil {
		return q.writeErr(err, "credential", id)
	}
	return nil
}
