package storetest

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
)

// testKeys: an API key is numbered (other tokens are not), keeps its name,
// description and hint, is read by id and listed with its user's name,
// filtered by user, name, description and hash in the store, renamed, and
// deleted; a single-use token is consumed once.
func testKeys(t *testing.T, s Store) {
	ctx := context.Background()
	missing := "0190b6c4-6d5a-7000-8000-0000000000ff"
	alice, bob := newUser(t, s, "key-alice"), newUser(t, s, "key-bob")
	key := func(u *core.User, secret, name, desc string, at time.Duration) *core.Token {
		t.Helper()
		tk := &core.Token{Kind: core.TokenKey, UserID: u.ID, Hash: core.TokenHash(secret), IssuedAt: base.Add(at),
			ExpiresAt: base.Add(100 * 365 * 24 * time.Hour), Name: name, Description: desc, Hint: secret[:4]}
		ok(t, s.CreateToken(ctx, tk))
		tk.UserName = u.Name
		return tk
	}
	a1 := key(alice, "aaaa0001", "deploy", "the deploy script", 0)
	api := &core.Token{UserID: alice.ID, Hash: core.TokenHash("api-token"), IssuedAt: base, ExpiresAt: base.Add(time.Hour)}
	ok(t, s.CreateToken(ctx, api))
	a2 := key(alice, "aaaa0002", "backup", "", time.Second)
	b1 := key(bob, "bbbb0001", "deploy", "bob's", 2*time.Second)
	if a1.Number <= 0 || a2.Number <= a1.Number || b1.Number <= a2.Number || api.Number != 0 {
		t.Fatalf("numbers: keys %d, %d, %d, API token %d; want keys numbered in order, the token not", a1.Number, a2.Number, b1.Number, api.Number)
	}
	id, err := s.IDByNumber(ctx, core.NumberToken, a2.Number)
	if err != nil || id != a2.ID {
		t.Fatalf("IDByNumber(%d) = %q, %v; want %s", a2.Number, id, err, a2.ID)
	}
	_, err = s.IDByNumber(ctx, core.NumberToken, 0)
	wantKind(t, err, core.KindNotFound)

	got, err := s.GetToken(ctx, a1.ID)
	ok(t, err)
	diff(t, a1, got)
	_, err = s.GetToken(ctx, missing)
	wantKind(t, err, core.KindNotFound)
	byHash, err := s.GetTokenByHash(ctx, a1.Hash)
	ok(t, err)
	if byHash.Name != "deploy" || byHash.Number != a1.Number || byHash.Hint != "aaaa" {
		t.Fatalf("GetTokenByHash: %+v", byHash)
	}

	tokID := func(tk *core.Token) string { return tk.ID }
	keys := ptr(core.TokenKey)
	for _, c := range []struct {
		name string
		f    core.TokenFilter
		want []*core.Token
	}{
		{"every key", core.TokenFilter{Kind: keys}, []*core.Token{a1, a2, b1}},
		{"every token", core.TokenFilter{}, []*core.Token{a1, api, a2, b1}},
		{"a user's keys", core.TokenFilter{Kind: keys, UserID: &alice.ID}, []*core.Token{a1, a2}},
		{"by name", core.TokenFilter{Kind: keys, Name: ptr("deploy")}, []*core.Token{a1, b1}},
		{"by name and user", core.TokenFilter{Kind: keys, Name: ptr("deploy"), UserID: &bob.ID}, []*core.Token{b1}},
		{"by description", core.TokenFilter{Kind: keys, Description: ptr("the deploy script")}, []*core.Token{a1}},
		{"empty description", core.TokenFilter{Kind: keys, Description: ptr("")}, []*core.Token{a2}},
		{"by hash", core.TokenFilter{Kind: keys, Hash: ptr(core.TokenHash("bbbb0001"))}, []*core.Token{b1}},
		{"by an unknown hash", core.TokenFilter{Kind: keys, Hash: ptr(core.TokenHash("nope"))}, []*core.Token{}},
		{"newest first", core.TokenFilter{Kind: keys, Page: core.Page{Sort: []string{"-created_at"}}}, []*core.Token{b1, a2, a1}},
		{"by number, a page", core.TokenFilter{Kind: keys, Page: core.Page{Sort: []string{"-number"}, Limit: 1, Offset: 1}}, []*core.Token{a2}},
	} {
		list, total, err := s.ListTokens(ctx, c.f)
		ok(t, err)
		if c.name == "every token" {
			diff(t, ids(c.want, tokID), ids(list, tokID))
			continue
		}
		diff(t, c.want, list)
		if want := len(c.want); c.f.Limit > 0 {
			if total != 3 {
				t.Fatalf("%s: total %d, want 3", c.name, total)
			}
		} else if total != want {
			t.Fatalf("%s: total %d, want %d", c.name, total, want)
		}
	}
	_, _, err = s.ListTokens(ctx, core.TokenFilter{Page: core.Page{Sort: []string{"token_hash"}}})
	wantKind(t, err, core.KindInvalid)

	up, err := s.UpdateToken(ctx, a1.ID, core.TokenUpdate{Name: ptr("ci")})
	ok(t, err)
	want := *a1
	want.Name = "ci"
	diff(t, &want, up)
	up, err = s.UpdateToken(ctx, a1.ID, core.TokenUpdate{Description: ptr("")})
	ok(t, err)
	want.Description = ""
	diff(t, &want, up)
	up, err = s.UpdateToken(ctx, a1.ID, core.TokenUpdate{})
	ok(t, err)
	diff(t, &want, up)
	_, err = s.UpdateToken(ctx, missing, core.TokenUpdate{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)

	ok(t, s.DeleteToken(ctx, a1.ID))
	_, err = s.GetTokenByHash(ctx, a1.Hash)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteToken(ctx, a1.ID), core.KindNotFound)
	// A number is not given again once its key is gone.
	a3 := key(alice, "aaaa0003", "again", "", 3*time.Second)
	if a3.Number <= b1.Number {
		t.Fatalf("a new key got number %d, after %d", a3.Number, b1.Number)
	}
	// A user's keys go with it.
	ok(t, s.DeleteUser(ctx, bob.ID))
	_, err = s.GetToken(ctx, b1.ID)
	wantKind(t, err, core.KindNotFound)

	// A single-use token is consumed once.
	reset := &core.Token{Kind: core.TokenReset, UserID: alice.ID, Hash: core.TokenHash("reset"), IssuedAt: base, ExpiresAt: base.Add(time.Hour)}
	ok(t, s.CreateToken(ctx, reset))
	ok(t, s.ConsumeToken(ctx, reset.ID, base.Add(time.Minute)))
	wantKind(t, s.ConsumeToken(ctx, reset.ID, base.Add(2*time.Minute)), core.KindConflict)
	wantKind(t, s.ConsumeToken(ctx, missing, base), core.KindNotFound)
	got, err = s.GetTokenByHash(ctx, reset.Hash)
	ok(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("consumed at %v, want %v", got.RevokedAt, base.Add(time.Minute))
	}
}

