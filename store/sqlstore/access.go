package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"hostdeck/core"
)

// The access policy's store (core.AccessStore): grants, and what the policy must
// know of a user, read together.

// granteeCols are a grant's user_id and group_id for its subject.
func granteeCols(s core.Grantee) (user, group any) {
	if s.Kind == core.GranteeGroup {
		return nil, s.ID
	}
	return s.ID, nil
}

// granteeWhere matches the grants of s.
func granteeWhere(a *args, s core.Grantee) string {
	if s.Kind == core.GranteeGroup {
		return "group_id = " + a.add(s.ID)
	}
	return "user_id = " + a.add(s.ID)
}

// grantKeyWhere matches the one grant of g's subject, action and resource.
func grantKeyWhere(a *args, g core.Grant) string {
	return granteeWhere(a, g.Grantee) + " AND action = " + a.add(string(g.Action)) + " AND resource_id = " + a.add(g.ResourceID)
}

const grantCols = `user_id, group_id, action, resource_id, created_at`

func scanGrant(sc scanner) (*core.Grant, error) {
	var g core.Grant
	var user, group sql.NullString
	var created int64
	if err := sc.Scan(&user, &group, &g.Action, &g.ResourceID, &created); err != nil {
		return nil, err
	}
	if user.Valid {
		g.Grantee = core.Grantee{Kind: core.GranteeUser, ID: user.String}
	} else {
		g.Grantee = core.Grantee{Kind: core.GranteeGroup, ID: group.String}
	}
	g.CreatedAt = fromMicros(created)
	return &g, nil
}

func (q *queries) AddGrant(ctx context.Context, g *core.Grant) error {
	if g.CreatedAt.IsZero() {
		g.CreatedAt = q.now()
	}
	g.CreatedAt = norm(g.CreatedAt)
	user, group := granteeCols(g.Grantee)
	_, err := q.w.ExecContext(ctx, `INSERT INTO grants (id, `+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		newID(), user, group, g.Action, g.ResourceID, micros(g.CreatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound(string(g.Grantee.Kind), g.Grantee.ID)
		}
		return q.writeErr(err, "grant", string(g.Action))
	}
	var a args
	var created int64
	if err := q.w.QueryRowContext(ctx, `SELECT created_at FROM grants WHERE `+grantKeyWhere(&a, *g), a...).Scan(&created); err != nil {
		return q.writeErr(err, "grant", string(g.Action))
	}
	g.CreatedAt = fromMicros(created)
	return nil
}

func (q *queries) RemoveGrant(ctx context.Context, g core.Grant) error {
	var a args
	var got string
	err := q.w.QueryRowContext(ctx, `DELETE FROM grants WHERE `+grantKeyWhere(&a, g)+` RETURNING id`, a...).Scan(&got)
	if err != nil {
		return q.writeErr(err, "grant", string(g.Action))
	}
	return nil
}

var grantSort = sorting{fields: map[string]string{"created_at": "created_at"}, def: []string{"created_at"}}

func (q *queries) ListGrants(ctx context.Context, f core.GrantFilter) ([]*core.Grant, int, error) {
	l := listQuery[*core.Grant]{what: "grants", cols: grantCols, from: "grants", page: f.Page, sort: grantSort, scan: scanGrant}
	if f.Grantee != nil {
		l.where = append(l.where, granteeWhere(&l.args, *f.Grantee))
	}
	if f.ResourceID != nil {
		l.where = append(l.where, "resource_id = "+l.args.add(*f.ResourceID))
	}
	if f.Actions != nil {
		if len(f.Actions) == 0 {
			return []*core.Grant{}, 0, nil
		}
		marks := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			marks[i] = l.args.add(string(a))
		}
		l.where = append(l.where, "action IN ("+strings.Join(marks, ", ")+")")
	}
	return l.run(ctx, q.r)
}

var _ core.ScopedAccessStore = (*queries)(nil)

// UserAccess reads a user's grants (its own and its groups'), project roles,
// owned projects and assigned machines in one statement.
func (q *queries) UserAccess(ctx context.Context, userID string) (*core.UserAccess, error) {
	return q.userAccess(ctx, userID, nil)
}

// UserAccessOn is UserAccess with only the grants on the resources of ids
// and those on every resource of a type.
func (q *queries) UserAccessOn(ctx context.Context, userID string, ids []string) (*core.UserAccess, error) {
	if ids == nil {
		ids = []string{}
	}
	return q.userAccess(ctx, userID, ids)
}

// userAccess reads a user's access, its grants those on ids and on every
// resource when ids is not nil: the grants on ids are found from the
// resources (grants_resource; the grantee's columns compared as expressions,
// which no index answers, so that SQLite does not walk every grant of the
// user instead), those on every resource from the grantee.
func (q *queries) userAccess(ctx context.Context, userID string, ids []string) (*core.UserAccess, error) {
	const grant = `SELECT 'grant', CASE WHEN user_id IS NULL THEN 'group' ELSE 'user' END, COALESCE(user_id, group_id), action, resource_id FROM grants`
	a := args{userID}
	grants := grant + ` WHERE (user_id = $1 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $1))`
	if ids != nil {
		grants += ` AND resource_id = ''`
		if len(ids) > 0 {
			grants += ` UNION ALL ` + grant + ` WHERE resource_id IN (` + marks(&a, ids) + `)
				AND (COALESCE(user_id, '') = $1 OR COALESCE(group_id, '') IN (SELECT group_id FROM group_members WHERE user_id = $1))`
		}
	}
	rows, err := q.r.QueryContext(ctx, grants+`
		UNION ALL SELECT 'role', '', project_id, role, '' FROM role_grants WHERE user_id = $1
		UNION ALL SELECT 'owns', '', id, '', '' FROM projects WHERE owner_id = $1
		UNION ALL SELECT 'assigned', '', machine_id, '', '' FROM machine_users WHERE user_id = $1`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "read the access of user %s", userID)
	}
	defer rows.Close()
	ua := &core.UserAccess{ProjectRoles: map[string][]core.Role{}}
	for rows.Next() {
		var kind, subject, id, action, resource string
		if err := rows.Scan(&kind, &subject, &id, &action, &resource); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "read the access of user %s", userID)
		}
		switch kind {
		case "grant":
			ua.Grants = append(ua.Grants, core.Grant{Grantee: core.Grantee{Kind: core.GranteeKind(subject), ID: id},
				Action: core.Action(action), ResourceID: resource})
		case "role":
			ua.ProjectRoles[id] = append(ua.ProjectRoles[id], core.Role(action))
		case "owns":
			ua.OwnedProjects = append(ua.OwnedProjects, id)
		case "assigned":
			ua.Assigned = append(ua.Assigned, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "read the access of user %s", userID)
	}
	return ua, nil
}
