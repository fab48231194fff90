package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"hostdeck/core"
)

const instanceCols = `id, name, server_id, project_id, image_id, state, runtime_ref, address, url, spec, created_at, updated_at`

var instanceSort = sorting{
	fields: map[string]string{
		"id": "id", "name": "name", "state": "state", "server_id": "server_id",
		"created_at": "created_at", "updated_at": "updated_at",
	},
	def:     []string{"created_at"},
	indexed: []string{"created_at", "name"}, // instances_live_order, the names' unique index
}

func scanInstance(sc scanner) (*core.Instance, error) { return scanInstanceAnd(sc) }

// scanInstanceAnd scans instanceCols and then, into extra, the columns a query
// selects after them.
func scanInstanceAnd(sc scanner, extra ...any) (*core.Instance, error) {
	var s instanceScan
	if err := sc.Scan(append(s.dest(), extra...)...); err != nil {
		return nil, err
	}
	return s.instance()
}

// instanceScan is what a row of instanceCols is scanned into.
type instanceScan struct {
	in               core.Instance
	spec             string
	created, updated int64
}

func (s *instanceScan) dest() []any {
	in := &s.in
	return []any{&in.ID, &in.Name, &in.ServerID, &in.ProjectID, &in.ImageID, &in.State, &in.RuntimeRef,
		&in.Address, &in.URL, &s.spec, &s.created, &s.updated}
}

func (s *instanceScan) instance() (*core.Instance, error) {
	if err := json.Unmarshal([]byte(s.spec), &s.in.Spec); err != nil {
		return nil, err
	}
	s.in.CreatedAt, s.in.UpdatedAt = fromMicros(s.created), fromMicros(s.updated)
	return &s.in, nil
}

// optionalInstanceCols are instanceCols of the instance a LEFT JOIN of alias
// finds, and empty values (an empty id) when it finds none.
func optionalInstanceCols(alias string) string {
	return `COALESCE(` + alias + `.id, ''), COALESCE(` + alias + `.name, ''), COALESCE(` + alias + `.server_id, ''),
		COALESCE(` + alias + `.project_id, ''), COALESCE(` + alias + `.image_id, ''), COALESCE(` + alias + `.state, ''),
		COALESCE(` + alias + `.runtime_ref, ''), COALESCE(` + alias + `.address, ''), COALESCE(` + alias + `.url, ''),
		COALESCE(` + alias + `.spec, '{}'), COALESCE(` + alias + `.created_at, 0), COALESCE(` + alias + `.updated_at, 0)`
}

func (q *queries) CreateInstance(ctx context.Context, in *core.Instance) error {
	q.stamp(&in.ID, &in.CreatedAt, &in.UpdatedAt)
	spec, err := json.Marshal(in.Spec)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "encode instance spec")
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO instances (`+instanceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		in.ID, in.Name, in.ServerID, in.ProjectID, in.ImageID, in.State, in.RuntimeRef, in.Address, in.URL,
		string(spec), micros(in.CreatedAt), micros(in.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "instance", in.Name)
	}
	// Its numeric id (billmgr's elid): the counter's next value. The UPDATE takes
	// it atomically (and locks the row on PostgreSQL until a transaction ends).
	var elid int64
	if err := q.w.QueryRowContext(ctx, `UPDATE instance_elid_seq SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id`).Scan(&elid); err != nil {
		return core.Wrap(core.KindInternal, err, "number instance %s", in.Name)
	}
	if _, err := q.w.ExecContext(ctx, `INSERT INTO instance_elids (elid, instance_id) VALUES ($1, $2)`, elid, in.ID); err != nil {
		return q.writeErr(err, "instance elid", in.Name)
	}
	if liveMachine(in.ProjectID, in.State) {
		return q.addLoad(ctx, "machines", in.ServerID, 1)
	}
	return nil
}

// liveMachine says whether an instance is a machine (of a project) that takes
// a place on its server.
func liveMachine(projectID string, st core.InstanceState) bool {
	return projectID != "" && st != core.StateDeleted
}

func (q *queries) ListInstancesAfter(ctx context.Context, serverID string, after *core.Instance, limit int) ([]*core.Instance, error) {
	query, args := `SELECT `+instanceCols+` FROM instances WHERE server_id = $1`, []any{serverID}
	if after != nil {
		query += ` AND (created_at > $2 OR created_at = $2 AND id > $3)`
		args = append(args, micros(after.CreatedAt), after.ID)
	}
	rows, err := q.r.QueryContext(ctx, query+` ORDER BY created_at, id LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list instances of server %s", serverID)
	}
	defer rows.Close()
	out := make([]*core.Instance, 0, limit)
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "scan instance")
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list instances of server %s", serverID)
	}
	return out, nil
}

