package sqlstore

import (
	"context"
	"strconv"

	"hostdeck/core"
)

// billmgrInstances is instances with their elids. The join is LEFT on a unique
// key, so it never changes which rows match: the total is counted from instances
// alone, the OFFSET subquery uses no column of instance_elids (the databases
// leave the join out of it), and only the rows of the page are joined.
const billmgrInstances = "instances LEFT JOIN instance_elids ON instance_elids.instance_id = instances.id"

func (q *queries) ListBillmgrInstances(ctx context.Context, f core.InstanceFilter) ([]*core.BillmgrInstance, int, error) {
	l := listQuery[*core.BillmgrInstance]{what: "instances", cols: instanceCols + ", COALESCE(elid, 0)", from: billmgrInstances,
		countFrom: "instances", page: f.Page, sort: instanceSort, scan: scanBillmgrInstance}
	l.where = append(l.where, "state <> 'deleted'")
	if !instanceWhere(&l, f) {
		return []*core.BillmgrInstance{}, 0, nil
	}
	return l.run(ctx, q.r)
}

func scanBillmgrInstance(sc scanner) (*core.BillmgrInstance, error) {
	var elid int64
	in, err := scanInstanceAnd(sc, &elid)
	if err != nil {
		return nil, err
	}
	return &core.BillmgrInstance{Instance: in, Elid: elid}, nil
}

func (q *queries) InstanceIDByElid(ctx context.Context, elid int64) (string, error) {
	var id string
	err := q.r.QueryRowContext(ctx, `SELECT instance_id FROM instance_elids WHERE elid = $1`, elid).Scan(&id)
	if err != nil {
		return "", readErr(err, "instance", strconv.FormatInt(elid, 10))
	}
	return id, nil
}
