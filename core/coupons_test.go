package core_test

import (
	"testing"
	"time"

	"hostdeck/core"
)

func TestCouponStatus(t *testing.T) {
	created := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		duration int
		stored   core.CouponStatus
		now      time.Time
		want     core.CouponStatus
	}{
		{2, core.CouponActive, created, core.CouponActive},
		{2, core.CouponActive, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), core.CouponActive},
		// Jan 31 + 2 months normalises to Mar 31 (AddDate): expired from then on.
		{2, core.CouponActive, time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), core.CouponExpired},
		{1, core.CouponActive, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), core.CouponExpired},
		{1, core.CouponUsed, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), core.CouponUsed},
	} {
		c := &core.Coupon{Duration: tc.duration, Status: tc.stored, CreatedAt: created}
		if got := c.StatusAt(tc.now); got != tc.want {
			t.Errorf("duration %d stored %d at %s: %d, want %d", tc.duration, tc.stored, tc.now, got, tc.want)
		}
	}
}