func (q *queries) GetInstance(ctx context.Context, id string) (*core.Instance, error) {
	in, err := scanInstance(q.r.QueryRowContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "instance", id)
	}
	return in, nil
}

func (q *queries) ListInstances(ctx context.Context, f core.InstanceFilter) ([]*core.Instance, int, error) {
	l := listQuery[*core.Instance]{what: "instances", cols: instanceCols, from: "instances", page: f.Page, sort: instanceSort, scan: scanInstance}
	if !instanceWhere(&l, f) {
		return nil, 0, nil
	}
	return l.run(ctx, q.r)
}

// visibilityTables are the tables InstanceFilter.VisibleTo reads.
var visibilityTables = []string{"machine_users", "projects", "role_grants"}

// instanceWhere adds the conditions of f to l (column names unqualified, so that
// l may join instances with a table that has none of them); false when f selects
// nothing. The one SQL form of InstanceFilter.VisibleTo lives here.
func instanceWhere[T any](l *listQuery[T], f core.InstanceFilter) bool {
	if f.ServerID != nil {
		l.where = append(l.where, "server_id = "+l.args.add(*f.ServerID))
	}
	if f.ProjectID != nil {
		l.where = append(l.where, "project_id = "+l.args.add(*f.ProjectID))
	}
	if f.State != nil {
		l.where = append(l.where, "state = "+l.args.add(*f.State))
	}
	if f.VisibleTo != nil {
		u := l.args.add(*f.VisibleTo)
		l.where = append(l.where, `(id IN (SELECT machine_id FROM machine_users WHERE user_id = `+u+`)
			OR project_id IN (SELECT id FROM projects WHERE owner_id = `+u+`)
			OR project_id IN (SELECT project_id FROM role_grants WHERE user_id = `+u+`))`)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return false
		}
		marks := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			marks[i] = l.args.add(id)
		}
		l.where = append(l.where, "id IN ("+strings.Join(marks, ", ")+")")
	}
	return true
}

func (q *queries) UpdateInstance(ctx context.Context, id string, u core.InstanceUpdate) (*core.Instance, error) {
	var s sets
	if u.ServerID != nil {
		s.set("server_id", *u.ServerID)
	}
	if u.State != nil {
		s.set("state", *u.State)
	}
	if u.RuntimeRef != nil {
		s.set("runtime_ref", *u.RuntimeRef)
	}
	if u.Address != nil {
		s.set("address", *u.Address)
	}
	if u.URL != nil {
		s.set("url", *u.URL)
	}
	if u.Spec != nil {
		spec, err := json.Marshal(*u.Spec)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "encode instance spec")
		}
		s.set("spec", string(spec))
	}
	if u.State == nil && u.ServerID == nil {
		return update(ctx, q, "instances", "instance", id, &s, instanceCols, scanInstance)
	}
	var out *core.Instance
	err := q.atomically(ctx, func(q *queries) error {
		var srv, project string
		var st core.InstanceState
		if err := q.w.QueryRowContext(ctx, `SELECT server_id, project_id, state FROM instances WHERE id = $1`, id).Scan(&srv, &project, &st); err != nil {
			return readErr(err, "instance", id)
		}
		in, err := update(ctx, q, "instances", "instance", id, &s, instanceCols, scanInstance)
		if err != nil {
			return err
		}
		out = in
		return q.moveLoad(ctx, "machines", srv, liveMachine(project, st), in.ServerID, liveMachine(in.ProjectID, in.State))
	})
	return out, err
}
