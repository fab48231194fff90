package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
)

// authenticate is a password login that opens nothing, from source.
func authenticate(svc *login.Service, ctx context.Context, name, password, source string) (*core.User, error) {
	l, err := svc.LoginPassword(ctx, login.PasswordLogin{UserName: name, Password: password}, login.Origin{Face: "test", Source: source})
	if err != nil {
		return nil, err
	}
	return l.User, nil
}

// origin is where the tests' logins come from.
var origin = login.Origin{Face: "test", Source: "192.0.2.1"}

// issueToken is a password login that opens an API token.
func issueToken(svc *login.Service, ctx context.Context, in login.PasswordLogin) (*core.Token, string, error) {
	in.Opens = core.TokenAPI
	l, err := svc.LoginPassword(ctx, in, origin)
	if err != nil {
		return nil, "", err
	}
	return l.Token, l.Secret, nil
}

// validateToken is a login with an API token.
func validateToken(svc *login.Service, ctx context.Context, tok string) (*core.Token, *core.User, error) {
	l, err := svc.LoginToken(ctx, core.TokenAPI, tok, origin)
	if err != nil {
		return nil, nil, err
	}
	return l.Token, l.User, nil
}

// panelLogin is a password login that opens a panel session.
func panelLogin(svc *login.Service, ctx context.Context, name, password string) (string, error) {
	l, err := svc.LoginPassword(ctx, login.PasswordLogin{UserName: name, Password: password, Opens: core.TokenPanel}, origin)
	if err != nil {
		return "", err
	}
	return l.Secret, nil
}

// panelUser is a login with a panel session.
func panelUser(svc *login.Service, ctx context.Context, id string) (*core.User, error) {
	l, err := svc.LoginToken(ctx, core.TokenPanel, id, origin)
	if err != nil {
		return nil, err
	}
	return l.User, nil
}

// changeOwnPassword is Keystone's own-password change: the user by id and
// its current password.
func changeOwnPassword(svc *login.Service, ctx context.Context, userID, current, next string) error {
	_, err := svc.ChangePassword(ctx, login.PasswordLogin{UserID: userID, Password: current}, next, origin)
	return err
}

// brokerLogin is the broker's strict password login in the default domain.
func brokerLogin(name, password string) login.PasswordLogin {
	return login.PasswordLogin{UserName: name, Password: password, DomainID: core.DefaultDomainID, Strict: true}
}

// requestVM logs in as the broker's request-vm does and asks for a machine.
func requestVM(e *testenv.Env, ctx context.Context, in login.PasswordLogin, req handout.HandOutInput) (*core.Task, error) {
	in.Opens = core.TokenAPI
	l, err := e.Login.LoginPassword(ctx, in, origin)
	if err != nil {
		return nil, err
	}
	return e.HandOut.RequestMachine(core.WithActor(ctx, l.Actor), req)
}

// Every login entry point returns the actor core made of the user and the
// credential, with the face and address the caller gave.
func TestLoginActors(t *testing.T) {
	e := testenv.NewWith(t, testenv.Options{Config: core.Config{OperatorToken: "op-token"}})
	ctx := context.Background()
	bob := newMember(t, e, "bob")
	o := login.Origin{Face: "some-face", Source: "198.51.100.7"}
	member := core.Actor{UserID: bob.ID, Name: "bob", Role: core.RoleMember, Face: "some-face", Source: "198.51.100.7"}
	admin := core.Actor{UserID: e.Admin.ID, Name: testenv.AdminUser, Role: core.RoleAdmin, Face: "some-face", Source: "198.51.100.7"}

	basic, err := e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: "bob", Password: "bob-password"}, o)
	if err != nil || basic.Token != nil || basic.Secret != "" {
		t.Fatalf("a login that opens nothing = %+v, %v", basic, err)
	}
	api, err := e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: "bob", Password: "bob-password", Opens: core.TokenAPI}, o)
	if err != nil || api.Token == nil || api.Token.Kind != core.TokenAPI || api.Secret == "" {
		t.Fatalf("a login that opens an API token = %+v, %v", api, err)
	}
	byToken, err := e.Login.LoginToken(ctx, core.TokenAPI, api.Secret, o)
	if err != nil || byToken.Token.ID != api.Token.ID || byToken.User.ID != bob.ID {
		t.Fatalf("login by the token = %+v, %v", byToken, err)
	}
	adminTok := e.Token(t, testenv.AdminUser, testenv.AdminPassword)
	operator, err := e.Login.LoginOperator(ctx, "op-token", o)
	if err != nil {
		t.Fatal(err)
	}
	byAdminToken, err := e.Login.LoginOperator(ctx, "Bearer "+adminTok, o)
	if err != nil {
		t.Fatal(err)
	}
	satAdmin := admin
	satAdmin.Realm = core.RealmStorage
	for name, c := range map[string]struct{ got, want core.Actor }{
		"password":                  {basic.Actor, member},
		"password, opening a token": {api.Actor, member},
		"token":                     {byToken.Actor, member},
		"operator token":            {operator.Actor, core.Actor{Name: "satellite-admin", Role: core.RoleAdmin, Face: "some-face", Source: "198.51.100.7", Realm: core.RealmStorage}},
		"admin token as operator":   {byAdminToken.Actor, satAdmin},
	} {
		if d := cmp.Diff(c.want, c.got); d != "" {
			t.Errorf("%s: actor (-want +got):\n%s", name, d)
		}
	}
	// A member's token does not stand for the operator.
	if _, err := e.Login.LoginOperator(ctx, api.Secret, o); core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("member token as operator: %v", err)
	}
}

