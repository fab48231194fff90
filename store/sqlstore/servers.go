package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"hostdeck/core"
)

const serverCols = `id, name, address, runtime, capacity, location, status, last_seen_at, created_at, updated_at, number,
	kind, stage, os_type, cpus, memory_mb, description, addresses`

var serverSort = sorting{
	fields: map[string]string{
		"id": "id", "name": "name", "runtime": "runtime", "location": "location", "status": "status",
		"capacity": "capacity", "last_seen_at": "last_seen_at", "created_at": "created_at", "updated_at": "updated_at",
	},
	nullable: map[string]bool{"last_seen_at": true},
	def:      []string{"created_at"},
}

func scanServer(sc scanner) (*core.Server, error) {
	var s core.Server
	var lastSeen sql.NullInt64
	var created, updated int64
	var addresses string
	if err := sc.Scan(&s.ID, &s.Name, &s.Address, &s.Runtime, &s.Capacity, &s.Location, &s.Status,
		&lastSeen, &created, &updated, &s.Number,
		&s.Kind, &s.Stage, &s.OSType, &s.CPUs, &s.MemoryMB, &s.Description, &addresses); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(addresses), &s.Addresses); err != nil {
		return nil, fmt.Errorf("server %s: addresses: %w", s.ID, err)
	}
	s.LastSeenAt = fromNullMicros(lastSeen)
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func (q *queries) CreateServer(ctx context.Context, s *core.Server) error {
	q.stamp(&s.ID, &s.CreatedAt, &s.UpdatedAt)
	s.LastSeenAt = normPtr(s.LastSeenAt)
	if s.Status == "" {
		s.Status = core.ServerActive
	}
	if s.Stage == "" {
		s.Stage = core.StageRaw
	}
	if s.Addresses == nil {
		s.Addresses = []core.HostAddress{}
	}
	addresses, err := json.Marshal(s.Addresses)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "server %s: addresses", s.Name)
	}
	n, err := q.nextNumber(ctx, core.NumberServer)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO servers (`+serverCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		s.ID, s.Name, s.Address, s.Runtime, s.Capacity, s.Location, s.Status,
		microsPtr(s.LastSeenAt), micros(s.CreatedAt), micros(s.UpdatedAt), n,
		s.Kind, s.Stage, s.OSType, s.CPUs, s.MemoryMB, s.Description, string(addresses))
	if err != nil {
		return q.writeErr(err, "server", s.Name)
	}
	s.Number = n
	return nil
}

func (q *queries) GetServer(ctx context.Context, id string) (*core.Server, error) {
	s, err := scanServer(q.r.QueryRowContext(ctx, `SELECT `+serverCols+` FROM servers WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "server", id)
	}
	return s, nil
}

func (q *queries) ListServers(ctx context.Context, f core.ServerFilter) ([]*core.Server, int, error) {
	l := listQuery[*core.Server]{what: "servers", cols: serverCols, from: "servers", page: f.Page, sort: serverSort, scan: scanServer}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	if f.Kind != nil {
		l.where = append(l.where, "kind = "+l.args.add(*f.Kind))
	}
	if f.VisibleTo != nil {
		l.where = append(l.where, "id IN (SELECT resource_id FROM grants WHERE action = "+l.args.add(string(core.ActionServerView))+
			" AND "+grantsOfUser(l.args.add(*f.VisibleTo))+")")
	}
	if f.Status != nil {
		l.where = append(l.where, "status = "+l.args.add(*f.Status))
	}
	if f.Runtime != nil {
		l.where = append(l.where, "runtime = "+l.args.add(*f.Runtime))
	}
	return l.run(ctx, q.r)
}

func (q *queries) UpdateServer(ctx context.Context, id string, u core.ServerUpdate) (*core.Server, error) {
	var s sets
	if u.Name != nil {
		s.set("name", *u.Name)
	}
	if u.Address != nil {
		s.set("address", *u.Address)
	}
	if u.Runtime != nil {
		s.set("runtime", *u.Runtime)
	}
	if u.Capacity != nil {
		s.set("capacity", *u.Capacity)
	}
	if u.Location != nil {
		s.set("location", *u.Location)
	}
	if u.Status != nil {
		s.set("status", *u.Status)
	}
	if u.LastSeenAt != nil {
		s.set("last_seen_at", micros(norm(*u.LastSeenAt)))
	}
	if u.Kind != nil {
		s.set("kind", *u.Kind)
	}
	if u.Stage != nil {
		s.set("stage", *u.Stage)
	}
	if u.OSType != nil {
		s.set("os_type", *u.OSType)
	}
	if u.CPUs != nil {
		s.set("cpus", *u.CPUs)
	}
	if u.MemoryMB != nil {
		s.set("memory_mb", *u.MemoryMB)
	}
	if u.Description != nil {
		s.set("description", *u.Description)
	}
	if u.Addresses != nil {
		b, err := json.Marshal(*u.Addresses)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "server %s: addresses", id)
		}
		s.set("addresses", string(b))
	}
	return update(ctx, q, "servers", "server", id, &s, serverCols, scanServer)
}

func (q *queries) DeleteServer(ctx context.Context, id string) error {
	res, err := q.w.ExecContext(ctx, `DELETE FROM servers WHERE id = $1`, id)
	if err != nil {
		return q.writeErr(err, "server", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return core.Wrap(core.KindInternal, err, "delete server %s", id)
	} else if n == 0 {
		return core.NotFound("server", id)
	}
	return nil
}