// testUserFilters: users are found by e-mail address in any case, by phone
// and by whether they are disabled, in the store.
func testUserFilters(t *testing.T, s Store) {
	ctx := context.Background()
	mk := func(name, email, phone string, disabled bool) *core.User {
		t.Helper()
		u := &core.User{Name: name, Email: email, Phone: phone, Disabled: disabled}
		ok(t, s.CreateUser(ctx, u))
		return u
	}
	a := mk("f-alice", "Alice@Example.com", "+1 555 0100", false)
	b := mk("f-bob", "bob@example.com", "+1 555 0101", true)
	c := mk("f-carol", "alice@example.com", "", false)
	uid := func(u *core.User) string { return u.ID }
	for _, tc := range []struct {
		name string
		f    core.UserFilter
		want []*core.User
	}{
		{"e-mail in any case", core.UserFilter{Email: ptr("ALICE@example.COM")}, []*core.User{a, c}},
		{"e-mail, one", core.UserFilter{Email: ptr("bob@example.com")}, []*core.User{b}},
		{"e-mail, none", core.UserFilter{Email: ptr("alice@example.org")}, []*core.User{}},
		{"phone", core.UserFilter{Phone: ptr("+1 555 0101")}, []*core.User{b}},
		{"no phone", core.UserFilter{Phone: ptr("")}, []*core.User{c}},
		{"disabled", core.UserFilter{Disabled: ptr(true)}, []*core.User{b}},
		{"enabled", core.UserFilter{Disabled: ptr(false)}, []*core.User{a, c}},
		{"enabled, by e-mail", core.UserFilter{Disabled: ptr(false), Email: ptr("bob@example.com")}, []*core.User{}},
	} {
		got, total, err := s.ListUsers(ctx, tc.f)
		ok(t, err)
		diff(t, ids(tc.want, uid), ids(got, uid))
		if total != len(tc.want) {
			t.Fatalf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
	}
}

// testGroupEdits: a group is renamed (a name taken in its domain is a
// conflict) and deleted with its members and grants; a user's groups are
// listed by name.
func testGroupEdits(t *testing.T, s Store) {
	ctx := context.Background()
	missing := "0190b6c4-6d5a-7000-8000-0000000000ff"
	ops := &core.Group{Name: "ops", Description: "operators", Creator: "admin"}
	dev := &core.Group{Name: "dev"}
	ok(t, s.CreateGroup(ctx, ops))
	ok(t, s.CreateGroup(ctx, dev))
	u := newUser(t, s, "grouped")
	ok(t, s.AddGroupMember(ctx, ops.ID, u.ID))
	ok(t, s.AddGroupMember(ctx, dev.ID, u.ID))
	_, err := s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: ops.ID}, Action: core.ActionServerView})
	ok(t, err)

	gid := func(g *core.Group) string { return g.ID }
	mine, err := s.ListUserGroups(ctx, u.ID)
	ok(t, err)
	diff(t, []string{dev.ID, ops.ID}, ids(mine, gid))
	diff(t, ops.Creator, mine[1].Creator)
	none, err := s.ListUserGroups(ctx, missing)
	ok(t, err)
	if len(none) != 0 {
		t.Fatalf("an unknown user is in %d groups", len(none))
	}

	up, err := s.UpdateGroup(ctx, ops.ID, core.GroupUpdate{Name: ptr("operators")})
	ok(t, err)
	want := *ops
	want.Name, want.UpdatedAt = "operators", up.UpdatedAt
	diff(t, &want, up)
	up, err = s.UpdateGroup(ctx, ops.ID, core.GroupUpdate{Description: ptr("")})
	ok(t, err)
	if up.Name != "operators" || up.Description != "" {
		t.Fatalf("UpdateGroup description: %+v", up)
	}
	_, err = s.UpdateGroup(ctx, ops.ID, core.GroupUpdate{Name: ptr("dev")})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateGroup(ctx, missing, core.GroupUpdate{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)

	ok(t, s.DeleteGroup(ctx, ops.ID))
	_, err = s.GetGroup(ctx, ops.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteGroup(ctx, ops.ID), core.KindNotFound)
	mine, err = s.ListUserGroups(ctx, u.ID)
	ok(t, err)
	diff(t, []string{dev.ID}, ids(mine, gid))
	grants, _, err := s.ListGrants(ctx, core.GrantFilter{Grantee: &core.Grantee{Kind: core.GranteeGroup, ID: ops.ID}})
	ok(t, err)
	if len(grants) != 0 {
		t.Fatalf("%d grants of a deleted group survived", len(grants))
	}
	// Its name is free again.
	ok(t, s.CreateGroup(ctx, &core.Group{Name: "operators"}))
}
