package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"unicode/utf8"

	"hostdeck/core"
	"hostdeck/core/apps"
)

// This file stores applications and product lines (apps.Store, migration
// 0019). A read of applications is one query for their rows, with the
// numbers of their parents and lines joined, and one for the sets of all of
// them (fillApps): a page costs the same two queries whatever its size.

var _ apps.Store = (*DB)(nil)

const appCols = `id, number, name, full_name, parent_id, product_line_id, description, app_type, run_user, directory,
	startup_cmd, stop_cmd, stdout_path, stderr_path, pid_path, creator, created_at, updated_at`

// appReadCols are appCols of table applications with the numbers of the
// parent and the line (appJoin).
var appReadCols = qualify("applications", appCols) + ", COALESCE(p.number, 0), COALESCE(pl.number, 0)"

const appJoin = " LEFT JOIN applications p ON p.id = applications.parent_id LEFT JOIN product_lines pl ON pl.id = applications.product_line_id"

// appRelated are the followed tables an application's read adds to its row:
// its line's number, its dependencies, its persons and their users.
var appRelated = []string{"product_lines", "app_requires", "app_persons", "users"}

// appStride is how many rows apart a list of applications keeps its page
// starts: a member's list probes its grants for every row it steps over, so
// a page steps over at most this many of the rows it sees.
const appStride = 64

var appSort = sorting{
	fields: map[string]string{"id": "id", "number": "number", "name": "name", "full_name": "full_name",
		"created_at": "created_at", "updated_at": "updated_at"},
	def:     []string{"created_at"},
	indexed: []string{"created_at", "name", "full_name"},
}

func scanApp(sc scanner) (*apps.Application, error) {
	var a apps.Application
	var parent, line, typ sql.NullString
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.Number, &a.Name, &a.FullName, &parent, &line, &a.Description, &typ, &a.RunUser, &a.Directory,
		&a.StartupCmd, &a.StopCmd, &a.StdoutPath, &a.StderrPath, &a.PidPath, &a.Creator, &created, &updated,
		&a.ParentNumber, &a.ProductLineNumber); err != nil {
		return nil, err
	}
	a.ParentID, a.ProductLineID, a.Type = parent.String, line.String, fromNullJSON(typ)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.Children, a.Required, a.Persons = []apps.Ref{}, []apps.Ref{}, []apps.Person{}
	return &a, nil
}

// LockApps takes the row of the applications' numbers (written by the
// transaction, so held until it ends; made when missing): one statement both
// databases run alike. On SQLite a write transaction holds the database
// already.
func (q *queries) LockApps(ctx context.Context) error {
	if !q.inTx {
		return nil
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO record_numbers (kind, last) VALUES ($1, 0)
		ON CONFLICT (kind) DO UPDATE SET last = record_numbers.last`, string(core.NumberApplication))
	if err != nil {
		return core.Wrap(core.KindInternal, err, "lock applications")
	}
	return nil
}

func (q *queries) CreateApp(ctx context.Context, a *apps.Application) error {
	q.stamp(&a.ID, &a.CreatedAt, &a.UpdatedAt)
	n, err := q.nextNumber(ctx, core.NumberApplication)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO applications (`+appCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		a.ID, n, a.Name, a.FullName, nullIfEmpty(a.ParentID), nullIfEmpty(a.ProductLineID), a.Description, jsonArg(a.Type),
		a.RunUser, a.Directory, a.StartupCmd, a.StopCmd, a.StdoutPath, a.StderrPath, a.PidPath, a.Creator,
		micros(a.CreatedAt), micros(a.UpdatedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.Errorf(core.KindNotFound, "the parent or product line of application %s does not exist", a.FullName)
		}
		return q.writeErr(err, "application", a.FullName)
	}
	a.Number = n
	return nil
}

func (q *queries) GetApp(ctx context.Context, id string) (*apps.Application, error) {
	got, err := q.GetApps(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, core.NotFound("application", id)
	}
	return got[0], nil
}

