package core_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

// countingHasher is argon2id at test cost that counts the hashes it verifies.
type countingHasher struct {
	secret.Hasher
	verified atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	h.verified.Add(1)
	return h.Hasher.Verify(ctx, password, hash)
}

func newCounted(t *testing.T) (*testenv.Env, *countingHasher, *testenv.Clock) {
	h := &countingHasher{Hasher: secret.Hasher{Params: secret.TestParams}}
	clk := testenv.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	return testenv.NewWith(t, testenv.Options{Hasher: h, Clock: clk.Now}), h, clk
}

// burst sends n wrong passwords at once against name, the i-th from
// source(i), and counts the answers by kind.
func burst(t *testing.T, e *testenv.Env, name string, n int, source func(int) string) map[core.Kind]int {
	t.Helper()
	var mu sync.Mutex
	kinds := map[core.Kind]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := authenticate(e.Login, context.Background(), name, fmt.Sprintf("wrong-%d", i), source(i))
			if k := core.ErrorKind(err); k == core.KindTooMany && core.ErrorRetryAfter(err) < 1 {
				t.Errorf("429 without a wait: %v", err)
			}
			mu.Lock()
			kinds[core.ErrorKind(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return kinds
}

// A burst of wrong passwords from one address gets at most the free attempts
// checked; the rest are refused before any hash is computed. Another address
// still logs in.
func TestLoginBurstFromOneAddress(t *testing.T) {
	e, h, _ := newCounted(t)
	kinds := burst(t, e, testenv.AdminUser, 300, func(int) string { return "192.0.2.1" })
	hashed := h.verified.Load()
	t.Logf("reliability: 300 concurrent wrong passwords from one address: %d checked (hashed), %d refused with 429", hashed, kinds[core.KindTooMany])
	if hashed > 5 || kinds[core.KindUnauthenticated] != int(hashed) || kinds[core.KindTooMany] != 300-int(hashed) {
		t.Fatalf("hashed %d, answers %v: want at most 5 checked and the rest refused", hashed, kinds)
	}
	if _, err := authenticate(e.Login, context.Background(), testenv.AdminUser, testenv.AdminPassword, "192.0.2.1"); core.ErrorKind(err) != core.KindTooMany {
		t.Fatalf("the right password from the blocked address: %v, want too_many", err)
	}
	if _, err := authenticate(e.Login, context.Background(), testenv.AdminUser, testenv.AdminPassword, "192.0.2.2"); err != nil {
		t.Fatalf("the right password from another address: %v", err)
	}
}

// An attack spread over many addresses is slowed per account: past the
// account's free failures, new addresses get one check a second between them,
// and addresses that failed are refused. The owner logs in from an address it
// used before at once, and from a new one once its second has come.
func TestLoginBurstFromManyAddresses(t *testing.T) {
	e, h, clk := newCounted(t)
	ctx := context.Background()
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword, "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	h.verified.Store(0)
	kinds := burst(t, e, testenv.AdminUser, 300, func(i int) string { return fmt.Sprintf("10.1.%d.%d", i/250, i%250) })
	hashed := h.verified.Load()
	t.Logf("reliability: 300 concurrent wrong passwords from 300 addresses: %d checked, %d refused", hashed, kinds[core.KindTooMany])
	if hashed > 21 || kinds[core.KindTooMany] < 279 {
		t.Fatalf("hashed %d, answers %v: want at most 21 checked (20 free, then one a second)", hashed, kinds)
	}
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword, "198.51.100.1"); err != nil {
		t.Fatalf("the owner from a known address: %v", err)
	}
	// Again under attack; a new address waits for its second.
	burst(t, e, testenv.AdminUser, 30, func(i int) string { return fmt.Sprintf("10.2.0.%d", i) })
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, "wrong", "10.2.0.1"); core.ErrorKind(err) != core.KindTooMany {
		t.Fatalf("an address that failed, again: %v", err)
	}
	clk.Add(time.Second)
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword, "203.0.113.9"); err != nil {
		t.Fatalf("the owner from a new address after a second: %v", err)
	}
}

