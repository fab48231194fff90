package sqlstore

import (
	"context"
	"strconv"

	"hostdeck/core"
)

// ListNumberedInstances reads a page of instances with their numbers (column
// elid, LEFT JOIN instance_elids) in one query (lists.go).
func (q *queries) ListNumberedInstances(ctx context.Context, f core.InstanceFilter) (core.List[*core.NumberedInstance], error) {
	l := listQuery[*core.NumberedInstance]{what: "instances", cols: qualify("instances", instanceCols) + ", COALESCE(e.elid, 0)",
		from: "instances", page: f.Page, sort: instanceSort, scan: scanNumberedInstance,
		tables: []string{"instances"}, related: []string{"instance_elids"},
		join: " LEFT JOIN instance_elids e ON e.instance_id = instances.id"}
	// Matches the partial index instances_live_order word for word.
	l.where = append(l.where, "state <> 'deleted'")
	if !instanceWhere(&l, f) {
		return core.List[*core.NumberedInstance]{Items: []*core.NumberedInstance{}}, nil
	}
	if f.VisibleTo != nil {
		l.tables = append(l.tables, visibilityTables...)
	}
	return l.list(ctx, q)
}

func scanNumberedInstance(sc scanner) (*core.NumberedInstance, error) {
	var elid int64
	in, err := scanInstanceAnd(sc, &elid)
	if err != nil {
		return nil, err
	}
	return &core.NumberedInstance{Instance: in, Number: elid}, nil
}

func (q *queries) InstanceIDByNumber(ctx context.Context, elid int64) (string, error) {
	var id string
	err := q.r.QueryRowContext(ctx, `SELECT instance_id FROM instance_elids WHERE elid = $1`, elid).Scan(&id)
	if err != nil {
		return "", readErr(err, "instance", strconv.FormatInt(elid, 10))
	}
	return id, nil
}
