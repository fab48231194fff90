package core_test

import (
	"context"
	"encoding/base64"
	"testing"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/identity"
	"hostdeck/core/quota"
	"hostdeck/internal/testenv"
)

// newPool creates a TRS project on the seeded catalogue.
func newPool(t *testing.T, e *testenv.Env, name string, mode, quota int, script string) *desktop.Pool {
	t.Helper()
	in := desktop.PoolInput{Name: &name, FlavorID: ptr(flavorSmall), ImageID: ptr(imageSample),
		OperationMode: &mode, MaxInstances: &quota}
	if script != "" {
		in.InstanceInitScript = ptr(base64.StdEncoding.EncodeToString([]byte(script)))
	}
	p, err := e.Desktop.CreatePool(e.AdminCtx(), in)
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

func newGroup(t *testing.T, e *testenv.Env, name string) *core.Group {
	t.Helper()
	g, err := e.Identity.CreateGroup(e.AdminCtx(), identity.GroupInput{Name: &name})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	return g
}

func TestCreateMachines(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	srv := e.Server(t, "node-1", 10)
	p := newPool(t, e, "lab", desktop.ModeStandard, 0, "echo ready > /tmp/ready")
	alice := newMember(t, e, "alice")
	staff := newGroup(t, e, "staff")

	res, err := e.Provision.CreateMachines(ctx, p.ID, 3, nil, []string{staff.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Machines) != 3 || len(res.Tasks) != 3 || len(res.ReservationID) != 10 {
		t.Fatalf("result = %+v", res)
	}
	for i, m := range res.Machines {
		if want := []string{"trs-01", "trs-02", "trs-03"}[i]; m.Name != want {
			t.Errorf("machine %d is %s, want %s", i, m.Name, want)
		}
		if tk := e.WaitTask(t, res.Tasks[i].ID); tk.Status != core.TaskSuccess {
			t.Fatalf("task %s: %s %s", tk.Kind, tk.Status, tk.Error)
		}
		got, err := e.Machine.GetMachine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != core.StateActive || got.ServerID != srv.ID || got.Spec.Image != "hostdeck/sample-client:latest" ||
			got.Spec.Labels[provision.LabelProject] != p.ID || len(got.Groups) != 1 || got.Groups[0] != staff.ID {
			t.Fatalf("machine = %+v", got)
		}
		execs := e.Sim.Execs(srv.ID, got.RuntimeRef)
		if len(execs) != 1 || execs[0].Cmd[0] != "/bin/sh" || execs[0].Cmd[2] != "echo ready > /tmp/ready" {
			t.Fatalf("execs = %+v", execs)
		}
	}

	// Mode 1: one user per machine.
	m := res.Machines[0].ID
	if err := e.Machine.AssignMachineUsers(ctx, m, []string{alice.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.Machine.AssignMachineUsers(ctx, m, []string{alice.ID}); err != nil {
		t.Fatalf("assigning twice: %v", err)
	}
	bob := newMember(t, e, "bob")
	err = e.Machine.AssignMachineUsers(ctx, m, []string{bob.ID})
	if core.ErrorKind(err) != core.KindConflict || core.ErrorReason(err) != machine.ReasonMachineOccupied {
		t.Fatalf("second user in mode 1: %v", err)
	}
	if err := e.Machine.AssignUserMachines(ctx, bob.ID, []string{res.Machines[1].ID, res.Machines[2].ID}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.Machine.ListUserMachines(ctx, bob.ID)
	if err != nil || len(mine) != 2 {
		t.Fatalf("bob's machines = %d %v", len(mine), err)
	}
	if err := e.Machine.UnassignMachineUser(ctx, m, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Machine.UnassignMachineUser(ctx, m, alice.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unassign twice: %v", err)
	}
	if err := e.Machine.UnassignMachineGroup(ctx, m, staff.ID); err != nil {
		t.Fatal(err)
	}
	hist, err := e.Machine.MachineHistory(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"group assign", "user assign", "user unassign", "group unassign"}
	if len(hist) != len(want) {
		t.Fatalf("history = %+v", hist)
	}
	for i, h := range hist {
		if h.SubjectType+" "+h.Action != want[i] || h.Actor != "admin" {
			t.Errorf("history %d = %+v, want %s by admin", i, h, want[i])
		}
	}

	// Filters.
	assigned, err := core.ParseModifier("neq:true")
	if err != nil {
		t.Fatal(err)
	}
	free, err := e.Machine.ListMachines(ctx, machine.MachineQuery{Assigned: &assigned})
	if err != nil || len(free.Items) != 1 || free.Items[0].ID != m {
		t.Fatalf("free machines = %v %v", free, err)
	}
	other, err := core.ParseModifier("nin:" + p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if none, err := e.Machine.ListMachines(ctx, machine.MachineQuery{ProjectID: &other}); err != nil || len(none.Items) != 0 {
		t.Fatalf("machines outside the project = %v %v", none, err)
	}
	gt, _ := core.ParseModifier("gt:true")
	if _, err := e.Machine.ListMachines(ctx, machine.MachineQuery{Assigned: &gt}); core.ErrorKind(err) != core.KindInvalid {
		t.Fatalf("gt on a boolean: %v", err)
	}

	// PUT semantics: the lists replace the assignments.
	up, err := e.Machine.UpdateMachine(ctx, m, &[]string{bob.ID}, &[]string{staff.ID})
	if err != nil || len(up.Users) != 1 || up.Users[0] != bob.ID || len(up.Groups) != 1 {
		t.Fatalf("update = %+v %v", up, err)
	}
	if _, err := e.Machine.UpdateMachine(ctx, m, &[]string{bob.ID, alice.ID}, nil); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("two users in mode 1: %v", err)
	}
	if _, err := e.Machine.GetMachine(ctx, unknownID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unknown machine: %v", err)
	}
	if err := e.Machine.AssignMachineUsers(ctx, m, []string{unknownID}); core.ErrorReason(err) != core.ReasonUserNotFound {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestMachineQuotaAndModes(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	e.Server(t, "node-1", 10)
	p := newPool(t, e, "small", desktop.ModeSimultaneous, 2, "")
	res, err := e.Provision.CreateMachines(ctx, p.ID, 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Provision.CreateMachines(ctx, p.ID, 1, nil, nil)
	if core.ErrorReason(err) != quota.ReasonQuotaExceeded || core.ErrorParams(err)["project_name"] != "small" {
		t.Fatalf("over quota: %v", err)
	}
	// Mode 2: several users share a machine.
	a, b := newMember(t, e, "ann"), newMember(t, e, "ben")
	if err := e.Machine.AssignMachineUsers(ctx, res.Machines[0].ID, []string{a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	users, err := e.Machine.ListMachineUsers(ctx, res.Machines[0].ID)
	if err != nil || len(users) != 2 {
		t.Fatalf("users = %v %v", users, err)
	}
	// A second project with the same pattern takes the next free names.
	q := newPool(t, e, "other", desktop.ModeStandard, 0, "")
	more, err := e.Provision.CreateMachines(ctx, q.ID, 1, nil, nil)
	if err != nil || more.Machines[0].Name != "trs-03" {
		t.Fatalf("next name = %+v %v", more, err)
	}
	// A full fleet is a conflict.
	if _, err := e.Provision.CreateMachines(ctx, q.ID, 8, nil, nil); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("full fleet: %v", err)
	}
	for _, n := range []int{0, -1} { // one rule for every face: no count means 1 is the face's default, not core's
		if _, err := e.Provision.CreateMachines(ctx, q.ID, n, nil, nil); core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("count %d: %v, want invalid", n, err)
		}
	}
	if _, err := e.Provision.CreateMachines(ctx, unknownID, 1, nil, nil); core.ErrorKind(err) != core.KindInvalid {
		t.Fatalf("unknown project: %v", err)
	}
	for _, tk := range append(res.Tasks, more.Tasks...) {
		if got := e.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
			t.Fatalf("task: %s %s", got.Status, got.Error)
		}
	}
	st, err := e.Machine.PoolStatistics(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (machine.PoolStats{Created: 2, Active: 2, Free: 1, Occupied: 1, Simultaneous: 1}); *st != want {
		t.Fatalf("statistics = %+v, want %+v", *st, want)
	}
}
