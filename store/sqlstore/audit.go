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

// auditNumbers numbers audit events (core/numbers.go) without a write of
// their own, which every audited change would otherwise make on one counter
// row, waiting for each other's commits: where one process owns the database
// (Dialect.Exclusive), from the largest number there is, read at open (a
// rolled back event leaves a gap); elsewhere in blocks of auditBlock taken
// from the counter 'audit' of record_numbers in a statement of their own,
// outside the event's transaction, so that concurrent transactions and
// replicas never wait on it and never share a number.
type auditNumbers struct {
	mu        sync.Mutex
	db        *sql.DB // where blocks are taken; nil when the numbers are all this process's
	next, end int64   // the block: next to give, and the last of it
}

const auditBlock = 64

// load starts the numbers of a database this process owns.
func (n *auditNumbers) load(ctx context.Context, db *sql.DB) error {
	var max int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) FROM audit_events`).Scan(&max); err != nil {
		return core.Wrap(core.KindInternal, err, "read the audit log's last number")
	}
	n.next, n.end, n.db = max+1, 1<<62, nil
	return nil
}

// take is the next number.
func (n *auditNumbers) take(ctx context.Context) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next == 0 || n.next > n.end {
		var last int64
		err := n.db.QueryRowContext(ctx, `INSERT INTO record_numbers (kind, last) VALUES ('audit', $1)
			ON CONFLICT (kind) DO UPDATE SET last = record_numbers.last + $1 RETURNING last`, auditBlock).Scan(&last)
		if err != nil {
			return 0, core.Wrap(core.KindInternal, err, "number audit events")
		}
		n.next, n.end = last-auditBlock+1, last
	}
	n.next++
	return n.next - 1, nil
}

func (q *queries) AddAudit(ctx context.Context, e *core.AuditEvent) error {
	q.stamp(&e.ID, &e.At, nil)
	num, err := q.audits.take(ctx)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, micros(e.At), e.Actor, e.Face, e.Source, e.Action, e.TargetType, e.TargetID, jsonArg(e.Detail), num)
	if err != nil {
		return q.writeErr(err, "audit event", e.ID)
	}
	e.Number = num
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
