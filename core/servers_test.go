package core_test

import (
	"context"
	"sync"
	"testing"

	"hostdeck/core"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/sim"
)

// servers lists every server of e, by name.
func servers(t *testing.T, e *testenv.Env) map[string]*core.Server {
	t.Helper()
	list, _, err := e.Fleet.ListServers(context.Background(), core.ServerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*core.Server, len(list))
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

func ensureLocal(t *testing.T, e *testenv.Env) *core.Server {
	t.Helper()
	srv, err := e.Fleet.EnsureLocalServer(context.Background())
	if err != nil {
		t.Fatalf("ensure local server: %v", err)
	}
	return srv
}

// The first start registers server "local" on the configured runtime with the
// default capacity, audited; later starts leave it as it is.
func TestEnsureLocalServer(t *testing.T) {
	e := testenv.NewWith(t, testenv.Options{
		Config:   core.Config{DefaultRuntime: "other"},
		Runtimes: map[string]core.Runtime{"other": sim.New(sim.Options{})},
	})
	srv := ensureLocal(t, e)
	if srv == nil || srv.Name != fleet.LocalServer || srv.Runtime != "other" || srv.Capacity != fleet.DefaultCapacity ||
		srv.Status != core.ServerActive || srv.Address != "" {
		t.Fatalf("local server = %+v", srv)
	}
	if got := servers(t, e); len(got) != 1 || got[fleet.LocalServer] == nil || got[fleet.LocalServer].ID != srv.ID {
		t.Fatalf("servers = %v", got)
	}
	action := "server.create_local"
	events, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: &action})
	if err != nil || len(events) != 1 || events[0].TargetID != srv.ID || events[0].Actor != "system" {
		t.Fatalf("audit = %v, %v", events, err)
	}
	if again := ensureLocal(t, e); again != nil {
		t.Fatalf("second start created %+v", again)
	}
	// A client can be placed at once.
	_, tk := createClient(t, e, "Fresh")
	if got := e.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
		t.Fatalf("client on the local server: %s %s", got.Status, got.Error)
	}
}

// An operator's change to the local server stands: renamed, it is not added
// again under its old name; deleted, it stays deleted.
func TestEnsureLocalServerRemembers(t *testing.T) {
	e := testenv.New(t)
	srv := ensureLocal(t, e)
	name := "box"
	if _, err := e.Fleet.UpdateServer(e.AdminCtx(), srv.ID, fleet.ServerInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if again := ensureLocal(t, e); again != nil {
		t.Fatalf("created again after a rename: %+v", again)
	}
	if err := e.Fleet.DeleteServer(e.AdminCtx(), srv.ID); err != nil {
		t.Fatal(err)
	}
	if again := ensureLocal(t, e); again != nil {
		t.Fatalf("created again after a delete: %+v", again)
	}
	if got := servers(t, e); len(got) != 0 {
		t.Fatalf("servers = %v", got)
	}
}

// A server named "local" that an operator made is taken as the local server:
// no error, nothing added, nothing changed.
func TestEnsureLocalServerNameTaken(t *testing.T) {
	e := testenv.New(t)
	own := e.Server(t, fleet.LocalServer, 3)
	if srv := ensureLocal(t, e); srv != nil {
		t.Fatalf("created %+v beside the operator's", srv)
	}
	if got := servers(t, e); len(got) != 1 || got[fleet.LocalServer].ID != own.ID || got[fleet.LocalServer].Capacity != 3 {
		t.Fatalf("servers = %v", got)
	}
}

// An install upgraded from before the local server has its fleet already: none
// of its operator's choosing is added to its placement.
func TestEnsureLocalServerUpgrade(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "node-1", 3)
	if srv := ensureLocal(t, e); srv != nil {
		t.Fatalf("created %+v in a fleet that has a server", srv)
	}
	if got := servers(t, e); len(got) != 1 || got["node-1"] == nil {
		t.Fatalf("servers = %v", got)
	}
}

// Replicas starting at once create one local server between them; the others
// find the name taken and carry on.
func TestEnsureLocalServerConcurrent(t *testing.T) {
	ensureConcurrently(t, testenv.New(t))
}

func TestEnsureLocalServerConcurrentOnPostgres(t *testing.T) {
	ensureConcurrently(t, testenv.NewWith(t, testenv.Options{Store: testenv.Postgres(t)}))
}

func ensureConcurrently(t *testing.T, e *testenv.Env) {
	const n = 8
	var wg sync.WaitGroup
	created := make(chan *core.Server, n)
	for range n {
		wg.Go(func() {
			srv, err := e.Fleet.EnsureLocalServer(context.Background())
			if err != nil {
				t.Errorf("ensure local server: %v", err)
			}
			if srv != nil {
				created <- srv
			}
		})
	}
	wg.Wait()
	close(created)
	if len(created) != 1 {
		t.Errorf("%d replicas created the local server, want 1", len(created))
	}
	if got := servers(t, e); len(got) != 1 || got[fleet.LocalServer] == nil {
		t.Fatalf("servers = %v", got)
	}
}
