package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
)

func testProfiles(t *testing.T, st Store) {
	ctx := context.Background()
	s := st
	u := newUser(t, s, "alice@mail.test")
	_, err := s.GetUserProfile(ctx, u.ID)
	wantKind(t, err, core.KindNotFound)

	p := &tenancy.Profile{UserID: u.ID, FullName: "Alice Test", ProjectLimit: 10, CreatedAt: base, UpdatedAt: base}
	ok(t, s.PutUserProfile(ctx, p))
	got, err := s.GetUserProfile(ctx, u.ID)
	ok(t, err)
	diff(t, p, got)

	// Put replaces every field but the creation time.
	p2 := &tenancy.Profile{UserID: u.ID, FullName: "Alice B", ShortName: "al", ProjectLimit: 3,
		CreatedAt: base.AddDate(1, 0, 0), UpdatedAt: base.AddDate(0, 0, 1)}
	ok(t, s.PutUserProfile(ctx, p2))
	got, err = s.GetUserProfile(ctx, u.ID)
	ok(t, err)
	p2.CreatedAt = p.CreatedAt
	diff(t, p2, got)

	ok(t, s.DeleteUserProfile(ctx, u.ID))
	_, err = s.GetUserProfile(ctx, u.ID)
	wantKind(t, err, core.KindNotFound)
	ok(t, s.DeleteUserProfile(ctx, u.ID)) // absent: no error

	// Deleting the user removes its profile.
	ok(t, s.PutUserProfile(ctx, p))
	ok(t, s.DeleteUser(ctx, u.ID))
	_, err = s.GetUserProfile(ctx, u.ID)
	wantKind(t, err, core.KindNotFound)
}

func testCustomerProjects(t *testing.T, st Store) {
	ctx := context.Background()
	s := st
	u := newUser(t, s, "owner@mail.test")
	other := newUser(t, s, "other@mail.test")
	p1 := &core.Project{Name: "first", OwnerID: u.ID, CreatedAt: base}
	p2 := &core.Project{Name: "second", Description: "d", OwnerID: u.ID, CreatedAt: base.Add(1)}
	ok(t, s.CreateCustomerProject(ctx, p1))
	ok(t, s.CreateCustomerProject(ctx, p2))
	plain := &core.Project{Name: "plain", OwnerID: u.ID, CreatedAt: base.Add(2)}
	ok(t, s.CreateProject(ctx, plain))

	typ, err := s.ProjectType(ctx, p1.ID)
	ok(t, err)
	if typ != tenancy.ProjectTypeCustomer {
		t.Fatalf("type = %q", typ)
	}
	typ, err = s.ProjectType(ctx, plain.ID)
	ok(t, err)
	if typ != "" {
		t.Fatalf("plain type = %q", typ)
	}
	_, err = s.ProjectType(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	list, err := s.ListProjectsByOwner(ctx, u.ID)
	ok(t, err)
	diff(t, []string{p1.ID, p2.ID, plain.ID}, ids(list, func(p *core.Project) string { return p.ID }))
	list, err = s.ListProjectsByOwner(ctx, other.ID)
	ok(t, err)
	if len(list) != 0 {
		t.Fatalf("other owns %d projects", len(list))
	}

	got, err := s.UpdateProjectInfo(ctx, p1.ID, ptr("renamed"), nil)
	ok(t, err)
	if got.Name != "renamed" || got.Description != "" {
		t.Fatalf("update name: %+v", got)
	}
	got, err = s.UpdateProjectInfo(ctx, p1.ID, nil, ptr("about"))
	ok(t, err)
	if got.Name != "renamed" || got.Description != "about" {
		t.Fatalf("update description: %+v", got)
	}
	_, err = s.UpdateProjectInfo(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", ptr("x"), nil)
	wantKind(t, err, core.KindNotFound)

	// RemoveProject takes the limits, usage and grants with it.
	ok(t, s.PutProjectLimits(ctx, &quota.ProjectLimits{ProjectID: p1.ID, Usage: 1}))
	ok(t, s.PutProjectUsage(ctx, &quota.ProjectUsage{ProjectID: p1.ID, Month: "2026-03", StoredBytes: 1}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p1.ID, UserID: u.ID, Role: core.RoleMember, CreatedAt: base}))
	ok(t, s.RemoveProject(ctx, p1.ID))
	_, err = s.GetProject(ctx, p1.ID)
	wantKind(t, err, core.KindNotFound)
	_, err = s.GetProjectLimits(ctx, p1.ID)
	wantKind(t, err, core.KindNotFound)
	_, err = s.GetProjectUsage(ctx, p1.ID, "2026-03")
	wantKind(t, err, core.KindNotFound)
	roles, err := s.ProjectRoles(ctx, p1.ID, u.ID)
	ok(t, err)
	if len(roles) != 0 {
		t.Fatalf("roles left: %v", roles)
	}
	wantKind(t, s.RemoveProject(ctx, p1.ID), core.KindNotFound)
}
