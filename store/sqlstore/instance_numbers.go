package sqlstore

import (
	"context"
	"strconv"

	"hostdeck/core"
)

// numberedInstances is instances with their numbers (column elid). The join is
// LEFT on a unique key, so it never changes which rows match: the total is
// counted from instances alone, the OFFSET subquery uses no column of
// instance_elids (the databases leave the join out of it), and only the rows of
// the page are joined.
const numberedInstances = "instances LEFT JOIN instance_elids ON instance_elids.instance_id = instances.id"

func (q *queries) ListNumberedInstances(ctx context.Context, f core.InstanceFilter) ([]*core.NumberedInstance, int, error) {
	l := listQuery[*core.NumberedInstance]{what: "instances", cols: instanceCols + ", COALESCE(elid, 0)", from: numberedInstances,
		countFrom: "instances", page: f.Page, sort: instanceSort, scan: scanNumberedInstance}
	l.where = append(l.where, "state <> 'deleted'")
	if !instanceWhere(&l, f) {
		return []*core.NumberedInstance{}, 0, nil
	}
	return l.run(ctx, q.r)
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
