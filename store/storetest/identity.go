package storetest

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
)

// testIdentity covers domains, user administration, groups, role grants and tokens.
func testIdentity(t *testing.T, s Store) {
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
	members, count, err := s.ListUsers(ctx, core.UserFilter{ProjectID: &p.ID})
	ok(t, err)
	if count != 1 || len(members) != 1 || members[0].ID != alice.ID {
		t.Fatalf("members of %s = %d %+v", p.ID, count, members)
	}

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

	testPasswordPolicy(t, s)
	testCredentials(t, s)
	testWebGuard(t, s)
}

// testPasswordPolicy covers the password's age and the grace-login counter.
func testPasswordPolicy(t *testing.T, s Store) {
	ctx := context.Background()
	missing := "0190b6c4-6d5a-7000-8000-0000000000fe"

	// The password's age counts from creation unless given.
	carol := &core.User{Name: "carol", CreatedAt: base}
	ok(t, s.CreateUser(ctx, carol))
	got, err := s.GetUser(ctx, carol.ID)
	ok(t, err)
	if !got.PasswordChangedAt.Equal(base) || got.GraceLoginsUsed != 0 {
		t.Fatalf("new user: changed %v, grace %d; want %v, 0", got.PasswordChangedAt, got.GraceLoginsUsed, base)
	}
	dave := &core.User{Name: "dave", CreatedAt: base, PasswordChangedAt: base.Add(-time.Hour), GraceLoginsUsed: 1}
	ok(t, s.CreateUser(ctx, dave))
	got, err = s.GetUser(ctx, dave.ID)
	ok(t, err)
	diff(t, dave, got)

	// Grace logins are counted up to the limit, then refused.
	for want := 1; want <= 2; want++ {
		used, err := s.UseGraceLogin(ctx, carol.ID, 2)
		ok(t, err)
		if used != want {
			t.Fatalf("UseGraceLogin = %d, want %d", used, want)
		}
	}
	_, err = s.UseGraceLogin(ctx, carol.ID, 2)
	wantKind(t, err, core.KindConflict)
	_, err = s.UseGraceLogin(ctx, missing, 2)
	wantKind(t, err, core.KindNotFound)
	got, err = s.GetUser(ctx, carol.ID)
	ok(t, err)
	if got.GraceLoginsUsed != 2 {
		t.Fatalf("GraceLoginsUsed = %d, want 2", got.GraceLoginsUsed)
	}

	// UpdateUser sets both.
	at := base.Add(48 * time.Hour)
	up, err := s.UpdateUser(ctx, carol.ID, core.UserUpdate{PasswordHash: ptr("h3"), PasswordChangedAt: &at, GraceLoginsUsed: ptr(0)})
	ok(t, err)
	if !up.PasswordChangedAt.Equal(at) || up.GraceLoginsUsed != 0 || up.PasswordHash != "h3" {
		t.Fatalf("UpdateUser = changed %v, grace %d, hash %q", up.PasswordChangedAt, up.GraceLoginsUsed, up.PasswordHash)
	}
}