func (q *queries) GetApps(ctx context.Context, ids []string) ([]*apps.Application, error) {
	if len(ids) == 0 {
		return []*apps.Application{}, nil
	}
	var a args
	rows, err := q.r.QueryContext(ctx, `SELECT `+appReadCols+` FROM applications`+appJoin+
		` WHERE applications.id IN (`+marks(&a, ids)+`)`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "read applications")
	}
	out, err := collect(rows, scanApp, "applications")
	if err != nil {
		return nil, err
	}
	return out, q.fillApps(ctx, out)
}

// fillApps reads the children, dependencies and persons of every one of
// list in one query.
func (q *queries) fillApps(ctx context.Context, list []*apps.Application) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*apps.Application, len(list))
	ids := make([]string, len(list))
	for i, a := range list {
		byID[a.ID], ids[i] = a, a.ID
	}
	var a args
	in := marks(&a, ids)
	rows, err := q.r.QueryContext(ctx, `
		SELECT 'child', parent_id, id, number, '', '', '', '' FROM applications WHERE parent_id IN (`+in+`)
		UNION ALL SELECT 'requires', r.app_id, x.id, x.number, '', '', '', ''
			FROM app_requires r JOIN applications x ON x.id = r.required_id WHERE r.app_id IN (`+in+`)
		UNION ALL SELECT 'person', s.app_id, s.user_id, u.number, s.type, u.name, u.email, u.phone
			FROM app_persons s JOIN users u ON u.id = s.user_id WHERE s.app_id IN (`+in+`)
		ORDER BY 1, 2, 6, 5, 4, 3`, a...)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "read the sets of applications")
	}
	defer rows.Close()
	for rows.Next() {
		var kind, appID, id, typ, name, email, phone string
		var number int64
		if err := rows.Scan(&kind, &appID, &id, &number, &typ, &name, &email, &phone); err != nil {
			return core.Wrap(core.KindInternal, err, "read the sets of applications")
		}
		app := byID[appID]
		switch kind {
		case "child":
			app.Children = append(app.Children, apps.Ref{ID: id, Number: number})
		case "requires":
			app.Required = append(app.Required, apps.Ref{ID: id, Number: number})
		case "person":
			app.Persons = append(app.Persons, apps.Person{UserID: id, UserNumber: number, Type: typ, Name: name, Email: email, Phone: phone})
		}
	}
	if err := rows.Err(); err != nil {
		return core.Wrap(core.KindInternal, err, "read the sets of applications")
	}
	for _, app := range list {
		app.HasChild = len(app.Children) > 0
	}
	return nil
}

func (q *queries) UpdateApp(ctx context.Context, a *apps.Application, oldFullName string) error {
	a.UpdatedAt = norm(q.now())
	return q.atomically(ctx, func(q *queries) error {
		res, err := q.w.ExecContext(ctx, `UPDATE applications SET name = $1, full_name = $2, parent_id = $3, product_line_id = $4,
			description = $5, app_type = $6, run_user = $7, directory = $8, startup_cmd = $9, stop_cmd = $10,
			stdout_path = $11, stderr_path = $12, pid_path = $13, updated_at = $14 WHERE id = $15`,
			a.Name, a.FullName, nullIfEmpty(a.ParentID), nullIfEmpty(a.ProductLineID), a.Description, jsonArg(a.Type),
			a.RunUser, a.Directory, a.StartupCmd, a.StopCmd, a.StdoutPath, a.StderrPath, a.PidPath, micros(a.UpdatedAt), a.ID)
		if err != nil {
			if q.d.IsForeignKeyViolation(err) {
				return core.Errorf(core.KindNotFound, "the parent or product line of application %s does not exist", a.FullName)
			}
			return q.writeErr(err, "application", a.FullName)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return core.NotFound("application", a.ID)
		}
		if a.FullName == oldFullName {
			return nil
		}
		// The subtree, found from the parent links, renamed in one statement:
		// each descendant's full name keeps what follows the old prefix.
		// UNION, not UNION ALL: the walk ends even on links that loop.
		_, err = q.w.ExecContext(ctx, `UPDATE applications SET full_name = CAST($1 AS TEXT) || substr(full_name, CAST($2 AS INTEGER)),
			updated_at = $3
			WHERE id IN (WITH RECURSIVE sub(id) AS (
				SELECT id FROM applications WHERE parent_id = $4
				UNION SELECT c.id FROM applications c JOIN sub ON c.parent_id = sub.id)
			SELECT id FROM sub)`,
			a.FullName, utf8.RuneCountInString(oldFullName)+1, micros(a.UpdatedAt), a.ID)
		if err != nil {
			return q.writeErr(err, "application", a.FullName)
		}
		return nil
	})
}

