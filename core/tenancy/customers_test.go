package tenancy_test

import (
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/billing"
	"hostdeck/core/login"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

func ptr[T any](v T) *T { return &v }

func wantReason(t *testing.T, err error, kind core.Kind, reason string) {
	t.Helper()
	if core.ErrorKind(err) != kind || core.ErrorReason(err) != reason {
		t.Fatalf("err = %v (kind %q, reason %q), want %q/%q", err, core.ErrorKind(err), core.ErrorReason(err), kind, reason)
	}
}

// TestCustomers creates, edits and deletes a customer, with the project limit
// of its profile enforced, and logs in as it.
func TestCustomers(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	in := tenancy.CustomerInput{Email: ptr("alice@mail.test"), FullName: ptr("Alice Test"), Password: ptr("secret-1")}
	u, err := e.Tenancy.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice@mail.test" || u.Role != core.RoleMember || u.Profile.ProjectLimit != tenancy.DefaultProjectLimit {
		t.Fatalf("user = %+v %+v", u.User, u.Profile)
	}
	stored, err := e.Store.GetUser(t.Context(), u.ID)
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Fatalf("stored hash %q, %v", stored.PasswordHash, err)
	}
	if _, err := e.Login.LoginPassword(t.Context(), login.PasswordLogin{UserName: "alice@mail.test", Password: "secret-1"}, testenv.Origin); err != nil {
		t.Fatalf("login with the satellite password: %v", err)
	}
	if _, err := e.Tenancy.CreateCustomer(ctx, in); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []tenancy.CustomerInput{
		{Email: ptr("not an email"), Password: ptr("secret-1")},
		{Email: ptr("bob@mail.test"), Password: ptr("short")},
		{Password: ptr("secret-1")},
		{Email: ptr("bob@mail.test")},
	} {
		if _, err := e.Tenancy.CreateCustomer(ctx, bad); core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	member := core.WithActor(t.Context(), core.Actor{UserID: u.ID, Name: u.Name, Role: core.RoleMember})
	if _, err := e.Tenancy.CreateCustomer(member, tenancy.CustomerInput{Email: ptr("c@mail.test"), Password: ptr("secret-1")}); core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("member creates a user: %v", err)
	}

	// The project limit is enforced.
	if _, err := e.Tenancy.UpdateCustomer(ctx, "alice@mail.test", tenancy.CustomerInput{ProjectLimit: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	p, err := e.Tenancy.CreateProject(ctx, u.ID, "first")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Tenancy.CreateProject(ctx, u.ID, "second")
	wantReason(t, err, core.KindConflict, quota.ReasonQuotaExceeded)
	// The owner may log in scoped to the project.
	if _, err := e.Login.LoginPassword(t.Context(), login.PasswordLogin{UserName: u.Name, Password: "secret-1", Scope: login.ProjectScope{ID: p.ID}, Opens: core.TokenAPI}, testenv.Origin); err != nil {
		t.Fatalf("scoped login: %v", err)
	}
	if err := e.Tenancy.DeleteCustomer(ctx, "alice@mail.test"); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("delete an owner: %v", err)
	}
	if err := e.Tenancy.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Tenancy.DeleteCustomer(ctx, "alice@mail.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.GetUserProfile(t.Context(), u.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("profile left behind: %v", err)
	}
	events, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{TargetID: &u.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"satellite.user.create", "satellite.user.update", "satellite.user.delete"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit of %s missing: %v", want, actions)
		}
	}
}

// TestAccountCoupons shows a customer's coupons with their status now, and
// deletes them with the customer.
func TestAccountCoupons(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	e := testenv.NewWith(t, testenv.Options{Clock: clk.Now})
	ctx := e.AdminCtx()
	u, err := e.Tenancy.CreateCustomer(ctx, tenancy.CustomerInput{Email: ptr("dave@mail.test"), Password: ptr("secret-1")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Billing.CreateCoupon(ctx, billing.CouponInput{UserID: u.ID, Duration: 1, Amount: 500, Description: "trial"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)) // its one billing cycle is over
	acc, err := e.Tenancy.Account(ctx, "dave@mail.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Coupons) != 1 || acc.Coupons[0].ID != c.ID || acc.Coupons[0].Status != billing.CouponExpired {
		t.Fatalf("coupons = %+v", acc.Coupons)
	}
	if err := e.Tenancy.DeleteCustomer(ctx, "dave@mail.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.GetCoupon(t.Context(), c.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("coupon left behind: %v", err)
	}
}
