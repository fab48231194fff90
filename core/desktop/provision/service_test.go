package provision_test

import (
	"testing"

	"hostdeck/core/desktop/provision"
	"hostdeck/internal/testenv"
)

// New registers the task that creates a machine with core, so that the task
// runner runs it and task lists know it.
func TestNewRegistersTasks(t *testing.T) {
	e := testenv.New(t)
	if e.Svc.TaskHandlers()[provision.KindMachineCreate] == nil {
		t.Errorf("task kind %s is not registered", provision.KindMachineCreate)
	}
	// The kind is stored with every task: a task written before an upgrade must
	// find its handler after it.
	if provision.KindMachineCreate != "machine.create" {
		t.Errorf("task kind %q, want %q", provision.KindMachineCreate, "machine.create")
	}
}