func (q *queries) DeleteApp(ctx context.Context, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		var got string
		if err := q.w.QueryRowContext(ctx, `DELETE FROM applications WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
			if q.d.IsForeignKeyViolation(err) {
				return core.Errorf(core.KindConflict, "application %s still has children or is required by others", id)
			}
			return q.writeErr(err, "application", id)
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM grants WHERE resource_id = $1 AND action LIKE 'application.%'`, id); err != nil {
			return q.writeErr(err, "grants on application", id)
		}
		return nil
	})
}

func (q *queries) ListApps(ctx context.Context, f apps.AppFilter) (core.List[*apps.Application], error) {
	empty := core.List[*apps.Application]{Items: []*apps.Application{}}
	l := listQuery[*apps.Application]{what: "applications", cols: appReadCols, from: "applications", page: f.Page,
		sort: appSort, scan: scanApp, tables: []string{"applications"}, related: appRelated, join: appJoin,
		stride: appStride}
	follow := func(ts ...string) {
		for _, t := range ts {
			if !slices.Contains(l.tables, t) {
				l.tables = append(l.tables, t)
			}
		}
	}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	if f.FullName != nil {
		l.where = append(l.where, "full_name = "+l.args.add(*f.FullName))
	}
	if f.HasParent != nil {
		if *f.HasParent {
			l.where = append(l.where, "parent_id IS NOT NULL")
		} else {
			l.where = append(l.where, "parent_id IS NULL")
		}
	}
	if f.ParentID != nil {
		l.where = append(l.where, "parent_id = "+l.args.add(*f.ParentID))
	}
	if f.RequiredBy != nil {
		l.where = append(l.where, "id IN (SELECT required_id FROM app_requires WHERE app_id = "+l.args.add(*f.RequiredBy)+")")
		follow("app_requires")
	}
	if f.Requires != nil {
		l.where = append(l.where, "id IN (SELECT app_id FROM app_requires WHERE required_id = "+l.args.add(*f.Requires)+")")
		follow("app_requires")
	}
	if f.ProductLineID != nil {
		if *f.ProductLineID == "" {
			l.where = append(l.where, "product_line_id IS NULL")
		} else {
			l.where = append(l.where, "product_line_id = "+l.args.add(*f.ProductLineID))
		}
	}
	if f.PersonIDs != nil {
		if len(f.PersonIDs) == 0 {
			return empty, nil
		}
		l.where = append(l.where, "id IN (SELECT app_id FROM app_persons WHERE user_id IN ("+marks(&l.args, f.PersonIDs)+"))")
		follow("app_persons")
	}
	view := func() string { return l.args.add(string(core.ActionApplicationView)) }
	// granted keeps the applications on which the grantees that grantee
	// selects in grants hold application.view: on every one (a condition
	// the database answers once), or on each (a probe of grants_resource
	// per row, so that a first page reads about as many rows as it shows).
	granted := func(grantee string) {
		l.where = append(l.where, "(EXISTS (SELECT 1 FROM grants WHERE action = "+view()+" AND resource_id = '' AND "+grantee+
			") OR EXISTS (SELECT 1 FROM grants WHERE grants.resource_id = applications.id AND action = "+view()+" AND "+grantee+"))")
		follow("grants")
	}
	if f.UserID != nil {
		granted(grantsOfUser(l.args.add(*f.UserID)))
		follow("group_members")
	}
	if f.UserName != nil {
		granted(grantsOfUser("(SELECT id FROM users WHERE name = " + l.args.add(*f.UserName) + ")"))
		follow("group_members", "users")
	}
	if f.RoleName != nil {
		granted("group_id IN (SELECT id FROM user_groups WHERE name = " + l.args.add(*f.RoleName) + ")")
		follow("user_groups")
	}
	if f.VisibleTo != nil {
		granted(grantsOfUser(l.args.add(*f.VisibleTo)))
		follow("group_members")
	}
	list, err := l.list(ctx, q)
	if err != nil || list.Unchanged {
		return list, err
	}
	if err := q.fillApps(ctx, list.Items); err != nil {
		return core.List[*apps.Application]{}, err
	}
	return list, nil
}

