package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
)

// testInstanceNumbers checks the numeric instance ids: every instance
// gets the next one when it is created, unique and stable; numbers are never
// reused.
func testInstanceNumbers(t *testing.T, s Store) {
	ctx := context.Background()
	mk := func(name string, at time.Duration) *core.Instance {
		t.Helper()
		in := &core.Instance{Name: name, ServerID: "srv-1", State: core.StateActive, CreatedAt: base.Add(at), UpdatedAt: base.Add(at)}
		ok(t, s.CreateInstance(ctx, in))
		return in
	}
	b := mk("elid-b", time.Minute)
	a := mk("elid-a", 0)
	got := elids(t, s, a.ID, b.ID, "0190b6c4-6d5a-7000-8000-0000000000ff")
	diff(t, map[string]int64{b.ID: 1, a.ID: 2}, got) // creation order, unknown ids left out
	// A failed creation (a duplicate name) takes no number; in a transaction
	// that rolls back neither the instance nor its number stays.
	wantKind(t, s.CreateInstance(ctx, &core.Instance{Name: "elid-a", ServerID: "srv-1", State: core.StateActive}), core.KindConflict)
	errRollback := errors.New("roll back")
	err := core.InTx(ctx, s, func(q provision.Queries) error {
		ok(t, q.CreateInstance(ctx, &core.Instance{Name: "elid-gone", ServerID: "srv-1", State: core.StateActive}))
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled back transaction: %v", err)
	}
	var c *core.Instance
	ok(t, core.InTx(ctx, s, func(q provision.Queries) error {
		c = &core.Instance{Name: "elid-c", ServerID: "srv-1", State: core.StateActive}
		return q.CreateInstance(ctx, c)
	}))
	got = elids(t, s, a.ID, b.ID, c.ID)
	diff(t, map[string]int64{b.ID: 1, a.ID: 2, c.ID: 3}, got)
	id, err := s.InstanceIDByNumber(ctx, 3)
	ok(t, err)
	diff(t, c.ID, id)
	_, err = s.InstanceIDByNumber(ctx, 99)
	wantKind(t, err, core.KindNotFound)
	diff(t, map[string]int64{}, elids(t, s))
}

// elids maps the given instance ids to their numbers, as ListNumberedInstances
// reads them; unknown (and deleted) ones are left out.
func elids(t testing.TB, s Store, ids ...string) map[string]int64 {
	t.Helper()
	list, n, err := listNumbered(context.Background(), s, core.InstanceFilter{IDs: append([]string{}, ids...), Page: core.Page{Limit: 100}})
	ok(t, err)
	out := map[string]int64{}
	for _, in := range list {
		out[in.ID] = in.Number
	}
	if n != len(out) {
		t.Fatalf("total %d for %d instances", n, len(out))
	}
	return out
}

// InstanceNumberBackfill checks that migration 0008 numbers the instances that exist when it
// runs, in creation order, and that numbering goes on from there. open opens the
// same database each time (running pending migrations); exec runs raw SQL on it.
// The test undoes 0008's numbering by hand (its sessions table is gone since
// 0011, which made sessions tokens; 0008 makes it again, unused) and opens the
// database again.
func InstanceNumberBackfill(t *testing.T, open func() Store, exec func(query string)) {
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
		`DROP TABLE instance_elids`, `DROP TABLE instance_elid_seq`,
		`DELETE FROM schema_migrations WHERE version = '0008_billmgr'`,
	} {
		exec(q)
	}
	s = open()
	defer s.Close()
	got := elids(t, s, ins[0].ID, ins[1].ID, ins[2].ID)
	diff(t, map[string]int64{ins[0].ID: 1, ins[1].ID: 2, ins[2].ID: 3}, got)
	next := &core.Instance{Name: "new", ServerID: "srv-1", State: core.StateActive}
	ok(t, s.CreateInstance(ctx, next)) // numbered after the migrated ones
	id, err := s.InstanceIDByNumber(ctx, 4)
	ok(t, err)
	diff(t, next.ID, id)
}

