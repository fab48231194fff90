package billing

import (
	"context"
	"time"

	"hostdeck/core"
)

// CouponType is what a coupon is for; only promotional coupons (0) exist.
type CouponType int

// CouponStatus is where a coupon is in its life.
type CouponStatus int

const (
	CouponTypePromotional CouponType = 0

	CouponActive  CouponStatus = 0
	CouponUsed    CouponStatus = 1
	CouponExpired CouponStatus = 2
)

// Coupon is a credit given to a user for Duration billing cycles (calendar
// months from its creation). Amount is in cents. Status is stored as active or
// used; expired is computed (see Coupon.StatusAt).
type Coupon struct {
	ID          string       `json:"id"`
	UserID      string       `json:"user_id"`
	Duration    int          `json:"duration"`
	Amount      int64        `json:"amount"`
	Description string       `json:"description"`
	Type        CouponType   `json:"type"`
	Status      CouponStatus `json:"status"`
	CreatedAt   time.Time    `json:"created_at"`
}

// ExpiresAt is the end of the coupon's last billing cycle: Duration calendar
// months after its creation.
func (c *Coupon) ExpiresAt() time.Time { return c.CreatedAt.AddDate(0, c.Duration, 0) }

// StatusAt is the coupon's status at now: a stored status other than active
// stands; an active coupon whose billing cycles have passed is expired.
func (c *Coupon) StatusAt(now time.Time) CouponStatus {
	if c.Status == CouponActive && !now.Before(c.ExpiresAt()) {
		return CouponExpired
	}
	return c.Status
}

// Store is what billing keeps and reads, in one transaction or each call on
// its own.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations billing's use cases run: its coupons, the
// user a coupon is given to, and the audit trail.
type Queries interface {
	CouponStore
	GetUser(ctx context.Context, id string) (*core.User, error)
	core.Recorder
}

// CouponStore keeps coupons. Unknown ids are KindNotFound.
type CouponStore interface {
	CreateCoupon(ctx context.Context, c *Coupon) error
	GetCoupon(ctx context.Context, id string) (*Coupon, error)
	// ListCoupons lists a user's coupons, oldest first.
	ListCoupons(ctx context.Context, userID string) ([]*Coupon, error)
	DeleteCoupon(ctx context.Context, id string) error
}
