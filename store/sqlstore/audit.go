package sqlstore

import (
	"context"
	"database/sql"
	"sync"

	"hostdeck/core"
)

const auditCols = `id, at, actor, face, source, action, target_type, target_id, detail, number`

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
	if err := sc.Scan(&e.ID, &at, &e.Actor, &e.Face, &e.Source, &e.Action, &e.TargetType, &e.TargetID, &detail, &e.Number); err != nil {
		return nil, err
	}
	e.At, e.Detail = fromMicros(at), fromNullJSON(detail)
	return &e, nil
}

// auditNumbers gives audit events their numbers (core/numbers.go) where one
// process owns the database (Dialect.Exclusive): from the largest number
// there is, read at open (an event rolled back leaves a gap). Elsewhere the
// dialect's AuditNumberSQL does (a sequence: no audited change waits on
// another's commit for its number).
type auditNumbers struct {
	mu   sync.Mutex
	next int64
}

// load starts the numbers of a database this process owns.
func (n *auditNumbers) load(ctx context.Context, db *sql.DB) error {
	var max int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) FROM audit_events`).Scan(&max); err != nil {
		return core.Wrap(core.KindInternal, err, "read the audit log's last number")
	}
	n.next = max + 1
	return nil
}

// take is the next number.
func (n *auditNumbers) take() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	return n.next - 1
}

func (q *queries) AddAudit(ctx context.Context, e *core.AuditEvent) error {
	q.stamp(&e.ID, &e.At, nil)
	insert := `INSERT INTO audit_events (` + auditCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, `
	args := []any{e.ID, micros(e.At), e.Actor, e.Face, e.Source, e.Action, e.TargetType, e.TargetID, jsonArg(e.Detail)}
	if q.d.AuditNumberSQL != "" {
		insert += q.d.AuditNumberSQL + `) RETURNING number`
	} else {
		insert += `$10) RETURNING number`
		args = append(args, q.audits.take())
	}
	if err := q.w.QueryRowContext(ctx, insert, args...).Scan(&e.Number); err != nil {
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
	for _, in := range []struct {
		col    string
		values []string
	}{{"actor", f.Actors}, {"action", f.Actions}, {"target_type", f.TargetTypes}, {"target_id", f.TargetIDs}} {
		if in.values == nil {
			continue
		}
		if len(in.values) == 0 {
			return []*core.AuditEvent{}, 0, nil
		}
		l.where = append(l.where, in.col+" IN ("+marks(&l.args, in.values)+")")
	}
	if f.From != nil {
		l.where = append(l.where, "at >= "+l.args.add(micros(*f.From)))
	}
	if f.To != nil {
		l.where = append(l.where, "at <= "+l.args.add(micros(*f.To)))
	}
	if f.DetailContains != nil {
		l.like("detail", *f.DetailContains)
	}
	return l.run(ctx, q.r)
}
