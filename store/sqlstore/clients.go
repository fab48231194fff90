package sqlstore

import (
	"context"
	"database/sql"

	"hostdeck/core"
	"hostdeck/core/cloud"
)

const clientCols = `id, name, email, phone, lang, server_id, instance_id, status, expire_date, demo, url,
	owner_login, owner_password_enc, expire_notice_for, created_at, updated_at`

var clientSort = sorting{
	fields: map[string]string{
		"id": "id", "name": "name", "email": "email", "status": "status", "lang": "lang",
		"server_id": "server_id", "expire_date": "expire_date", "demo": "demo",
		"created_at": "created_at", "updated_at": "updated_at",
	},
	nullable: map[string]bool{"expire_date": true},
	def:      []string{"created_at"},
	indexed:  []string{"created_at", "name"}, // clients_live_order, clients_live_name
}

func scanClient(sc scanner) (*core.Client, error) {
	var s clientScan
	if err := sc.Scan(s.dest()...); err != nil {
		return nil, err
	}
	return s.client(), nil
}

// clientScan is what a row of clientCols is scanned into.
type clientScan struct {
	c                core.Client
	expire, notice   sql.NullInt64
	created, updated int64
}

func (s *clientScan) dest() []any {
	c := &s.c
	return []any{&c.ID, &c.Name, &c.Email, &c.Phone, &c.Lang, &c.ServerID, &c.InstanceID, &c.Status,
		&s.expire, &c.Demo, &c.URL, &c.OwnerLogin, &c.OwnerPasswordEnc, &s.notice, &s.created, &s.updated}
}

func (s *clientScan) client() *core.Client {
	c := &s.c
	if len(c.OwnerPasswordEnc) == 0 {
		c.OwnerPasswordEnc = nil
	}
	c.ExpireDate, c.ExpireNoticeFor = fromNullMicros(s.expire), fromNullMicros(s.notice)
	c.CreatedAt, c.UpdatedAt = fromMicros(s.created), fromMicros(s.updated)
	return c
}

// scanClientRow scans a client and the instance joined to it (clientRowCols).
func scanClientRow(sc scanner) (cloud.ClientRow, error) {
	var c clientScan
	var in instanceScan
	if err := sc.Scan(append(c.dest(), in.dest()...)...); err != nil {
		return cloud.ClientRow{}, err
	}
	row := cloud.ClientRow{Client: c.client()}
	if in.in.ID != "" {
		var err error
		if row.Instance, err = in.instance(); err != nil {
			return cloud.ClientRow{}, err
		}
	}
	return row, nil
}

func (q *queries) CreateClient(ctx context.Context, c *core.Client) error {
	q.stamp(&c.ID, &c.CreatedAt, &c.UpdatedAt)
	c.ExpireDate, c.ExpireNoticeFor = datePtr(c.ExpireDate), datePtr(c.ExpireNoticeFor)
	if len(c.OwnerPasswordEnc) == 0 {
		c.OwnerPasswordEnc = nil
	}
	if c.Status == "" {
		c.Status = core.ClientCreating
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.Name, c.Email, c.Phone, c.Lang, c.ServerID, c.InstanceID, c.Status,
		microsPtr(c.ExpireDate), c.Demo, c.URL, c.OwnerLogin, bytesArg(c.OwnerPasswordEnc),
		microsPtr(c.ExpireNoticeFor), micros(c.CreatedAt), micros(c.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "client", c.Name)
	}
	return q.addLoad(ctx, "clients", c.ServerID, liveClient(c.Status))
}

// liveClient is 1 for a client that takes a place on its server.
func liveClient(st core.ClientStatus) int {
	if st == core.ClientDeleted {
		return 0
	}
	return 1
}

func (q *queries) GetClient(ctx context.Context, id string) (*core.Client, error) {
	c, err := scanClient(q.r.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "client", id)
	}
	return c, nil
}

// clientRowCols are a page of clients and each one's instance (LEFT JOIN
// instances i).
var clientRowCols = qualify("clients", clientCols) + ", " + optionalInstanceCols("i")

