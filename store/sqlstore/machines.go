package sqlstore

import (
	"context"
	"slices"
	"strings"

	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
)

// TRS machines: instances of a project, and their user and group assignments
// (machine.Store), the making of new ones (provision.Store) and their hand-out
// (handout.Store).

var (
	_ machine.Store   = (*DB)(nil)
	_ provision.Store = (*DB)(nil)
	_ handout.Store   = (*DB)(nil)
)

// machineWhere keeps instances that are machines: of a project, not deleted.
const machineWhere = "project_id <> '' AND state <> 'deleted'"

func (q *queries) ListMachines(ctx context.Context, f core.MachineFilter) ([]*core.Instance, int, error) {
	l := listQuery[*core.Instance]{what: "machines", cols: instanceCols, from: "instances", page: f.Page, sort: instanceSort, scan: scanInstance}
	if !machineFilter(&l, f) {
		return []*core.Instance{}, 0, nil
	}
	return l.run(ctx, q.r)
}

// machineFilter adds the conditions of f to l; false when f selects nothing.
func machineFilter[T any](l *listQuery[T], f core.MachineFilter) bool {
	l.where = append(l.where, machineWhere)
	l.cond("project_id", f.ProjectID)
	l.cond("state", f.State)
	if f.Assigned != nil {
		w := `(EXISTS (SELECT 1 FROM machine_users mu WHERE mu.machine_id = instances.id)
			OR EXISTS (SELECT 1 FROM machine_groups mg WHERE mg.machine_id = instances.id))`
		if !*f.Assigned {
			w = "NOT " + w
		}
		l.where = append(l.where, w)
	}
	if f.UserID != nil {
		l.where = append(l.where, "id IN (SELECT machine_id FROM machine_users WHERE user_id = "+l.args.add(*f.UserID)+")")
	}
	if f.GroupID != nil {
		l.where = append(l.where, "id IN (SELECT machine_id FROM machine_groups WHERE group_id = "+l.args.add(*f.GroupID)+")")
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

// machineAssignments are the machines' users and groups, one row each, for a
// LEFT JOIN as a.
const machineAssignments = `(SELECT machine_id, 'user' AS subject_type, user_id AS subject_id, assigned_at FROM machine_users
	UNION ALL SELECT machine_id, 'group', group_id, assigned_at FROM machine_groups)`

// ListPoolMachines reads a page of machines with their users and groups in one
// query (lists.go): a row per assignment, folded into one machine.
func (q *queries) ListPoolMachines(ctx context.Context, f core.MachineFilter) (core.List[*machine.Machine], error) {
	l := listQuery[*machine.Machine]{what: "machines", from: "instances", page: f.Page, sort: instanceSort,
		cols:   qualify("instances", instanceCols) + ", COALESCE(a.subject_type, ''), COALESCE(a.subject_id, '')",
		join:   " LEFT JOIN " + machineAssignments + " a ON a.machine_id = instances.id",
		thenBy: ", a.assigned_at, a.subject_id",
		scan:   scanPoolMachine, merge: mergeAssignments,
		tables: []string{"instances", "machine_users", "machine_groups"}, related: []string{"trs_projects"}}
	if !machineFilter(&l, f) {
		return core.List[*machine.Machine]{Items: []*machine.Machine{}}, nil
	}
	return l.list(ctx, q)
}

// scanPoolMachine scans a machine and one of its assignments, if any.
func scanPoolMachine(sc scanner) (*machine.Machine, error) {
	var typ, subject string
	in, err := scanInstanceAnd(sc, &typ, &subject)
	if err != nil {
		return nil, err
	}
	m := &machine.Machine{Instance: in, Users: []string{}, Groups: []string{}}
	switch typ {
	case machine.SubjectUser:
		m.Users = append(m.Users, subject)
	case machine.SubjectGroup:
		m.Groups = append(m.Groups, subject)
	}
	return m, nil
}

// mergeAssignments folds next, a further row of last's machine, into last.
func mergeAssignments(last, next *machine.Machine) bool {
	if last.ID != next.ID {
		return false
	}
	last.Users = append(last.Users, next.Users...)
	last.Groups = append(last.Groups, next.Groups...)
	return true
}

func (q *queries) ListInstanceNames(ctx context.Context, prefix string) ([]string, error) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	rows, err := q.r.QueryContext(ctx, `SELECT name FROM instances WHERE name LIKE $1 ESCAPE '\'`, r.Replace(prefix)+"%")
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list instance names")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list instance names")
		}
		if strings.HasPrefix(n, prefix) { // SQLite's LIKE ignores case
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list instance names")
	}
	return out, nil
}