// testCredentials covers TOTP credentials and their replay guard.
func testCredentials(t *testing.T, s Store) {
	ctx := context.Background()
	missing := "0190b6c4-6d5a-7000-8000-0000000000fd"
	erin := &core.User{Name: "erin"}
	ok(t, s.CreateUser(ctx, erin))
	frank := &core.User{Name: "frank"}
	ok(t, s.CreateUser(ctx, frank))

	c1 := &core.Credential{UserID: erin.ID, Type: core.CredentialTOTP, Blob: []byte{0, 1, 2, 0xff, 'x'}, CreatedAt: base}
	ok(t, s.CreateCredential(ctx, c1))
	if !core.ValidID(c1.ID) {
		t.Fatalf("CreateCredential did not fill the id: %+v", c1)
	}
	c2 := &core.Credential{UserID: erin.ID, Type: "ec2", Blob: []byte("b"), CreatedAt: base.Add(time.Second)}
	ok(t, s.CreateCredential(ctx, c2))
	c3 := &core.Credential{UserID: frank.ID, Type: core.CredentialTOTP, Blob: []byte("c"), CreatedAt: base.Add(2 * time.Second)}
	ok(t, s.CreateCredential(ctx, c3))
	wantKind(t, s.CreateCredential(ctx, &core.Credential{ID: c1.ID, UserID: erin.ID, Type: "totp", Blob: []byte("d")}), core.KindConflict)

	got, err := s.GetCredential(ctx, c1.ID)
	ok(t, err)
	diff(t, c1, got)
	_, err = s.GetCredential(ctx, missing)
	wantKind(t, err, core.KindNotFound)

	all, total, err := s.ListCredentials(ctx, core.CredentialFilter{})
	ok(t, err)
	if total != 3 {
		t.Fatalf("ListCredentials total = %d, want 3", total)
	}
	diff(t, []*core.Credential{c1, c2, c3}, all)
	mine, _, err := s.ListCredentials(ctx, core.CredentialFilter{UserID: &erin.ID, Type: ptr(core.CredentialTOTP)})
	ok(t, err)
	diff(t, []*core.Credential{c1}, mine)

	// A time step is accepted once, and only moving forward.
	ok(t, s.AdvanceCredentialStep(ctx, c1.ID, 100))
	wantKind(t, s.AdvanceCredentialStep(ctx, c1.ID, 100), core.KindConflict)
	wantKind(t, s.AdvanceCredentialStep(ctx, c1.ID, 99), core.KindConflict)
	ok(t, s.AdvanceCredentialStep(ctx, c1.ID, 101))
	wantKind(t, s.AdvanceCredentialStep(ctx, missing, 1), core.KindNotFound)
	got, err = s.GetCredential(ctx, c1.ID)
	ok(t, err)
	if got.LastStep != 101 {
		t.Fatalf("LastStep = %d, want 101", got.LastStep)
	}

	ok(t, s.DeleteCredential(ctx, c2.ID))
	wantKind(t, s.DeleteCredential(ctx, c2.ID), core.KindNotFound)
	// Deleting a user takes its credentials along.
	ok(t, s.DeleteUser(ctx, frank.ID))
	_, err = s.GetCredential(ctx, c3.ID)
	wantKind(t, err, core.KindNotFound)
	all, _, err = s.ListCredentials(ctx, core.CredentialFilter{})
	ok(t, err)
	if len(all) != 1 || all[0].ID != c1.ID {
		t.Fatalf("credentials left = %d", len(all))
	}
}

// testWebGuard covers a TRS project's allowed networks.
func testWebGuard(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	p := newPool(t, s, "guarded", func(p *desktop.Pool) { p.AllowedNetworks = []string{"10.0.0.0/8", "192.0.2.7/32"} })
	got, err := s.GetPool(ctx, p.ID)
	ok(t, err)
	diff(t, []string{"10.0.0.0/8", "192.0.2.7/32"}, got.AllowedNetworks)
	open := newPool(t, s, "open", nil)
	got, err = s.GetPool(ctx, open.ID)
	ok(t, err)
	if got.AllowedNetworks == nil || len(got.AllowedNetworks) != 0 {
		t.Fatalf("AllowedNetworks = %#v, want empty", got.AllowedNetworks)
	}
	up, err := s.UpdatePool(ctx, p.ID, desktop.PoolInput{AllowedNetworks: &[]string{"2001:db8::/32"}})
	ok(t, err)
	diff(t, []string{"2001:db8::/32"}, up.AllowedNetworks)
	up, err = s.UpdatePool(ctx, p.ID, desktop.PoolInput{Description: ptr("kept")})
	ok(t, err)
	diff(t, []string{"2001:db8::/32"}, up.AllowedNetworks)
	list, _, err := s.ListPools(ctx, desktop.PoolFilter{Name: ptr("guarded")})
	ok(t, err)
	if len(list) != 1 {
		t.Fatalf("ListPools = %d, want 1", len(list))
	}
	diff(t, []string{"2001:db8::/32"}, list[0].AllowedNetworks)
	up, err = s.UpdatePool(ctx, p.ID, desktop.PoolInput{AllowedNetworks: &[]string{}})
	ok(t, err)
	if len(up.AllowedNetworks) != 0 {
		t.Fatalf("cleared AllowedNetworks = %v", up.AllowedNetworks)
	}
}
