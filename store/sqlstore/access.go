package sqlstore

import (
	"context"
	"database/sql"
	"slices"
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

func (q *queries) AddGrant(ctx context.Context, g *core.Grant) (bool, error) {
	if g.CreatedAt.IsZero() {
		g.CreatedAt = q.now()
	}
	g.CreatedAt = norm(g.CreatedAt)
	user, group := granteeCols(g.Grantee)
	res, err := q.w.ExecContext(ctx, `INSERT INTO grants (id, `+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		newID(), user, group, g.Action, g.ResourceID, micros(g.CreatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return false, core.NotFound(string(g.Grantee.Kind), g.Grantee.ID)
		}
		return false, q.writeErr(err, "grant", string(g.Action))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, core.Wrap(core.KindInternal, err, "grant %s", g.Action)
	}
	if n > 0 {
		return true, nil
	}
	var a args
	var created int64
	if err := q.w.QueryRowContext(ctx, `SELECT created_at FROM grants WHERE `+grantKeyWhere(&a, *g), a...).Scan(&created); err != nil {
		return false, q.writeErr(err, "grant", string(g.Action))
	}
	g.CreatedAt = fromMicros(created)
	return false, nil
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

// ListGrantSets pages over the (grantee, resource) keys of the grants f
// selects in the order of their first grant, in one query that finds a page
// of keys and joins their grants and their grantee's name and number, and a
// count of the keys (unless the page tells it).
func (q *queries) ListGrantSets(ctx context.Context, f core.GrantSetFilter) ([]*core.GrantSet, int, error) {
	if err := checkPage(f.Page); err != nil {
		return nil, 0, err
	}
	if len(f.Sort) > 0 {
		return nil, 0, core.Invalid("sort", "grant sets are listed in one order")
	}
	actions := core.ActionsOf(f.Type)
	if len(actions) == 0 {
		return nil, 0, core.Invalid("type", "unknown resource type %q", f.Type)
	}
	if f.ResourceIDs != nil && len(f.ResourceIDs) == 0 {
		return []*core.GrantSet{}, 0, nil
	}
	var a args
	var w where
	marks := make([]string, len(actions))
	rank := make(map[core.Action]int, len(actions))
	for i, act := range actions {
		marks[i] = a.add(string(act))
		rank[act] = i
	}
	inActions := "action IN (" + strings.Join(marks, ", ") + ")"
	w = append(w, inActions)
	if f.Grantee != nil {
		w = append(w, granteeWhere(&a, *f.Grantee))
	}
	if f.GranteeKind != nil {
		if *f.GranteeKind == core.GranteeGroup {
			w = append(w, "group_id IS NOT NULL")
		} else {
			w = append(w, "user_id IS NOT NULL")
		}
	}
	if f.ResourceID != nil {
		w = append(w, "resource_id = "+a.add(*f.ResourceID))
	}
	if f.ResourceIDs != nil {
		marks := make([]string, len(f.ResourceIDs))
		for i, id := range f.ResourceIDs {
			marks[i] = a.add(id)
		}
		w = append(w, "resource_id IN ("+strings.Join(marks, ", ")+")")
	}
	if f.TypeWide != nil {
		if *f.TypeWide {
			w = append(w, "resource_id = ''")
		} else {
			w = append(w, "resource_id <> ''")
		}
	}
	keys := `SELECT COALESCE(user_id, '') AS uid, COALESCE(group_id, '') AS gid, resource_id AS rid, MIN(created_at) AS first_at
		FROM grants` + w.String() + ` GROUP BY user_id, group_id, resource_id`
	// The page's grants: those of its keys, of the type's actions (the key
	// holds the rest of the filter).
	query := `SELECT p.uid, p.gid, p.rid, g.action, COALESCE(u.name, ug.name, ''), COALESCE(u.number, ug.number, 0)
		FROM (` + keys + ` ORDER BY first_at, uid, gid, rid` + limitClause(f.Limit, f.Offset) + `) p
		JOIN grants g ON COALESCE(g.user_id, '') = p.uid AND COALESCE(g.group_id, '') = p.gid AND g.resource_id = p.rid
		LEFT JOIN users u ON u.id = g.user_id
		LEFT JOIN user_groups ug ON ug.id = g.group_id
		WHERE g.` + inActions + `
		ORDER BY p.first_at, p.uid, p.gid, p.rid`
	rows, err := q.r.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, 0, core.Wrap(core.KindInternal, err, "list grant sets")
	}
	defer rows.Close()
	out := []*core.GrantSet{}
	for rows.Next() {
		var uid, gid, rid, name string
		var action core.Action
		var number int64
		if err := rows.Scan(&uid, &gid, &rid, &action, &name, &number); err != nil {
			return nil, 0, core.Wrap(core.KindInternal, err, "list grant sets")
		}
		to := core.Grantee{Kind: core.GranteeUser, ID: uid}
		if uid == "" {
			to = core.Grantee{Kind: core.GranteeGroup, ID: gid}
		}
		if n := len(out); n == 0 || out[n-1].Grantee != to || out[n-1].ResourceID != rid {
			out = append(out, &core.GrantSet{Grantee: to, GranteeName: name, GranteeNumber: number, ResourceID: rid})
		}
		set := out[len(out)-1]
		set.Actions = append(set.Actions, action)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, core.Wrap(core.KindInternal, err, "list grant sets")
	}
	for _, set := range out {
		slices.SortFunc(set.Actions, func(x, y core.Action) int { return rank[x] - rank[y] })
	}
	total := f.Offset + len(out)
	if len(out) == 0 && f.Offset > 0 || f.Limit > 0 && len(out) == f.Limit {
		if err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+keys+`) k`, a...).Scan(&total); err != nil {
			return nil, 0, core.Wrap(core.KindInternal, err, "count grant sets")
		}
	}
	return out, total, nil
}

var _ core.ScopedAccessStore = (*queries)(nil)

// grantsOfUser is the condition on grants of those given to the user of expr
// (an SQL expression: a placeholder or a subquery) or to one of its groups.
func grantsOfUser(expr string) string {
	return "(user_id = " + expr + " OR group_id IN (SELECT group_id FROM group_members WHERE user_id = " + expr + "))"
}

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
	grants := grant + ` WHERE ` + grantsOfUser("$1")
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