func (q *queries) AddAppRequired(ctx context.Context, id string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var a args
	app := a.add(id)
	vals := make([]string, len(ids))
	for i, r := range ids {
		vals[i] = "(" + app + ", " + a.add(r) + ")"
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO app_requires (app_id, required_id) VALUES `+strings.Join(vals, ", ")+` ON CONFLICT DO NOTHING`, a...)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.Errorf(core.KindNotFound, "an application of the dependencies of %s does not exist", id)
		}
		return q.writeErr(err, "dependencies of application", id)
	}
	return nil
}

func (q *queries) RemoveAppRequired(ctx context.Context, id string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var a args
	app := a.add(id)
	_, err := q.w.ExecContext(ctx, `DELETE FROM app_requires WHERE app_id = `+app+` AND required_id IN (`+marks(&a, ids)+`)`, a...)
	if err != nil {
		return q.writeErr(err, "dependencies of application", id)
	}
	return nil
}

// AppsRequiring walks the dependency links backwards from id (UNION: each
// application once, so the walk ends on any graph) and keeps those among
// the candidates.
func (q *queries) AppsRequiring(ctx context.Context, id string, among []string) ([]string, error) {
	if len(among) == 0 {
		return []string{}, nil
	}
	var a args
	from := a.add(id)
	rows, err := q.r.QueryContext(ctx, `WITH RECURSIVE up(id) AS (
			SELECT CAST(`+from+` AS TEXT)
			UNION SELECT r.app_id FROM app_requires r JOIN up ON r.required_id = up.id)
		SELECT id FROM up WHERE id IN (`+marks(&a, among)+`) ORDER BY id`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "walk the dependants of application %s", id)
	}
	return collect(rows, func(sc scanner) (string, error) {
		var s string
		return s, sc.Scan(&s)
	}, "dependants of application "+id)
}

func (q *queries) AddAppPersons(ctx context.Context, appID string, ps []apps.Person) error {
	if len(ps) == 0 {
		return nil
	}
	var a args
	app := a.add(appID)
	vals := make([]string, len(ps))
	for i, p := range ps {
		vals[i] = "(" + app + ", " + a.add(p.UserID) + ", " + a.add(p.Type) + ")"
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO app_persons (app_id, user_id, type) VALUES `+strings.Join(vals, ", ")+` ON CONFLICT DO NOTHING`, a...)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.Errorf(core.KindNotFound, "application %s or a user of its persons does not exist", appID)
		}
		return q.writeErr(err, "persons of application", appID)
	}
	return nil
}

func (q *queries) RemoveAppPersons(ctx context.Context, appID string, ps []apps.Person) error {
	if len(ps) == 0 {
		return nil
	}
	var a args
	app := a.add(appID)
	conds := make([]string, len(ps))
	for i, p := range ps {
		conds[i] = "user_id = " + a.add(p.UserID)
		if p.Type != "" {
			conds[i] = "(" + conds[i] + " AND type = " + a.add(p.Type) + ")"
		}
	}
	_, err := q.w.ExecContext(ctx, `DELETE FROM app_persons WHERE app_id = `+app+` AND (`+strings.Join(conds, " OR ")+`)`, a...)
	if err != nil {
		return q.writeErr(err, "persons of application", appID)
	}
	return nil
}

