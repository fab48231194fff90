package sqlstore

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/links"
)

// This file stores links (links.Store): a list that follows its table, so
// that an admin API's page of links is answered from its stamp.

var _ links.Store = (*DB)(nil)

const linkCols = `id, number, name, image, url, creator, created_at, updated_at`

var linkSort = sorting{
	fields: map[string]string{
		"id": "id", "number": "number", "name": "name", "created_at": "created_at", "updated_at": "updated_at",
	},
	def:     []string{"created_at"},
	indexed: []string{"created_at", "name"}, // links_order, links_name
}

func scanLink(sc scanner) (*links.Link, error) {
	var l links.Link
	var created, updated int64
	if err := sc.Scan(&l.ID, &l.Number, &l.Name, &l.Image, &l.URL, &l.Creator, &created, &updated); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &l, nil
}

func (q *queries) CreateLink(ctx context.Context, l *links.Link) error {
	q.stamp(&l.ID, &l.CreatedAt, &l.UpdatedAt)
	n, err := q.nextNumber(ctx, core.NumberLink)
	if err != nil {
		return err
	}
	_, err = q.w.ExecContext(ctx, `INSERT INTO links (`+linkCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		l.ID, n, l.Name, l.Image, l.URL, l.Creator, micros(l.CreatedAt), micros(l.UpdatedAt))
	if err != nil {
		return q.writeErr(err, "link", l.Name)
	}
	l.Number = n
	return nil
}

func (q *queries) GetLink(ctx context.Context, id string) (*links.Link, error) {
	l, err := scanLink(q.r.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "link", id)
	}
	return l, nil
}

func (q *queries) ListLinks(ctx context.Context, f links.LinkFilter) (core.List[*links.Link], error) {
	l := listQuery[*links.Link]{what: "links", cols: qualify("links", linkCols), from: "links", page: f.Page, sort: linkSort, scan: scanLink,
		tables: []string{"links"}}
	if f.Name != nil {
		l.where = append(l.where, "name = "+l.args.add(*f.Name))
	}
	return l.list(ctx, q)
}

func (q *queries) UpdateLink(ctx context.Context, id string, u links.LinkInput) (*links.Link, error) {
	var s sets
	if u.Name != nil {
		s.set("name", *u.Name)
	}
	if u.Image != nil {
		s.set("image", *u.Image)
	}
	if u.URL != nil {
		s.set("url", *u.URL)
	}
	return update(ctx, q, "links", "link", id, &s, linkCols, scanLink)
}

func (q *queries) DeleteLink(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM links WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "link", id)
	}
	return nil
}
