package postgres_test

import (
	"context"
	"sync"
	"testing"

	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/internal/testenv"
	"hostdeck/store/postgres"
	"hostdeck/store/storetest"
)

func open(t testing.TB) storetest.Store { return testenv.Postgres(t) }

func TestStore(t *testing.T) {
	testenv.PostgresDSN(t) // skips (or fails) without a server
	storetest.Run(t, open)
}

// TestReplicas runs two stores on one schema, as two replicas would.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t testing.TB) (storetest.Store, storetest.Store) {
		dsn := testenv.PostgresDSN(t)
		var dbs [2]storetest.Store
		for i := range dbs {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return dbs[0], dbs[1]
	})
}

// TestConcurrentMigrate starts several stores on one empty schema at once: the
// advisory lock lets exactly one apply the migrations and the others see them.
func TestConcurrentMigrate(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLockFreeMachineSkipsLocked: two transactions at once get different free
// machines, the second passing over the one the first holds.
func TestLockFreeMachineSkipsLocked(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, name := range []string{"m-1", "m-2"} {
		if err := s.CreateInstance(ctx, &core.Instance{Name: name, ServerID: "srv", ProjectID: "p", State: core.StateActive}); err != nil {
			t.Fatal(err)
		}
	}
	held, release := make(chan string), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- core.InTx(ctx, s, func(q handout.Queries) error {
			m, err := q.LockFreeMachine(ctx, "p", core.StateActive)
			if err != nil {
				return err
			}
			held <- m.Name
			<-release
			return nil
		})
	}()
	first := <-held
	var second string
	err := core.InTx(ctx, s, func(q handout.Queries) error {
		m, err := q.LockFreeMachine(ctx, "p", core.StateActive)
		if err == nil {
			second = m.Name
		}
		return err
	})
	close(release)
	if err != nil || <-done != nil || first != "m-1" || second != "m-2" {
		t.Fatalf("first %q, second %q, %v", first, second, err)
	}
}
