package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
	"hostdeck/core/billing"
)

func testCoupons(t *testing.T, st Store) {
	ctx := context.Background()
	s, isBilling := st.(billing.Store)
	if !isBilling {
		t.Fatalf("%T is no billing.Store", st)
	}
	c1 := &billing.Coupon{UserID: "u1", Duration: 2, Amount: 3000, Description: "promo", CreatedAt: base}
	c2 := &billing.Coupon{UserID: "u1", Duration: 1, Amount: 10, Description: "used", Status: billing.CouponUsed, CreatedAt: base.Add(1)}
	c3 := &billing.Coupon{UserID: "u2", Duration: 1, Amount: 10, Description: "other", CreatedAt: base}
	for _, c := range []*billing.Coupon{c1, c2, c3} {
		ok(t, s.CreateCoupon(ctx, c))
	}
	got, err := s.GetCoupon(ctx, c1.ID)
	ok(t, err)
	diff(t, c1, got)
	list, err := s.ListCoupons(ctx, "u1")
	ok(t, err)
	diff(t, []*billing.Coupon{c1, c2}, list)
	wantKind(t, s.CreateCoupon(ctx, &billing.Coupon{ID: c1.ID, UserID: "u1"}), core.KindConflict)

	ok(t, s.DeleteCoupon(ctx, c1.ID))
	_, err = s.GetCoupon(ctx, c1.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteCoupon(ctx, c1.ID), core.KindNotFound)
}
