package core

import (
	"context"
	"strings"
	"time"
)

// This file holds coupons (spec 003): credits given to a customer account for
// a number of billing cycles.

// CouponType is what a coupon is for; the document knows only promotional ones (0).
type CouponType int

// CouponStatus is where a coupon is in its life, as the document numbers it.
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
	UserID      string       `json:"userId"`
	Duration    int          `json:"duration"`
	Amount      int64        `json:"amount"`
	Description string       `json:"description"`
	Type        CouponType   `json:"type"`
	Status      CouponStatus `json:"status"`
	CreatedAt   time.Time    `json:"created"`
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

// CouponStore keeps coupons. Unknown ids are KindNotFound.
type CouponStore interface {
	CreateCoupon(ctx context.Context, c *Coupon) error
	GetCoupon(ctx context.Context, id string) (*Coupon, error)
	// ListCoupons lists a user's coupons, oldest first.
	ListCoupons(ctx context.Context, userID string) ([]*Coupon, error)
	DeleteCoupon(ctx context.Context, id string) error
}

// CouponInput is what creates a coupon.
type CouponInput struct {
	UserID      string
	Duration    int
	Amount      int64
	Description string
}

func couponNotFound(id string) error {
	return Errorf(KindNotFound, "coupon %s does not exist", id)
}

// CreateCoupon gives a user a promotional coupon (admins only). Each missing
// field is its own KindInvalid; an unknown user is KindNotFound.
func (s *Service) CreateCoupon(ctx context.Context, in CouponInput) (*Coupon, error) {
	if err := s.Check(ctx, ActionCouponCreate, Resource{Type: ResourceCoupon}); err != nil {
		return nil, err
	}
	switch {
	case in.UserID == "":
		return nil, Invalid("userId", "user ID is not set")
	case in.Duration == 0:
		return nil, Invalid("duration", "duration is not set")
	case in.Amount == 0:
		return nil, Invalid("amount", "amount is not set")
	case strings.TrimSpace(in.Description) == "":
		return nil, Invalid("description", "description is not set")
	case in.Duration < 0:
		return nil, Invalid("duration", "duration must be positive")
	case in.Amount < 0:
		return nil, Invalid("amount", "amount must be positive")
	case !ValidID(in.UserID):
		return nil, Invalid("userId", "user ID is not a valid UUID")
	}
	if err := CheckText("description", in.Description, MaxTextLen); err != nil {
		return nil, err
	}
	c := &Coupon{ID: NewID(), UserID: in.UserID, Duration: in.Duration, Amount: in.Amount, Description: in.Description,
		Type: CouponTypePromotional, Status: CouponActive, CreatedAt: s.Now().UTC()}
	err := s.Change(ctx, func(q Queries) error {
		if _, err := RealmUser(ctx, q, RealmSatellite, in.UserID); err != nil {
			return err
		}
		if err := q.CreateCoupon(ctx, c); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.coupon.create", "coupon", c.ID, map[string]any{"user_id": c.UserID, "duration": c.Duration, "amount": c.Amount})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetCoupon returns a coupon with its status now (admins only).
func (s *Service) GetCoupon(ctx context.Context, id string) (*Coupon, error) {
	if err := s.Check(ctx, ActionCouponView, On(ResourceCoupon, id)); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, couponNotFound(id)
	}
	c, err := s.store.GetCoupon(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, couponNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	c.Status = c.StatusAt(s.Now())
	return c, nil
}

// DeleteCoupon deletes a coupon (admins only).
func (s *Service) DeleteCoupon(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionCouponDelete, On(ResourceCoupon, id)); err != nil {
		return err
	}
	if !ValidID(id) {
		return couponNotFound(id)
	}
	return s.Change(ctx, func(q Queries) error {
		if err := q.DeleteCoupon(ctx, id); err != nil {
			if ErrorKind(err) == KindNotFound {
				return couponNotFound(id)
			}
			return err
		}
		return s.Audit(ctx, q, "satellite.coupon.delete", "coupon", id, nil)
	})
}
