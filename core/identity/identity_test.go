package identity_test

import (
	"context"
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
)

func wantKind(t testing.TB, err error, kind core.Kind) {
	t.Helper()
	if got := core.ErrorKind(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}

func TestCheckPhone(t *testing.T) {
	for _, c := range []struct {
		phone string
		ok    bool
	}{
		{"", true},
		{"+1 (555) 010-0100", true},
		{"8 800 555 35 35", true},
		{strings.Repeat("1", identity.MaxPhoneLen), true},
		{strings.Repeat("1", identity.MaxPhoneLen+1), false},
		{"+1 555 CALL", false},
		{"555.0100", false},
		{"555\n0100", false},
		{"５５５", false}, // digits of another script
	} {
		if err := identity.CheckPhone(c.phone); (err == nil) != c.ok {
			t.Errorf("CheckPhone(%q) = %v, want ok %v", c.phone, err, c.ok)
		}
	}
}

func TestUserPhoneAndFilters(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	name, pw := "ivan", "ivan-password-1"
	_, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: &name, Password: &pw, Phone: core.Ptr("call me")})
	wantKind(t, err, core.KindInvalid)
	u, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: &name, Password: &pw, Phone: core.Ptr("+7 (495) 000-00-00"),
		Email: core.Ptr("Ivan@example.test")})
	if err != nil || u.Phone != "+7 (495) 000-00-00" {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	up, err := e.Identity.UpdateUser(ctx, u.ID, identity.UserInput{Phone: core.Ptr("+7 495 111 11 11")})
	if err != nil || up.Phone != "+7 495 111 11 11" {
		t.Fatalf("UpdateUser phone = %+v, %v", up, err)
	}
	_, err = e.Identity.UpdateUser(ctx, u.ID, identity.UserInput{Phone: core.Ptr("x")})
	wantKind(t, err, core.KindInvalid)
	if _, err := e.Identity.UpdateUser(ctx, u.ID, identity.UserInput{Enabled: core.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    core.UserFilter
		want int
	}{
		{core.UserFilter{Email: core.Ptr("ivan@EXAMPLE.test")}, 1},
		{core.UserFilter{Phone: core.Ptr("+7 495 111 11 11")}, 1},
		{core.UserFilter{Disabled: core.Ptr(true)}, 1},
		{core.UserFilter{Disabled: core.Ptr(false)}, 1}, // the admin
		{core.UserFilter{Disabled: core.Ptr(false), Email: core.Ptr("ivan@example.test")}, 0},
	} {
		_, n, err := e.Identity.ListUsers(ctx, c.f)
		if err != nil || n != c.want {
			t.Errorf("ListUsers(%+v) = %d, %v; want %d", c.f, n, err, c.want)
		}
	}
	got, err := e.Identity.GetUserByNumber(ctx, u.Number)
	if err != nil || got.ID != u.ID {
		t.Fatalf("GetUserByNumber = %+v, %v", got, err)
	}
	_, err = e.Identity.GetUserByNumber(ctx, 999)
	wantKind(t, err, core.KindNotFound)
}

func TestGroupEdits(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	g, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: core.Ptr("ops")})
	if err != nil || g.Creator != testenv.AdminUser || g.Number <= 0 {
		t.Fatalf("CreateGroup = %+v, %v", g, err)
	}
	dev, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: core.Ptr("dev")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Identity.GetGroupByNumber(ctx, g.Number)
	if err != nil || got.ID != g.ID || got.Creator != testenv.AdminUser {
		t.Fatalf("GetGroupByNumber = %+v, %v", got, err)
	}
	_, err = e.Identity.GetGroupByNumber(ctx, -1)
	wantKind(t, err, core.KindNotFound)

	up, err := e.Identity.UpdateGroup(ctx, g.ID, identity.GroupInput{Name: core.Ptr("operators"), Description: core.Ptr("on call")})
	if err != nil || up.Name != "operators" || up.Description != "on call" || up.Creator != testenv.AdminUser {
		t.Fatalf("UpdateGroup = %+v, %v", up, err)
	}
	_, err = e.Identity.UpdateGroup(ctx, g.ID, identity.GroupInput{Name: core.Ptr("dev")})
	wantKind(t, err, core.KindConflict)
	_, err = e.Identity.UpdateGroup(ctx, g.ID, identity.GroupInput{Name: core.Ptr("")})
	wantKind(t, err, core.KindInvalid)
	_, err = e.Identity.UpdateGroup(ctx, g.ID, identity.GroupInput{DomainID: core.Ptr("default")})
	wantKind(t, err, core.KindInvalid)
	_, err = e.Identity.UpdateGroup(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", identity.GroupInput{Name: core.Ptr("x")})
	wantKind(t, err, core.KindNotFound)

	name, pw := "judy", "judy-password-1"
	u, err := e.Identity.CreateUser(ctx, identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range []*core.Group{g, dev} {
		if err := e.Identity.AddGroupMember(ctx, gr.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	uctx := core.WithActor(context.Background(), login.ActorOf(u, testenv.Origin, ""))
	mine, err := e.Identity.UserGroups(uctx, u.ID)
	if err != nil || len(mine) != 2 || mine[0].Name != "dev" || mine[1].Name != "operators" {
		t.Fatalf("UserGroups = %v, %v", mine, err)
	}
	_, err = e.Identity.UserGroups(uctx, e.Admin.ID)
	wantKind(t, err, core.KindForbidden)
	wantKind(t, e.Identity.DeleteGroup(uctx, g.ID), core.KindForbidden)

	if err := e.Identity.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Identity.GetGroup(ctx, g.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, e.Identity.DeleteGroup(ctx, g.ID), core.KindNotFound)
	if mine, err = e.Identity.UserGroups(ctx, u.ID); err != nil || len(mine) != 1 || mine[0].ID != dev.ID {
		t.Fatalf("UserGroups after the delete = %v, %v", mine, err)
	}
	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{TargetType: core.Ptr("group"), TargetID: &g.ID})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, ev := range evs {
		actions[ev.Action]++
	}
	if actions["group.create"] != 1 || actions["group.update"] != 1 || actions["group.delete"] != 1 {
		t.Fatalf("audit: %v", actions)
	}
}
