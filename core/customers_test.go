package core_test

import (
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/internal/testenv"
)

func TestSatelliteUsers(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	in := core.SatelliteUserInput{Email: ptr("alice@mail.test"), FullName: ptr("Alice Test"), Password: ptr("secret-1")}
	u, err := e.Svc.CreateSatelliteUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice@mail.test" || u.Role != core.RoleMember || u.Profile.ProjectLimit != core.DefaultProjectLimit {
		t.Fatalf("user = %+v %+v", u.User, u.Profile)
	}
	stored, err := e.Store.GetUser(t.Context(), u.ID)
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Fatalf("stored hash %q, %v", stored.PasswordHash, err)
	}
	if _, err := authenticate(e.Svc, t.Context(), "alice@mail.test", "secret-1", "10.0.0.1"); err != nil {
		t.Fatalf("login with the satellite password: %v", err)
	}
	if _, err := e.Svc.CreateSatelliteUser(ctx, in); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []core.SatelliteUserInput{
		{Email: ptr("not an email"), Password: ptr("secret-1")},
		{Email: ptr("bob@mail.test"), Password: ptr("short")},
		{Password: ptr("secret-1")},
		{Email: ptr("bob@mail.test")},
	} {
		if _, err := e.Svc.CreateSatelliteUser(ctx, bad); core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	member := core.WithActor(t.Context(), core.Actor{UserID: u.ID, Name: u.Name, Role: core.RoleMember})
	if _, err := e.Svc.CreateSatelliteUser(member, core.SatelliteUserInput{Email: ptr("c@mail.test"), Password: ptr("secret-1")}); core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("member creates a user: %v", err)
	}

	// The project limit is enforced.
	if _, err := e.Svc.UpdateSatelliteUser(ctx, "alice@mail.test", core.SatelliteUserInput{ProjectLimit: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	p, err := e.Svc.CreateSatelliteProject(ctx, u.ID, "first")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.CreateSatelliteProject(ctx, u.ID, "second")
	wantReason(t, err, core.KindConflict, core.ReasonQuotaExceeded)
	// The owner may log in scoped to the project.
	if _, _, err := issueToken(e.Svc, t.Context(), core.PasswordLogin{UserName: u.Name, Password: "secret-1", Scope: core.ProjectScope{ID: p.ID}}); err != nil {
		t.Fatalf("scoped login: %v", err)
	}
	if err := e.Svc.DeleteSatelliteUser(ctx, "alice@mail.test"); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("delete an owner: %v", err)
	}
	if err := e.Svc.DeleteSatelliteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.DeleteSatelliteUser(ctx, "alice@mail.test"); err != nil {
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
