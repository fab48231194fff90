package handout_test

import (
	"testing"

	"hostdeck/core/desktop/handout"
	"hostdeck/internal/testenv"
)

// New registers the hand-out's task kinds with core, so that the task runner
// runs them and task lists know them, and schedules the refill of the pools.
func TestNewRegistersTasks(t *testing.T) {
	e := testenv.New(t)
	h := e.Svc.TaskHandlers()
	for _, kind := range []string{handout.KindHandOut, handout.KindPoolRefill, handout.KindAutoAllocate} {
		if h[kind] == nil {
			t.Errorf("task kind %s is not registered", kind)
		}
	}
	var refill bool
	for _, j := range e.Svc.PeriodicJobs() {
		refill = refill || j.Kind == handout.KindPoolRefill && j.Every == handout.PoolRefillEvery
	}
	if !refill {
		t.Errorf("periodic jobs %+v lack %s every %s", e.Svc.PeriodicJobs(), handout.KindPoolRefill, handout.PoolRefillEvery)
	}
}

// The kinds are stored with every task: a task written before an upgrade must
// find its handler after it.
func TestTaskKindsAreStable(t *testing.T) {
	for got, want := range map[string]string{
		handout.KindHandOut:      "broker.request_vm",
		handout.KindPoolRefill:   "periodic.trs_pool",
		handout.KindAutoAllocate: "trs.auto_allocate",
	} {
		if got != want {
			t.Errorf("task kind %q, want %q", got, want)
		}
	}
}
