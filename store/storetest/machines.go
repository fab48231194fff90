package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
)

func testMachines(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	srv := &core.Server{Name: "node", Runtime: "sim", Capacity: 10, Status: core.ServerActive}
	ok(t, s.CreateServer(ctx, srv))
	u := &core.User{Name: "mia", Role: core.RoleMember}
	ok(t, s.CreateUser(ctx, u))
	g := &core.Group{Name: "crew"}
	ok(t, s.CreateGroup(ctx, g))

	mk := func(name, project string, state core.InstanceState) *core.Instance {
		in := &core.Instance{Name: name, ServerID: srv.ID, ProjectID: project, State: state, Spec: core.InstanceSpec{Name: name}}
		ok(t, s.CreateInstance(ctx, in))
		return in
	}
	m1 := mk("trs-01", "p1", core.StateActive)
	m2 := mk("trs-02", "p1", core.StateBuilding)
	m3 := mk("lab-1", "p2", core.StateActive)
	mk("trs-03", "p1", core.StateDeleted)
	mk("hd-client", "", core.StateActive) // not a machine

	counts, err := s.CountMachinesByServer(ctx)
	ok(t, err)
	if counts[srv.ID] != 3 {
		t.Fatalf("machines by server = %v", counts)
	}
	names, err := s.ListInstanceNames(ctx, "trs-")
	ok(t, err)
	if len(names) != 3 {
		t.Fatalf("names = %v", names)
	}
	names, err = s.ListInstanceNames(ctx, "TRS-") // case matters
	ok(t, err)
	if len(names) != 0 {
		t.Fatalf("names = %v", names)
	}
	names, err = s.ListInstanceNames(ctx, "trs_") // '_' is not a wildcard
	ok(t, err)
	if len(names) != 0 {
		t.Fatalf("names = %v", names)
	}

	// Assignments: a conflict when present, NotFound when missing.
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: machine.SubjectUser, SubjectID: u.ID, AssignedAt: base}))
	wantKind(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: machine.SubjectUser, SubjectID: u.ID}), core.KindConflict)
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m2.ID, SubjectType: machine.SubjectGroup, SubjectID: g.ID, AssignedAt: base}))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m2.ID, SubjectType: machine.SubjectUser, SubjectID: u.ID, AssignedAt: base.Add(1)}))
	wantKind(t, s.RemoveMachineAssignment(ctx, m3.ID, machine.SubjectUser, u.ID), core.KindNotFound)

	wantKind(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: "robot", SubjectID: u.ID}), core.KindInvalid)

	all, err := s.ListMachineAssignments(ctx, machine.AssignmentFilter{MachineIDs: []string{m1.ID, m2.ID, m3.ID}})
	ok(t, err)
	if len(all) != 3 || !all[0].AssignedAt.Equal(base) {
		t.Fatalf("assignments = %+v", all)
	}
	users := machine.SubjectUser
	mine, err := s.ListMachineAssignments(ctx, machine.AssignmentFilter{SubjectType: &users, SubjectID: &u.ID})
	ok(t, err)
	if len(mine) != 2 {
		t.Fatalf("user's assignments = %+v", mine)
	}

	list := func(f core.MachineFilter) []string {
		t.Helper()
		ms, total, err := s.ListMachines(ctx, f)
		ok(t, err)
		if total != len(ms) {
			t.Fatalf("total %d, %d listed", total, len(ms))
		}
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.Name
		}
		return out
	}
	want := func(got []string, names ...string) {
		t.Helper()
		if len(got) != len(names) {
			t.Fatalf("machines = %v, want %v", got, names)
		}
		for i := range got {
			if got[i] != names[i] {
				t.Fatalf("machines = %v, want %v", got, names)
			}
		}
	}
	want(list(core.MachineFilter{}), "trs-01", "trs-02", "lab-1")
	want(list(core.MachineFilter{ProjectID: &core.Cond{Op: core.OpEq, Values: []string{"p1"}}}), "trs-01", "trs-02")
	want(list(core.MachineFilter{ProjectID: &core.Cond{Op: core.OpNeq, Values: []string{"p1"}}}), "lab-1")
	want(list(core.MachineFilter{ProjectID: &core.Cond{Op: core.OpIn, Values: []string{"p1", "p2"}}}), "trs-01", "trs-02", "lab-1")
	want(list(core.MachineFilter{ProjectID: &core.Cond{Op: core.OpNin, Values: []string{"p1"}}}), "lab-1")
	want(list(core.MachineFilter{ProjectID: &core.Cond{Op: core.OpGt, Values: []string{"p1"}}}), "lab-1")
	want(list(core.MachineFilter{Assigned: ptr(true)}), "trs-01", "trs-02")
	want(list(core.MachineFilter{Assigned: ptr(false)}), "lab-1")
	want(list(core.MachineFilter{UserID: &u.ID}), "trs-01", "trs-02")
	want(list(core.MachineFilter{GroupID: &g.ID}), "trs-02")
	want(list(core.MachineFilter{IDs: []string{m3.ID}}), "lab-1")
	// The same machines with their users and groups, read in one query; a
	// page counts machines, not their assignments.
	pm, err := s.ListPoolMachines(ctx, core.MachineFilter{})
	ok(t, err)
	diff(t, []string{"trs-01:[" + u.ID + "]:[]", "trs-02:[" + u.ID + "]:[" + g.ID + "]", "lab-1:[]:[]"}, machineRows(pm.Items))
	if pm.Total != 3 || pm.Stamp == "" {
		t.Fatalf("total %d, stamp %q", pm.Total, pm.Stamp)
	}
	pm, err = s.ListPoolMachines(ctx, core.MachineFilter{Page: core.Page{Offset: 1, Limit: 1}})
	ok(t, err)
	diff(t, []string{"trs-02:[" + u.ID + "]:[" + g.ID + "]"}, machineRows(pm.Items))
	if pm.Total != 3 {
		t.Fatalf("total %d", pm.Total)
	}
	pm, err = s.ListPoolMachines(ctx, core.MachineFilter{GroupID: &g.ID})
	ok(t, err)
	diff(t, []string{"trs-02:[" + u.ID + "]:[" + g.ID + "]"}, machineRows(pm.Items))
	_, _, err = s.ListMachines(ctx, core.MachineFilter{ProjectID: &core.Cond{Op: "like", Values: []string{"p"}}})
	wantKind(t, err, core.KindInvalid)
	_, _, err = s.ListMachines(ctx, core.MachineFilter{ProjectID: &core.Cond{Op: core.OpIn, Values: []string{"p1", strings.Repeat("p", core.MaxFilterLen+1)}}})
	wantKind(t, err, core.KindInvalid)
	_, _, err = s.ListMachines(ctx, core.MachineFilter{ProjectID: &core.Cond{Op: core.OpNin, Values: make([]string, core.MaxFilterValues+1)}})
	wantKind(t, err, core.KindInvalid)
	ms, total, err := s.ListMachines(ctx, core.MachineFilter{Page: core.Page{Limit: 1, Offset: 2}})
	ok(t, err)
	if total != 3 || len(ms) != 1 || ms[0].Name != "lab-1" {
		t.Fatalf("page = %d %+v", total, ms)
	}

	ok(t, s.RemoveMachineAssignment(ctx, m2.ID, machine.SubjectGroup, g.ID))
	want(list(core.MachineFilter{GroupID: &g.ID}))

	// LockMachine reads the row, inside a transaction or not.
	got, err := s.LockMachine(ctx, m1.ID)
	ok(t, err)
	if got.Name != "trs-01" {
		t.Fatalf("locked = %+v", got)
	}
	ok(t, core.InTx(ctx, s, func(q machine.Queries) error {
		_, err := q.LockMachine(ctx, m1.ID)
		return err
	}))
	_, err = s.LockMachine(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	// History keeps every line in order, and outlives the user.
	for i, a := range []string{machine.ActionAssign, machine.ActionUnassign} {
		ok(t, s.AddAssignmentEvent(ctx, &machine.AssignmentEvent{MachineID: m1.ID, SubjectType: machine.SubjectUser,
			SubjectID: u.ID, Action: a, Actor: "admin", At: base.Add(time.Duration(i) * time.Second)}))
	}
	ok(t, s.DeleteUser(ctx, u.ID))
	hist, err := s.ListAssignmentEvents(ctx, m1.ID)
	ok(t, err)
	if len(hist) != 2 || hist[0].Action != machine.ActionAssign || hist[1].Action != machine.ActionUnassign ||
		hist[0].Actor != "admin" || !hist[0].At.Equal(base.Truncate(time.Microsecond)) || hist[0].ID == "" {
		t.Fatalf("history = %+v", hist)
	}
	// The user's assignments went with the user.
	want(list(core.MachineFilter{Assigned: ptr(true)}))

	// What a member sees: the machines assigned to it, and the instances of the
	// projects it owns or has a role on.
	visible := func(uid string) []string {
		t.Helper()
		list, _, err := s.ListInstances(ctx, core.InstanceFilter{VisibleTo: &uid, Page: core.Page{Sort: []string{"name"}}})
		ok(t, err)
		return ids(list, func(in *core.Instance) string { return in.Name })
	}
	viewer := &core.User{Name: "nina", Role: core.RoleMember}
	ok(t, s.CreateUser(ctx, viewer))
	diff(t, []string{}, visible(viewer.ID))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: machine.SubjectUser, SubjectID: viewer.ID, AssignedAt: base}))
	diff(t, []string{"trs-01"}, visible(viewer.ID))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: "p2", UserID: viewer.ID, Role: core.RoleMember}))
	diff(t, []string{"lab-1", "trs-01"}, visible(viewer.ID))
	owner := &core.User{Name: "olga", Role: core.RoleMember}
	ok(t, s.CreateUser(ctx, owner))
	diff(t, []string{}, visible(owner.ID))
	owned := &core.Project{Name: "olga's", OwnerID: owner.ID}
	ok(t, s.CreateProject(ctx, owned))
	mk("olga-1", owned.ID, core.StateActive)
	diff(t, []string{"olga-1"}, visible(owner.ID))

	// The oldest free machine of a project in a state, locked.
	free := func(project string, st core.InstanceState) string {
		t.Helper()
		var name string
		ok(t, core.InTx(ctx, s, func(q handout.Queries) error {
			m, err := q.LockFreeMachine(ctx, project, st)
			if core.ErrorKind(err) == core.KindNotFound {
				return nil
			}
			if m != nil {
				name = m.Name
			}
			return err
		}))
		return name
	}
	diff(t, "lab-1", free("p2", core.StateActive))
	diff(t, "", free("p1", core.StateActive)) // trs-01 is nina's
	diff(t, "trs-02", free("p1", core.StateBuilding))
	diff(t, "", free("p1", core.StateDeleted)) // never a deleted one
	diff(t, "", free("nope", core.StateActive))
}

// machineRows shows machines as "name:[users]:[groups]".
func machineRows(ms []*machine.Machine) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s:%v:%v", m.Name, m.Users, m.Groups))
	}
	return out
}