const freeMachine = `NOT EXISTS (SELECT 1 FROM machine_users mu WHERE mu.machine_id = instances.id)
	AND NOT EXISTS (SELECT 1 FROM machine_groups mg WHERE mg.machine_id = instances.id)`

func (q *queries) LockFreeMachine(ctx context.Context, projectID string, state core.InstanceState) (*core.Instance, error) {
	query := `SELECT ` + instanceCols + ` FROM instances WHERE ` + machineWhere + ` AND project_id = $1 AND state = $2
		AND ` + freeMachine + ` ORDER BY created_at, id LIMIT 1`
	if !q.inTx || !q.d.SkipLocked {
		// SQLite: the transaction holds the only writer, so what it reads stays true.
		in, err := scanInstance(q.w.QueryRowContext(ctx, query, projectID, state))
		if err != nil {
			return nil, readErr(err, "free machine of project", projectID)
		}
		return in, nil
	}
	// PostgreSQL: concurrent transactions skip each other's locked rows, but one
	// that committed an assignment after this statement's snapshot and before its
	// lock leaves a machine that looked free: check again once it is locked (a
	// new statement sees that commit), and look further when it is taken.
	for range 100 {
		in, err := scanInstance(q.w.QueryRowContext(ctx, query+" FOR UPDATE SKIP LOCKED", projectID, state))
		if err != nil {
			return nil, readErr(err, "free machine of project", projectID)
		}
		var free bool
		if err := q.w.QueryRowContext(ctx, `SELECT `+freeMachine+` FROM instances WHERE id = $1`, in.ID).Scan(&free); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "check machine %s", in.ID)
		}
		if free {
			return in, nil
		}
	}
	return nil, core.Errorf(core.KindUnavailable, "no free machine of project %s could be locked", projectID)
}

func (q *queries) LockMachine(ctx context.Context, id string) (*core.Instance, error) {
	query := `SELECT ` + instanceCols + ` FROM instances WHERE id = $1`
	if q.inTx && q.d.Name == "postgres" {
		query += " FOR UPDATE"
	}
	in, err := scanInstance(q.w.QueryRowContext(ctx, query, id))
	if err != nil {
		return nil, readErr(err, "instance", id)
	}
	return in, nil
}

// subjectTable is the table and column of an assignment subject.
func subjectTable(subjectType string) (table, col string, err error) {
	switch subjectType {
	case machine.SubjectUser:
		return "machine_users", "user_id", nil
	case machine.SubjectGroup:
		return "machine_groups", "group_id", nil
	}
	return "", "", core.Invalid("subject_type", "unknown assignment subject %q", subjectType)
}

func (q *queries) AddMachineAssignment(ctx context.Context, a *machine.MachineAssignment) error {
	table, col, err := subjectTable(a.SubjectType)
	if err != nil {
		return err
	}
	if a.AssignedAt.IsZero() {
		a.AssignedAt = q.now()
	}
	a.AssignedAt = norm(a.AssignedAt)
	_, err = q.w.ExecContext(ctx, `INSERT INTO `+table+` (machine_id, `+col+`, assigned_at) VALUES ($1, $2, $3)`,
		a.MachineID, a.SubjectID, micros(a.AssignedAt))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.Wrap(core.KindNotFound, err, "machine %s or %s %s not found", a.MachineID, a.SubjectType, a.SubjectID)
		}
		return q.writeErr(err, "assignment", a.MachineID+"/"+a.SubjectID)
	}
	return nil
}

