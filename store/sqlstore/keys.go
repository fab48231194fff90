package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"hostdeck/core"
)

// Tokens read by id and listed (API keys, core.TokenKey), with the name of
// their user.

// tokenUserCols are tokenCols qualified, and the name of the token's user.
var tokenUserCols = "tokens." + strings.ReplaceAll(strings.Join(strings.Fields(tokenCols), " "), ", ", ", tokens.") +
	", COALESCE(users.name, '')"

// tokenUserJoin joins a token's user.
const tokenUserJoin = " LEFT JOIN users ON users.id = tokens.user_id"

var tokenSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "number": "number", "issued_at": "issued_at", "created_at": "issued_at"},
	def:    []string{"issued_at"},
}

func scanTokenUser(sc scanner) (*core.Token, error) {
	var name string
	t, err := scanToken(sc, &name)
	if err != nil {
		return nil, err
	}
	t.UserName = name
	return t, nil
}

func (q *queries) GetToken(ctx context.Context, id string) (*core.Token, error) {
	t, err := scanTokenUser(q.r.QueryRowContext(ctx, `SELECT `+tokenUserCols+` FROM tokens`+tokenUserJoin+` WHERE tokens.id = $1`, id))
	if err != nil {
		return nil, readErr(err, "token", id)
	}
	return t, nil
}

func (q *queries) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, int, error) {
	l := listQuery[*core.Token]{what: "tokens", cols: tokenUserCols, from: "tokens", join: tokenUserJoin, page: f.Page,
		sort: tokenSort, scan: scanTokenUser}
	for _, c := range []struct {
		col string
		v   *string
	}{{"kind", f.Kind}, {"user_id", f.UserID}, {"name", f.Name}, {"description", f.Description}, {"token_hash", f.Hash}} {
		if c.v != nil {
			l.where = append(l.where, c.col+" = "+l.args.add(*c.v))
		}
	}
	got, err := l.list(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return got.Items, got.Total, nil
}

func (q *queries) UpdateToken(ctx context.Context, id string, u core.TokenUpdate) (*core.Token, error) {
	var s sets
	if u.Name != nil {
		s.set("name", *u.Name)
	}
	if u.Description != nil {
		s.set("description", *u.Description)
	}
	if len(s.parts) > 0 { // tokens have no updated_at: update() would set one
		query := "UPDATE tokens SET " + strings.Join(s.parts, ", ") + " WHERE id = " + s.a.add(id) + " RETURNING id"
		var got string
		if err := q.w.QueryRowContext(ctx, query, s.a...).Scan(&got); err != nil {
			return nil, q.writeErr(err, "token", id)
		}
	}
	t, err := scanTokenUser(q.w.QueryRowContext(ctx, `SELECT `+tokenUserCols+` FROM tokens`+tokenUserJoin+` WHERE tokens.id = $1`, id))
	if err != nil {
		return nil, q.writeErr(err, "token", id)
	}
	return t, nil
}

func (q *queries) DeleteToken(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM tokens WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "token", id)
	}
	return nil
}

func (q *queries) ConsumeToken(ctx context.Context, id string, at time.Time) error {
	var got string
	err := q.w.QueryRowContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id`,
		micros(norm(at)), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return q.noRowBecause(ctx, "tokens", "token", id, "token "+id+" was used already")
	}
	if err != nil {
		return q.writeErr(err, "token", id)
	}
	return nil
}
