package billing_test

import (
	"testing"

	"hostdeck/core"
	"hostdeck/core/billing"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

// TestCoupons gives a customer a coupon, reads it back and deletes it; a
// coupon for an account that is no customer's (the administrator's) is not
// given, as for an unknown user.
func TestCoupons(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	email, password := "carol@mail.test", "secret-1"
	u, err := e.Tenancy.CreateCustomer(ctx, tenancy.CustomerInput{Email: &email, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	in := billing.CouponInput{UserID: u.ID, Duration: 2, Amount: 3000, Description: "welcome"}
	c, err := e.Billing.CreateCoupon(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Billing.GetCoupon(ctx, c.ID)
	if err != nil || got.UserID != u.ID || got.Amount != 3000 || got.Status != billing.CouponActive {
		t.Fatalf("coupon = %+v, %v", got, err)
	}
	for name, userID := range map[string]string{"administrator": e.Admin.ID, "unknown": core.NewID()} {
		in.UserID = userID
		if _, err := e.Billing.CreateCoupon(ctx, in); core.ErrorKind(err) != core.KindNotFound {
			t.Errorf("coupon for the %s: %v", name, err)
		}
	}
	if err := e.Billing.DeleteCoupon(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Billing.GetCoupon(ctx, c.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("deleted coupon: %v", err)
	}
	if _, err := e.Billing.GetCoupon(ctx, "not-a-uuid"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("bad id: %v", err)
	}
}
