package login_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
)

// member creates an enabled member and returns it with a context acting as it.
func member(t testing.TB, e *testenv.Env, name, password string) (*core.User, context.Context) {
	t.Helper()
	u, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: &password, Email: core.Ptr(name + "@example.test")})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u, core.WithActor(context.Background(), login.ActorOf(u, testenv.Origin, ""))
}

func wantKind(t testing.TB, err error, kind core.Kind) {
	t.Helper()
	if got := core.ErrorKind(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}

var keySecret = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestKeys(t *testing.T) {
	e := testenv.New(t)
	alice, actx := member(t, e, "alice", "alice-password-1")
	_, bctx := member(t, e, "bob", "bob-password-1")

	k, sec, err := e.Login.CreateKey(actx, "deploy", "the deploy script")
	if err != nil {
		t.Fatal(err)
	}
	if !keySecret.MatchString(sec) || k.Hint != sec[:4] || k.Number <= 0 || k.Kind != core.TokenKey ||
		k.UserID != alice.ID || k.UserName != "alice" || k.Name != "deploy" || k.Description != "the deploy script" {
		t.Fatalf("CreateKey = %+v, %q", k, sec)
	}
	if k.Hash != core.TokenHash(sec) {
		t.Fatal("the key's hash is not its secret's")
	}
	_, _, err = e.Login.CreateKey(actx, "", "")
	wantKind(t, err, core.KindInvalid)
	_, _, err = e.Login.CreateKey(actx, "bad\nname", "")
	wantKind(t, err, core.KindInvalid)
	_, _, err = e.Login.CreateKey(actx, "long", strings.Repeat("x", login.MaxKeyDescriptionLen+1))
	wantKind(t, err, core.KindInvalid)
	_, _, err = e.Login.CreateKey(context.Background(), "nobody", "")
	wantKind(t, err, core.KindForbidden)

	// It logs its user in, as a key only.
	l, err := e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin)
	if err != nil {
		t.Fatal(err)
	}
	if l.User.ID != alice.ID || l.Actor.UserID != alice.ID || l.Token.ID != k.ID {
		t.Fatalf("key login: %+v", l)
	}
	_, err = e.Login.LoginToken(context.Background(), core.TokenAPI, sec, testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)
	_, err = e.Login.LoginToken(context.Background(), core.TokenKey, strings.Repeat("0", 40), testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)

	// A new password ends the user's API tokens, not its keys.
	api := e.Token(t, "alice", "alice-password-1")
	if err := e.Login.SetPassword(e.AdminCtx(), alice.ID, "alice-password-2"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Login.LoginToken(context.Background(), core.TokenAPI, api, testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)
	if _, err := e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin); err != nil {
		t.Fatalf("a key after a new password: %v", err)
	}

	// Lists: an admin sees every key, a user its own.
	k2, _, err := e.Login.CreateKey(actx, "backup", "")
	if err != nil {
		t.Fatal(err)
	}
	bk, bsec, err := e.Login.CreateKey(bctx, "deploy", "bob's")
	if err != nil {
		t.Fatal(err)
	}
	keyIDs := func(ks []*core.Token) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	list := func(ctx context.Context, f login.KeyFilter) []string {
		t.Helper()
		ks, total, err := e.Login.ListKeys(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(ks) {
			t.Fatalf("total %d of %d keys", total, len(ks))
		}
		for _, k := range ks {
			if k.UserName == "" || k.Hint == "" {
				t.Fatalf("a listed key without its user's name or hint: %+v", k)
			}
		}
		return keyIDs(ks)
	}
	same := func(got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("keys %v, want %v", got, want)
		}
	}
	same(list(e.AdminCtx(), login.KeyFilter{}), k.ID, k2.ID, bk.ID)
	same(list(actx, login.KeyFilter{}), k.ID, k2.ID)
	same(list(bctx, login.KeyFilter{}), bk.ID)
	same(list(e.AdminCtx(), login.KeyFilter{Name: core.Ptr("deploy")}), k.ID, bk.ID)
	same(list(actx, login.KeyFilter{Name: core.Ptr("deploy")}), k.ID)
	same(list(e.AdminCtx(), login.KeyFilter{Description: core.Ptr("bob's")}), bk.ID)
	same(list(e.AdminCtx(), login.KeyFilter{Value: &bsec}), bk.ID)
	same(list(actx, login.KeyFilter{Value: &bsec})) // another's secret finds nothing
	same(list(actx, login.KeyFilter{Value: core.Ptr("nope")}))
	same(list(e.AdminCtx(), login.KeyFilter{Page: core.Page{Sort: []string{"-number"}, Limit: 10}}), bk.ID, k2.ID, k.ID)

	// Another user's key is not found; its owner and admins find it.
	_, err = e.Login.GetKey(bctx, k.ID)
	wantKind(t, err, core.KindNotFound)
	got, err := e.Login.GetKey(actx, k.ID)
	if err != nil || got.ID != k.ID || got.UserName != "alice" {
		t.Fatalf("GetKey = %+v, %v", got, err)
	}
	got, err = e.Login.GetKeyByNumber(e.AdminCtx(), k2.Number)
	if err != nil || got.ID != k2.ID {
		t.Fatalf("GetKeyByNumber = %+v, %v", got, err)
	}
	_, err = e.Login.GetKeyByNumber(bctx, k2.Number)
	wantKind(t, err, core.KindNotFound)
	_, err = e.Login.GetKeyByNumber(actx, 0)
	wantKind(t, err, core.KindNotFound)
	_, err = e.Login.GetKey(actx, "not-an-id")
	wantKind(t, err, core.KindNotFound)

	up, err := e.Login.UpdateKey(actx, k.ID, core.Ptr("ci"), nil)
	if err != nil || up.Name != "ci" || up.Description != "the deploy script" {
		t.Fatalf("UpdateKey = %+v, %v", up, err)
	}
	_, err = e.Login.UpdateKey(bctx, k.ID, core.Ptr("mine"), nil)
	wantKind(t, err, core.KindNotFound)
	_, err = e.Login.UpdateKey(actx, k.ID, core.Ptr(""), nil)
	wantKind(t, err, core.KindInvalid)
	if up, err = e.Login.UpdateKey(e.AdminCtx(), k.ID, nil, core.Ptr("")); err != nil || up.Description != "" {
		t.Fatalf("admin UpdateKey = %+v, %v", up, err)
	}

	// Deleting a key refuses it at once, cached or not.
	wantKind(t, e.Login.DeleteKey(bctx, k.ID), core.KindNotFound)
	if _, err := e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin); err != nil {
		t.Fatal(err)
	}
	if err := e.Login.DeleteKey(actx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)
	wantKind(t, e.Login.DeleteKey(actx, k.ID), core.KindNotFound)
	if err := e.Login.DeleteKey(e.AdminCtx(), bk.ID); err != nil {
		t.Fatal(err)
	}

	// Audited, and no secret in the audit.
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{TargetType: core.Ptr("token")})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, ev := range evs {
		actions[ev.Action]++
		for _, s := range []string{sec, bsec, sec[4:]} {
			if strings.Contains(string(ev.Detail), s) {
				t.Fatalf("a secret in the audit: %s %s", ev.Action, ev.Detail)
			}
		}
	}
	if actions["token.create"] != 3 || actions["token.update"] != 2 || actions["token.delete"] != 2 {
		t.Fatalf("audit actions: %v", actions)
	}
}

