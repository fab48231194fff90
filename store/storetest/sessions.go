package storetest

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/session"
)

func eqCond(v string) *core.Cond { return &core.Cond{Op: core.OpEq, Values: []string{v}} }

func sessionID(s *session.Session) string { return s.ID }

func newUser(t testing.TB, s Store, name string) *core.User {
	t.Helper()
	u := &core.User{Name: name, Role: core.RoleMember}
	ok(t, s.CreateUser(context.Background(), u))
	return u
}

func testSessions(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	rec := func(user, inst string, at time.Duration, conn string) *session.Session {
		t.Helper()
		ss := &session.Session{UserID: user, UserName: "name-" + user, InstanceID: inst, InstanceName: "vm-" + inst,
			ProjectID: "p1", ConnType: conn, ClientIP: "192.168.0.2", ClientOS: "Ubuntu 16.04",
			ClientInfo: "RSclient 0.1.0", CreatedAt: base.Add(at)}
		ok(t, s.CreateSession(ctx, ss))
		return ss
	}
	a1 := rec("u1", "i1", 0, session.ConnWeb)
	a2 := rec("u1", "i1", time.Minute, session.ConnClient)
	b1 := rec("u2", "i1", 2*time.Minute, session.ConnSSH)
	c1 := rec("u1", "i2", 3*time.Minute, session.ConnWeb)

	got, err := s.GetSession(ctx, a1.ID)
	ok(t, err)
	diff(t, a1, got)
	_, err = s.GetSession(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	list := func(f session.SessionFilter, want ...*session.Session) {
		t.Helper()
		got, total, err := s.ListSessions(ctx, f)
		ok(t, err)
		n, err := s.CountSessions(ctx, f)
		ok(t, err)
		diff(t, ids(want, sessionID), ids(got, sessionID))
		if total != len(want) || n != len(want) {
			t.Fatalf("total %d, count %d, want %d", total, n, len(want))
		}
	}
	// Newest first by default.
	list(session.SessionFilter{}, c1, b1, a2, a1)
	list(session.SessionFilter{UserID: eqCond("u1")}, c1, a2, a1)
	list(session.SessionFilter{UserID: &core.Cond{Op: core.OpNin, Values: []string{"u1"}}}, b1)
	list(session.SessionFilter{UserName: &core.Cond{Op: core.OpIn, Values: []string{"name-u2", "x"}}}, b1)
	list(session.SessionFilter{InstanceID: eqCond("i1"), ConnType: ptr(session.ConnWeb)}, a1)
	list(session.SessionFilter{InstanceName: ptr("vm-i2"), ProjectID: ptr("p1")}, c1)
	list(session.SessionFilter{ProjectID: ptr("nope")})
	// Last: the newest of each (user, machine).
	list(session.SessionFilter{Last: true}, c1, b1, a2)
	list(session.SessionFilter{Last: true, InstanceID: eqCond("i1")}, b1, a2)
	// Date ranges.
	list(session.SessionFilter{CreatedAt: session.TimeRange{GTE: ptr(base.Add(time.Minute)), LT: ptr(base.Add(3 * time.Minute))}}, b1, a2)
	list(session.SessionFilter{CreatedAt: session.TimeRange{GT: ptr(base.Add(time.Minute)), LTE: ptr(base.Add(3 * time.Minute))}}, c1, b1)
	// Pages, from both ends.
	got2, total, err := s.ListSessions(ctx, session.SessionFilter{Page: core.Page{Offset: 3, Limit: 1}})
	ok(t, err)
	if total != 4 || len(got2) != 1 || got2[0].ID != a1.ID {
		t.Fatalf("last page = %d %v", total, ids(got2, sessionID))
	}
	got2, _, err = s.ListSessions(ctx, session.SessionFilter{Last: true, Page: core.Page{Offset: 2, Limit: 2}})
	ok(t, err)
	diff(t, []string{a2.ID}, ids(got2, sessionID))

	// Closing: the open sessions of a pair, then one by id keeps its first time.
	n, err := s.CloseOpenSessions(ctx, "u1", "i1", base.Add(time.Hour))
	ok(t, err)
	if n != 2 {
		t.Fatalf("closed %d, want 2", n)
	}
	closed, err := s.CloseSession(ctx, a1.ID, base.Add(2*time.Hour))
	ok(t, err)
	if closed.ClosedAt == nil || !closed.ClosedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("closed_at = %v", closed.ClosedAt)
	}
	closed, err = s.CloseSession(ctx, c1.ID, base.Add(2*time.Hour))
	ok(t, err)
	if closed.ClosedAt == nil || !closed.ClosedAt.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("closed_at = %v", closed.ClosedAt)
	}
	_, err = s.CloseSession(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", base)
	wantKind(t, err, core.KindNotFound)
	_, _, err = s.ListSessions(ctx, session.SessionFilter{Page: core.Page{Sort: []string{"nope"}}})
	wantKind(t, err, core.KindInvalid)
}

