package core_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/fleet"
	"hostdeck/core/hosting"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

const ubuntu2204 = "f8f2573f-56c4-44c5-8469-84eee4aa64e7"

// activeClient creates a client on a fresh sim server and waits until its
// instance is active.
func activeClient(t *testing.T, e *testenv.Env, name string) (*core.Server, *core.Instance) {
	t.Helper()
	srv := e.Server(t, "s-"+strings.ToLower(name), 10)
	c, tk := createClient(t, e, name)
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("create: %s %s", done.Status, done.Error)
	}
	in, err := e.Store.GetInstance(context.Background(), c.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != core.StateActive {
		t.Fatalf("instance state = %s", in.State)
	}
	return srv, in
}

func rescueMember(t *testing.T, e *testenv.Env, name string) (*core.User, context.Context) {
	t.Helper()
	pw := "member-password-1"
	u, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	return u, core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: "test"})
}

func wantTask(t *testing.T, e *testenv.Env, do func() (*core.Task, error)) *core.Task {
	t.Helper()
	tk, err := do()
	if err != nil {
		t.Fatal(err)
	}
	done := e.WaitTask(t, tk.ID)
	if done.Status != core.TaskSuccess {
		t.Fatalf("%s: %s %s", done.Kind, done.Status, done.Error)
	}
	return done
}

func instanceState(t *testing.T, e *testenv.Env, id string) core.InstanceState {
	t.Helper()
	in, err := e.Store.GetInstance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in.State
}

func TestSeedRescueImages(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	n, err := e.Hosting.SeedRescueImages(ctx)
	if err != nil || n != len(hosting.RescueImages) {
		t.Fatalf("seeded %d, %v", n, err)
	}
	if n, err := e.Hosting.SeedRescueImages(ctx); err != nil || n != 0 {
		t.Fatalf("second seed added %d, %v", n, err)
	}
	im, err := e.Catalogue.GetImage(ctx, ubuntu2204)
	if err != nil || im.Name != "Ubuntu 22.04" || im.Zone != core.ZonePub {
		t.Fatalf("image = %+v, %v", im, err)
	}
	// In the document's order, after whatever the catalogue held.
	ims, _, err := e.Catalogue.ListImages(ctx, core.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range ims {
		if im.Ref == "" {
			names = append(names, im.Name)
		}
	}
	if len(names) != 14 || names[0] != "Ubuntu 22.04" || names[13] != "Windows Server 2022" {
		t.Fatalf("seeded names = %v", names)
	}
}

// TestRescueStateMachine walks an instance through rescue and back on the
// simulator, with every wrong-state call refused with the state named.
func TestRescueStateMachine(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	if _, err := e.Hosting.SeedRescueImages(ctx); err != nil {
		t.Fatal(err)
	}
	srv, in := activeClient(t, e, "Rescued")

	_, err := e.Hosting.Unrescue(ctx, in.ID)
	wantKind(t, err, core.KindConflict)
	if !strings.Contains(err.Error(), "is active") || !strings.Contains(err.Error(), "needs rescue") {
		t.Fatalf("unrescue error = %v", err)
	}

	rescue := wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "MyPassword1") })
	if st := instanceState(t, e, in.ID); st != core.StateRescue {
		t.Fatalf("state after rescue = %s", st)
	}
	if img := e.Sim.RescueImage(srv.ID, in.RuntimeRef); img != "hostdeck/sample-client:latest" {
		t.Fatalf("sim rescue image = %q (the configured rescue image)", img)
	}
	// The password never sits in the task in the clear, nor in the audit log.
	if strings.Contains(string(rescue.Payload), "MyPassword1") {
		t.Fatalf("task payload holds the password: %s", rescue.Payload)
	}
	action := "instance.rescue"
	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: &action})
	if err != nil || len(evs) != 1 || evs[0].TargetID != in.ID || strings.Contains(string(evs[0].Detail), "MyPassword1") {
		t.Fatalf("audit = %+v, %v", evs, err)
	}
	if !strings.Contains(string(evs[0].Detail), `"password_set":true`) {
		t.Fatalf("audit detail = %s", evs[0].Detail)
	}

	_, err = e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "")
	wantKind(t, err, core.KindConflict)
	if !strings.Contains(err.Error(), "is rescue") {
		t.Fatalf("second rescue error = %v", err)
	}
	// Reboot, start and stop are refused in rescue as well.
	_, err = e.Hosting.RebootInstance(ctx, in.ID)
	wantKind(t, err, core.KindConflict)
	_, err = e.Hosting.StopInstance(ctx, in.ID)
	wantKind(t, err, core.KindConflict)
	// Reconciliation leaves an instance in rescue alone (its runtime shows no
	// running instance system).
	runPeriodic(t, e, fleet.KindReconcile)
	if st := instanceState(t, e, in.ID); st != core.StateRescue {
		t.Fatalf("state after reconcile = %s", st)
	}

	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Unrescue(ctx, in.ID) })
	if st := instanceState(t, e, in.ID); st != core.StateActive {
		t.Fatalf("state after unrescue = %s", st)
	}
	if img := e.Sim.RescueImage(srv.ID, in.RuntimeRef); img != "" {
		t.Fatalf("sim still in rescue from %q", img)
	}
	_, err = e.Hosting.Unrescue(ctx, in.ID)
	wantKind(t, err, core.KindConflict)

	// Bad input.
	_, err = e.Hosting.Rescue(ctx, in.ID, "not-a-uuid", "")
	wantField(t, err, core.KindNotFound, "image_id")
	_, err = e.Hosting.Rescue(ctx, in.ID, "0190b6c4-6d5a-7000-8000-0000000000ff", "")
	wantField(t, err, core.KindNotFound, "image_id")
	_, err = e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "bad\npassword")
	wantField(t, err, core.KindInvalid, "password")
	_, err = e.Hosting.Rescue(ctx, "nope", ubuntu2204, "")
	wantKind(t, err, core.KindNotFound)
}

