package storetest

import (
	"context"
	"fmt"
	"testing"

	"hostdeck/core"
	"hostdeck/core/services"
)

// testServerLoad checks that the counts placement reads follow every change
// that adds, moves or deletes a client or a machine, in a transaction and
// outside one.
func testServerLoad(t *testing.T, s Store) {
	ctx := context.Background()
	want := func(clients, machines map[string]int) {
		t.Helper()
		got, err := s.CountClientsByServer(ctx)
		ok(t, err)
		diff(t, clients, got)
		got, err = s.CountMachinesByServer(ctx)
		ok(t, err)
		diff(t, machines, got)
	}
	a := newClient(t, s, "load-a", func(c *core.Client) { c.ServerID = "s1" })
	b := newClient(t, s, "load-b", func(c *core.Client) { c.ServerID = "s1" })
	newClient(t, s, "load-c", func(c *core.Client) { c.ServerID = "s2"; c.Status = core.ClientDeleted })
	m := &core.Instance{Name: "load-m1", ServerID: "s2", ProjectID: "p1", State: core.StateBuilding}
	ok(t, s.CreateInstance(ctx, m))
	ok(t, s.CreateInstance(ctx, &core.Instance{Name: "load-i1", ServerID: "s2", State: core.StateActive})) // not a machine
	want(map[string]int{"s1": 2}, map[string]int{"s2": 1})

	// A move and a deletion outside a transaction.
	_, err := s.UpdateClient(ctx, a.ID, core.ClientUpdate{ServerID: ptr("s2")})
	ok(t, err)
	_, err = s.UpdateClient(ctx, b.ID, core.ClientUpdate{Status: ptr(core.ClientDeleted)})
	ok(t, err)
	_, err = s.UpdateClient(ctx, b.ID, core.ClientUpdate{Status: ptr(core.ClientDeleted)}) // again: no change
	ok(t, err)
	_, err = s.UpdateClient(ctx, a.ID, core.ClientUpdate{Name: ptr("load-a2")}) // no place changes
	ok(t, err)
	want(map[string]int{"s2": 1}, map[string]int{"s2": 1})

	// A machine moved and another made in a transaction; one rolled back.
	ok(t, s.InTx(ctx, func(q services.Queries) error {
		if _, err := q.UpdateInstance(ctx, m.ID, core.InstanceUpdate{ServerID: ptr("s1"), State: ptr(core.StateActive)}); err != nil {
			return err
		}
		return q.CreateInstance(ctx, &core.Instance{Name: "load-m2", ServerID: "s1", ProjectID: "p1", State: core.StateActive})
	}))
	err = s.InTx(ctx, func(q services.Queries) error {
		if err := q.CreateInstance(ctx, &core.Instance{Name: "load-m3", ServerID: "s1", ProjectID: "p1", State: core.StateActive}); err != nil {
			return err
		}
		return fmt.Errorf("rolled back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	want(map[string]int{"s2": 1}, map[string]int{"s1": 2})
	_, err = s.UpdateInstance(ctx, m.ID, core.InstanceUpdate{State: ptr(core.StateDeleted)})
	ok(t, err)
	_, err = s.UpdateClient(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", core.ClientUpdate{Status: ptr(core.ClientDeleted)})
	wantKind(t, err, core.KindNotFound)
	want(map[string]int{"s2": 1}, map[string]int{"s1": 1})
}

// ServerLoadBackfill checks that migration 0016 counts the clients and
// machines that exist when it runs. open opens the same database each time
// (running pending migrations); exec runs raw SQL on it.
func ServerLoadBackfill(t *testing.T, open func() Store, exec func(query string)) {
	ctx := context.Background()
	s := open()
	for i, srv := range []string{"s1", "s1", "s2"} {
		newClient(t, s, fmt.Sprintf("old-%d", i), func(c *core.Client) { c.ServerID = srv })
	}
	newClient(t, s, "old-deleted", func(c *core.Client) { c.ServerID = "s2"; c.Status = core.ClientDeleted })
	ok(t, s.CreateInstance(ctx, &core.Instance{Name: "old-m", ServerID: "s3", ProjectID: "p1", State: core.StateActive}))
	ok(t, s.Close())
	exec(`DROP TABLE server_load`)
	exec(`DELETE FROM schema_migrations WHERE version = '0016_server_load'`)
	s = open()
	defer s.Close()
	clients, err := s.CountClientsByServer(ctx)
	ok(t, err)
	diff(t, map[string]int{"s1": 2, "s2": 1}, clients)
	machines, err := s.CountMachinesByServer(ctx)
	ok(t, err)
	diff(t, map[string]int{"s3": 1}, machines)
}