// testNumberedInstances checks the list of numbered instances: one page of the
// instances a filter selects with their numbers, oldest first, deleted ones
// left out of the rows and of the total, pages in the middle, at the end and
// past it, and the visibility rule of InstanceFilter.VisibleTo.
func testNumberedInstances(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	member := newUser(t, s, "pia")
	other := newUser(t, s, "quinn")
	owned := &core.Project{Name: "pia's", OwnerID: member.ID}
	shared := &core.Project{Name: "shared", OwnerID: other.ID}
	foreign := &core.Project{Name: "quinn's", OwnerID: other.ID}
	for _, p := range []*core.Project{owned, shared, foreign} {
		ok(t, s.CreateProject(ctx, p))
	}
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: shared.ID, UserID: member.ID, Role: core.RoleMember}))

	// Created in this order (so numbered 1…8), each a minute older than the last
	// but for "h", the oldest of all.
	byName := map[string]*core.Instance{}
	mk := func(name, project string, at time.Duration, st core.InstanceState) {
		t.Helper()
		in := &core.Instance{Name: name, ServerID: "srv-1", ProjectID: project, State: st,
			CreatedAt: base.Add(at), UpdatedAt: base.Add(at)}
		ok(t, s.CreateInstance(ctx, in))
		byName[name] = in
	}
	mk("a", "", 1*time.Minute, core.StateActive)         // assigned to pia below
	mk("b", owned.ID, 2*time.Minute, core.StateActive)   // pia owns the project
	mk("c", shared.ID, 3*time.Minute, core.StateStopped) // pia has a role
	mk("d", foreign.ID, 4*time.Minute, core.StateActive) // not pia's
	mk("e", owned.ID, 5*time.Minute, core.StateDeleted)  // pia's, deleted
	mk("f", "", 6*time.Minute, core.StateRescue)         // nobody's
	mk("g", shared.ID, 7*time.Minute, core.StateActive)  // pia has a role
	mk("h", owned.ID, -time.Hour, core.StateBuilding)    // pia's, the oldest
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: byName["a"].ID, SubjectType: machine.SubjectUser, SubjectID: member.ID, AssignedAt: base}))
	if _, err := s.UpdateInstance(ctx, byName["d"].ID, core.InstanceUpdate{State: ptr(core.StateDeleted)}); err != nil {
		t.Fatal(err)
	}

	// page lists one page as "name:elid" and checks the rows are whole.
	page := func(f core.InstanceFilter, offset, limit int) ([]string, int) {
		t.Helper()
		f.Page = core.Page{Offset: offset, Limit: limit, Sort: f.Sort}
		list, total, err := listNumbered(ctx, s, f)
		ok(t, err)
		out := []string{}
		for _, in := range list {
			want := byName[in.Name]
			if want == nil || in.ID != want.ID || in.ProjectID != want.ProjectID || !in.CreatedAt.Equal(want.CreatedAt) {
				t.Fatalf("row %+v, want %+v", in.Instance, want)
			}
			out = append(out, fmt.Sprintf("%s:%d", in.Name, in.Number))
		}
		return out, total
	}
	want := func(got []string, total int, wantTotal int, names ...string) {
		t.Helper()
		if total != wantTotal {
			t.Fatalf("total = %d, want %d (page %v)", total, wantTotal, got)
		}
		diff(t, append([]string{}, names...), got)
	}

	// Everything not deleted (d and e are): 6, in pages of 4, 2 and 1.
	all := core.InstanceFilter{}
	g, n := page(all, 0, 4)
	want(g, n, 6, "h:8", "a:1", "b:2", "c:3")
	g, n = page(all, 4, 4) // the last page, read from the end
	want(g, n, 6, "f:6", "g:7")
	g, n = page(all, 2, 2) // the middle
	want(g, n, 6, "b:2", "c:3")
	g, n = page(all, 5, 1)
	want(g, n, 6, "g:7")
	g, n = page(all, 6, 2) // past the end: no rows, the total still right
	want(g, n, 6)
	g, n = page(all, 1000, 2)
	want(g, n, 6)
	g, n = page(core.InstanceFilter{Page: core.Page{Sort: []string{"-name"}}}, 0, 2)
	want(g, n, 6, "h:8", "g:7")

	// A member's: the machine assigned to it, its project's and the shared
	// project's instances; the total counts those only.
	mine := core.InstanceFilter{VisibleTo: &member.ID}
	g, n = page(mine, 0, 10)
	want(g, n, 5, "h:8", "a:1", "b:2", "c:3", "g:7")
	g, n = page(mine, 1, 2)
	want(g, n, 5, "a:1", "b:2")
	g, n = page(mine, 4, 2)
	want(g, n, 5, "g:7")
	g, n = page(mine, 5, 2)
	want(g, n, 5)
	g, n = page(core.InstanceFilter{VisibleTo: &other.ID}, 0, 10)
	want(g, n, 2, "c:3", "g:7") // d is deleted
	nobody := "0190b6c4-6d5a-7000-8000-0000000000ff"
	g, n = page(core.InstanceFilter{VisibleTo: &nobody}, 0, 10)
	want(g, n, 0)

	// The other conditions of InstanceFilter apply as in ListInstances.
	g, n = page(core.InstanceFilter{ProjectID: &owned.ID}, 0, 10)
	want(g, n, 2, "h:8", "b:2")
	g, n = page(core.InstanceFilter{State: ptr(core.StateActive), VisibleTo: &member.ID}, 0, 10)
	want(g, n, 3, "a:1", "b:2", "g:7")
	g, n = page(core.InstanceFilter{IDs: []string{byName["c"].ID, byName["d"].ID}}, 0, 10)
	want(g, n, 1, "c:3")
	g, n = page(core.InstanceFilter{IDs: []string{}}, 0, 10)
	want(g, n, 0)
	_, _, err := listNumbered(ctx, s, core.InstanceFilter{Page: core.Page{Offset: -1, Limit: 1}})
	wantKind(t, err, core.KindInvalid)
}

// listNumbered is ListNumberedInstances as a page and its total.
func listNumbered(ctx context.Context, s Store, f core.InstanceFilter) ([]*core.NumberedInstance, int, error) {
	l, err := s.ListNumberedInstances(ctx, f)
	return l.Items, l.Total, err
}
