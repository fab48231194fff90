package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
	"hostdeck/core/quota"
)

func testProjectLimitsAndUsage(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.GetProjectLimits(ctx, "p1")
	wantKind(t, err, core.KindNotFound)
	l := &quota.ProjectLimits{ProjectID: "p1", Usage: 1 << 40, Bandwidth: 50_000_000_000, Rate: 5, Buckets: 3, UpdatedAt: base}
	ok(t, s.PutProjectLimits(ctx, l))
	got, err := s.GetProjectLimits(ctx, "p1")
	ok(t, err)
	diff(t, l, got)
	l.Rate, l.Buckets = 0, 7
	ok(t, s.PutProjectLimits(ctx, l))
	got, err = s.GetProjectLimits(ctx, "p1")
	ok(t, err)
	diff(t, l, got)

	u1 := &quota.ProjectUsage{ProjectID: "p1", Month: "2026-02", StoredBytes: 10, EgressBytes: 20, UpdatedAt: base}
	u2 := &quota.ProjectUsage{ProjectID: "p1", Month: "2026-03", StoredBytes: 11, EgressBytes: 1 << 41, UpdatedAt: base}
	u3 := &quota.ProjectUsage{ProjectID: "p2", Month: "2026-03", StoredBytes: 5, UpdatedAt: base}
	for _, u := range []*quota.ProjectUsage{u1, u2, u3} {
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
	diff(t, []*quota.ProjectUsage{u1, u2}, all)
	month, err := s.ListProjectUsage(ctx, "", "2026-03")
	ok(t, err)
	diff(t, []*quota.ProjectUsage{u2, u3}, month)
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
