package billing

import (
	"context"
	"strings"

	"hostdeck/core"
)

// This file holds coupons (spec 003): credits given to a customer account for
// a number of billing cycles.

// CouponInput is what creates a coupon.
type CouponInput struct {
	UserID      string
	Duration    int
	Amount      int64
	Description string
}

func couponNotFound(id string) error {
	return core.Errorf(core.KindNotFound, "coupon %s does not exist", id)
}

// CreateCoupon gives a user a promotional coupon (admins only). Each missing
// field is its own KindInvalid; an unknown user is KindNotFound.
func (s *Service) CreateCoupon(ctx context.Context, in CouponInput) (*Coupon, error) {
	if err := s.Check(ctx, core.ActionCouponCreate, core.Resource{Type: core.ResourceCoupon}); err != nil {
		return nil, err
	}
	switch {
	case in.UserID == "":
		return nil, core.Invalid("user_id", "user_id is not set")
	case in.Duration == 0:
		return nil, core.Invalid("duration", "duration is not set")
	case in.Amount == 0:
		return nil, core.Invalid("amount", "amount is not set")
	case strings.TrimSpace(in.Description) == "":
		return nil, core.Invalid("description", "description is not set")
	case in.Duration < 0:
		return nil, core.Invalid("duration", "duration must be positive")
	case in.Amount < 0:
		return nil, core.Invalid("amount", "amount must be positive")
	case !core.ValidID(in.UserID):
		return nil, core.Invalid("user_id", "user_id is not a valid UUID")
	}
	if err := core.CheckText("description", in.Description, core.MaxTextLen); err != nil {
		return nil, err
	}
	c := &Coupon{ID: core.NewID(), UserID: in.UserID, Duration: in.Duration, Amount: in.Amount, Description: in.Description,
		Type: CouponTypePromotional, Status: CouponActive, CreatedAt: s.Now().UTC()}
	err := s.change(ctx, func(q Queries) error {
		if _, err := core.RealmUser(ctx, q, core.RealmStorage, in.UserID); err != nil {
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
	if err := s.Check(ctx, core.ActionCouponView, core.On(core.ResourceCoupon, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, couponNotFound(id)
	}
	c, err := s.store.GetCoupon(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
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
	if err := s.Check(ctx, core.ActionCouponDelete, core.On(core.ResourceCoupon, id)); err != nil {
		return err
	}
	if !core.ValidID(id) {
		return couponNotFound(id)
	}
	return s.change(ctx, func(q Queries) error {
		if err := q.DeleteCoupon(ctx, id); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return couponNotFound(id)
			}
			return err
		}
		return s.Audit(ctx, q, "satellite.coupon.delete", "coupon", id, nil)
	})
}
