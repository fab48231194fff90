package sqlstore

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/billing"
)

// This file stores coupons (billing.Store).

var _ billing.Store = (*DB)(nil)

const couponCols = `id, user_id, duration, amount, description, coupon_type, status, created_at`

func scanCoupon(sc scanner) (*billing.Coupon, error) {
	var c billing.Coupon
	var created int64
	if err := sc.Scan(&c.ID, &c.UserID, &c.Duration, &c.Amount, &c.Description, &c.Type, &c.Status, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

func (q *queries) CreateCoupon(ctx context.Context, c *billing.Coupon) error {
	q.stamp(&c.ID, &c.CreatedAt, nil)
	_, err := q.w.ExecContext(ctx, `INSERT INTO coupons (`+couponCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.UserID, c.Duration, c.Amount, c.Description, c.Type, c.Status, micros(c.CreatedAt))
	if err != nil {
		return q.writeErr(err, "coupon", c.ID)
	}
	return nil
}

func (q *queries) GetCoupon(ctx context.Context, id string) (*billing.Coupon, error) {
	c, err := scanCoupon(q.r.QueryRowContext(ctx, `SELECT `+couponCols+` FROM coupons WHERE id = $1`, id))
	if err != nil {
		return nil, readErr(err, "coupon", id)
	}
	return c, nil
}

func (q *queries) ListCoupons(ctx context.Context, userID string) ([]*billing.Coupon, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+couponCols+` FROM coupons WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list coupons of %s", userID)
	}
	return collect(rows, scanCoupon, "coupons of "+userID)
}

func (q *queries) DeleteCoupon(ctx context.Context, id string) error {
	var got string
	if err := q.w.QueryRowContext(ctx, `DELETE FROM coupons WHERE id = $1 RETURNING id`, id).Scan(&got); err != nil {
		return q.writeErr(err, "coupon", id)
	}
	return nil
}
