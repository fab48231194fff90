package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/services"
)

// Lists that follow their data (core.List): their stamps, totals and deep
// pages, which a store keeps between calls, must stay what a transaction reads
// afresh after every kind of change.

// seedListClients creates n clients in one transaction, a minute apart from
// base, on servers s1 and s2 in turn.
func seedListClients(t testing.TB, s Store, n int) []*core.Client {
	t.Helper()
	ctx := context.Background()
	out := make([]*core.Client, n)
	ok(t, s.InTx(ctx, func(q services.Queries) error {
		for i := range n {
			at := base.Add(time.Duration(i) * time.Minute)
			c := &core.Client{Name: fmt.Sprintf("c-%05d", n-i), Email: fmt.Sprintf("c%05d@example.com", i), Lang: "en",
				ServerID: []string{"s1", "s2"}[i%2], Status: core.ClientActive, CreatedAt: at, UpdatedAt: at}
			if i%7 == 0 {
				exp := date(2026, 1+time.Month(i%12), 1)
				c.ExpireDate = &exp
			}
			if err := q.CreateClient(ctx, c); err != nil {
				return err
			}
			out[i] = c
		}
		return nil
	}))
	return out
}

// freshClients lists in a transaction, which keeps nothing between calls.
func freshClients(t testing.TB, s Store, f core.ClientFilter) ([]string, int) {
	t.Helper()
	var l core.List[cloud.ClientRow]
	ok(t, s.InTx(context.Background(), func(q services.Queries) (err error) {
		l, err = q.ListClients(context.Background(), f)
		return err
	}))
	return clientNames(l), l.Total
}

func clientNames(l core.List[cloud.ClientRow]) []string {
	out := []string{}
	for _, c := range l.Items {
		out = append(out, c.Name)
	}
	return out
}

func testListPages(t *testing.T, s Store) {
	ctx := context.Background()
	// More than two strides of kept page starts, so that deep pages are found
	// from a start and past the last one.
	const n = 1300
	cs := seedListClients(t, s, n)

	filters := []core.ClientFilter{
		{},
		{Page: core.Page{Sort: []string{"-created_at"}}},
		{Page: core.Page{Sort: []string{"name"}}},
		{Page: core.Page{Sort: []string{"expire_date"}}}, // may be NULL: found by OFFSET
		{Page: core.Page{Sort: []string{"-email"}}},      // no index: found by OFFSET
		{ServerID: ptr("s2")},
		{Name: ptr("c-01")},
	}
	check := func(when string) {
		t.Helper()
		for _, f := range filters {
			// The truth: the whole list read fresh once, each page a slice of it.
			all, total := freshClients(t, s, f)
			for _, off := range []int{0, 1, 511, 512, 513, 1000, 1024, 1100, 1250, 1299, 1300, 1301, 5000} {
				for _, limit := range []int{50, 1} {
					f.Page.Offset, f.Page.Limit = off, limit
					got, err := s.ListClients(ctx, f)
					ok(t, err)
					want := all[min(off, len(all)):min(off+limit, len(all))]
					if d := cmpNames(want, clientNames(got)); d != "" || got.Total != total || got.Stamp == "" || got.Unchanged {
						t.Fatalf("%s, %+v: total %d (want %d), stamp %q, names (-want +got):\n%s", when, f, got.Total, total, got.Stamp, d)
					}
				}
			}
		}
	}
	check("as seeded")
	// A page asked again is the same page (its start is kept now).
	check("again")
	// A client before all the others moves every row one place on.
	first := &core.Client{Name: "c-first", Email: "first@example.com", Lang: "en", ServerID: "s2", Status: core.ClientActive,
		CreatedAt: base.Add(-time.Hour)}
	ok(t, s.CreateClient(ctx, first))
	check("after a create")
	// A deleted client leaves the list: every row after it moves back.
	_, err := s.UpdateClient(ctx, cs[600].ID, core.ClientUpdate{Status: ptr(core.ClientDeleted)})
	ok(t, err)
	check("after a delete")
	ok(t, s.InTx(ctx, func(q services.Queries) error {
		for _, c := range cs[100:110] {
			if _, err := q.UpdateClient(ctx, c.ID, core.ClientUpdate{Status: ptr(core.ClientDeleted)}); err != nil {
				return err
			}
		}
		_, err := q.UpdateClient(ctx, cs[1200].ID, core.ClientUpdate{Name: ptr("a-renamed")})
		return err
	}))
	check("after a transaction")
}

func cmpNames(want, got []string) string {
	if fmt.Sprint(want) == fmt.Sprint(got) {
		return ""
	}
	return fmt.Sprintf("- %v\n+ %v", want, got)
}

// stamps checks that the list read by list moves its stamp after change and
// answers Unchanged to the stamp it had before otherwise.
type stamps struct {
	t    *testing.T
	list func(since core.Stamp) (core.Stamp, bool)
	last core.Stamp
}

func newStamps(t *testing.T, list func(since core.Stamp) (core.Stamp, bool)) *stamps {
	t.Helper()
	s := &stamps{t: t, list: list}
	s.last, _ = list("")
	if s.last == "" {
		t.Fatal("a list that follows its data has no stamp")
	}
	return s
}

// same checks that nothing changed since the last look.
func (s *stamps) same(what string) {
	s.t.Helper()
	if st, unchanged := s.list(s.last); !unchanged || st != s.last {
		s.t.Fatalf("%s: stamp %q unchanged=%v, want %q unchanged", what, st, unchanged, s.last)
	}
}

// moved checks that the list changed since the last look.
func (s *stamps) moved(what string) {
	s.t.Helper()
	st, unchanged := s.list(s.last)
	if unchanged || st == s.last || st == "" {
		s.t.Fatalf("%s: stamp %q unchanged=%v, want a new one than %q", what, st, unchanged, s.last)
	}
	s.last = st
}