// TestRescueFromStoppedInstance: rescue needs an active instance.
func TestRescueFromStoppedInstance(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	e.Hosting.SeedRescueImages(ctx)
	_, in := activeClient(t, e, "Stopper")
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.StopInstance(ctx, in.ID) })
	if st := instanceState(t, e, in.ID); st != core.StateStopped {
		t.Fatalf("state after stop = %s", st)
	}
	_, err := e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "")
	wantKind(t, err, core.KindConflict)
	if !strings.Contains(err.Error(), "is stopped") {
		t.Fatalf("error = %v", err)
	}
	_, err = e.Hosting.StopInstance(ctx, in.ID)
	wantKind(t, err, core.KindConflict)
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.StartInstance(ctx, in.ID) })
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.RebootInstance(ctx, in.ID) })
	if st := instanceState(t, e, in.ID); st != core.StateActive {
		t.Fatalf("state after start and reboot = %s", st)
	}
	action := "instance.stop"
	if evs, n, _ := e.Svc.ListAudit(ctx, core.AuditFilter{Action: &action}); n != 1 || evs[0].TargetID != in.ID {
		t.Fatalf("stop audit = %d", n)
	}
}

// TestInstanceVisibility: a member sees the instances of projects they own and
// of those they hold a role on, uses pub images and their own, and nothing else.
func TestInstanceVisibility(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	e.Hosting.SeedRescueImages(ctx)
	_, clientInst := activeClient(t, e, "AdminOnly")
	alice, actx := rescueMember(t, e, "alice")
	bob, _ := rescueMember(t, e, "bob")

	proj := &core.Project{ID: "0190b6c4-6d5a-7000-8000-00000000a11c", Name: "alice-proj", OwnerID: alice.ID}
	if err := e.Store.CreateProject(context.Background(), proj); err != nil {
		t.Fatal(err)
	}
	mine := &core.Instance{Name: "alice-vm", ServerID: clientInst.ServerID, ProjectID: proj.ID, State: core.StateActive}
	if err := e.Store.CreateInstance(context.Background(), mine); err != nil {
		t.Fatal(err)
	}

	// visible is the first page of what the actor of ctx sees; the total counts
	// those only.
	visible := func(ctx context.Context) []*core.NumberedInstance {
		t.Helper()
		list, err := e.Hosting.ListVisibleInstances(ctx, core.Page{Limit: 100})
		if err != nil || list.Total != len(list.Items) {
			t.Fatalf("list = %d of %d, %v", len(list.Items), list.Total, err)
		}
		return list.Items
	}
	list := visible(actx)
	if len(list) != 1 || list[0].ID != mine.ID || list[0].Number <= 0 {
		t.Fatalf("alice sees %+v", list)
	}
	all := visible(ctx)
	if len(all) != 2 {
		t.Fatalf("admin sees %d", len(all))
	}
	// A page is bounded: an unbounded list is refused.
	_, err := e.Hosting.ListVisibleInstances(ctx, core.Page{})
	wantKind(t, err, core.KindInvalid)
	// Numbers are stable and resolve back, for those who see the instance only.
	var clientNumber int64
	for _, bi := range all {
		if bi.ID == clientInst.ID {
			clientNumber = bi.Number
		}
	}
	if got, err := e.Hosting.InstanceByNumber(actx, list[0].Number); err != nil || got.ID != mine.ID {
		t.Fatalf("alice by number = %+v, %v", got, err)
	}
	_, err = e.Hosting.InstanceByNumber(actx, clientNumber)
	wantKind(t, err, core.KindNotFound)
	_, err = e.Hosting.Rescue(actx, clientInst.ID, ubuntu2204, "")
	wantKind(t, err, core.KindNotFound)

	// Bob sees nothing until he gets a role on the project.
	bctx := core.WithActor(context.Background(), core.Actor{UserID: bob.ID, Name: bob.Name, Role: bob.Role})
	if l := visible(bctx); len(l) != 0 {
		t.Fatalf("bob sees %d", len(l))
	}
	if err := e.Identity.GrantProjectRole(ctx, proj.ID, bob.ID, core.RoleMember); err != nil {
		t.Fatal(err)
	}
	if l := visible(bctx); len(l) != 1 {
		t.Fatalf("bob with a role sees %d", len(l))
	}
	// A machine assigned to bob directly is his to see and act on.
	if err := e.Store.AddMachineAssignment(context.Background(), &machine.MachineAssignment{
		MachineID: clientInst.ID, SubjectType: machine.SubjectUser, SubjectID: bob.ID, AssignedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if l := visible(bctx); len(l) != 2 {
		t.Fatalf("bob with an assigned machine sees %d", len(l))
	}
	if got, err := e.Hosting.InstanceByNumber(bctx, clientNumber); err != nil || got.ID != clientInst.ID {
		t.Fatalf("bob by number = %+v, %v", got, err)
	}

	// Own images: seen and usable by their owner only.
	own, err := e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "Centos 9 x64", Ref: "centos:9", Zone: core.ZoneOwn, Owner: alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	has := func(ctx context.Context) bool {
		ims, _, err := e.Catalogue.ListImages(ctx, core.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ims {
			if im.ID == own.ID {
				return true
			}
		}
		return false
	}
	if !has(actx) || has(bctx) {
		t.Fatal("own image visibility wrong")
	}
	_, err = e.Hosting.Rescue(bctx, mine.ID, own.ID, "")
	wantKind(t, err, core.KindNotFound)
	// Alice's instance has no runtime instance: the check passes the image and
	// stops at the instance, which has not been created on its server.
	_, err = e.Hosting.Rescue(actx, mine.ID, own.ID, "")
	wantKind(t, err, core.KindConflict)
}
