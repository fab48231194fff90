package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
)

func testUserProfiles(t *testing.T, s core.Store) {
	ctx := context.Background()
	u := newUser(t, s, "alice@mail.test")
	_, err := s.GetUserProfile(ctx, u.ID)
	wantKind(t, err, core.KindNotFound)

	p := &core.UserProfile{UserID: u.ID, FullName: "Alice Test", ProjectLimit: 10, CreatedAt: base, UpdatedAt: base}
	ok(t, s.PutUserProfile(ctx, p))
	got, err := s.GetUserProfile(ctx, u.ID)
	ok(t, err)
	diff(t, p, got)

	// Put replaces every field but the creation time.
	p2 := &core.UserProfile{UserID: u.ID, FullName: "Alice B", ShortName: "al", ProjectLimit: 3,
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

func testSatelliteProjects(t *testing.T, s core.Store) {
	ctx := context.Background()
	u := newUser(t, s, "owner@mail.test")
	other := newUser(t, s, "other@mail.test")
	p1 := &core.Project{Name: "first", OwnerID: u.ID, CreatedAt: base}
	p2 := &core.Project{Name: "second", Description: "d", OwnerID: u.ID, CreatedAt: base.Add(1)}
	ok(t, s.CreateSatelliteProject(ctx, p1))
	ok(t, s.CreateSatelliteProject(ctx, p2))
	plain := &core.Project{Name: "plain", OwnerID: u.ID, CreatedAt: base.Add(2)}
	ok(t, s.CreateProject(ctx, plain))

	typ, err := s.ProjectType(ctx, p1.ID)
	ok(t, err)
	if typ != core.ProjectTypeSatellite {
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
	ok(t, s.PutProjectLimits(ctx, &core.ProjectLimits{ProjectID: p1.ID, Usage: 1}))
	ok(t, s.PutProjectUsage(ctx, &core.ProjectUsage{ProjectID: p1.ID, Month: "2026-03", StoredBytes: 1}))
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

func testCoupons(t *testing.T, s core.Store) {
	ctx := context.Background()
	c1 := &core.Coupon{UserID: "u1", Duration: 2, Amount: 3000, Description: "promo", CreatedAt: base}
	c2 := &core.Coupon{UserID: "u1", Duration: 1, Amount: 10, Description: "used", Status: core.CouponUsed, CreatedAt: base.Add(1)}
	c3 := &core.Coupon{UserID: "u2", Duration: 1, Amount: 10, Description: "other", CreatedAt: base}
	for _, c := range []*core.Coupon{c1, c2, c3} {
		ok(t, s.CreateCoupon(ctx, c))
	}
	got, err := s.GetCoupon(ctx, c1.ID)
	ok(t, err)
	diff(t, c1, got)
	list, err := s.ListCoupons(ctx, "u1")
	ok(t, err)
	diff(t, []*core.Coupon{c1, c2}, list)
	wantKind(t, s.CreateCoupon(ctx, &core.Coupon{ID: c1.ID, UserID: "u1"}), core.KindConflict)

	ok(t, s.DeleteCoupon(ctx, c1.ID))
	_, err = s.GetCoupon(ctx, c1.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteCoupon(ctx, c1.ID), core.KindNotFound)
}

func testProjectLimitsAndUsage(t *testing.T, s core.Store) {
	ctx := context.Background()
	_, err := s.GetProjectLimits(ctx, "p1")
	wantKind(t, err, core.KindNotFound)
	l := &core.ProjectLimits{ProjectID: "p1", Usage: 1 << 40, Bandwidth: 50_000_000_000, Rate: 5, Buckets: 3, UpdatedAt: base}
	ok(t, s.PutProjectLimits(ctx, l))
	got, err := s.GetProjectLimits(ctx, "p1")
	ok(t, err)
	diff(t, l, got)
	l.Rate, l.Buckets = 0, 7
	ok(t, s.PutProjectLimits(ctx, l))
	got, err = s.GetProjectLimits(ctx, "p1")
	ok(t, err)
	diff(t, l, got)

	u1 := &core.ProjectUsage{ProjectID: "p1", Month: "2026-02", StoredBytes: 10, EgressBytes: 20, UpdatedAt: base}
	u2 := &core.ProjectUsage{ProjectID: "p1", Month: "2026-03", StoredBytes: 11, EgressBytes: 1 << 41, UpdatedAt: base}
	u3 := &core.ProjectUsage{ProjectID: "p2", Month: "2026-03", StoredBytes: 5, UpdatedAt: base}
	for _, u := range []*core.ProjectUsage{u1, u2, u3} {
		ok(t, s.PutProjectUsage(ctx, u))
	}
	gotU, err := s.GetProjectUsage(ctx, "p1", "2026-03")
	ok(t, err)
	diff(t, u2, gotU)
	_, err = s.GetProjectUsage(ctx, "p1", "2026-04")
	wantKind(t, err, core.KindNotFound)
	u2.StoredBytes = 99
	ok(t, s.PutProjectUsage(ctx, u2))
	all, err := s.ListProjectUsage(ctx, "p1", "")
	ok(t, err)
	diff(t, []*core.ProjectUsage{u1, u2}, all)
	month, err := s.ListProjectUsage(ctx, "", "2026-03")
	ok(t, err)
	diff(t, []*core.ProjectUsage{u2, u3}, month)
	none, err := s.ListProjectUsage(ctx, "p3", "")
	ok(t, err)
	if len(none) != 0 {
		t.Fatalf("p3 usage: %v", none)
	}

	cs, err := s.EgressCounters(ctx)
	ok(t, err)
	if len(cs) != 0 {
		t.Fatalf("counters: %v", cs)
	}
	ok(t, s.PutEgressCounter(ctx, "i1", 100))
	ok(t, s.PutEgressCounter(ctx, "i2", 1<<40))
	ok(t, s.PutEgressCounter(ctx, "i1", 150))
	cs, err = s.EgressCounters(ctx)
	ok(t, err)
	diff(t, map[string]int64{"i1": 150, "i2": 1 << 40}, cs)
}
