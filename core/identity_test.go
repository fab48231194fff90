package core_test

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
)

func wantReason(t *testing.T, err error, kind core.Kind, reason string) {
	t.Helper()
	if core.ErrorKind(err) != kind || core.ErrorReason(err) != reason {
		t.Fatalf("err = %v (kind %q, reason %q), want %q/%q", err, core.ErrorKind(err), core.ErrorReason(err), kind, reason)
	}
}

func newMember(t *testing.T, e *testenv.Env, name string) *core.User {
	t.Helper()
	pw := name + "-password"
	u, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func newProject(t *testing.T, e *testenv.Env, name string) *core.Project {
	t.Helper()
	p := &core.Project{Name: name}
	if err := e.Store.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenLifecycle(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	e := testenv.NewWith(t, testenv.Options{Clock: clk.Now, Config: core.Config{TokenTTL: 30 * time.Minute}})
	ctx := context.Background()

	tok, secret, err := issueToken(e.Login, ctx, login.PasswordLogin{UserName: testenv.AdminUser, DomainName: "Default", Password: testenv.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresAt.Sub(tok.IssuedAt) != 30*time.Minute || tok.ProjectID != "" || len(secret) < 40 {
		t.Fatalf("token = %+v", tok)
	}
	got, u, err := validateToken(e.Login, ctx, secret)
	if err != nil || got.ID != tok.ID || u.ID != e.Admin.ID {
		t.Fatalf("validate = %+v %+v %v", got, u, err)
	}

	// Only the hash is stored: the secret does not find the row, its hash does.
	if _, err := e.Store.GetTokenByHash(ctx, secret); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("token found by its secret: %v", err)
	}
	stored, err := e.Store.GetTokenByHash(ctx, core.TokenHash(secret))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Hash == secret || stored.Hash != core.TokenHash(secret) {
		t.Fatalf("stored hash = %q", stored.Hash)
	}

	// Expiry follows the injected clock.
	clk.Add(29 * time.Minute)
	if _, _, err := validateToken(e.Login, ctx, secret); err != nil {
		t.Fatalf("token expired early: %v", err)
	}
	clk.Add(time.Minute)
	_, _, err = validateToken(e.Login, ctx, secret)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenExpired)

	// Revocation.
	_, secret2, err := issueToken(e.Login, ctx, login.PasswordLogin{UserName: testenv.AdminUser, DomainID: "default", Password: testenv.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Login.RevokeToken(e.AdminCtx(), secret2); err != nil {
		t.Fatal(err)
	}
	_, _, err = validateToken(e.Login, ctx, secret2)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenRevoked)
	_, _, err = validateToken(e.Login, ctx, "nonsense")
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenInvalid)
	wantReason(t, e.Login.RevokeToken(e.AdminCtx(), "nonsense"), core.KindNotFound, login.ReasonTokenInvalid)

	// The periodic sweep keeps an expired token a day, then deletes it.
	runPeriodic(t, e, login.KindTokenSweep)
	if _, err := e.Store.GetTokenByHash(ctx, core.TokenHash(secret)); err != nil {
		t.Fatalf("token expired an hour ago swept: %v", err)
	}
	clk.Add(25 * time.Hour)
	if got := runPeriodic(t, e, login.KindTokenSweep).(map[string]int); got["deleted"] < 1 {
		t.Fatalf("sweep = %v", got)
	}
	if _, err := e.Store.GetTokenByHash(ctx, core.TokenHash(secret)); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("expired token not swept: %v", err)
	}

	// Issuing and revoking are audited.
	events, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: ptr("token.issue")})
	if err != nil || len(events) != 2 || events[0].Actor != testenv.AdminUser {
		t.Fatalf("audit = %+v %v", events, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTokenLoginErrors(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	bob := newMember(t, e, "bob")
	_, _, err := issueToken(e.Login, ctx, login.PasswordLogin{UserName: "bob", DomainName: "Default", Password: "wrong-password"})
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	_, _, err = issueToken(e.Login, ctx, login.PasswordLogin{UserName: "nobody", DomainName: "Default", Password: "whatever-1"})
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	_, _, err = issueToken(e.Login, ctx, login.PasswordLogin{UserName: "bob", DomainName: "Nowhere", Password: "bob-password"})
	wantReason(t, err, core.KindUnauthenticated, core.ReasonDomainNotFound)
	if p := core.ErrorParams(err); p["domain_name"] != "Nowhere" {
		t.Fatalf("params = %v", p)
	}
	// By id, without a domain.
	if _, _, err := issueToken(e.Login, ctx, login.PasswordLogin{UserID: bob.ID, Password: "bob-password"}); err != nil {
		t.Fatal(err)
	}
	// A disabled user cannot log in, and its tokens stop working.
	_, secret, err := issueToken(e.Login, ctx, login.PasswordLogin{UserName: "bob", DomainName: "Default", Password: "bob-password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Identity.UpdateUser(e.AdminCtx(), bob.ID, identity.UserInput{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	_, _, err = validateToken(e.Login, ctx, secret)
	wantReason(t, err, core.KindUnauthenticated, login.ReasonTokenInvalid)
	_, _, err = issueToken(e.Login, ctx, login.PasswordLogin{UserName: "bob", DomainName: "Default", Password: "bob-password"})
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
}

func TestTokenProjectScope(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	alice := newMember(t, e, "alice")
	p := newProject(t, e, "course")
	req := login.PasswordLogin{UserName: "alice", DomainName: "Default", Password: "alice-password", Scope: login.ProjectScope{ID: p.ID}}
	_, _, err := issueToken(e.Login, ctx, req)
	wantReason(t, err, core.KindUnauthenticated, core.ReasonProjectForbidden)

	if err := e.Identity.GrantProjectRole(e.AdminCtx(), p.ID, alice.ID, core.RoleMember); err != nil {
		t.Fatal(err)
	}
	tok, secret, err := issueToken(e.Login, ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ProjectID != p.ID || len(tok.Roles) != 1 || tok.Roles[0] != core.RoleMember {
		t.Fatalf("token = %+v", tok)
	}
	got, _, err := validateToken(e.Login, ctx, secret)
	if err != nil || got.ProjectID != p.ID || len(got.Roles) != 1 {
		t.Fatalf("validate = %+v %v", got, err)
	}
	// By name and domain.
	byName := login.PasswordLogin{UserName: "alice", DomainName: "Default", Password: "alice-password", Scope: login.ProjectScope{Name: "course", DomainID: "default"}}
	if tok, _, err := issueToken(e.Login, ctx, byName); err != nil || tok.ProjectID != p.ID {
		t.Fatalf("scope by name = %+v %v", tok, err)
	}
	byName.Scope.Name = "nope"
	_, _, err = issueToken(e.Login, ctx, byName)
	wantReason(t, err, core.KindUnauthenticated, core.ReasonProjectNotFound)

	// An admin needs no grant.
	tok, _, err = issueToken(e.Login, ctx, login.PasswordLogin{UserName: testenv.AdminUser, DomainName: "Default", Password: testenv.AdminPassword, Scope: login.ProjectScope{ID: p.ID}})
	if err != nil || len(tok.Roles) != 1 || tok.Roles[0] != core.RoleAdmin {
		t.Fatalf("admin scope = %+v %v", tok, err)
	}
	roles, err := e.Identity.ProjectRoles(e.AdminCtx(), p.ID, alice.ID)
	if err != nil || len(roles) != 1 {
		t.Fatalf("roles = %v %v", roles, err)
	}
	wantKind(t, e.Identity.GrantProjectRole(e.AdminCtx(), p.ID, alice.ID, "owner"), core.KindNotFound)
	wantKind(t, e.Identity.GrantProjectRole(e.AdminCtx(), "0190b6c4-6d5a-7000-8000-0000000000ff", alice.ID, core.RoleMember), core.KindNotFound)
}

func TestUserAdministration(t *testing.T) {
	e := testenv.New(t)
	admin := e.AdminCtx()
	carol := newMember(t, e, "carol")
	if carol.DomainID != core.DefaultDomainID || carol.Role != core.RoleMember || carol.Disabled {
		t.Fatalf("carol = %+v", carol)
	}
	name, short := "dave", "short"
	_, err := e.Identity.CreateUser(admin, identity.UserInput{Name: &name, Password: &short})
	wantKind(t, err, core.KindInvalid)
	pw := "carol-password"
	_, err = e.Identity.CreateUser(admin, identity.UserInput{Name: ptr("carol"), Password: &pw})
	wantKind(t, err, core.KindConflict)
	_, err = e.Identity.CreateUser(admin, identity.UserInput{Name: ptr("erin"), Password: &pw, DomainID: ptr("nowhere")})
	wantReason(t, err, core.KindNotFound, core.ReasonDomainNotFound)

	// A member may not administer users, but may read itself.
	memberCtx := core.WithActor(context.Background(), core.Actor{UserID: carol.ID, Name: "carol", Role: core.RoleMember, Face: "test"})
	_, err = e.Identity.CreateUser(memberCtx, identity.UserInput{Name: &name, Password: &pw})
	wantKind(t, err, core.KindForbidden)
	_, _, err = e.Identity.ListUsers(memberCtx, core.UserFilter{})
	wantKind(t, err, core.KindForbidden)
	if _, err := e.Identity.GetUser(memberCtx, carol.ID); err != nil {
		t.Fatal(err)
	}

	// A new password works at once, the old one not.
	newPW := "carol-new-password"
	up, err := e.Identity.UpdateUser(admin, carol.ID, identity.UserInput{Password: &newPW, Email: ptr("c@example.test")})
	if err != nil || up.Email != "c@example.test" {
		t.Fatalf("update = %+v %v", up, err)
	}
	if _, _, err := issueToken(e.Login, context.Background(), login.PasswordLogin{UserName: "carol", DomainName: "Default", Password: newPW}); err != nil {
		t.Fatal(err)
	}
	users, total, err := e.Identity.ListUsers(admin, core.UserFilter{})
	if err != nil || total != 2 || len(users) != 2 {
		t.Fatalf("users = %d %v", total, err)
	}
	_, err = e.Identity.GetUser(admin, "not-a-uuid")
	wantReason(t, err, core.KindNotFound, core.ReasonUserNotFound)
	wantKind(t, e.Identity.DeleteUser(admin, e.Admin.ID), core.KindConflict)
	if err := e.Identity.DeleteUser(admin, carol.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Identity.GetUser(admin, carol.ID)
	wantReason(t, err, core.KindNotFound, core.ReasonUserNotFound)
	events, _, _ := e.Svc.ListAudit(context.Background(), core.AuditFilter{TargetID: &carol.ID})
	if len(events) != 3 { // create, update, delete
		t.Fatalf("audit events = %d, want 3", len(events))
	}
}

func TestGroups(t *testing.T) {
	e := testenv.New(t)
	admin := e.AdminCtx()
	frank := newMember(t, e, "frank")
	g, err := e.Identity.CreateGroup(admin, identity.GroupInput{Name: ptr("students"), Description: ptr("all")})
	if err != nil || g.DomainID != core.DefaultDomainID {
		t.Fatalf("group = %+v %v", g, err)
	}
	_, err = e.Identity.CreateGroup(admin, identity.GroupInput{Name: ptr("students")})
	wantKind(t, err, core.KindConflict)
	_, err = e.Identity.CreateGroup(admin, identity.GroupInput{})
	wantKind(t, err, core.KindInvalid)
	if err := e.Identity.AddGroupMember(admin, g.ID, frank.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.AddGroupMember(admin, g.ID, frank.ID); err != nil {
		t.Fatal(err)
	}
	members, err := e.Identity.GroupMembers(admin, g.ID)
	if err != nil || len(members) != 1 || members[0].ID != frank.ID {
		t.Fatalf("members = %v %v", members, err)
	}
	wantReason(t, e.Identity.AddGroupMember(admin, g.ID, "0190b6c4-6d5a-7000-8000-0000000000ff"), core.KindNotFound, core.ReasonUserNotFound)
	wantReason(t, e.Identity.AddGroupMember(admin, "bad", frank.ID), core.KindNotFound, core.ReasonGroupNotFound)
	if err := e.Identity.RemoveGroupMember(admin, g.ID, frank.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.Identity.RemoveGroupMember(admin, g.ID, frank.ID), core.KindNotFound)
	groups, total, err := e.Identity.ListGroups(admin, core.GroupFilter{})
	if err != nil || total != 1 || groups[0].ID != g.ID {
		t.Fatalf("groups = %v %d %v", groups, total, err)
	}
	memberCtx := core.WithActor(context.Background(), core.Actor{UserID: frank.ID, Name: "frank", Role: core.RoleMember})
	_, err = e.Identity.CreateGroup(memberCtx, identity.GroupInput{Name: ptr("x")})
	wantKind(t, err, core.KindForbidden)
}