func (q *queries) ListAppPersons(ctx context.Context, appID string, p core.Page) ([]apps.Person, int, error) {
	if err := checkPage(p); err != nil {
		return nil, 0, err
	}
	if len(p.Sort) > 0 {
		return nil, 0, core.Invalid("sort", "persons are listed by name only")
	}
	rows, err := q.r.QueryContext(ctx, `SELECT s.user_id, u.number, s.type, u.name, u.email, u.phone
		FROM app_persons s JOIN users u ON u.id = s.user_id WHERE s.app_id = $1
		ORDER BY u.name, s.type, s.user_id`+limitClause(p.Limit, p.Offset), appID)
	if err != nil {
		return nil, 0, core.Wrap(core.KindInternal, err, "list the persons of application %s", appID)
	}
	out, err := collect(rows, func(sc scanner) (apps.Person, error) {
		var x apps.Person
		return x, sc.Scan(&x.UserID, &x.UserNumber, &x.Type, &x.Name, &x.Email, &x.Phone)
	}, "persons of application "+appID)
	if err != nil {
		return nil, 0, err
	}
	total := len(out)
	if p.Offset > 0 || p.Limit > 0 && total == p.Limit {
		if err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM app_persons WHERE app_id = $1`, appID).Scan(&total); err != nil {
			return nil, 0, core.Wrap(core.KindInternal, err, "count the persons of application %s", appID)
		}
	}
	return out, total, nil
}

const lineCols = `id, number, name, description, creator, created_at, updated_at`

var lineSort = sorting{
	fields:  map[string]string{"id": "id", "number": "number", "name": "name", "created_at": "created_at", "updated_at": "updated_at"},
	def:     []string{"created_at"},
	indexed: []string{"created_at"},
}

func scanLine(sc scanner) (*apps.ProductLine, error) {
	var l apps.ProductLine
	var created, updated int64
	if err := sc.Scan(&l.ID, &l.Number, &l.Name, &l.Description, &l.Creator, &created, &updated); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &l, nil
}

func (q *queries) CreateProductLine(ctx context.Context, l *apps.ProductLine) error {
	q.stamp(&l.ID, &l.CreatedAt, &l.UpdatedAt)
	n, err := q.nextNumber(ctx, core.NumberProductLine)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO product_lines (`+lineCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.ID, n, l.Name, l.Description, l.Creator, micros(l.CreatedAt), micros(l.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "product line", l.Name)
	}
	l.Number = n
	return nil
}

func (q *queries) GetProductLine(ctx context.Context, id string) (*apps.ProductLine, error) {
	l, err := scanLine(q.r.QueryRowContext(ctx, `SELECT `+lineCols+` FROM product_lines WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "product line", id)
	}
	return l, nil
}

func (q *queries) UpdateProductLine(ctx context.Context, l *apps.ProductLine) error {
	got, err := scanLine(q.w.QueryRowContext(ctx, `UPDATE product_lines SET name = $1, description = $2, updated_at = $3
		WHERE id = $4 RETURNING `+lineCols, l.Name, l.Description, micros(norm(q.now())), l.ID))
	if err != nil {
		return q.writeErr(err, "product line", l.Name)
	}
	*l = *got
	return nil
}

func (q *queries) DeleteProductLine(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM product_lines WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.Errorf(core.KindConflict, "product line %s still has applications", id)
		}
		return q.writeErr(err, "product line", id)
	}
	return nil
}

func (q *queries) ListProductLines(ctx context.Context, f apps.LineFilter) (core.List[*apps.ProductLine], error) {
	l := listQuery[*apps.ProductLine]{what: "product lines", cols: qualify("product_lines", lineCols), from: "product_lines", page: f.Page,
		sort: lineSort, scan: scanLine, tables: []string{"product_lines"}}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	return l.list(ctx, q)
}

func (q *queries) SetAppsProductLine(ctx context.Context, ids []string, lineID string) error {
	if len(ids) == 0 {
		return nil
	}
	var a args
	line, at := a.add(nullIfEmpty(lineID)), a.add(micros(norm(q.now())))
	_, err := q.w.ExecContext(ctx, `UPDATE applications SET product_line_id = `+line+`, updated_at = `+at+
		` WHERE id IN (`+marks(&a, ids)+`)`, a...)
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("product line", lineID)
		}
		return q.writeErr(err, "product line of applications", lineID)
	}
	return nil
}