func (q *queries) RemoveMachineAssignment(ctx context.Context, machineID, subjectType, subjectID string) error {
	table, col, err := subjectTable(subjectType)
	if err != nil {
		return err
	}
	res, err := q.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE machine_id = $1 AND `+col+` = $2`, machineID, subjectID)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "remove assignment")
	}
	if n, err := res.RowsAffected(); err != nil {
		return core.Wrap(core.KindInternal, err, "remove assignment")
	} else if n == 0 {
		return core.NotFound("assignment", machineID+"/"+subjectID)
	}
	return nil
}

// assignmentChunk bounds the ids bound in one query.
const assignmentChunk = 500

func (q *queries) ListMachineAssignments(ctx context.Context, f machine.AssignmentFilter) ([]*machine.MachineAssignment, error) {
	out := []*machine.MachineAssignment{}
	for _, typ := range []string{machine.SubjectUser, machine.SubjectGroup} {
		if f.SubjectType != nil && *f.SubjectType != typ {
			continue
		}
		table, col, _ := subjectTable(typ)
		chunks := [][]string{nil}
		if f.MachineIDs != nil {
			chunks = nil
			for ids := range slices.Chunk(f.MachineIDs, assignmentChunk) {
				chunks = append(chunks, ids)
			}
		}
		for _, ids := range chunks {
			var a args
			var w where
			if ids != nil {
				marks := make([]string, len(ids))
				for i, id := range ids {
					marks[i] = a.add(id)
				}
				w = append(w, "machine_id IN ("+strings.Join(marks, ", ")+")")
			}
			if f.SubjectID != nil {
				w = append(w, col+" = "+a.add(*f.SubjectID))
			}
			if err := q.scanAssignments(ctx, `SELECT machine_id, `+col+`, assigned_at FROM `+table+w.String(), a, typ, &out); err != nil {
				return nil, err
			}
		}
	}
	slices.SortStableFunc(out, func(x, y *machine.MachineAssignment) int {
		if c := x.AssignedAt.Compare(y.AssignedAt); c != 0 {
			return c
		}
		return strings.Compare(x.SubjectID, y.SubjectID)
	})
	return out, nil
}

func (q *queries) scanAssignments(ctx context.Context, query string, a args, typ string, out *[]*machine.MachineAssignment) error {
	rows, err := q.r.QueryContext(ctx, query, a...)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "list assignments")
	}
	defer rows.Close()
	for rows.Next() {
		m := &machine.MachineAssignment{SubjectType: typ}
		var at int64
		if err := rows.Scan(&m.MachineID, &m.SubjectID, &at); err != nil {
			return core.Wrap(core.KindInternal, err, "list assignments")
		}
		m.AssignedAt = fromMicros(at)
		*out = append(*out, m)
	}
	if err := rows.Err(); err != nil {
		return core.Wrap(core.KindInternal, err, "list assignments")
	}
	return nil
}

func (q *queries) AddAssignmentEvent(ctx context.Context, e *machine.AssignmentEvent) error {
	if e.ID == "" {
		e.ID = newID()
	}
	if e.At.IsZero() {
		e.At = q.now()
	}
	e.At = norm(e.At)
	_, err := q.w.ExecContext(ctx, `INSERT INTO machine_assignment_history (id, machine_id, subject_type, subject_id, action, actor, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, e.MachineID, e.SubjectType, e.SubjectID, e.Action, e.Actor, micros(e.At))
	if err != nil {
		return q.writeErr(err, "assignment event", e.ID)
	}
	return nil
}

func (q *queries) ListAssignmentEvents(ctx context.Context, machineID string) ([]*machine.AssignmentEvent, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT id, machine_id, subject_type, subject_id, action, actor, changed_at
		FROM machine_assignment_history WHERE machine_id = $1 ORDER BY changed_at, id`, machineID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list assignment history")
	}
	defer rows.Close()
	out := []*machine.AssignmentEvent{}
	for rows.Next() {
		e := &machine.AssignmentEvent{}
		var at int64
		if err := rows.Scan(&e.ID, &e.MachineID, &e.SubjectType, &e.SubjectID, &e.Action, &e.Actor, &at); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list assignment history")
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list assignment history")
	}
	return out, nil
}