// The same password checked many times at once is one hash: a client's first
// burst of Basic-auth requests is not throttled.
func TestLoginSameCredentialsShareOneCheck(t *testing.T) {
	e, h, _ := newCounted(t)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 50 {
		wg.Go(func() {
			if _, err := authenticate(e.Login, context.Background(), testenv.AdminUser, testenv.AdminPassword, "192.0.2.7"); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || h.verified.Load() > 5 {
		t.Fatalf("%d of 50 failed, %d hashes", failed.Load(), h.verified.Load())
	}
}

// A burst of right passwords of different users from one address (a
// classroom behind one NAT address) waits in line and logs in, every one.
func TestLoginBurstOfRightPasswordsFromOneAddress(t *testing.T) {
	e, h, _ := newCounted(t)
	for i := range 30 {
		if _, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: ptr(fmt.Sprintf("student%d", i)), Password: ptr("student-password")}); err != nil {
			t.Fatal(err)
		}
	}
	h.verified.Store(0)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 30 {
		wg.Go(func() {
			if _, err := authenticate(e.Login, context.Background(), fmt.Sprintf("student%d", i), "student-password", "192.0.2.8"); err != nil {
				t.Error(err)
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || h.verified.Load() != 30 {
		t.Fatalf("%d of 30 refused, %d hashes", failed.Load(), h.verified.Load())
	}
}

// An unknown or disabled user costs the same work as a wrong password: one
// hash verified, so timing does not tell which names exist.
func TestLoginUnknownUserCostsAHash(t *testing.T) {
	e, h, _ := newCounted(t)
	ctx := e.AdminCtx()
	u, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: ptr("off"), Password: ptr("off-password"), Enabled: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{testenv.AdminUser, "nobody", u.Name, "\x00bad", string(make([]byte, 100_000))} {
		before := h.verified.Load()
		_, err := authenticate(e.Login, context.Background(), name, "wrong-password", fmt.Sprintf("192.0.2.%d", 10+i))
		wantKind(t, err, core.KindUnauthenticated)
		if n := h.verified.Load() - before; n != 1 {
			t.Errorf("login as %.20q verified %d hashes, want 1", name, n)
		}
	}
}

// A new password ends every token the old one opened, on every face; the
// token issued after the change works.
func TestPasswordChangeEndsTokens(t *testing.T) {
	e, _, clk := newCounted(t)
	ctx := e.AdminCtx()
	u, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: ptr("pat"), Password: ptr("pat-password-1")})
	if err != nil {
		t.Fatal(err)
	}
	token := func(pw string) string {
		t.Helper()
		_, tok, err := issueToken(e.Login, context.Background(), login.PasswordLogin{UserName: "pat", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	session := func(pw string) string {
		t.Helper()
		id, err := panelLogin(e.Login, context.Background(), "pat", pw)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	cur := "pat-password-1"
	for i, change := range []struct {
		name string
		do   func(next string) error
	}{
		{"UpdateUser", func(next string) error {
			_, err := e.Identity.UpdateUser(ctx, u.ID, identity.UserInput{Password: &next})
			return err
		}},
		{"SetPassword", func(next string) error { return e.Login.SetPassword(ctx, u.ID, next) }},
		{"ChangeOwnPassword", func(next string) error {
			return changeOwnPassword(e.Login, context.Background(), u.ID, cur, next)
		}},
	} {
		tok, sess := token(cur), session(cur)
		clk.Add(time.Millisecond)
		next := fmt.Sprintf("pat-password-%d", i+2)
		if err := change.do(next); err != nil {
			t.Fatalf("%s: %v", change.name, err)
		}
		if _, _, err := validateToken(e.Login, context.Background(), tok); core.ErrorReason(err) != login.ReasonTokenRevoked {
			t.Fatalf("%s: the old token: %v, want revoked", change.name, err)
		}
		if _, err := panelUser(e.Login, context.Background(), sess); core.ErrorKind(err) != core.KindUnauthenticated {
			t.Fatalf("%s: the old session: %v, want it ended", change.name, err)
		}
		cur = next
		clk.Add(time.Millisecond)
		if _, _, err := validateToken(e.Login, context.Background(), token(cur)); err != nil {
			t.Fatalf("%s: a token of the new password: %v", change.name, err)
		}
	}
}

// A panel session ends after an hour idle, and after PanelSessionMax
// however often it is used.
func TestPanelSessionAbsoluteLifetime(t *testing.T) {
	e, _, clk := newCounted(t)
	id, err := panelLogin(e.Login, context.Background(), testenv.AdminUser, testenv.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	for used := time.Duration(0); used < core.PanelSessionMax-time.Hour; used += 50 * time.Minute {
		clk.Add(50 * time.Minute)
		if _, err := panelUser(e.Login, context.Background(), id); err != nil {
			t.Fatalf("used after %v: %v", used, err)
		}
	}
	clk.Add(time.Hour)
	if _, err := panelUser(e.Login, context.Background(), id); core.ErrorKind(err) != core.KindUnauthenticated {
		t.Fatalf("past %v: %v", core.PanelSessionMax, err)
	}
}

// One password policy: every use case that sets a password refuses what
// CheckPassword refuses.
func TestOnePasswordPolicy(t *testing.T) {
	e, _, _ := newCounted(t)
	ctx := e.AdminCtx()
	satCtx := core.WithActor(context.Background(), core.Actor{Name: "satellite-admin", Role: core.RoleAdmin, Realm: core.RealmStorage})
	sat, err := e.Tenancy.CreateCustomer(satCtx, tenancy.CustomerInput{Email: ptr("s@mail.test"), Password: ptr("sat-password")})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"short12", "eight\x00ch", "new\nline-pass", string(make([]rune, 257))} {
		for name, set := range map[string]func() error{
			"CreateUser": func() error {
				_, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: ptr("u1"), Password: &bad})
				return err
			},
			"UpdateUser": func() error {
				_, err := e.Identity.UpdateUser(ctx, e.Admin.ID, identity.UserInput{Password: &bad})
				return err
			},
			"SetPassword": func() error { return e.Login.SetPassword(ctx, e.Admin.ID, bad) },
			"CreateSatelliteUser": func() error {
				_, err := e.Tenancy.CreateCustomer(satCtx, tenancy.CustomerInput{Email: ptr("t@mail.test"), Password: &bad})
				return err
			},
			"UpdateSatelliteUser": func() error {
				_, err := e.Tenancy.UpdateCustomer(satCtx, sat.Name, tenancy.CustomerInput{Password: &bad})
				return err
			},
			"ChangeOwnPassword": func() error {
				return changeOwnPassword(e.Login, context.Background(), e.Admin.ID, testenv.AdminPassword, bad)
			},
		} {
			if err := set(); core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != "password" {
				t.Errorf("%s(%.12q): %v, want invalid password", name, bad, err)
			}
		}
	}
}

// BenchmarkLoginWrongPassword is a failed login at production argon2id cost:
// for a real user (the anchor), for an unknown one and for a disabled one. The
// three take the same time, so timing does not tell which names exist. Each op
// comes from its own address two seconds after the last, so that the login
// guard never refuses one.
func BenchmarkLoginWrongPassword(b *testing.B) {
	clk := testenv.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	e := testenv.NewWith(b, testenv.Options{Hasher: secret.Hasher{Params: secret.DefaultParams}, Clock: clk.Now})
	if _, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: ptr("off"), Password: ptr("off-password"), Enabled: ptr(false)}); err != nil {
		b.Fatal(err)
	}
	i := 0 // addresses are never used twice
	for _, name := range []string{testenv.AdminUser, "nobody", "off"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				i++
				clk.Add(2 * time.Second)
				_, err := authenticate(e.Login, context.Background(), name, "wrong-password", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
				if core.ErrorKind(err) != core.KindUnauthenticated {
					b.Fatal(err)
				}
			}
		})
	}
}
