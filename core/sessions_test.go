package core_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/session"
	"hostdeck/internal/testenv"
)

func sessionActor(u *core.User) context.Context {
	return core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: "test"})
}

func countAudit(t testing.TB, e *testenv.Env, action string) int {
	t.Helper()
	_, n, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: &action})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordAndListSessions(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := testenv.NewWith(t, testenv.Options{Clock: clock})
	ctx := context.Background()
	vm1 := &core.Instance{Name: "trs-01", ProjectID: "p1", State: core.StateActive}
	vm2 := &core.Instance{Name: "trs-02", ProjectID: "p1", State: core.StateActive}
	for _, in := range []*core.Instance{vm1, vm2} {
		if err := e.Store.CreateInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	alice := newMember(t, e, "alice")

	first, err := e.Session.RecordSession(sessionActor(alice), session.SessionInput{InstanceID: vm1.ID, ConnType: session.ConnWeb,
		ClientIP: "192.168.0.2", ClientOS: "Ubuntu 16.04", ClientInfo: "RSclient 0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if first.UserName != "alice" || first.InstanceName != "trs-01" || first.ProjectID != "p1" || first.ClosedAt != nil {
		t.Fatalf("session = %+v", first)
	}
	tick(time.Minute)
	// A new connection to the same machine closes the open one.
	second, err := e.Session.RecordSession(sessionActor(alice), session.SessionInput{InstanceID: vm1.ID, ConnType: session.ConnClient})
	if err != nil {
		t.Fatal(err)
	}
	tick(time.Minute)
	admin, err := e.Session.RecordSession(e.AdminCtx(), session.SessionInput{InstanceID: vm2.ID, ConnType: session.ConnSSH})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Store.GetSession(ctx, first.ID); got.ClosedAt == nil || !got.ClosedAt.Equal(second.CreatedAt) {
		t.Fatalf("first session not closed by the second: %+v", got)
	}
	if n := countAudit(t, e, "session.record"); n != 3 {
		t.Fatalf("%d session.record events, want 3", n)
	}

	list := func(f session.SessionFilter, want ...string) {
		t.Helper()
		ss, _, err := e.Session.ListSessions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.Session.CountSessions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, s := range ss {
			got = append(got, s.ID)
		}
		if len(got) != len(want) || n != len(want) {
			t.Fatalf("got %v (count %d), want %v", got, n, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	list(session.SessionFilter{}, admin.ID, second.ID, first.ID)
	list(session.SessionFilter{Last: true}, admin.ID, second.ID)
	list(session.SessionFilter{UserID: &core.Cond{Op: core.OpNeq, Values: []string{alice.ID}}}, admin.ID)
	list(session.SessionFilter{CreatedAt: session.TimeRange{LT: &second.CreatedAt}}, first.ID)

	// Bad input.
	for _, in := range []session.SessionInput{
		{},
		{InstanceID: "nope"},
		{InstanceID: unknownID},
		{InstanceID: vm1.ID, ConnType: "rdp"},
		{InstanceID: vm1.ID, ClientIP: "not-an-ip"},
	} {
		if _, err := e.Session.RecordSession(sessionActor(alice), in); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("RecordSession(%+v) = %v, want invalid", in, err)
		}
	}
	for _, f := range []session.SessionFilter{
		{ConnType: ptr("rdp")},
		{UserName: &core.Cond{Op: core.OpGt, Values: []string{"a"}}},
	} {
		if _, _, err := e.Session.ListSessions(ctx, f); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("ListSessions(%+v) = %v, want invalid", f, err)
		}
	}
	if _, err := e.Session.CloseSession(e.AdminCtx(), "nope"); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("CloseSession(nope) = %v", err)
	}
	closed, err := e.Session.CloseSession(e.AdminCtx(), admin.ID)
	if err != nil || closed.ClosedAt == nil {
		t.Fatalf("close = %+v, %v", closed, err)
	}
}

func TestFloatingIPs(t *testing.T) {
	e := testenv.NewWith(t, testenv.Options{Session: session.Config{FloatingIPPool: "10.9.0.0/29"}})
	ctx := e.AdminCtx()
	alice, bob, carol := newMember(t, e, "alice"), newMember(t, e, "bob"), newMember(t, e, "carol")

	// The lowest free address; the network address is never handed out.
	a, err := e.Session.AllocateFloatingIP(ctx, alice.ID, session.FloatingIPRequest{})
	if err != nil || a.Address != "10.9.0.1" {
		t.Fatalf("alice: %+v, %v", a, err)
	}
	// The id an RS client sends is kept.
	b, err := e.Session.AllocateFloatingIP(ctx, bob.ID, session.FloatingIPRequest{Ref: "C3BDC5BA-CDFF-49D0-B84C-AC9329AB1410"})
	if err != nil || b.Address != "10.9.0.2" || b.ID != "c3bdc5ba-cdff-49d0-b84c-ac9329ab1410" {
		t.Fatalf("bob: %+v, %v", b, err)
	}
	if _, err := e.Session.AllocateFloatingIP(ctx, alice.ID, session.FloatingIPRequest{}); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("second allocation = %v, want conflict", err)
	}
	// An address of the pool may be named; a taken one is a conflict.
	if _, err := e.Session.AllocateFloatingIP(ctx, carol.ID, session.FloatingIPRequest{Ref: "10.9.0.2"}); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("taken address = %v, want conflict", err)
	}
	for _, ref := range []string{"10.9.0.0", "10.9.0.7", "10.10.0.1", "garbage"} {
		if _, err := e.Session.AllocateFloatingIP(ctx, carol.ID, session.FloatingIPRequest{Ref: ref}); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("allocate %q = %v, want invalid", ref, err)
		}
	}
	c, err := e.Session.AllocateFloatingIP(ctx, carol.ID, session.FloatingIPRequest{Ref: "10.9.0.6"})
	if err != nil || c.Address != "10.9.0.6" {
		t.Fatalf("carol: %+v, %v", c, err)
	}

	// Change: to the lowest free address other than the current one, keeping the id.
	a2, err := e.Session.ChangeFloatingIP(ctx, alice.ID, session.FloatingIPRequest{})
	if err != nil || a2.Address != "10.9.0.3" || a2.ID != a.ID {
		t.Fatalf("change alice: %+v, %v", a2, err)
	}
	// Change the id only.
	newID := "11fa220f-9f88-406a-ba79-0acbba83c32b"
	a3, err := e.Session.ChangeFloatingIP(ctx, alice.ID, session.FloatingIPRequest{Ref: newID})
	if err != nil || a3.Address != "10.9.0.3" || a3.ID != newID {
		t.Fatalf("change id: %+v, %v", a3, err)
	}

	// Release frees the address; the next allocation takes the lowest again.
	if err := e.Session.ReleaseFloatingIP(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Session.ReleaseFloatingIP(ctx, bob.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("second release = %v", err)
	}
	if _, err := e.Session.ChangeFloatingIP(ctx, bob.ID, session.FloatingIPRequest{}); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("change without one = %v", err)
	}
	b2, err := e.Session.AllocateFloatingIP(ctx, bob.ID, session.FloatingIPRequest{})
	if err != nil || b2.Address != "10.9.0.1" {
		t.Fatalf("bob again: %+v, %v", b2, err)
	}
	u, ip, err := e.Session.UserFloatingIP(ctx, bob.ID)
	if err != nil || u.ID != bob.ID || ip.Address != "10.9.0.1" {
		t.Fatalf("user view: %v %+v %v", u, ip, err)
	}
	if _, _, err := e.Session.UserFloatingIP(ctx, unknownID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unknown user = %v", err)
	}
	if _, err := e.Session.AllocateFloatingIP(ctx, "nope", session.FloatingIPRequest{}); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("bad user id = %v", err)
	}

	// The pool runs out: .1 .2 .3 .4 .5 .6 usable, .7 is the broadcast address.
	for i := range 3 {
		u := newMember(t, e, "filler"+string(rune('a'+i)))
		if _, err := e.Session.AllocateFloatingIP(ctx, u.ID, session.FloatingIPRequest{}); err != nil {
			t.Fatalf("filler %d: %v", i, err)
		}
	}
	last := newMember(t, e, "last")
	if _, err := e.Session.AllocateFloatingIP(ctx, last.ID, session.FloatingIPRequest{}); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("exhausted pool = %v, want conflict", err)
	}
	ips, n, err := e.Session.ListFloatingIPs(ctx, core.Page{})
	if err != nil || n != 6 || len(ips) != 6 {
		t.Fatalf("list = %d %v", n, err)
	}
	if got := countAudit(t, e, "floating_ip.allocate") + countAudit(t, e, "floating_ip.change") + countAudit(t, e, "floating_ip.release"); got != 6+1+2+1 {
		t.Fatalf("%d floating IP audit events", got)
	}
}

