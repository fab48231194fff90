package desktop_test

import (
	"testing"

	"hostdeck/core/desktop"
	"hostdeck/internal/testenv"
)

// New registers the pools' task kinds with core, so that the task runner runs
// them and task lists know them, and schedules the refill of the pools.
func TestNewRegistersTasks(t *testing.T) {
	e := testenv.New(t)
	h := e.Svc.TaskHandlers()
	for _, kind := range []string{desktop.KindMachineCreate, desktop.KindHandOut, desktop.KindPoolRefill, desktop.KindAutoAllocate} {
		if h[kind] == nil {
			t.Errorf("task kind %s is not registered", kind)
		}
	}
	var refill bool
	for _, j := range e.Svc.PeriodicJobs() {
		refill = refill || j.Kind == desktop.KindPoolRefill && j.Every == desktop.PoolRefillEvery
	}
	if !refill {
		t.Errorf("periodic jobs %+v lack %s every %s", e.Svc.PeriodicJobs(), desktop.KindPoolRefill, desktop.PoolRefillEvery)
	}
}
