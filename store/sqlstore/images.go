package sqlstore

import (
	"context"

	"hostdeck/core"
)

const imageCols = `id, name, ref, zone, owner_id, os_type, created_at`

var imageSort = sorting{
	fields: map[string]string{"id": "id", "name": "name", "zone": "zone", "os_type": "os_type", "created_at": "created_at"},
	def:    []string{"created_at"},
}

func scanImage(sc scanner) (*core.Image, error) {
	var im core.Image
	var created int64
	if err := sc.Scan(&im.ID, &im.Name, &im.Ref, &im.Zone, &im.OwnerID, &im.OSType, &created); err != nil {
		return nil, err
	}
	im.CreatedAt = fromMicros(created)
	return &im, nil
}

func (q *queries) CreateImage(ctx context.Context, im *core.Image) error {
	q.stamp(&im.ID, &im.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO images (`+imageCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		im.ID, im.Name, im.Ref, im.Zone, im.OwnerID, im.OSType, micros(im.CreatedAt))
	if err != nil {
		return q.writeErr(err, "image", im.ID)
	}
	return nil
}

func (q *queries) GetImage(ctx context.Context, id string) (*core.Image, error) {
	im, err := scanImage(q.r.QueryRowContext(ctx, `SELECT `+imageCols+` FROM images WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "image", id)
	}
	return im, nil
}

func (q *queries) ListImages(ctx context.Context, f core.ImageFilter) ([]*core.Image, int, error) {
	l := listQuery[*core.Image]{what: "images", cols: imageCols, from: "images", page: f.Page, sort: imageSort, scan: scanImage}
	if f.VisibleTo != nil {
		l.where = append(l.where, "(zone = "+l.args.add(core.ZonePub)+" OR (zone = "+l.args.add(core.ZoneOwn)+
			" AND owner_id = "+l.args.add(*f.VisibleTo)+"))")
	}
	if f.Zone != nil {
		l.where = append(l.where, "zone = "+l.args.add(*f.Zone))
	}
	return l.run(ctx, q.r)
}