// One record, two kinds: a panel session is not an API token, nor the other
// way round; a panel session refused says nothing more than that.
func TestTokenKindsDoNotCross(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	sess, err := panelLogin(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	tok := e.Token(t, testenv.AdminUser, testenv.AdminPassword)
	_, err = e.Login.LoginToken(ctx, core.TokenAPI, sess, origin)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenInvalid)
	_, err = e.Login.LoginToken(ctx, core.TokenPanel, tok, origin)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenInvalid)
	if msg := core.ErrorMessage(err); msg != "the session is unknown or has expired" {
		t.Fatalf("panel refusal = %q", msg)
	}
	if _, err := panelUser(e.Login, ctx, sess); err != nil {
		t.Fatalf("the session itself: %v", err)
	}
	// Only an API token is scoped.
	_, err = e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: testenv.AdminUser, Password: testenv.AdminPassword,
		Opens: core.TokenPanel, Scope: login.ProjectScope{Name: "x"}}, origin)
	wantKind(t, err, core.KindInvalid)
}

// A panel session idle past its hour is refused, and the token sweep deletes
// it once it has been expired for a day, counted from its last use.
func TestPanelSessionIdleSweep(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	e := testenv.NewWith(t, testenv.Options{Clock: clk.Now})
	ctx := context.Background()
	idle, err := panelLogin(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	used, err := panelLogin(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		clk.Add(50 * time.Minute)
		if _, err := panelUser(e.Login, ctx, used); err != nil {
			t.Fatal(err)
		}
	}
	_, err = panelUser(e.Login, ctx, idle)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenExpired)
	clk.Add(24 * time.Hour)
	runPeriodic(t, e, login.KindTokenSweep)
	if _, err := e.Store.GetTokenByHash(ctx, core.TokenHash(idle)); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("the idle session was not swept: %v", err)
	}
	// The other expired an hour after its last use, less than a day ago.
	if _, err := e.Store.GetTokenByHash(ctx, core.TokenHash(used)); err != nil {
		t.Fatalf("the session idle for less than a day was swept: %v", err)
	}
	clk.Add(time.Hour + time.Minute)
	runPeriodic(t, e, login.KindTokenSweep)
	if _, err := e.Store.GetTokenByHash(ctx, core.TokenHash(used)); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("the session expired a day ago was not swept: %v", err)
	}
}

// A strict login that opens nothing (the broker's get-projects) is held to
// the password's age: it uses a grace login, audited, and says so.
func TestStrictLoginWithoutToken(t *testing.T) {
	e, c := policyEnv(t, core.Config{PasswordMaxAge: 24 * time.Hour, GraceLogins: 1})
	ctx := context.Background()
	newMember(t, e, "pat")
	c.Add(25 * time.Hour)
	l, err := e.Login.LoginPassword(ctx, brokerLogin("pat", "pat-password"), origin)
	if err != nil || l.Token != nil || core.ErrorReason(l.Notice) != login.ReasonGraceLogins {
		t.Fatalf("strict login = %+v, %v", l, err)
	}
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: ptr("user.grace_login")})
	if err != nil || len(evs) != 1 || evs[0].Actor != "pat" || evs[0].Face != "test" {
		t.Fatalf("grace login audit = %+v, %v", evs, err)
	}
	_, err = e.Login.LoginPassword(ctx, brokerLogin("pat", "pat-password"), origin)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonPasswordExpired)
	// The same password sent with each request is not held to its age.
	if _, err := authenticate(e.Login, ctx, "pat", "pat-password", "192.0.2.1"); err != nil {
		t.Fatalf("a login that is not strict: %v", err)
	}
}
