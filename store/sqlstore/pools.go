package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"hostdeck/core"
	"hostdeck/core/desktop"
)

// This file stores the catalogue and the remote-desktop pools (desktop.Store;
// their machines and sessions are machines.go and sessions.go).

var _ desktop.Store = (*DB)(nil)

// --- flavors ---

const flavorCols = `id, name, vcpus, ram_mib, disk_gib, created_at`

var flavorSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "vcpus": "vcpus", "ram": "ram_mib", "disk": "disk_gib", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanFlavor(sc scanner) (*core.Flavor, error) {
	var f core.Flavor
	var created int64
	if err := sc.Scan(&f.ID, &f.Name, &f.VCPUs, &f.RAM, &f.Disk, &created); err != nil {
		return nil, err
	}
	f.CreatedAt = fromMicros(created)
	return &f, nil
}

func (q *queries) CreateFlavor(ctx context.Context, f *core.Flavor) error {
	q.stamp(&f.ID, &f.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO flavors (`+flavorCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		f.ID, f.Name, f.VCPUs, f.RAM, f.Disk, micros(f.CreatedAt))
	if err != nil {
		return q.writeErr(err, "flavor", f.Name)
	}
	return nil
}

func (q *queries) GetFlavor(ctx context.Context, id string) (*core.Flavor, error) {
	f, err := scanFlavor(q.r.QueryRowContext(ctx, `SELECT `+flavorCols+` FROM flavors WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "flavor", id)
	}
	return f, nil
}

func (q *queries) ListFlavors(ctx context.Context, p core.Page) ([]*core.Flavor, int, error) {
	l := listQuery[*core.Flavor]{what: "flavors", cols: flavorCols, from: "flavors", page: p, sort: flavorSort, scan: scanFlavor}
	return l.run(ctx, q.r)
}

// --- TRS projects ---

// trsFrom joins a TRS project's two rows; the columns are named so that the
// listQuery's "id" is the project id.
const trsFrom = `(SELECT p.id AS id, p.name AS name, p.description AS description, p.enabled AS enabled,
	p.domain_id AS domain_id, t.parent_id AS parent_id, t.is_domain AS is_domain, t.tags AS tags,
	t.flavor_id AS flavor_id, t.image_id AS image_id, t.operation_mode AS operation_mode,
	t.network_id AS network_id, t.availability_zone AS availability_zone,
	t.instance_init_script AS instance_init_script, t.min_reserve_vm AS min_reserve_vm,
	t.instance_name_pattern AS instance_name_pattern, t.user_volume_enabled AS user_volume_enabled,
	t.volume_size AS volume_size, t.volume_type_id AS volume_type_id, t.max_instances AS max_instances,
	t.allowed_networks AS allowed_networks, p.created_at AS created_at, p.updated_at AS updated_at
	FROM projects p JOIN trs_projects t ON t.project_id = p.id WHERE p.project_type = 'TRS') trs`

const trsCols = `id, name, description, enabled, domain_id, parent_id, is_domain, tags, flavor_id, image_id,
	operation_mode, network_id, availability_zone, instance_init_script, min_reserve_vm, instance_name_pattern,
	user_volume_enabled, volume_size, volume_type_id, max_instances, allowed_networks, created_at, updated_at`

var trsSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "domain_id": "domain_id", "operation_mode": "operation_mode",
		"created_at": "created_at", "updated_at": "updated_at"},
	def: []string{"created_at"},
}

func scanPool(sc scanner) (*desktop.Pool, error) {
	var p desktop.Pool
	var tags, networks string
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Description, &p.Enabled, &p.DomainID, &p.ParentID, &p.IsDomain, &tags,
		&p.FlavorID, &p.ImageID, &p.OperationMode, &p.NetworkID, &p.AvailabilityZone, &p.InstanceInitScript,
		&p.MinReserveVM, &p.InstanceNamePattern, &p.UserVolumeEnabled, &p.VolumeSize, &p.VolumeTypeID,
		&p.MaxInstances, &networks, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(networks), &p.AllowedNetworks); err != nil {
		return nil, err
	}
	if p.AllowedNetworks == nil {
		p.AllowedNetworks = []string{}
	}
	if err := json.Unmarshal([]byte(tags), &p.Tags); err != nil {
		return nil, err
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func tagsArg(tags []string) (string, error) {
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	return string(b), err
}

func (q *queries) CreatePool(ctx context.Context, p *desktop.Pool) error {
	q.stamp(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	if p.DomainID == "" {
		p.DomainID = desktop.DefaultDomain
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	tags, err := tagsArg(p.Tags)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "encode tags")
	}
	networks, err := tagsArg(p.AllowedNetworks)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "encode allowed networks")
	}
	if p.AllowedNetworks == nil {
		p.AllowedNetworks = []string{}
	}
	// Two rows in one statement each: inside a caller's transaction they commit
	// together; outside one, a failed second insert leaves a project row behind
	// that no TRS read sees, so callers use InTx (core does).
	_, err = q.w.ExecContext(ctx, `INSERT INTO projects (id, name, description, owner_id, created_at, updated_at,
		domain_id, enabled, project_type) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8)`,
		p.ID, p.Name, p.Description, micros(p.CreatedAt), micros(p.UpdatedAt), p.DomainID, p.Enabled, desktop.ProjectTypePool)
	if err != nil {
		return q.writeErr(err, "project", p.Name)
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO trs_projects (project_id, parent_id, is_domain, tags, flavor_id,
		image_id, operation_mode, network_id, availability_zone, instance_init_script, min_reserve_vm,
		instance_name_pattern, user_volume_enabled, volume_size, volume_type_id, max_instances, allowed_networks)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		p.ID, p.ParentID, p.IsDomain, tags, p.FlavorID, p.ImageID, p.OperationMode, p.NetworkID,
		p.AvailabilityZone, p.InstanceInitScript, p.MinReserveVM, p.InstanceNamePattern, p.UserVolumeEnabled,
		p.VolumeSize, p.VolumeTypeID, p.MaxInstances, networks)
	if err != nil {
		return q.writeErr(err, "project", p.Name)
	}
	return nil
}

