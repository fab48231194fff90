package sqlstore

import (
	"context"
	"strconv"

	"hostdeck/core"
)

// Numeric ids (core/numbers.go): a number column on each numbered table, given
// from the kind's counter in record_numbers (migration 0018) when a record is
// created.

// numberTables is the table of each kind of numbered record.
var numberTables = map[core.NumberKind]string{
	core.NumberUser:        "users",
	core.NumberGroup:       "user_groups",
	core.NumberServer:      "servers",
	core.NumberLink:        "links",
	core.NumberToken:       "tokens", // API keys (core.TokenKey): other tokens have none
	core.NumberApplication: "applications",
	core.NumberProductLine: "product_lines",
}

// nextNumber takes the next number of kind: one statement, atomic on its own,
// so that concurrent creators never share a number (a number taken by a
// create that then fails is not given again).
func (q *queries) nextNumber(ctx context.Context, kind core.NumberKind) (int64, error) {
	var n int64
	err := q.w.QueryRowContext(ctx, `INSERT INTO record_numbers (kind, last) VALUES ($1, 1)
		ON CONFLICT (kind) DO UPDATE SET last = record_numbers.last + 1 RETURNING last`, string(kind)).Scan(&n)
	if err != nil {
		return 0, core.Wrap(core.KindInternal, err, "number a new %s", kind)
	}
	return n, nil
}

func (q *queries) IDByNumber(ctx context.Context, kind core.NumberKind, n int64) (string, error) {
	table, ok := numberTables[kind]
	if !ok {
		return "", core.Errorf(core.KindInternal, "no numbered records of kind %q", kind)
	}
	var id string
	err := q.r.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE number = $1 AND number > 0`, n).Scan(&id)
	if err != nil {
		return "", readErr(err, string(kind), strconv.FormatInt(n, 10))
	}
	return id, nil
}
