package core_test

import (
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/core/instance"
)

// TestLifecycleTable checks every cell of the instance lifecycle: the state
// each action leads to from each state, and for each refused cell a conflict
// (reason invalid_state) that names the instance, its state and the states the
// action needs.
func TestLifecycleTable(t *testing.T) {
	actions := []instance.InstanceAction{
		instance.ActionStart, instance.ActionStop, instance.ActionReboot, instance.ActionRescue, instance.ActionUnrescue,
		instance.ActionDelete, instance.ActionTransfer, instance.ActionReady, instance.ActionFail,
		instance.ActionSeenActive, instance.ActionSeenStopped, instance.ActionSeenError,
	}
	states := []core.InstanceState{
		core.StateBuilding, core.StateActive, core.StateRebooting, core.StateStopped,
		core.StateError, core.StateRescue, core.StateDeleted,
	}
	const x = "" // refused
	want := map[core.InstanceState][]core.InstanceState{
		// columns: the actions above, in their order
		core.StateBuilding:  {x, x, x, x, x, "deleted", x, "active", "error", x, x, x},
		core.StateActive:    {x, "stopped", "rebooting", "rescue", x, "deleted", "active", "active", "error", "active", "stopped", "error"},
		core.StateRebooting: {x, x, x, x, x, "deleted", x, "active", "error", x, x, x},
		core.StateStopped:   {"building", x, "rebooting", x, x, "deleted", "stopped", x, "error", "active", "stopped", "error"},
		core.StateError:     {"building", "stopped", "rebooting", x, x, "deleted", "error", x, "error", "active", "stopped", "error"},
		core.StateRescue:    {x, x, x, x, "building", "deleted", x, x, "error", x, x, x},
		core.StateDeleted:   {x, x, x, x, x, "deleted", x, x, x, x, x, x},
	}
	if len(want) != len(states) {
		t.Fatalf("the test covers %d of %d states", len(want), len(states))
	}
	// needs lists, in the order of states, where an action is allowed.
	needs := func(col int) []string {
		var out []string
		for _, st := range states {
			if want[st][col] != x {
				out = append(out, string(st))
			}
		}
		return out
	}
	for _, from := range states {
		if len(want[from]) != len(actions) {
			t.Fatalf("row %s has %d cells for %d actions", from, len(want[from]), len(actions))
		}
		for i, a := range actions {
			in := &core.Instance{ID: "0190b6c4-6d5a-7000-8000-000000000001", Name: "vm-1", State: from}
			next, err := instance.Lifecycle(in, a)
			if w := want[from][i]; w != x {
				if err != nil || next != w {
					t.Errorf("%s × %s = %q, %v; want %s", from, a, next, err, w)
				}
				continue
			}
			if core.ErrorKind(err) != core.KindConflict || core.ErrorReason(err) != "invalid_state" || next != "" {
				t.Errorf("%s × %s = %q, %v; want the refusal", from, a, next, err)
				continue
			}
			if p := core.ErrorParams(err); p["instance_id"] != in.ID || p["instance_status"] != string(from) {
				t.Errorf("%s × %s: params %v", from, a, p)
			}
			msg := core.ErrorMessage(err)
			head := "cannot " + string(a) + " instance vm-1: it is " + string(from)
			if !strings.HasPrefix(msg, head) {
				t.Errorf("%s × %s: message %q, want it to start %q", from, a, msg, head)
			}
			need := needs(i)
			for _, st := range need {
				if !strings.Contains(msg[len(head):], string(st)) {
					t.Errorf("%s × %s: message %q does not name %s among the states %s needs", from, a, msg, st, a)
				}
			}
		}
	}
}

// TestLifecycleMessages pins the wording of a refusal, which faces show.
func TestLifecycleMessages(t *testing.T) {
	for _, c := range []struct {
		state core.InstanceState
		a     instance.InstanceAction
		want  string
	}{
		{core.StateRescue, instance.ActionReboot, "cannot reboot instance vm-1: it is rescue, and reboot needs active, stopped or error"},
		{core.StateActive, instance.ActionUnrescue, "cannot unrescue instance vm-1: it is active, and unrescue needs rescue"},
		{core.StateStopped, instance.ActionStop, "cannot stop instance vm-1: it is stopped, and stop needs active or error"},
		{core.StateRescue, instance.ActionTransfer, "cannot transfer instance vm-1: it is rescue, and transfer needs active, stopped or error"},
	} {
		_, err := instance.Lifecycle(&core.Instance{Name: "vm-1", State: c.state}, c.a)
		if got := core.ErrorMessage(err); got != c.want {
			t.Errorf("%s × %s: %q, want %q", c.state, c.a, got, c.want)
		}
	}
}