func (q *queries) GetPool(ctx context.Context, id string) (*desktop.Pool, error) {
	return q.getPool(ctx, q.r, id)
}

func (q *queries) getPool(ctx context.Context, db dbtx, id string) (*desktop.Pool, error) {
	p, err := scanPool(db.QueryRowContext(ctx, `SELECT `+trsCols+` FROM `+trsFrom+` WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "project", id)
	}
	return p, nil
}

func (q *queries) ListPools(ctx context.Context, f desktop.PoolFilter) ([]*desktop.Pool, int, error) {
	l := listQuery[*desktop.Pool]{what: "projects", cols: trsCols, from: trsFrom, page: f.Page, sort: trsSort, scan: scanPool}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []*desktop.Pool{}, 0, nil
		}
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = l.args.add(id)
		}
		l.where = append(l.where, "id IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	if f.Enabled != nil {
		l.where = append(l.where, "enabled = "+l.args.add(*f.Enabled))
	}
	if f.DomainID != nil {
		l.where = append(l.where, "domain_id = "+l.args.add(*f.DomainID))
	}
	if f.OperationMode != nil {
		l.where = append(l.where, "operation_mode = "+l.args.add(*f.OperationMode))
	}
	if f.UserID != nil {
		l.where = append(l.where, "id IN (SELECT project_id FROM role_grants WHERE user_id = "+l.args.add(*f.UserID)+")")
	}
	return l.run(ctx, q.r)
}

func (q *queries) UpdatePool(ctx context.Context, id string, u desktop.PoolInput) (*desktop.Pool, error) {
	// Both rows are written and the result read back on the writer, so that the
	// update sees its own change outside a transaction too.
	var ps sets
	if u.Name != nil {
		ps.set("name", *u.Name)
	}
	if u.Description != nil {
		ps.set("description", *u.Description)
	}
	if u.Enabled != nil {
		ps.set("enabled", *u.Enabled)
	}
	if u.DomainID != nil {
		ps.set("domain_id", *u.DomainID)
	}
	ps.set("updated_at", micros(norm(q.now())))
	res, err := q.w.ExecContext(ctx, `UPDATE projects SET `+strings.Join(ps.parts, ", ")+
		` WHERE project_type = 'TRS' AND id = `+ps.a.add(id), ps.a...)
	if err != nil {
		return nil, q.writeErr(err, "project", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "update project %s", id)
	} else if n == 0 {
		return nil, core.NotFound("project", id)
	}

	var ts sets
	str := func(col string, v *string) {
		if v != nil {
			ts.set(col, *v)
		}
	}
	num := func(col string, v *int) {
		if v != nil {
			ts.set(col, *v)
		}
	}
	flag := func(col string, v *bool) {
		if v != nil {
			ts.set(col, *v)
		}
	}
	str("parent_id", u.ParentID)
	flag("is_domain", u.IsDomain)
	if u.Tags != nil {
		tags, err := tagsArg(*u.Tags)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "encode tags")
		}
		ts.set("tags", tags)
	}
	str("flavor_id", u.FlavorID)
	str("image_id", u.ImageID)
	num("operation_mode", u.OperationMode)
	str("network_id", u.NetworkID)
	str("availability_zone", u.AvailabilityZone)
	str("instance_init_script", u.InstanceInitScript)
	num("min_reserve_vm", u.MinReserveVM)
	str("instance_name_pattern", u.InstanceNamePattern)
	flag("user_volume_enabled", u.UserVolumeEnabled)
	num("volume_size", u.VolumeSize)
	str("volume_type_id", u.VolumeTypeID)
	num("max_instances", u.MaxInstances)
	if u.AllowedNetworks != nil {
		networks, err := tagsArg(*u.AllowedNetworks)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "encode allowed networks")
		}
		ts.set("allowed_networks", networks)
	}
	if len(ts.parts) > 0 {
		_, err := q.w.ExecContext(ctx, `UPDATE trs_projects SET `+strings.Join(ts.parts, ", ")+
			` WHERE project_id = `+ts.a.add(id), ts.a...)
		if err != nil {
			return nil, q.writeErr(err, "project", id)
		}
	}
	return q.getPool(ctx, q.w, id)
}

func (q *queries) CountInstancesByState(ctx context.Context, projectID string) (map[core.InstanceState]int, error) {
	return countBy[core.InstanceState](ctx, q.r, "instances of project "+projectID,
		`SELECT state, count(*) FROM instances WHERE project_id = $1 GROUP BY state`, projectID)
}
