package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"hostdeck/core"
)

// testElids checks the numeric instance ids of the billmgr face: every instance
// gets the next one when it is created, unique and stable; numbers are never
// reused.
func testElids(t *testing.T, s core.Store) {
	ctx := context.Background()
	mk := func(name string, at time.Duration) *core.Instance {
		t.Helper()
		in := &core.Instance{Name: name, ServerID: "srv-1", State: core.StateActive, CreatedAt: base.Add(at), UpdatedAt: base.Add(at)}
		ok(t, s.CreateInstance(ctx, in))
		return in
	}
	b := mk("elid-b", time.Minute)
	a := mk("elid-a", 0)
	got, err := s.InstanceElids(ctx, []string{a.ID, b.ID, "0190b6c4-6d5a-7000-8000-0000000000ff"})
	ok(t, err)
	diff(t, map[string]int64{b.ID: 1, a.ID: 2}, got) // creation order, unknown ids left out
	// A failed creation (a duplicate name) takes no number; in a transaction
	// that rolls back neither the instance nor its number stays.
	wantKind(t, s.CreateInstance(ctx, &core.Instance{Name: "elid-a", ServerID: "srv-1", State: core.StateActive}), core.KindConflict)
	errRollback := errors.New("roll back")
	err = s.InTx(ctx, func(q core.Queries) error {
		ok(t, q.CreateInstance(ctx, &core.Instance{Name: "elid-gone", ServerID: "srv-1", State: core.StateActive}))
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled back transaction: %v", err)
	}
	var c *core.Instance
	ok(t, s.InTx(ctx, func(q core.Queries) error {
		c = &core.Instance{Name: "elid-c", ServerID: "srv-1", State: core.StateActive}
		return q.CreateInstance(ctx, c)
	}))
	got, err = s.InstanceElids(ctx, []string{a.ID, b.ID, c.ID})
	ok(t, err)
	diff(t, map[string]int64{b.ID: 1, a.ID: 2, c.ID: 3}, got)
	id, err := s.InstanceIDByElid(ctx, 3)
	ok(t, err)
	diff(t, c.ID, id)
	_, err = s.InstanceIDByElid(ctx, 99)
	wantKind(t, err, core.KindNotFound)
	got, err = s.InstanceElids(ctx, nil)
	ok(t, err)
	diff(t, map[string]int64{}, got)
}

func testBillmgrSessions(t *testing.T, s core.Store) {
	ctx := context.Background()
	u := newUser(t, s, "panel-user")
	old := &core.BillmgrSession{IDHash: core.TokenHash("old"), UserID: u.ID, CreatedAt: base, LastUsedAt: base}
	fresh := &core.BillmgrSession{IDHash: core.TokenHash("fresh"), UserID: u.ID, CreatedAt: base, LastUsedAt: base}
	ok(t, s.CreateBillmgrSession(ctx, old))
	ok(t, s.CreateBillmgrSession(ctx, fresh))
	wantKind(t, s.CreateBillmgrSession(ctx, &core.BillmgrSession{IDHash: old.IDHash, UserID: u.ID, CreatedAt: base}), core.KindConflict)
	got, err := s.GetBillmgrSession(ctx, fresh.IDHash)
	ok(t, err)
	diff(t, fresh, got)
	_, err = s.GetBillmgrSession(ctx, core.TokenHash("nope"))
	wantKind(t, err, core.KindNotFound)

	later := base.Add(50 * time.Minute)
	ok(t, s.TouchBillmgrSession(ctx, fresh.IDHash, later))
	wantKind(t, s.TouchBillmgrSession(ctx, core.TokenHash("nope"), later), core.KindNotFound)
	got, err = s.GetBillmgrSession(ctx, fresh.IDHash)
	ok(t, err)
	if !got.LastUsedAt.Equal(later) || !got.CreatedAt.Equal(base) {
		t.Fatalf("after touch: %+v", got)
	}
	n, err := s.DeleteBillmgrSessions(ctx, base.Add(40*time.Minute))
	ok(t, err)
	if n != 1 {
		t.Fatalf("deleted %d idle sessions, want 1", n)
	}
	_, err = s.GetBillmgrSession(ctx, old.IDHash)
	wantKind(t, err, core.KindNotFound)
	_, err = s.GetBillmgrSession(ctx, fresh.IDHash)
	ok(t, err)
}

// ElidBackfill checks that migration 0008 numbers the instances that exist when it
// runs, in creation order, and that numbering goes on from there. open opens the
// same database each time (running pending migrations); exec runs raw SQL on it.
// The test undoes 0008 by hand and opens the database again.
func ElidBackfill(t *testing.T, open func() core.Store, exec func(query string)) {
	ctx := context.Background()
	s := open()
	var ins []*core.Instance
	for i, name := range []string{"old-b", "old-a", "old-c"} {
		in := &core.Instance{Name: name, ServerID: "srv-1", State: core.StateActive,
			CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: base}
		ok(t, s.CreateInstance(ctx, in))
		ins = append(ins, in)
	}
	ok(t, s.Close())
	for _, q := range []string{
		`DROP TABLE instance_elids`, `DROP TABLE instance_elid_seq`, `DROP TABLE billmgr_sessions`,
		`DELETE FROM schema_migrations WHERE version = '0008_billmgr'`,
	} {
		exec(q)
	}
	s = open()
	defer s.Close()
	got, err := s.InstanceElids(ctx, []string{ins[0].ID, ins[1].ID, ins[2].ID})
	ok(t, err)
	diff(t, map[string]int64{ins[0].ID: 1, ins[1].ID: 2, ins[2].ID: 3}, got)
	next := &core.Instance{Name: "new", ServerID: "srv-1", State: core.StateActive}
	ok(t, s.CreateInstance(ctx, next)) // numbered after the migrated ones
	id, err := s.InstanceIDByElid(ctx, 4)
	ok(t, err)
	diff(t, next.ID, id)
}