func TestConcurrentFloatingIPs(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	users := make([]*core.User, 8)
	for i := range users {
		users[i] = newMember(t, e, "u"+string(rune('a'+i)))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(users))
	for i, u := range users {
		wg.Go(func() { _, errs[i] = e.Session.AllocateFloatingIP(ctx, u.ID, session.FloatingIPRequest{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
	}
	ips, _, _ := e.Session.ListFloatingIPs(ctx, core.Page{})
	seen := map[string]bool{}
	for _, ip := range ips {
		if seen[ip.Address] {
			t.Fatalf("address %s handed out twice", ip.Address)
		}
		seen[ip.Address] = true
	}
	if !seen["172.24.4.1"] || !seen["172.24.4.8"] || len(seen) != 8 {
		t.Fatalf("addresses = %v", seen)
	}
}

func TestVolumeAssignments(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	alice := newMember(t, e, "alice")
	name := "lab"
	p, err := e.Desktop.CreatePool(ctx, desktop.PoolInput{Name: &name, FlavorID: ptr(flavorSmall), ImageID: ptr(imageSample)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Desktop.CreateVolumeAssignment(ctx, core.VolumeAssignment{UserID: alice.ID, ProjectID: p.ID, VolumeID: "vol-1"})
	if err != nil || a.ID != 1 {
		t.Fatalf("create: %+v %v", a, err)
	}
	for _, in := range []core.VolumeAssignment{
		{UserID: alice.ID, ProjectID: p.ID},
		{UserID: unknownID, ProjectID: p.ID, VolumeID: "v"},
		{UserID: alice.ID, ProjectID: unknownID, VolumeID: "v"},
		{UserID: "x", ProjectID: p.ID, VolumeID: "v"},
	} {
		if _, err := e.Desktop.CreateVolumeAssignment(ctx, in); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("create %+v = %v, want invalid", in, err)
		}
	}
	if _, err := e.Desktop.CreateVolumeAssignment(ctx, core.VolumeAssignment{UserID: alice.ID, ProjectID: p.ID, VolumeID: "vol-1"}); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("duplicate = %v", err)
	}
	// The failed create rolled back: the next number is 2.
	b, err := e.Desktop.CreateVolumeAssignment(ctx, core.VolumeAssignment{UserID: alice.ID, ProjectID: p.ID, VolumeID: "vol-2"})
	if err != nil || b.ID != 2 {
		t.Fatalf("second: %+v %v", b, err)
	}
	list, n, err := e.Desktop.ListVolumeAssignments(ctx, core.VolumeAssignmentFilter{VolumeID: &core.Cond{Op: core.OpIn, Values: []string{"vol-2", "x"}}})
	if err != nil || n != 1 || list[0].ID != 2 {
		t.Fatalf("list = %v %d %v", list, n, err)
	}
	if _, _, err := e.Desktop.ListVolumeAssignments(ctx, core.VolumeAssignmentFilter{UserID: &core.Cond{Op: core.OpLt, Values: []string{"a"}}}); core.ErrorKind(err) != core.KindInvalid {
		t.Fatalf("ordered filter = %v", err)
	}
	if err := e.Desktop.DeleteVolumeAssignment(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Desktop.DeleteVolumeAssignment(ctx, 1); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("second delete = %v", err)
	}
	if _, err := e.Desktop.GetVolumeAssignment(ctx, 1); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("get deleted = %v", err)
	}
	if n := countAudit(t, e, "volume_assignment.create") + countAudit(t, e, "volume_assignment.delete"); n != 3 {
		t.Fatalf("%d volume audit events", n)
	}
}