func testFloatingIPs(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")

	_, err := s.GetFloatingIP(ctx, alice.ID)
	wantKind(t, err, core.KindNotFound)
	ip := &session.FloatingIP{ID: "c3bdc5ba-cdff-49d0-b84c-ac9329ab1410", UserID: alice.ID, Address: "172.24.4.1", CreatedAt: base}
	ok(t, s.CreateFloatingIP(ctx, ip))
	got, err := s.GetFloatingIP(ctx, alice.ID)
	ok(t, err)
	diff(t, ip, got)

	// One per user; ids and addresses unique.
	wantKind(t, s.CreateFloatingIP(ctx, &session.FloatingIP{UserID: alice.ID, Address: "172.24.4.9"}), core.KindConflict)
	wantKind(t, s.CreateFloatingIP(ctx, &session.FloatingIP{UserID: bob.ID, Address: "172.24.4.1"}), core.KindConflict)
	wantKind(t, s.CreateFloatingIP(ctx, &session.FloatingIP{ID: ip.ID, UserID: bob.ID, Address: "172.24.4.2"}), core.KindConflict)
	bip := &session.FloatingIP{UserID: bob.ID, Address: "172.24.4.2", CreatedAt: base.Add(time.Second)}
	ok(t, s.CreateFloatingIP(ctx, bip))

	all, total, err := s.ListFloatingIPs(ctx, core.Page{})
	ok(t, err)
	if total != 2 || len(all) != 2 || all[0].UserID != alice.ID || all[1].Address != "172.24.4.2" {
		t.Fatalf("list = %d %+v", total, all)
	}

	upd, err := s.UpdateFloatingIP(ctx, alice.ID, ip.ID, "172.24.4.3")
	ok(t, err)
	if upd.Address != "172.24.4.3" || upd.ID != ip.ID || !upd.CreatedAt.Equal(ip.CreatedAt) {
		t.Fatalf("update = %+v", upd)
	}
	_, err = s.UpdateFloatingIP(ctx, alice.ID, ip.ID, "172.24.4.2")
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateFloatingIP(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", "x", "172.24.4.50")
	wantKind(t, err, core.KindNotFound)

	ok(t, s.DeleteFloatingIP(ctx, alice.ID))
	wantKind(t, s.DeleteFloatingIP(ctx, alice.ID), core.KindNotFound)
	// The released address is free again.
	ok(t, s.CreateFloatingIP(ctx, &session.FloatingIP{UserID: alice.ID, Address: "172.24.4.3"}))

	// Deleting a user releases its floating IP.
	ok(t, s.DeleteUser(ctx, bob.ID))
	_, total, err = s.ListFloatingIPs(ctx, core.Page{})
	ok(t, err)
	if total != 1 {
		t.Fatalf("after user delete: %d floating IPs", total)
	}
}

func testVolumeAssignments(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	p1, p2 := newPool(t, s, "p1", nil), newPool(t, s, "p2", nil)

	a := &core.VolumeAssignment{UserID: alice.ID, ProjectID: p1.ID, VolumeID: "c8327ff2-eb85-4495-ab68-df4aa36d7ae0", CreatedAt: base}
	ok(t, s.CreateVolumeAssignment(ctx, a))
	b := &core.VolumeAssignment{UserID: bob.ID, ProjectID: p1.ID, VolumeID: "vol-b", CreatedAt: base}
	ok(t, s.CreateVolumeAssignment(ctx, b))
	c := &core.VolumeAssignment{UserID: alice.ID, ProjectID: p2.ID, VolumeID: "vol-b", CreatedAt: base}
	ok(t, s.CreateVolumeAssignment(ctx, c))
	if a.ID != 1 || b.ID != 2 || c.ID != 3 {
		t.Fatalf("ids = %d %d %d", a.ID, b.ID, c.ID)
	}
	wantKind(t, s.CreateVolumeAssignment(ctx, &core.VolumeAssignment{UserID: bob.ID, ProjectID: p2.ID, VolumeID: "vol-b"}), core.KindConflict)

	got, err := s.GetVolumeAssignment(ctx, a.ID)
	ok(t, err)
	diff(t, a, got)
	_, err = s.GetVolumeAssignment(ctx, 999)
	wantKind(t, err, core.KindNotFound)

	vid := func(v *core.VolumeAssignment) int64 { return v.ID }
	list := func(f core.VolumeAssignmentFilter, want ...int64) {
		t.Helper()
		got, total, err := s.ListVolumeAssignments(ctx, f)
		ok(t, err)
		gotIDs := []int64{}
		for _, g := range got {
			gotIDs = append(gotIDs, vid(g))
		}
		if want == nil {
			want = []int64{}
		}
		diff(t, want, gotIDs)
		if total != len(want) {
			t.Fatalf("total %d, want %d", total, len(want))
		}
	}
	list(core.VolumeAssignmentFilter{}, 1, 2, 3)
	list(core.VolumeAssignmentFilter{UserID: eqCond(alice.ID)}, 1, 3)
	list(core.VolumeAssignmentFilter{ProjectID: eqCond(p1.ID), VolumeID: eqCond("vol-b")}, 2)
	list(core.VolumeAssignmentFilter{VolumeID: eqCond("nope")})
	list(core.VolumeAssignmentFilter{VolumeID: &core.Cond{Op: core.OpNin, Values: []string{"vol-b"}}}, 1)
	list(core.VolumeAssignmentFilter{UserID: &core.Cond{Op: core.OpNeq, Values: []string{alice.ID}}}, 2)

	ok(t, s.DeleteVolumeAssignment(ctx, b.ID))
	wantKind(t, s.DeleteVolumeAssignment(ctx, b.ID), core.KindNotFound)
	// Numbers are never reused (a failed insert outside a transaction may leave a gap).
	d := &core.VolumeAssignment{UserID: bob.ID, ProjectID: p1.ID, VolumeID: "vol-b"}
	ok(t, s.CreateVolumeAssignment(ctx, d))
	if d.ID <= c.ID {
		t.Fatalf("id after a delete = %d, want more than %d", d.ID, c.ID)
	}
	// Deleting the user takes its assignments.
	ok(t, s.DeleteUser(ctx, alice.ID))
	list(core.VolumeAssignmentFilter{}, d.ID)
}
