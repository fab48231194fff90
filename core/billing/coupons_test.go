package billing_test

import (
	"testing"
	"time"

	"hostdeck/core/billing"
)

func TestCouponStatus(t *testing.T) {
	created := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		duration int
		stored   billing.CouponStatus
		now      time.Time
		want     billing.CouponStatus
	}{
		{2, billing.CouponActive, created, billing.CouponActive},
		{2, billing.CouponActive, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), billing.CouponActive},
		// Jan 31 + 2 months normalises to Mar 31 (AddDate): expired from then on.
		{2, billing.CouponActive, time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), billing.CouponExpired},
		{1, billing.CouponActive, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), billing.CouponExpired},
		{1, billing.CouponUsed, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), billing.CouponUsed},
	} {
		c := &billing.Coupon{Duration: tc.duration, Status: tc.stored, CreatedAt: created}
		if got := c.StatusAt(tc.now); got != tc.want {
			t.Errorf("duration %d stored %d at %s: %d, want %d", tc.duration, tc.stored, tc.now, got, tc.want)
		}
	}
}