// TestDisabledUser: disabling a user refuses its key, its API token and its
// password from the next call on, through the credential cache; enabling it
// lets them in again. Deleting it refuses its key.
func TestDisabledUser(t *testing.T) {
	e := testenv.New(t)
	u, uctx := member(t, e, "carol", "carol-password-1")
	_, sec, err := e.Login.CreateKey(uctx, "ci", "")
	if err != nil {
		t.Fatal(err)
	}
	api := e.Token(t, "carol", "carol-password-1")
	basic := login.PasswordLogin{UserName: "carol", Password: "carol-password-1"} // a password sent with every request
	check := func(want core.Kind) {
		t.Helper()
		for i := range 2 { // the second call answers from the cache
			_, err := e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin)
			wantKind(t, err, want)
			_, err = e.Login.LoginToken(context.Background(), core.TokenAPI, api, testenv.Origin)
			wantKind(t, err, want)
			_, err = e.Login.LoginPassword(context.Background(), basic, testenv.Origin)
			wantKind(t, err, want)
			_ = i
		}
	}
	check("")
	if _, err := e.Identity.UpdateUser(e.AdminCtx(), u.ID, identity.UserInput{Enabled: core.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	check(core.KindUnauthenticated)
	if _, err := e.Identity.UpdateUser(e.AdminCtx(), u.ID, identity.UserInput{Enabled: core.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	check("")
	if err := e.Identity.DeleteUser(e.AdminCtx(), u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Login.LoginToken(context.Background(), core.TokenKey, sec, testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)
}

// TestChangeOwnPassword: a user changes its own password with the original;
// a wrong original has a reason of its own; another's is forbidden.
func TestChangeOwnPassword(t *testing.T) {
	e := testenv.New(t)
	u, uctx := member(t, e, "dave", "dave-password-1")
	other, _ := member(t, e, "erin", "erin-password-1")
	err := e.Login.ChangeOwnPassword(uctx, u.ID, "wrong-password", "dave-password-2", testenv.Origin)
	wantKind(t, err, core.KindInvalid)
	if core.ErrorReason(err) != login.ReasonWrongPassword || core.ErrorField(err) != "original" {
		t.Fatalf("wrong original: reason %q field %q", core.ErrorReason(err), core.ErrorField(err))
	}
	wantKind(t, e.Login.ChangeOwnPassword(uctx, other.ID, "erin-password-1", "erin-password-2", testenv.Origin), core.KindForbidden)
	wantKind(t, e.Login.ChangeOwnPassword(uctx, u.ID, "dave-password-1", "short", testenv.Origin), core.KindInvalid)
	if err := e.Login.ChangeOwnPassword(uctx, u.ID, "dave-password-1", "dave-password-2", testenv.Origin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "dave", Password: "dave-password-2"}, testenv.Origin); err != nil {
		t.Fatal(err)
	}
	_, err = e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "dave", Password: "dave-password-1"}, testenv.Origin)
	wantKind(t, err, core.KindUnauthenticated)

	// ChangePassword, the login-shaped change, tells a wrong original by its reason too.
	_, err = e.Login.ChangePassword(context.Background(), login.PasswordLogin{UserName: "dave", Password: "nope-nope"}, "dave-password-3", testenv.Origin)
	if core.ErrorReason(err) != core.ReasonInvalidCredentials {
		t.Fatalf("ChangePassword with a wrong original: %v (reason %q)", err, core.ErrorReason(err))
	}
}
