package storetest

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
)

// testIdentity covers domains, user administration, groups, role grants and tokens.
func testIdentity(t *testing.T, s core.Store) {
	ctx := context.Background()
	missing := "0190b6c4-6d5a-7000-8000-0000000000ff"

	def, err := s.GetDomain(ctx, core.DefaultDomainID)
	ok(t, err)
	if def.Name != "Default" {
		t.Fatalf("default domain name = %q, want Default", def.Name)
	}
	byName, err := s.GetDomainByName(ctx, "Default")
	ok(t, err)
	diff(t, def, byName)
	lab := &core.Domain{Name: "lab", Description: "the lab"}
	ok(t, s.CreateDomain(ctx, lab))
	got, err := s.GetDomain(ctx, lab.ID)
	ok(t, err)
	diff(t, lab, got)
	wantKind(t, s.CreateDomain(ctx, &core.Domain{Name: "lab"}), core.KindConflict)
	_, err = s.GetDomainByName(ctx, "nope")
	wantKind(t, err, core.KindNotFound)

	// Users: the domain defaults to "default"; list, filter, update, delete.
	alice := &core.User{Name: "alice", Role: core.RoleMember}
	ok(t, s.CreateUser(ctx, alice))
	if alice.DomainID != core.DefaultDomainID {
		t.Fatalf("DomainID = %q, want default", alice.DomainID)
	}
	bob := &core.User{Name: "bob", Role: core.RoleAdmin, DomainID: lab.ID}
	ok(t, s.CreateUser(ctx, bob))
	users, total, err := s.ListUsers(ctx, core.UserFilter{})
	ok(t, err)
	if total != 2 || len(users) != 2 {
		t.Fatalf("ListUsers: %d of %d, want 2", len(users), total)
	}
	users, _, err = s.ListUsers(ctx, core.UserFilter{DomainID: ptr(lab.ID)})
	ok(t, err)
	diff(t, []*core.User{bob}, users)
	users, _, err = s.ListUsers(ctx, core.UserFilter{Name: ptr("alice")})
	ok(t, err)
	diff(t, []*core.User{alice}, users)
	up, err := s.UpdateUser(ctx, alice.ID, core.UserUpdate{Email: ptr("a@example.com"), Disabled: ptr(true), PasswordHash: ptr("h2")})
	ok(t, err)
	if up.Email != "a@example.com" || !up.Disabled || up.PasswordHash != "h2" || up.Name != "alice" {
		t.Fatalf("UpdateUser = %+v", up)
	}
	_, err = s.UpdateUser(ctx, alice.ID, core.UserUpdate{Name: ptr("bob")})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateUser(ctx, missing, core.UserUpdate{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)

	// Groups and members.
	g := &core.Group{Name: "students", Description: "all of them"}
	ok(t, s.CreateGroup(ctx, g))
	gg, err := s.GetGroup(ctx, g.ID)
	ok(t, err)
	diff(t, g, gg)
	wantKind(t, s.CreateGroup(ctx, &core.Group{Name: "students"}), core.KindConflict)
	ok(t, s.CreateGroup(ctx, &core.Group{Name: "students", DomainID: lab.ID})) // unique per domain
	groups, total, err := s.ListGroups(ctx, core.GroupFilter{DomainID: ptr(core.DefaultDomainID)})
	ok(t, err)
	if total != 1 {
		t.Fatalf("ListGroups total = %d, want 1", total)
	}
	diff(t, []*core.Group{g}, groups)
	ok(t, s.AddGroupMember(ctx, g.ID, alice.ID))
	ok(t, s.AddGroupMember(ctx, g.ID, alice.ID)) // idempotent
	ok(t, s.AddGroupMember(ctx, g.ID, bob.ID))
	wantKind(t, s.AddGroupMember(ctx, g.ID, missing), core.KindNotFound)
	members, err := s.ListGroupMembers(ctx, g.ID)
	ok(t, err)
	if len(members) != 2 || members[0].ID != alice.ID || members[1].ID != bob.ID {
		t.Fatalf("members = %v", ids(members, func(u *core.User) string { return u.Name }))
	}
	ok(t, s.RemoveGroupMember(ctx, g.ID, bob.ID))
	wantKind(t, s.RemoveGroupMember(ctx, g.ID, bob.ID), core.KindNotFound)

	// Role grants.
	p := &core.Project{Name: "course"}
	ok(t, s.CreateProject(ctx, p))
	found, err := s.FindProjectByName(ctx, "course")
	ok(t, err)
	if found.ID != p.ID {
		t.Fatalf("FindProjectByName = %s, want %s", found.ID, p.ID)
	}
	_, err = s.FindProjectByName(ctx, "nope")
	wantKind(t, err, core.KindNotFound)
	roles, err := s.ProjectRoles(ctx, p.ID, alice.ID)
	ok(t, err)
	if len(roles) != 0 {
		t.Fatalf("roles = %v, want none", roles)
	}
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p.ID, UserID: alice.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p.ID, UserID: alice.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p.ID, UserID: alice.ID, Role: core.RoleAdmin}))
	wantKind(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p.ID, UserID: missing, Role: core.RoleAdmin}), core.KindNotFound)
	roles, err = s.ProjectRoles(ctx, p.ID, alice.ID)
	ok(t, err)
	diff(t, []core.Role{core.RoleAdmin, core.RoleMember}, roles)

	// Tokens: looked up by hash, revoked once, expired ones deleted.
	tk := &core.Token{UserID: alice.ID, ProjectID: p.ID, Hash: core.TokenHash("s1"), Methods: []string{"password"},
		IssuedAt: base, ExpiresAt: base.Add(time.Hour)}
	ok(t, s.CreateToken(ctx, tk))
	gt, err := s.GetTokenByHash(ctx, core.TokenHash("s1"))
	ok(t, err)
	diff(t, tk, gt)
	_, err = s.GetTokenByHash(ctx, core.TokenHash("s2"))
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.CreateToken(ctx, &core.Token{UserID: alice.ID, Hash: tk.Hash, IssuedAt: base, ExpiresAt: base}), core.KindConflict)
	wantKind(t, s.CreateToken(ctx, &core.Token{UserID: missing, Hash: "x", IssuedAt: base, ExpiresAt: base}), core.KindNotFound)
	ok(t, s.RevokeToken(ctx, tk.ID, base.Add(time.Minute)))
	ok(t, s.RevokeToken(ctx, tk.ID, base.Add(2*time.Minute)))
	gt, err = s.GetTokenByHash(ctx, tk.Hash)
	ok(t, err)
	if gt.RevokedAt == nil || !gt.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("RevokedAt = %v, want the first revocation", gt.RevokedAt)
	}
	wantKind(t, s.RevokeToken(ctx, missing, base), core.KindNotFound)
	old := &core.Token{UserID: bob.ID, Hash: core.TokenHash("old"), IssuedAt: base.Add(-2 * time.Hour), ExpiresAt: base.Add(-time.Hour)}
	ok(t, s.CreateToken(ctx, old))
	n, err := s.DeleteExpiredTokens(ctx, base)
	ok(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredTokens = %d, want 1", n)
	}

	// Deleting a user takes its memberships, grants and tokens along.
	ok(t, s.DeleteUser(ctx, alice.ID))
	wantKind(t, s.DeleteUser(ctx, alice.ID), core.KindNotFound)
	_, err = s.GetTokenByHash(ctx, tk.Hash)
	wantKind(t, err, core.KindNotFound)
	members, err = s.ListGroupMembers(ctx, g.ID)
	ok(t, err)
	if len(members) != 0 {
		t.Fatalf("members after delete = %d, want 0", len(members))
	}
	roles, err = s.ProjectRoles(ctx, p.ID, alice.ID)
	ok(t, err)
	if len(roles) != 0 {
		t.Fatalf("roles after delete = %v", roles)
	}
}