func testListStamps(t *testing.T, s Store) {
	ctx := context.Background()
	srv := newServer(t, s, "node", nil)
	in := &core.Instance{Name: "hd-1", ServerID: srv.ID, State: core.StateActive}
	ok(t, s.CreateInstance(ctx, in))
	c := newClient(t, s, "acme", func(c *core.Client) { c.InstanceID = in.ID })

	clients := newStamps(t, func(since core.Stamp) (core.Stamp, bool) {
		l, err := s.ListClients(ctx, core.ClientFilter{Page: core.Page{Limit: 10, Since: since}})
		ok(t, err)
		if !l.Unchanged && (len(l.Items) == 0 || l.Items[0].Instance == nil || l.Items[0].Instance.ID != in.ID) {
			t.Fatalf("clients = %+v", l.Items)
		}
		return l.Stamp, l.Unchanged
	})
	numbered := newStamps(t, func(since core.Stamp) (core.Stamp, bool) {
		l, err := s.ListNumberedInstances(ctx, core.InstanceFilter{Page: core.Page{Limit: 10, Since: since}})
		ok(t, err)
		return l.Stamp, l.Unchanged
	})
	clients.same("nothing written")
	numbered.same("nothing written")

	// A write outside a transaction, and one inside.
	_, err := s.UpdateClient(ctx, c.ID, core.ClientUpdate{Phone: ptr("+1")})
	ok(t, err)
	clients.moved("a client updated")
	numbered.same("a client updated")
	ok(t, s.InTx(ctx, func(q services.Queries) error {
		_, err := q.UpdateInstance(ctx, in.ID, core.InstanceUpdate{State: ptr(core.StateStopped)})
		return err
	}))
	clients.moved("its instance updated in a transaction") // the page shows it
	numbered.moved("an instance updated in a transaction")
	// A write that fails changes nothing that was kept.
	wantKind(t, s.CreateClient(ctx, &core.Client{Name: "acme", Email: "x@example.com", Status: core.ClientActive}), core.KindConflict)
	l, err := s.ListClients(ctx, core.ClientFilter{Page: core.Page{Limit: 10}})
	ok(t, err)
	if l.Total != 1 {
		t.Fatalf("total %d after a refused create", l.Total)
	}

	// Machines follow their assignments, their pools and, through a cascade,
	// their users.
	p := newPool(t, s, "lab", nil)
	m := &core.Instance{Name: "trs-1", ServerID: srv.ID, ProjectID: p.ID, State: core.StateActive}
	ok(t, s.CreateInstance(ctx, m))
	u := &core.User{Name: "mia", Role: core.RoleMember}
	ok(t, s.CreateUser(ctx, u))
	machines := newStamps(t, func(since core.Stamp) (core.Stamp, bool) {
		l, err := s.ListPoolMachines(ctx, core.MachineFilter{Page: core.Page{Since: since}})
		ok(t, err)
		return l.Stamp, l.Unchanged
	})
	machines.same("nothing written")
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m.ID, SubjectType: machine.SubjectUser, SubjectID: u.ID}))
	machines.moved("a user assigned")
	_, err = s.UpdatePool(ctx, p.ID, desktop.PoolInput{NetworkID: ptr("net-2")})
	ok(t, err)
	machines.moved("the pool's network changed")
	ok(t, s.DeleteUser(ctx, u.ID))
	machines.moved("the user deleted, and its assignment with it")
	l2, err := s.ListPoolMachines(ctx, core.MachineFilter{})
	ok(t, err)
	if len(l2.Items) != 1 || len(l2.Items[0].Users) != 0 {
		t.Fatalf("machines = %+v", l2.Items)
	}
}

// ReplicaOpener returns two stores on one new, empty database, as two
// replicas of hostdeck would have; it closes them through t.Cleanup.
type ReplicaOpener func(t testing.TB) (Store, Store)

// RunReplicas checks that what one store keeps of its lists never outlives a
// change another store, on the same database, commits.
func RunReplicas(t *testing.T, open ReplicaOpener) {
	a, b := open(t)
	ctx := context.Background()
	seedListClients(t, a, 700)
	f := core.ClientFilter{Page: core.Page{Limit: 50, Offset: 600}}
	before, err := a.ListClients(ctx, f)
	ok(t, err)
	if before.Total != 700 || len(before.Items) != 50 {
		t.Fatalf("page = %d of %d", len(before.Items), before.Total)
	}
	f.Since = before.Stamp
	for _, change := range []struct {
		name  string
		total int
		fn    func() error
	}{
		{"a create outside a transaction", 701, func() error {
			return b.CreateClient(ctx, &core.Client{Name: "early", Email: "e@example.com", Status: core.ClientActive, CreatedAt: base.Add(-time.Hour)})
		}},
		{"a delete in a transaction", 700, func() error {
			return b.InTx(ctx, func(q services.Queries) error {
				_, err := q.UpdateClient(ctx, before.Items[0].ID, core.ClientUpdate{Status: ptr(core.ClientDeleted)})
				return err
			})
		}},
	} {
		ok(t, change.fn())
		got, err := a.ListClients(ctx, f)
		ok(t, err)
		want, total := freshClients(t, a, f)
		if got.Unchanged || got.Total != change.total || total != change.total || cmpNames(want, clientNames(got)) != "" {
			t.Fatalf("after %s on the other replica: unchanged=%v, total %d, names %v; want total %d, %v",
				change.name, got.Unchanged, got.Total, clientNames(got), change.total, want)
		}
		f.Since = got.Stamp
	}
}