// ListClients reads a page of clients and each one's instance in one query
// (lists.go).
func (q *queries) ListClients(ctx context.Context, f core.ClientFilter) (core.List[cloud.ClientRow], error) {
	l := listQuery[cloud.ClientRow]{what: "clients", cols: clientRowCols, from: "clients", page: f.Page, sort: clientSort,
		scan: scanClientRow, tables: []string{"clients"}, related: []string{"instances"},
		join: " LEFT JOIN instances i ON i.id = clients.instance_id AND clients.instance_id <> ''"}
	if f.Status != nil {
		l.where = append(l.where, "status = "+l.args.add(*f.Status))
	} else {
		// Matches the partial index clients_live_order word for word.
		l.where = append(l.where, "status <> 'deleted'")
	}
	if f.ServerID != nil {
		l.where = append(l.where, "server_id = "+l.args.add(*f.ServerID))
	}
	if f.Name != nil {
		l.like("name", *f.Name)
	}
	if f.Email != nil {
		l.like("email", *f.Email)
	}
	if f.ExpiringBefore != nil {
		l.where = append(l.where, "expire_date <= "+l.args.add(micros(norm(*f.ExpiringBefore))))
	}
	if len(l.where) == 1 && f.Status == nil {
		// Deleted clients are few: counting all rows (a b-tree count) and taking
		// away the deleted ones (an index range) beats stepping over every live row.
		l.count = `SELECT (SELECT count(*) FROM clients) - (SELECT count(*) FROM clients WHERE status = 'deleted')`
	}
	return l.list(ctx, q)
}

func (q *queries) UpdateClient(ctx context.Context, id string, u core.ClientUpdate) (*core.Client, error) {
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
	if u.Lang != nil {
		s.set("lang", *u.Lang)
	}
	if u.ServerID != nil {
		s.set("server_id", *u.ServerID)
	}
	if u.InstanceID != nil {
		s.set("instance_id", *u.InstanceID)
	}
	if u.Status != nil {
		s.set("status", *u.Status)
	}
	if u.ExpireDate != nil {
		s.set("expire_date", microsPtr(datePtr(*u.ExpireDate)))
	}
	if u.Demo != nil {
		s.set("demo", *u.Demo)
	}
	if u.URL != nil {
		s.set("url", *u.URL)
	}
	if u.OwnerPasswordEnc != nil {
		s.set("owner_password_enc", bytesArg(*u.OwnerPasswordEnc))
	}
	if u.ExpireNoticeFor != nil {
		s.set("expire_notice_for", microsPtr(datePtr(*u.ExpireNoticeFor)))
	}
	if u.Status == nil && u.ServerID == nil {
		return update(ctx, q, "clients", "client", id, &s, clientCols, scanClient)
	}
	var out *core.Client
	err := q.atomically(ctx, func(q *queries) error {
		var srv string
		var st core.ClientStatus
		if err := q.w.QueryRowContext(ctx, `SELECT server_id, status FROM clients WHERE id = $1`, id).Scan(&srv, &st); err != nil {
			return readErr(err, "client", id)
		}
		c, err := update(ctx, q, "clients", "client", id, &s, clientCols, scanClient)
		if err != nil {
			return err
		}
		out = c
		return q.moveLoad(ctx, "clients", srv, liveClient(st) == 1, c.ServerID, liveClient(c.Status) == 1)
	})
	return out, err
}

const expireChangeCols = `id, client_id, old_date, new_date, actor, source, at`

var expireChangeSort = sorting{
	fields: map[string]string{"id": "id", "at": "at"},
	def:    []string{"at"},
}

func scanExpireChange(sc scanner) (*core.ExpireChange, error) {
	var e core.ExpireChange
	var old, nw sql.NullInt64
	var at int64
	if err := sc.Scan(&e.ID, &e.ClientID, &old, &nw, &e.Actor, &e.Source, &at); err != nil {
		return nil, err
	}
	e.Old, e.New, e.At = fromNullMicros(old), fromNullMicros(nw), fromMicros(at)
	return &e, nil
}

// AddExpireChange records a change of a client's expiry date; an unknown client
// is KindNotFound.
func (q *queries) AddExpireChange(ctx context.Context, e *core.ExpireChange) error {
	q.stamp(&e.ID, &e.At, nil)
	e.Old, e.New = datePtr(e.Old), datePtr(e.New)
	_, err := q.w.ExecContext(ctx, `INSERT INTO expire_changes (`+expireChangeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, e.ClientID, microsPtr(e.Old), microsPtr(e.New), e.Actor, e.Source, micros(e.At))
	if err != nil {
		if q.d.IsForeignKeyViolation(err) {
			return core.NotFound("client", e.ClientID)
		}
		return q.writeErr(err, "expire change", e.ID)
	}
	return nil
}

func (q *queries) ListExpireChanges(ctx context.Context, clientID string, p core.Page) ([]*core.ExpireChange, int, error) {
	l := listQuery[*core.ExpireChange]{what: "expire changes", cols: expireChangeCols, from: "expire_changes",
		page: p, sort: expireChangeSort, scan: scanExpireChange}
	l.where = append(l.where, "client_id = "+l.args.add(clientID))
	return l.run(ctx, q.r)
}
